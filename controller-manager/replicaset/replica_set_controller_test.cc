// ReplicaSetController on FakeApi: scale up and down (exact counts, upstream deletion order,
// burst and slow start), expectations against a lagging pod cache, adoption and release,
// status arithmetic with minReadySeconds on the fake clock, the ReplicaFailure condition, and
// the event handlers with workers running.
#include "controller-manager/replicaset/replica_set_controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/meta.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

using namespace std::chrono_literals;
using api::testing::MakePod;
using api::testing::MakeReplicaSet;
using client::FakeApi;
using client::testing::WaitFor;

constexpr char kPodsResource[] = "pods";
constexpr char kReplicaSetsResource[] = "replicasets.apps";
// The fake clock's start (2026-01-01T00:00:00Z), for pods' ready times.
const WallTime kStart = FakeClock().Now();

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

bool Deleting(const corev1::Pod& pod) { return pod.metadata().has_deletiontimestamp(); }

// One environment with the controller built as the manager builds it, informers synced and no
// workers: the test drives Sync itself.
class Harness {
 public:
  explicit Harness(int burst = kReplicaSetBurstReplicas) {
    controller = std::make_unique<ReplicaSetController>(env.context, burst);
    env.StartInformers(controller->Informers());
  }
  ~Harness() { env.api.SetRequestHook(nullptr); }

  // True when `informer` holds exactly the API's objects of `r` at their current versions.
  bool Mirrors(const client::SharedIndexInformer& informer, const client::ResourceInfo& r) {
    std::vector<client::ObjectPtr> objects = env.api.Objects(r);
    const client::Indexer& indexer = informer.GetIndexer();
    if (indexer.size() != objects.size()) return false;
    for (const client::ObjectPtr& o : objects) {
      client::ObjectPtr cached = indexer.Get(client::KeyOf(*o));
      if (cached == nullptr || client::ResourceVersionOf(*cached) != client::ResourceVersionOf(*o)) return false;
    }
    return true;
  }
  bool CaughtUp() {
    std::vector<client::SharedIndexInformer*> informers = controller->Informers();
    return Mirrors(*informers[0], Res(appsv1::ReplicaSet::descriptor())) &&
           Mirrors(*informers[1], Res(corev1::Pod::descriptor()));
  }
  // Waits until the informers have seen every write so far.
  void WaitCaughtUp() { CK_CHECK(WaitFor([&] { return CaughtUp(); })) << "informers did not catch up"; }

  appsv1::ReplicaSet CreateRs(const appsv1::ReplicaSet& rs) {
    appsv1::ReplicaSet created = env.Create(rs);
    WaitCaughtUp();
    return created;
  }
  corev1::Pod CreatePod(const corev1::Pod& pod) {
    corev1::Pod created = env.Create(pod);
    WaitCaughtUp();
    return created;
  }
  Status Sync(const std::string& key = "default/web") { return controller->SyncForTesting(key); }
  // Sync after the informers caught up and the handlers counted what they saw into the
  // expectations (handlers run after the cache is updated): what a worker does once the events
  // arrived.
  Status SyncCaughtUp(const std::string& key = "default/web") {
    CK_CHECK(WaitFor([&] { return CaughtUp() && controller->expectations().SatisfiedExpectations(key); }))
        << "informers did not catch up";
    return Sync(key);
  }

  std::vector<corev1::Pod> Pods() { return env.List<corev1::Pod>("default"); }
  std::vector<corev1::Pod> ActivePods() {
    std::vector<corev1::Pod> out;
    for (corev1::Pod& p : Pods()) {
      if (!Deleting(p)) out.push_back(std::move(p));
    }
    return out;
  }
  appsv1::ReplicaSet Rs(const std::string& name = "web") {
    Result<appsv1::ReplicaSet> rs = env.Get<appsv1::ReplicaSet>("default", name);
    CK_CHECK(rs.ok()) << rs.status().message();
    return *rs;
  }
  corev1::Pod Pod(const std::string& name) {
    Result<corev1::Pod> pod = env.Get<corev1::Pod>("default", name);
    CK_CHECK(pod.ok()) << pod.status().message();
    return *pod;
  }
  // Messages of the Events with `reason`, once `n` of them were written.
  std::multiset<std::string> EventMessages(const std::string& reason, size_t n) {
    std::multiset<std::string> out;
    EXPECT_TRUE(WaitFor([&] { return env.Events(reason).size() >= n; })) << reason;
    for (const auto& e : env.Events(reason)) out.insert(e.message());
    return out;
  }

  testing::ControllerTestEnv env;
  std::unique_ptr<ReplicaSetController> controller;  // destroyed before env
};

bool OwnedBy(const corev1::Pod& pod, const appsv1::ReplicaSet& rs) {
  return api::IsControlledBy(pod.metadata(), rs.metadata().uid());
}

