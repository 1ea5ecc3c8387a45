// JsonBuilder: a small ordered JSON tree for documents that are assembled once and served many
// times (OpenAPI, /version). Members keep insertion order, so the text is deterministic and its
// hash is stable from run to run. API objects are not built with this: they go through the codec
// (common/api/codec.h).
// A value is a plain tree; not synchronized.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ck::apiserver::discovery {

class Json {
 public:
  enum class Type { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  Json() = default;                                                     // null
  Json(bool b) : type_(Type::kBool), int_(b) {}                         // NOLINT: implicit, reads like JSON
  Json(int v) : type_(Type::kInt), int_(v) {}                           // NOLINT
  Json(int64_t v) : type_(Type::kInt), int_(v) {}                       // NOLINT
  Json(double v) : type_(Type::kDouble), double_(v) {}                  // NOLINT
  Json(const char* s) : type_(Type::kString), string_(s) {}             // NOLINT
  Json(std::string s) : type_(Type::kString), string_(std::move(s)) {}  // NOLINT
  Json(std::string_view s) : type_(Type::kString), string_(s) {}        // NOLINT

  static Json Object() {
    Json j;
    j.type_ = Type::kObject;
    return j;
  }
  static Json Array() {
    Json j;
    j.type_ = Type::kArray;
    return j;
  }
  // An array of strings.
  static Json Strings(const std::vector<std::string>& items);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }

  // Object member access; a null value becomes an object, a missing member is appended (null).
  Json& operator[](std::string_view key);
  // The member or nullptr (only for objects).
  const Json* Find(std::string_view key) const;
  Json* Find(std::string_view key);
  // Removes the member if present.
  void Erase(std::string_view key);
  const std::vector<std::pair<std::string, Json>>& members() const { return members_; }

  // Array append; a null value becomes an array.
  Json& Push(Json v);
  const std::vector<Json>& items() const { return items_; }
  size_t size() const { return type_ == Type::kArray ? items_.size() : members_.size(); }

  const std::string& string() const { return string_; }
  int64_t int_value() const { return int_; }
  bool bool_value() const { return int_ != 0; }

  // Compact JSON text.
  std::string Dump() const;
  void AppendTo(std::string* out) const;

 private:
  Type type_ = Type::kNull;
  int64_t int_ = 0;
  double double_ = 0;
  std::string string_;
  std::vector<Json> items_;
  std::vector<std::pair<std::string, Json>> members_;
};

// Appends `s` as a quoted JSON string (escapes as Go's encoding/json, including < > &).
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace ck::apiserver::discovery
