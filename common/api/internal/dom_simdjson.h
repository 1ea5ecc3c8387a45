// simdjson (DOM API) adapter for the decoder template (decode.h). Used by the JSON library
// measurement in the benchmark. Not thread-safe: one SimdJsonParser per thread.
#pragma once

#include <string>
#include <string_view>

#include <simdjson.h>

#include "common/api/internal/decode.h"
#include "common/base/status.h"

namespace ck::api::internal {

struct SimdJsonDom {
  using Value = simdjson::dom::element;

  static JsonType TypeOf(Value v) {
    switch (v.type()) {
      case simdjson::dom::element_type::ARRAY: return JsonType::kArray;
      case simdjson::dom::element_type::OBJECT: return JsonType::kObject;
      case simdjson::dom::element_type::INT64:
      case simdjson::dom::element_type::UINT64:
      case simdjson::dom::element_type::DOUBLE: return JsonType::kNumber;
      case simdjson::dom::element_type::STRING: return JsonType::kString;
      case simdjson::dom::element_type::BOOL: return JsonType::kBool;
      case simdjson::dom::element_type::NULL_VALUE: return JsonType::kNull;
    }
    return JsonType::kNull;
  }
  static bool GetBool(Value v) { return v.get_bool().value_unsafe(); }
  static std::string_view GetString(Value v) { return v.get_string().value_unsafe(); }
  static bool GetInt64(Value v, int64_t* out) {
    if (v.type() == simdjson::dom::element_type::INT64) {
      *out = v.get_int64().value_unsafe();
      return true;
    }
    return false;
  }
  static bool GetUint64(Value v, uint64_t* out) {
    if (v.type() == simdjson::dom::element_type::UINT64) {
      *out = v.get_uint64().value_unsafe();
      return true;
    }
    if (v.type() == simdjson::dom::element_type::INT64 && v.get_int64().value_unsafe() >= 0) {
      *out = static_cast<uint64_t>(v.get_int64().value_unsafe());
      return true;
    }
    return false;
  }
  static double GetDouble(Value v) { return v.get_double().value_unsafe(); }

  template <class F>
  static Status Members(Value v, F&& f) {
    simdjson::dom::object obj;
    if (v.get_object().get(obj) != simdjson::SUCCESS) return Internal("not an object");
    for (simdjson::dom::key_value_pair kv : obj) {
      CK_RETURN_IF_ERROR(f(kv.key, kv.value));
    }
    return Status::Ok();
  }
  template <class F>
  static Status Elements(Value v, F&& f) {
    simdjson::dom::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) return Internal("not an array");
    for (simdjson::dom::element e : arr) CK_RETURN_IF_ERROR(f(e));
    return Status::Ok();
  }
};

class SimdJsonParser {
 public:
  Status Parse(std::string_view json, SimdJsonDom::Value* root) {
    auto r = parser_.parse(json.data(), json.size(), /*realloc_if_needed=*/true);
    if (r.error() != simdjson::SUCCESS) {
      return BadRequest(std::string("json: ") + simdjson::error_message(r.error()));
    }
    *root = r.value_unsafe();
    return Status::Ok();
  }

 private:
  simdjson::dom::parser parser_;
};

}  // namespace ck::api::internal
