#include "scheduler/queue/scheduling_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/api/testing/builders.h"
#include "common/base/clock.h"
#include "common/metrics/metrics.h"

namespace ck::scheduler::queue {
namespace {

using ::ck::api::testing::MakePod;
using namespace std::chrono_literals;

// ---- helpers -----------------------------------------------------------------------------------

PodPtr Ptr(const corev1::Pod& pod) { return std::make_shared<const corev1::Pod>(pod); }

// An unscheduled pod with uid "uid-<name>".
corev1::Pod Pod(const std::string& name, int32_t priority = 0, const std::string& ns = "default") {
  return MakePod(name).Namespace(ns).Uid("uid-" + name).Priority(priority).Obj();
}

corev1::Pod WithRv(corev1::Pod pod, const std::string& rv) {
  pod.mutable_metadata()->set_resourceversion(rv);
  return pod;
}

corev1::Pod WithLabel(corev1::Pod pod, const std::string& key, const std::string& value) {
  (*pod.mutable_metadata()->mutable_labels())[key] = value;
  return pod;
}

corev1::Pod WithNode(corev1::Pod pod, const std::string& node) {
  pod.mutable_spec()->set_nodename(node);
  return pod;
}

corev1::Pod WithNominatedNode(corev1::Pod pod, const std::string& node) {
  pod.mutable_status()->set_nominatednodename(node);
  return pod;
}

corev1::Pod WithGate(corev1::Pod pod, const std::string& gate) {
  pod.mutable_spec()->add_schedulinggates()->set_name(gate);
  return pod;
}

// A required pod affinity term: co-locate with pods labelled key=value on the same hostname.
corev1::Pod WithRequiredAffinity(corev1::Pod pod, const std::string& key, const std::string& value) {
  auto* term = pod.mutable_spec()
                   ->mutable_affinity()
                   ->mutable_podaffinity()
                   ->add_requiredduringschedulingignoredduringexecution();
  (*term->mutable_labelselector()->mutable_matchlabels())[key] = value;
  term->set_topologykey("kubernetes.io/hostname");
  return pod;
}

const ClusterEvent kNodeAdd{EventResource::kNode, kActionAdd, "NodeAdd"};
const ClusterEvent kNodeTaintChange{EventResource::kNode, kActionUpdateNodeTaint, "NodeTaintChange"};
const ClusterEvent kNodeAllocatableChange{EventResource::kNode, kActionUpdateNodeAllocatable,
                                          "NodeAllocatableChange"};
const ClusterEvent kAssignedPodDelete{EventResource::kAssignedPod, kActionDelete, "AssignedPodDelete"};
const ClusterEvent kPvcAdd{EventResource::kPersistentVolumeClaim, kActionAdd, "PvcAdd"};

// What the default plugins register (a subset of upstream's EventsToRegister).
std::map<std::string, std::vector<ClusterEvent>> PluginEvents() {
  return {
      {"NodeResourcesFit",
       {{EventResource::kNode, kActionAdd | kActionUpdateNodeAllocatable, "Node"},
        {EventResource::kAssignedPod, kActionDelete | kActionUpdatePodScaleDown, "AssignedPod"}}},
      {"TaintToleration", {{EventResource::kNode, kActionAdd | kActionUpdateNodeTaint, "Node"}}},
      {"InterPodAffinity",
       {{EventResource::kAssignedPod, kActionAll, "AssignedPod"},
        {EventResource::kNode, kActionAdd | kActionUpdateNodeLabel, "Node"}}},
      {"PodTopologySpread",
       {{EventResource::kAssignedPod, kActionAll, "AssignedPod"},
        {EventResource::kNode, kActionAdd | kActionDelete | kActionUpdateNodeLabel, "Node"}}},
  };
}

// Waits (without sleeping) until `cond` holds or 10 s pass.
template <typename Cond>
bool WaitFor(Cond cond) {
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class QueueTest : public ::testing::Test {
 protected:
  QueueTest() { Reset({}); }

  void Reset(QueueOptions options) {
    if (options.plugin_events.empty()) options.plugin_events = PluginEvents();
    if (options.metrics == nullptr) options.metrics = &registry_;
    q_ = std::make_unique<PriorityQueue>(clock_, std::move(options));
  }

  // Adds an unscheduled pod, then lets 1 ms pass so that pods added one after the other have
  // distinct timestamps (and a defined order at equal priority).
  void AddPod(const corev1::Pod& pod) {
    q_->Add(Ptr(pod));
    clock_.Advance(1ms);
  }

  // Pops the head (which must be `name`), as the scheduling loop does.
  QueuedPodInfoPtr PopExpect(const std::string& name) {
    QueuedPodInfoPtr p = q_->TryPop();
    EXPECT_NE(p, nullptr) << "expected " << name << " at the head, activeQ is empty";
    if (p != nullptr) {
      EXPECT_EQ(p->pod_info->name(), name);
    }
    return p;
  }

  // Pops `name` and reports it rejected by `plugins` in the cycle it was popped in.
  void PopAndFail(const std::string& name, std::set<std::string> plugins) {
    QueuedPodInfoPtr p = PopExpect(name);
    ASSERT_NE(p, nullptr);
    int64_t cycle = q_->SchedulingCycle();
    p->unschedulable_plugins = std::move(plugins);
    ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), cycle).ok());
  }