// ---- Scale up -----------------------------------------------------------------------------------

TEST(ReplicaSetScaleUp, CreatesExactlyReplicasFromTheTemplate) {
  for (int replicas : {1, 3, 17}) {
    SCOPED_TRACE("replicas=" + std::to_string(replicas));
    Harness h;
    appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(replicas).Image("nginx:1"));
    ASSERT_TRUE(h.Sync().ok());
    std::vector<corev1::Pod> pods = h.Pods();
    ASSERT_EQ(pods.size(), static_cast<size_t>(replicas));
    std::set<std::string> names;
    for (const corev1::Pod& pod : pods) {
      names.insert(pod.metadata().name());
      EXPECT_EQ(pod.metadata().generatename(), "web-");
      EXPECT_TRUE(pod.metadata().name().starts_with("web-"));
      EXPECT_EQ(pod.metadata().labels().at("app"), "web");
      EXPECT_EQ(pod.spec().containers(0).image(), "nginx:1");
      ASSERT_EQ(pod.metadata().ownerreferences_size(), 1);
      const auto& ref = pod.metadata().ownerreferences(0);
      EXPECT_EQ(ref.apiversion(), "apps/v1");
      EXPECT_EQ(ref.kind(), "ReplicaSet");
      EXPECT_EQ(ref.name(), "web");
      EXPECT_EQ(ref.uid(), rs.metadata().uid());
      EXPECT_TRUE(ref.controller());
      EXPECT_TRUE(ref.blockownerdeletion());
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(replicas));

    // Once the cache saw them: nothing more to create, and the status counts them.
    ASSERT_TRUE(h.SyncCaughtUp().ok());
    EXPECT_EQ(h.Pods().size(), static_cast<size_t>(replicas));
    EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kCreate, kPodsResource), replicas);
    EXPECT_EQ(h.Rs().status().replicas(), replicas);
    EXPECT_EQ(h.controller->expectations().counts().Pending("default/web"), std::make_pair(0, 0));

    if (replicas <= 10) {  // beyond 10 similar events the correlator aggregates them
      std::multiset<std::string> expected;
      for (const std::string& n : names) expected.insert("Created pod: " + n);
      EXPECT_EQ(h.EventMessages("SuccessfulCreate", names.size()), expected);
      for (const auto& e : h.env.Events("SuccessfulCreate")) {
        EXPECT_EQ(e.involvedobject().kind(), "ReplicaSet");
        EXPECT_EQ(e.involvedobject().name(), "web");
        EXPECT_EQ(e.source().component(), "replicaset-controller");
        EXPECT_EQ(e.type(), "Normal");
      }
    }
  }
}

TEST(ReplicaSetScaleUp, ExpectationsPreventDuplicatesWhileTheCacheLags) {
  Harness h;
  h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(5));
  // Cut the pod informer off: its watch breaks and cannot come back while `hold` is set.
  std::atomic<bool> hold{true};
  h.env.api.SetRequestHook([&](const FakeApi::Request& r) -> Status {
    if (hold && r.resource == kPodsResource && r.verb == FakeApi::Verb::kWatch) {
      return Unavailable("held by the test");
    }
    return Status::Ok();
  });
  h.env.api.DropWatches();

  ASSERT_TRUE(h.Sync().ok());
  ASSERT_EQ(h.Pods().size(), 5u);
  const client::Indexer& cache = h.controller->Informers()[1]->GetIndexer();
  EXPECT_EQ(cache.size(), 0u);  // the cache has seen none of them
  EXPECT_EQ(h.controller->expectations().counts().Pending("default/web"), std::make_pair(5, 0));

  // Without expectations these would create five more each.
  ASSERT_TRUE(h.Sync().ok());
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.Pods().size(), 5u);
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kCreate, kPodsResource), 5);

  // Let the informers back in: their backoff runs on the fake clock (well within the
  // expectations' 5 minute TTL).
  hold = false;
  for (int i = 0; i < 120 && !h.CaughtUp(); ++i) {
    h.env.clock.Advance(1s);
    WaitFor([&] { return h.CaughtUp(); }, 1s);
  }
  ASSERT_TRUE(h.CaughtUp());
  ASSERT_EQ(cache.size(), 5u);
  EXPECT_TRUE(WaitFor([&] {
    return h.controller->expectations().counts().Pending("default/web") == std::make_pair(0, 0);
  }));
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Pods().size(), 5u);
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kCreate, kPodsResource), 5);
}

TEST(ReplicaSetScaleUp, BurstReplicasCapsOneSync) {
  Harness h(/*burst=*/5);
  h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(8));
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.Pods().size(), 5u);
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Pods().size(), 8u);
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Pods().size(), 8u);
}

