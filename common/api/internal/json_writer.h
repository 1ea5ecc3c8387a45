// JsonWriter: appends compact JSON text to a std::string, the way Go's encoding/json writes it
// (HTML-safe escapes for < > &, \u2028 and \u2029 escaped, invalid UTF-8 replaced by U+FFFD,
// floats in Go's 'f'/'e' shortest form, []byte as standard base64).
//
// Commas are tracked by the writer: call Key() before an object member's value, and the writer puts
// ',' where one is due. Internal to common/api; not thread-safe (one writer per output).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/strings.h"

namespace ck::api::internal {

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void StartObject() { Sep(); out_->push_back('{'); need_comma_ = false; }
  void EndObject() { out_->push_back('}'); need_comma_ = true; }
  void StartArray() { Sep(); out_->push_back('['); need_comma_ = false; }
  void EndArray() { out_->push_back(']'); need_comma_ = true; }

  // `quoted_key` is the member name already rendered as `"name":`.
  void KeyPrepared(std::string_view quoted_key) {
    Sep();
    out_->append(quoted_key);
    need_comma_ = false;
  }
  void Key(std::string_view key) {
    Sep();
    AppendString(key);
    out_->push_back(':');
    need_comma_ = false;
  }

  void String(std::string_view s) { Sep(); AppendString(s); need_comma_ = true; }
  void Int(int64_t v);
  void Uint(uint64_t v);
  void Double(double v);
  void Float(float v);
  void Bool(bool v) { Sep(); out_->append(v ? "true" : "false"); need_comma_ = true; }
  void Null() { Sep(); out_->append("null"); need_comma_ = true; }
  // Standard base64 with padding, as a JSON string.
  void Base64(std::string_view bytes);
  // Text that is already valid JSON (a RawExtension), written as it is.
  void RawValue(std::string_view json) { Sep(); out_->append(json); need_comma_ = true; }

  std::string* out() { return out_; }

  // Records the first problem found while writing (a RawExtension that is not JSON); the caller
  // checks error() when done.
  void Fail(std::string message) {
    if (error_.empty()) error_ = std::move(message);
  }
  const std::string& error() const { return error_; }

  // Appends `s` as a quoted JSON string literal with Go's escaping.
  static void AppendString(std::string* out, std::string_view s);
  // Go's strconv.FormatFloat(v, 'f' or 'e', -1, bits) as encoding/json picks it.
  static void AppendGoFloat(std::string* out, double v, bool is_float32);
  static void AppendBase64(std::string* out, std::string_view bytes);

 private:
  void Sep() {
    if (need_comma_) out_->push_back(',');
  }
  void AppendString(std::string_view s) { AppendString(out_, s); }

  std::string* out_;
  bool need_comma_ = false;
  std::string error_;
};

// Base64 decoding is ck::DecodeBase64 (common/base/strings.h).
using ::ck::DecodeBase64;

}  // namespace ck::api::internal
