#include "common/base/status.h"

namespace ck {
namespace {

struct CodeInfo {
  int http;
  std::string_view reason;
  std::string_view name;
};

CodeInfo InfoOf(Code code) {
  switch (code) {
    case Code::kOk: return {200, "", "ok"};
    case Code::kBadRequest: return {400, "BadRequest", "bad_request"};
    case Code::kUnauthorized: return {401, "Unauthorized", "unauthorized"};
    case Code::kForbidden: return {403, "Forbidden", "forbidden"};
    case Code::kNotFound: return {404, "NotFound", "not_found"};
    case Code::kMethodNotAllowed: return {405, "MethodNotAllowed", "method_not_allowed"};
    case Code::kNotAcceptable: return {406, "NotAcceptable", "not_acceptable"};
    case Code::kAlreadyExists: return {409, "AlreadyExists", "already_exists"};
    case Code::kConflict: return {409, "Conflict", "conflict"};
    case Code::kGone: return {410, "Expired", "gone"};
    case Code::kRequestEntityTooLarge: return {413, "RequestEntityTooLarge", "request_entity_too_large"};
    case Code::kUnsupportedMediaType: return {415, "UnsupportedMediaType", "unsupported_media_type"};
    case Code::kInvalid: return {422, "Invalid", "invalid"};
    case Code::kTooManyRequests: return {429, "TooManyRequests", "too_many_requests"};
    case Code::kInternal: return {500, "InternalError", "internal"};
    case Code::kUnavailable: return {503, "ServiceUnavailable", "unavailable"};
    case Code::kTimeout: return {504, "Timeout", "timeout"};
  }
  return {500, "InternalError", "unknown"};
}

}  // namespace

int HttpStatusOf(Code code) { return InfoOf(code).http; }
std::string_view ReasonOf(Code code) { return InfoOf(code).reason; }
std::string_view CodeName(Code code) { return InfoOf(code).name; }

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithPrefix(std::string_view prefix) const {
  if (ok()) return *this;
  std::string m(prefix);
  m += ": ";
  m += message_;
  return Status(code_, std::move(m));
}

}  // namespace ck
