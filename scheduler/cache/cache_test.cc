// Cache: assumed pods (assume/confirm/forget/expire), informer pods and nodes, per-node
// aggregates, and incremental snapshots. Time is a FakeClock; expiry is driven by calling
// CleanupExpiredAssumedPods directly.
#include "scheduler/cache/cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "common/api/testing/builders.h"

namespace ck::scheduler {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;
using api::testing::PodBuilder;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr int64_t kMi = 1024 * 1024;
constexpr Duration kTtl = 10s;

NodePtr Node(const std::string& name, const std::string& zone = "", const std::string& cpu = "4") {
  auto b = MakeNode(name).Capacity(cpu, "8Gi");
  if (!zone.empty()) b.Label("topology.kubernetes.io/zone", zone);
  return std::make_shared<const corev1::Node>(b.Obj());
}

// A pod with a UID (the cache's key) on `node`.
PodBuilder Pod(const std::string& name, const std::string& node) {
  PodBuilder b = MakePod(name);
  b.Uid("uid-" + name);
  if (!node.empty()) b.Node(node);
  return b;
}

PodPtr Ptr(const corev1::Pod& pod) { return std::make_shared<const corev1::Pod>(pod); }

PodInfoPtr Info(const corev1::Pod& pod) {
  auto info = PodInfo::Create(pod);
  EXPECT_TRUE(info.ok()) << info.status().ToString();
  return *info;
}

// Adds a required pod anti-affinity term (app=<app> on kubernetes.io/hostname).
corev1::Pod WithAntiAffinity(corev1::Pod pod, const std::string& app, const std::string& op = "In") {
  auto* term = pod.mutable_spec()
                   ->mutable_affinity()
                   ->mutable_podantiaffinity()
                   ->add_requiredduringschedulingignoredduringexecution();
  term->set_topologykey("kubernetes.io/hostname");
  auto* expr = term->mutable_labelselector()->add_matchexpressions();
  expr->set_key("app");
  expr->set_operator_(op);
  expr->add_values(app);
  return pod;
}

class CacheTest : public ::testing::Test {
 protected:
  CacheTest() : cache_(clock_, CacheOptions{kTtl}) {}

  // The cache's NodeInfo for `node` as the next snapshot shows it.
  const NodeInfo* Snap(const std::string& node) {
    EXPECT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
    return snapshot_.Get(node);
  }
  std::shared_ptr<const NodeInfo> Dumped(const std::string& node) {
    auto dump = cache_.Dump();
    auto it = dump.nodes.find(node);
    return it == dump.nodes.end() ? nullptr : it->second;
  }
  std::vector<std::string> SnapshotOrder() {
    EXPECT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
    std::vector<std::string> names;
    for (const auto& n : snapshot_.List()) names.push_back(n->name());
    return names;
  }

  FakeClock clock_;
  Cache cache_;
  Snapshot snapshot_;
};

// ---- Assumed pods -----------------------------------------------------------------------------

TEST_F(CacheTest, AssumedPodIsVisibleUntilConfirmed) {
  cache_.AddNode(Node("n1"));
  corev1::Pod pod = Pod("p", "n1").Cpu("500m").Memory("1Gi");
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  EXPECT_TRUE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(cache_.AssumedPodCount(), 1u);
  const NodeInfo* n1 = Snap("n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_EQ(n1->requested().milli_cpu, 500);
  EXPECT_EQ(n1->requested().memory, 1024 * kMi);
  EXPECT_EQ(n1->pods().size(), 1u);

  cache_.FinishBinding(pod);
  // The informer confirms: the pod stays, no longer assumed, and never expires.
  ASSERT_TRUE(cache_.AddPod(Ptr(pod)).ok());
  EXPECT_FALSE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(cache_.AssumedPodCount(), 0u);
  clock_.Advance(kTtl + 1h);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 0u);
  EXPECT_EQ(cache_.PodCount(), 1u);
  EXPECT_EQ(Snap("n1")->requested().milli_cpu, 500);
  EXPECT_EQ(Snap("n1")->pods().size(), 1u);
}

TEST_F(CacheTest, ConfirmationReplacesTheAssumedCopy) {
  cache_.AddNode(Node("n1"));
  corev1::Pod assumed = Pod("p", "n1").Cpu("500m");
  ASSERT_TRUE(cache_.AssumePod(Info(assumed)).ok());
  // The informer's version (e.g. with a status) is what the cache keeps.
  corev1::Pod confirmed = Pod("p", "n1").Cpu("500m").Phase("Running");
  PodPtr confirmed_ptr = Ptr(confirmed);
  ASSERT_TRUE(cache_.AddPod(confirmed_ptr).ok());
  auto got = cache_.GetPod(assumed);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->pod, confirmed_ptr);
  EXPECT_EQ(Snap("n1")->pods().size(), 1u);
}