  std::string QueueOf(const std::string& name) const {
    for (const PendingPod& p : q_->PendingPods()) {
      if (p.pod->metadata().name() == name) return p.queue;
    }
    return q_->InFlight("uid-" + name) ? "in-flight" : "none";
  }

  double Pending(const std::string& queue) {
    return registry_.GaugeFamily("scheduler_pending_pods", "", {"queue"}).With({queue}).Value();
  }
  double Incoming(const std::string& queue, const std::string& event) {
    return registry_.CounterFamily("scheduler_queue_incoming_pods_total", "", {"queue", "event"})
        .With({queue, event})
        .Value();
  }

  FakeClock clock_;
  metrics::Registry registry_;
  std::unique_ptr<PriorityQueue> q_;
};

// ---- activeQ order -------------------------------------------------------------------------------

TEST_F(QueueTest, PopsByPriorityThenTimestamp) {
  AddPod(Pod("low-early", 1));
  clock_.Advance(1ms);
  AddPod(Pod("high", 100));
  clock_.Advance(1ms);
  AddPod(Pod("low-late", 1));
  clock_.Advance(1ms);
  AddPod(Pod("mid", 50));

  std::vector<std::string> order;
  while (auto p = q_->TryPop()) {
    order.push_back(p->pod_info->name());
    q_->Done(p->pod_info->uid());
  }
  EXPECT_EQ(order, (std::vector<std::string>{"high", "mid", "low-early", "low-late"}));
}

TEST_F(QueueTest, CustomLessOrdersActiveQ) {
  QueueOptions o;
  o.less = [](const QueuedPodInfo& a, const QueuedPodInfo& b) {
    return a.pod_info->name() < b.pod_info->name();
  };
  Reset(std::move(o));
  AddPod(Pod("c", 100));
  AddPod(Pod("a", 0));
  AddPod(Pod("b", 50));
  EXPECT_EQ(q_->TryPop()->pod_info->name(), "a");
  EXPECT_EQ(q_->TryPop()->pod_info->name(), "b");
  EXPECT_EQ(q_->TryPop()->pod_info->name(), "c");
}

TEST_F(QueueTest, PopCountsAttemptsAndRecordsTheFirstAttempt) {
  AddPod(Pod("p"));
  MonoTime first = clock_.Monotonic();
  auto p = PopExpect("p");
  EXPECT_EQ(p->attempts, 1);
  EXPECT_TRUE(p->has_initial_attempt);
  EXPECT_EQ(p->initial_attempt_timestamp, first);
  EXPECT_EQ(q_->SchedulingCycle(), 1);
  EXPECT_TRUE(q_->InFlight("uid-p"));

  p->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), 1).ok());
  EXPECT_FALSE(q_->InFlight("uid-p"));
  clock_.Advance(2s);
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);
  auto again = PopExpect("p");
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->initial_attempt_timestamp, first);  // kept from the first pop
  EXPECT_TRUE(again->unschedulable_plugins.empty());   // cleared for the new attempt
  EXPECT_EQ(q_->SchedulingCycle(), 2);
}

// ---- backoff -------------------------------------------------------------------------------------

TEST(BackoffTest, DoublesFromInitialToMax) {
  std::vector<Duration> got;
  for (int attempts = 0; attempts <= 7; ++attempts) got.push_back(BackoffDuration(attempts, 1s, 10s));
  EXPECT_EQ(got, (std::vector<Duration>{1s, 1s, 2s, 4s, 8s, 10s, 10s, 10s}));
  // Teaching profile values.
  EXPECT_EQ(BackoffDuration(1, 200ms, 2s), Duration(200ms));
  EXPECT_EQ(BackoffDuration(4, 200ms, 2s), Duration(1600ms));
  EXPECT_EQ(BackoffDuration(5, 200ms, 2s), Duration(2s));
  // No overflow with absurd attempt counts.
  EXPECT_EQ(BackoffDuration(1000, 1s, 10s), Duration(10s));
}

// A pod failing with an error (no rejecting plugin) waits 1 s, 2 s, 4 s, 8 s, 10 s, 10 s in
// backoffQ before each retry.
TEST_F(QueueTest, ErrorsRetryAfterDoublingBackoffCappedAtMax) {
  AddPod(Pod("p"));
  std::vector<Duration> expected = {1s, 2s, 4s, 8s, 10s, 10s};
  for (Duration wait : expected) {
    auto p = PopExpect("p");
    ASSERT_NE(p, nullptr);
    ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle()).ok());
    EXPECT_EQ(QueueOf("p"), "backoff");
    clock_.Advance(wait - 1ms);
    EXPECT_EQ(q_->TryPop(), nullptr) << "left backoff early, backoff " << wait.count();
    clock_.Advance(1ms);
  }
  auto p = PopExpect("p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->attempts, 7);
  EXPECT_EQ(Incoming("backoff", "ScheduleAttemptFailure"), 6);
  EXPECT_EQ(Incoming("active", "BackoffComplete"), 6);
}

