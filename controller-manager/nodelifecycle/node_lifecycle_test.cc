// Unit tests of NodeLifecycleController on the fake API and a fake clock: grace periods, condition
// and taint changes, pods marked not Ready, zone states and rate-limited tainting. Each pass is
// driven with SyncForTesting after the informers caught up; one test lets the workers run the
// monitor loop on the clock.
#include "controller-manager/nodelifecycle/node_lifecycle_controller.h"

#include <gtest/gtest.h>

#include <ostream>

#include <map>

#include "common/api/conditions.h"
#include "controller-manager/nodelifecycle/test_util.h"

namespace ck::controller_manager {
namespace {

using api::testing::MakePod;
using testing::FakeCluster;
using namespace std::chrono_literals;

using Controller = NodeLifecycleController;

// The node names node-1 .. node-n.
std::vector<std::string> Names(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back("node-" + std::to_string(i));
  return out;
}

class Harness {
 public:
  explicit Harness(ControllerSettings settings = {}) : cluster(std::move(settings)) {}
  void Build() {
    controller = std::make_unique<Controller>(cluster.env.context);
    cluster.env.StartInformers(controller->Informers());
  }
  // One monitor pass on the current state of the fake API.
  void Monitor() {
    cluster.Settle(controller->Informers());
    ASSERT_TRUE(controller->SyncForTesting(Controller::kMonitorKey).ok());
  }
  void Tainting() {
    cluster.Settle(controller->Informers());
    ASSERT_TRUE(controller->SyncForTesting(Controller::kTaintingKey).ok());
  }
  void NodeSync(const std::string& name) {
    cluster.Settle(controller->Informers());
    ASSERT_TRUE(controller->SyncForTesting(Controller::NodeKey(name)).ok());
  }
  // Advances the clock while the kubelets of `alive` keep renewing their Leases.
  void Advance(Duration d, const std::vector<std::string>& alive) {
    cluster.env.clock.Advance(d);
    cluster.RenewLeases(alive);
  }
  // Runs the tainting pass every `step` for `total` (as the loop does while nodes wait), with
  // the kubelets of `alive` renewing their Leases.
  void RunTainting(Duration total, Duration step, const std::vector<std::string>& alive) {
    for (Duration t = step; t <= total; t += step) {
      Advance(step, alive);
      Tainting();
    }
  }
  int CountTainted(const std::vector<std::string>& names, std::string_view key) {
    int n = 0;
    for (const auto& name : names) n += cluster.HasTaint(name, key, kEffectNoExecute) ? 1 : 0;
    return n;
  }