TEST_F(CacheTest, ExpiresOnlyAfterFinishBindingAndTtl) {
  cache_.AddNode(Node("n1"));
  corev1::Pod pod = Pod("p", "n1").Cpu("1");
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());

  // Binding still in flight: never expires, however long it takes.
  clock_.Advance(1h);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 0u);
  EXPECT_TRUE(cache_.IsAssumedPod(pod));

  cache_.FinishBinding(pod);
  clock_.Advance(kTtl);
  // Exactly at the deadline: not yet (upstream expires strictly after it).
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 0u);
  EXPECT_TRUE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(Snap("n1")->requested().milli_cpu, 1000);

  clock_.Advance(1ms);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 1u);
  EXPECT_FALSE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(cache_.GetPod(pod).status().code(), Code::kNotFound);
  EXPECT_EQ(cache_.PodCount(), 0u);
  const NodeInfo* n1 = Snap("n1");
  EXPECT_EQ(n1->requested().milli_cpu, 0);
  EXPECT_TRUE(n1->pods().empty());

  // A late informer add brings it back as an added pod.
  ASSERT_TRUE(cache_.AddPod(Ptr(pod)).ok());
  EXPECT_FALSE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(Snap("n1")->requested().milli_cpu, 1000);
}

TEST_F(CacheTest, ExpiryCountsFromFinishBinding) {
  cache_.AddNode(Node("n1"));
  corev1::Pod early = Pod("early", "n1");
  corev1::Pod late = Pod("late", "n1");
  ASSERT_TRUE(cache_.AssumePod(Info(early)).ok());
  ASSERT_TRUE(cache_.AssumePod(Info(late)).ok());
  cache_.FinishBinding(early);
  clock_.Advance(kTtl / 2);
  cache_.FinishBinding(late);
  clock_.Advance(kTtl / 2 + 1ms);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 1u);
  EXPECT_FALSE(cache_.IsAssumedPod(early));
  EXPECT_TRUE(cache_.IsAssumedPod(late));
  clock_.Advance(kTtl / 2);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 1u);
  EXPECT_EQ(cache_.PodCount(), 0u);
}

TEST(CacheTtlTest, ZeroTtlNeverExpires) {
  FakeClock clock;
  Cache cache(clock, CacheOptions{Duration::zero()});
  cache.AddNode(Node("n1"));
  corev1::Pod pod = Pod("p", "n1");
  ASSERT_TRUE(cache.AssumePod(Info(pod)).ok());
  cache.FinishBinding(pod);
  clock.Advance(24h * 365);
  EXPECT_EQ(cache.CleanupExpiredAssumedPods(clock.Monotonic()), 0u);
  EXPECT_TRUE(cache.IsAssumedPod(pod));
  EXPECT_FALSE(cache.Dump().assumed_pods.begin()->second.expires_in.has_value());
}

TEST(CacheTtlTest, DefaultTtlIsFifteenMinutes) {
  FakeClock clock;
  Cache cache(clock);
  cache.AddNode(Node("n1"));
  corev1::Pod pod = Pod("p", "n1");
  ASSERT_TRUE(cache.AssumePod(Info(pod)).ok());
  cache.FinishBinding(pod);
  clock.Advance(15min);
  EXPECT_EQ(cache.CleanupExpiredAssumedPods(clock.Monotonic()), 0u);
  clock.Advance(1s);
  EXPECT_EQ(cache.CleanupExpiredAssumedPods(clock.Monotonic()), 1u);
}

TEST_F(CacheTest, ForgetUndoesTheAssumption) {
  cache_.AddNode(Node("n1"));
  corev1::Pod other = Pod("other", "n1").Cpu("250m").Port(80, 8080);
  ASSERT_TRUE(cache_.AddPod(Ptr(other)).ok());
  corev1::Pod pod = Pod("p", "n1").Cpu("500m").Port(80, 9090);
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  EXPECT_EQ(Snap("n1")->requested().milli_cpu, 750);
  EXPECT_EQ(Snap("n1")->used_ports().size(), 2u);

  ASSERT_TRUE(cache_.ForgetPod(pod).ok());
  EXPECT_FALSE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(cache_.GetPod(pod).status().code(), Code::kNotFound);
  const NodeInfo* n1 = Snap("n1");
  EXPECT_EQ(n1->requested().milli_cpu, 250);
  EXPECT_EQ(n1->used_ports().size(), 1u);
  EXPECT_FALSE(n1->used_ports().CheckConflict(HostPort{"0.0.0.0", "TCP", 9090}));
  EXPECT_TRUE(n1->used_ports().CheckConflict(HostPort{"0.0.0.0", "TCP", 8080}));
  ASSERT_EQ(n1->pods().size(), 1u);
  EXPECT_EQ(n1->pods()[0]->name(), "other");

  // Forgetting twice, or forgetting a pod the informer added, is refused.
  EXPECT_EQ(cache_.ForgetPod(pod).code(), Code::kNotFound);
  EXPECT_EQ(cache_.ForgetPod(other).code(), Code::kNotFound);
  EXPECT_EQ(cache_.PodCount(), 1u);
}

