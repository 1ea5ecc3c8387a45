// Unit tests of DeploymentController on FakeApi: the test plays the ReplicaSet controller and
// the kubelets (it sets ReplicaSet status and creates/deletes pods itself) and drives the
// controller one Sync at a time, waiting until the informers have seen every write in between.
#include "controller-manager/deployment/deployment_controller.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/meta.h"
#include "controller-manager/testing/controller_test_env.h"
#include "controller-manager/util/hash.h"

namespace ck::controller_manager {
namespace {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakeDeployment;
using api::testing::MakePod;
using api::testing::MakeReplicaSet;
using client::testing::WaitFor;
using testing::ControllerTestEnv;
using testing::ResourceOf;
using namespace deployment;  // NOLINT

constexpr char kKey[] = "default/web";

class DeploymentControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    controller_ = std::make_unique<DeploymentController>(env_.context);
    env_.StartInformers(controller_->Informers());
  }

  // The informers hold exactly the objects (and versions) the fake API holds.
  template <typename T>
  bool CaughtUp() {
    std::map<std::string, std::string> want, have;
    for (const auto& o : env_.api.Objects(ResourceOf(T::descriptor()))) want[client::KeyOf(o)] = client::ResourceVersionOf(*o);
    for (const auto& o : env_.factory.ForKind<T>().Lister().List()) have[client::KeyOf(*o)] = client::ResourceVersionOf(*o);
    return want == have;
  }
  void Settle() {
    ASSERT_TRUE(WaitFor([&] { return CaughtUp<appsv1::Deployment>() && CaughtUp<appsv1::ReplicaSet>() && CaughtUp<corev1::Pod>(); }));
  }
  Status SyncOnce() {
    Settle();
    Status s = controller_->SyncForTesting(kKey);
    Settle();
    return s;
  }

  appsv1::Deployment Dep() {
    Result<appsv1::Deployment> d = env_.Get<appsv1::Deployment>("default", "web");
    CK_CHECK(d.ok()) << d.status().message();
    return *d;
  }
  // Changes the deployment as a user would (a PUT of the object: generation moves with the spec).
  template <typename F>
  void EditDeployment(F edit) {
    appsv1::Deployment d = Dep();
    edit(&d);
    ASSERT_TRUE(env_.api.Update(ResourceOf(appsv1::Deployment::descriptor()), "default", d).ok());
  }
  void SetImage(const std::string& image) {
    EditDeployment([&](appsv1::Deployment* d) {
      d->mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image(image);
    });
  }

  // Oldest first.
  std::vector<appsv1::ReplicaSet> ReplicaSetList() {
    std::vector<appsv1::ReplicaSet> list = env_.List<appsv1::ReplicaSet>("default");
    std::sort(list.begin(), list.end(), CreatedBefore);
    return list;
  }
  appsv1::ReplicaSet RsNamed(const std::string& name) {
    Result<appsv1::ReplicaSet> rs = env_.Get<appsv1::ReplicaSet>("default", name);
    CK_CHECK(rs.ok()) << rs.status().message();
    return *rs;
  }
  // The ReplicaSet whose template has `image`.
  std::optional<appsv1::ReplicaSet> RsWithImage(const std::string& image) {
    for (const auto& rs : ReplicaSetList()) {
      if (rs.spec().template_().spec().containers(0).image() == image) return rs;
    }
    return std::nullopt;
  }
  std::string ExpectedName(const appsv1::Deployment& d, std::optional<int32_t> collisions = std::nullopt) {
    return "web-" + ComputeHash(d.spec().template_(), collisions);
  }

  // The ReplicaSet controller and kubelets: each ReplicaSet's pods follow its spec at once
  // (surplus pods go, unavailable ones first), then `newly_available` more pods per ReplicaSet
  // become available (-1: all of them).
  void ReplicaSetsReact(int newly_available) {
    for (appsv1::ReplicaSet rs : ReplicaSetList()) {
      const int32_t spec = SpecReplicas(rs);
      int32_t available = std::min(rs.status().availablereplicas(), spec);
      available = newly_available < 0 ? spec : std::min(spec, available + newly_available);
      appsv1::ReplicaSetStatus want;
      want.set_replicas(spec);
      want.set_fullylabeledreplicas(spec);
      want.set_readyreplicas(available);
      want.set_availablereplicas(available);
      want.set_observedgeneration(rs.metadata().generation());
      if (StatusEquivalent(rs.status(), want)) continue;
      *rs.mutable_status() = want;
      ASSERT_TRUE(env_.api.Update(ResourceOf(appsv1::ReplicaSet::descriptor()), "default", rs, "status").ok());
    }
    Settle();
  }
  static bool StatusEquivalent(const appsv1::ReplicaSetStatus& a, const appsv1::ReplicaSetStatus& b) {
    return a.replicas() == b.replicas() && a.readyreplicas() == b.readyreplicas() &&
           a.availablereplicas() == b.availablereplicas() && a.observedgeneration() == b.observedgeneration() &&
           a.fullylabeledreplicas() == b.fullylabeledreplicas();
  }