TEST_F(QueueTest, TeachingBackoffOptions) {
  QueueOptions o;
  o.pod_initial_backoff = 200ms;
  o.pod_max_backoff = 2s;
  Reset(std::move(o));
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle()).ok());
  clock_.Advance(199ms);
  q_->FlushBackoffQCompleted();
  EXPECT_EQ(QueueOf("p"), "backoff");
  clock_.Advance(1ms);
  q_->FlushBackoffQCompleted();
  EXPECT_EQ(QueueOf("p"), "active");
}

TEST_F(QueueTest, BackoffQIsOrderedByExpiry) {
  // "a" fails twice (2 s backoff), then "b" fails once (1 s): b comes out first.
  AddPod(Pod("a", 100));
  auto a = PopExpect("a");
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(a), q_->SchedulingCycle()).ok());
  clock_.Advance(1s);
  a = PopExpect("a");
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(a), q_->SchedulingCycle()).ok());
  AddPod(Pod("b", 0));
  auto b = PopExpect("b");
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(b), q_->SchedulingCycle()).ok());
  clock_.Advance(1s);
  EXPECT_EQ(QueueOf("a"), "backoff");
  PopExpect("b");
  clock_.Advance(1s);
  PopExpect("a");
}

// ---- unschedulable pods and cluster events -------------------------------------------------------

TEST_F(QueueTest, UnschedulablePodsWaitForARegisteredEvent) {
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit"});
  EXPECT_EQ(QueueOf("p"), "unschedulable");
  EXPECT_EQ(Pending("unschedulable"), 1);

  clock_.Advance(20s);  // backoff long over; the pod still waits for an event
  EXPECT_EQ(q_->TryPop(), nullptr);

  // Events NodeResourcesFit did not register leave it parked.
  q_->MoveAllToActiveOrBackoffQueue(kNodeTaintChange);
  q_->MoveAllToActiveOrBackoffQueue(kPvcAdd);
  EXPECT_EQ(QueueOf("p"), "unschedulable");

  q_->MoveAllToActiveOrBackoffQueue(kNodeAllocatableChange);
  EXPECT_EQ(QueueOf("p"), "active");
  EXPECT_EQ(Incoming("active", "NodeAllocatableChange"), 1);
  EXPECT_EQ(Pending("unschedulable"), 0);
  EXPECT_EQ(Pending("active"), 1);
}

TEST_F(QueueTest, AnyRejectingPluginsEventMovesThePod) {
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit", "TaintToleration"});
  clock_.Advance(2s);
  q_->MoveAllToActiveOrBackoffQueue(kNodeTaintChange);  // TaintToleration's event
  EXPECT_EQ(QueueOf("p"), "active");
}

TEST_F(QueueTest, MovedPodStillBackingOffGoesToBackoffQ) {
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit"});
  clock_.Advance(500ms);
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);
  EXPECT_EQ(QueueOf("p"), "backoff");
  clock_.Advance(500ms);
  PopExpect("p");
}

TEST_F(QueueTest, PreEnqueueCheckFiltersTheMove) {
  AddPod(Pod("a"));
  AddPod(Pod("b"));
  PopAndFail("a", {"NodeResourcesFit"});
  PopAndFail("b", {"NodeResourcesFit"});
  clock_.Advance(2s);
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd,
                                    [](const corev1::Pod& p) { return p.metadata().name() == "b"; });
  EXPECT_EQ(QueueOf("a"), "unschedulable");
  EXPECT_EQ(QueueOf("b"), "active");
}

TEST_F(QueueTest, WildcardEventMovesEveryParkedPod) {
  AddPod(Pod("p"));
  PopAndFail("p", {"SomePluginWithoutEvents"});
  clock_.Advance(2s);
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);
  EXPECT_EQ(QueueOf("p"), "unschedulable");
  q_->MoveAllToActiveOrBackoffQueue(ClusterEvent{EventResource::kWildCard, kActionAll, "ForceActivate"});
  EXPECT_EQ(QueueOf("p"), "active");
}

// ---- the moveRequestCycle rule ---------------------------------------------------------------------

TEST_F(QueueTest, MoveRequestDuringTheCycleSendsTheFailedPodToBackoff) {
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  int64_t cycle = q_->SchedulingCycle();
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);  // a node appeared while p was being scheduled
  p->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), cycle).ok());
  EXPECT_EQ(QueueOf("p"), "backoff");
  clock_.Advance(1s);
  PopExpect("p");
}

TEST_F(QueueTest, MoveRequestBeforeTheCycleDoesNotCount) {
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);  // cycle 0
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit"});  // cycle 1
  EXPECT_EQ(QueueOf("p"), "unschedulable");
}