  FakeCluster cluster;
  std::unique_ptr<Controller> controller;
};

// ---- Grace periods (table) ----------------------------------------------------------------------

struct GraceCase {
  std::string name;
  bool posted_ready;         // the kubelet posted a Ready condition at creation
  Duration lease_renewed_at;  // when the Lease was last renewed (from the start); <0: never
  Duration checked_at;        // when the monitor pass runs
  std::string want_ready;     // Ready status after the pass
  std::string want_reason;
};
void PrintTo(const GraceCase& c, std::ostream* os) { *os << c.name; }

class GracePeriodTest : public ::testing::TestWithParam<GraceCase> {};

TEST_P(GracePeriodTest, ReadyBecomesUnknownOnlyAfterTheGracePeriod) {
  const GraceCase& c = GetParam();
  Harness h;
  // node-0 and node-9 stay healthy so that the zone is not fully disrupted.
  h.cluster.AddNode("node-0");
  h.cluster.AddNode("node-9");
  if (c.posted_ready) {
    h.cluster.env.Create(corev1::Node(api::testing::MakeNode("node-1").Ready(true, h.cluster.env.clock.Now())));
  } else {
    h.cluster.env.Create(corev1::Node(api::testing::MakeNode("node-1")));
  }
  h.Build();
  h.Monitor();
  if (c.lease_renewed_at >= Duration(0)) {
    h.Advance(c.lease_renewed_at, {"node-0", "node-9"});
    h.cluster.RenewLease("node-1");
    h.Advance(c.checked_at - c.lease_renewed_at, {"node-0", "node-9"});
  } else {
    h.Advance(c.checked_at, {"node-0", "node-9"});
  }
  h.Monitor();
  corev1::Node node = h.cluster.GetNode("node-1");
  const corev1::NodeCondition* ready = api::FindCondition(node.status().conditions(), "Ready");
  ASSERT_EQ(ready == nullptr, c.want_ready.empty());
  if (ready == nullptr) return;
  EXPECT_EQ(ready->status(), c.want_ready);
  EXPECT_EQ(ready->reason(), c.want_reason);
  if (c.want_ready == "Unknown") {
    EXPECT_EQ(ready->message(), c.want_reason == "NodeStatusUnknown" ? "Kubelet stopped posting node status."
                                                                       : "Kubelet never posted node status.");
    EXPECT_LT(h.cluster.env.clock.Now() - api::WallTimeOf(ready->lasttransitiontime()), 1s);
    for (const char* type : {"MemoryPressure", "DiskPressure", "PIDPressure"}) {
      const corev1::NodeCondition* other = api::FindCondition(node.status().conditions(), type);
      ASSERT_NE(other, nullptr) << type;
      EXPECT_EQ(other->status(), "Unknown") << type;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, GracePeriodTest,
    ::testing::Values(
        // node_monitor_grace_period = 40 s from the last heartbeat (Lease renewed at creation).
        GraceCase{"before_grace", true, -1s, 39s, "True", "KubeletReady"},
        GraceCase{"at_grace", true, -1s, 40s, "True", "KubeletReady"},
        GraceCase{"just_after_grace", true, -1s, 40s + 1ms, "Unknown", "NodeStatusUnknown"},
        // A Lease renewal counts as a heartbeat.
        GraceCase{"lease_renewed", true, 30s, 70s, "True", "KubeletReady"},
        GraceCase{"lease_renewed_then_silent", true, 30s, 70s + 1ms, "Unknown", "NodeStatusUnknown"},
        // Never posted Ready: node_startup_grace_period = 60 s from creation.
        GraceCase{"startup_before", false, -2s, 60s, "", ""},
        GraceCase{"startup_after", false, -2s, 60s + 1ms, "Unknown", "NodeStatusNeverUpdated"}),
    [](const auto& info) { return info.param.name; });

// ---- Taints follow the Ready condition ----------------------------------------------------------

TEST(NodeLifecycleTest, TaintAddedSwappedAndRemoved) {
  Harness h;
  const std::vector<std::string> healthy = {"node-2", "node-3"};
  h.cluster.AddNode("node-1");
  for (const auto& n : healthy) h.cluster.AddNode(n);
  h.Build();
  h.Monitor();
  EXPECT_EQ(h.CountTainted({"node-1"}, kTaintNodeUnreachable), 0);

  // The kubelet of node-1 goes silent: Unknown and unreachable:NoExecute after the grace period.
  h.Advance(41s, healthy);
  h.Monitor();
  EXPECT_EQ(h.cluster.ReadyStatus("node-1"), "Unknown");
  corev1::Node node = h.cluster.GetNode("node-1");
  ASSERT_TRUE(h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoExecute));
  for (const auto& t : node.spec().taints()) {
    if (t.key() == kTaintNodeUnreachable) {
      EXPECT_LT(h.cluster.env.clock.Now() - api::WallTimeOf(t.timeadded()), 1s);
    }
  }
  EXPECT_FALSE(h.cluster.HasTaint("node-1", kTaintNodeNotReady, kEffectNoExecute));
  // The NoSchedule twin comes from the condition (TaintNodesByCondition).
  h.NodeSync("node-1");
  EXPECT_TRUE(h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoSchedule));
  EXPECT_EQ(h.cluster.WaitEvents("NodeNotReady", "Node node-1 status is now: NodeNotReady").size(), 1u);

  // It comes back reporting NotReady: unreachable is swapped for not-ready at once.
  h.cluster.PostReady("node-1", "False");
  h.Monitor();
  EXPECT_TRUE(h.cluster.HasTaint("node-1", kTaintNodeNotReady, kEffectNoExecute));
  EXPECT_FALSE(h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoExecute));
  h.NodeSync("node-1");
  EXPECT_TRUE(h.cluster.HasTaint("node-1", kTaintNodeNotReady, kEffectNoSchedule));
  EXPECT_FALSE(h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoSchedule));

