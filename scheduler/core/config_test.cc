// KubeSchedulerConfiguration parsing, defaulting and errors.
#include "scheduler/core/config.h"

#include <gtest/gtest.h>

namespace ck::scheduler {
namespace {

std::vector<std::string> Names(const std::vector<PluginRef>& refs) {
  std::vector<std::string> out;
  for (const auto& r : refs) out.push_back(r.name);
  return out;
}

TEST(ConfigTest, DefaultsWhenNoProfiles) {
  auto c = ParseSchedulerConfig("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->profiles.size(), 1u);
  EXPECT_EQ(c->profiles[0].scheduler_name, "default-scheduler");
  EXPECT_EQ(Names(c->profiles[0].multi_point), Names(DefaultMultiPointPlugins()));
  EXPECT_FALSE(c->percentage_of_nodes_to_score.has_value());
  EXPECT_EQ(c->client_connection.qps, 50);
  EXPECT_TRUE(c->leader_election.leader_elect);
  EXPECT_GE(c->parallelism, 1);
}

TEST(ConfigTest, ProfilesMergeWithTheDefaults) {
  auto c = ParseSchedulerConfig(R"(
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
parallelism: 2
percentageOfNodesToScore: 30
podInitialBackoffSeconds: 2
podMaxBackoffSeconds: 20
clientConnection: {qps: 5000, burst: 5000}
leaderElection: {leaderElect: false}
profiles:
- schedulerName: default-scheduler
  plugins:
    multiPoint:
      enabled:
      - name: TaintToleration
        weight: 9
      disabled:
      - name: InterPodAffinity
    score:
      enabled:
      - {name: NodeResourcesFit, weight: 4}
  pluginConfig:
  - name: NodeResourcesFit
    args:
      apiVersion: kubescheduler.config.k8s.io/v1
      kind: NodeResourcesFitArgs
      scoringStrategy: {type: MostAllocated}
- schedulerName: spread-scheduler
  percentageOfNodesToScore: 100
)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->parallelism, 2);
  EXPECT_EQ(*c->percentage_of_nodes_to_score, 30);
  EXPECT_EQ(*c->pod_initial_backoff_seconds, 2);
  EXPECT_EQ(c->client_connection.qps, 5000);
  EXPECT_FALSE(c->leader_election.leader_elect);
  ASSERT_EQ(c->profiles.size(), 2u);
  const auto& p = c->profiles[0];
  auto names = Names(p.multi_point);
  EXPECT_EQ(std::count(names.begin(), names.end(), "InterPodAffinity"), 0);
  auto tt = std::find_if(p.multi_point.begin(), p.multi_point.end(), [](const PluginRef& r) { return r.name == "TaintToleration"; });
  ASSERT_NE(tt, p.multi_point.end());
  EXPECT_EQ(tt->weight, 9);
  EXPECT_EQ(tt - p.multi_point.begin(), 3);  // replaced in place
  EXPECT_EQ(p.points.at("score").enabled[0].weight, 4);
  EXPECT_EQ(p.plugin_args.at("NodeResourcesFit")["scoringStrategy"]["type"].as<std::string>(), "MostAllocated");
  EXPECT_FALSE(p.plugin_args.at("NodeResourcesFit")["kind"]);
  EXPECT_EQ(*c->profiles[1].percentage_of_nodes_to_score, 100);
}

TEST(ConfigTest, ErrorsNameTheField) {
  struct Case {
    std::string body;
    std::string message;
  };
  const std::string head = "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n";
  std::vector<Case> cases = {
      {"apiVersion: kubescheduler.config.k8s.io/v1beta9\nkind: KubeSchedulerConfiguration\n", "no kind \"KubeSchedulerConfiguration\" is registered for version"},
      {"apiVersion: kubescheduler.config.k8s.io/v1\nkind: Pod\n", "kind: must be KubeSchedulerConfiguration"},
      {head + "percentageOfNodesToScore: 101\n", "percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]"},
      {head + "parallelism: 0\n", "parallelism: Invalid value: 0"},
      {head + "bogus: 1\n", "bogus: unknown field \"bogus\""},
      {head + "profiles:\n- schedulerName: a\n- schedulerName: a\n", "profiles[1].schedulerName: Duplicate value: \"a\""},
      {head + "profiles:\n- plugins:\n    score:\n      enabled:\n      - {name: X, weight: 200}\n", "profiles[0].plugins.score.enabled[0].weight: must be in 1..100"},
      {head + "profiles:\n- plugins:\n    filter:\n      enabled:\n      - {name: X, weight: 2}\n", "only score and multiPoint plugins have weights"},
      {head + "profiles:\n- plugins:\n    sideways: {}\n", "profiles[0].plugins.sideways: unknown field"},
      {head + "podInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 1\n", "podMaxBackoffSeconds: must be greater than or equal"},
      {"{{{", "not valid YAML"},
  };
  for (const auto& c : cases) {
    auto r = ParseSchedulerConfig(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace ck::scheduler
