// The StatefulSet controller on FakeApi, driven one Sync at a time (SyncForTesting after the
// informers caught up with the API) on a fake clock: ordered and parallel creation, scale down,
// rolling updates with a partition, OnDelete, revision history and collisions, failed pods,
// claiming, status; and once with real workers, to see the event handlers drive it alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/statefulset/stateful_set_utils.h"
#include "controller-manager/statefulset/statefulset_controller.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using namespace std::chrono_literals;
using api::testing::MakePod;
using client::testing::WaitFor;
using testing::ControllerTestEnv;
using testing::ResourceOf;

// StatefulSet "web": selector and template labels app=<name>, one container nginx:1, service
// "nginx". No defaults are filled in (FakeApi does not default), so the controller's own
// defaulting is exercised too.
class StatefulSetBuilder {
 public:
  explicit StatefulSetBuilder(const std::string& name) {
    s_.mutable_metadata()->set_name(name);
    s_.mutable_metadata()->set_namespace_("default");
    auto* spec = s_.mutable_spec();
    spec->set_replicas(1);
    spec->set_servicename("nginx");
    (*spec->mutable_selector()->mutable_matchlabels())["app"] = name;
    (*spec->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = name;
    auto* c = spec->mutable_template_()->mutable_spec()->add_containers();
    c->set_name("nginx");
    c->set_image("nginx:1");
  }
  StatefulSetBuilder& Replicas(int32_t n) {
    s_.mutable_spec()->set_replicas(n);
    return *this;
  }
  StatefulSetBuilder& Parallel() {
    s_.mutable_spec()->set_podmanagementpolicy("Parallel");
    return *this;
  }
  StatefulSetBuilder& OnDelete() {
    s_.mutable_spec()->mutable_updatestrategy()->set_type("OnDelete");
    return *this;
  }
  StatefulSetBuilder& Partition(int32_t p) {
    s_.mutable_spec()->mutable_updatestrategy()->set_type("RollingUpdate");
    s_.mutable_spec()->mutable_updatestrategy()->mutable_rollingupdate()->set_partition(p);
    return *this;
  }
  StatefulSetBuilder& MinReadySeconds(int32_t s) {
    s_.mutable_spec()->set_minreadyseconds(s);
    return *this;
  }
  StatefulSetBuilder& HistoryLimit(int32_t n) {
    s_.mutable_spec()->set_revisionhistorylimit(n);
    return *this;
  }
  StatefulSetBuilder& ClaimTemplate(const std::string& name) {
    auto* claim = s_.mutable_spec()->add_volumeclaimtemplates();
    claim->mutable_metadata()->set_name(name);
    claim->mutable_spec()->add_accessmodes("ReadWriteOnce");
    return *this;
  }
  StatefulSetBuilder& Volume(const std::string& name) {
    auto* v = s_.mutable_spec()->mutable_template_()->mutable_spec()->add_volumes();
    v->set_name(name);
    v->mutable_volumesource()->mutable_emptydir();
    return *this;
  }
  operator appsv1::StatefulSet() const { return s_; }  // NOLINT

 private:
  appsv1::StatefulSet s_;
};

StatefulSetBuilder MakeSet(const std::string& name = "web") { return StatefulSetBuilder(name); }

// A controller on a ControllerTestEnv plus the steps the tests are made of. Everything lives in
// namespace "default"; the set is "web" unless told otherwise.
class Harness {
 public:
  Harness() : controller_(env.context) { env.StartInformers(controller_.Informers()); }

