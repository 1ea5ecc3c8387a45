// NodeResourcesBalancedAllocation: scores worked out from upstream's formula
// (1 - std deviation of the requested fractions) * 100, PreScore's Skip for best-effort pods, and
// args decoding/defaults/validation.
#include "scheduler/plugins/noderesources/balanced_allocation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/noderesources/testing.h"

namespace ck::scheduler::plugins {
namespace {

using ::ck::api::testing::MakeNode;
using ::ck::api::testing::MakePod;
using ::ck::api::testing::PodBuilder;
using noderesources_testing::Info;
using noderesources_testing::MakeNodeInfo;
using ::testing::HasSubstr;

std::unique_ptr<NodeResourcesBalancedAllocation> MakeBalanced(NodeResourcesBalancedAllocationArgs args = {}) {
  auto plugin = NodeResourcesBalancedAllocation::Create(std::move(args));
  CK_CHECK(plugin.ok()) << plugin.status().message();
  return std::move(*plugin);
}

// Two containers: 1000m + 2000m cpu, 2000 + 3000 bytes of memory.
PodBuilder BalancedScorePod() {
  return std::move(MakePod("p").Container("c1").Cpu("1000m").Memory("2000").Container("c2").Cpu("2000m").Memory("3000"));
}

std::shared_ptr<NodeInfo> Node(std::string name, std::string cpu, std::string memory,
                               const std::vector<corev1::Pod>& pods = {}) {
  return MakeNodeInfo(MakeNode(std::move(name)).Capacity(cpu, memory), pods);
}

std::shared_ptr<NodeInfo> BalancedGpuNode() {
  return MakeNodeInfo(MakeNode("g").Capacity("4000m", "10000").Allocatable("example.com/gpu", "4"));
}

NodeResourcesBalancedAllocationArgs WithGpu() {
  return NodeResourcesBalancedAllocationArgs{{{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 1}}};
}

struct BalancedCase {
  std::string name;
  NodeResourcesBalancedAllocationArgs args;
  corev1::Pod pod;
  std::vector<std::shared_ptr<NodeInfo>> nodes;
  std::vector<int64_t> want;
};

void PrintTo(const BalancedCase& c, std::ostream* os) { *os << c.name; }

class BalancedScoreTest : public ::testing::TestWithParam<BalancedCase> {};

TEST_P(BalancedScoreTest, Scores) {
  const BalancedCase& c = GetParam();
  auto plugin = MakeBalanced(c.args);
  PodInfoPtr pod = Info(c.pod);
  std::vector<const NodeInfo*> nodes;
  for (const auto& n : c.nodes) nodes.push_back(n.get());
  CycleState state;
  Verdict pre = plugin->PreScore(state, *pod, nodes);
  ASSERT_TRUE(pre.IsSuccess()) << pre.String();
  CycleState no_prescore;
  std::vector<int64_t> got, got_without_prescore;
  for (const NodeInfo* n : nodes) {
    int64_t score = -1;
    ASSERT_TRUE(plugin->Score(state, *pod, *n, &score).IsSuccess());
    got.push_back(score);
    ASSERT_TRUE(plugin->Score(no_prescore, *pod, *n, &score).IsSuccess());
    got_without_prescore.push_back(score);
  }
  EXPECT_EQ(got, c.want);
  EXPECT_EQ(got_without_prescore, c.want);
}

INSTANTIATE_TEST_SUITE_P(
    Formula, BalancedScoreTest,
    ::testing::Values(
        // n1: cpu 3000/4000 = 0.75, memory 5000/10000 = 0.5 -> std |0.75-0.5|/2 = 0.125 -> 87;
        // n2: 0.5 and 0.5 -> 100.
        BalancedCase{"TwoResources", {}, BalancedScorePod(), {Node("n1", "4000m", "10000"), Node("n2", "6000m", "10000")},
                     {87, 100}},
        // With 1000m / 2000 already on n1: cpu 1.0, memory 0.7 -> std 0.15 -> 85.
        BalancedCase{"ExistingPodsCount",
                     {},
                     BalancedScorePod(),
                     {Node("n1", "4000m", "10000", {MakePod("a").Uid("a").Node("n1").Cpu("1000m").Memory("2000")})},
                     {85}},
        // A fraction above 1 counts as 1: cpu 1.0, memory 0.5 -> std 0.25 -> 75.
        BalancedCase{"FractionCappedAtOne", {}, BalancedScorePod(), {Node("n3", "2000m", "10000")}, {75}},
        // Plain requests, not the 200Mi "non-zero" memory: cpu 0.25, memory 0 -> std 0.125 -> 87
        // (with 200Mi the memory fraction would be 1 and the score 62).
        BalancedCase{"UsesPlainRequests", {}, MakePod("p").Cpu("1000m"), {Node("n1", "4000m", "10000")}, {87}},
        // Best-effort pods already on the node add nothing: still 87.
        BalancedCase{"BestEffortNeighboursAddNothing",
                     {},
                     BalancedScorePod(),
                     {Node("n1", "4000m", "10000", {MakePod("a").Uid("a").Node("n1").Container("c")})},
                     {87}},
        // Three resources: 0.75, 0.5, 0.25 -> mean 0.5, std sqrt(0.125/3) = 0.2041 -> 79.
        BalancedCase{"ThreeResources", WithGpu(), BalancedScorePod().Request("example.com/gpu", "1"), {BalancedGpuNode()}, {79}},
        // A gpu the pod does not request takes no part: back to cpu and memory -> 87.
        BalancedCase{"UnrequestedExtendedResourceSkipped", WithGpu(), BalancedScorePod(), {BalancedGpuNode()}, {87}},
        // A node without the requested gpu: cpu and memory only -> 87.
        BalancedCase{"ExtendedResourceNotOnNode", WithGpu(), BalancedScorePod().Request("example.com/gpu", "1"),
                     {Node("n1", "4000m", "10000")}, {87}},
        // Only one resource on the node: no deviation -> 100.
        BalancedCase{"SingleResource",
                     NodeResourcesBalancedAllocationArgs{{{"cpu", 1}}},
                     BalancedScorePod(),
                     {Node("n1", "4000m", "10000")},
                     {100}}),
    [](const ::testing::TestParamInfo<BalancedCase>& info) { return info.param.name; });

TEST(BalancedPreScore, SkipsBestEffortPods) {
  auto plugin = MakeBalanced();
  auto node = Node("n1", "4000m", "10000");
  // Requests only a resource that is not scored: best effort as far as this plugin goes.
  for (const corev1::Pod& pod :
       {corev1::Pod(MakePod("p").Container("c")), corev1::Pod(MakePod("q").Request("example.com/gpu", "1"))}) {
    PodInfoPtr info = Info(pod);
    CycleState state;
    EXPECT_TRUE(plugin->PreScore(state, *info, {node.get()}).IsSkip());
    // Score without a PreScore state gives such a pod 0.
    int64_t score = -1;
    ASSERT_TRUE(plugin->Score(state, *info, *node, &score).IsSuccess());
    EXPECT_EQ(score, 0);
  }
}

TEST(BalancedPreScore, StateSurvivesClone) {
  auto plugin = MakeBalanced();
  auto node = Node("n1", "4000m", "10000");
  PodInfoPtr pod = Info(BalancedScorePod());
  CycleState state;
  ASSERT_TRUE(plugin->PreScore(state, *pod, {node.get()}).IsSuccess());
  auto clone = state.Clone();
  int64_t score = -1;
  ASSERT_TRUE(plugin->Score(*clone, *pod, *node, &score).IsSuccess());
  EXPECT_EQ(score, 87);
}

struct BalancedArgsCase {
  std::string name;
  std::string yaml;
  std::string want_error;
};

void PrintTo(const BalancedArgsCase& c, std::ostream* os) { *os << c.name; }

class BalancedArgsTest : public ::testing::TestWithParam<BalancedArgsCase> {};

TEST_P(BalancedArgsTest, Decode) {
  const BalancedArgsCase& c = GetParam();
  auto args = DecodeNodeResourcesBalancedAllocationArgs(YAML::Load(c.yaml));
  if (c.want_error.empty()) {
    EXPECT_TRUE(args.ok()) << args.status().message();
    return;
  }
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().code(), Code::kInvalid);
  EXPECT_EQ(args.status().message(), c.want_error);
}

INSTANTIATE_TEST_SUITE_P(
    Validation, BalancedArgsTest,
    ::testing::Values(
        BalancedArgsCase{"Empty", "{}", ""},
        BalancedArgsCase{"Valid", "resources: [{name: cpu, weight: 1}, {name: example.com/gpu, weight: 1}]", ""},
        BalancedArgsCase{"Duplicate", "resources: [{name: cpu, weight: 1}, {name: cpu, weight: 1}]",
                         "NodeResourcesBalancedAllocationArgs: resources[1].name: Duplicate value: \"cpu\""},
        BalancedArgsCase{"WeightNotOne", "resources: [{name: cpu, weight: 2}]",
                         "NodeResourcesBalancedAllocationArgs: resources[0].weight: Invalid value: 2: must be 1"},
        BalancedArgsCase{"TwoErrors", "resources: [{name: cpu, weight: 1}, {name: cpu, weight: 3}]",
                         "NodeResourcesBalancedAllocationArgs: [resources[1].name: Duplicate value: \"cpu\", "
                         "resources[1].weight: Invalid value: 3: must be 1]"},
        BalancedArgsCase{"ResourcesNotAList", "resources: cpu",
                         "NodeResourcesBalancedAllocationArgs: resources: Invalid value: \"cpu\": must be a list"},
        BalancedArgsCase{"UnknownField", "{resources: [], scoringStrategy: {}}",
                         "NodeResourcesBalancedAllocationArgs: unknown field \"scoringStrategy\""}),
    [](const ::testing::TestParamInfo<BalancedArgsCase>& info) { return info.param.name; });

TEST(BalancedArgs, Defaults) {
  for (const YAML::Node& node : {YAML::Node(), YAML::Load("{}"), YAML::Load("resources: []")}) {
    auto args = DecodeNodeResourcesBalancedAllocationArgs(node);
    ASSERT_TRUE(args.ok()) << args.status().message();
    EXPECT_EQ(args->resources, (std::vector<ResourceSpec>{{"cpu", 1}, {"memory", 1}}));
  }
  auto no_weight = DecodeNodeResourcesBalancedAllocationArgs(YAML::Load("resources: [{name: cpu}, {name: memory}]"));
  ASSERT_TRUE(no_weight.ok()) << no_weight.status().message();
  EXPECT_EQ(no_weight->resources, (std::vector<ResourceSpec>{{"cpu", 1}, {"memory", 1}}));
}

TEST(BalancedFactory, BuildsFromYamlArgs) {
  noderesources_testing::StubHandle handle;
  auto plugin = NewNodeResourcesBalancedAllocation(YAML::Node(), handle);
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  EXPECT_EQ((*plugin)->Name(), "NodeResourcesBalancedAllocation");
  EXPECT_NE(dynamic_cast<ScorePlugin*>(plugin->get()), nullptr);
  EXPECT_NE(dynamic_cast<PreScorePlugin*>(plugin->get()), nullptr);
  EXPECT_EQ(dynamic_cast<FilterPlugin*>(plugin->get()), nullptr);

  auto bad = NewNodeResourcesBalancedAllocation(YAML::Load("resources: [{name: cpu, weight: 7}]"), handle);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("resources[0].weight"));
}

}  // namespace
}  // namespace ck::scheduler::plugins