TEST(ReplicaSetScaleUp, SlowStartStopsAfterTheBatchWithAFailure) {
  Harness h;
  h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(10));
  // Batches of 1, 2, 4, ...: the 4th create fails, in the third batch; its other three succeed.
  std::atomic<int> creates{0};
  h.env.api.SetRequestHook([&](const FakeApi::Request& r) -> Status {
    if (r.verb == FakeApi::Verb::kCreate && r.resource == kPodsResource && ++creates == 4) {
      return Internal("etcdserver: request timed out");
    }
    return Status::Ok();
  });
  Status s = h.Sync();
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(creates.load(), 7);
  EXPECT_EQ(h.Pods().size(), 6u);
  // The four skipped creates are not expected; the six made ones are, until observed.
  EXPECT_LE(h.controller->expectations().counts().Pending("default/web").first, 6);
  EXPECT_TRUE(WaitFor([&] {
    return h.controller->expectations().counts().Pending("default/web") == std::make_pair(0, 0);
  }));
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Pods().size(), 10u);
}

// ---- The pool and slow start -------------------------------------------------------------------

TEST(ParallelRunner, CallsEachIndexOnceWithinTheParallelism) {
  ParallelRunner runner(7, "ck-test-runner");
  std::vector<std::thread> callers;
  std::atomic<int> failures{0};
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        const int count = 1 + (round * 13 + c * 7) % 40;
        const int parallelism = 1 + (round + c) % 5;
        std::vector<std::atomic<int>> calls(count);
        std::atomic<int> in_flight{0}, peak{0};
        runner.Run(count, parallelism, [&](int i) {
          int now = ++in_flight;
          int seen = peak.load();
          while (now > seen && !peak.compare_exchange_weak(seen, now)) {
          }
          ++calls[i];
          --in_flight;
        });
        for (auto& n : calls) failures += n.load() == 1 ? 0 : 1;
        if (peak.load() > parallelism) ++failures;
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ParallelRunner, SlowStartBatchesDoubleAndStopAfterAFailure) {
  struct Row {
    int count;
    int fail_call;  // 1-based; 0: none fails
    int calls, successes;
  };
  // Batches 1, 2, 4, 8, ...: a failure ends the run after its batch.
  const std::vector<Row> rows = {
      {10, 0, 10, 10}, {10, 1, 1, 0}, {10, 2, 3, 2}, {10, 4, 7, 6}, {10, 8, 10, 9},
      {500, 0, 500, 500}, {500, 255, 255, 254}, {500, 300, 500, 499}, {0, 0, 0, 0},
  };
  ParallelRunner runner(31, "ck-test-runner");
  for (const Row& row : rows) {
    SCOPED_TRACE("count=" + std::to_string(row.count) + " fail_call=" + std::to_string(row.fail_call));
    std::atomic<int> calls{0};
    auto [successes, error] = SlowStartBatch(runner, row.count, 1, 32, [&]() -> Status {
      return ++calls == row.fail_call ? Internal("boom") : Status::Ok();
    });
    EXPECT_EQ(calls.load(), row.calls);
    EXPECT_EQ(successes, row.successes);
    EXPECT_EQ(error.ok(), row.fail_call == 0);
  }
}

// ---- Scale down ---------------------------------------------------------------------------------

// Two pods of one ReplicaSet that wants one: which goes. Pod "a" is created first (older), "b" a
// second later; each row changes only what its rule looks at.
struct VictimRow {
  std::string name;
  std::function<void(corev1::Pod&)> a;
  std::function<void(corev1::Pod&)> b;
  std::string victim;
};

void Running(corev1::Pod& p, const std::string& node = "node-1") {
  p.mutable_spec()->set_nodename(node);
  p.mutable_status()->set_phase("Running");
}
void ReadySince(corev1::Pod& p, WallTime since) {
  auto* c = p.mutable_status()->add_conditions();
  c->set_type("Ready");
  c->set_status("True");
  api::SetTime(c->mutable_lasttransitiontime(), since);
}
void Restarts(corev1::Pod& p, int n) {
  auto* cs = p.mutable_status()->add_containerstatuses();
  cs->set_name("main");
  cs->set_restartcount(n);
}

