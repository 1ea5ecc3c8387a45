// NodeResourcesFit: Filter verdicts and reasons per resource, the three scoring strategies with
// expected scores worked out from upstream's formulas, args decoding/defaults/validation, events,
// and "Filter and Score allocate nothing when the pod fits".
#include "scheduler/plugins/noderesources/fit.h"

#include <atomic>
#include <cstdlib>
#include <new>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/noderesources/testing.h"

// Counts heap allocations made by this thread, so a test can assert that a call allocates nothing.
namespace {
thread_local int64_t allocations = 0;
}  // namespace

// malloc/free pair correctly here; GCC cannot see that once these are inlined.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(size_t n) {
  ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace ck::scheduler::plugins {
namespace {

using ::ck::api::testing::MakeNode;
using ::ck::api::testing::MakePod;
using ::ck::api::testing::NodeBuilder;
using ::ck::api::testing::PodBuilder;
using noderesources_testing::Info;
using noderesources_testing::MakeNodeInfo;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 10 cpu, 20 bytes of memory, 32 pods, 20 of ephemeral-storage, 5 example.com/aaa, 5 hugepages-2Mi.
NodeBuilder FilterNode(std::string pods = "32") {
  return std::move(MakeNode("node-1")
                       .Capacity("10", "20", pods)
                       .Allocatable("ephemeral-storage", "20")
                       .Allocatable("example.com/aaa", "5")
                       .Allocatable("hugepages-2Mi", "5"));
}

// An already placed pod using the given amounts (its name keeps uids apart).
corev1::Pod Using(std::string name, std::string cpu, std::string memory) {
  return MakePod(name).Uid(name).Node("node-1").Cpu(cpu).Memory(memory);
}

std::unique_ptr<NodeResourcesFit> MakeFit(NodeResourcesFitArgs args = {}) {
  auto fit = NodeResourcesFit::Create(std::move(args));
  CK_CHECK(fit.ok()) << fit.status().message();
  return std::move(*fit);
}

Verdict RunFilter(NodeResourcesFit& fit, const corev1::Pod& pod, const NodeInfo& node) {
  PodInfoPtr info = Info(pod);
  CycleState state;
  Verdict pre = fit.PreFilter(state, *info, Snapshot(), nullptr);
  EXPECT_TRUE(pre.IsSuccess()) << pre.String();
  return fit.Filter(state, *info, node);
}

struct FilterCase {
  std::string name;
  corev1::Pod pod;
  std::vector<corev1::Pod> existing;
  NodeResourcesFitArgs args;
  VerdictCode want_code;
  std::vector<std::string> want_reasons;
  std::string node_pods = "32";
};

void PrintTo(const FilterCase& c, std::ostream* os) { *os << c.name; }

class FilterTest : public ::testing::TestWithParam<FilterCase> {};

TEST_P(FilterTest, Verdict) {
  const FilterCase& c = GetParam();
  auto fit = MakeFit(c.args);
  auto node = MakeNodeInfo(FilterNode(c.node_pods), c.existing);
  Verdict v = RunFilter(*fit, c.pod, *node);
  EXPECT_EQ(v.code(), c.want_code) << v.String();
  EXPECT_EQ(v.reasons(), c.want_reasons);
}

NodeResourcesFitArgs Ignoring(std::vector<std::string> resources, std::vector<std::string> groups = {}) {
  NodeResourcesFitArgs args;
  args.ignored_resources = std::move(resources);
  args.ignored_resource_groups = std::move(groups);
  return args;
}

constexpr VerdictCode kOk = VerdictCode::kSuccess;
constexpr VerdictCode kNo = VerdictCode::kUnschedulable;
constexpr VerdictCode kNever = VerdictCode::kUnschedulableAndUnresolvable;

INSTANTIATE_TEST_SUITE_P(
    Resources, FilterTest,
    ::testing::Values(
        FilterCase{"NoRequestsAlwaysFit", MakePod("p"), {Using("a", "10", "20")}, {}, kOk, {}},
        FilterCase{"CpuAndMemoryBothShort", MakePod("p").Cpu("1").Memory("1"), {Using("a", "10", "20")}, {}, kNo,
                   {"Insufficient cpu", "Insufficient memory"}},
        FilterCase{"CpuFitsExactly", MakePod("p").Cpu("5"), {Using("a", "5", "1")}, {}, kOk, {}},
        FilterCase{"CpuShort", MakePod("p").Cpu("6"), {Using("a", "5", "1")}, {}, kNo, {"Insufficient cpu"}},
        // A request equal to the whole node could fit once pods are gone: preemption may help.
        FilterCase{"CpuAsLargeAsNodeButUsed", MakePod("p").Cpu("10"), {Using("a", "1", "1")}, {}, kNo,
                   {"Insufficient cpu"}},
        FilterCase{"CpuLargerThanNode", MakePod("p").Cpu("11"), {}, {}, kNever, {"Insufficient cpu"}},
        FilterCase{"CpuOnOvercommittedNode", MakePod("p").Cpu("1"), {Using("a", "12", "1")}, {}, kNo,
                   {"Insufficient cpu"}},
        FilterCase{"MemoryShort", MakePod("p").Memory("2"), {Using("a", "1", "19")}, {}, kNo, {"Insufficient memory"}},
        FilterCase{"MemoryAsLargeAsNodeButUsed", MakePod("p").Memory("20"), {Using("a", "1", "1")}, {}, kNo,
                   {"Insufficient memory"}},
        FilterCase{"MemoryLargerThanNode", MakePod("p").Memory("21"), {}, {}, kNever, {"Insufficient memory"}},
        FilterCase{"EphemeralStorageShort",
                   MakePod("p").Request("ephemeral-storage", "10"),
                   {MakePod("a").Uid("a").Node("node-1").Request("ephemeral-storage", "15")},
                   {},
                   kNo,
                   {"Insufficient ephemeral-storage"}},
        FilterCase{"EphemeralStorageLargerThanNode", MakePod("p").Request("ephemeral-storage", "25"), {}, {}, kNever,
                   {"Insufficient ephemeral-storage"}},
        // Init containers run one at a time: the pod needs max(sum(containers), largest init).
        FilterCase{"InitContainerLargerThanContainers",
                   MakePod("p").Container("c").Cpu("1").InitContainer("i1").Cpu("1").InitContainer("i2").Cpu("3"),
                   {Using("a", "8", "1")},
                   {},
                   kNo,
                   {"Insufficient cpu"}},
        FilterCase{"InitContainerSmallerThanContainers",
                   MakePod("p").Container("c1").Cpu("1").Container("c2").Cpu("1").InitContainer("i").Cpu("2"),
                   {Using("a", "8", "1")},
                   {},
                   kOk,
                   {}},
        // A sidecar keeps running beside the containers.
        FilterCase{"SidecarAddsToContainers", MakePod("p").Container("c").Cpu("1").Sidecar("s").Cpu("2"),
                   {Using("a", "8", "1")}, {}, kNo, {"Insufficient cpu"}},
        FilterCase{"OverheadCounts", MakePod("p").Cpu("1").Overhead("cpu", "1500m"), {Using("a", "8", "1")}, {}, kNo,
                   {"Insufficient cpu"}},
        FilterCase{"OverheadThatFits", MakePod("p").Cpu("1").Overhead("cpu", "1"), {Using("a", "8", "1")}, {}, kOk,
                   {}},
        FilterCase{"ExtendedResourceFits",
                   MakePod("p").Request("example.com/aaa", "3"),
                   {MakePod("a").Uid("a").Node("node-1").Request("example.com/aaa", "2")},
                   {},
                   kOk,
                   {}},
        FilterCase{"ExtendedResourceShort",
                   MakePod("p").Request("example.com/aaa", "4"),
                   {MakePod("a").Uid("a").Node("node-1").Request("example.com/aaa", "2")},
                   {},
                   kNo,
                   {"Insufficient example.com/aaa"}},
        FilterCase{"ExtendedResourceNotOnNode", MakePod("p").Request("example.com/gpu", "1"), {}, {}, kNever,
                   {"Insufficient example.com/gpu"}},
        FilterCase{"ZeroExtendedRequestNotChecked", MakePod("p").Request("example.com/gpu", "0"), {}, {}, kOk, {}},
        FilterCase{"IgnoredResource", MakePod("p").Request("example.com/gpu", "1"), {}, Ignoring({"example.com/gpu"}),
                   kOk, {}},
        FilterCase{"IgnoredResourceGroup", MakePod("p").Request("example.com/gpu", "1"), {},
                   Ignoring({}, {"example.com"}), kOk, {}},
        FilterCase{"IgnoredGroupIsAnExactPrefix", MakePod("p").Request("other.example.com/gpu", "1"), {},
                   Ignoring({}, {"example.com"}), kNever, {"Insufficient other.example.com/gpu"}},
        FilterCase{"IgnoredResourceStillChecksTheRest",
                   MakePod("p").Cpu("11").Request("example.com/gpu", "1"),
                   {},
                   Ignoring({"example.com/gpu"}),
                   kNever,
                   {"Insufficient cpu"}},
        // Only extended resources can be ignored.
        FilterCase{"HugePagesCannotBeIgnored", MakePod("p").Request("hugepages-2Mi", "6"), {},
                   Ignoring({"hugepages-2Mi"}), kNever, {"Insufficient hugepages-2Mi"}},
        FilterCase{"TooManyPods", MakePod("p"), {Using("a", "1", "1")}, {}, kNo, {"Too many pods"}, "1"},
        FilterCase{"TooManyPodsAndCpuLargerThanNode", MakePod("p").Cpu("11"), {Using("a", "1", "1")}, {}, kNever,
                   {"Too many pods", "Insufficient cpu"}, "1"},
        FilterCase{"EveryReasonInOrder",
                   MakePod("p")
                       .Cpu("6")
                       .Memory("2")
                       .Request("ephemeral-storage", "10")
                       .Request("example.com/aaa", "4")
                       .Request("example.com/bbb", "1"),
                   {MakePod("a")
                        .Uid("a")
                        .Node("node-1")
                        .Cpu("5")
                        .Memory("19")
                        .Request("ephemeral-storage", "15")
                        .Request("example.com/aaa", "2")},
                   {},
                   kNever,
                   {"Insufficient cpu", "Insufficient memory", "Insufficient ephemeral-storage",
                    "Insufficient example.com/aaa", "Insufficient example.com/bbb"}}),
    [](const ::testing::TestParamInfo<FilterCase>& info) { return info.param.name; });

TEST(FitFilter, WithoutPreFilterIsAnError) {
  auto fit = MakeFit();
  auto node = MakeNodeInfo(FilterNode());
  PodInfoPtr pod = Info(MakePod("p").Cpu("1"));
  CycleState state;
  Verdict v = fit->Filter(state, *pod, *node);
  EXPECT_TRUE(v.IsError());
  EXPECT_THAT(v.Message(), HasSubstr("PreFilterNodeResourcesFit"));
}

TEST(FitFilter, FitsReportsAmounts) {
  auto node = MakeNodeInfo(FilterNode("2"), {Using("a", "5", "1"), Using("b", "1", "1")});
  auto got = Fits(*Info(MakePod("p").Cpu("6").Request("example.com/gpu", "2")), *node);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].resource_name, "pods");
  EXPECT_EQ(got[0].reason, "Too many pods");
  EXPECT_EQ(got[0].used, 2);
  EXPECT_EQ(got[0].capacity, 2);
  EXPECT_FALSE(got[0].unresolvable);
  EXPECT_EQ(got[1].resource_name, "cpu");
  EXPECT_EQ(got[1].requested, 6000);
  EXPECT_EQ(got[1].used, 6000);
  EXPECT_EQ(got[1].capacity, 10000);
  EXPECT_FALSE(got[1].unresolvable);
  EXPECT_EQ(got[2].resource_name, "example.com/gpu");
  EXPECT_EQ(got[2].reason, "Insufficient example.com/gpu");
  EXPECT_EQ(got[2].capacity, 0);
  EXPECT_TRUE(got[2].unresolvable);
  EXPECT_TRUE(Fits(*Info(MakePod("q").Cpu("1")), *MakeNodeInfo(FilterNode())).empty());
}