  // Runs one Sync once the informers hold exactly what the API holds.
  Status Sync(const std::string& name = "web") {
    EXPECT_TRUE(WaitFor([&] { return CaughtUp<corev1::Pod>() && CaughtUp<appsv1::StatefulSet>() &&
                                     CaughtUp<appsv1::ControllerRevision>(); }))
        << "informers did not catch up";
    return controller_.SyncForTesting("default/" + name);
  }
  void SyncOk(const std::string& name = "web") {
    Status s = Sync(name);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  appsv1::StatefulSet Set(const std::string& name = "web") {
    return *env.Get<appsv1::StatefulSet>("default", name);
  }
  void UpdateSpec(const std::function<void(appsv1::StatefulSetSpec*)>& mutate, const std::string& name = "web") {
    appsv1::StatefulSet s = Set(name);
    mutate(s.mutable_spec());
    Result<client::ObjectPtr> r = env.api.Update(ResourceOf(appsv1::StatefulSet::descriptor()), "default", s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  std::vector<std::string> PodNames() {
    std::vector<std::string> names;
    for (const auto& p : env.List<corev1::Pod>("default")) names.push_back(p.metadata().name());
    std::sort(names.begin(), names.end());
    return names;
  }
  corev1::Pod Pod(const std::string& name) {
    Result<corev1::Pod> p = env.Get<corev1::Pod>("default", name);
    EXPECT_TRUE(p.ok()) << name << ": " << p.status().ToString();
    return p.ok() ? *p : corev1::Pod();
  }
  bool Exists(const std::string& name) { return env.Get<corev1::Pod>("default", name).ok(); }
  bool Terminating(const std::string& name) { return Exists(name) && Pod(name).metadata().has_deletiontimestamp(); }

  // What the kubelet would report: `phase`, and the Ready condition (changing now when it flips).
  void SetPodStatus(const std::string& name, const std::string& phase, bool ready) {
    corev1::Pod pod = Pod(name);
    pod.mutable_status()->set_phase(phase);
    corev1::PodCondition* cond = nullptr;
    for (auto& c : *pod.mutable_status()->mutable_conditions()) {
      if (c.type() == "Ready") cond = &c;
    }
    if (cond == nullptr) {
      cond = pod.mutable_status()->add_conditions();
      cond->set_type("Ready");
    }
    const std::string want = ready ? "True" : "False";
    if (cond->status() != want) {
      cond->set_status(want);
      *cond->mutable_lasttransitiontime() = api::MakeTime(env.clock.Now());
    }
    Result<client::ObjectPtr> r = env.api.Update(ResourceOf(corev1::Pod::descriptor()), "default", pod, "status");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  void MarkReady(const std::string& name) { SetPodStatus(name, "Running", true); }
  void MarkAllReady() {
    for (const auto& p : env.List<corev1::Pod>("default")) {
      if (!p.metadata().has_deletiontimestamp() && !statefulset::IsRunningAndReady(p)) MarkReady(p.metadata().name());
    }
  }
  // Binds the pod to a node, so that deleting it leaves it terminating (graceful deletion).
  void Bind(const std::string& name) {
    corev1::Pod pod = Pod(name);
    pod.mutable_spec()->set_nodename("node-1");
    ASSERT_TRUE(env.api.Update(ResourceOf(corev1::Pod::descriptor()), "default", pod).ok());
  }
  // What the kubelet does when a terminating pod's containers stopped: the final delete.
  void FinishTermination(const std::string& name) {
    client::DeleteOptions o;
    o.grace_period_seconds = 0;
    ASSERT_TRUE(env.api.Delete(ResourceOf(corev1::Pod::descriptor()), "default", name, o).ok());
  }
  void DeletePod(const std::string& name) {
    ASSERT_TRUE(env.api.Delete(ResourceOf(corev1::Pod::descriptor()), "default", name).ok());
  }

  // Syncs and marks every pod ready until `replicas` pods exist and are ready (bounded).
  void RunToReady(int replicas, const std::string& name = "web") {
    for (int step = 0; step < 4 * replicas + 4; ++step) {
      SyncOk(name);
      MarkAllReady();
      std::vector<std::string> names = PodNames();
      if (static_cast<int>(names.size()) == replicas) {
        SyncOk(name);
        return;
      }
    }
    FAIL() << "never reached " << replicas << " ready pods";
  }

  std::vector<appsv1::ControllerRevision> Revisions() {
    std::vector<appsv1::ControllerRevision> out = env.List<appsv1::ControllerRevision>("default");
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.revision() < b.revision(); });
    return out;
  }

  // Waits for an Event with `reason` and `message` (the broadcaster writes in the background).
  bool HasEvent(const std::string& reason, const std::string& message) {
    return WaitFor([&] {
      for (const auto& e : env.Events(reason)) {
        if (e.message() == message) return true;
      }
      return false;
    }, 10s);
  }

  ControllerTestEnv env;

 private:
  // The informer of T holds the objects the API holds, at the same resourceVersions.
  template <typename T>
  bool CaughtUp() {
    std::map<std::string, std::string> want;
    for (const auto& o : env.api.Objects(ResourceOf(T::descriptor()))) {
      want[client::KeyOf(*o)] = client::ResourceVersionOf(*o);
    }
    std::map<std::string, std::string> have;
    for (const auto& o : env.factory.ForKind<T>().Lister().List()) {
      have[client::KeyOf(*o)] = o->metadata().resourceversion();
    }
    return want == have;
  }

  StatefulSetController controller_;
};

// ---- Creation order ----------------------------------------------------------------------------

TEST(StatefulSetControllerTest, OrderedReadyCreatesOrdinalAfterPredecessorsAreRunningAndReady) {
  Harness h;
  appsv1::StatefulSet set = h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(3));
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0"}));
  h.SyncOk();  // web-0 has no phase yet: nothing more
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0"}));
  h.SetPodStatus("web-0", "Running", false);
  h.SyncOk();  // running but not ready
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0"}));
  h.MarkReady("web-0");
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1"}));
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1"}));
  h.MarkReady("web-1");
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1", "web-2"}));

  // The identity and revision each pod gets.
  corev1::Pod pod = h.Pod("web-1");
  const appsv1::StatefulSet now = h.Set();
  EXPECT_EQ(pod.metadata().generatename(), "web-");
  EXPECT_EQ(pod.metadata().labels().at("app"), "web");
  EXPECT_EQ(pod.metadata().labels().at("statefulset.kubernetes.io/pod-name"), "web-1");
  EXPECT_EQ(pod.metadata().labels().at("apps.kubernetes.io/pod-index"), "1");
  EXPECT_EQ(pod.metadata().labels().at("controller-revision-hash"), now.status().updaterevision());
  EXPECT_EQ(pod.spec().hostname(), "web-1");
  EXPECT_EQ(pod.spec().subdomain(), "nginx");
  ASSERT_EQ(pod.metadata().ownerreferences_size(), 1);
  const auto& ref = pod.metadata().ownerreferences(0);
  EXPECT_EQ(ref.kind(), "StatefulSet");
  EXPECT_EQ(ref.apiversion(), "apps/v1");
  EXPECT_EQ(ref.name(), "web");
  EXPECT_EQ(ref.uid(), set.metadata().uid());
  EXPECT_TRUE(ref.controller());
  EXPECT_TRUE(ref.blockownerdeletion());
  EXPECT_TRUE(h.HasEvent("SuccessfulCreate", "create Pod web-0 in StatefulSet web successful"));
  EXPECT_TRUE(h.HasEvent("SuccessfulCreate", "create Pod web-2 in StatefulSet web successful"));
}

TEST(StatefulSetControllerTest, OneSyncCreatesPerPolicy) {
  struct Case {
    std::string name;
    bool parallel;
    int32_t replicas;
    std::vector<std::string> pods_after_one_sync;
  };
  const std::vector<Case> cases = {
      {"OrderedReady creates only the first", false, 3, {"web-0"}},
      {"Parallel creates all at once", true, 3, {"web-0", "web-1", "web-2"}},
      {"Parallel with many replicas", true, 7, {"web-0", "web-1", "web-2", "web-3", "web-4", "web-5", "web-6"}},
      {"zero replicas create nothing", false, 0, {}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h;
    StatefulSetBuilder b = MakeSet().Replicas(c.replicas);
    if (c.parallel) b.Parallel();
    h.env.Create<appsv1::StatefulSet>(b);
    h.SyncOk();
    EXPECT_EQ(h.PodNames(), c.pods_after_one_sync);
  }
}

TEST(StatefulSetControllerTest, OrderedReadyHaltsWhileAPodIsUnhealthy) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(2));
  h.RunToReady(2);
  h.SetPodStatus("web-0", "Running", false);
  h.UpdateSpec([](auto* spec) { spec->set_replicas(3); });
  h.SyncOk();
  EXPECT_FALSE(h.Exists("web-2"));
  h.MarkReady("web-0");
  h.SyncOk();
  EXPECT_TRUE(h.Exists("web-2"));
}

TEST(StatefulSetControllerTest, MinReadySecondsGatesTheNextOrdinal) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(2).MinReadySeconds(10));
  h.SyncOk();
  h.MarkReady("web-0");
  h.SyncOk();
  EXPECT_FALSE(h.Exists("web-1"));  // ready, not yet available
  EXPECT_EQ(h.Set().status().readyreplicas(), 1);
  EXPECT_EQ(h.Set().status().availablereplicas(), 0);
  h.env.clock.Advance(11s);
  h.SyncOk();
  EXPECT_TRUE(h.Exists("web-1"));
  EXPECT_EQ(h.Set().status().availablereplicas(), 1);
}