TEST(ReplicaSetScaleDown, DeletesInUpstreamOrder) {
  const std::vector<VictimRow> rows = {
      {"unscheduled before scheduled", [](auto& p) { p.mutable_status()->set_phase("Pending"); },
       [](auto& p) { Running(p); }, "a"},
      {"unscheduled before scheduled, both pending", [](auto& p) { p.mutable_status()->set_phase("Pending"); },
       [](auto& p) { p.mutable_spec()->set_nodename("node-1"); p.mutable_status()->set_phase("Pending"); }, "a"},
      {"pending before running",
       [](auto& p) { p.mutable_spec()->set_nodename("node-1"); p.mutable_status()->set_phase("Pending"); },
       [](auto& p) { Running(p); }, "a"},
      {"pending before unknown",
       [](auto& p) { p.mutable_spec()->set_nodename("node-1"); p.mutable_status()->set_phase("Pending"); },
       [](auto& p) { p.mutable_spec()->set_nodename("node-1"); p.mutable_status()->set_phase("Unknown"); }, "a"},
      {"unknown before running",
       [](auto& p) { p.mutable_spec()->set_nodename("node-1"); p.mutable_status()->set_phase("Unknown"); },
       [](auto& p) { Running(p); }, "a"},
      {"not ready before ready", [](auto& p) { Running(p); },
       [](auto& p) { Running(p); ReadySince(p, kStart - 60s); }, "a"},
      {"lower deletion cost first",
       [](auto& p) { Running(p); ReadySince(p, kStart - 60s); },
       [](auto& p) {
         Running(p);
         ReadySince(p, kStart - 60s);
         (*p.mutable_metadata()->mutable_annotations())["controller.kubernetes.io/pod-deletion-cost"] = "100";
       },
       "a"},
      {"ready more recently first", [](auto& p) { Running(p); ReadySince(p, kStart - 10s); },
       [](auto& p) { Running(p); ReadySince(p, kStart - 60s); }, "a"},
      {"more restarts first", [](auto& p) { Running(p); ReadySince(p, kStart - 60s); Restarts(p, 3); },
       [](auto& p) { Running(p); ReadySince(p, kStart - 60s); Restarts(p, 1); }, "a"},
      {"newer first", [](auto& p) { Running(p); ReadySince(p, kStart - 60s); },
       [](auto& p) { Running(p); ReadySince(p, kStart - 60s); }, "b"},
      {"newer first, both unscheduled", [](auto&) {}, [](auto&) {}, "b"},
  };
  for (const VictimRow& row : rows) {
    SCOPED_TRACE(row.name);
    Harness h;
    appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(1));
    corev1::Pod a = MakePod("a").Label("app", "web").OwnerRef("ReplicaSet", "web", rs.metadata().uid());
    corev1::Pod b = MakePod("b").Label("app", "web").OwnerRef("ReplicaSet", "web", rs.metadata().uid());
    row.a(a);
    row.b(b);
    h.CreatePod(a);
    h.env.clock.Advance(1s);
    h.CreatePod(b);

    ASSERT_TRUE(h.Sync().ok());
    const std::string survivor = row.victim == "a" ? "b" : "a";
    Result<corev1::Pod> victim = h.env.Get<corev1::Pod>("default", row.victim);
    EXPECT_TRUE(!victim.ok() || Deleting(*victim)) << row.victim << " was not deleted";
    EXPECT_FALSE(Deleting(h.Pod(survivor)));
    EXPECT_EQ(h.EventMessages("SuccessfulDelete", 1), std::multiset<std::string>{"Deleted pod: " + row.victim});

    // Observed (as a deletionTimestamp or a delete): nothing more to do.
    ASSERT_TRUE(h.SyncCaughtUp().ok());
    EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kDelete, kPodsResource), 1);
    EXPECT_EQ(h.ActivePods().size(), 1u);
    EXPECT_EQ(h.Rs().status().replicas(), 1);
  }
}

// Upstream getPodsRankedByRelatedPodsOnSameNode: among otherwise equal pods, the one sharing its
// node with more pods of the same Deployment (any of its ReplicaSets) goes first.
TEST(ReplicaSetScaleDown, PrefersPodsDoubledUpWithSiblingsPods) {
  for (bool sibling_pod : {false, true}) {
    SCOPED_TRACE(sibling_pod ? "sibling has a pod on node-a" : "no sibling pods");
    Harness h;
    appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web")
                                           .Label("app", "web")
                                           .Label("rev", "1")
                                           .Replicas(1)
                                           .OwnerRef("Deployment", "web", "deployment-uid"));
    appsv1::ReplicaSet sibling = h.CreateRs(MakeReplicaSet("web-2")
                                                .Label("app", "web")
                                                .Label("rev", "2")
                                                .Replicas(1)
                                                .OwnerRef("Deployment", "web", "deployment-uid"));
    auto pod = [&](const std::string& name, const appsv1::ReplicaSet& owner, const std::string& rev,
                   const std::string& node) {
      corev1::Pod p = MakePod(name).Label("app", "web").Label("rev", rev).OwnerRef("ReplicaSet",
                                                                                     owner.metadata().name(),
                                                                                     owner.metadata().uid());
      Running(p, node);
      ReadySince(p, kStart - 60s);
      return p;
    };
    h.CreatePod(pod("on-a", rs, "1", "node-a"));  // older
    h.env.clock.Advance(1s);
    h.CreatePod(pod("on-b", rs, "1", "node-b"));  // newer
    if (sibling_pod) h.CreatePod(pod("sibling-on-a", sibling, "2", "node-a"));

    ASSERT_TRUE(h.Sync().ok());
    const std::string victim = sibling_pod ? "on-a" : "on-b";
    const std::string survivor = sibling_pod ? "on-b" : "on-a";
    EXPECT_TRUE(Deleting(h.Pod(victim)));
    EXPECT_FALSE(Deleting(h.Pod(survivor)));
  }
}