// The state must survive preemption's CycleState::Clone.
TEST(FitFilter, ClonedStateStillFilters) {
  auto fit = MakeFit();
  auto node = MakeNodeInfo(FilterNode(), {Using("a", "5", "1")});
  PodInfoPtr pod = Info(MakePod("p").Cpu("6"));
  CycleState state;
  ASSERT_TRUE(fit->PreFilter(state, *pod, Snapshot(), nullptr).IsSuccess());
  auto clone = state.Clone();
  EXPECT_THAT(fit->Filter(*clone, *pod, *node).reasons(), ElementsAre("Insufficient cpu"));
}

// ---- scoring ----

NodeBuilder ScoreNode(std::string name, std::string cpu, std::string memory) {
  return std::move(MakeNode(std::move(name)).Capacity(cpu, memory));
}

// Two containers: 1000m + 2000m cpu, 2000 + 3000 bytes of memory.
PodBuilder ScorePod() {
  return std::move(MakePod("p").Container("c1").Cpu("1000m").Memory("2000").Container("c2").Cpu("2000m").Memory("3000"));
}

NodeResourcesFitArgs Strategy(std::string_view type, std::vector<ResourceSpec> resources = {},
                              std::vector<UtilizationShapePoint> shape = {}) {
  NodeResourcesFitArgs args;
  ScoringStrategy s;
  s.type = std::string(type);
  s.resources = std::move(resources);
  if (!shape.empty()) s.requested_to_capacity_ratio = RequestedToCapacityRatioParam{std::move(shape)};
  args.scoring_strategy = std::move(s);
  return args;
}

