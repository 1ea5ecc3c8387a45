// PolicyRule matching, one upstream rule at a time.
#include <gtest/gtest.h>

#include "apiserver/rbac/rules.h"

namespace ck::apiserver::rbac {
namespace {

Attributes RuleRes(std::string verb, std::string group, std::string resource, std::string sub = "", std::string name = "") {
  Attributes a;
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.subresource = std::move(sub);
  a.name = std::move(name);
  return a;
}
Attributes RuleUrl(std::string verb, std::string path) {
  Attributes a;
  a.verb = std::move(verb);
  a.path = std::move(path);
  return a;
}

TEST(RulesTest, Subresources) {
  EXPECT_TRUE(RuleAllows(RuleRes("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"pods/log"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"pods"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "", "pods"), MakeRule({"get"}, {""}, {"pods/log"})));
  EXPECT_TRUE(RuleAllows(RuleRes("get", "apps", "deployments", "scale"), MakeRule({"get"}, {"*"}, {"*/scale"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "apps", "deployments"), MakeRule({"get"}, {"*"}, {"*/scale"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "apps", "deployments", "status"), MakeRule({"get"}, {"*"}, {"*/scale"})));
  EXPECT_TRUE(RuleAllows(RuleRes("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"*"})));
  // upstream has no "pods/*" wildcard: it matches only a resource literally so named.
  EXPECT_FALSE(RuleAllows(RuleRes("get", "", "pods", "log"), MakeRule({"get"}, {""}, {"pods/*"})));
  EXPECT_TRUE(RuleAllows(RuleRes("get", "", "pods", "*"), MakeRule({"get"}, {""}, {"pods/*"})));
}

TEST(RulesTest, VerbsGroupsNames) {
  EXPECT_TRUE(RuleAllows(RuleRes("escalate", "x", "y"), MakeRule({"*"}, {"*"}, {"*"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "apps", "pods"), MakeRule({"get"}, {""}, {"pods"})));
  EXPECT_TRUE(RuleAllows(RuleRes("get", "", "cm", "", "a"), MakeRule({"get"}, {""}, {"cm"}, {"a"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "", "cm", "", "b"), MakeRule({"get"}, {""}, {"cm"}, {"a"})));
  EXPECT_FALSE(RuleAllows(RuleRes("list", "", "cm"), MakeRule({"list"}, {""}, {"cm"}, {"a"})));
  EXPECT_TRUE(RuleAllows(RuleRes("list", "", "cm"), MakeRule({"list"}, {""}, {"cm"})));
  // A resource rule never allows a non-resource request and vice versa.
  EXPECT_FALSE(RuleAllows(RuleUrl("get", "/pods"), MakeRule({"get"}, {"*"}, {"*"})));
  EXPECT_FALSE(RuleAllows(RuleRes("get", "", "pods"), MakeUrlRule({"get"}, {"*"})));
}

TEST(RulesTest, NonResourceUrls) {
  PolicyRule r = MakeUrlRule({"get"}, {"/healthz", "/api/*", "/logs*"});
  EXPECT_TRUE(RuleAllows(RuleUrl("get", "/healthz"), r));
  EXPECT_FALSE(RuleAllows(RuleUrl("get", "/healthz/ping"), r));
  EXPECT_TRUE(RuleAllows(RuleUrl("get", "/api/v1"), r));
  EXPECT_TRUE(RuleAllows(RuleUrl("get", "/api/"), r));
  EXPECT_FALSE(RuleAllows(RuleUrl("get", "/api"), r));
  EXPECT_TRUE(RuleAllows(RuleUrl("get", "/logs"), r));
  EXPECT_TRUE(RuleAllows(RuleUrl("get", "/logsX/y"), r));
  EXPECT_FALSE(RuleAllows(RuleUrl("post", "/healthz"), r));
  EXPECT_TRUE(RuleAllows(RuleUrl("put", "/anything"), MakeUrlRule({"*"}, {"*"})));
}

TEST(RulesTest, GoQuoting) {
  EXPECT_EQ(GoQuote("a\"b\\c\n"), R"("a\"b\\c\n")");
  EXPECT_EQ(GoQuoteList({}), "[]");
  EXPECT_EQ(GoQuoteList({"a", "b"}), R"(["a" "b"])");
  EXPECT_EQ(CompactString(MakeUrlRule({"get"}, {"/x"})), R"({NonResourceURLs:["/x"], Verbs:["get"]})");
}

}  // namespace
}  // namespace ck::apiserver::rbac