TEST_F(QueueTest, EventOfNoInterestIsNoMoveRequest) {
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  int64_t cycle = q_->SchedulingCycle();
  q_->MoveAllToActiveOrBackoffQueue(kPvcAdd);  // no plugin registered it
  p->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), cycle).ok());
  EXPECT_EQ(QueueOf("p"), "unschedulable");
}

TEST_F(QueueTest, PendingPluginsCountAsRejectors) {
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  p->pending_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle()).ok());
  EXPECT_EQ(QueueOf("p"), "unschedulable");
  clock_.Advance(2s);
  q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);
  EXPECT_EQ(QueueOf("p"), "active");
}

// ---- leftover flush ------------------------------------------------------------------------------

TEST_F(QueueTest, LeftoverFlushRetriesPodsParkedLongerThanFiveMinutes) {
  q_->Add(Ptr(Pod("old")));
  PopAndFail("old", {"NodeResourcesFit"});
  clock_.Advance(4min);
  q_->Add(Ptr(Pod("young")));
  PopAndFail("young", {"NodeResourcesFit"});

  clock_.Advance(1min);  // "old" has been parked exactly 5 min: not longer
  q_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(QueueOf("old"), "unschedulable");

  clock_.Advance(1s);
  q_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(QueueOf("old"), "active");
  EXPECT_EQ(QueueOf("young"), "unschedulable");
  EXPECT_EQ(Incoming("active", "UnschedulableTimeout"), 1);
}

TEST_F(QueueTest, PopRunsTheLeftoverFlushEveryThirtySeconds) {
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit"});
  clock_.Advance(5min + 1s);
  // The next due 30 s check runs inside TryPop.
  auto p = q_->TryPop();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pod_info->name(), "p");
}

// ---- a pod is never scheduled twice ----------------------------------------------------------------

TEST_F(QueueTest, SamePodAddedTwiceIsQueuedOnce) {
  AddPod(Pod("p"));
  AddPod(Pod("p"));
  EXPECT_EQ(q_->Sizes().active, 1u);
  PopExpect("p");
  EXPECT_EQ(q_->TryPop(), nullptr);
}

TEST_F(QueueTest, AddOrUpdateWhileInFlightDoesNotQueueASecondCopy) {
  AddPod(WithRv(Pod("p"), "1"));
  auto p = PopExpect("p");
  int64_t cycle = q_->SchedulingCycle();

  AddPod(WithRv(Pod("p"), "1"));  // e.g. an informer relist
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(WithLabel(WithRv(Pod("p"), "2"), "tier", "gold")));
  EXPECT_EQ(q_->TryPop(), nullptr);
  QueueSizes s = q_->Sizes();
  EXPECT_EQ(s.active + s.backoff + s.unschedulable, 0u);
  EXPECT_EQ(s.in_flight, 1u);

  // The attempt fails: the pod comes back once, as its newest version, and because the update
  // may make it schedulable it goes to backoffQ rather than waiting for an event.
  p->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), cycle).ok());
  EXPECT_EQ(QueueOf("p"), "backoff");
  clock_.Advance(1s);
  auto again = PopExpect("p");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->pod().metadata().labels().at("tier"), "gold");
  EXPECT_EQ(again->pod().metadata().resourceversion(), "2");
}

TEST_F(QueueTest, StatusOnlyUpdateWhileInFlightStillParksThePod) {
  AddPod(WithRv(Pod("p"), "1"));
  auto p = PopExpect("p");
  int64_t cycle = q_->SchedulingCycle();
  corev1::Pod status_change = WithRv(Pod("p"), "2");
  status_change.mutable_status()->set_phase("Pending");
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(status_change));
  p->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), cycle).ok());
  EXPECT_EQ(QueueOf("p"), "unschedulable");
}

TEST_F(QueueTest, DoneEndsTheAttemptAndLaterAddsQueueAgain) {
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  AddPod(Pod("p"));
  EXPECT_EQ(q_->TryPop(), nullptr);
  q_->Done("uid-p");
  EXPECT_FALSE(q_->InFlight("uid-p"));
  q_->Done("uid-p");  // idempotent
  AddPod(Pod("p"));
  PopExpect("p");
}

TEST_F(QueueTest, AddUnschedulableOfAQueuedPodIsAlreadyExists) {
  AddPod(Pod("p"));
  auto stray = std::make_unique<QueuedPodInfo>();
  stray->pod_info = *PodInfo::Create(Pod("p"));
  Status s = q_->AddUnschedulableIfNotPresent(std::move(stray), q_->SchedulingCycle());
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(q_->Sizes().active, 1u);
}

TEST_F(QueueTest, PodDeletedWhileInFlightIsNotQueuedAgain) {
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  q_->Delete(Pod("p"));
  p->unschedulable_plugins = {"NodeResourcesFit"};
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle()).ok());
  EXPECT_EQ(QueueOf("p"), "none");
  EXPECT_EQ(q_->Sizes().in_flight, 0u);
}