  // Silent again: swapped back to unreachable.
  h.Advance(41s, healthy);
  h.Monitor();
  EXPECT_EQ(h.cluster.ReadyStatus("node-1"), "Unknown");
  EXPECT_TRUE(h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoExecute));
  EXPECT_FALSE(h.cluster.HasTaint("node-1", kTaintNodeNotReady, kEffectNoExecute));

  // Ready again: both NoExecute and NoSchedule taints are gone.
  h.cluster.PostReady("node-1", "True");
  h.cluster.RenewLease("node-1");
  h.Monitor();
  EXPECT_EQ(h.cluster.ReadyStatus("node-1"), "True");
  EXPECT_EQ(h.CountTainted({"node-1"}, kTaintNodeUnreachable) + h.CountTainted({"node-1"}, kTaintNodeNotReady), 0);
  h.NodeSync("node-1");
  EXPECT_TRUE(h.cluster.GetNode("node-1").spec().taints().empty());
}

TEST(NodeLifecycleTest, PodsOnANodeThatStopsAreMarkedNotReady) {
  Harness h;
  h.cluster.AddNode("node-1");
  h.cluster.AddNode("node-2");
  h.cluster.AddNode("node-3");
  h.cluster.env.Create(corev1::Pod(MakePod("web").Node("node-1").Ready(h.cluster.env.clock.Now())));
  h.cluster.env.Create(corev1::Pod(MakePod("db").Node("node-2").Ready(h.cluster.env.clock.Now())));
  h.Build();
  h.Monitor();
  h.Advance(41s, {"node-2", "node-3"});
  h.Monitor();
  auto ready_of = [&](const std::string& pod) {
    auto p = h.cluster.env.Get<corev1::Pod>("default", pod);
    return api::FindCondition(p->status().conditions(), "Ready")->status();
  };
  EXPECT_EQ(ready_of("web"), "False");
  EXPECT_EQ(ready_of("db"), "True");
  auto events = h.cluster.WaitEvents("NodeNotReady", "Node is not ready");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].involvedobject().name(), "web");
  EXPECT_EQ(events[0].type(), "Warning");
  EXPECT_EQ(events[0].source().component(), "node-controller");

  // A pod bound later to the not-ready node is marked too (the pod key).
  h.cluster.env.Create(corev1::Pod(MakePod("late").Node("node-1").Ready(h.cluster.env.clock.Now())));
  h.cluster.Settle(h.controller->Informers());
  ASSERT_TRUE(h.controller->SyncForTesting(Controller::PodKey("default", "late")).ok());
  EXPECT_EQ(ready_of("late"), "False");
}

// ---- NoSchedule taints by condition (table) -----------------------------------------------------

struct NoScheduleCase {
  std::string name;
  std::vector<std::pair<std::string, std::string>> conditions;  // type -> status
  bool unschedulable;
  std::vector<std::string> existing;  // NoSchedule taints already on the node
  std::vector<std::string> want;      // NoSchedule taint keys afterwards
};
void PrintTo(const NoScheduleCase& c, std::ostream* os) { *os << c.name; }

class NoScheduleTest : public ::testing::TestWithParam<NoScheduleCase> {};