  bool RolloutComplete() {
    appsv1::Deployment d = Dep();
    const appsv1::DeploymentCondition* p = GetCondition(d.status(), kProgressing);
    const int32_t replicas = d.spec().replicas();
    return d.status().observedgeneration() >= d.metadata().generation() && d.status().updatedreplicas() == replicas &&
           d.status().replicas() == replicas && d.status().availablereplicas() == replicas && p != nullptr &&
           p->reason() == kNewReplicaSetAvailableReason;
  }
  // Syncs and lets every pod become available until the rollout is complete.
  void RollOut(int max_steps = 100) {
    for (int i = 0; i < max_steps && !RolloutComplete(); ++i) {
      ASSERT_TRUE(SyncOnce().ok());
      ReplicaSetsReact(-1);
    }
    ASSERT_TRUE(RolloutComplete()) << Dep().status().DebugString();
  }
  void CreateAndRollOut(const appsv1::Deployment& d) {
    env_.Create(d);
    RollOut();
  }

  std::vector<std::string> ScalingEvents(size_t at_least) {
    std::vector<std::string> out;
    EXPECT_TRUE(WaitFor([&] { return env_.Events("ScalingReplicaSet").size() >= at_least; }));
    for (const auto& e : env_.Events("ScalingReplicaSet")) out.push_back(e.message());
    std::sort(out.begin(), out.end());
    return out;
  }

  ControllerTestEnv env_;
  std::unique_ptr<DeploymentController> controller_;
};

appsv1::Deployment Web(int32_t replicas, const std::string& surge = "25%", const std::string& unavailable = "25%") {
  return MakeDeployment("web").Label("app", "web").Replicas(replicas).Image("app:1").MaxSurge(surge).MaxUnavailable(
      unavailable);
}

// ---- The first ReplicaSet ----------------------------------------------------------------------