struct ScoreCase {
  std::string name;
  NodeResourcesFitArgs args;
  corev1::Pod pod;
  std::vector<std::shared_ptr<NodeInfo>> nodes;
  std::vector<int64_t> want;
};

void PrintTo(const ScoreCase& c, std::ostream* os) { *os << c.name; }

class FitScoreTest : public ::testing::TestWithParam<ScoreCase> {};

TEST_P(FitScoreTest, Scores) {
  const ScoreCase& c = GetParam();
  auto fit = MakeFit(c.args);
  PodInfoPtr pod = Info(c.pod);
  std::vector<const NodeInfo*> nodes;
  for (const auto& n : c.nodes) nodes.push_back(n.get());
  CycleState state;
  ASSERT_TRUE(fit->PreScore(state, *pod, nodes).IsSuccess());
  CycleState no_prescore;
  std::vector<int64_t> got, got_without_prescore;
  for (const NodeInfo* n : nodes) {
    int64_t score = -1;
    ASSERT_TRUE(fit->Score(state, *pod, *n, &score).IsSuccess());
    got.push_back(score);
    ASSERT_TRUE(fit->Score(no_prescore, *pod, *n, &score).IsSuccess());
    got_without_prescore.push_back(score);
  }
  EXPECT_EQ(got, c.want);
  EXPECT_EQ(got_without_prescore, c.want);
}