TEST(ReplicaSetScaleDown, InactivePodsDoNotCount) {
  Harness h;
  appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(1));
  corev1::Pod done = MakePod("done").Label("app", "web").OwnerRef("ReplicaSet", "web", rs.metadata().uid());
  done.mutable_status()->set_phase("Failed");
  corev1::Pod live = MakePod("live").Label("app", "web").OwnerRef("ReplicaSet", "web", rs.metadata().uid());
  Running(live);
  h.CreatePod(done);
  h.CreatePod(live);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kDelete, kPodsResource), 0);
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kCreate, kPodsResource), 2);  // the two test pods only
  EXPECT_EQ(h.Rs().status().replicas(), 1);
}

// ---- Ownership ----------------------------------------------------------------------------------

TEST(ReplicaSetOwnership, AdoptsAMatchingOrphan) {
  Harness h;
  appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(1));
  h.CreatePod(MakePod("orphan").Label("app", "web"));
  h.CreatePod(MakePod("unrelated").Label("app", "db"));
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_TRUE(OwnedBy(h.Pod("orphan"), rs));
  EXPECT_EQ(h.Pod("unrelated").metadata().ownerreferences_size(), 0);
  EXPECT_EQ(h.Pods().size(), 2u);  // the adopted pod counts: nothing created
  EXPECT_EQ(h.Rs().status().replicas(), 1);
}

TEST(ReplicaSetOwnership, ReleasesAnOwnedPodWhoseLabelsChanged) {
  Harness h;
  appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(1));
  h.CreatePod(MakePod("stray").Label("app", "debug").OwnerRef("ReplicaSet", "web", rs.metadata().uid()));
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.Pod("stray").metadata().ownerreferences_size(), 0);
  std::vector<corev1::Pod> pods = h.Pods();
  ASSERT_EQ(pods.size(), 2u);  // a replacement was made
  int owned = 0;
  for (const corev1::Pod& p : pods) owned += OwnedBy(p, rs) ? 1 : 0;
  EXPECT_EQ(owned, 1);
}

TEST(ReplicaSetOwnership, LeavesPodsOfOtherControllersAlone) {
  Harness h;
  appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(1));
  h.CreatePod(MakePod("foreign").Label("app", "web").OwnerRef("ReplicaSet", "other", "other-uid"));
  ASSERT_TRUE(h.Sync().ok());
  corev1::Pod foreign = h.Pod("foreign");
  ASSERT_EQ(foreign.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(foreign.metadata().ownerreferences(0).uid(), "other-uid");
  EXPECT_EQ(h.Pods().size(), 2u);  // its own replica besides
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kPatch, kPodsResource), 0);
}

TEST(ReplicaSetOwnership, ADeletingReplicaSetNeitherAdoptsNorCreates) {
  Harness h;
  appsv1::ReplicaSet rs = MakeReplicaSet("web").Label("app", "web").Replicas(3);
  rs.mutable_metadata()->add_finalizers("example.com/hold");
  h.CreateRs(rs);
  ASSERT_TRUE(h.env.api.Delete(Res(appsv1::ReplicaSet::descriptor()), "default", "web").ok());
  h.CreatePod(MakePod("orphan").Label("app", "web"));
  ASSERT_TRUE(h.Rs().metadata().has_deletiontimestamp());
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.Pod("orphan").metadata().ownerreferences_size(), 0);
  EXPECT_EQ(h.Pods().size(), 1u);
}

TEST(ReplicaSetOwnership, AGoneReplicaSetForgetsItsExpectations) {
  Harness h;
  h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(2));
  h.controller->expectations().ExpectCreations("default/web", 2);
  ASSERT_TRUE(h.env.api.Delete(Res(appsv1::ReplicaSet::descriptor()), "default", "web").ok());
  // The delete handler forgets them ...
  ASSERT_TRUE(WaitFor([&] {
    return h.controller->expectations().counts().Pending("default/web") == std::make_pair(0, 0);
  }));
  // ... and so does a Sync that finds the ReplicaSet gone.
  h.WaitCaughtUp();
  h.controller->expectations().ExpectCreations("default/web", 2);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.controller->expectations().counts().Pending("default/web"), std::make_pair(0, 0));
  EXPECT_TRUE(h.Pods().empty());
}

// ---- Status -------------------------------------------------------------------------------------

struct StatusRow {
  std::string name;
  int32_t min_ready_seconds;
  std::vector<std::function<void(corev1::Pod&)>> pods;
  int32_t fully_labeled, ready, available;
};

