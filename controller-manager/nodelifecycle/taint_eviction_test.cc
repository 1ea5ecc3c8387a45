// Unit tests of TaintEvictionController on the fake API and a fake clock: which pods go, when, and
// how (event, DisruptionTarget condition, delete); cancellation; timers that fire on the clock.
#include "controller-manager/nodelifecycle/taint_eviction_controller.h"

#include <gtest/gtest.h>

#include <ostream>

#include <optional>

#include "common/api/conditions.h"
#include "controller-manager/nodelifecycle/test_util.h"

namespace ck::controller_manager {
namespace {

using api::testing::MakePod;
using testing::FakeCluster;
using namespace std::chrono_literals;

corev1::Toleration Tolerate(const std::string& key, std::optional<int64_t> seconds,
                            const std::string& effect = "NoExecute") {
  corev1::Toleration t;
  t.set_key(key);
  t.set_operator_("Exists");
  t.set_effect(effect);
  if (seconds.has_value()) t.set_tolerationseconds(*seconds);
  return t;
}

// A node carrying NoExecute taints added at the clock's now.
corev1::Node TaintedNode(FakeCluster& cluster, const std::string& name, const std::vector<std::string>& keys) {
  corev1::Node node = api::testing::MakeNode(name).Ready(false, cluster.env.clock.Now());
  for (const auto& key : keys) {
    corev1::Taint* t = node.mutable_spec()->add_taints();
    t->set_key(key);
    t->set_effect("NoExecute");
    api::SetTime(t->mutable_timeadded(), cluster.env.clock.Now());
  }
  return node;
}

class TaintHarness {
 public:
  void Build() {
    controller = std::make_unique<TaintEvictionController>(cluster.env.context);
    cluster.env.StartInformers(controller->Informers());
  }
  void SyncPod(const std::string& name) {
    cluster.Settle(controller->Informers());
    ASSERT_TRUE(controller->SyncForTesting(TaintEvictionController::PodKey("default", name)).ok());
  }
  void SyncNode(const std::string& name) {
    cluster.Settle(controller->Informers());
    ASSERT_TRUE(controller->SyncForTesting(TaintEvictionController::NodeKey(name)).ok());
  }
  // Evicted: deleted (or terminating, for a pod bound to a node).
  bool Evicted(const std::string& name) {
    Result<corev1::Pod> pod = cluster.env.Get<corev1::Pod>("default", name);
    return !pod.ok() || pod->metadata().has_deletiontimestamp();
  }