// ---- Scale down --------------------------------------------------------------------------------

TEST(StatefulSetControllerTest, OrderedReadyScalesDownHighestOrdinalFirstOneAtATime) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(4));
  h.RunToReady(4);
  for (const std::string& name : h.PodNames()) h.Bind(name);
  h.UpdateSpec([](auto* spec) { spec->set_replicas(2); });

  h.SyncOk();
  EXPECT_TRUE(h.Terminating("web-3"));
  EXPECT_FALSE(h.Terminating("web-2"));
  h.SyncOk();  // web-3 is still terminating: web-2 waits
  EXPECT_FALSE(h.Terminating("web-2"));
  h.FinishTermination("web-3");
  h.SyncOk();
  EXPECT_TRUE(h.Terminating("web-2"));
  h.FinishTermination("web-2");
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1"}));
  EXPECT_EQ(h.Set().status().replicas(), 2);
  EXPECT_TRUE(h.HasEvent("SuccessfulDelete", "delete Pod web-3 in StatefulSet web successful"));
  EXPECT_TRUE(h.HasEvent("SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful"));
}

TEST(StatefulSetControllerTest, OrderedReadyScaleDownHaltsOnUnhealthyReplica) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(3));
  h.RunToReady(3);
  h.SetPodStatus("web-0", "Running", false);
  h.UpdateSpec([](auto* spec) { spec->set_replicas(1); });
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1", "web-2"}));
  h.MarkReady("web-0");
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1"}));
}