TEST_F(CacheTest, ForgetOnAnotherNodeIsAConflict) {
  cache_.AddNode(Node("n1"));
  cache_.AddNode(Node("n2"));
  corev1::Pod pod = Pod("p", "n1").Cpu("500m");
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  Status s = cache_.ForgetPod(Pod("p", "n2").Cpu("500m"));
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_THAT(s.message(), HasSubstr("was assumed on n1 but assigned to n2"));
  EXPECT_TRUE(cache_.IsAssumedPod(pod));
}

TEST_F(CacheTest, ConfirmationOnAnotherNodeMovesThePod) {
  cache_.AddNode(Node("n1"));
  cache_.AddNode(Node("n2"));
  corev1::Pod pod = Pod("p", "n1").Cpu("500m").Port(80, 8080);
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  cache_.FinishBinding(pod);
  corev1::Pod landed = Pod("p", "n2").Cpu("500m").Port(80, 8080);
  ASSERT_TRUE(cache_.AddPod(Ptr(landed)).ok());
  EXPECT_FALSE(cache_.IsAssumedPod(pod));
  const NodeInfo* n1 = Snap("n1");
  EXPECT_TRUE(n1->pods().empty());
  EXPECT_EQ(n1->requested().milli_cpu, 0);
  EXPECT_EQ(n1->used_ports().size(), 0u);
  const NodeInfo* n2 = Snap("n2");
  ASSERT_EQ(n2->pods().size(), 1u);
  EXPECT_EQ(n2->requested().milli_cpu, 500);
  EXPECT_TRUE(n2->used_ports().CheckConflict(HostPort{"0.0.0.0", "TCP", 8080}));
  EXPECT_EQ((*cache_.GetPod(pod))->pod->spec().nodename(), "n2");
  // It is an added pod now: no expiry, and removing it uses the node the informer said.
  clock_.Advance(kTtl * 2);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 0u);
  ASSERT_TRUE(cache_.RemovePod(landed).ok());
  EXPECT_TRUE(Snap("n2")->pods().empty());
}

TEST_F(CacheTest, AssumeRefusals) {
  cache_.AddNode(Node("n1"));
  EXPECT_EQ(cache_.AssumePod(Info(MakePod("no-uid").Node("n1"))).code(), Code::kBadRequest);
  EXPECT_EQ(cache_.AssumePod(Info(Pod("no-node", ""))).code(), Code::kBadRequest);
  corev1::Pod pod = Pod("p", "n1");
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  EXPECT_EQ(cache_.AssumePod(Info(pod)).code(), Code::kAlreadyExists);
  corev1::Pod added = Pod("added", "n1");
  ASSERT_TRUE(cache_.AddPod(Ptr(added)).ok());
  EXPECT_EQ(cache_.AssumePod(Info(added)).code(), Code::kAlreadyExists);
  EXPECT_EQ(cache_.PodCount(), 2u);
  EXPECT_EQ(Snap("n1")->pods().size(), 2u);
}

TEST_F(CacheTest, FinishBindingOfUnknownOrAddedPodIsANoOp) {
  cache_.AddNode(Node("n1"));
  corev1::Pod added = Pod("added", "n1");
  ASSERT_TRUE(cache_.AddPod(Ptr(added)).ok());
  cache_.FinishBinding(added);
  cache_.FinishBinding(Pod("unknown", "n1"));
  clock_.Advance(kTtl * 3);
  EXPECT_EQ(cache_.CleanupExpiredAssumedPods(clock_.Monotonic()), 0u);
  EXPECT_EQ(cache_.PodCount(), 1u);
}

// ---- Informer pods ----------------------------------------------------------------------------