  FakeCluster cluster;
  std::unique_ptr<TaintEvictionController> controller;
};

// ---- When a pod goes (table) --------------------------------------------------------------------

struct EvictionCase {
  std::string name;
  std::vector<std::string> taints;  // NoExecute taints on the node, added at T0
  std::vector<corev1::Toleration> tolerations;
  std::vector<std::pair<Duration, bool>> checks;  // (time since T0, evicted by then)
};
void PrintTo(const EvictionCase& c, std::ostream* os) { *os << c.name; }

class EvictionTimingTest : public ::testing::TestWithParam<EvictionCase> {};

TEST_P(EvictionTimingTest, PodIsEvictedWhenItsTolerationRunsOut) {
  const EvictionCase& c = GetParam();
  TaintHarness h;
  corev1::Pod pod = MakePod("web").Node("node-1");
  for (const auto& t : c.tolerations) *pod.mutable_spec()->add_tolerations() = t;
  h.cluster.env.Create(pod);
  h.cluster.env.Create(TaintedNode(h.cluster, "node-1", c.taints));
  h.Build();
  Duration now{0};
  for (const auto& [at, evicted] : c.checks) {
    h.cluster.env.clock.Advance(at - now);
    now = at;
    h.SyncPod("web");
    EXPECT_EQ(h.Evicted("web"), evicted) << "at " << std::chrono::duration<double>(at).count() << " s";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, EvictionTimingTest,
    ::testing::Values(
        EvictionCase{"no_toleration_at_once", {"node.kubernetes.io/unreachable"}, {}, {{0s, true}}},
        EvictionCase{"tolerates_300s",
                     {"node.kubernetes.io/unreachable"},
                     {Tolerate("node.kubernetes.io/unreachable", 300)},
                     {{0s, false}, {299s, false}, {300s, true}}},
        EvictionCase{"tolerates_forever",
                     {"node.kubernetes.io/unreachable"},
                     {Tolerate("node.kubernetes.io/unreachable", std::nullopt)},
                     {{0s, false}, {300s, false}, {100000s, false}}},
        EvictionCase{"tolerates_everything_forever", {"node.kubernetes.io/unreachable", "dedicated"},
                     {Tolerate("", std::nullopt, "")}, {{0s, false}, {100000s, false}}},
        EvictionCase{"one_taint_not_tolerated",
                     {"node.kubernetes.io/unreachable", "dedicated"},
                     {Tolerate("node.kubernetes.io/unreachable", 300)},
                     {{0s, true}}},
        EvictionCase{"shortest_toleration_wins",
                     {"node.kubernetes.io/unreachable", "dedicated"},
                     {Tolerate("node.kubernetes.io/unreachable", 300), Tolerate("dedicated", 60)},
                     {{59s, false}, {60s, true}}},
        EvictionCase{"forever_and_limited_mixed",
                     {"node.kubernetes.io/unreachable", "dedicated"},
                     {Tolerate("node.kubernetes.io/unreachable", std::nullopt), Tolerate("dedicated", 30)},
                     {{29s, false}, {30s, true}}},
        EvictionCase{"zero_seconds_at_once", {"node.kubernetes.io/not-ready"},
                     {Tolerate("node.kubernetes.io/not-ready", 0)}, {{0s, true}}},
        EvictionCase{"no_execute_taints_only",
                     {},
                     {},
                     {{0s, false}, {1000s, false}}}),
    [](const auto& info) { return info.param.name; });

// ---- How a pod goes -----------------------------------------------------------------------------

TEST(TaintEvictionTest, EvictionRecordsEventAndDisruptionTargetThenDeletes) {
  TaintHarness h;
  h.cluster.env.Create(corev1::Pod(MakePod("web").Node("node-1").Ready(h.cluster.env.clock.Now())));
  h.cluster.env.Create(corev1::Pod(MakePod("elsewhere").Node("node-2")));
  h.cluster.env.Create(TaintedNode(h.cluster, "node-1", {"node.kubernetes.io/unreachable"}));
  h.cluster.env.Create(corev1::Node(api::testing::MakeNode("node-2").Ready(true, h.cluster.env.clock.Now())));
  h.Build();
  h.SyncNode("node-1");
  h.SyncNode("node-2");
  Result<corev1::Pod> pod = h.cluster.env.Get<corev1::Pod>("default", "web");
  ASSERT_TRUE(pod.ok());
  EXPECT_TRUE(pod->metadata().has_deletiontimestamp());
  const corev1::PodCondition* target = api::FindCondition(pod->status().conditions(), "DisruptionTarget");
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->status(), "True");
  EXPECT_EQ(target->reason(), "DeletionByTaintManager");
  EXPECT_EQ(target->message(), "Taint manager: deleting due to NoExecute taint");
  EXPECT_FALSE(h.Evicted("elsewhere"));
  auto events = h.cluster.WaitEvents("TaintManagerEviction", "Marking for deletion Pod default/web");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].source().component(), "taint-eviction-controller");
  EXPECT_EQ(events[0].involvedobject().kind(), "Pod");
  // Syncing again does not delete or record twice.
  const int64_t deletes = h.cluster.env.api.Calls(client::FakeApi::Verb::kDelete, "pods");
  h.SyncPod("web");
  h.SyncNode("node-1");
  EXPECT_EQ(h.cluster.env.api.Calls(client::FakeApi::Verb::kDelete, "pods"), deletes);
}

TEST(TaintEvictionTest, TaintRemovedBeforeTheDeadlineCancelsTheEviction) {
  TaintHarness h;
  corev1::Pod pod = MakePod("web").Node("node-1");
  *pod.mutable_spec()->add_tolerations() = Tolerate("node.kubernetes.io/unreachable", 300);
  h.cluster.env.Create(pod);
  corev1::Node node = h.cluster.env.Create(TaintedNode(h.cluster, "node-1", {"node.kubernetes.io/unreachable"}));
  h.Build();
  h.SyncNode("node-1");
  ASSERT_TRUE(h.controller->ScheduledEviction("default/web").has_value());
  h.cluster.env.clock.Advance(200s);
  node.mutable_spec()->clear_taints();
  node.mutable_metadata()->clear_resourceversion();
  ASSERT_TRUE(h.cluster.env.api.Update(testing::ResourceOf(corev1::Node::descriptor()), "", node).ok());
  h.SyncNode("node-1");
  EXPECT_FALSE(h.controller->ScheduledEviction("default/web").has_value());
  EXPECT_EQ(h.cluster.WaitEvents("TaintManagerEviction", "Cancelling deletion of Pod default/web").size(), 1u);
  h.cluster.env.clock.Advance(200s);
  h.SyncPod("web");
  EXPECT_FALSE(h.Evicted("web"));
}