TEST_P(NoScheduleTest, TaintsFollowConditions) {
  const NoScheduleCase& c = GetParam();
  Harness h;
  auto builder = api::testing::MakeNode("node-1").Unschedulable(c.unschedulable).Taint("dedicated", "db", "NoSchedule");
  for (const auto& key : c.existing) builder.Taint(key, "", "NoSchedule");
  corev1::Node node = builder;
  for (const auto& [type, status] : c.conditions) {
    auto* cond = node.mutable_status()->add_conditions();
    cond->set_type(type);
    cond->set_status(status);
    api::SetTime(cond->mutable_lastheartbeattime(), h.cluster.env.clock.Now());
  }
  h.cluster.env.Create(node);
  h.Build();
  h.NodeSync("node-1");
  std::vector<std::string> got;
  const corev1::Node after = h.cluster.GetNode("node-1");
  for (const auto& t : after.spec().taints()) {
    if (t.key() != "dedicated") got.push_back(t.key());
    EXPECT_EQ(t.effect(), "NoSchedule");
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, c.want);
  // A user's taint is never touched.
  EXPECT_TRUE(h.cluster.HasTaint("node-1", "dedicated", kEffectNoSchedule));
}

INSTANTIATE_TEST_SUITE_P(
    Table, NoScheduleTest,
    ::testing::Values(
        NoScheduleCase{"ready", {{"Ready", "True"}}, false, {}, {}},
        NoScheduleCase{"not_ready", {{"Ready", "False"}}, false, {}, {"node.kubernetes.io/not-ready"}},
        NoScheduleCase{"unknown", {{"Ready", "Unknown"}}, false, {}, {"node.kubernetes.io/unreachable"}},
        NoScheduleCase{"pressure",
                       {{"Ready", "True"}, {"MemoryPressure", "True"}, {"DiskPressure", "True"}, {"PIDPressure", "False"}},
                       false,
                       {},
                       {"node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure"}},
        NoScheduleCase{"network", {{"Ready", "True"}, {"NetworkUnavailable", "True"}}, false, {},
                       {"node.kubernetes.io/network-unavailable"}},
        NoScheduleCase{"cordoned", {{"Ready", "True"}}, true, {}, {"node.kubernetes.io/unschedulable"}},
        NoScheduleCase{"stale_removed", {{"Ready", "True"}}, false,
                       {"node.kubernetes.io/not-ready", "node.kubernetes.io/unschedulable"}, {}},
        NoScheduleCase{"swapped", {{"Ready", "Unknown"}}, false, {"node.kubernetes.io/not-ready"},
                       {"node.kubernetes.io/unreachable"}}),
    [](const auto& info) { return info.param.name; });

// ---- Rate limits and zone states ----------------------------------------------------------------

struct RateCase {
  Duration after;  // time since the first tainting pass
  int tainted;     // nodes tainted by then
};

TEST(NodeLifecycleTest, TenNodesDyingInAHealthyZoneAreTaintedAtTheEvictionRate) {
  Harness h;  // node_eviction_rate 0.1/s, burst 1
  const auto healthy = Names(1, 30);
  const auto dying = Names(31, 40);
  for (const auto& n : Names(1, 40)) h.cluster.AddNode(n);
  h.Build();
  h.Monitor();
  h.Advance(41s, healthy);
  h.Monitor();  // all ten Unknown; the first taint uses the bucket's one token
  for (const auto& n : dying) ASSERT_EQ(h.cluster.ReadyStatus(n), "Unknown") << n;
  EXPECT_EQ(h.controller->ZoneStates().at(""), Controller::ZoneState::kNormal);  // 10 of 40 < 55 %
  EXPECT_EQ(h.CountTainted(dying, kTaintNodeUnreachable), 1);
  EXPECT_EQ(h.CountTainted(healthy, kTaintNodeUnreachable), 0);

  // The loop runs the pass whenever a token is due; here every second of fake time.
  const std::map<int, int> want = {{1, 1}, {9, 1}, {10, 2}, {19, 2}, {20, 3}, {35, 4}, {60, 7}, {89, 9}, {90, 10}, {200, 10}};
  for (int second = 1; second <= 200; ++second) {
    h.Advance(1s, second % 10 == 0 ? healthy : std::vector<std::string>{});
    h.Tainting();
    if (auto it = want.find(second); it != want.end()) {
      EXPECT_EQ(h.CountTainted(dying, kTaintNodeUnreachable), it->second) << "after " << second << " s";
    }
  }
  EXPECT_EQ(h.CountTainted(healthy, kTaintNodeUnreachable), 0);
}

