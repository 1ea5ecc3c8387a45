// The Kubernetes JSON codec: protobuf API objects <-> the JSON that kubectl and the upstream
// apiserver speak, driven by the message descriptors (no per-type code).
//
// JSON rules (Go's encoding/json as Kubernetes uses it; see common/api/README.md):
//  - member names are the proto field names (or json_name); fields are written in field-number
//    order, except that kind and apiVersion (EncodeOptions) come first;
//  - empty fields are left out exactly where Go leaves them out, from the (ck.api.go) field option:
//    OMITEMPTY, POINTER, ALWAYS, INLINE, NULLABLE (common/api/proto/options.proto);
//  - int64 is a JSON number; bytes are base64; map keys are written sorted;
//  - metav1.Time / MicroTime are RFC 3339 (null when zero), Duration is Go's duration string,
//    resource.Quantity its canonical string, IntOrString a number or a string, RawExtension and
//    FieldsV1 embedded JSON;
//  - reading is case-sensitive; unknown and duplicate members are reported as upstream does.
// Threading: all functions are safe to call concurrently (each thread reuses its own parser).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "common/base/status.h"

namespace ck::api {

struct EncodeOptions {
  // Written first when not empty: {"kind":...,"apiVersion":...,"metadata":...}. The upstream
  // proto messages have no TypeMeta fields, so the caller supplies them.
  std::string_view kind;
  std::string_view api_version;
};

// Appends `m` as compact JSON to *out. Fails (Internal) only for a RawExtension whose bytes are
// not JSON.
Status AppendJson(const google::protobuf::Message& m, std::string* out, const EncodeOptions& options = {});
Result<std::string> ToJson(const google::protobuf::Message& m, const EncodeOptions& options = {});

// What to do with members the type does not have, and with members given twice (the apiserver's
// ?fieldValidation=).
enum class FieldValidation { kIgnore, kWarn, kStrict };

struct TypeMeta {
  std::string kind;
  std::string api_version;
};

struct DecodeOptions {
  FieldValidation field_validation = FieldValidation::kWarn;
  // Receives the top-level "kind" and "apiVersion" when not null.
  TypeMeta* type_meta = nullptr;
};

// Clears *out and fills it from `json`. Top-level "kind"/"apiVersion" are accepted (and returned
// through options.type_meta). Errors are BadRequest:
//   - malformed JSON: `json: <what> (at offset N)`;
//   - a wrong type: `json: cannot unmarshal string into Go struct field Pod.spec.replicas of type int32`;
//   - a bad value: `spec.containers[0].resources.limits.cpu: quantity "x": ...`;
//   - kStrict with unknown or duplicate members: `strict decoding error: unknown field "spec.foo",
//     duplicate field "metadata.name"`.
// With kWarn, each unknown or duplicate member adds `unknown field "spec.foo"` to *warnings (when
// not null) and decoding succeeds.
Status FromJson(std::string_view json, google::protobuf::Message* out, const DecodeOptions& options = {},
                std::vector<std::string>* warnings = nullptr);

// The top-level kind and apiVersion of a JSON object, without decoding the rest into a type.
Result<TypeMeta> PeekTypeMeta(std::string_view json);

}  // namespace ck::api