TEST_F(DeploymentControllerTest, CreatesTheFirstReplicaSet) {
  appsv1::Deployment want = Web(3);
  (*want.mutable_metadata()->mutable_annotations())["team"] = "shop";
  (*want.mutable_metadata()->mutable_annotations())[kLastAppliedConfigAnnotation] = "{}";
  env_.Create(want);
  ASSERT_TRUE(SyncOnce().ok());

  const std::string hash = ComputeHash(want.spec().template_());
  std::vector<appsv1::ReplicaSet> list = ReplicaSetList();
  ASSERT_EQ(list.size(), 1u);
  const appsv1::ReplicaSet& rs = list[0];
  EXPECT_EQ(rs.metadata().name(), "web-" + hash);
  EXPECT_EQ(rs.metadata().labels().at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.metadata().labels().at("app"), "web");
  EXPECT_EQ(rs.spec().selector().matchlabels().at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.spec().selector().matchlabels().at("app"), "web");
  EXPECT_EQ(rs.spec().template_().metadata().labels().at(kPodTemplateHashLabel), hash);
  EXPECT_EQ(rs.spec().replicas(), 3);
  const auto& ann = rs.metadata().annotations();
  EXPECT_EQ(ann.at(kRevisionAnnotation), "1");
  EXPECT_EQ(ann.at(kDesiredReplicasAnnotation), "3");
  EXPECT_EQ(ann.at(kMaxReplicasAnnotation), "4");  // 25% of 3 rounds up to 1
  EXPECT_EQ(ann.at("team"), "shop");
  EXPECT_FALSE(ann.contains(kLastAppliedConfigAnnotation));
  appsv1::Deployment d = Dep();
  ASSERT_EQ(rs.metadata().ownerreferences_size(), 1);
  EXPECT_EQ(rs.metadata().ownerreferences(0).uid(), d.metadata().uid());
  EXPECT_EQ(rs.metadata().ownerreferences(0).kind(), "Deployment");
  EXPECT_TRUE(rs.metadata().ownerreferences(0).controller());

  EXPECT_EQ(d.metadata().annotations().at(kRevisionAnnotation), "1");
  const appsv1::DeploymentCondition* p = GetCondition(d.status(), kProgressing);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->status(), "True");
  EXPECT_EQ(p->reason(), kNewReplicaSetReason);
  EXPECT_EQ(p->message(), "Created new replica set \"web-" + hash + "\"");
  EXPECT_EQ(ScalingEvents(1), std::vector<std::string>{"Scaled up replica set web-" + hash + " to 3"});

  // Pods come up: the status says so, and the rollout is reported complete.
  ReplicaSetsReact(-1);
  ASSERT_TRUE(SyncOnce().ok());
  d = Dep();
  EXPECT_EQ(d.status().observedgeneration(), d.metadata().generation());
  EXPECT_EQ(d.status().replicas(), 3);
  EXPECT_EQ(d.status().updatedreplicas(), 3);
  EXPECT_EQ(d.status().readyreplicas(), 3);
  EXPECT_EQ(d.status().availablereplicas(), 3);
  EXPECT_EQ(d.status().unavailablereplicas(), 0);
  p = GetCondition(d.status(), kProgressing);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->reason(), kNewReplicaSetAvailableReason);
  EXPECT_EQ(p->message(), "ReplicaSet \"web-" + hash + "\" has successfully progressed.");
  const appsv1::DeploymentCondition* a = GetCondition(d.status(), kAvailable);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->status(), "True");
  EXPECT_EQ(a->reason(), kMinimumReplicasAvailable);

  // A resync of a finished rollout writes nothing.
  const std::string rv = d.metadata().resourceversion();
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(Dep().metadata().resourceversion(), rv);
}

TEST_F(DeploymentControllerTest, StatusBeforePodsAreAvailable) {
  env_.Create(Web(4));  // maxUnavailable 1: minAvailable 3
  ASSERT_TRUE(SyncOnce().ok());
  ReplicaSetsReact(2);
  ASSERT_TRUE(SyncOnce().ok());
  appsv1::Deployment d = Dep();
  EXPECT_EQ(d.status().replicas(), 4);
  EXPECT_EQ(d.status().updatedreplicas(), 4);
  EXPECT_EQ(d.status().availablereplicas(), 2);
  EXPECT_EQ(d.status().unavailablereplicas(), 2);
  const appsv1::DeploymentCondition* a = GetCondition(d.status(), kAvailable);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->status(), "False");
  EXPECT_EQ(a->reason(), kMinimumReplicasUnavailable);
  EXPECT_EQ(GetCondition(d.status(), kProgressing)->reason(), kReplicaSetUpdatedReason);
  EXPECT_EQ(GetCondition(d.status(), kProgressing)->message(),
            "ReplicaSet \"" + ExpectedName(d) + "\" is progressing.");
}

// ---- Rolling update ----------------------------------------------------------------------------

struct RolloutCase {
  int32_t replicas;
  std::string surge, unavailable;
  int32_t max_surge, max_unavailable;  // upstream's resolution, written out by hand
  int newly_available;                 // pods becoming available per ReplicaSet per step (-1: all)
};

void PrintTo(const RolloutCase& c, std::ostream* os) {
  *os << c.replicas << " replicas, maxSurge " << c.surge << ", maxUnavailable " << c.unavailable;
}

class RollingUpdateTest : public DeploymentControllerTest, public ::testing::WithParamInterface<RolloutCase> {};