// n1: 4000m / 10000, n2: 6000m / 10000; the pod asks 3000m / 5000.
std::vector<std::shared_ptr<NodeInfo>> TwoNodes() {
  return {MakeNodeInfo(ScoreNode("n1", "4000m", "10000")), MakeNodeInfo(ScoreNode("n2", "6000m", "10000"))};
}

std::shared_ptr<NodeInfo> GpuNode() {
  return MakeNodeInfo(MakeNode("g").Capacity("4000m", "10000").Allocatable("example.com/gpu", "4"),
                      {MakePod("a").Uid("a").Node("g").Cpu("1000m").Memory("2000").Request("example.com/gpu", "1")});
}

INSTANTIATE_TEST_SUITE_P(
    Strategies, FitScoreTest,
    ::testing::Values(
        // cpu (4000-3000)*100/4000 = 25, memory (10000-5000)*100/10000 = 50 -> (25+50)/2 = 37;
        // n2: 50 and 50 -> 50.
        ScoreCase{"LeastAllocatedDefault", {}, ScorePod(), TwoNodes(), {37, 50}},
        // (25*2 + 50*1) / 3 = 33; n2 (50*2 + 50) / 3 = 50.
        ScoreCase{"LeastAllocatedWeighted", Strategy(kLeastAllocated, {{"cpu", 2}, {"memory", 1}}), ScorePod(),
                  TwoNodes(), {33, 50}},
        // An existing 1000m / 2000 pod on n1: cpu 0, memory 30 -> 15.
        ScoreCase{"LeastAllocatedCountsExistingPods",
                  {},
                  ScorePod(),
                  {MakeNodeInfo(ScoreNode("n1", "4000m", "10000"),
                                {MakePod("a").Uid("a").Node("n1").Cpu("1000m").Memory("2000")}),
                   MakeNodeInfo(ScoreNode("n2", "6000m", "10000"))},
                  {15, 50}},
        // Requests above capacity score 0 for that resource: cpu 0, memory 50 -> 25.
        ScoreCase{"LeastAllocatedOverCapacity", {}, ScorePod(), {MakeNodeInfo(ScoreNode("n3", "2000m", "10000"))}, {25}},
        // A pod without requests counts 100m / 200Mi: cpu (1000-100)*100/1000 = 90, memory
        // (1Gi-200Mi)*100/1Gi = 80 -> 85; with one such pod already there: 80 and 60 -> 70.
        ScoreCase{"LeastAllocatedNonZeroRequests",
                  {},
                  MakePod("p").Container("c"),
                  {MakeNodeInfo(ScoreNode("n1", "1000m", "1Gi")),
                   MakeNodeInfo(ScoreNode("n2", "1000m", "1Gi"), {MakePod("a").Uid("a").Node("n2").Container("c")})},
                  {85, 70}},
        // cpu 3000*100/4000 = 75, memory 50 -> 62; n2: 50.
        ScoreCase{"MostAllocated", Strategy(kMostAllocated), ScorePod(), TwoNodes(), {62, 50}},
        // (75*1 + 50*3) / 4 = 56.
        ScoreCase{"MostAllocatedWeighted", Strategy(kMostAllocated, {{"cpu", 1}, {"memory", 3}}), ScorePod(),
                  TwoNodes(), {56, 50}},
        // Requests above capacity count as full: cpu 100, memory 50 -> 75.
        ScoreCase{"MostAllocatedOverCapacity", Strategy(kMostAllocated), ScorePod(),
                  {MakeNodeInfo(ScoreNode("n3", "2000m", "10000"))}, {75}},
        // Shape (0,0)-(100,10), scores x10: cpu 75, memory 50 -> round(62.5) = 63.
        ScoreCase{"RequestedToCapacityRatioBinPacking",
                  Strategy(kRequestedToCapacityRatio, {}, {{0, 0}, {100, 10}}),
                  ScorePod(),
                  TwoNodes(),
                  {63, 50}},
        // Shape (0,10)-(100,0): cpu 25, memory 50 -> round(37.5) = 38.
        ScoreCase{"RequestedToCapacityRatioSpreading",
                  Strategy(kRequestedToCapacityRatio, {}, {{0, 10}, {100, 0}}),
                  ScorePod(),
                  TwoNodes(),
                  {38, 50}},
        // Shape (0,0)-(50,8)-(100,10): cpu at 75% -> 80 + 20*25/50 = 90, memory at 50% -> 80
        // -> 85; n2: 80 and 80.
        ScoreCase{"RequestedToCapacityRatioBrokenLinear",
                  Strategy(kRequestedToCapacityRatio, {}, {{0, 0}, {50, 8}, {100, 10}}),
                  ScorePod(),
                  TwoNodes(),
                  {85, 80}},
        // Weighted (cpu 3, memory 1): (75*3 + 50) / 4 = 68.75 -> 69.
        ScoreCase{"RequestedToCapacityRatioWeighted",
                  Strategy(kRequestedToCapacityRatio, {{"cpu", 3}, {"memory", 1}}, {{0, 0}, {100, 10}}),
                  ScorePod(),
                  TwoNodes(),
                  {69, 50}},
        // Over capacity uses the shape's value at 100%: cpu 100, memory 50 -> 75.
        ScoreCase{"RequestedToCapacityRatioOverCapacity",
                  Strategy(kRequestedToCapacityRatio, {}, {{0, 0}, {100, 10}}),
                  ScorePod(),
                  {MakeNodeInfo(ScoreNode("n3", "2000m", "10000"))},
                  {75}},
        // cpu at 50m/100 cores is 0% -> score 0, left out of the weights: memory 50 alone -> 50.
        ScoreCase{"RequestedToCapacityRatioSkipsZeroScores",
                  Strategy(kRequestedToCapacityRatio, {}, {{0, 0}, {100, 10}}),
                  MakePod("p").Cpu("50m").Memory("5000"),
                  {MakeNodeInfo(ScoreNode("n4", "100", "10000"))},
                  {50}},
        // gpu weight 2: cpu (4000-2000)*100/4000 = 50, memory (10000-3000)*100/10000 = 70, gpu
        // (4-2)*100/4 = 50 -> (50 + 70 + 2*50) / 4 = 55.
        ScoreCase{"ExtendedResourceScored",
                  Strategy(kLeastAllocated, {{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 2}}),
                  MakePod("p").Cpu("1000m").Memory("1000").Request("example.com/gpu", "1"),
                  {GpuNode()},
                  {55}},
        // A pod that does not ask for the gpu is scored on cpu and memory only: (50+70)/2 = 60.
        ScoreCase{"ExtendedResourceNotRequested",
                  Strategy(kLeastAllocated, {{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 2}}),
                  MakePod("p").Cpu("1000m").Memory("1000"),
                  {GpuNode()},
                  {60}},
        // A node without the gpu is scored on cpu and memory only: cpu 75, memory 90 -> 82.
        ScoreCase{"ExtendedResourceNotOnNode",
                  Strategy(kLeastAllocated, {{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 2}}),
                  MakePod("p").Cpu("1000m").Memory("1000").Request("example.com/gpu", "1"),
                  {MakeNodeInfo(ScoreNode("n1", "4000m", "10000"))},
                  {82}},
        // ephemeral-storage is not scalar: it is scored even when the pod does not request it.
        // 20 of 100 used, +30 -> 50; +0 -> 80.
        ScoreCase{"EphemeralStorage",
                  Strategy(kLeastAllocated, {{"ephemeral-storage", 1}}),
                  MakePod("p").Request("ephemeral-storage", "30"),
                  {MakeNodeInfo(ScoreNode("e", "4", "10000").Allocatable("ephemeral-storage", "100"),
                                {MakePod("a").Uid("a").Node("e").Request("ephemeral-storage", "20")})},
                  {50}},
        ScoreCase{"EphemeralStorageNotRequested",
                  Strategy(kLeastAllocated, {{"ephemeral-storage", 1}}),
                  MakePod("p"),
                  {MakeNodeInfo(ScoreNode("e", "4", "10000").Allocatable("ephemeral-storage", "100"),
                                {MakePod("a").Uid("a").Node("e").Request("ephemeral-storage", "20")})},
                  {80}},
        // A node with none of the resources scores 0.
        ScoreCase{"NodeWithoutResources", {}, ScorePod(), {MakeNodeInfo(MakeNode("empty"))}, {0}}),
    [](const ::testing::TestParamInfo<ScoreCase>& info) { return info.param.name; });

