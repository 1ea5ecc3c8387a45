#include "common/api/codec.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include <simdjson.h>

#include "common/api/internal/decode.h"
#include "common/api/internal/dom_simdjson.h"
#include "common/api/internal/encode.h"
#include "common/api/internal/generated_codecs.h"
#include "common/api/internal/json_runtime.h"
#include "common/api/internal/json_syntax.h"
#include "common/api/internal/json_writer.h"
#include "common/api/internal/message_plan.h"

namespace ck::api {
namespace {

using internal::JsonValue;

// Each thread keeps one simdjson parser and one padded input buffer, so that decoding a typical
// object allocates nothing for parsing. After a very large document both are released again.
class ThreadParser {
 public:
  static ThreadParser& Get() {
    thread_local ThreadParser p;
    return p;
  }

  Status Parse(std::string_view json, JsonValue* root) {
    size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    if (capacity_ < need) {
      capacity_ = std::max<size_t>(need, 16 * 1024);
      buffer_.reset(new char[capacity_]);
    }
    std::memcpy(buffer_.get(), json.data(), json.size());
    std::memset(buffer_.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
    auto r = parser_.parse(buffer_.get(), json.size(), /*realloc_if_needed=*/false);
    if (r.error() != simdjson::SUCCESS) {
      return BadRequest("json: " + internal::DescribeJsonSyntaxError(json, simdjson::error_message(r.error())));
    }
    *root = r.value_unsafe();
    return Status::Ok();
  }

  // Gives back the memory of an unusually large document.
  void Trim() {
    if (capacity_ > kKeepBytes) {
      buffer_.reset();
      capacity_ = 0;
      parser_ = simdjson::dom::parser();
    }
  }

 private:
  // A list page of 500 pods (~1.5 MB) is released after decoding: every informer's reflector
  // thread would otherwise keep ~10 MB of parser tape for the rest of its life.
  static constexpr size_t kKeepBytes = 512 * 1024;
  simdjson::dom::parser parser_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
};

class TrimOnExit {
 public:
  ~TrimOnExit() { ThreadParser::Get().Trim(); }
};

}  // namespace

Status AppendJson(const google::protobuf::Message& m, std::string* out, const EncodeOptions& options) {
  const internal::GeneratedCodec* g = internal::FindGeneratedCodec(m.GetDescriptor());
  internal::JsonWriter w(out);
  if (g != nullptr && m.GetReflection() == g->reflection) {
    w.StartObject();
    if (!options.kind.empty()) {
      w.Key("kind");
      w.String(options.kind);
    }
    if (!options.api_version.empty()) {
      w.Key("apiVersion");
      w.String(options.api_version);
    }
    g->encode_fields(m, w);
    w.EndObject();
    if (!w.error().empty()) return Internal(w.error());
    return Status::Ok();
  }
  internal::Encoder<internal::JsonWriter> encoder(w);
  return encoder.Top(m, internal::PlanFor(m.GetDescriptor()), options.kind, options.api_version);
}

Result<std::string> ToJson(const google::protobuf::Message& m, const EncodeOptions& options) {
  std::string out;
  out.reserve(1024);
  CK_RETURN_IF_ERROR(AppendJson(m, &out, options));
  return out;
}

Status FromJson(std::string_view json, google::protobuf::Message* out, const DecodeOptions& options,
                std::vector<std::string>* warnings) {
  out->Clear();
  if (options.type_meta != nullptr) {
    options.type_meta->kind.clear();
    options.type_meta->api_version.clear();
  }
  TrimOnExit trim;
  JsonValue root;
  CK_RETURN_IF_ERROR(ThreadParser::Get().Parse(json, &root));
  const bool track = options.field_validation == FieldValidation::kStrict ||
                     (options.field_validation == FieldValidation::kWarn && warnings != nullptr);
  const google::protobuf::Descriptor* d = out->GetDescriptor();
  std::vector<std::string> problems;
  const internal::GeneratedCodec* g = internal::FindGeneratedCodec(d);
  if (g != nullptr && out->GetReflection() == g->reflection) {
    if (root.type() != simdjson::dom::element_type::OBJECT) {
      return BadRequest("json: cannot unmarshal " + std::string(internal::JsonTypeName(root)) +
                        " into Go value of type " + d->name());
    }
    internal::DecodeContext c;
    c.track = track;
    c.root_name = d->name();
    if (options.type_meta != nullptr) {
      c.kind = &options.type_meta->kind;
      c.api_version = &options.type_meta->api_version;
    }
    CK_RETURN_IF_ERROR(g->decode(root, out, c));
    problems = std::move(c.problems);
  } else {
    internal::DecodeSettings settings;
    settings.collect_unknown = track;
    if (options.type_meta != nullptr) {
      settings.kind = &options.type_meta->kind;
      settings.api_version = &options.type_meta->api_version;
    }
    internal::Decoder<internal::SimdJsonDom> decoder(settings);
    CK_RETURN_IF_ERROR(decoder.Root(root, out, internal::PlanFor(d)));
    problems = decoder.problems();
  }
  if (problems.empty()) return Status::Ok();
  if (options.field_validation == FieldValidation::kStrict) {
    std::string m = "strict decoding error: ";
    for (size_t i = 0; i < problems.size(); ++i) {
      if (i > 0) m += ", ";
      m += problems[i];
    }
    return BadRequest(std::move(m));
  }
  if (warnings != nullptr) warnings->insert(warnings->end(), problems.begin(), problems.end());
  return Status::Ok();
}

Result<TypeMeta> PeekTypeMeta(std::string_view json) {
  TrimOnExit trim;
  JsonValue root;
  CK_RETURN_IF_ERROR(ThreadParser::Get().Parse(json, &root));
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) return BadRequest("json: the top-level value is not an object");
  TypeMeta tm;
  for (simdjson::dom::key_value_pair kv : obj) {
    std::string_view s;
    if (kv.value.get_string().get(s) != simdjson::SUCCESS) continue;
    if (kv.key == "kind") tm.kind.assign(s);
    if (kv.key == "apiVersion") tm.api_version.assign(s);
  }
  return tm;
}

}  // namespace ck::api