TEST_P(RollingUpdateTest, StaysWithinSurgeAndAvailability) {
  const RolloutCase& c = GetParam();
  CreateAndRollOut(Web(c.replicas, c.surge, c.unavailable));
  SetImage("app:2");
  const int32_t max_total = c.replicas + c.max_surge;
  const int32_t min_available = c.replicas - c.max_unavailable;
  auto spec_total = [&] {
    int32_t n = 0;
    for (const auto& rs : ReplicaSetList()) n += SpecReplicas(rs);
    return n;
  };
  auto available = [&] {
    int32_t n = 0;
    for (const auto& rs : ReplicaSetList()) n += rs.status().availablereplicas();
    return n;
  };
  int steps = 0;
  for (; steps < 200 && !RolloutComplete(); ++steps) {
    ASSERT_TRUE(SyncOnce().ok());
    ASSERT_LE(spec_total(), max_total) << "step " << steps;
    ReplicaSetsReact(0);  // the scale takes effect: surplus pods go
    ASSERT_GE(available(), min_available) << "step " << steps;
    ReplicaSetsReact(c.newly_available);
    ASSERT_GE(available(), min_available) << "step " << steps;
  }
  ASSERT_TRUE(RolloutComplete()) << Dep().status().DebugString();
  std::optional<appsv1::ReplicaSet> old_rs = RsWithImage("app:1"), new_rs = RsWithImage("app:2");
  ASSERT_TRUE(old_rs && new_rs);
  EXPECT_EQ(SpecReplicas(*old_rs), 0);
  EXPECT_EQ(SpecReplicas(*new_rs), c.replicas);
  EXPECT_EQ(new_rs->metadata().annotations().at(kRevisionAnnotation), "2");
  appsv1::Deployment d = Dep();
  EXPECT_EQ(d.metadata().annotations().at(kRevisionAnnotation), "2");
  EXPECT_EQ(GetCondition(d.status(), kProgressing)->message(),
            "ReplicaSet \"" + new_rs->metadata().name() + "\" has successfully progressed.");
}

INSTANTIATE_TEST_SUITE_P(
    Fenceposts, RollingUpdateTest,
    ::testing::Values(RolloutCase{1, "25%", "25%", 1, 0, -1}, RolloutCase{1, "25%", "25%", 1, 0, 1},
                      RolloutCase{2, "0", "1", 0, 1, 1}, RolloutCase{3, "1", "0", 1, 0, 1},
                      RolloutCase{3, "25%", "25%", 1, 0, -1}, RolloutCase{5, "25%", "25%", 2, 1, 1},
                      RolloutCase{5, "25%", "25%", 2, 1, -1}, RolloutCase{10, "25%", "25%", 3, 2, 1},
                      RolloutCase{10, "25%", "25%", 3, 2, -1}, RolloutCase{10, "0%", "30%", 0, 3, 1},
                      RolloutCase{10, "50%", "0", 5, 0, 2}, RolloutCase{7, "2", "2", 2, 2, 1},
                      RolloutCase{4, "100%", "100%", 4, 4, -1}, RolloutCase{6, "0", "0", 0, 1, 1},
                      RolloutCase{20, "10%", "5%", 2, 1, 3}, RolloutCase{9, "33%", "33%", 3, 2, 1}),
    [](const ::testing::TestParamInfo<RolloutCase>& info) {
      auto text = [](std::string v) {
        if (v.ends_with('%')) v = v.substr(0, v.size() - 1) + "pct";
        return v;
      };
      const RolloutCase& c = info.param;
      return "replicas" + std::to_string(c.replicas) + "_surge" + text(c.surge) + "_unavailable" +
             text(c.unavailable) + "_ready" + (c.newly_available < 0 ? std::string("All") : std::to_string(c.newly_available));
    });

TEST_F(DeploymentControllerTest, RollingUpdateEventsInOrder) {
  CreateAndRollOut(Web(3, "1", "0"));
  const std::string old_name = ReplicaSetList()[0].metadata().name();
  SetImage("app:2");
  const std::string new_name = ExpectedName(Dep());
  RollOut();
  std::vector<std::string> want = {
      "Scaled up replica set " + old_name + " to 3",
      "Scaled up replica set " + new_name + " to 1",
      "Scaled down replica set " + old_name + " to 2 from 3",
      "Scaled up replica set " + new_name + " to 2 from 1",
      "Scaled down replica set " + old_name + " to 1 from 2",
      "Scaled up replica set " + new_name + " to 3 from 2",
      "Scaled down replica set " + old_name + " to 0 from 1",
  };
  std::sort(want.begin(), want.end());
  EXPECT_EQ(ScalingEvents(want.size()), want);
  for (const auto& e : env_.Events("ScalingReplicaSet")) {
    EXPECT_EQ(e.source().component(), "deployment-controller");
    EXPECT_EQ(e.involvedobject().kind(), "Deployment");
    EXPECT_EQ(e.type(), "Normal");
  }
}