struct ZoneCase {
  std::string name;
  int nodes;
  int dying;
  Controller::ZoneState want_state;
  double want_rate;
  int tainted_at_once;  // right after the pass that saw them die
};
void PrintTo(const ZoneCase& c, std::ostream* os) { *os << c.name; }

class ZoneStateTest : public ::testing::TestWithParam<ZoneCase> {};

TEST_P(ZoneStateTest, ZoneStateSetsTheTaintingRate) {
  const ZoneCase& c = GetParam();
  Harness h;  // large_cluster_size_threshold 50, unhealthy_zone_threshold 0.55
  const auto healthy = Names(1, c.nodes - c.dying);
  const auto dying = Names(c.nodes - c.dying + 1, c.nodes);
  for (const auto& n : Names(1, c.nodes)) h.cluster.AddNode(n, "zone-a");
  h.Build();
  h.Monitor();
  h.Advance(41s, healthy);
  h.Monitor();
  const std::string zone = ZoneKey(h.cluster.GetNode("node-1"));
  EXPECT_EQ(Controller::ZoneStateName(h.controller->ZoneStates().at(zone)), Controller::ZoneStateName(c.want_state));
  EXPECT_DOUBLE_EQ(h.controller->ZoneRate(zone).value(), c.want_rate);
  EXPECT_EQ(h.CountTainted(dying, kTaintNodeUnreachable), c.tainted_at_once);
  // Ten minutes on, the rate shows.
  h.RunTainting(600s, 10s, healthy);
  int want_later = c.want_rate == 0 ? 0 : std::min<int>(c.dying, c.tainted_at_once + static_cast<int>(600 * c.want_rate));
  EXPECT_EQ(h.CountTainted(dying, kTaintNodeUnreachable), want_later);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ZoneStateTest,
    ::testing::Values(
        // 2 of 3 down: not more than 2 not-ready nodes, so still Normal.
        ZoneCase{"normal_small", 3, 2, Controller::ZoneState::kNormal, 0.1, 1},
        // 12 of 20 (60 %) down in a small cluster: tainting stops.
        ZoneCase{"partial_small", 20, 12, Controller::ZoneState::kPartialDisruption, 0, 0},
        // 40 of 60 down in a cluster above 50 nodes: the secondary rate.
        ZoneCase{"partial_large", 60, 40, Controller::ZoneState::kPartialDisruption, 0.01, 1},
        // Every node down (the only zone): master disruption mode, no taints at all.
        ZoneCase{"all_down", 3, 3, Controller::ZoneState::kFullDisruption, 0, 0}),
    [](const auto& info) { return info.param.name; });

TEST(NodeLifecycleTest, OneZoneDownInAHealthyClusterIsTaintedAtTheNormalRate) {
  Harness h;
  for (const auto& n : Names(1, 3)) h.cluster.AddNode(n, "zone-a");
  for (const auto& n : Names(4, 6)) h.cluster.AddNode(n, "zone-b");
  h.Build();
  h.Monitor();
  h.Advance(41s, Names(1, 3));
  h.Monitor();
  const std::string zone_b = ZoneKey(h.cluster.GetNode("node-4"));
  EXPECT_EQ(h.controller->ZoneStates().at(zone_b), Controller::ZoneState::kFullDisruption);
  EXPECT_DOUBLE_EQ(h.controller->ZoneRate(zone_b).value(), 0.1);
  EXPECT_EQ(h.CountTainted(Names(4, 6), kTaintNodeUnreachable), 1);
  h.RunTainting(20s, 1s, Names(1, 3));
  EXPECT_EQ(h.CountTainted(Names(4, 6), kTaintNodeUnreachable), 3);
}