TEST(StatefulSetControllerTest, ParallelScalesDownAllAtOnce) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(4).Parallel());
  h.RunToReady(4);
  h.SetPodStatus("web-1", "Running", false);  // Parallel does not wait for health
  h.UpdateSpec([](auto* spec) { spec->set_replicas(1); });
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0"}));
}

// ---- Updates -----------------------------------------------------------------------------------

TEST(StatefulSetControllerTest, RollingUpdateGoesDownFromTheTopAndStopsAtThePartition) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(4).Partition(2));
  h.RunToReady(4);
  const std::string rev1 = h.Set().status().updaterevision();
  ASSERT_FALSE(rev1.empty());
  EXPECT_EQ(h.Set().status().currentrevision(), rev1);

  h.UpdateSpec([](auto* spec) { spec->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("nginx:2"); });
  h.SyncOk();
  const std::string rev2 = h.Set().status().updaterevision();
  EXPECT_NE(rev2, rev1);
  EXPECT_EQ(h.Set().status().currentrevision(), rev1);
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1", "web-2"}));  // web-3 went first
  h.SyncOk();
  ASSERT_TRUE(h.Exists("web-3"));
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-3")), rev2);
  EXPECT_EQ(h.Pod("web-3").spec().containers(0).image(), "nginx:2");
  h.SyncOk();  // web-3 is not ready yet: web-2 waits
  EXPECT_TRUE(h.Exists("web-2"));
  h.MarkReady("web-3");
  h.SyncOk();
  EXPECT_FALSE(h.Exists("web-2"));
  h.SyncOk();
  h.MarkReady("web-2");
  h.SyncOk();
  h.SyncOk();
  // The partition holds web-0 and web-1 at the old revision.
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1", "web-2", "web-3"}));
  std::map<std::string, std::string> revisions;
  for (const std::string& name : h.PodNames()) revisions[name] = statefulset::PodRevision(h.Pod(name));
  EXPECT_EQ(revisions, (std::map<std::string, std::string>{{"web-0", rev1}, {"web-1", rev1}, {"web-2", rev2}, {"web-3", rev2}}));
  EXPECT_EQ(h.Pod("web-0").spec().containers(0).image(), "nginx:1");
  appsv1::StatefulSetStatus st = h.Set().status();
  EXPECT_EQ(st.currentrevision(), rev1);
  EXPECT_EQ(st.updaterevision(), rev2);
  EXPECT_EQ(st.currentreplicas(), 2);
  EXPECT_EQ(st.updatedreplicas(), 2);
  EXPECT_EQ(st.readyreplicas(), 4);

  // Partition 0: the rest follows, web-1 before web-0, and the update completes.
  h.UpdateSpec([](auto* spec) { spec->mutable_updatestrategy()->mutable_rollingupdate()->set_partition(0); });
  std::vector<std::string> replaced;
  std::map<std::string, std::string> uids;
  for (const std::string& name : h.PodNames()) uids[name] = h.Pod(name).metadata().uid();
  for (int step = 0; step < 12; ++step) {
    h.SyncOk();
    for (const char* name : {"web-0", "web-1"}) {
      if (!h.Exists(name) && std::find(replaced.begin(), replaced.end(), name) == replaced.end()) {
        replaced.push_back(name);
      }
    }
    h.MarkAllReady();
    if (h.Set().status().currentrevision() == rev2) break;
  }
  EXPECT_EQ(replaced, (std::vector<std::string>{"web-1", "web-0"}));
  st = h.Set().status();
  EXPECT_EQ(st.currentrevision(), rev2);
  EXPECT_EQ(st.updaterevision(), rev2);
  EXPECT_EQ(st.currentreplicas(), 4);
  EXPECT_EQ(st.updatedreplicas(), 4);
  for (const std::string& name : h.PodNames()) EXPECT_EQ(statefulset::PodRevision(h.Pod(name)), rev2) << name;
  EXPECT_EQ(h.Pod("web-3").metadata().uid(), uids["web-3"]);  // replaced once only
}