TEST_F(QueueTest, DeleteRemovesFromEverySubQueue) {
  AddPod(Pod("a"));
  AddPod(Pod("b"));
  AddPod(Pod("c"));
  PopAndFail("a", {});                    // -> backoff
  PopAndFail("b", {"NodeResourcesFit"});  // -> unschedulable
  EXPECT_EQ(QueueOf("a"), "backoff");
  EXPECT_EQ(QueueOf("b"), "unschedulable");
  EXPECT_EQ(QueueOf("c"), "active");
  q_->Delete(Pod("a"));
  q_->Delete(Pod("b"));
  q_->Delete(Pod("c"));
  EXPECT_TRUE(q_->PendingPods().empty());
  EXPECT_EQ(Pending("active") + Pending("backoff") + Pending("unschedulable"), 0);
}

// Informer threads add, update and delete while the scheduling loop pops, fails and finishes pods:
// the queue never hands out a pod that is already in flight (it would CK_CHECK) and every pod is
// in at most one place at the end.
TEST_F(QueueTest, ConcurrentInformerAndLoopNeverDoubleSchedule) {
  constexpr int kPods = 40;
  std::atomic<bool> stop{false};
  std::thread informer([&] {
    std::mt19937 rng(7);
    int rv = 1;
    while (!stop.load()) {
      std::string name = "p" + std::to_string(rng() % kPods);
      corev1::Pod pod = WithRv(Pod(name), std::to_string(++rv));
      switch (rng() % 4) {
        case 0:
          AddPod(pod);
          break;
        case 1:
          q_->Update(Ptr(WithRv(Pod(name), "0")), Ptr(WithLabel(pod, "v", std::to_string(rv))));
          break;
        case 2:
          q_->Delete(pod);
          break;
        case 3:
          q_->MoveAllToActiveOrBackoffQueue(kNodeAdd);
          break;
      }
    }
  });
  std::mt19937 rng(11);
  std::set<std::string> held;
  int popped = 0;
  std::string failure;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (popped < 1000 && failure.empty() && std::chrono::steady_clock::now() < deadline) {
    auto p = q_->TryPop();
    if (p == nullptr) {
      clock_.Advance(100ms);
      continue;
    }
    ++popped;
    std::string uid = p->pod_info->uid();
    if (!held.insert(uid).second) failure = uid + " popped twice";
    if (rng() % 2 == 0) {
      q_->Done(uid);
    } else {
      p->unschedulable_plugins = {"NodeResourcesFit"};
      Status s = q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle());
      if (!s.ok()) failure = s.ToString();
    }
    held.erase(uid);
  }
  stop = true;
  informer.join();
  EXPECT_EQ(failure, "");
  EXPECT_GE(popped, 1000);
  std::set<std::string> seen;
  for (const PendingPod& p : q_->PendingPods()) {
    EXPECT_TRUE(seen.insert(p.pod->metadata().uid()).second) << p.pod->metadata().uid() << " queued twice";
  }
  EXPECT_EQ(q_->Sizes().in_flight, 0u);
}

// ---- pods bound by someone else --------------------------------------------------------------------

TEST_F(QueueTest, PodsWithNodeNameAreDropped) {
  AddPod(WithNode(Pod("bound"), "node-1"));
  EXPECT_EQ(q_->TryPop(), nullptr);

  AddPod(WithRv(Pod("p"), "1"));
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(WithNode(WithRv(Pod("p"), "2"), "node-1")));
  EXPECT_EQ(QueueOf("p"), "none");
  EXPECT_EQ(q_->TryPop(), nullptr);
}

TEST_F(QueueTest, PodBoundElsewhereWhileInFlightIsDropped) {
  AddPod(WithRv(Pod("p"), "1"));
  auto p = PopExpect("p");
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(WithNode(WithRv(Pod("p"), "2"), "node-3")));
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle()).ok());
  EXPECT_EQ(QueueOf("p"), "none");
}

// ---- updates -------------------------------------------------------------------------------------

TEST_F(QueueTest, UpdateOfUnschedulablePodMovesItWhenItMayHelp) {
  AddPod(WithRv(Pod("p"), "1"));
  PopAndFail("p", {"NodeResourcesFit"});

  // Only the status changed: it stays parked, with the new version.
  corev1::Pod status_only = WithRv(Pod("p"), "2");
  status_only.mutable_status()->set_message("still pending");
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(status_only));
  EXPECT_EQ(QueueOf("p"), "unschedulable");

  // A label change while still backing off: backoffQ.
  q_->Update(Ptr(status_only), Ptr(WithLabel(WithRv(Pod("p"), "3"), "a", "b")));
  EXPECT_EQ(QueueOf("p"), "backoff");
  EXPECT_EQ(Incoming("backoff", "PodUpdate"), 1);
  clock_.Advance(1s);
  auto p = PopExpect("p");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pod().metadata().resourceversion(), "3");
}

TEST_F(QueueTest, UpdateAfterBackoffGoesStraightToActive) {
  AddPod(WithRv(Pod("p"), "1"));
  PopAndFail("p", {"NodeResourcesFit"});
  clock_.Advance(1s);
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(WithLabel(WithRv(Pod("p"), "2"), "a", "b")));
  EXPECT_EQ(QueueOf("p"), "active");
}

