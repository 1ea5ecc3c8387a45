// TaintToleration: Filter on NoSchedule/NoExecute taints, scores on PreferNoSchedule taints.
#include "scheduler/plugins/tainttoleration/taint_toleration.h"

#include <gtest/gtest.h>

#include <map>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

TEST(TaintTolerationTest, Filter) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    corev1::Node node;
    VerdictCode want;
    std::string reason;
  };
  const Case cases[] = {
      {"node without taints", MakePod("p"), MakeNode("n"), VerdictCode::kSuccess, ""},
      {"untolerated NoSchedule taint", MakePod("p"), MakeNode("n").Taint("dedicated", "user1", "NoSchedule"),
       VerdictCode::kUnschedulableAndUnresolvable, "node(s) had untolerated taint {dedicated: user1}"},
      {"tolerated by Equal", MakePod("p").Toleration("dedicated", "Equal", "user1", "NoSchedule"),
       MakeNode("n").Taint("dedicated", "user1", "NoSchedule"), VerdictCode::kSuccess, ""},
      {"toleration with another value", MakePod("p").Toleration("dedicated", "Equal", "user2", "NoSchedule"),
       MakeNode("n").Taint("dedicated", "user1", "NoSchedule"), VerdictCode::kUnschedulableAndUnresolvable,
       "node(s) had untolerated taint {dedicated: user1}"},
      {"tolerated by Exists", MakePod("p").Toleration("foo", "Exists", "", "NoSchedule"),
       MakeNode("n").Taint("foo", "bar", "NoSchedule"), VerdictCode::kSuccess, ""},
      {"one of two taints tolerated: the other is named",
       MakePod("p").Toleration("dedicated", "Equal", "user2", "NoSchedule"),
       MakeNode("n").Taint("dedicated", "user2", "NoSchedule").Taint("gpu", "true", "NoSchedule"),
       VerdictCode::kUnschedulableAndUnresolvable, "node(s) had untolerated taint {gpu: true}"},
      {"both taints tolerated",
       MakePod("p").Toleration("dedicated", "Equal", "user2", "NoSchedule").Toleration("gpu", "Exists", "", ""),
       MakeNode("n").Taint("dedicated", "user2", "NoSchedule").Taint("gpu", "true", "NoSchedule"),
       VerdictCode::kSuccess, ""},
      {"PreferNoSchedule is not a filter", MakePod("p"), MakeNode("n").Taint("spot", "true", "PreferNoSchedule"),
       VerdictCode::kSuccess, ""},
      {"untolerated NoExecute taint", MakePod("p").Toleration("spot", "Exists", "", "NoSchedule"),
       MakeNode("n").Taint("spot", "true", "NoExecute"), VerdictCode::kUnschedulableAndUnresolvable,
       "node(s) had untolerated taint {spot: true}"},
      {"toleration without effect covers NoExecute", MakePod("p").Toleration("spot", "Exists", "", ""),
       MakeNode("n").Taint("spot", "true", "NoExecute"), VerdictCode::kSuccess, ""},
      {"taint without value", MakePod("p"), MakeNode("n").Taint("node-role.kubernetes.io/control-plane", "", "NoSchedule"),
       VerdictCode::kUnschedulableAndUnresolvable, "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"},
      {"tolerate everything", MakePod("p").Toleration("", "Exists", "", ""),
       MakeNode("n").Taint("a", "1", "NoSchedule").Taint("b", "2", "NoExecute"), VerdictCode::kSuccess, ""},
  };
  TaintToleration pl;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot snapshot = Snapshot::FromObjects({}, {c.node});
    CycleState state;
    Verdict v = pl.Filter(state, **PodInfo::Create(c.pod), *snapshot.Get("n"));
    EXPECT_EQ(v.code(), c.want) << v.String();
    if (!c.reason.empty()) {
      EXPECT_EQ(v.reasons(), std::vector<std::string>{c.reason});
    }
  }
}

// PreScore, Score on every node, NormalizeScore: the final score per node.
std::map<std::string, int64_t> ScoreAll(TaintToleration& pl, const corev1::Pod& pod,
                                        const std::vector<corev1::Node>& nodes) {
  Snapshot snapshot = Snapshot::FromObjects({}, nodes);
  PodInfoPtr pi = *PodInfo::Create(pod);
  CycleState state;
  std::vector<const NodeInfo*> infos;
  for (const auto& n : snapshot.List()) infos.push_back(n.get());
  Verdict v = pl.PreScore(state, *pi, infos);
  EXPECT_TRUE(v.IsSuccess()) << v.String();
  std::vector<NodeScore> scores;
  for (const NodeInfo* n : infos) {
    int64_t s = -1;
    Verdict sv = pl.Score(state, *pi, *n, &s);
    EXPECT_TRUE(sv.IsSuccess()) << sv.String();
    scores.push_back({n->name(), s});
  }
  EXPECT_TRUE(pl.NormalizeScore(state, *pi, scores).IsSuccess());
  std::map<std::string, int64_t> out;
  for (const NodeScore& s : scores) out[s.name] = s.score;
  return out;
}