TEST(StatefulSetControllerTest, OnDeleteUpdatesOnlyPodsSomeoneDeleted) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(3).OnDelete());
  h.RunToReady(3);
  const std::string rev1 = h.Set().status().updaterevision();
  h.UpdateSpec([](auto* spec) { spec->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("nginx:2"); });
  h.SyncOk();
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-0", "web-1", "web-2"}));
  const std::string rev2 = h.Set().status().updaterevision();
  EXPECT_NE(rev2, rev1);
  for (const std::string& name : h.PodNames()) EXPECT_EQ(statefulset::PodRevision(h.Pod(name)), rev1) << name;
  EXPECT_EQ(h.Set().status().updatedreplicas(), 0);
  EXPECT_EQ(h.Set().status().currentreplicas(), 3);

  h.DeletePod("web-1");
  h.SyncOk();
  ASSERT_TRUE(h.Exists("web-1"));
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-1")), rev2);
  EXPECT_EQ(h.Pod("web-1").spec().containers(0).image(), "nginx:2");
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-0")), rev1);
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-2")), rev1);
  h.MarkReady("web-1");
  h.SyncOk();
  EXPECT_EQ(h.Set().status().updatedreplicas(), 1);
  EXPECT_EQ(h.Set().status().currentreplicas(), 2);
  EXPECT_EQ(h.Set().status().currentrevision(), rev1);  // OnDelete never completes a rollout (as upstream)
}

// ---- Revisions ---------------------------------------------------------------------------------

TEST(StatefulSetControllerTest, RevisionsAreTheTemplatePatchAndHistoryKeepsLiveOnes) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1).OnDelete().HistoryLimit(1));
  h.RunToReady(1);
  std::vector<appsv1::ControllerRevision> revs = h.Revisions();
  ASSERT_EQ(revs.size(), 1u);
  const appsv1::ControllerRevision r1 = revs[0];
  EXPECT_EQ(r1.revision(), 1);
  EXPECT_EQ(r1.metadata().name(), "web-" + r1.metadata().labels().at("controller-revision-hash"));
  EXPECT_EQ(r1.metadata().labels().at("app"), "web");
  ASSERT_EQ(r1.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(r1.metadata().ownerreferences(0).uid(), h.Set().metadata().uid());
  // Upstream's patch: the template under spec.template, keys sorted, replaced wholesale.
  EXPECT_EQ(r1.data().raw(),
            R"({"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,"labels":{"app":"web"}},)"
            R"("spec":{"containers":[{"image":"nginx:1","name":"nginx","resources":{}}]}}}})");

  auto set_image = [&](const std::string& image) {
    h.UpdateSpec([&](auto* spec) { spec->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image(image); });
    h.SyncOk();
  };
  set_image("nginx:2");
  set_image("nginx:3");
  ASSERT_EQ(h.Revisions().size(), 3u);
  const std::string r3 = h.Set().status().updaterevision();
  set_image("nginx:4");
  // Live: the current revision (r1, which web-0 also runs) and the update revision (r4). Of the
  // rest (r2, r3) the limit keeps one, the newest.
  revs = h.Revisions();
  std::vector<int64_t> numbers;
  for (const auto& r : revs) numbers.push_back(r.revision());
  EXPECT_EQ(numbers, (std::vector<int64_t>{1, 3, 4}));
  EXPECT_EQ(revs[0].metadata().name(), r1.metadata().name());
  EXPECT_EQ(revs[1].metadata().name(), r3);
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-0")), r1.metadata().name());

  // Back to nginx:3: no new revision, r3 is renumbered as the newest and is the update revision.
  set_image("nginx:3");
  revs = h.Revisions();
  ASSERT_EQ(revs.size(), 3u);
  EXPECT_EQ(revs.back().metadata().name(), r3);
  EXPECT_EQ(revs.back().revision(), 5);
  EXPECT_EQ(h.Set().status().updaterevision(), r3);
}

TEST(StatefulSetControllerTest, RevisionNameCollisionBumpsCollisionCount) {
  Harness h;
  appsv1::StatefulSet set = h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1));
  Result<appsv1::ControllerRevision> first = statefulset::NewRevision(statefulset::WithDefaults(set), 1, 0);
  ASSERT_TRUE(first.ok());
  // Someone else's revision already has that name, with other data.
  appsv1::ControllerRevision squatter;
  squatter.mutable_metadata()->set_name(first->metadata().name());
  (*squatter.mutable_metadata()->mutable_labels())["app"] = "web";
  auto* ref = squatter.mutable_metadata()->add_ownerreferences();
  ref->set_apiversion("apps/v1");
  ref->set_kind("DaemonSet");
  ref->set_name("other");
  ref->set_uid("other-uid");
  ref->set_controller(true);
  squatter.mutable_data()->set_raw(R"({"spec":{"template":{"$patch":"replace"}}})");
  squatter.set_revision(1);
  h.env.Create(squatter);

  h.SyncOk();
  appsv1::StatefulSetStatus st = h.Set().status();
  EXPECT_EQ(st.collisioncount(), 1);
  Result<appsv1::ControllerRevision> second = statefulset::NewRevision(statefulset::WithDefaults(set), 1, 1);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->metadata().name(), first->metadata().name());
  EXPECT_EQ(st.updaterevision(), second->metadata().name());
  Result<appsv1::ControllerRevision> created = h.env.Get<appsv1::ControllerRevision>("default", st.updaterevision());
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->metadata().ownerreferences(0).uid(), set.metadata().uid());
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-0")), st.updaterevision());
  // The squatter is untouched.
  EXPECT_EQ(h.env.Get<appsv1::ControllerRevision>("default", first->metadata().name())->data().raw(),
            squatter.data().raw());
}