TEST_F(QueueTest, UpdateInActiveQReplacesInPlace) {
  AddPod(WithRv(Pod("p"), "1"));
  q_->Update(Ptr(WithRv(Pod("p"), "1")), Ptr(WithLabel(WithRv(Pod("p"), "2"), "a", "b")));
  EXPECT_EQ(q_->Sizes().active, 1u);
  auto p = PopExpect("p");
  EXPECT_EQ(p->pod().metadata().resourceversion(), "2");
}

TEST_F(QueueTest, ResyncWithSameResourceVersionChangesNothing) {
  AddPod(WithRv(Pod("p"), "1"));
  PopAndFail("p", {"NodeResourcesFit"});
  corev1::Pod same = WithRv(Pod("p"), "1");
  q_->Update(Ptr(same), Ptr(same));
  EXPECT_EQ(QueueOf("p"), "unschedulable");
}

TEST_F(QueueTest, UpdateOfUnknownPodAddsIt) {
  q_->Update(nullptr, Ptr(Pod("p")));
  EXPECT_EQ(QueueOf("p"), "active");
  EXPECT_EQ(Incoming("active", "PodUpdate"), 1);
}

// ---- gated pods ------------------------------------------------------------------------------------

TEST_F(QueueTest, GatedPodsWaitUntilTheirGatesAreRemoved) {
  AddPod(WithRv(WithGate(Pod("g"), "example.com/wait"), "1"));
  EXPECT_EQ(QueueOf("g"), "gated");
  EXPECT_EQ(q_->TryPop(), nullptr);
  EXPECT_EQ(Pending("gated"), 1);
  EXPECT_EQ(Pending("unschedulable"), 0);

  // Events, even the wildcard and the leftover flush, do not lift a gate.
  q_->MoveAllToActiveOrBackoffQueue(UnschedulableTimeoutEvent());
  clock_.Advance(10min);
  q_->FlushUnschedulablePodsLeftover();
  EXPECT_EQ(QueueOf("g"), "gated");

  q_->Update(Ptr(WithRv(WithGate(Pod("g"), "example.com/wait"), "1")), Ptr(WithRv(Pod("g"), "2")));
  EXPECT_EQ(QueueOf("g"), "active");
  EXPECT_EQ(Pending("gated"), 0);
  PopExpect("g");
}

TEST_F(QueueTest, CustomPreEnqueue) {
  QueueOptions o;
  o.pre_enqueue = [](const corev1::Pod& p) { return p.metadata().labels().contains("hold") ? "Hold" : ""; };
  Reset(std::move(o));
  AddPod(WithLabel(Pod("h"), "hold", "yes"));
  AddPod(WithGate(Pod("g"), "ignored-by-this-profile"));
  EXPECT_EQ(QueueOf("h"), "gated");
  EXPECT_EQ(QueueOf("g"), "active");
  auto held = q_->PendingPods();
  for (const auto& p : held) {
    if (p.pod->metadata().name() == "h") {
      EXPECT_EQ(p.unschedulable_plugins, (std::set<std::string>{"Hold"}));
    }
  }
}

// ---- assigned pods and affinity ------------------------------------------------------------------------

TEST_F(QueueTest, AssignedPodAddedMovesPodsWithMatchingAffinity) {
  AddPod(WithRequiredAffinity(Pod("wants-db"), "app", "db"));
  AddPod(Pod("fit-only"));
  PopAndFail("wants-db", {"InterPodAffinity"});
  PopAndFail("fit-only", {"NodeResourcesFit"});
  clock_.Advance(2s);

  q_->AssignedPodAdded(WithNode(WithLabel(Pod("web-1"), "app", "web"), "node-1"));
  EXPECT_EQ(QueueOf("wants-db"), "unschedulable");

  q_->AssignedPodAdded(WithNode(WithLabel(Pod("db-1"), "app", "db"), "node-1"));
  EXPECT_EQ(QueueOf("wants-db"), "active");
  EXPECT_EQ(QueueOf("fit-only"), "unschedulable");  // not a cross-topology pod
  EXPECT_EQ(Incoming("active", "AssignedPodAdd"), 1);
}

TEST_F(QueueTest, AssignedPodAddedMovesSpreadRejectedPodsOfTheSameNamespace) {
  AddPod(Pod("spread-a", 0, "shop"));
  AddPod(Pod("spread-b", 0, "other"));
  PopAndFail("spread-a", {"PodTopologySpread"});
  PopAndFail("spread-b", {"PodTopologySpread"});
  clock_.Advance(2s);
  q_->AssignedPodAdded(WithNode(Pod("x", 0, "shop"), "node-1"));
  EXPECT_EQ(QueueOf("spread-a"), "active");
  EXPECT_EQ(QueueOf("spread-b"), "unschedulable");
}