TEST(ReplicaSetStatus, CountsFromPods) {
  const WallTime now = kStart;
  auto full = [](corev1::Pod& p) { (*p.mutable_metadata()->mutable_labels())["tier"] = "frontend"; };
  const std::vector<StatusRow> rows = {
      {"no pods", 0, {}, 0, 0, 0},
      {"labels", 0, {full, full, [](auto&) {}}, 2, 0, 0},
      {"ready without minReadySeconds is available", 0,
       {[&](auto& p) { ReadySince(p, now); }, [](auto&) {}}, 0, 1, 1},
      {"minReadySeconds counts from the Ready transition", 10,
       {[&](auto& p) { ReadySince(p, now - 10s); }, [&](auto& p) { ReadySince(p, now - 9s); },
        [&](auto& p) { ReadySince(p, now - 11s); }},
       0, 3, 2},
      {"a Ready=False pod is neither", 10,
       {[&](auto& p) {
         auto* c = p.mutable_status()->add_conditions();
         c->set_type("Ready");
         c->set_status("False");
         api::SetTime(c->mutable_lasttransitiontime(), now - 60s);
       }},
       0, 0, 0},
  };
  for (const StatusRow& row : rows) {
    SCOPED_TRACE(row.name);
    appsv1::ReplicaSet rs = MakeReplicaSet("web").Label("app", "web").Replicas(3);
    (*rs.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["tier"] = "frontend";
    rs.mutable_spec()->set_minreadyseconds(row.min_ready_seconds);
    std::vector<corev1::Pod> pods;
    for (const auto& f : row.pods) {
      corev1::Pod p = MakePod("p").Label("app", "web");
      f(p);
      pods.push_back(std::move(p));
    }
    std::vector<const corev1::Pod*> ptrs;
    for (const corev1::Pod& p : pods) ptrs.push_back(&p);
    appsv1::ReplicaSetStatus s = CalculateReplicaSetStatus(rs, ptrs, Status::Ok(), now);
    EXPECT_EQ(s.replicas(), static_cast<int32_t>(pods.size()));
    EXPECT_EQ(s.fullylabeledreplicas(), row.fully_labeled);
    EXPECT_EQ(s.readyreplicas(), row.ready);
    EXPECT_EQ(s.availablereplicas(), row.available);
    EXPECT_EQ(s.conditions_size(), 0);
  }
}

TEST(ReplicaSetStatus, ReplicaFailureConditionArithmetic) {
  const WallTime now = kStart;
  appsv1::ReplicaSet rs = MakeReplicaSet("web").Label("app", "web").Replicas(2);
  corev1::Pod pod = MakePod("p").Label("app", "web");
  std::vector<const corev1::Pod*> one = {&pod};
  std::vector<const corev1::Pod*> three = {&pod, &pod, &pod};

  // Too few and failing: FailedCreate with the error's message.
  appsv1::ReplicaSetStatus s = CalculateReplicaSetStatus(rs, one, Forbidden("quota exceeded"), now);
  const appsv1::ReplicaSetCondition* c = GetReplicaSetCondition(s, kReplicaSetReplicaFailure);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status(), "True");
  EXPECT_EQ(c->reason(), "FailedCreate");
  EXPECT_EQ(c->message(), "quota exceeded");
  EXPECT_EQ(api::WallTimeOf(c->lasttransitiontime()), now);

  // Too many and failing: FailedDelete.
  s = CalculateReplicaSetStatus(rs, three, Internal("unable to delete pods: boom"), now);
  c = GetReplicaSetCondition(s, kReplicaSetReplicaFailure);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason(), "FailedDelete");

  // Present and failing again: kept as it was (upstream does not rewrite it).
  *rs.mutable_status() = CalculateReplicaSetStatus(rs, one, Forbidden("quota exceeded"), now);
  s = CalculateReplicaSetStatus(rs, one, Forbidden("another message"), now + 5s);
  ASSERT_EQ(s.conditions_size(), 1);
  EXPECT_EQ(s.conditions(0).message(), "quota exceeded");
  EXPECT_EQ(api::WallTimeOf(s.conditions(0).lasttransitiontime()), now);

  // A step without error removes it.
  s = CalculateReplicaSetStatus(rs, one, Status::Ok(), now);
  EXPECT_EQ(GetReplicaSetCondition(s, kReplicaSetReplicaFailure), nullptr);
}