TEST(StatefulSetControllerTest, AdoptsOrphanRevisions) {
  Harness h;
  appsv1::StatefulSet set = h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1));
  Result<appsv1::ControllerRevision> rev = statefulset::NewRevision(statefulset::WithDefaults(set), 1, 0);
  ASSERT_TRUE(rev.ok());
  appsv1::ControllerRevision orphan = *rev;
  orphan.mutable_metadata()->clear_ownerreferences();
  h.env.Create(orphan);
  h.SyncOk();
  Result<appsv1::ControllerRevision> adopted = h.env.Get<appsv1::ControllerRevision>("default", orphan.metadata().name());
  ASSERT_TRUE(adopted.ok());
  ASSERT_EQ(adopted->metadata().ownerreferences_size(), 1);
  EXPECT_EQ(adopted->metadata().ownerreferences(0).uid(), set.metadata().uid());
  h.SyncOk();
  // It holds the set's template, so it is the revision in use; no second one was made.
  EXPECT_EQ(h.Revisions().size(), 1u);
  EXPECT_EQ(h.Set().status().updaterevision(), orphan.metadata().name());
}

// ---- Failed pods, claiming, storage, errors ----------------------------------------------------

TEST(StatefulSetControllerTest, FailedPodIsDeletedAndRecreated) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(2));
  h.RunToReady(2);
  const std::string old_uid = h.Pod("web-1").metadata().uid();
  h.SetPodStatus("web-1", "Failed", false);
  h.SyncOk();
  EXPECT_FALSE(h.Exists("web-1"));
  EXPECT_TRUE(h.HasEvent("SuccessfulDelete", "delete Pod web-1 in StatefulSet web successful"));
  h.SyncOk();
  ASSERT_TRUE(h.Exists("web-1"));
  EXPECT_NE(h.Pod("web-1").metadata().uid(), old_uid);
}

TEST(StatefulSetControllerTest, ClaimsOrphanMembersAndReleasesOwnedStrangers) {
  // OnDelete, so that the adopted pod (which has no revision label) is kept and repaired.
  Harness h;
  appsv1::StatefulSet set = h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1).OnDelete());
  h.env.Create<corev1::Pod>(MakePod("web-0").Namespace("default").Label("app", "web"));
  h.SetPodStatus("web-0", "Running", true);
  const std::string uid = h.Pod("web-0").metadata().uid();
  // Owned by the set but not named after it: released. Someone else's "web-1": left alone.
  h.env.Create<corev1::Pod>(MakePod("cache-0").Namespace("default").Label("app", "web")
                                .OwnerRef("StatefulSet", "web", set.metadata().uid()));
  h.env.Create<corev1::Pod>(MakePod("web-1").Namespace("default").Label("app", "web")
                                .OwnerRef("ReplicaSet", "rs", "rs-uid"));
  h.SyncOk();
  corev1::Pod web0 = h.Pod("web-0");
  EXPECT_EQ(web0.metadata().uid(), uid);
  ASSERT_EQ(web0.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(web0.metadata().ownerreferences(0).uid(), set.metadata().uid());
  EXPECT_TRUE(web0.metadata().ownerreferences(0).controller());
  // The adopted pod's identity is repaired.
  EXPECT_EQ(web0.metadata().labels().at("statefulset.kubernetes.io/pod-name"), "web-0");
  EXPECT_EQ(web0.metadata().labels().at("apps.kubernetes.io/pod-index"), "0");
  EXPECT_EQ(h.Pod("cache-0").metadata().ownerreferences_size(), 0);
  EXPECT_EQ(h.Pod("web-1").metadata().ownerreferences(0).uid(), "rs-uid");
  EXPECT_TRUE(h.HasEvent("SuccessfulUpdate", "update Pod web-0 in StatefulSet web successful"));
  h.SyncOk();
  EXPECT_EQ(h.Pod("web-0").metadata().uid(), uid);
  EXPECT_EQ(h.Set().status().replicas(), 1);
}

