// The Kubernetes protobuf wire format: the 4 bytes "k8s\0", then a runtime.Unknown message whose
// typeMeta names the object (apiVersion, kind) and whose raw holds the object's own protobuf
// encoding (Content-Type: application/vnd.kubernetes.protobuf). kubectl 1.32 sends these bodies
// for SelfSubjectAccessReview and for `kubectl create namespace|configmap|deployment|secret`.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <google/protobuf/message.h>

#include "common/api/codec.h"
#include "common/base/status.h"

namespace ck::api {

inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};
inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";

struct ProtobufEnvelope {
  std::string api_version;
  std::string kind;
  std::string raw;               // the object message
  std::string content_encoding;  // empty: raw is not compressed
  std::string content_type;      // empty: raw is protobuf
};

// Splits a body into its envelope. BadRequest without the magic prefix or when the Unknown
// message does not parse.
Result<ProtobufEnvelope> DecodeProtobufEnvelope(std::string_view body);

// Decodes the envelope and then its object into *out (cleared first), and reports the object's
// apiVersion and kind through *type_meta when not null. BadRequest when the object does not parse
// or the envelope carries an encoding this codec cannot read (compressed or non-protobuf raw).
Status DecodeProtobufObject(std::string_view body, google::protobuf::Message* out, TypeMeta* type_meta = nullptr);

// The body for `m`: magic + Unknown{typeMeta{api_version, kind}, raw = m serialized}. Map entries
// are written in key order, as Go does, so the bytes are deterministic.
std::string EncodeProtobufEnvelope(const google::protobuf::Message& m, std::string_view api_version,
                                   std::string_view kind);

}  // namespace ck::api