TEST(NodeLifecycleTest, AllNodesDownRemovesTaintsUntilOneReturns) {
  Harness h;
  for (const auto& n : Names(1, 4)) h.cluster.AddNode(n);
  h.Build();
  h.Monitor();
  h.Advance(41s, Names(1, 3));
  h.Monitor();
  ASSERT_TRUE(h.cluster.HasTaint("node-4", kTaintNodeUnreachable, kEffectNoExecute));
  // Now the rest goes silent too: every taint is taken off and tainting stops.
  h.Advance(41s, {});
  h.Monitor();
  EXPECT_EQ(h.controller->ZoneStates().at(""), Controller::ZoneState::kFullDisruption);
  EXPECT_EQ(h.CountTainted(Names(1, 4), kTaintNodeUnreachable), 0);
  h.Advance(100s, {});
  h.Monitor();
  EXPECT_EQ(h.CountTainted(Names(1, 4), kTaintNodeUnreachable), 0);
  // node-1 comes back: out of master disruption mode, but 3 of 4 down (75 % >= 55 %) is a
  // partial disruption, and a small cluster does not taint then.
  h.cluster.PostReady("node-1", "True");
  h.cluster.RenewLease("node-1");
  h.Monitor();
  EXPECT_EQ(h.controller->ZoneStates().at(""), Controller::ZoneState::kPartialDisruption);
  EXPECT_EQ(h.CountTainted(Names(1, 4), kTaintNodeUnreachable), 0);
  // node-2 and node-3 come back too: Normal, and node-4 is tainted again.
  for (const auto& n : {"node-2", "node-3"}) {
    h.cluster.PostReady(n, "True");
    h.cluster.RenewLease(n);
  }
  h.Monitor();
  EXPECT_EQ(h.controller->ZoneStates().at(""), Controller::ZoneState::kNormal);
  h.Advance(10s, Names(1, 3));
  h.Tainting();
  EXPECT_TRUE(h.cluster.HasTaint("node-4", kTaintNodeUnreachable, kEffectNoExecute));
}

TEST(NodeLifecycleTest, RegisteredAndRemovedNodeEvents) {
  Harness h;
  h.cluster.AddNode("node-1");
  h.Build();
  h.Monitor();
  EXPECT_EQ(h.cluster.WaitEvents("RegisteredNode", "Registered Node node-1 in Controller").size(), 1u);
  ASSERT_TRUE(h.cluster.env.api.Delete(testing::ResourceOf(corev1::Node::descriptor()), "", "node-1").ok());
  h.Monitor();
  EXPECT_EQ(h.cluster.WaitEvents("RemovingNode", "Removing Node node-1 from Controller").size(), 1u);
}

// ---- The loop on the clock ----------------------------------------------------------------------

TEST(NodeLifecycleTest, MonitorLoopRunsOnTheClock) {
  Harness h;
  h.cluster.AddNode("node-1");
  h.cluster.AddNode("node-2");
  h.cluster.AddNode("node-3");
  h.controller = std::make_unique<Controller>(h.cluster.env.context);
  h.cluster.env.Start(*h.controller);
  // No Sync by hand: the workers run "monitor:" every node_monitor_period on the fake clock.
  for (int i = 0; i < 9; ++i) {
    h.Advance(5s, {"node-2", "node-3"});
    // The renewals reach the cache before the clock moves on, as they would in real time.
    h.cluster.Settle(h.controller->Informers());
  }
  // Some pass runs at T0+45 (a pass at T0+5k leaves the next one due at T0+5(k+1)). A pass still
  // running while the clock moved schedules the next one from the later time (seen under a loaded
  // ctest -j2): the clock keeps moving, a second per look with node-2 and node-3 renewing, until
  // a pass has run.
  ASSERT_TRUE(client::testing::WaitFor([&] {
    if (h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoExecute)) return true;
    h.Advance(1s, {"node-2", "node-3"});
    h.cluster.Settle(h.controller->Informers());
    return false;
  }));
  EXPECT_EQ(h.cluster.ReadyStatus("node-1"), "Unknown");
  EXPECT_EQ(h.cluster.ReadyStatus("node-2"), "True");
  // The node update reaches the "node:" key: the NoSchedule taint follows without a Sync by hand.
  EXPECT_TRUE(client::testing::WaitFor([&] { return h.cluster.HasTaint("node-1", kTaintNodeUnreachable, kEffectNoSchedule); }));
}

}  // namespace
}  // namespace ck::controller_manager
