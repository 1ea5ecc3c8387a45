#include "common/base/status.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.http_status(), 200);
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, EveryCodeHasOneHttpStatusAndReason) {
  struct Case {
    Code code;
    int http;
    std::string_view reason;
  };
  const Case cases[] = {
      {Code::kBadRequest, 400, "BadRequest"},   {Code::kUnauthorized, 401, "Unauthorized"},
      {Code::kForbidden, 403, "Forbidden"},     {Code::kNotFound, 404, "NotFound"},
      {Code::kMethodNotAllowed, 405, "MethodNotAllowed"},
      {Code::kNotAcceptable, 406, "NotAcceptable"},
      {Code::kAlreadyExists, 409, "AlreadyExists"}, {Code::kConflict, 409, "Conflict"},
      {Code::kGone, 410, "Expired"},
      {Code::kRequestEntityTooLarge, 413, "RequestEntityTooLarge"},
      {Code::kUnsupportedMediaType, 415, "UnsupportedMediaType"},
      {Code::kInvalid, 422, "Invalid"},         {Code::kTooManyRequests, 429, "TooManyRequests"},
      {Code::kInternal, 500, "InternalError"},  {Code::kUnavailable, 503, "ServiceUnavailable"},
      {Code::kTimeout, 504, "Timeout"},
  };
  for (const auto& c : cases) {
    Status s(c.code, "m");
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(s.http_status(), c.http) << CodeName(c.code);
    EXPECT_EQ(s.reason(), c.reason);
  }
}

TEST(StatusTest, PrefixAndToString) {
  Status s = NotFound("pods \"x\" not found").WithPrefix("get");
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "get: pods \"x\" not found");
  EXPECT_EQ(s.ToString(), "not_found: get: pods \"x\" not found");
  EXPECT_TRUE(Status().WithPrefix("x").ok());
}

Result<int> Half(int x) {
  if (x % 2) return Invalid("odd");
  return x / 2;
}

Status UseMacros(int x, int* out) {
  CK_ASSIGN_OR_RETURN(int h, Half(x));
  CK_RETURN_IF_ERROR(h > 10 ? Conflict("too big") : Status::Ok());
  *out = h;
  return Status::Ok();
}

TEST(ResultTest, ValueOrStatus) {
  auto r = Half(4);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 2);
  EXPECT_TRUE(r.status().ok());
  auto e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), Code::kInvalid);
  EXPECT_EQ(e.value_or(-1), -1);
}

TEST(ResultTest, Macros) {
  int out = 0;
  EXPECT_TRUE(UseMacros(8, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(UseMacros(3, &out).code(), Code::kInvalid);
  EXPECT_EQ(UseMacros(40, &out).code(), Code::kConflict);
}

TEST(ResultDeathTest, ValueOfErrorCrashesWithMessage) {
  EXPECT_DEATH({ (void)Half(3).value(); }, "Check failed: ok\\(\\) value\\(\\) of error Result: invalid: odd");
}

TEST(CheckDeathTest, NamesFileLineAndContext) {
  int rev = 3;
  EXPECT_DEATH({ CK_CHECK(rev > 5) << "revision went backwards: " << rev; },
               "F status_test.cc:[0-9]+\\] Check failed: rev > 5 revision went backwards: 3");
}

}  // namespace
}  // namespace ck