TEST_F(CacheTest, AddUpdateRemoveKeepAggregatesRight) {
  cache_.AddNode(Node("n1"));
  corev1::Pod a = Pod("a", "n1").Cpu("500m").Memory("256Mi").Port(80, 8080);
  corev1::Pod b = Pod("b", "n1").Container("app");  // no requests: 100m / 200Mi in the non-zero sums
  ASSERT_TRUE(cache_.AddPod(Ptr(a)).ok());
  ASSERT_TRUE(cache_.AddPod(Ptr(b)).ok());
  const NodeInfo* n1 = Snap("n1");
  EXPECT_EQ(n1->requested().milli_cpu, 500);
  EXPECT_EQ(n1->requested().memory, 256 * kMi);
  EXPECT_EQ(n1->non_zero_requested().milli_cpu, 500 + kDefaultMilliCpuRequest);
  EXPECT_EQ(n1->non_zero_requested().memory, 256 * kMi + kDefaultMemoryRequest);
  EXPECT_EQ(n1->used_ports().size(), 1u);
  EXPECT_EQ(n1->pods().size(), 2u);
  EXPECT_EQ(n1->allocatable().milli_cpu, 4000);

  // Update: new requests, a different host port, an extended resource.
  corev1::Pod a2 = Pod("a", "n1").Cpu("1500m").Memory("256Mi").Request("example.com/gpu", "1").Port(80, 9090);
  ASSERT_TRUE(cache_.UpdatePod(Ptr(a2)).ok());
  n1 = Snap("n1");
  EXPECT_EQ(n1->requested().milli_cpu, 1500);
  EXPECT_EQ(n1->requested().scalar.at("example.com/gpu"), 1);
  EXPECT_EQ(n1->non_zero_requested().milli_cpu, 1500 + kDefaultMilliCpuRequest);
  EXPECT_FALSE(n1->used_ports().CheckConflict(HostPort{"0.0.0.0", "TCP", 8080}));
  EXPECT_TRUE(n1->used_ports().CheckConflict(HostPort{"0.0.0.0", "TCP", 9090}));
  EXPECT_EQ(n1->pods().size(), 2u);

  ASSERT_TRUE(cache_.RemovePod(a2).ok());
  n1 = Snap("n1");
  EXPECT_EQ(n1->requested().milli_cpu, 0);
  EXPECT_EQ(n1->requested().Get("example.com/gpu"), 0);
  EXPECT_EQ(n1->non_zero_requested().milli_cpu, kDefaultMilliCpuRequest);
  EXPECT_EQ(n1->non_zero_requested().memory, kDefaultMemoryRequest);
  EXPECT_EQ(n1->used_ports().size(), 0u);
  ASSERT_EQ(n1->pods().size(), 1u);
  EXPECT_EQ(n1->pods()[0]->name(), "b");

  // A delete seen as the informer's last known state may lack nodeName.
  corev1::Pod b_last = Pod("b", "");
  ASSERT_TRUE(cache_.RemovePod(b_last).ok());
  n1 = Snap("n1");
  EXPECT_TRUE(n1->pods().empty());
  EXPECT_EQ(n1->non_zero_requested().milli_cpu, 0);
  EXPECT_EQ(cache_.PodCount(), 0u);
}

TEST_F(CacheTest, InformerRefusals) {
  cache_.AddNode(Node("n1"));
  corev1::Pod pod = Pod("p", "n1");
  EXPECT_EQ(cache_.UpdatePod(Ptr(pod)).code(), Code::kNotFound);
  EXPECT_EQ(cache_.RemovePod(pod).code(), Code::kNotFound);
  EXPECT_EQ(cache_.AddPod(Ptr(MakePod("no-uid").Node("n1"))).code(), Code::kBadRequest);
  EXPECT_EQ(cache_.AddPod(Ptr(Pod("unassigned", ""))).code(), Code::kBadRequest);
  ASSERT_TRUE(cache_.AddPod(Ptr(pod)).ok());
  EXPECT_EQ(cache_.AddPod(Ptr(pod)).code(), Code::kAlreadyExists);
  EXPECT_EQ(Snap("n1")->pods().size(), 1u);

  // An assumed pod is added (confirmed) before it can be updated.
  corev1::Pod assumed = Pod("assumed", "n1");
  ASSERT_TRUE(cache_.AssumePod(Info(assumed)).ok());
  EXPECT_EQ(cache_.UpdatePod(Ptr(assumed)).code(), Code::kConflict);
  EXPECT_TRUE(cache_.IsAssumedPod(assumed));
}

TEST_F(CacheTest, RemovingAnAssumedPodDropsTheAssumption) {
  cache_.AddNode(Node("n1"));
  corev1::Pod pod = Pod("p", "n1").Cpu("1");
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  ASSERT_TRUE(cache_.RemovePod(pod).ok());
  EXPECT_FALSE(cache_.IsAssumedPod(pod));
  EXPECT_EQ(cache_.AssumedPodCount(), 0u);
  EXPECT_EQ(Snap("n1")->requested().milli_cpu, 0);
}

TEST_F(CacheTest, UpdateToAnotherNodeFollowsTheInformer) {
  cache_.AddNode(Node("n1"));
  cache_.AddNode(Node("n2"));
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("p", "n1").Cpu("1"))).ok());
  ASSERT_TRUE(cache_.UpdatePod(Ptr(Pod("p", "n2").Cpu("1"))).ok());
  EXPECT_TRUE(Snap("n1")->pods().empty());
  EXPECT_EQ(Snap("n2")->requested().milli_cpu, 1000);
}

TEST_F(CacheTest, PodsWithAffinityAreTrackedPerNode) {
  cache_.AddNode(Node("n1"));
  corev1::Pod plain = Pod("plain", "n1").Label("app", "web");
  corev1::Pod anti = WithAntiAffinity(Pod("anti", "n1").Label("app", "web"), "web");
  ASSERT_TRUE(cache_.AddPod(Ptr(plain)).ok());
  ASSERT_TRUE(cache_.AddPod(Ptr(anti)).ok());
  const NodeInfo* n1 = Snap("n1");
  ASSERT_EQ(n1->pods_with_affinity().size(), 1u);
  EXPECT_EQ(n1->pods_with_affinity()[0]->name(), "anti");
  EXPECT_EQ(n1->pods_with_required_anti_affinity().size(), 1u);
  ASSERT_TRUE(cache_.RemovePod(anti).ok());
  n1 = Snap("n1");
  EXPECT_TRUE(n1->pods_with_affinity().empty());
  EXPECT_TRUE(n1->pods_with_required_anti_affinity().empty());
}

