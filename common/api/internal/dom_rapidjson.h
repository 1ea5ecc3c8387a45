// RapidJSON adapter for the decoder template (decode.h) and a parser that reuses its memory:
// the document is parsed in situ from a private copy of the input, into a memory pool that is
// kept between calls, so a typical object is parsed without touching the heap.
// Not thread-safe: one RapidJsonParser per thread. Internal to common/api.
#pragma once

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "common/api/internal/decode.h"
#include "common/base/status.h"

namespace ck::api::internal {

struct RapidJsonDom {
  using Value = const rapidjson::Value*;

  static JsonType TypeOf(Value v) {
    switch (v->GetType()) {
      case rapidjson::kNullType: return JsonType::kNull;
      case rapidjson::kFalseType:
      case rapidjson::kTrueType: return JsonType::kBool;
      case rapidjson::kNumberType: return JsonType::kNumber;
      case rapidjson::kStringType: return JsonType::kString;
      case rapidjson::kArrayType: return JsonType::kArray;
      case rapidjson::kObjectType: return JsonType::kObject;
    }
    return JsonType::kNull;
  }
  static bool GetBool(Value v) { return v->GetBool(); }
  static std::string_view GetString(Value v) { return {v->GetString(), v->GetStringLength()}; }
  static bool GetInt64(Value v, int64_t* out) {
    if (!v->IsInt64()) return false;
    *out = v->GetInt64();
    return true;
  }
  static bool GetUint64(Value v, uint64_t* out) {
    if (!v->IsUint64()) return false;
    *out = v->GetUint64();
    return true;
  }
  static double GetDouble(Value v) { return v->GetDouble(); }

  template <class F>
  static Status Members(Value v, F&& f) {
    for (auto it = v->MemberBegin(); it != v->MemberEnd(); ++it) {
      CK_RETURN_IF_ERROR(f(GetString(&it->name), &it->value));
    }
    return Status::Ok();
  }
  template <class F>
  static Status Elements(Value v, F&& f) {
    for (auto it = v->Begin(); it != v->End(); ++it) CK_RETURN_IF_ERROR(f(&*it));
    return Status::Ok();
  }
};

class RapidJsonParser {
 public:
  RapidJsonParser()
      : pool_buffer_(new char[kPoolBytes]),
        stack_buffer_(new char[kStackBytes]),
        pool_(pool_buffer_.get(), kPoolBytes),
        stack_pool_(stack_buffer_.get(), kStackBytes) {}

  // Parses `json`; *root stays valid until the next Parse.
  Status Parse(std::string_view json, RapidJsonDom::Value* root) {
    doc_.reset();
    pool_.Clear();
    stack_pool_.Clear();
    // The in-situ parser stops at a NUL byte, which JSON never allows outside a string.
    if (const void* nul = std::memchr(json.data(), 0, json.size()); nul != nullptr) {
      size_t at = static_cast<const char*>(nul) - json.data();
      return BadRequest("json: invalid character '\\x00' (at offset " + std::to_string(at) + ")");
    }
    text_.assign(json.data(), json.size());
    doc_.emplace(&pool_, 1024, &stack_pool_);
    constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseFullPrecisionFlag;
    doc_->ParseInsitu<kFlags>(text_.data());
    if (doc_->HasParseError()) {
      return BadRequest(std::string("json: ") + rapidjson::GetParseError_En(doc_->GetParseError()) +
                        " (at offset " + std::to_string(doc_->GetErrorOffset()) + ")");
    }
    *root = &*doc_;
    return Status::Ok();
  }

 private:
  static constexpr size_t kPoolBytes = 64 * 1024;
  static constexpr size_t kStackBytes = 16 * 1024;
  using Pool = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;

  std::unique_ptr<char[]> pool_buffer_;
  std::unique_ptr<char[]> stack_buffer_;
  Pool pool_;
  Pool stack_pool_;
  std::string text_;
  std::optional<rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>> doc_;
};

}  // namespace ck::api::internal
