// Building blocks of the validators: field paths spelled as upstream's field.Path, error
// constructors mirroring field.Required/Invalid/..., and renderers that print bad values the way
// Go's fmt prints them in upstream messages (%q for strings, %#v for maps, slices and structs).
// Internal to apiserver/validation; pure functions and plain values.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/map.h>
#include <google/protobuf/message.h>
#include <google/protobuf/repeated_ptr_field.h>

#include "apiserver/validation/validation.h"
#include "common/api/proto/intstr.pb.h"
#include "common/api/proto/meta_v1.pb.h"

namespace ck::apiserver::validation {

using k8s::io::apimachinery::pkg::apis::meta::v1::LabelSelector;
using k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta;
using k8s::io::apimachinery::pkg::util::intstr::IntOrString;

// A field path: Path("spec").Child("containers").Index(0).Child("image") is
// "spec.containers[0].image"; Key("cpu") appends "[cpu]". Path("") is upstream's empty root "[]".
class Path {
 public:
  explicit Path(std::string_view root) : s_(root.empty() ? "[]" : std::string(root)) {}
  Path Child(std::string_view name) const { return Path(s_ + "." + std::string(name), 0); }
  Path Child(std::string_view a, std::string_view b) const { return Child(a).Child(b); }
  Path Index(int64_t i) const { return Path(s_ + "[" + std::to_string(i) + "]", 0); }
  Path Key(std::string_view k) const { return Path(s_ + "[" + std::string(k) + "]", 0); }
  const std::string& str() const { return s_; }

 private:
  Path(std::string s, int) : s_(std::move(s)) {}
  std::string s_;
};

// Error constructors, upstream's field.* functions. `value` is an already rendered value (see the
// renderers below); Required/Forbidden/TooLong never print one.
FieldError Required(const Path& p, std::string detail = "");
FieldError Invalid(const Path& p, std::string value, std::string detail);
FieldError Duplicate(const Path& p, std::string value);
FieldError NotSupported(const Path& p, std::string value, const std::vector<std::string>& supported);
FieldError Forbidden(const Path& p, std::string detail);
FieldError TooLong(const Path& p, int64_t max_bytes);        // "must have at most N bytes"
FieldError TooMany(const Path& p, int64_t actual, int64_t max);  // "N: must have at most M items"
FieldError NotFound(const Path& p, std::string value);

// Appends `more` to `errs`.
inline void Append(FieldErrors& errs, FieldErrors more) {
  for (auto& e : more) errs.push_back(std::move(e));
}

// --- Go-style renderings of values --------------------------------------------------------------

// %q of a string: "\"web\"".
std::string Q(std::string_view s);
// %v of an integer.
std::string Num(int64_t v);
// %v of a bool.
inline std::string Bool(bool b) { return b ? "true" : "false"; }
// %#v of map[string]string: map[string]string{"a":"b", "c":"d"} (keys sorted), or
// map[string]string(nil) when empty (a decoded absent map is nil upstream).
std::string GoMap(const google::protobuf::Map<std::string, std::string>& m);
// %#v of []string: []string{"a", "b"}, or []string(nil) when empty.
std::string GoStrings(const google::protobuf::RepeatedPtrField<std::string>& v);
std::string GoStrings(const std::vector<std::string>& v);
// %#v of a metav1.LabelSelector value:
// v1.LabelSelector{MatchLabels:map[string]string{"app":"x"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}.
std::string GoLabelSelector(const LabelSelector& s);
// %#v of an intstr.IntOrString: intstr.IntOrString{Type:1, IntVal:0, StrVal:"25%"}.
std::string GoIntOrString(const IntOrString& v);

// --- shared utilities --------------------------------------------------------------------------------

// True if `v` is a string IntOrString (type 1).
inline bool IsStr(const IntOrString& v) { return v.type() == 1; }
// The integer value of an IntOrString (a string holding digits parses; anything else is 0), as
// Go's IntOrString.IntValue().
int64_t IntValue(const IntOrString& v);

// Deep equality of two messages of one type: field presence counts, maps compare as maps. Plain
// SerializeAsString() must not be compared: map entries have no fixed order on the wire, so this
// compares deterministic (key-sorted) encodings.
bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b);

// Sorted copy of a proto map's keys (upstream iterates maps in random order; sorting makes our
// error lists deterministic).
template <typename V>
std::vector<std::string> SortedKeys(const google::protobuf::Map<std::string, V>& m) {
  std::vector<std::string> keys;
  keys.reserve(m.size());
  for (const auto& [k, v] : m) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace ck::apiserver::validation