// Assigned pods whose spec does not parse still take their node's resources.
TEST_F(CacheTest, AssignedPodWithSpecErrorsIsCountedWithWhatParses) {
  cache_.AddNode(Node("n1"));
  // A pod anti-affinity selector with an operator no selector has: counted without its terms.
  corev1::Pod bad_affinity =
      WithAntiAffinity(Pod("bad-affinity", "n1").Cpu("300m").Port(80, 8080), "web", "Bogus");
  ASSERT_FALSE(PodInfo::Create(bad_affinity).ok());
  ASSERT_TRUE(cache_.AddPod(Ptr(bad_affinity)).ok());
  // A cpu quantity that does not parse: memory still counts, cpu falls back to the non-zero default.
  corev1::Pod bad_quantity = Pod("bad-quantity", "n1").Memory("1Gi");
  (*bad_quantity.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests())["cpu"].set_string("lots");
  ASSERT_FALSE(PodInfo::Create(bad_quantity).ok());
  PodPtr bad_quantity_ptr = Ptr(bad_quantity);
  ASSERT_TRUE(cache_.AddPod(bad_quantity_ptr).ok());
  EXPECT_EQ(cache_.pods_with_spec_errors(), 2);

  const NodeInfo* n1 = Snap("n1");
  ASSERT_EQ(n1->pods().size(), 2u);
  EXPECT_EQ(n1->requested().milli_cpu, 300);
  EXPECT_EQ(n1->requested().memory, 1024 * kMi);
  EXPECT_EQ(n1->non_zero_requested().milli_cpu, 300 + kDefaultMilliCpuRequest);
  EXPECT_TRUE(n1->used_ports().CheckConflict(HostPort{"0.0.0.0", "TCP", 8080}));
  EXPECT_TRUE(n1->pods_with_affinity().empty());
  // The cache keeps the informer's object, not the stripped copy it parsed.
  EXPECT_EQ((*cache_.GetPod(bad_quantity))->pod, bad_quantity_ptr);

  // And it leaves cleanly.
  ASSERT_TRUE(cache_.RemovePod(bad_affinity).ok());
  ASSERT_TRUE(cache_.RemovePod(bad_quantity).ok());
  n1 = Snap("n1");
  EXPECT_EQ(n1->requested().milli_cpu, 0);
  EXPECT_EQ(n1->requested().memory, 0);
  EXPECT_EQ(n1->used_ports().size(), 0u);
}

// ---- Nodes ------------------------------------------------------------------------------------

TEST_F(CacheTest, NodeAddUpdateRemove) {
  cache_.AddNode(Node("n1", "", "4"));
  cache_.AddNode(Node("n2"));
  EXPECT_EQ(cache_.NodeCount(), 2u);
  EXPECT_EQ(Snap("n1")->allocatable().milli_cpu, 4000);
  cache_.UpdateNode(Node("n1", "", "8"));
  EXPECT_EQ(cache_.NodeCount(), 2u);
  EXPECT_EQ(Snap("n1")->allocatable().milli_cpu, 8000);
  // Adding a known node updates it.
  cache_.AddNode(Node("n1", "", "2"));
  EXPECT_EQ(cache_.NodeCount(), 2u);
  EXPECT_EQ(Snap("n1")->allocatable().milli_cpu, 2000);
  // Updating an unknown node adds it.
  cache_.UpdateNode(Node("n3"));
  EXPECT_EQ(cache_.NodeCount(), 3u);

  ASSERT_TRUE(cache_.RemoveNode("n2").ok());
  EXPECT_EQ(cache_.NodeCount(), 2u);
  EXPECT_EQ(Snap("n2"), nullptr);
  EXPECT_EQ(snapshot_.NumNodes(), 2u);
  EXPECT_EQ(Dumped("n2"), nullptr);
  EXPECT_EQ(cache_.RemoveNode("n2").code(), Code::kNotFound);
  EXPECT_EQ(cache_.RemoveNode("never").code(), Code::kNotFound);
}

