// PolicyRule matching, one upstream rule at a time.
#include <gtest/gtest.h>

#include "apiserver/rbac/rules.h"

namespace ck::apiserver::rbac {
namespace {

Attributes Res(std::string verb, std::string group, std::string resource, std::string sub = "", std::string name = "") {
  Attributes a;
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.subresource = std::move(sub);
  a.name = std::move(name);
  return a;
}
Attributes Url(std::string verb, std::string path) {
  Attributes a;
  a.verb = std::move(verb);
  a.path = std::move(path);
  return a;
}

TEST(RulesTest, Subresources) {
  EXPECT_TRUE(RuleAllows(Res("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"pods/log"})));
  EXPECT_FALSE(RuleAllows(Res("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"pods"})));
  EXPECT_FALSE(RuleAllows(Res("get", "", "pods"), MakeRule({"get"}, {""}, {"pods/log"})));
  EXPECT_TRUE(RuleAllows(Res("get", "apps", "deployments", "scale"), MakeRule({"get"}, {"*"}, {"*/scale"})));
  EXPECT_FALSE(RuleAllows(Res("get", "apps", "deployments"), MakeRule({"get"}, {"*"}, {"*/scale"})));
  EXPECT_FALSE(RuleAllows(Res("get", "apps", "deployments", "status"), MakeRule({"get"}, {"*"}, {"*/scale"})));
  EXPECT_TRUE(RuleAllows(Res("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"*"})));
  // upstream has no "pods/*" wildcard: it matches only a resource literally so named.
  EXPECT_FALSE(RuleAllows(Res("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"pods/*"})));
  EXPECT_TRUE(RuleAllows(Res("get", "", "pods", "*"), MakeRule({"get"}, {""}, {"pods/*"})));
}

TEST(RulesTest, VerbsGroupsNames) {
  EXPECT_TRUE(RuleAllows(Res("escalate", "x", "y"), MakeRule({"*"}, {"*"}, {"*"})));
  EXPECT_FALSE(RuleAllows(Res("get", "apps", "pods"), MakeRule({"get"}, {""}, {"pods"})));
  EXPECT_TRUE(RuleAllows(Res("get", "", "cm", "", "a"), MakeRule({"get"}, {""}, {"cm"}, {"a"})));
  EXPECT_FALSE(RuleAllows(Res("get", "", "cm", "", "b"), MakeRule({"get"}, {""}, {"cm"}, {"a"})));
  EXPECT_FALSE(RuleAllows(Res("list", "", "cm"), MakeRule({"list"}, {""}, {"cm"}, {"a"})));
  EXPECT_TRUE(RuleAllows(Res("list", "", "cm"), MakeRule({"list"}, {""}, {"cm"})));
  // A resource rule never allows a non-resource request and vice versa.
  EXPECT_FALSE(RuleAllows(Url("get", "/pods"), MakeRule({"get"}, {"*"}, {"*"})));
  EXPECT_FALSE(RuleAllows(Res("get", "", "pods"), MakeUrlRule({"get"}, {"*"})));
}

TEST(RulesTest, NonResourceUrls) {
  PolicyRule r = MakeUrlRule({"get"}, {"/healthz", "/api/*", "/logs*"});
  EXPECT_TRUE(RuleAllows(Url("get", "/healthz"), r));
  EXPECT_FALSE(RuleAllows(Url("get", "/healthz/ping"), r));
  EXPECT_TRUE(RuleAllows(Url("get", "/api/v1"), r));
  EXPECT_TRUE(RuleAllows(Url("get", "/api/"), r));
  EXPECT_FALSE(RuleAllows(Url("get", "/api"), r));
  EXPECT_TRUE(RuleAllows(Url("get", "/logs"), r));
  EXPECT_TRUE(RuleAllows(Url("get", "/logsX/y"), r));
  EXPECT_FALSE(RuleAllows(Url("post", "/healthz"), r));
  EXPECT_TRUE(RuleAllows(Url("put", "/anything"), MakeUrlRule({"*"}, {"*"})));
}

TEST(RulesTest, GoQuoting) {
  EXPECT_EQ(GoQuote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(GoQuoteList({}), "[]");
  EXPECT_EQ(GoQuoteList({"a", "b"}), R"(["a" "b"])");
  EXPECT_EQ(CompactString(MakeUrlRule({"get"}, {"/x"})), R"({NonResourceURLs:["/x"], Verbs:["get"]})");
}

}  // namespace
}  // namespace ck::apiserver::rbac
