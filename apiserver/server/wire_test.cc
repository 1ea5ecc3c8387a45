#include "apiserver/server/wire.h"

#include <gtest/gtest.h>

namespace ck::apiserver {
namespace {

TEST(StatusJson, UpstreamShapeWithDetailsAndCauses) {
  ErrorDetails d;
  d.name = "web";
  d.kind = "Pod";
  d.causes.push_back({"FieldValueRequired", "Required value", "spec.containers[0].image"});
  EXPECT_EQ(StatusJson(Invalid("Pod \"web\" is invalid: spec.containers[0].image: Required value"), &d),
            R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
            R"("message":"Pod \"web\" is invalid: spec.containers[0].image: Required value","reason":"Invalid",)"
            R"("details":{"name":"web","kind":"Pod","causes":[{"reason":"FieldValueRequired","message":"Required value",)"
            R"("field":"spec.containers[0].image"}]},"code":422})");
  EXPECT_EQ(StatusJson(Gone("too old resource version: 5 (9)"), nullptr),
            R"x({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)x"
            R"x("message":"too old resource version: 5 (9)","reason":"Expired","code":410})x");
  ErrorDetails retry;
  retry.retry_after_seconds = 1;
  EXPECT_NE(StatusJson(TooManyRequests("slow down"), &retry).find(R"("details":{"retryAfterSeconds":1},"code":429)"),
            std::string::npos);
}

TEST(ContinueToken, RoundTripsAndRejectsForeignTokens) {
  std::string t = EncodeContinue(42, "ns/pod-7");
  Result<ContinueToken> back = DecodeContinue(t);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->revision, 42);
  EXPECT_EQ(back->start_after, "ns/pod-7");
  for (std::string_view bad : {"!!!", "e30=", "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MH0="}) {
    Result<ContinueToken> r = DecodeContinue(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::kBadRequest);
    EXPECT_EQ(r.status().message().rfind("continue key is not valid", 0), 0u) << r.status().message();
  }
}

TEST(Revision, ParsesDigitsOnly) {
  EXPECT_EQ(ParseRevision("123"), 123);
  EXPECT_EQ(ParseRevision(""), 0);
  EXPECT_EQ(ParseRevision("12x"), 0);
}

}  // namespace
}  // namespace ck::apiserver