TEST_F(CacheTest, RemovedNodeKeepsItsPodsUntilTheyGo) {
  cache_.AddNode(Node("n1"));
  cache_.AddNode(Node("n2"));
  corev1::Pod a = Pod("a", "n1").Cpu("1");
  corev1::Pod b = Pod("b", "n1").Cpu("1");
  ASSERT_TRUE(cache_.AddPod(Ptr(a)).ok());
  ASSERT_TRUE(cache_.AddPod(Ptr(b)).ok());
  ASSERT_NE(Snap("n1"), nullptr);

  ASSERT_TRUE(cache_.RemoveNode("n1").ok());
  EXPECT_EQ(cache_.NodeCount(), 1u);
  EXPECT_EQ(Snap("n1"), nullptr);  // gone from the cycle's view
  EXPECT_EQ(snapshot_.NumNodes(), 1u);
  auto kept = Dumped("n1");  // but the cache still holds its pods
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->node(), nullptr);
  EXPECT_EQ(kept->pods().size(), 2u);
  EXPECT_EQ(kept->requested().milli_cpu, 2000);
  EXPECT_THAT(cache_.Dump().ToString(), HasSubstr("node n1 (removed; holds pods)"));
  EXPECT_EQ(cache_.RemoveNode("n1").code(), Code::kNotFound);

  ASSERT_TRUE(cache_.RemovePod(a).ok());
  ASSERT_NE(Dumped("n1"), nullptr);
  ASSERT_TRUE(cache_.RemovePod(b).ok());
  EXPECT_EQ(Dumped("n1"), nullptr);  // last pod gone: so is the NodeInfo
  EXPECT_EQ(cache_.PodCount(), 0u);
  EXPECT_EQ(Snap("n1"), nullptr);
}

// A node removal is a change like any other: it must not hide changes made before it from the
// snapshot's newest-first walk (the removal gets a fresh generation from the global counter).
TEST_F(CacheTest, RemovedNodeDoesNotHideEarlierChanges) {
  // n3 changes long before the snapshot, n2 after it, then n3 goes.
  cache_.AddNode(Node("n3"));
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("on-n3", "n3"))).ok());
  for (const char* n : {"n1", "n2"}) cache_.AddNode(Node(n));
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("on-n2", "n2").Cpu("2"))).ok());
  ASSERT_TRUE(cache_.RemoveNode("n3").ok());  // keeps a Node-less NodeInfo for its pod
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  EXPECT_EQ(snapshot_.Get("n2")->requested().milli_cpu, 2000);
  EXPECT_EQ(snapshot_.Get("n3"), nullptr);
  EXPECT_EQ(snapshot_.NumNodes(), 2u);
}

TEST_F(CacheTest, RemovedNodeComingBackKeepsItsPods) {
  cache_.AddNode(Node("n1"));
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("a", "n1").Cpu("1"))).ok());
  ASSERT_NE(Snap("n1"), nullptr);
  ASSERT_TRUE(cache_.RemoveNode("n1").ok());
  EXPECT_EQ(Snap("n1"), nullptr);
  cache_.AddNode(Node("n1"));
  const NodeInfo* n1 = Snap("n1");
  ASSERT_NE(n1, nullptr);
  EXPECT_EQ(n1->requested().milli_cpu, 1000);
  EXPECT_EQ(snapshot_.NumNodes(), 1u);
}

TEST_F(CacheTest, PodsBeforeTheirNode) {
  cache_.AddNode(Node("n1"));
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("early", "n9").Cpu("750m"))).ok());
  EXPECT_EQ(Snap("n9"), nullptr);
  EXPECT_EQ(snapshot_.NumNodes(), 1u);
  EXPECT_EQ(cache_.NodeCount(), 1u);
  cache_.AddNode(Node("n9"));
  const NodeInfo* n9 = Snap("n9");
  ASSERT_NE(n9, nullptr);
  EXPECT_EQ(n9->requested().milli_cpu, 750);
  EXPECT_EQ(n9->allocatable().milli_cpu, 4000);
  EXPECT_EQ(snapshot_.NumNodes(), 2u);
}

// ---- Snapshot ---------------------------------------------------------------------------------

TEST_F(CacheTest, SnapshotCopiesOnlyChangedNodeInfos) {
  for (int i = 1; i <= 5; ++i) cache_.AddNode(Node("n" + std::to_string(i)));
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  ASSERT_EQ(snapshot_.NumNodes(), 5u);
  std::map<std::string, NodeInfo*> before;
  std::map<std::string, int64_t> generation_before;
  for (const auto& n : snapshot_.List()) {
    before[n->name()] = n.get();
    generation_before[n->name()] = n->generation();
  }
  const int64_t snapshot_generation = snapshot_.generation();

  // Mark every snapshot NodeInfo with a pod the cache does not have: a NodeInfo the cache copies
  // again loses its marker; one it leaves alone keeps it.
  for (const auto& n : snapshot_.List()) n->AddPod(Info(Pod("marker-" + n->name(), n->name())));

  corev1::Pod pod = Pod("p", "n3").Cpu("1");
  ASSERT_TRUE(cache_.AssumePod(Info(pod)).ok());
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());

  EXPECT_GT(snapshot_.generation(), snapshot_generation);
  for (const auto& n : snapshot_.List()) {
    // Pointers are stable: the copy is made in place.
    EXPECT_EQ(n.get(), before[n->name()]) << n->name();
    if (n->name() == "n3") {
      ASSERT_EQ(n->pods().size(), 1u);
      EXPECT_EQ(n->pods()[0]->name(), "p");
      EXPECT_EQ(n->requested().milli_cpu, 1000);
      EXPECT_GT(n->generation(), generation_before["n3"]);
      EXPECT_EQ(n->generation(), Dumped("n3")->generation());
    } else {
      ASSERT_EQ(n->pods().size(), 1u) << n->name();
      EXPECT_EQ(n->pods()[0]->name(), "marker-" + n->name());
    }
  }

  // Nothing changed: nothing is copied (the n3 marker added now survives).
  snapshot_.Get("n3")->AddPod(Info(Pod("marker-again", "n3")));
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  EXPECT_EQ(snapshot_.Get("n3")->pods().size(), 2u);
}

