#include "common/net/url.h"

#include <gtest/gtest.h>

namespace ck::net {
namespace {

TEST(UrlTest, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc"), "a b/c");
  EXPECT_EQ(PercentDecode("a+b", true), "a b");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%2"));
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("%zz"));
}

TEST(UrlTest, PercentEncodeRoundTrip) {
  std::string s = "app=web,tier in (a b)/ü";
  EXPECT_EQ(PercentDecode(PercentEncode(s)), s);
  EXPECT_EQ(PercentEncode("a-b_c.d~"), "a-b_c.d~");
}

TEST(UrlTest, QueryKeepsRepeatedKeysInOrder) {
  auto q = Query::Parse("command=ls&command=-l&command=%2F&stdout=true&flag&labelSelector=app%3Dweb");
  ASSERT_TRUE(q);
  auto cmds = q->GetAll("command");
  ASSERT_EQ(cmds.size(), 3u);
  EXPECT_EQ(cmds[2], "/");
  EXPECT_EQ(q->GetOr("stdout", ""), "true");
  EXPECT_TRUE(q->Has("flag"));
  EXPECT_EQ(*q->Get("flag"), "");
  EXPECT_EQ(*q->Get("labelSelector"), "app=web");
  EXPECT_FALSE(q->Has("limit"));
  EXPECT_FALSE(Query::Parse("a=%G1"));
  EXPECT_TRUE(Query::Parse("")->entries().empty());
}

TEST(UrlTest, SplitPath) {
  auto p = SplitPath("/api/v1//namespaces/kube%2Dsystem/pods/");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, (std::vector<std::string>{"api", "v1", "namespaces", "kube-system", "pods"}));
  EXPECT_TRUE(SplitPath("/")->empty());
  EXPECT_FALSE(SplitPath("/a/%"));
}

}  // namespace
}  // namespace ck::net
