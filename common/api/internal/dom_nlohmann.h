// nlohmann::json adapter for the decoder template (decode.h) and a builder-style writer for the
// encoder template (encode.h). Used by the JSON library measurement in the benchmark only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/api/internal/decode.h"
#include "common/api/internal/json_writer.h"
#include "common/base/status.h"

namespace ck::api::internal {

struct NlohmannDom {
  using Value = const nlohmann::json*;

  static JsonType TypeOf(Value v) {
    if (v->is_null()) return JsonType::kNull;
    if (v->is_boolean()) return JsonType::kBool;
    if (v->is_number()) return JsonType::kNumber;
    if (v->is_string()) return JsonType::kString;
    if (v->is_array()) return JsonType::kArray;
    return JsonType::kObject;
  }
  static bool GetBool(Value v) { return v->get<bool>(); }
  static std::string_view GetString(Value v) { return v->get_ref<const std::string&>(); }
  static bool GetInt64(Value v, int64_t* out) {
    if (v->is_number_unsigned()) {
      uint64_t u = v->get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return false;
      *out = static_cast<int64_t>(u);
      return true;
    }
    if (!v->is_number_integer()) return false;
    *out = v->get<int64_t>();
    return true;
  }
  static bool GetUint64(Value v, uint64_t* out) {
    if (v->is_number_unsigned()) {
      *out = v->get<uint64_t>();
      return true;
    }
    if (v->is_number_integer() && v->get<int64_t>() >= 0) {
      *out = static_cast<uint64_t>(v->get<int64_t>());
      return true;
    }
    return false;
  }
  static double GetDouble(Value v) { return v->get<double>(); }

  template <class F>
  static Status Members(Value v, F&& f) {
    for (auto it = v->begin(); it != v->end(); ++it) CK_RETURN_IF_ERROR(f(std::string_view(it.key()), &*it));
    return Status::Ok();
  }
  template <class F>
  static Status Elements(Value v, F&& f) {
    for (const auto& e : *v) CK_RETURN_IF_ERROR(f(&e));
    return Status::Ok();
  }
};

class NlohmannParser {
 public:
  Status Parse(std::string_view json, NlohmannDom::Value* root) {
    doc_ = nlohmann::json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
    if (doc_.is_discarded()) return BadRequest("json: syntax error");
    *root = &doc_;
    return Status::Ok();
  }

 private:
  nlohmann::json doc_;
};

// Builds an nlohmann::json tree through the encoder's writer calls, then dumps it.
class NlohmannWriter {
 public:
  void StartObject() { Open(nlohmann::json::object()); }
  void EndObject() { stack_.pop_back(); }
  void StartArray() { Open(nlohmann::json::array()); }
  void EndArray() { stack_.pop_back(); }
  void KeyPrepared(std::string_view quoted) { key_.assign(quoted.substr(1, quoted.size() - 3)); }
  void Key(std::string_view k) { key_.assign(k); }
  void String(std::string_view s) { Put(std::string(s)); }
  void Int(int64_t v) { Put(v); }
  void Uint(uint64_t v) { Put(v); }
  void Double(double v) { Put(v); }
  void Float(float v) { Put(v); }
  void Bool(bool v) { Put(v); }
  void Null() { Put(nullptr); }
  void Base64(std::string_view bytes) {
    std::string s;
    JsonWriter::AppendBase64(&s, bytes);
    Put(std::move(s));
  }
  void RawValue(std::string_view json) { Put(nlohmann::json::parse(json.begin(), json.end(), nullptr, false)); }

  std::string Dump() const { return root_.dump(); }

 private:
  nlohmann::json* Put(nlohmann::json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    nlohmann::json* top = stack_.back();
    if (top->is_object()) return &((*top)[key_] = std::move(v));
    top->push_back(std::move(v));
    return &top->back();
  }
  void Open(nlohmann::json v) { stack_.push_back(Put(std::move(v))); }

  nlohmann::json root_;
  std::vector<nlohmann::json*> stack_;
  std::string key_;
};

}  // namespace ck::api::internal
