// ClusterRole aggregation: selectors, ordering by name, de-duplication, self-exclusion, errors.
#include <gtest/gtest.h>

#include "apiserver/rbac/aggregation.h"

namespace ck::apiserver::rbac {
namespace {

rbacv1::ClusterRole Role(const std::string& name, std::map<std::string, std::string> labels,
                         std::vector<PolicyRule> rules) {
  rbacv1::ClusterRole r;
  r.mutable_metadata()->set_name(name);
  for (auto& [k, v] : labels) (*r.mutable_metadata()->mutable_labels())[k] = v;
  for (auto& rule : rules) *r.add_rules() = rule;
  return r;
}

TEST(AggregationTest, MonitoringExampleFromTheDocs) {
  rbacv1::ClusterRole monitoring = Role("monitoring", {}, {});
  (*monitoring.mutable_aggregationrule()->add_clusterroleselectors()->mutable_matchlabels())
      ["rbac.example.com/aggregate-to-monitoring"] = "true";
  PolicyRule endpoints = MakeRule({"get", "list", "watch"}, {""}, {"services", "endpointslices", "pods"});
  PolicyRule metrics = MakeUrlRule({"get"}, {"/metrics"});
  rbacv1::ClusterRole b = Role("monitoring-endpoints", {{"rbac.example.com/aggregate-to-monitoring", "true"}}, {endpoints});
  rbacv1::ClusterRole a = Role("a-metrics", {{"rbac.example.com/aggregate-to-monitoring", "true"}}, {metrics, endpoints});
  rbacv1::ClusterRole unrelated = Role("unrelated", {{"rbac.example.com/aggregate-to-monitoring", "false"}},
                                       {MakeRule({"*"}, {"*"}, {"*"})});
  Result<std::vector<PolicyRule>> got = AggregatedRules(monitoring, {&b, &unrelated, &a, &monitoring});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  // By role name (a-metrics first), the duplicate endpoints rule once.
  ASSERT_EQ(got.value().size(), 2u);
  EXPECT_EQ(CompactString(got.value()[0]), CompactString(metrics));
  EXPECT_EQ(CompactString(got.value()[1]), CompactString(endpoints));
  EXPECT_FALSE(SameRules(got.value(), monitoring.rules()));
  for (auto& r : got.value()) *monitoring.add_rules() = r;
  EXPECT_TRUE(SameRules(got.value(), monitoring.rules()));
}

TEST(AggregationTest, SelectorsInOrderAndExpressions) {
  rbacv1::ClusterRole target = Role("target", {{"team", "x"}}, {MakeRule({"get"}, {""}, {"stale"})});
  auto* s1 = target.mutable_aggregationrule()->add_clusterroleselectors();
  auto* expr = s1->add_matchexpressions();
  expr->set_key("tier");
  expr->set_operator_("In");
  expr->add_values("gold");
  (*target.mutable_aggregationrule()->add_clusterroleselectors()->mutable_matchlabels())["team"] = "x";
  rbacv1::ClusterRole gold = Role("z-gold", {{"tier", "gold"}}, {MakeRule({"get"}, {""}, {"gold"})});
  rbacv1::ClusterRole team = Role("b-team", {{"team", "x"}}, {MakeRule({"get"}, {""}, {"team"})});
  Result<std::vector<PolicyRule>> got = AggregatedRules(target, {&team, &gold, &target});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got.value().size(), 2u);  // the target's own (stale) rules are replaced, itself skipped
  EXPECT_EQ(got.value()[0].resources(0), "gold");  // first selector first
  EXPECT_EQ(got.value()[1].resources(0), "team");
}

TEST(AggregationTest, NoAggregationRuleAndBadSelector) {
  rbacv1::ClusterRole plain = Role("plain", {}, {MakeRule({"get"}, {""}, {"pods"})});
  Result<std::vector<PolicyRule>> got = AggregatedRules(plain, {});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value().size(), 1u);
  rbacv1::ClusterRole bad = Role("bad", {}, {});
  auto* expr = bad.mutable_aggregationrule()->add_clusterroleselectors()->add_matchexpressions();
  expr->set_key("k");
  expr->set_operator_("Foo");
  EXPECT_EQ(AggregatedRules(bad, {&plain}).status().code(), Code::kBadRequest);
  // An empty selector list aggregates nothing.
  rbacv1::ClusterRole empty = Role("empty", {}, {MakeRule({"get"}, {""}, {"pods"})});
  empty.mutable_aggregationrule();
  ASSERT_TRUE(AggregatedRules(empty, {&plain}).ok());
  EXPECT_TRUE(AggregatedRules(empty, {&plain}).value().empty());
}

}  // namespace
}  // namespace ck::apiserver::rbac