TEST(TaintEvictionTest, SwappingNotReadyForUnreachableKeepsTheDeadline) {
  TaintHarness h;
  corev1::Pod pod = MakePod("web").Node("node-1");
  *pod.mutable_spec()->add_tolerations() = Tolerate("node.kubernetes.io/not-ready", 300);
  *pod.mutable_spec()->add_tolerations() = Tolerate("node.kubernetes.io/unreachable", 300);
  h.cluster.env.Create(pod);
  h.cluster.env.Create(TaintedNode(h.cluster, "node-1", {"node.kubernetes.io/not-ready"}));
  h.Build();
  h.SyncNode("node-1");
  const WallTime t0 = h.cluster.env.clock.Now();
  // 100 s later the node lifecycle controller swaps the taint (a new timeAdded).
  h.cluster.env.clock.Advance(100s);
  corev1::Node node = h.cluster.GetNode("node-1");
  *node.mutable_spec()->mutable_taints() = TaintedNode(h.cluster, "node-1", {"node.kubernetes.io/unreachable"}).spec().taints();
  ASSERT_TRUE(h.cluster.env.api.Update(testing::ResourceOf(corev1::Node::descriptor()), "", node).ok());
  h.SyncNode("node-1");
  ASSERT_TRUE(h.controller->ScheduledEviction("default/web").has_value());
  EXPECT_EQ(*h.controller->ScheduledEviction("default/web"), t0 + 300s);
  h.cluster.env.clock.Advance(199s);
  h.SyncPod("web");
  EXPECT_FALSE(h.Evicted("web"));
  h.cluster.env.clock.Advance(1s);
  h.SyncPod("web");
  EXPECT_TRUE(h.Evicted("web"));
}

TEST(TaintEvictionTest, PodBoundAfterTheTaintGetsItsFullToleration) {
  TaintHarness h;
  h.cluster.env.Create(TaintedNode(h.cluster, "node-1", {"node.kubernetes.io/unreachable"}));
  h.Build();
  h.cluster.env.clock.Advance(100s);
  corev1::Pod pod = MakePod("web").Node("node-1").Condition("PodScheduled", "True", h.cluster.env.clock.Now());
  *pod.mutable_spec()->add_tolerations() = Tolerate("node.kubernetes.io/unreachable", 300);
  h.cluster.env.Create(pod);
  h.SyncPod("web");
  h.cluster.env.clock.Advance(299s);
  h.SyncPod("web");
  EXPECT_FALSE(h.Evicted("web"));
  h.cluster.env.clock.Advance(1s);
  h.SyncPod("web");
  EXPECT_TRUE(h.Evicted("web"));
}

// ---- Timers on the clock ------------------------------------------------------------------------

TEST(TaintEvictionTest, TimerFiresOnTheClockWithWorkersRunning) {
  TaintHarness h;
  corev1::Pod pod = MakePod("web").Node("node-1");
  *pod.mutable_spec()->add_tolerations() = Tolerate("node.kubernetes.io/unreachable", 300);
  h.cluster.env.Create(pod);
  h.cluster.env.Create(corev1::Pod(MakePod("now").Node("node-1")));
  h.cluster.env.Create(TaintedNode(h.cluster, "node-1", {"node.kubernetes.io/unreachable"}));
  h.controller = std::make_unique<TaintEvictionController>(h.cluster.env.context);
  h.cluster.env.Start(*h.controller);
  // The pod without a toleration goes at once; the other waits for its timer.
  ASSERT_TRUE(client::testing::WaitFor([&] { return h.Evicted("now"); }));
  ASSERT_TRUE(client::testing::WaitFor([&] { return h.controller->ScheduledEviction("default/web").has_value(); }));
  ASSERT_TRUE(client::testing::WaitFor([&] { return h.controller->queue().PendingLen() == 1; }));
  h.cluster.env.clock.Advance(299s);
  EXPECT_FALSE(h.Evicted("web"));
  h.cluster.env.clock.Advance(1s);
  EXPECT_TRUE(client::testing::WaitFor([&] { return h.Evicted("web"); }));
}

}  // namespace
}  // namespace ck::controller_manager
