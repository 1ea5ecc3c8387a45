#include "common/api/envelope.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "common/api/proto/runtime.pb.h"

namespace ck::api {
namespace {

namespace runtime = ::k8s::io::apimachinery::pkg::runtime;

std::string SerializeDeterministic(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializeWithCachedSizes(&coded);
  }
  return out;
}

}  // namespace

Result<ProtobufEnvelope> DecodeProtobufEnvelope(std::string_view body) {
  if (body.size() < kProtobufMagic.size() || body.substr(0, kProtobufMagic.size()) != kProtobufMagic) {
    return BadRequest("the body is not a Kubernetes protobuf message (it does not start with \"k8s\\x00\")");
  }
  std::string_view rest = body.substr(kProtobufMagic.size());
  runtime::Unknown unknown;
  if (!unknown.ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
    return BadRequest("the protobuf envelope (runtime.Unknown) does not parse");
  }
  ProtobufEnvelope e;
  e.api_version = unknown.typemeta().apiversion();
  e.kind = unknown.typemeta().kind();
  e.raw = std::move(*unknown.mutable_raw());
  e.content_encoding = unknown.contentencoding();
  e.content_type = unknown.contenttype();
  return e;
}

Status DecodeProtobufObject(std::string_view body, google::protobuf::Message* out, TypeMeta* type_meta) {
  CK_ASSIGN_OR_RETURN(ProtobufEnvelope e, DecodeProtobufEnvelope(body));
  if (!e.content_encoding.empty()) {
    return BadRequest("unsupported protobuf content encoding \"" + e.content_encoding + "\"");
  }
  if (!e.content_type.empty() && e.content_type != kProtobufContentType) {
    return BadRequest("unsupported embedded content type \"" + e.content_type + "\"");
  }
  out->Clear();
  if (!out->ParseFromString(e.raw)) {
    return BadRequest("the " + (e.kind.empty() ? out->GetDescriptor()->name() : e.kind) +
                      " in the protobuf body does not parse as " + out->GetDescriptor()->full_name());
  }
  if (type_meta != nullptr) {
    type_meta->api_version = std::move(e.api_version);
    type_meta->kind = std::move(e.kind);
  }
  return Status::Ok();
}

std::string EncodeProtobufEnvelope(const google::protobuf::Message& m, std::string_view api_version,
                                   std::string_view kind) {
  runtime::Unknown unknown;
  unknown.mutable_typemeta()->set_apiversion(std::string(api_version));
  unknown.mutable_typemeta()->set_kind(std::string(kind));
  m.ByteSizeLong();  // SerializeWithCachedSizes needs the cached sizes
  *unknown.mutable_raw() = SerializeDeterministic(m);
  unknown.set_contentencoding("");
  unknown.set_contenttype("");
  unknown.ByteSizeLong();
  std::string out(kProtobufMagic);
  out += SerializeDeterministic(unknown);
  return out;
}

}  // namespace ck::api