TEST_F(CacheTest, SnapshotFollowsNodeChurn) {
  for (const char* n : {"n1", "n2", "n3"}) cache_.AddNode(Node(n));
  EXPECT_EQ(SnapshotOrder(), (std::vector<std::string>{"n1", "n2", "n3"}));
  // One removed and one added between two cycles: sizes match, yet the old one must go.
  ASSERT_TRUE(cache_.RemoveNode("n2").ok());
  cache_.AddNode(Node("n4"));
  EXPECT_EQ(SnapshotOrder(), (std::vector<std::string>{"n1", "n3", "n4"}));
  EXPECT_EQ(snapshot_.Get("n2"), nullptr);
  EXPECT_EQ(snapshot_.mutable_map().size(), 3u);
  ASSERT_TRUE(cache_.RemoveNode("n1").ok());
  ASSERT_TRUE(cache_.RemoveNode("n3").ok());
  ASSERT_TRUE(cache_.RemoveNode("n4").ok());
  EXPECT_TRUE(SnapshotOrder().empty());
  EXPECT_TRUE(snapshot_.mutable_map().empty());
}

TEST_F(CacheTest, SnapshotOrderInterleavesZones) {
  // Three zones, added zone by zone; the cycle sees them round-robin.
  for (int i = 1; i <= 3; ++i) cache_.AddNode(Node("a" + std::to_string(i), "zone-a"));
  for (int i = 1; i <= 2; ++i) cache_.AddNode(Node("b" + std::to_string(i), "zone-b"));
  cache_.AddNode(Node("c1", "zone-c"));
  EXPECT_EQ(SnapshotOrder(), (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "a3"}));

  // A node that changes zone moves in the order.
  cache_.UpdateNode(Node("a1", "zone-c"));
  EXPECT_EQ(SnapshotOrder(), (std::vector<std::string>{"a2", "b1", "c1", "a3", "b2", "a1"}));

  // Beta labels count too.
  cache_.AddNode(std::make_shared<const corev1::Node>(
      MakeNode("d1").Capacity("4", "8Gi").Label("failure-domain.beta.kubernetes.io/zone", "zone-d").Obj()));
  EXPECT_EQ(SnapshotOrder(), (std::vector<std::string>{"a2", "b1", "c1", "d1", "a3", "b2", "a1"}));
}

TEST_F(CacheTest, SnapshotAffinityListsFollowPods) {
  for (const char* n : {"n1", "n2", "n3"}) cache_.AddNode(Node(n));
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  EXPECT_TRUE(snapshot_.HavePodsWithAffinity().empty());

  corev1::Pod anti = WithAntiAffinity(Pod("anti", "n2").Label("app", "db"), "db");
  ASSERT_TRUE(cache_.AssumePod(Info(anti)).ok());
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  ASSERT_EQ(snapshot_.HavePodsWithAffinity().size(), 1u);
  EXPECT_EQ(snapshot_.HavePodsWithAffinity()[0]->name(), "n2");
  ASSERT_EQ(snapshot_.HavePodsWithRequiredAntiAffinity().size(), 1u);

  ASSERT_TRUE(cache_.ForgetPod(anti).ok());
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  EXPECT_TRUE(snapshot_.HavePodsWithAffinity().empty());
  EXPECT_TRUE(snapshot_.HavePodsWithRequiredAntiAffinity().empty());
  EXPECT_EQ(snapshot_.NumNodes(), 3u);
}

TEST_F(CacheTest, TwoSnapshotsAreIndependent) {
  cache_.AddNode(Node("n1"));
  Snapshot other;
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("p", "n1").Cpu("1"))).ok());
  ASSERT_TRUE(cache_.UpdateSnapshot(&other).ok());
  EXPECT_EQ(other.Get("n1")->requested().milli_cpu, 1000);
  EXPECT_EQ(snapshot_.Get("n1")->requested().milli_cpu, 0);
  ASSERT_TRUE(cache_.UpdateSnapshot(&snapshot_).ok());
  EXPECT_EQ(snapshot_.Get("n1")->requested().milli_cpu, 1000);
}

// ---- Dump -------------------------------------------------------------------------------------

