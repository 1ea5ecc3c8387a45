// The scheduling cycle's decision: round-robin filtering with percentageOfNodesToScore, the
// random tie-break, the nominated node, and FailedScheduling's message.
#include "scheduler/core/algorithm.h"

#include <gtest/gtest.h>

#include <map>

#include "common/api/testing/builders.h"

namespace ck::scheduler {
namespace {

using api::testing::NodeBuilder;
using api::testing::PodBuilder;

class Sort final : public QueueSortPlugin {
 public:
  std::string_view Name() const override { return "Sort"; }
  bool Less(const QueuedPodInfo&, const QueuedPodInfo&) const override { return false; }
};
class Binder final : public BindPlugin {
 public:
  std::string_view Name() const override { return "Binder"; }
  Verdict Bind(CycleState&, const PodInfo&, const std::string&) override { return Verdict::Success(); }
};
// Filter: nodes labelled cpu=low are "Insufficient cpu", zone=x are unresolvable; Score: label "score".
class Fake final : public FilterPlugin, public ScorePlugin {
 public:
  std::string_view Name() const override { return "Fake"; }
  Verdict Filter(const CycleState&, const PodInfo&, const NodeInfo& n) const override {
    calls.fetch_add(1);
    const auto& l = n.node()->metadata().labels();
    if (l.count("cpu") && l.at("cpu") == "low") return Verdict::Unschedulable("Insufficient cpu");
    if (l.count("zone") && l.at("zone") == "x") {
      return Verdict::UnschedulableAndUnresolvable("node(s) didn't match Pod's node affinity/selector");
    }
    return Verdict::Success();
  }
  Verdict Score(const CycleState&, const PodInfo&, const NodeInfo& n, int64_t* s) const override {
    const auto& l = n.node()->metadata().labels();
    *s = l.count("score") ? std::stoll(l.at("score")) : 0;
    return Verdict::Success();
  }
  mutable std::atomic<int> calls{0};
};

struct Env {
  Fake* fake = nullptr;
  std::unique_ptr<Framework> fwk;
  Parallelizer par{2};
  Env() {
    Registry r = {
        {"Sort", [](const PluginArgs&, Handle&) -> Result<std::unique_ptr<Plugin>> { return std::unique_ptr<Plugin>(new Sort()); }},
        {"Binder", [](const PluginArgs&, Handle&) -> Result<std::unique_ptr<Plugin>> { return std::unique_ptr<Plugin>(new Binder()); }},
        {"Fake", [this](const PluginArgs&, Handle&) -> Result<std::unique_ptr<Plugin>> {
           auto p = std::make_unique<Fake>();
           fake = p.get();
           return std::unique_ptr<Plugin>(std::move(p));
         }},
    };
    ProfileConfig p;
    p.multi_point = {{"Sort", 0}, {"Fake", 0}, {"Binder", 0}};
    FrameworkDeps d;
    d.parallelizer = &par;
    fwk = std::move(Framework::Create(r, p, d)).value();
  }
};

std::vector<corev1::Node> Nodes(int n, const std::function<void(int, NodeBuilder&)>& edit = nullptr) {
  std::vector<corev1::Node> out;
  for (int i = 0; i < n; ++i) {
    NodeBuilder b("n" + std::to_string(i));
    if (edit) edit(i, b);
    out.push_back(b.Obj());
  }
  return out;
}

TEST(AlgorithmTest, StopsAfterEnoughFeasibleNodesAndResumesWhereItStopped) {
  Env env;
  Snapshot snap = Snapshot::FromObjects({}, Nodes(1000));
  env.fwk->SetSnapshot(&snap);
  FakeRandom random;
  ScheduleAlgorithm algo(random, std::nullopt);
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u").Obj());
  CycleState state;
  ExplainRecord rec;
  auto out = algo.Schedule(*env.fwk, state, *pod, snap, &rec);
  ASSERT_EQ(out.kind, ScheduleOutcome::Kind::kScheduled);
  // 1000 nodes: 50 - 8 = 42 % -> 420 feasible nodes to find.
  EXPECT_EQ(rec.num_to_find, 420);
  EXPECT_EQ(rec.feasible.size(), 420u);
  EXPECT_EQ(rec.Unevaluated().size(), 580u);
  EXPECT_EQ(algo.next_start_node_index(), 420);
  CycleState state2;
  ExplainRecord rec2;
  algo.Schedule(*env.fwk, state2, *pod, snap, &rec2);
  EXPECT_EQ(rec2.start_index, 420);
  EXPECT_EQ(algo.next_start_node_index(), 840);
}

TEST(AlgorithmTest, TieBreakIsUniformAmongTopScores) {
  Env env;
  // Four nodes tie at 50, one lower.
  Snapshot snap = Snapshot::FromObjects({}, Nodes(5, [](int i, NodeBuilder& b) { b.Label("score", i == 4 ? "10" : "50"); }));
  env.fwk->SetSnapshot(&snap);
  FakeRandom random(7);
  ScheduleAlgorithm algo(random, std::nullopt);
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u").Obj());
  std::map<std::string, int> wins;
  const int kRuns = 8000;
  for (int i = 0; i < kRuns; ++i) {
    CycleState state;
    ExplainRecord rec;
    auto out = algo.Schedule(*env.fwk, state, *pod, snap, &rec);
    ASSERT_EQ(out.kind, ScheduleOutcome::Kind::kScheduled);
    EXPECT_EQ(rec.tie_count, 4);
    wins[out.node]++;
  }
  EXPECT_EQ(wins.count("n4"), 0u);
  for (int i = 0; i < 4; ++i) {
    // Expected 2000 each; 5 sigma of a binomial(8000, 1/4) is about 194.
    EXPECT_NEAR(wins["n" + std::to_string(i)], kRuns / 4, 200) << "n" << i;
  }
}

TEST(AlgorithmTest, NoFitGivesUpstreamFitErrorMessage) {
  Env env;
  Snapshot snap = Snapshot::FromObjects({}, Nodes(500, [](int i, NodeBuilder& b) {
    if (i < 3) b.Label("cpu", "low");
    else b.Label("zone", "x");
  }));
  env.fwk->SetSnapshot(&snap);
  FakeRandom random;
  ScheduleAlgorithm algo(random, std::nullopt);
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u").Obj());
  CycleState state;
  auto out = algo.Schedule(*env.fwk, state, *pod, snap, nullptr);
  ASSERT_EQ(out.kind, ScheduleOutcome::Kind::kUnschedulable);
  EXPECT_EQ(out.diagnosis.node_to_verdict.size(), 500u);
  EXPECT_EQ(out.diagnosis.unschedulable_plugins, std::set<std::string>{"Fake"});
  out.diagnosis.post_filter_message = "preemption: 0/500 nodes are available: 3 No preemption victims found for incoming pod, 497 Preemption is not helpful for scheduling";
  EXPECT_EQ(FitErrorMessage(out.num_all_nodes, out.diagnosis),
            "0/500 nodes are available: 3 Insufficient cpu, 497 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/500 nodes are available: 3 No preemption victims found for incoming pod, 497 Preemption is "
            "not helpful for scheduling.");
}

TEST(AlgorithmTest, NominatedNodeIsTriedAlone) {
  Env env;
  Snapshot snap = Snapshot::FromObjects({}, Nodes(300, [](int i, NodeBuilder& b) { b.Label("score", i == 7 ? "1" : "90"); }));
  env.fwk->SetSnapshot(&snap);
  FakeRandom random;
  ScheduleAlgorithm algo(random, std::nullopt);
  corev1::Pod p = PodBuilder("p").Uid("u").Obj();
  p.mutable_status()->set_nominatednodename("n7");
  auto pod = *PodInfo::Create(p);
  CycleState state;
  ExplainRecord rec;
  auto out = algo.Schedule(*env.fwk, state, *pod, snap, &rec);
  ASSERT_EQ(out.kind, ScheduleOutcome::Kind::kScheduled);
  EXPECT_EQ(out.node, "n7");  // the lower score does not matter: it fits, so it is used
  EXPECT_EQ(env.fake->calls.load(), 1);
  EXPECT_EQ(rec.evaluated_nominated_node, "n7");
}

TEST(AlgorithmTest, NoNodesIsAnError) {
  Env env;
  Snapshot snap;
  env.fwk->SetSnapshot(&snap);
  FakeRandom random;
  ScheduleAlgorithm algo(random, std::nullopt);
  auto pod = *PodInfo::Create(PodBuilder("p").Uid("u").Obj());
  CycleState state;
  auto out = algo.Schedule(*env.fwk, state, *pod, snap, nullptr);
  EXPECT_EQ(out.kind, ScheduleOutcome::Kind::kError);
  EXPECT_EQ(out.error.message(), "no nodes available to schedule pods");
}

TEST(ExplainTest, RecordsRenderAndTheStoreIsBounded) {
  Env env;
  Snapshot snap = Snapshot::FromObjects({}, Nodes(4, [](int i, NodeBuilder& b) {
    if (i == 0) b.Label("cpu", "low");
    b.Label("score", std::to_string(10 * i));
  }));
  env.fwk->SetSnapshot(&snap);
  FakeRandom random;
  ScheduleAlgorithm algo(random, std::nullopt);
  auto pod = *PodInfo::Create(PodBuilder("web-1").Namespace("shop").Uid("u").Obj());
  CycleState state;
  ExplainRecord rec;
  rec.pod = "shop/web-1";
  auto out = algo.Schedule(*env.fwk, state, *pod, snap, &rec);
  rec.result = "Scheduled";
  rec.node = out.node;
  EXPECT_EQ(out.node, "n3");
  std::string json = ExplainJson(rec);
  EXPECT_NE(json.find("{\"node\":\"n0\",\"plugin\":\"Fake\",\"code\":\"Unschedulable\",\"reason\":\"Insufficient cpu\"}"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"node\":\"n3\",\"total\":30,\"plugins\":{\"Fake\":30}}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"tieBreak\":{\"topScore\":30,\"nodesWithTopScore\":1}"), std::string::npos) << json;
  std::string text = ExplainText(rec);
  EXPECT_NE(text.find("Insufficient cpu"), std::string::npos) << text;
  EXPECT_NE(text.find("result: Scheduled -> n3"), std::string::npos) << text;

  ExplainStore store(2);
  for (const char* name : {"a/1", "a/2", "a/3"}) {
    ExplainRecord r;
    r.pod = name;
    store.Put(r);
  }
  EXPECT_EQ(store.size(), 2u);
  EXPECT_FALSE(store.Get("a/1").has_value());
  EXPECT_TRUE(store.Get("a/3").has_value());
  EXPECT_EQ(store.Keys(5), (std::vector<std::string>{"a/3", "a/2"}));
}

}  // namespace
}  // namespace ck::scheduler