TEST_F(QueueTest, AffinityMatchNeedsTheRejectingPluginToCareAboutAssignedPods) {
  // Rejected by TaintToleration only: a matching assigned pod does not help it.
  AddPod(WithRequiredAffinity(Pod("p"), "app", "db"));
  PopAndFail("p", {"TaintToleration"});
  clock_.Advance(2s);
  q_->AssignedPodAdded(WithNode(WithLabel(Pod("db-1"), "app", "db"), "node-1"));
  EXPECT_EQ(QueueOf("p"), "unschedulable");
}

TEST_F(QueueTest, AssignedPodUpdated) {
  AddPod(WithRequiredAffinity(Pod("wants-db"), "app", "db"));
  AddPod(Pod("fit"));
  PopAndFail("wants-db", {"InterPodAffinity"});
  PopAndFail("fit", {"NodeResourcesFit"});
  clock_.Advance(2s);
  corev1::Pod before = WithNode(Pod("x"), "node-1");
  corev1::Pod after = WithLabel(before, "app", "db");
  ClusterEvent label_change{EventResource::kAssignedPod, kActionUpdatePodLabel, "AssignedPodUpdate"};
  q_->AssignedPodUpdated(before, after, label_change);
  EXPECT_EQ(QueueOf("wants-db"), "active");
  EXPECT_EQ(QueueOf("fit"), "unschedulable");

  // A pod whose requests went down frees room for anyone NodeResourcesFit rejected.
  ClusterEvent scale_down{EventResource::kAssignedPod, kActionUpdatePodScaleDown, "AssignedPodUpdate"};
  q_->AssignedPodUpdated(after, after, scale_down);
  EXPECT_EQ(QueueOf("fit"), "active");
}

TEST_F(QueueTest, AssignedPodDeleteIsAMoveAllEvent) {
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit"});
  clock_.Advance(2s);
  q_->MoveAllToActiveOrBackoffQueue(kAssignedPodDelete);
  EXPECT_EQ(QueueOf("p"), "active");
}

// ---- Pop blocking and Close --------------------------------------------------------------------------

TEST_F(QueueTest, PopBlocksUntilAPodArrives) {
  auto result = std::async(std::launch::async, [&] { return q_->Pop(); });
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  EXPECT_EQ(result.wait_for(0s), std::future_status::timeout);
  AddPod(Pod("p"));
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  auto p = result.get();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pod_info->name(), "p");
}

TEST_F(QueueTest, PopWakesWhenBackoffEnds) {
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  ASSERT_TRUE(q_->AddUnschedulableIfNotPresent(std::move(p), q_->SchedulingCycle()).ok());
  auto result = std::async(std::launch::async, [&] { return q_->Pop(); });
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  clock_.Advance(999ms);
  EXPECT_EQ(result.wait_for(0s), std::future_status::timeout);
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  clock_.Advance(1ms);
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  auto again = result.get();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->attempts, 2);
}

TEST_F(QueueTest, PopWakesForTheLeftoverFlush) {
  AddPod(Pod("p"));
  PopAndFail("p", {"NodeResourcesFit"});
  auto result = std::async(std::launch::async, [&] { return q_->Pop(); });
  for (int i = 0; i < 11; ++i) {  // 11 x 30 s = 5.5 min
    ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
    clock_.Advance(30s);
  }
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  auto p = result.get();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->pod_info->name(), "p");
}