TEST_F(CacheTest, DumpListsNodesPodsAndAssumptions) {
  cache_.AddNode(Node("n1", "zone-a"));
  ASSERT_TRUE(cache_.AddPod(Ptr(Pod("added", "n1").Cpu("250m"))).ok());
  corev1::Pod assumed = Pod("assumed", "n1").Cpu("500m");
  ASSERT_TRUE(cache_.AssumePod(Info(assumed)).ok());
  cache_.FinishBinding(assumed);
  clock_.Advance(4s);

  CacheDump dump = cache_.Dump();
  ASSERT_EQ(dump.nodes.size(), 1u);
  EXPECT_EQ(dump.nodes.at("n1")->pods().size(), 2u);
  ASSERT_EQ(dump.assumed_pods.size(), 1u);
  const auto& a = dump.assumed_pods.at("uid-assumed");
  EXPECT_EQ(a.key, "default/assumed");
  EXPECT_EQ(a.node, "n1");
  EXPECT_TRUE(a.binding_finished);
  ASSERT_TRUE(a.expires_in.has_value());
  EXPECT_EQ(*a.expires_in, kTtl - 4s);

  std::string text = dump.ToString();
  EXPECT_THAT(text, HasSubstr("node n1 zone=zone-a pods=2"));
  EXPECT_THAT(text, HasSubstr("requested:   cpu=750m"));
  EXPECT_THAT(text, HasSubstr("- default/added uid=uid-added\n"));
  EXPECT_THAT(text, HasSubstr("- default/assumed uid=uid-assumed (assumed)"));
  EXPECT_THAT(text, HasSubstr("assumed default/assumed uid=uid-assumed on n1 binding finished, expires in 6000ms"));

  // The dump is a copy: later changes do not show in it.
  ASSERT_TRUE(cache_.ForgetPod(assumed).ok());
  EXPECT_EQ(dump.nodes.at("n1")->pods().size(), 2u);
}

// ---- Threads ----------------------------------------------------------------------------------

// Informer threads add and remove pods while the scheduling loop assumes, forgets and snapshots;
// at the end the cache and a fresh snapshot agree with what was left.
TEST(CacheThreadsTest, ConcurrentWritersAndSnapshots) {
  FakeClock clock;
  Cache cache(clock, CacheOptions{kTtl});
  constexpr int kNodes = 20;
  constexpr int kPodsPerWriter = 400;
  for (int i = 0; i < kNodes; ++i) cache.AddNode(Node("n" + std::to_string(i), "z" + std::to_string(i % 3)));

  std::atomic<bool> failed{false};
  auto writer = [&](const std::string& prefix) {
    for (int i = 0; i < kPodsPerWriter; ++i) {
      corev1::Pod pod = Pod(prefix + std::to_string(i), "n" + std::to_string(i % kNodes)).Cpu("10m");
      if (!cache.AddPod(Ptr(pod)).ok()) failed = true;
      // Remove every other pod again.
      if (i % 2 == 1 && !cache.RemovePod(pod).ok()) failed = true;
    }
  };
  std::thread informer_a(writer, "a-");
  std::thread informer_b(writer, "b-");
  Snapshot snapshot;
  for (int i = 0; i < kPodsPerWriter; ++i) {
    corev1::Pod pod = Pod("s-" + std::to_string(i), "n" + std::to_string(i % kNodes)).Cpu("10m");
    if (!cache.AssumePod(Info(pod)).ok()) failed = true;
    if (!cache.UpdateSnapshot(&snapshot).ok()) failed = true;
    if (i % 2 == 1 && !cache.ForgetPod(pod).ok()) failed = true;
  }
  informer_a.join();
  informer_b.join();
  EXPECT_FALSE(failed.load());

  // Left: half of each writer's pods and half of the assumed ones.
  const size_t want = 3 * kPodsPerWriter / 2;
  EXPECT_EQ(cache.PodCount(), want);
  EXPECT_EQ(cache.AssumedPodCount(), static_cast<size_t>(kPodsPerWriter / 2));
  ASSERT_TRUE(cache.UpdateSnapshot(&snapshot).ok());
  size_t pods = 0;
  int64_t milli_cpu = 0;
  for (const auto& n : snapshot.List()) {
    pods += n->pods().size();
    milli_cpu += n->requested().milli_cpu;
  }
  EXPECT_EQ(pods, want);
  EXPECT_EQ(milli_cpu, static_cast<int64_t>(want) * 10);
  EXPECT_EQ(snapshot.NumNodes(), static_cast<size_t>(kNodes));
  // The incrementally maintained snapshot equals one built from scratch.
  Snapshot fresh;
  ASSERT_TRUE(cache.UpdateSnapshot(&fresh).ok());
  ASSERT_EQ(fresh.NumNodes(), snapshot.NumNodes());
  for (size_t i = 0; i < fresh.NumNodes(); ++i) {
    EXPECT_EQ(fresh.List()[i]->name(), snapshot.List()[i]->name());
    EXPECT_EQ(fresh.List()[i]->generation(), snapshot.List()[i]->generation());
    EXPECT_EQ(fresh.List()[i]->pods().size(), snapshot.List()[i]->pods().size());
    EXPECT_EQ(fresh.List()[i]->requested(), snapshot.List()[i]->requested());
  }
}

}  // namespace
}  // namespace ck::scheduler
