// Status and Result<T>: errors as values, shaped like Kubernetes API errors.
//
// Every fallible call in Clearkube returns a Status (or a Result<T> carrying a value or a Status).
// Each Code maps to exactly one HTTP status and one Kubernetes `reason`, so an error can travel
// from the store to the wire without translation tables in between. No exceptions cross a module
// boundary: third-party throws are caught at the call site and turned into a Status.
// Status and Result are plain values; they are not synchronized.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "common/base/check.h"

namespace ck {

enum class Code : uint8_t {
  kOk = 0,
  kBadRequest,             // 400 BadRequest: the request itself is malformed
  kUnauthorized,           // 401 Unauthorized: no or bad credentials
  kForbidden,              // 403 Forbidden: authenticated but not allowed
  kNotFound,               // 404 NotFound
  kMethodNotAllowed,       // 405 MethodNotAllowed
  kNotAcceptable,          // 406 NotAcceptable
  kAlreadyExists,          // 409 AlreadyExists
  kConflict,               // 409 Conflict: stale resourceVersion, failed precondition
  kGone,                   // 410 Expired: compacted revision, expired continue token
  kRequestEntityTooLarge,  // 413 RequestEntityTooLarge
  kUnsupportedMediaType,   // 415 UnsupportedMediaType
  kInvalid,                // 422 Invalid: the object fails validation
  kTooManyRequests,        // 429 TooManyRequests
  kInternal,               // 500 InternalError: a bug or an unexpected failure
  kUnavailable,            // 503 ServiceUnavailable: disk full, shutting down, dependency down
  kTimeout,                // 504 Timeout
};

// The HTTP status code for `code` (200 for kOk).
int HttpStatusOf(Code code);
// The Kubernetes Status `reason` for `code` ("" for kOk), e.g. "NotFound", "Expired".
std::string_view ReasonOf(Code code);
// A short lower-case name for logs, e.g. "not_found".
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  int http_status() const { return HttpStatusOf(code_); }
  std::string_view reason() const { return ReasonOf(code_); }

  // "not_found: pods \"x\" not found" (or "ok").
  std::string ToString() const;

  // Returns a copy whose message is "<prefix>: <message>".
  Status WithPrefix(std::string_view prefix) const;

  // Explicitly discards a Status whose failure does not matter to the caller.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Shorthands: return NotFound("pods \"x\" not found");
inline Status BadRequest(std::string m) { return {Code::kBadRequest, std::move(m)}; }
inline Status Unauthorized(std::string m) { return {Code::kUnauthorized, std::move(m)}; }
inline Status Forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status Gone(std::string m) { return {Code::kGone, std::move(m)}; }
inline Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
inline Status TooManyRequests(std::string m) { return {Code::kTooManyRequests, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }

// A value of type T or a non-OK Status. Accessing value() of an error result is a bug (CK_CHECK).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    CK_CHECK(!std::get<Status>(v_).ok()) << "Result constructed from an OK Status";
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }

  T& value() & {
    CK_CHECK(ok()) << "value() of error Result: " << status().ToString();
    return std::get<T>(v_);
  }
  const T& value() const& {
    CK_CHECK(ok()) << "value() of error Result: " << status().ToString();
    return std::get<T>(v_);
  }
  T&& value() && {
    CK_CHECK(ok()) << "value() of error Result: " << status().ToString();
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  T value_or(T fallback) const& { return ok() ? std::get<T>(v_) : std::move(fallback); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ck

// Propagates a failed Status: CK_RETURN_IF_ERROR(store.Put(k, v));
#define CK_RETURN_IF_ERROR(expr)               \
  do {                                         \
    ::ck::Status ck_status_ = (expr);          \
    if (!ck_status_.ok()) return ck_status_;   \
  } while (0)

#define CK_CONCAT_INNER_(a, b) a##b
#define CK_CONCAT_(a, b) CK_CONCAT_INNER_(a, b)
// Unwraps a Result or returns its Status: CK_ASSIGN_OR_RETURN(auto pod, Decode(body));
#define CK_ASSIGN_OR_RETURN(lhs, expr) CK_ASSIGN_OR_RETURN_IMPL_(CK_CONCAT_(ck_result_, __LINE__), lhs, expr)
#define CK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
