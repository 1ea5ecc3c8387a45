// The support library of the generated JSON code (jsongen): reading simdjson values into
// protobuf fields with Go's type rules and error texts, the special Kubernetes types (templates
// over their generated classes), sorted map writing, and the decode context that collects
// unknown and duplicate members. Everything here mirrors the reflection codec (encode.h,
// decode.h) exactly; the differential tests hold the two to the same output.
// Internal to common/api. Not thread-safe per DecodeContext.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/map.h>
#include <google/protobuf/message.h>
#include <simdjson.h>

#include "common/api/internal/json_path.h"
#include "common/api/internal/json_writer.h"
#include "common/api/quantity.h"
#include "common/api/time_format.h"
#include "common/base/status.h"

namespace ck::api::internal {

using JsonValue = simdjson::dom::element;

// What decoding a document needs besides the message: settings and collected problems.
struct DecodeContext {
  bool track = false;                  // look for unknown and duplicate members
  std::string_view root_name;          // Go type name for error texts ("Pod")
  std::string* kind = nullptr;         // receives the top-level "kind"
  std::string* api_version = nullptr;  // receives the top-level "apiVersion"
  std::vector<std::string> problems;   // `unknown field "spec.x"`, `duplicate field "a"`

  void Problem(std::string_view what, std::string_view key, const PathNode* at);
  void TypeMeta(std::string_view key, JsonValue v);
  // `json: cannot unmarshal string into Go struct field Pod.spec.replicas of type int32`
  Status TypeError(JsonValue v, std::string_view go_type, const PathNode* at) const;
  Status NumberError(JsonValue v, std::string_view go_type, const PathNode* at) const;
  static Status ValueError(std::string_view what, const PathNode* at);
  static Status DepthError(const PathNode* at) { return ValueError("exceeded max depth", at); }
};

std::string_view JsonTypeName(JsonValue v);
// The text of a JSON number as the codec writes it (integers exactly, floats in Go's form).
std::string NumberText(JsonValue v);
// Compact JSON of any value (for RawExtension); fails beyond kMaxJsonDepth.
Status WriteRawJson(JsonValue v, JsonWriter& w, int depth, const PathNode* at);

inline bool IsNull(JsonValue v) { return v.type() == simdjson::dom::element_type::NULL_VALUE; }

// ---- Scalars -----------------------------------------------------------------------------

inline Status ReadString(JsonValue v, std::string_view* out, DecodeContext& c, const PathNode* at) {
  if (v.get_string().get(*out) != simdjson::SUCCESS) [[unlikely]] return c.TypeError(v, "string", at);
  return Status::Ok();
}

inline Status ReadBool(JsonValue v, bool* out, DecodeContext& c, const PathNode* at) {
  if (v.get_bool().get(*out) != simdjson::SUCCESS) [[unlikely]] return c.TypeError(v, "bool", at);
  return Status::Ok();
}

inline Status ReadInt64(JsonValue v, int64_t* out, DecodeContext& c, const PathNode* at) {
  if (v.type() != simdjson::dom::element_type::INT64) [[unlikely]] return c.NumberError(v, "int64", at);
  *out = v.get_int64().value_unsafe();
  return Status::Ok();
}

inline Status ReadInt32(JsonValue v, int32_t* out, DecodeContext& c, const PathNode* at) {
  int64_t i;
  if (v.type() != simdjson::dom::element_type::INT64 || (i = v.get_int64().value_unsafe()) < INT32_MIN ||
      i > INT32_MAX) [[unlikely]] {
    return c.NumberError(v, "int32", at);
  }
  *out = static_cast<int32_t>(i);
  return Status::Ok();
}

inline Status ReadUint64(JsonValue v, uint64_t* out, DecodeContext& c, const PathNode* at) {
  if (v.type() == simdjson::dom::element_type::UINT64) {
    *out = v.get_uint64().value_unsafe();
    return Status::Ok();
  }
  if (v.type() == simdjson::dom::element_type::INT64 && v.get_int64().value_unsafe() >= 0) {
    *out = static_cast<uint64_t>(v.get_int64().value_unsafe());
    return Status::Ok();
  }
  return c.NumberError(v, "uint64", at);
}

inline Status ReadUint32(JsonValue v, uint32_t* out, DecodeContext& c, const PathNode* at) {
  uint64_t u = 0;
  if (!ReadUint64(v, &u, c, at).ok() || u > UINT32_MAX) return c.NumberError(v, "uint32", at);
  *out = static_cast<uint32_t>(u);
  return Status::Ok();
}

inline Status ReadDouble(JsonValue v, double* out, DecodeContext& c, const PathNode* at) {
  if (v.get_double().get(*out) != simdjson::SUCCESS) [[unlikely]] return c.TypeError(v, "float64", at);
  return Status::Ok();
}

inline Status ReadFloat(JsonValue v, float* out, DecodeContext& c, const PathNode* at) {
  double d;
  if (v.get_double().get(d) != simdjson::SUCCESS) [[unlikely]] return c.TypeError(v, "float32", at);
  *out = static_cast<float>(d);
  return Status::Ok();
}

Status ReadBytes(JsonValue v, std::string* out, DecodeContext& c, const PathNode* at);

inline Status ReadArray(JsonValue v, simdjson::dom::array* out, DecodeContext& c, const PathNode* at) {
  if (v.get_array().get(*out) != simdjson::SUCCESS) [[unlikely]] return c.TypeError(v, "slice", at);
  return Status::Ok();
}

inline Status ReadMap(JsonValue v, simdjson::dom::object* out, DecodeContext& c, const PathNode* at) {
  if (v.get_object().get(*out) != simdjson::SUCCESS) [[unlikely]] return c.TypeError(v, "map", at);
  return Status::Ok();
}

// ---- Special types (templates over their generated classes) ---------------------------------

// metav1.Time / MicroTime: {seconds, nanos}. Go's zero time is written as null; in protobuf it
// arrives as an empty message (metav1.Time marshals the zero time to no bytes).
template <class T>
void WriteTime(const T& t, JsonWriter& w, bool micro) {
  if ((!t.has_seconds() && !t.has_nanos()) || (t.seconds() == kGoZeroTimeSeconds && t.nanos() == 0)) {
    w.Null();
    return;
  }
  char buf[kRfc3339MaxLen];
  w.String(std::string_view(buf, FormatRfc3339To(buf, Timestamp{t.seconds(), t.nanos()}, micro)));
}

template <class T>
Status ReadTime(JsonValue v, T* t, DecodeContext& c, const PathNode* at) {
  if (IsNull(v)) {
    t->Clear();
    return Status::Ok();
  }
  std::string_view s;
  CK_RETURN_IF_ERROR(ReadString(v, &s, c, at));
  Result<Timestamp> ts = ParseRfc3339(s);
  if (!ts.ok()) return DecodeContext::ValueError(ts.status().message(), at);
  t->set_seconds(ts->seconds);
  t->set_nanos(ts->nanos);
  return Status::Ok();
}

// metav1.Duration: Go's duration string.
template <class T>
void WriteDuration(const T& d, JsonWriter& w) {
  w.String(FormatGoDuration(d.duration()));
}

template <class T>
Status ReadDuration(JsonValue v, T* d, DecodeContext& c, const PathNode* at) {
  if (IsNull(v)) {
    d->Clear();
    return Status::Ok();
  }
  std::string_view s;
  CK_RETURN_IF_ERROR(ReadString(v, &s, c, at));
  Result<int64_t> n = ParseGoDuration(s);
  if (!n.ok()) return DecodeContext::ValueError(n.status().message(), at);
  d->set_duration(*n);
  return Status::Ok();
}

// resource.Quantity: written in upstream's output form; an empty string is zero.
void WriteQuantityString(const std::string& s, JsonWriter& w);
// A string (trimmed, as Quantity.UnmarshalJSON does) or a bare number -> the output form.
Status ReadQuantityString(JsonValue v, std::string* out, DecodeContext& c, const PathNode* at);

template <class T>
void WriteQuantity(const T& q, JsonWriter& w) {
  WriteQuantityString(q.string(), w);
}

template <class T>
Status ReadQuantity(JsonValue v, T* q, DecodeContext& c, const PathNode* at) {
  if (IsNull(v)) {
    q->Clear();
    return Status::Ok();
  }
  return ReadQuantityString(v, q->mutable_string(), c, at);
}

// intstr.IntOrString: type 1 is a string, anything else an int32.
template <class T>
void WriteIntOrString(const T& x, JsonWriter& w) {
  if (x.type() == 1) {
    w.String(x.strval());
  } else {
    w.Int(x.intval());
  }
}

template <class T>
Status ReadIntOrString(JsonValue v, T* x, DecodeContext& c, const PathNode* at) {
  if (IsNull(v)) {
    x->Clear();
    return Status::Ok();
  }
  std::string_view s;
  if (v.get_string().get(s) == simdjson::SUCCESS) {
    x->set_type(1);
    x->set_strval(s.data(), s.size());
    return Status::Ok();
  }
  if (v.type() == simdjson::dom::element_type::STRING || v.type() == simdjson::dom::element_type::BOOL ||
      v.type() == simdjson::dom::element_type::ARRAY || v.type() == simdjson::dom::element_type::OBJECT) {
    return c.TypeError(v, "intstr.IntOrString", at);
  }
  int32_t i = 0;
  CK_RETURN_IF_ERROR(ReadInt32(v, &i, c, at));
  x->set_type(0);
  x->set_intval(i);
  return Status::Ok();
}

// runtime.RawExtension, metav1.FieldsV1: embedded JSON kept as text; empty is null.
void WriteRawJsonText(const std::string& raw, std::string_view type_name, JsonWriter& w);

template <class T>
void WriteRawJson(const T& x, JsonWriter& w) {
  WriteRawJsonText(x.raw(), T::descriptor()->full_name(), w);
}

template <class T>
Status ReadRawJson(JsonValue v, T* x, DecodeContext&, const PathNode* at) {
  if (IsNull(v)) {
    x->Clear();
    return Status::Ok();
  }
  std::string* raw = x->mutable_raw();
  raw->clear();
  JsonWriter w(raw);
  return WriteRawJson(v, w, 0, at);
}

// Go []string types held in a message with `repeated string items` (meta.v1.Verbs, ExtraValue).
template <class T>
void WriteStringList(const T& x, JsonWriter& w) {
  if (x.items_size() == 0) {
    w.Null();
    return;
  }
  w.StartArray();
  for (const std::string& s : x.items()) w.String(s);
  w.EndArray();
}

template <class T>
Status ReadStringList(JsonValue v, T* x, DecodeContext& c, const PathNode* at) {
  if (IsNull(v)) {
    x->Clear();
    return Status::Ok();
  }
  simdjson::dom::array a;
  if (v.get_array().get(a) != simdjson::SUCCESS) return c.TypeError(v, "[]string", at);
  x->clear_items();
  int64_t index = 0;
  for (JsonValue e : a) {
    PathNode node{at, {}, index++, false};
    if (IsNull(e)) {
      x->add_items();
      continue;
    }
    std::string_view s;
    CK_RETURN_IF_ERROR(ReadString(e, &s, c, &node));
    x->add_items(s.data(), s.size());
  }
  return Status::Ok();
}

// ---- Maps --------------------------------------------------------------------------------

// Writes a string-keyed map with sorted keys, as Go does; value(w, v) writes one value.
template <class V, class F>
void WriteMap(const google::protobuf::Map<std::string, V>& map, JsonWriter& w, F&& value) {
  using Entry = const typename google::protobuf::Map<std::string, V>::value_type*;
  Entry small[16];
  std::vector<Entry> large;
  Entry* entries = small;
  size_t n = map.size();
  if (n > 16) {
    large.resize(n);
    entries = large.data();
  }
  size_t i = 0;
  for (const auto& kv : map) entries[i++] = &kv;
  std::sort(entries, entries + n, [](Entry a, Entry b) { return a->first < b->first; });
  w.StartObject();
  for (size_t k = 0; k < n; ++k) {
    w.Key(entries[k]->first);
    value(w, entries[k]->second);
  }
  w.EndObject();
}

// Slots seen in one JSON object, for duplicate detection.
class SeenMembers {
 public:
  explicit SeenMembers(size_t n) {
    if (n > 256) large_.resize(n);
  }
  // True when `slot` was already seen.
  bool Mark(size_t slot) {
    if (!large_.empty()) {
      bool was = large_[slot];
      large_[slot] = true;
      return was;
    }
    uint64_t bit = uint64_t{1} << (slot & 63);
    bool was = (small_[slot >> 6] & bit) != 0;
    small_[slot >> 6] |= bit;
    return was;
  }

 private:
  uint64_t small_[4] = {0, 0, 0, 0};
  std::vector<bool> large_;
};

}  // namespace ck::api::internal