TEST(StatefulSetControllerTest, RollingUpdateReplacesAnAdoptedPodWithoutRevision) {
  // As upstream: a pod without the controller-revision-hash label is not at the update revision.
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1));
  h.env.Create<corev1::Pod>(MakePod("web-0").Namespace("default").Label("app", "web"));
  h.SetPodStatus("web-0", "Running", true);
  const std::string uid = h.Pod("web-0").metadata().uid();
  h.SyncOk();
  EXPECT_FALSE(h.Exists("web-0"));
  h.SyncOk();
  ASSERT_TRUE(h.Exists("web-0"));
  EXPECT_NE(h.Pod("web-0").metadata().uid(), uid);
  EXPECT_EQ(statefulset::PodRevision(h.Pod("web-0")), h.Set().status().updaterevision());
}

TEST(StatefulSetControllerTest, VolumeClaimTemplatesBecomeClaimVolumesWithoutClaims) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1).ClaimTemplate("www").Volume("config"));
  h.SyncOk();
  corev1::Pod pod = h.Pod("web-0");
  ASSERT_EQ(pod.spec().volumes_size(), 2);
  EXPECT_EQ(pod.spec().volumes(0).name(), "www");
  EXPECT_EQ(pod.spec().volumes(0).volumesource().persistentvolumeclaim().claimname(), "www-web-0");
  EXPECT_EQ(pod.spec().volumes(1).name(), "config");
  EXPECT_TRUE(pod.spec().volumes(1).volumesource().has_emptydir());
  EXPECT_TRUE(h.env.List<corev1::PersistentVolumeClaim>("default").empty());
}

TEST(StatefulSetControllerTest, FailedCreateIsRecordedAndRetried) {
  Harness h;
  h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(1));
  h.env.api.FailNext(client::FakeApi::Verb::kCreate, Forbidden("pods \"web-0\" is forbidden: exceeded quota"), 1, "pods");
  Status s = h.Sync();
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_TRUE(h.HasEvent("FailedCreate",
                         "create Pod web-0 in StatefulSet web failed error: pods \"web-0\" is forbidden: exceeded quota"));
  h.SyncOk();
  EXPECT_TRUE(h.Exists("web-0"));
}

TEST(StatefulSetControllerTest, DeletedSetIsANoOp) {
  Harness h;
  EXPECT_TRUE(h.Sync("gone").ok());
  EXPECT_TRUE(h.PodNames().empty());
}

// ---- Status ------------------------------------------------------------------------------------

TEST(StatefulSetControllerTest, StatusCountsPodsByState) {
  struct PodState {
    std::string phase;  // "" leaves the pod as created
    bool ready;
  };
  struct Case {
    std::string name;
    int32_t min_ready_seconds;
    std::vector<PodState> pods;  // web-0, web-1, web-2
    Duration after;              // clock advance before the sync that is checked
    int32_t replicas, ready, available;
  };
  const std::vector<Case> cases = {
      {"all ready", 0, {{"Running", true}, {"Running", true}, {"Running", true}}, 0s, 3, 3, 3},
      {"one pending", 0, {{"Running", true}, {"Pending", false}, {"Running", true}}, 0s, 3, 2, 2},
      {"running, not ready", 0, {{"Running", false}, {"Running", true}, {""}}, 0s, 3, 1, 1},
      {"ready but not yet available", 10, {{"Running", true}, {"Running", true}, {"Running", true}}, 5s, 3, 3, 0},
      {"available after minReadySeconds", 10, {{"Running", true}, {"Running", true}, {"Running", true}}, 11s, 3, 3, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.env.Create<appsv1::StatefulSet>(MakeSet().Replicas(3).Parallel().MinReadySeconds(c.min_ready_seconds));
    h.SyncOk();
    ASSERT_EQ(h.PodNames().size(), 3u);
    for (size_t i = 0; i < c.pods.size(); ++i) {
      if (!c.pods[i].phase.empty()) h.SetPodStatus("web-" + std::to_string(i), c.pods[i].phase, c.pods[i].ready);
    }
    h.env.clock.Advance(c.after);
    h.SyncOk();
    const appsv1::StatefulSet set = h.Set();
    const appsv1::StatefulSetStatus& st = set.status();
    EXPECT_EQ(st.observedgeneration(), set.metadata().generation());
    EXPECT_EQ(st.replicas(), c.replicas);
    EXPECT_EQ(st.readyreplicas(), c.ready);
    EXPECT_EQ(st.availablereplicas(), c.available);
    EXPECT_EQ(st.currentreplicas(), 3);
    EXPECT_EQ(st.updatedreplicas(), 3);
    EXPECT_FALSE(st.updaterevision().empty());
    EXPECT_EQ(st.currentrevision(), st.updaterevision());
    EXPECT_TRUE(st.has_collisioncount());
    EXPECT_EQ(st.collisioncount(), 0);
  }
}

TEST(StatefulSetControllerTest, StartOrdinalShiftsPodNames) {
  Harness h;
  appsv1::StatefulSet set = MakeSet().Replicas(2).Parallel();
  set.mutable_spec()->mutable_ordinals()->set_start(5);
  h.env.Create(set);
  h.SyncOk();
  EXPECT_EQ(h.PodNames(), (std::vector<std::string>{"web-5", "web-6"}));
  EXPECT_EQ(h.Pod("web-6").metadata().labels().at("apps.kubernetes.io/pod-index"), "6");
}

// ---- Pure helpers ------------------------------------------------------------------------------

TEST(StatefulSetUtilsTest, ParentAndOrdinalFromPodName) {
  struct Case {
    std::string name, parent;
    int ordinal;
  };
  const std::vector<Case> cases = {
      {"web-0", "web", 0},       {"web-12", "web", 12},          {"my-web-3", "my-web", 3},
      {"web", "", -1},           {"web-", "", -1},               {"web-x1", "", -1},
      {"web-1a", "", -1},        {"web-99999999999", "web", -1}, {"-4", "", 4},
  };
  for (const Case& c : cases) {
    statefulset::ParentAndOrdinal po = statefulset::ParseParentAndOrdinal(c.name);
    EXPECT_EQ(po.parent, c.parent) << c.name;
    EXPECT_EQ(po.ordinal, c.ordinal) << c.name;
  }
}

TEST(StatefulSetUtilsTest, ApplyRevisionRestoresTheTemplate) {
  appsv1::StatefulSet v1 = statefulset::WithDefaults(MakeSet());
  appsv1::StatefulSet v2 = v1;
  v2.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("nginx:2");
  Result<appsv1::ControllerRevision> r1 = statefulset::NewRevision(v1, 1, 0);
  ASSERT_TRUE(r1.ok());
  Result<appsv1::StatefulSet> restored = statefulset::ApplyRevision(v2, *r1);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->spec().template_().spec().containers(0).image(), "nginx:1");
  EXPECT_EQ(restored->spec().replicas(), v2.spec().replicas());
  appsv1::ControllerRevision broken = *r1;
  broken.mutable_data()->set_raw("{}");
  EXPECT_EQ(statefulset::ApplyRevision(v2, broken).status().code(), Code::kInternal);
}