TEST_F(DeploymentControllerTest, BrokenNewTemplateKeepsOldPods) {
  // The new pods never become available: the rollout stops after maxSurge + maxUnavailable and
  // minAvailable old pods stay.
  CreateAndRollOut(Web(10));  // surge 3, unavailable 2
  SetImage("app:broken");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(SyncOnce().ok());
    ReplicaSetsReact(0);
  }
  std::optional<appsv1::ReplicaSet> old_rs = RsWithImage("app:1"), new_rs = RsWithImage("app:broken");
  ASSERT_TRUE(old_rs && new_rs);
  EXPECT_EQ(SpecReplicas(*old_rs), 8);
  EXPECT_EQ(SpecReplicas(*new_rs), 5);
  EXPECT_EQ(old_rs->status().availablereplicas(), 8);
}

// ---- Recreate ----------------------------------------------------------------------------------

TEST_F(DeploymentControllerTest, RecreateScalesDownThenWaitsForPodsThenScalesUp) {
  appsv1::Deployment d = MakeDeployment("web").Label("app", "web").Replicas(3).Image("app:1");
  d.mutable_spec()->mutable_strategy()->set_type(kRecreate);
  CreateAndRollOut(d);
  appsv1::ReplicaSet old_rs = ReplicaSetList()[0];
  // The old ReplicaSet's pods, as its controller made them.
  for (int i = 0; i < 3; ++i) {
    corev1::Pod pod = MakePod("web-old-" + std::to_string(i))
                          .Label("app", "web")
                          .Label(kPodTemplateHashLabel, old_rs.metadata().labels().at(kPodTemplateHashLabel))
                          .OwnerRef("ReplicaSet", old_rs.metadata().name(), old_rs.metadata().uid())
                          .Phase(i == 2 ? "Failed" : "Running");
    env_.Create(pod);
  }
  SetImage("app:2");

  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(SpecReplicas(RsNamed(old_rs.metadata().name())), 0);
  EXPECT_EQ(ReplicaSetList().size(), 1u) << "no new ReplicaSet before the old one is down";

  // Scaled to zero, but its pods are still running: keep waiting.
  ReplicaSetsReact(0);
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(ReplicaSetList().size(), 1u);

  // The running pods go (the Failed one runs nothing); deleting the last one enqueues it.
  const client::ResourceInfo& pods = ResourceOf(corev1::Pod::descriptor());
  ASSERT_TRUE(env_.api.Delete(pods, "default", "web-old-0").ok());
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(ReplicaSetList().size(), 1u);
  while (controller_->queue().Len() > 0) controller_->queue().Done(*controller_->queue().Get());
  ASSERT_TRUE(env_.api.Delete(pods, "default", "web-old-1").ok());
  EXPECT_TRUE(WaitFor([&] { return controller_->queue().Len() > 0; })) << "a pod delete enqueues a Recreate deployment";
  ASSERT_TRUE(SyncOnce().ok());
  std::optional<appsv1::ReplicaSet> new_rs = RsWithImage("app:2");
  ASSERT_TRUE(new_rs.has_value());
  EXPECT_EQ(SpecReplicas(*new_rs), 3);
  EXPECT_EQ(new_rs->metadata().annotations().at(kMaxReplicasAnnotation), "3");  // no surge with Recreate
  RollOut();
  EXPECT_EQ(SpecReplicas(RsNamed(old_rs.metadata().name())), 0);
}

// ---- Rollback (kubectl rollout undo) -----------------------------------------------------------

TEST_F(DeploymentControllerTest, UndoReusesTheOldReplicaSetWithANewRevision) {
  CreateAndRollOut(Web(4));
  const std::string v1 = ReplicaSetList()[0].metadata().name();
  SetImage("app:2");
  RollOut();
  ASSERT_EQ(ReplicaSetList().size(), 2u);
  EXPECT_EQ(Dep().metadata().annotations().at(kRevisionAnnotation), "2");

  // kubectl rollout undo copies revision 1's template (without the hash label) back.
  SetImage("app:1");
  RollOut();
  ASSERT_EQ(ReplicaSetList().size(), 2u) << "the old ReplicaSet is reused, not a third one made";
  appsv1::ReplicaSet rs = RsNamed(v1);
  EXPECT_EQ(SpecReplicas(rs), 4);
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionAnnotation), "3");
  EXPECT_EQ(rs.metadata().annotations().at(kRevisionHistoryAnnotation), "1");
  EXPECT_EQ(Dep().metadata().annotations().at(kRevisionAnnotation), "3");
  EXPECT_EQ(SpecReplicas(*RsWithImage("app:2")), 0);
}

