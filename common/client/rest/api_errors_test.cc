#include "common/client/rest/api_errors.h"

#include <gtest/gtest.h>

namespace ck::client {
namespace {

TEST(StatusFromResponse, ReasonPicksTheCodeAndMessageIsTheServers) {
  struct Case {
    int http;
    const char* reason;
    Code code;
  } cases[] = {
      {404, "NotFound", Code::kNotFound},
      {409, "AlreadyExists", Code::kAlreadyExists},
      {409, "Conflict", Code::kConflict},
      {410, "Expired", Code::kGone},
      {410, "Gone", Code::kGone},
      {422, "Invalid", Code::kInvalid},
      {403, "Forbidden", Code::kForbidden},
      {401, "Unauthorized", Code::kUnauthorized},
      {429, "TooManyRequests", Code::kTooManyRequests},
      {400, "BadRequest", Code::kBadRequest},
      {415, "UnsupportedMediaType", Code::kUnsupportedMediaType},
      {500, "InternalError", Code::kInternal},
      {503, "ServiceUnavailable", Code::kUnavailable},
      {504, "Timeout", Code::kTimeout},
  };
  for (const Case& c : cases) {
    std::string body =
        std::string(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)") +
        R"("message":"pods \"web\" says )" + c.reason + R"(","reason":")" + c.reason + R"(","code":)" +
        std::to_string(c.http) + "}";
    Status s = StatusFromResponse(c.http, body);
    EXPECT_EQ(s.code(), c.code) << c.reason;
    EXPECT_EQ(s.message(), std::string("pods \"web\" says ") + c.reason);
  }
}

TEST(StatusFromResponse, ConflictReasonOn409KeepsDetailsOutOfTheCode) {
  // A 409 whose reason is AlreadyExists is not a Conflict (a create races; an update is stale).
  Status s = StatusFromResponse(
      409,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"a\" already exists","reason":"AlreadyExists","details":{"name":"a","kind":"pods"},"code":409})");
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
}

TEST(StatusFromResponse, UnknownReasonFallsBackToTheStatusCode) {
  Status s = StatusFromResponse(
      410,
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old","reason":"SomethingNew","code":410})");
  EXPECT_EQ(s.code(), Code::kGone);
  s = StatusFromResponse(
      422, R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"bad","code":422})");
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "bad");
}

TEST(StatusFromResponse, BodiesThatAreNotAStatusGetUpstreamsGenericMessage) {
  Status s = StatusFromResponse(404, "");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "the server could not find the requested resource (404)");
  s = StatusFromResponse(502, "Bad Gateway");
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(),
            "an error on the server has prevented the request from succeeding (502): Bad Gateway");
  s = StatusFromResponse(503, R"({"kind":"Pod","apiVersion":"v1"})");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  s = StatusFromResponse(429, std::string("\x01\x02", 2));
  EXPECT_EQ(s.message(),
            "the server has received too many requests and has asked us to try again later (429)");
}

TEST(FromApiStatus, WatchErrorEvents) {
  ::k8s::io::apimachinery::pkg::apis::meta::v1::Status st;
  st.set_status("Failure");
  st.set_reason("Expired");
  st.set_code(410);
  st.set_message("too old resource version: 1011 (1020)");
  Status s = FromApiStatus(st);
  EXPECT_EQ(s.code(), Code::kGone);
  EXPECT_EQ(s.message(), "too old resource version: 1011 (1020)");
  st.clear_reason();
  st.set_code(500);
  st.clear_message();
  s = FromApiStatus(st);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(), "InternalError");
  ::k8s::io::apimachinery::pkg::apis::meta::v1::Status ok;
  ok.set_status("Success");
  ok.set_code(201);
  EXPECT_TRUE(FromApiStatus(ok).ok());
}

TEST(CodeFromHttpStatus, Table) {
  EXPECT_EQ(CodeFromHttpStatus(404), Code::kNotFound);
  EXPECT_EQ(CodeFromHttpStatus(418), Code::kBadRequest);
  EXPECT_EQ(CodeFromHttpStatus(599), Code::kInternal);
  EXPECT_EQ(CodeFromReason("Expired"), Code::kGone);
  EXPECT_EQ(CodeFromReason("NoSuchReason"), std::nullopt);
}

}  // namespace
}  // namespace ck::client