// ---- With workers: the handlers alone drive the set ---------------------------------------------

TEST(StatefulSetControllerTest, WorkersFollowPodEventsOnTheirOwn) {
  // Real time here: retries of the work queue (an AlreadyExists from a lagging cache) back off on
  // the controller's clock.
  RealClock& clock = RealClock::Get();
  FakeRandom random{11};
  metrics::Registry registry;
  client::FakeApi api(clock, random);
  client::SharedInformerFactory factory(api, clock, random);
  client::EventBroadcaster events(api, clock, client::EventBroadcasterOptions{}, random);
  ControllerSettings settings;
  ControllerContext context{api, factory, clock, random, registry, events, settings, ""};
  events.Start();
  {
    StatefulSetController c(context);
    factory.Start();
    ASSERT_TRUE(c.Start(c.Informers(), 20s).ok());
    const auto& pods = ResourceOf(corev1::Pod::descriptor());
    auto exists = [&](const std::string& name) { return api.Get(pods, "default", name).ok(); };
    auto mark_ready = [&](const std::string& name) {
      corev1::Pod pod = static_cast<const corev1::Pod&>(**api.Get(pods, "default", name));
      pod.mutable_status()->set_phase("Running");
      auto* cond = pod.mutable_status()->add_conditions();
      cond->set_type("Ready");
      cond->set_status("True");
      *cond->mutable_lasttransitiontime() = api::MakeTime(clock.Now());
      ASSERT_TRUE(api.Update(pods, "default", pod, "status").ok());
    };
    ASSERT_TRUE(api.Create(ResourceOf(appsv1::StatefulSet::descriptor()), "default",
                           static_cast<appsv1::StatefulSet>(MakeSet().Replicas(2)))
                    .ok());
    ASSERT_TRUE(WaitFor([&] { return exists("web-0"); }));
    EXPECT_FALSE(exists("web-1"));
    mark_ready("web-0");
    ASSERT_TRUE(WaitFor([&] { return exists("web-1"); }));
    mark_ready("web-1");
    auto status = [&] {
      return static_cast<const appsv1::StatefulSet&>(**api.Get(ResourceOf(appsv1::StatefulSet::descriptor()),
                                                                "default", "web"))
          .status();
    };
    EXPECT_TRUE(WaitFor([&] { return status().readyreplicas() == 2 && status().availablereplicas() == 2; }));
    c.Stop();
  }
  events.Shutdown();
  factory.Shutdown();
}

}  // namespace
}  // namespace ck::controller_manager