// ---- Revision history --------------------------------------------------------------------------

TEST_F(DeploymentControllerTest, RevisionHistoryLimitDeletesTheOldestScaledDownReplicaSets) {
  appsv1::Deployment d = Web(2);
  d.mutable_spec()->set_revisionhistorylimit(2);
  CreateAndRollOut(d);
  for (int v = 2; v <= 5; ++v) {
    SetImage("app:" + std::to_string(v));
    RollOut();
    ASSERT_TRUE(SyncOnce().ok());  // the completed rollout cleans up
  }
  std::vector<std::string> images;
  for (const auto& rs : ReplicaSetList()) images.push_back(rs.spec().template_().spec().containers(0).image());
  std::sort(images.begin(), images.end());
  EXPECT_EQ(images, (std::vector<std::string>{"app:3", "app:4", "app:5"}));
  EXPECT_EQ(RsWithImage("app:3")->metadata().annotations().at(kRevisionAnnotation), "3");
}

TEST_F(DeploymentControllerTest, RevisionHistoryLimitZeroKeepsNoOldReplicaSet) {
  appsv1::Deployment d = Web(2);
  d.mutable_spec()->set_revisionhistorylimit(0);
  CreateAndRollOut(d);
  SetImage("app:2");
  RollOut();
  ASSERT_TRUE(SyncOnce().ok());
  ASSERT_EQ(ReplicaSetList().size(), 1u);
  EXPECT_EQ(ReplicaSetList()[0].spec().template_().spec().containers(0).image(), "app:2");
}

// ---- Pause -------------------------------------------------------------------------------------

TEST_F(DeploymentControllerTest, PausedDeploymentScalesButDoesNotRoll) {
  CreateAndRollOut(Web(3));
  EditDeployment([](appsv1::Deployment* d) {
    d->mutable_spec()->set_paused(true);
    d->mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("app:2");
  });
  ASSERT_TRUE(SyncOnce().ok());
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(ReplicaSetList().size(), 1u) << "a paused deployment makes no new ReplicaSet";
  appsv1::Deployment d = Dep();
  const appsv1::DeploymentCondition* p = GetCondition(d.status(), kProgressing);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->status(), "Unknown");
  EXPECT_EQ(p->reason(), kPausedReason);
  EXPECT_EQ(p->message(), "Deployment is paused");
  EXPECT_EQ(d.status().observedgeneration(), d.metadata().generation());
  EXPECT_EQ(d.status().updatedreplicas(), 0);

  // Scaling still works while paused.
  EditDeployment([](appsv1::Deployment* d) { d->mutable_spec()->set_replicas(5); });
  ASSERT_TRUE(SyncOnce().ok());
  ASSERT_EQ(ReplicaSetList().size(), 1u);
  EXPECT_EQ(SpecReplicas(ReplicaSetList()[0]), 5);
  EXPECT_EQ(ReplicaSetList()[0].metadata().annotations().at(kDesiredReplicasAnnotation), "5");

  // Resumed: the rollout starts.
  EditDeployment([](appsv1::Deployment* d) { d->mutable_spec()->set_paused(false); });
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_TRUE(RsWithImage("app:2").has_value());
  ReplicaSetsReact(-1);
  RollOut();
  EXPECT_EQ(SpecReplicas(*RsWithImage("app:2")), 5);
}

// ---- Progress deadline -------------------------------------------------------------------------