TEST(ReplicaSetStatus, WrittenWhenChangedWithMinReadySecondsOnTheFakeClock) {
  Harness h;
  appsv1::ReplicaSet spec = MakeReplicaSet("web").Label("app", "web").Replicas(3);
  (*spec.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["tier"] = "frontend";
  spec.mutable_spec()->set_minreadyseconds(10);
  appsv1::ReplicaSet rs = h.CreateRs(spec);
  const WallTime now = h.env.clock.Now();
  auto owned = [&](const std::string& name) {
    return MakePod(name).Label("app", "web").OwnerRef("ReplicaSet", "web", rs.metadata().uid());
  };
  h.CreatePod(owned("available").Label("tier", "frontend").Ready(now - 20s));
  h.CreatePod(owned("just-ready").Label("tier", "frontend").Ready(now - 2s));
  h.CreatePod(owned("starting").Phase("Running"));
  h.CreatePod(owned("failed").Label("tier", "frontend").Phase("Failed"));  // inactive: not counted

  ASSERT_TRUE(h.Sync().ok());
  appsv1::ReplicaSetStatus s = h.Rs().status();
  EXPECT_EQ(s.replicas(), 3);
  EXPECT_EQ(s.fullylabeledreplicas(), 2);
  EXPECT_EQ(s.readyreplicas(), 2);
  EXPECT_EQ(s.availablereplicas(), 1);
  EXPECT_EQ(s.observedgeneration(), rs.metadata().generation());
  EXPECT_EQ(h.Pods().size(), 4u);  // three active: nothing to create
  // A ready pod is not available yet: the ReplicaSet is looked at again after minReadySeconds.
  EXPECT_EQ(h.controller->queue().PendingLen(), 1u);
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kUpdate, kReplicaSetsResource), 1);

  // Nothing changed: no write.
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kUpdate, kReplicaSetsResource), 1);

  h.env.clock.Advance(7s);  // just-ready has been ready for 9 s
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Rs().status().availablereplicas(), 1);
  h.env.clock.Advance(1s);  // 10 s
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Rs().status().availablereplicas(), 2);
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kUpdate, kReplicaSetsResource), 2);
}

TEST(ReplicaSetStatus, RetriesOnceOnAFreshGet) {
  Harness h;
  h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(0));
  h.env.api.FailNext(FakeApi::Verb::kUpdate, Conflict("the object has been modified"), 1, kReplicaSetsResource);
  h.env.api.ResetCalls();
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kUpdate, kReplicaSetsResource), 2);
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kGet, kReplicaSetsResource), 1);
  EXPECT_EQ(h.Rs().status().observedgeneration(), 1);

  // Two failures in a row: the error goes back to the queue.
  h.env.clock.Advance(1s);
  appsv1::ReplicaSet rs = h.Rs();
  rs.mutable_spec()->set_minreadyseconds(3);  // a new generation to observe
  ASSERT_TRUE(h.env.api.Update(Res(appsv1::ReplicaSet::descriptor()), "default", rs).ok());
  h.env.api.FailNext(FakeApi::Verb::kUpdate, Conflict("the object has been modified"), 2, kReplicaSetsResource);
  EXPECT_EQ(h.SyncCaughtUp().code(), Code::kConflict);
  EXPECT_EQ(h.Rs().status().observedgeneration(), 1);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.Rs().status().observedgeneration(), 2);
}

TEST(ReplicaSetStatus, ReplicaFailureOnAFailingCreateAndItsRemoval) {
  Harness h;
  h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(2));
  const std::string quota =
      "pods \"web-x\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=0, limited: pods=0";
  std::atomic<bool> refuse{true};
  h.env.api.SetRequestHook([&](const FakeApi::Request& r) -> Status {
    if (refuse && r.verb == FakeApi::Verb::kCreate && r.resource == kPodsResource) return Forbidden(quota);
    return Status::Ok();
  });
  Status s = h.Sync();
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_TRUE(h.Pods().empty());
  EXPECT_EQ(h.env.api.Calls(FakeApi::Verb::kCreate, kPodsResource), 1);  // slow start: one try
  EXPECT_EQ(h.controller->expectations().counts().Pending("default/web"), std::make_pair(0, 0));
  const appsv1::ReplicaSet failed = h.Rs();
  const appsv1::ReplicaSetCondition* c = GetReplicaSetCondition(failed.status(), kReplicaSetReplicaFailure);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->status(), "True");
  EXPECT_EQ(c->reason(), "FailedCreate");
  EXPECT_EQ(c->message(), quota);
  EXPECT_EQ(h.EventMessages("FailedCreate", 1), std::multiset<std::string>{"Error creating: " + quota});
  EXPECT_EQ(h.env.Events("FailedCreate")[0].type(), "Warning");

  refuse = false;
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_EQ(h.Pods().size(), 2u);
  EXPECT_EQ(GetReplicaSetCondition(h.Rs().status(), kReplicaSetReplicaFailure), nullptr);
}