TEST_F(QueueTest, CloseWakesPopWithNull) {
  auto result = std::async(std::launch::async, [&] { return q_->Pop(); });
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  q_->Close();
  ASSERT_EQ(result.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(result.get(), nullptr);
  AddPod(Pod("p"));
  EXPECT_EQ(q_->Pop(), nullptr);  // closed: no blocking, no pod
  EXPECT_EQ(q_->TryPop(), nullptr);
}

// ---- nominator ---------------------------------------------------------------------------------------

TEST_F(QueueTest, NominatorTracksNominatedPods) {
  AddPod(WithRv(Pod("a", 10), "1"));
  AddPod(WithRv(Pod("b", 5), "1"));
  EXPECT_TRUE(q_->NominatedPodsForNode("node-1").empty());

  auto a = *PodInfo::Create(WithRv(Pod("a", 10), "1"));
  q_->AddNominatedPod(a, "node-1");
  auto b = *PodInfo::Create(WithRv(Pod("b", 5), "1"));
  q_->AddNominatedPod(b, "node-1");
  auto on1 = q_->NominatedPodsForNode("node-1");
  ASSERT_EQ(on1.size(), 2u);
  EXPECT_EQ(on1[0]->name(), "a");
  EXPECT_EQ(on1[1]->name(), "b");

  // Re-nominating moves it; "" clears it.
  q_->AddNominatedPod(b, "node-2");
  EXPECT_EQ(q_->NominatedPodsForNode("node-1").size(), 1u);
  EXPECT_EQ(q_->NominatedPodsForNode("node-2").size(), 1u);
  q_->AddNominatedPod(b, "");
  EXPECT_TRUE(q_->NominatedPodsForNode("node-2").empty());

  // An update that does not touch status.nominatedNodeName keeps the in-memory nomination and
  // refreshes the pod.
  q_->Update(Ptr(WithRv(Pod("a", 10), "1")), Ptr(WithLabel(WithRv(Pod("a", 10), "2"), "x", "y")));
  on1 = q_->NominatedPodsForNode("node-1");
  ASSERT_EQ(on1.size(), 1u);
  EXPECT_EQ(on1[0]->pod->metadata().resourceversion(), "2");

  // The status names another node: the nomination follows it.
  q_->Update(Ptr(WithRv(Pod("a", 10), "2")), Ptr(WithNominatedNode(WithRv(Pod("a", 10), "3"), "node-3")));
  EXPECT_TRUE(q_->NominatedPodsForNode("node-1").empty());
  EXPECT_EQ(q_->NominatedPodsForNode("node-3").size(), 1u);

  q_->Delete(Pod("a", 10));
  EXPECT_TRUE(q_->NominatedPodsForNode("node-3").empty());
}

TEST_F(QueueTest, NominationFromPodStatusOnAdd) {
  AddPod(WithNominatedNode(Pod("p"), "node-7"));
  auto on7 = q_->NominatedPodsForNode("node-7");
  ASSERT_EQ(on7.size(), 1u);
  EXPECT_EQ(on7[0]->name(), "p");
  q_->DeleteNominatedPodIfExists(Pod("p"));
  EXPECT_TRUE(q_->NominatedPodsForNode("node-7").empty());
}

TEST_F(QueueTest, NominationIgnoredForPodsTheQueueDoesNotHold) {
  q_->AddNominatedPod(*PodInfo::Create(Pod("stranger")), "node-1");
  EXPECT_TRUE(q_->NominatedPodsForNode("node-1").empty());

  // Preemption nominates the in-flight pod; the pod is then deleted: the nomination goes, and a
  // late nomination is refused.
  AddPod(Pod("p"));
  auto p = PopExpect("p");
  q_->AddNominatedPod(p->pod_info, "node-1");
  EXPECT_EQ(q_->NominatedPodsForNode("node-1").size(), 1u);
  q_->Delete(Pod("p"));
  EXPECT_TRUE(q_->NominatedPodsForNode("node-1").empty());
  q_->AddNominatedPod(p->pod_info, "node-1");
  EXPECT_TRUE(q_->NominatedPodsForNode("node-1").empty());
}

TEST_F(QueueTest, NominatedPodBoundElsewhereLosesItsNomination) {
  AddPod(WithRv(WithNominatedNode(Pod("p"), "node-1"), "1"));
  ASSERT_EQ(q_->NominatedPodsForNode("node-1").size(), 1u);
  q_->Update(Ptr(WithRv(WithNominatedNode(Pod("p"), "node-1"), "1")),
             Ptr(WithNode(WithRv(WithNominatedNode(Pod("p"), "node-1"), "2"), "node-2")));
  EXPECT_TRUE(q_->NominatedPodsForNode("node-1").empty());
}

// ---- PendingPods and metrics ---------------------------------------------------------------------------

TEST_F(QueueTest, PendingPodsAndGauges) {
  AddPod(Pod("a"));
  AddPod(Pod("b"));
  AddPod(Pod("c"));
  AddPod(WithGate(Pod("g"), "wait"));
  PopAndFail("a", {});
  PopAndFail("b", {"TaintToleration"});

  std::map<std::string, std::string> where;
  for (const PendingPod& p : q_->PendingPods()) where[p.pod->metadata().name()] = p.queue;
  EXPECT_EQ(where, (std::map<std::string, std::string>{
                       {"a", "backoff"}, {"b", "unschedulable"}, {"c", "active"}, {"g", "gated"}}));

  EXPECT_EQ(Pending("active"), 1);
  EXPECT_EQ(Pending("backoff"), 1);
  EXPECT_EQ(Pending("unschedulable"), 1);
  EXPECT_EQ(Pending("gated"), 1);
  EXPECT_EQ(Incoming("active", "PodAdd"), 3);
  EXPECT_EQ(Incoming("unschedulable", "ScheduleAttemptFailure"), 1);
  EXPECT_EQ(Incoming("backoff", "ScheduleAttemptFailure"), 1);

  QueueSizes s = q_->Sizes();
  EXPECT_EQ(s.active, 1u);
  EXPECT_EQ(s.backoff, 1u);
  EXPECT_EQ(s.unschedulable, 1u);
  EXPECT_EQ(s.gated, 1u);
  EXPECT_EQ(s.in_flight, 0u);

  std::string text = registry_.Render();
  EXPECT_NE(text.find("scheduler_pending_pods{queue=\"active\"} 1"), std::string::npos) << text;
}

TEST_F(QueueTest, WorksWithoutMetrics) {
  metrics::Registry unused;
  QueueOptions o;
  o.plugin_events = PluginEvents();
  PriorityQueue q(clock_, std::move(o));
  q.Add(Ptr(Pod("p")));
  auto p = q.TryPop();
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(unused.Render().find("scheduler_pending_pods") == std::string::npos);
}

}  // namespace
}  // namespace ck::scheduler::queue