TEST_F(DeploymentControllerTest, ProgressDeadlineExceededUnderTheFakeClock) {
  appsv1::Deployment want = Web(2);
  want.mutable_spec()->set_progressdeadlineseconds(60);
  env_.Create(want);
  ASSERT_TRUE(SyncOnce().ok());
  ReplicaSetsReact(0);  // pods exist but never become ready
  ASSERT_TRUE(SyncOnce().ok());
  const std::string name = ExpectedName(Dep());
  EXPECT_EQ(GetCondition(Dep().status(), kProgressing)->reason(), kReplicaSetUpdatedReason);

  // Nothing changes now: the sync writes nothing and asks to be woken at the deadline.
  const int64_t pending_before = static_cast<int64_t>(controller_->queue().PendingLen());
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(static_cast<int64_t>(controller_->queue().PendingLen()), pending_before + 1);
  env_.clock.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(GetCondition(Dep().status(), kProgressing)->reason(), kReplicaSetUpdatedReason);
  env_.clock.Advance(std::chrono::seconds(32));
  EXPECT_TRUE(WaitFor([&] { return controller_->queue().PendingLen() == 0; })) << "requeued at the deadline";

  ASSERT_TRUE(SyncOnce().ok());
  appsv1::Deployment d = Dep();
  const appsv1::DeploymentCondition* p = GetCondition(d.status(), kProgressing);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->status(), "False");
  EXPECT_EQ(p->reason(), kTimedOutReason);
  EXPECT_EQ(p->message(), "ReplicaSet \"" + name + "\" has timed out progressing.");

  // Progress after the timeout is reported again.
  ReplicaSetsReact(-1);
  ASSERT_TRUE(SyncOnce().ok());
  d = Dep();
  p = GetCondition(d.status(), kProgressing);
  EXPECT_EQ(p->reason(), kNewReplicaSetAvailableReason);
  EXPECT_EQ(p->status(), "True");
}

// ---- Proportional scaling ----------------------------------------------------------------------

TEST_F(DeploymentControllerTest, ScalingMidRolloutIsProportional) {
  CreateAndRollOut(Web(10));  // surge 3, unavailable 2
  const std::string old_name = ReplicaSetList()[0].metadata().name();
  SetImage("app:2");
  ASSERT_TRUE(SyncOnce().ok());  // new ReplicaSet at 3, old scaled down by 2
  const std::string new_name = ExpectedName(Dep());
  ReplicaSetsReact(0);
  EXPECT_EQ(SpecReplicas(RsNamed(old_name)), 8);
  EXPECT_EQ(SpecReplicas(RsNamed(new_name)), 3);

  // Scaled to 20 (surge 5): 25 pods in all, shared 8:3 of the 13 both were sized for:
  // old round(8*25/13)=15 (+7), new round(3*25/13)=6 (+3), leftover 4 to the larger (old).
  EditDeployment([](appsv1::Deployment* d) { d->mutable_spec()->set_replicas(20); });
  ASSERT_TRUE(SyncOnce().ok());
  appsv1::ReplicaSet old_rs = RsNamed(old_name), new_rs = RsNamed(new_name);
  EXPECT_EQ(SpecReplicas(old_rs), 19);
  EXPECT_EQ(SpecReplicas(new_rs), 6);
  for (const auto& rs : {old_rs, new_rs}) {
    EXPECT_EQ(rs.metadata().annotations().at(kDesiredReplicasAnnotation), "20");
    EXPECT_EQ(rs.metadata().annotations().at(kMaxReplicasAnnotation), "25");
  }
  std::vector<std::string> events = ScalingEvents(4);
  EXPECT_NE(std::find(events.begin(), events.end(), "Scaled up replica set " + old_name + " to 19 from 8"), events.end());
  EXPECT_NE(std::find(events.begin(), events.end(), "Scaled up replica set " + new_name + " to 6 from 3"), events.end());

  // And scaled down to 5 (surge 2, 7 in all) from 25: old round(19*7/25)=5, new round(6*7/25)=2.
  ReplicaSetsReact(0);
  EditDeployment([](appsv1::Deployment* d) { d->mutable_spec()->set_replicas(5); });
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_EQ(SpecReplicas(RsNamed(old_name)), 5);
  EXPECT_EQ(SpecReplicas(RsNamed(new_name)), 2);

  // The rollout then finishes at the new size.
  ReplicaSetsReact(-1);
  RollOut();
  EXPECT_EQ(SpecReplicas(RsNamed(new_name)), 5);
  EXPECT_EQ(SpecReplicas(RsNamed(old_name)), 0);
}

TEST_F(DeploymentControllerTest, ScaleWithOneActiveReplicaSet) {
  CreateAndRollOut(Web(3));
  EditDeployment([](appsv1::Deployment* d) { d->mutable_spec()->set_replicas(7); });
  ASSERT_TRUE(SyncOnce().ok());
  appsv1::ReplicaSet rs = ReplicaSetList()[0];
  EXPECT_EQ(SpecReplicas(rs), 7);
  EXPECT_EQ(rs.metadata().annotations().at(kDesiredReplicasAnnotation), "7");
  EXPECT_EQ(rs.metadata().annotations().at(kMaxReplicasAnnotation), "9");
  ReplicaSetsReact(-1);
  RollOut();
  EXPECT_EQ(Dep().status().availablereplicas(), 7);
}