// ---- args ----

struct ArgsCase {
  std::string name;
  std::string yaml;
  std::string want_error;  // "" for success
};

void PrintTo(const ArgsCase& c, std::ostream* os) { *os << c.name; }

class FitArgsTest : public ::testing::TestWithParam<ArgsCase> {};

TEST_P(FitArgsTest, Decode) {
  const ArgsCase& c = GetParam();
  auto args = DecodeNodeResourcesFitArgs(YAML::Load(c.yaml));
  if (c.want_error.empty()) {
    EXPECT_TRUE(args.ok()) << args.status().message();
    return;
  }
  ASSERT_FALSE(args.ok());
  EXPECT_EQ(args.status().code(), Code::kInvalid);
  EXPECT_EQ(args.status().message(), c.want_error);
}

INSTANTIATE_TEST_SUITE_P(
    Validation, FitArgsTest,
    ::testing::Values(
        ArgsCase{"Empty", "{}", ""},
        ArgsCase{"KindAndApiVersion", "{apiVersion: kubescheduler.config.k8s.io/v1, kind: NodeResourcesFitArgs}", ""},
        ArgsCase{"AllFields",
                 "ignoredResources: [example.com/foo]\nignoredResourceGroups: [example.org]\n"
                 "scoringStrategy: {type: RequestedToCapacityRatio, resources: [{name: cpu, weight: 100}], "
                 "requestedToCapacityRatio: {shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]}}",
                 ""},
        ArgsCase{"UnknownType", "scoringStrategy: {type: Foo}",
                 "NodeResourcesFitArgs: scoringStrategy.type: Unsupported value: \"Foo\": supported values: "
                 "\"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""},
        ArgsCase{"MissingType", "scoringStrategy: {resources: [{name: cpu, weight: 1}]}",
                 "NodeResourcesFitArgs: scoringStrategy.type: Unsupported value: \"\": supported values: "
                 "\"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\""},
        ArgsCase{"WeightAbove100", "scoringStrategy: {type: MostAllocated, resources: [{name: cpu, weight: 101}]}",
                 "NodeResourcesFitArgs: scoringStrategy.resources[0].weight: Invalid value: 101: resource weight of "
                 "cpu not in valid range (0, 100]"},
        ArgsCase{"NegativeWeights",
                 "scoringStrategy: {type: LeastAllocated, resources: [{name: cpu, weight: -1}, {name: memory, "
                 "weight: -2}]}",
                 "NodeResourcesFitArgs: [scoringStrategy.resources[0].weight: Invalid value: -1: resource weight of "
                 "cpu not in valid range (0, 100], scoringStrategy.resources[1].weight: Invalid value: -2: resource "
                 "weight of memory not in valid range (0, 100]]"},
        ArgsCase{"WeightNotANumber", "scoringStrategy: {type: LeastAllocated, resources: [{name: cpu, weight: abc}]}",
                 "NodeResourcesFitArgs: scoringStrategy.resources[0].weight: Invalid value: \"abc\": must be an "
                 "integer"},
        ArgsCase{"ShapeNotIncreasing",
                 "scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: "
                 "[{utilization: 50, score: 0}, {utilization: 50, score: 10}]}}",
                 "NodeResourcesFitArgs: scoringStrategy.shape[1].utilization: Invalid value: 50: utilization values "
                 "must be sorted in increasing order"},
        ArgsCase{"UtilizationAbove100",
                 "scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: "
                 "[{utilization: 0, score: 0}, {utilization: 101, score: 10}]}}",
                 "NodeResourcesFitArgs: scoringStrategy.shape[1].utilization: Invalid value: 101: not in valid range "
                 "[0, 100]"},
        ArgsCase{"ScoreAbove10",
                 "scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: "
                 "[{utilization: 0, score: 11}]}}",
                 "NodeResourcesFitArgs: scoringStrategy.shape[0].score: Invalid value: 11: not in valid range [0, 10]"},
        ArgsCase{"NegativeUtilization",
                 "scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: "
                 "[{utilization: -1, score: 1}]}}",
                 "NodeResourcesFitArgs: scoringStrategy.shape[0].utilization: Invalid value: -1: not in valid range "
                 "[0, 100]"},
        ArgsCase{"EmptyShape",
                 "scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: {shape: []}}",
                 "NodeResourcesFitArgs: scoringStrategy.shape: Required value: at least one point must be specified"},
        ArgsCase{"RatioWithoutShape", "scoringStrategy: {type: RequestedToCapacityRatio}",
                 "NodeResourcesFitArgs: scoringStrategy.shape: Required value: at least one point must be specified"},
        ArgsCase{"IgnoredResourceTwoSlashes", "ignoredResources: [foo/bar/baz]",
                 "NodeResourcesFitArgs: ignoredResources[0]: Invalid value: \"foo/bar/baz\": a qualified name must "
                 "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                 "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                 "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. "
                 "'example.com/MyName')"},
        ArgsCase{"IgnoredResourceBadPrefix", "ignoredResources: [Example.com/gpu]",
                 "NodeResourcesFitArgs: ignoredResources[0]: Invalid value: \"Example.com/gpu\": prefix part a "
                 "lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                 "must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation "
                 "is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"},
        ArgsCase{"IgnoredGroupWithSlash", "ignoredResourceGroups: [example.com/aa]",
                 "NodeResourcesFitArgs: ignoredResourceGroups[0]: Invalid value: \"example.com/aa\": resource group "
                 "name can't contain '/'"},
        ArgsCase{"UnknownField", "{foo: 1}", "NodeResourcesFitArgs: unknown field \"foo\""},
        ArgsCase{"UnknownNestedField", "scoringStrategy: {type: MostAllocated, shape: []}",
                 "NodeResourcesFitArgs: unknown field \"scoringStrategy.shape\""},
        ArgsCase{"NotAMap", "hello", "NodeResourcesFitArgs: args: Invalid value: \"hello\": must be a map"}),
    [](const ::testing::TestParamInfo<ArgsCase>& info) { return info.param.name; });

TEST(FitArgs, DefaultsWhenAbsent) {
  for (const YAML::Node& node : {YAML::Node(), YAML::Load("{}")}) {
    auto args = DecodeNodeResourcesFitArgs(node);
    ASSERT_TRUE(args.ok()) << args.status().message();
    ASSERT_TRUE(args->scoring_strategy.has_value());
    EXPECT_EQ(args->scoring_strategy->type, "LeastAllocated");
    EXPECT_EQ(args->scoring_strategy->resources, (std::vector<ResourceSpec>{{"cpu", 1}, {"memory", 1}}));
    EXPECT_TRUE(args->ignored_resources.empty());
  }
}

TEST(FitArgs, MissingWeightsAndResourcesDefault) {
  auto args = DecodeNodeResourcesFitArgs(
      YAML::Load("scoringStrategy: {type: MostAllocated, resources: [{name: cpu}, {name: memory, weight: 5}]}"));
  ASSERT_TRUE(args.ok()) << args.status().message();
  EXPECT_EQ(args->scoring_strategy->type, "MostAllocated");
  EXPECT_EQ(args->scoring_strategy->resources, (std::vector<ResourceSpec>{{"cpu", 1}, {"memory", 5}}));

  auto no_resources = DecodeNodeResourcesFitArgs(YAML::Load("scoringStrategy: {type: MostAllocated}"));
  ASSERT_TRUE(no_resources.ok()) << no_resources.status().message();
  EXPECT_EQ(no_resources->scoring_strategy->resources, (std::vector<ResourceSpec>{{"cpu", 1}, {"memory", 1}}));
}

TEST(FitArgs, DecodedShapeAndIgnoredLists) {
  auto args = DecodeNodeResourcesFitArgs(
      YAML::Load("ignoredResources: [example.com/a, example.com/b]\nignoredResourceGroups: [example.org]\n"
                 "scoringStrategy: {type: RequestedToCapacityRatio, requestedToCapacityRatio: "
                 "{shape: [{utilization: 10, score: 2}, {utilization: 90, score: 9}]}}"));
  ASSERT_TRUE(args.ok()) << args.status().message();
  EXPECT_THAT(args->ignored_resources, ElementsAre("example.com/a", "example.com/b"));
  EXPECT_THAT(args->ignored_resource_groups, ElementsAre("example.org"));
  ASSERT_TRUE(args->scoring_strategy->requested_to_capacity_ratio.has_value());
  EXPECT_EQ(args->scoring_strategy->requested_to_capacity_ratio->shape,
            (std::vector<UtilizationShapePoint>{{10, 2}, {90, 9}}));
}

TEST(FitArgs, CreateValidatesStructArgs) {
  auto bad = NodeResourcesFit::Create(Strategy(kMostAllocated, {{"cpu", 200}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  EXPECT_THAT(bad.status().message(), HasSubstr("scoringStrategy.resources[0].weight: Invalid value: 200"));
}

TEST(FitFactory, BuildsFromYamlArgs) {
  noderesources_testing::StubHandle handle;
  auto plugin = NewNodeResourcesFit(YAML::Load("scoringStrategy: {type: MostAllocated}"), handle);
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  EXPECT_EQ((*plugin)->Name(), "NodeResourcesFit");
  auto* fit = dynamic_cast<NodeResourcesFit*>(plugin->get());
  ASSERT_NE(fit, nullptr);
  EXPECT_EQ(fit->args().scoring_strategy->type, "MostAllocated");
  EXPECT_NE(dynamic_cast<FilterPlugin*>(plugin->get()), nullptr);
  EXPECT_NE(dynamic_cast<ScorePlugin*>(plugin->get()), nullptr);

  auto bad = NewNodeResourcesFit(YAML::Load("scoringStrategy: {type: Foo}"), handle);
  EXPECT_FALSE(bad.ok());
}

// ---- events ----

TEST(FitEvents, PodsLeavingAndNodesGrowing) {
  auto fit = MakeFit();
  auto events = fit->EventsToRegister();
  auto covered = [&](EventResource r, uint32_t action) {
    ClusterEvent happened{r, action, ""};
    for (const auto& e : events) {
      if (e.Covers(happened)) return true;
    }
    return false;
  };
  EXPECT_TRUE(covered(EventResource::kAssignedPod, kActionDelete));
  EXPECT_TRUE(covered(EventResource::kPod, kActionDelete));
  EXPECT_TRUE(covered(EventResource::kAssignedPod, kActionUpdatePodScaleDown));
  EXPECT_TRUE(covered(EventResource::kNode, kActionAdd));
  EXPECT_TRUE(covered(EventResource::kNode, kActionUpdateNodeAllocatable));
  EXPECT_FALSE(covered(EventResource::kNode, kActionUpdateNodeLabel));
  EXPECT_FALSE(covered(EventResource::kNode, kActionUpdateNodeTaint));
  EXPECT_FALSE(covered(EventResource::kAssignedPod, kActionAdd));
  EXPECT_FALSE(covered(EventResource::kPodDisruptionBudget, kActionAll));
}

// ---- the hot path ----

TEST(FitHotPath, FilterAndScoreDoNotAllocateWhenThePodFits) {
  auto fit = MakeFit(Strategy(kLeastAllocated, {{"cpu", 1}, {"memory", 1}, {"example.com/gpu", 1}}));
  auto node = MakeNodeInfo(MakeNode("g").Capacity("8", "16Gi").Allocatable("example.com/gpu", "4"),
                           {Using("a", "1", "1Gi")});
  PodInfoPtr pod = Info(MakePod("p").Cpu("1").Memory("1Gi").Request("example.com/gpu", "1"));
  CycleState state;
  ASSERT_TRUE(fit->PreFilter(state, *pod, Snapshot(), nullptr).IsSuccess());
  ASSERT_TRUE(fit->PreScore(state, *pod, {node.get()}).IsSuccess());

  const int64_t before = allocations;
  Verdict v = fit->Filter(state, *pod, *node);
  int64_t score = -1;
  Verdict s = fit->Score(state, *pod, *node, &score);
  const int64_t made = allocations - before;
  EXPECT_TRUE(v.IsSuccess()) << v.String();
  EXPECT_TRUE(s.IsSuccess());
  EXPECT_GT(score, 0);
  EXPECT_EQ(made, 0);
}

}  // namespace
}  // namespace ck::scheduler::plugins