TEST(TaintTolerationTest, Score) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    std::vector<corev1::Node> nodes;
    std::map<std::string, int64_t> want;
  };
  const Case cases[] = {
      {"the tolerated PreferNoSchedule taint wins", MakePod("p").Toleration("foo", "Equal", "bar", "PreferNoSchedule"),
       {MakeNode("a").Taint("foo", "bar", "PreferNoSchedule"), MakeNode("b").Taint("foo", "blah", "PreferNoSchedule")},
       {{"a", 100}, {"b", 0}}},
      {"tolerated taints do not count",
       MakePod("p")
           .Toleration("cpu-type", "Equal", "arm64", "PreferNoSchedule")
           .Toleration("disk-type", "Equal", "ssd", "PreferNoSchedule"),
       {MakeNode("a"), MakeNode("b").Taint("cpu-type", "arm64", "PreferNoSchedule"),
        MakeNode("c").Taint("cpu-type", "arm64", "PreferNoSchedule").Taint("disk-type", "ssd", "PreferNoSchedule")},
       {{"a", 100}, {"b", 100}, {"c", 100}}},
      {"the number of untolerated taints matters", MakePod("p").Toleration("foo", "Equal", "bar", "PreferNoSchedule"),
       {MakeNode("a"), MakeNode("b").Taint("cpu-type", "arm64", "PreferNoSchedule"),
        MakeNode("c").Taint("cpu-type", "arm64", "PreferNoSchedule").Taint("disk-type", "ssd", "PreferNoSchedule")},
       {{"a", 100}, {"b", 50}, {"c", 0}}},
      {"only PreferNoSchedule taints and tolerations count",
       MakePod("p")
           .Toleration("cpu-type", "Equal", "arm64", "NoSchedule")
           .Toleration("disk-type", "Equal", "ssd", "NoSchedule"),
       {MakeNode("a"), MakeNode("b").Taint("cpu-type", "arm64", "NoSchedule"),
        MakeNode("c").Taint("cpu-type", "arm64", "PreferNoSchedule").Taint("disk-type", "ssd", "PreferNoSchedule")},
       {{"a", 100}, {"b", 100}, {"c", 0}}},
      {"a toleration without effect covers PreferNoSchedule", MakePod("p").Toleration("cpu-type", "Exists", "", ""),
       {MakeNode("a"), MakeNode("b").Taint("cpu-type", "arm64", "PreferNoSchedule")}, {{"a", 100}, {"b", 100}}},
      {"no tolerations: the untainted node wins", MakePod("p"),
       {MakeNode("a"), MakeNode("b").Taint("cpu-type", "arm64", "PreferNoSchedule")}, {{"a", 100}, {"b", 0}}},
      {"no taints anywhere: all 100", MakePod("p"), {MakeNode("a"), MakeNode("b")}, {{"a", 100}, {"b", 100}}},
      {"1 of 3 untolerated taints", MakePod("p"),
       {MakeNode("a").Taint("x", "", "PreferNoSchedule"),
        MakeNode("b").Taint("x", "", "PreferNoSchedule").Taint("y", "", "PreferNoSchedule").Taint("z", "", "PreferNoSchedule")},
       // 100 * 1 / 3 = 33 (integer), reversed: 67.
       {{"a", 67}, {"b", 0}}},
  };
  TaintToleration pl;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(ScoreAll(pl, c.pod, c.nodes), c.want);
  }
}

TEST(TaintTolerationTest, ScoreWithoutPreScoreIsAnError) {
  TaintToleration pl;
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("a")});
  CycleState state;
  int64_t s = 0;
  Verdict v = pl.Score(state, **PodInfo::Create(MakePod("p").Obj()), *snapshot.Get("a"), &s);
  EXPECT_TRUE(v.IsError());
}

TEST(TaintTolerationTest, PreScoreStateSurvivesClone) {
  TaintToleration pl;
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("a").Taint("x", "", "PreferNoSchedule")});
  PodInfoPtr pod = *PodInfo::Create(MakePod("p").Toleration("x", "Exists", "", "PreferNoSchedule").Obj());
  auto state = std::make_unique<CycleState>();
  ASSERT_TRUE(pl.PreScore(*state, *pod, {snapshot.Get("a")}).IsSuccess());
  std::unique_ptr<CycleState> copy = state->Clone();
  state.reset();
  int64_t s = -1;
  ASSERT_TRUE(pl.Score(*copy, *pod, *snapshot.Get("a"), &s).IsSuccess());
  EXPECT_EQ(s, 0);
}

TEST(TaintTolerationTest, EventsAndFactory) {
  testing::FakeHandle handle;
  auto pl = NewTaintToleration(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ((*pl)->Name(), "TaintToleration");
  EXPECT_NE(dynamic_cast<FilterPlugin*>(pl->get()), nullptr);
  auto* score = dynamic_cast<ScorePlugin*>(pl->get());
  ASSERT_NE(score, nullptr);
  EXPECT_TRUE(score->HasNormalizeScore());
  auto events = dynamic_cast<EnqueueExtensions*>(pl->get())->EventsToRegister();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionUpdateNodeTaint, ""}));
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionAdd, ""}));
  EXPECT_FALSE(events[0].Covers(ClusterEvent{EventResource::kAssignedPod, kActionDelete, ""}));
}

}  // namespace
}  // namespace ck::scheduler::plugins