TEST(ReplicaSetStatus, ReplicaFailureOnAFailingDelete) {
  Harness h;
  appsv1::ReplicaSet rs = h.CreateRs(MakeReplicaSet("web").Label("app", "web").Replicas(0));
  h.CreatePod(MakePod("a").Label("app", "web").OwnerRef("ReplicaSet", "web", rs.metadata().uid()));
  h.env.api.FailNext(FakeApi::Verb::kDelete, Internal("etcdserver: leader changed"), 1, kPodsResource);
  EXPECT_EQ(h.Sync().code(), Code::kInternal);
  const appsv1::ReplicaSet failed = h.Rs();
  const appsv1::ReplicaSetCondition* c = GetReplicaSetCondition(failed.status(), kReplicaSetReplicaFailure);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->reason(), "FailedDelete");
  EXPECT_EQ(c->message(), "unable to delete pods: etcdserver: leader changed");
  EXPECT_EQ(h.EventMessages("FailedDelete", 1),
            std::multiset<std::string>{"Error deleting: etcdserver: leader changed"});
  // The failed delete was counted as observed: the next Sync tries again at once.
  ASSERT_TRUE(h.SyncCaughtUp().ok());
  EXPECT_TRUE(h.Pods().empty());
  EXPECT_EQ(GetReplicaSetCondition(h.Rs().status(), kReplicaSetReplicaFailure), nullptr);
}

// ---- With workers: the handlers drive everything ------------------------------------------------

TEST(ReplicaSetWorkers, KeepsReplicasThroughDeletesScalesAndAdoptions) {
  testing::ControllerTestEnv env;
  ReplicaSetController controller(env.context);
  env.Start(controller);
  auto active = [&] {
    std::vector<corev1::Pod> out;
    for (auto& p : env.List<corev1::Pod>("default")) {
      if (!Deleting(p)) out.push_back(p);
    }
    return out;
  };
  auto rs_status = [&] { return env.Get<appsv1::ReplicaSet>("default", "web")->status(); };

  appsv1::ReplicaSet rs = env.Create<appsv1::ReplicaSet>(MakeReplicaSet("web").Label("app", "web").Replicas(3));
  ASSERT_TRUE(WaitFor([&] { return active().size() == 3 && rs_status().replicas() == 3; }));

  // A deleted pod is replaced.
  const std::string gone = active()[0].metadata().name();
  ASSERT_TRUE(env.api.Delete(Res(corev1::Pod::descriptor()), "default", gone).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto pods = active();
    return pods.size() == 3 && std::none_of(pods.begin(), pods.end(), [&](auto& p) { return p.metadata().name() == gone; });
  }));

  // Scale down.
  appsv1::ReplicaSet cur = *env.Get<appsv1::ReplicaSet>("default", "web");
  cur.mutable_spec()->set_replicas(1);
  ASSERT_TRUE(env.api.Update(Res(appsv1::ReplicaSet::descriptor()), "default", cur).ok());
  ASSERT_TRUE(WaitFor([&] { return active().size() == 1 && rs_status().replicas() == 1; }));

  // An orphan whose labels come to match is adopted, then the surplus goes.
  env.Create<corev1::Pod>(MakePod("orphan").Label("app", "other"));
  corev1::Pod orphan = *env.Get<corev1::Pod>("default", "orphan");
  (*orphan.mutable_metadata()->mutable_labels())["app"] = "web";
  ASSERT_TRUE(env.api.Update(Res(corev1::Pod::descriptor()), "default", orphan).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto pods = active();
    return pods.size() == 1 && rs_status().replicas() == 1 &&
           std::all_of(pods.begin(), pods.end(), [&](auto& p) { return OwnedBy(p, rs); });
  }));
  ASSERT_TRUE(WaitFor([&] { return env.List<corev1::Pod>("default").size() == 1; }));  // none left orphaned
}

TEST(ReplicaSetWorkers, BecomesAvailableAfterMinReadySeconds) {
  testing::ControllerTestEnv env;
  ReplicaSetController controller(env.context);
  env.Start(controller);
  appsv1::ReplicaSet spec = MakeReplicaSet("web").Label("app", "web").Replicas(1);
  spec.mutable_spec()->set_minreadyseconds(5);
  env.Create<appsv1::ReplicaSet>(spec);
  auto status = [&] { return env.Get<appsv1::ReplicaSet>("default", "web")->status(); };
  ASSERT_TRUE(WaitFor([&] { return status().replicas() == 1; }));

  // The kubelet reports the pod ready.
  corev1::Pod pod = env.List<corev1::Pod>("default")[0];
  pod.mutable_status()->set_phase("Running");
  ReadySince(pod, env.clock.Now());
  ASSERT_TRUE(env.api.Update(Res(corev1::Pod::descriptor()), "default", pod, "status").ok());
  ASSERT_TRUE(WaitFor([&] { return status().readyreplicas() == 1; }));
  EXPECT_EQ(status().availablereplicas(), 0);

  // No event follows: only the delayed requeue can notice that 5 s have passed.
  env.clock.Advance(6s);
  ASSERT_TRUE(WaitFor([&] { return status().availablereplicas() == 1; }));
}

}  // namespace
}  // namespace ck::controller_manager
