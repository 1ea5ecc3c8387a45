#include "common/client/rest/api_errors.h"

#include <string>

#include "common/api/codec.h"

namespace ck::client {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

std::optional<Code> CodeFromReason(std::string_view reason) {
  struct Entry {
    std::string_view reason;
    Code code;
  };
  static constexpr Entry kTable[] = {
      {"BadRequest", Code::kBadRequest},
      {"Unauthorized", Code::kUnauthorized},
      {"Forbidden", Code::kForbidden},
      {"NotFound", Code::kNotFound},
      {"MethodNotAllowed", Code::kMethodNotAllowed},
      {"NotAcceptable", Code::kNotAcceptable},
      {"AlreadyExists", Code::kAlreadyExists},
      {"Conflict", Code::kConflict},
      {"Gone", Code::kGone},
      {"Expired", Code::kGone},
      {"RequestEntityTooLarge", Code::kRequestEntityTooLarge},
      {"UnsupportedMediaType", Code::kUnsupportedMediaType},
      {"Invalid", Code::kInvalid},
      {"TooManyRequests", Code::kTooManyRequests},
      {"InternalError", Code::kInternal},
      {"ServiceUnavailable", Code::kUnavailable},
      {"Timeout", Code::kTimeout},
      {"ServerTimeout", Code::kTimeout},
  };
  for (const Entry& e : kTable) {
    if (e.reason == reason) return e.code;
  }
  return std::nullopt;
}

Code CodeFromHttpStatus(int s) {
  switch (s) {
    case 400:
      return Code::kBadRequest;
    case 401:
      return Code::kUnauthorized;
    case 403:
      return Code::kForbidden;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kMethodNotAllowed;
    case 406:
      return Code::kNotAcceptable;
    case 409:
      return Code::kConflict;
    case 410:
      return Code::kGone;
    case 413:
      return Code::kRequestEntityTooLarge;
    case 415:
      return Code::kUnsupportedMediaType;
    case 422:
      return Code::kInvalid;
    case 429:
      return Code::kTooManyRequests;
    case 503:
      return Code::kUnavailable;
    case 504:
      return Code::kTimeout;
    default:
      return s >= 400 && s < 500 ? Code::kBadRequest : Code::kInternal;
  }
}

Status FromApiStatus(const metav1::Status& status, int http_status) {
  std::optional<Code> code = CodeFromReason(status.reason());
  // A 410 is always "relist", whatever the reason says.
  if (status.code() == 410 || (status.code() == 0 && http_status == 410)) code = Code::kGone;
  if (!code) {
    if (status.code() >= 400) {
      code = CodeFromHttpStatus(status.code());
    } else if (status.status() == "Success" || (http_status >= 200 && http_status < 300)) {
      return Status::Ok();
    } else {
      code = CodeFromHttpStatus(http_status >= 400 ? http_status : 500);
    }
  }
  std::string message = status.message();
  if (message.empty()) message = std::string(ReasonOf(*code));
  return Status(*code, std::move(message));
}

namespace {

// apimachinery's NewGenericServerResponse wording for bodies that are not a Status.
std::string GenericMessage(int s) {
  switch (s) {
    case 400:
      return "the server rejected our request for an unknown reason";
    case 401:
      return "the server has asked for the client to provide credentials";
    case 403:
      return "the server does not allow access to the requested resource";
    case 404:
      return "the server could not find the requested resource";
    case 405:
      return "the server does not allow this method on the requested resource";
    case 406:
      return "the server was unable to respond with a content type that the client supports";
    case 409:
      return "the server reported a conflict";
    case 410:
      return "the server has gone away";
    case 413:
      return "the server has rejected the request because it is too large";
    case 415:
      return "the server does not support the media type of the request";
    case 422:
      return "the server rejected our request due to an error in our request";
    case 429:
      return "the server has received too many requests and has asked us to try again later";
    case 503:
      return "the server is currently unable to handle the request";
    case 504:
      return "the server was unable to return a response in the time allotted, but may still be processing "
             "the "
             "request";
    default:
      return s >= 500 ? "an error on the server has prevented the request from succeeding"
                      : "the server responded with an unexpected status";
  }
}

bool LooksLikeText(std::string_view body) {
  for (unsigned char c : body) {
    if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') return false;
  }
  return true;
}

}  // namespace

Status StatusFromResponse(int http_status, std::string_view body) {
  std::string_view trimmed = body;
  while (!trimmed.empty() && (trimmed.front() == ' ' || trimmed.front() == '\n')) trimmed.remove_prefix(1);
  if (trimmed.starts_with('{')) {
    metav1::Status status;
    api::TypeMeta type;
    api::DecodeOptions options;
    options.field_validation = api::FieldValidation::kIgnore;
    options.type_meta = &type;
    if (api::FromJson(trimmed, &status, options).ok() && type.kind == "Status") {
      Status s = FromApiStatus(status, http_status);
      if (!s.ok()) return s;
    }
  }
  Code code = CodeFromHttpStatus(http_status);
  std::string message = GenericMessage(http_status) + " (" + std::to_string(http_status) + ")";
  if (!body.empty() && LooksLikeText(body)) {
    message += ": ";
    message += body.substr(0, 256);
  }
  return Status(code, std::move(message));
}

}  // namespace ck::client