// ---- Ownership and collisions ------------------------------------------------------------------

TEST_F(DeploymentControllerTest, AdoptsAMatchingOrphanInsteadOfCreating) {
  appsv1::Deployment want = Web(2);
  const std::string hash = ComputeHash(want.spec().template_());
  appsv1::ReplicaSet orphan;
  orphan.mutable_metadata()->set_name("web-" + hash);
  orphan.mutable_metadata()->set_namespace_("default");
  *orphan.mutable_spec()->mutable_template_() = want.spec().template_();
  (*orphan.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = hash;
  *orphan.mutable_metadata()->mutable_labels() = orphan.spec().template_().metadata().labels();
  *orphan.mutable_spec()->mutable_selector() = want.spec().selector();
  (*orphan.mutable_spec()->mutable_selector()->mutable_matchlabels())[kPodTemplateHashLabel] = hash;
  orphan.mutable_spec()->set_replicas(2);
  env_.Create(orphan);
  env_.Create(want);
  ASSERT_TRUE(SyncOnce().ok());
  std::vector<appsv1::ReplicaSet> list = ReplicaSetList();
  ASSERT_EQ(list.size(), 1u);
  ASSERT_EQ(list[0].metadata().ownerreferences_size(), 1);
  EXPECT_EQ(list[0].metadata().ownerreferences(0).uid(), Dep().metadata().uid());
  EXPECT_EQ(list[0].metadata().annotations().at(kRevisionAnnotation), "1");
}

TEST_F(DeploymentControllerTest, HashCollisionBumpsCollisionCount) {
  appsv1::Deployment want = Web(2);
  const std::string taken = "web-" + ComputeHash(want.spec().template_());
  // Someone else's ReplicaSet holds the name, with another template and other labels.
  appsv1::ReplicaSet other = MakeReplicaSet(taken).Label("app", "other").Image("other:1");
  env_.Create(other);
  env_.Create(want);
  Status first = SyncOnce();
  EXPECT_EQ(first.code(), Code::kAlreadyExists);
  EXPECT_EQ(Dep().status().collisioncount(), 1);
  ASSERT_TRUE(SyncOnce().ok());
  const std::string renamed = "web-" + ComputeHash(want.spec().template_(), 1);
  EXPECT_NE(renamed, taken);
  appsv1::ReplicaSet rs = RsNamed(renamed);
  EXPECT_EQ(rs.metadata().ownerreferences(0).uid(), Dep().metadata().uid());
  EXPECT_TRUE(RsNamed(taken).metadata().ownerreferences().empty()) << "the other ReplicaSet is left alone";
}

TEST_F(DeploymentControllerTest, DeletingDeploymentOnlyReportsStatus) {
  appsv1::Deployment want = Web(2);
  want.mutable_metadata()->add_finalizers("example.com/hold");
  env_.Create(want);
  ASSERT_TRUE(env_.api.Delete(ResourceOf(appsv1::Deployment::descriptor()), "default", "web").ok());
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_TRUE(ReplicaSetList().empty());
  EXPECT_EQ(Dep().status().observedgeneration(), Dep().metadata().generation());
}

TEST_F(DeploymentControllerTest, SelectingAllIsRefused) {
  appsv1::Deployment want = Web(2);
  want.mutable_spec()->mutable_selector()->clear_matchlabels();
  env_.Create(want);
  ASSERT_TRUE(SyncOnce().ok());
  EXPECT_TRUE(ReplicaSetList().empty());
  EXPECT_TRUE(WaitFor([&] { return !env_.Events("SelectingAll").empty(); }));
  EXPECT_EQ(env_.Events("SelectingAll")[0].message(),
            "This deployment is selecting all pods. A non-empty selector is required.");
}

TEST_F(DeploymentControllerTest, MissingDeploymentIsNotAnError) {
  EXPECT_TRUE(controller_->SyncForTesting("default/gone").ok());
}

}  // namespace
}  // namespace ck::controller_manager
