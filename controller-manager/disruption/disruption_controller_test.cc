// The disruption controller on FakeApi: expected, desired and current healthy pods and the
// disruptions a budget allows, for minAvailable/maxUnavailable as numbers and percentages,
// recently evicted pods, and budgets that cannot be computed.
#include "controller-manager/disruption/disruption_controller.h"

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "controller-manager/testing/controller_test_env.h"
#include "controller-manager/util/intstr.h"

namespace ck::controller_manager {
namespace {

namespace policyv1 = ::k8s::io::api::policy::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakePod;
using api::testing::ReplicaSetBuilder;
using client::testing::WaitFor;
using testing::ControllerTestEnv;
using namespace std::chrono_literals;

policyv1::PodDisruptionBudget Budget(const std::string& name, std::optional<IntOrString> min_available,
                                     std::optional<IntOrString> max_unavailable) {
  policyv1::PodDisruptionBudget pdb;
  pdb.mutable_metadata()->set_name(name);
  pdb.mutable_metadata()->set_namespace_("default");
  (*pdb.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  if (min_available) *pdb.mutable_spec()->mutable_minavailable() = *min_available;
  if (max_unavailable) *pdb.mutable_spec()->mutable_maxunavailable() = *max_unavailable;
  return pdb;
}

class DisruptionTest : public ::testing::Test {
 protected:
  DisruptionTest() : controller_(env_.context) { env_.StartInformers(controller_.Informers()); }

  // Creates `ready` ready and `unready` running pods labelled app=web, owned by `owner` when set.
  void Pods(int ready, int unready, const appsv1::ReplicaSet* owner = nullptr) {
    for (int i = 0; i < ready + unready; ++i) {
      auto b = MakePod("web-" + std::to_string(next_++)).Label("app", "web").Container("c").Node("n1").Phase("Running");
      if (i < ready) b.Ready(env_.clock.Now());
      if (owner) b.OwnerRef("ReplicaSet", owner->metadata().name(), owner->metadata().uid());
      env_.Create(corev1::Pod(b));
    }
  }
  policyv1::PodDisruptionBudgetStatus SyncStatus(const std::string& name) {
    size_t want = env_.List<corev1::Pod>("default").size();
    EXPECT_TRUE(WaitFor([&] {
      return controller_.Informers()[1]->GetIndexer().List().size() == want &&
             env_.Get<policyv1::PodDisruptionBudget>("default", name).ok() &&
             controller_.Informers()[0]->GetIndexer().Get("default", name) != nullptr &&
             controller_.Informers()[2]->GetIndexer().List().size() == env_.List<appsv1::ReplicaSet>("default").size();
    }));
    // The cache must hold the budget's latest version before the sync.
    auto current = env_.Get<policyv1::PodDisruptionBudget>("default", name);
    EXPECT_TRUE(WaitFor([&] {
      auto cached = controller_.Informers()[0]->GetIndexer().Get("default", name);
      return cached && api::MetaOf(*cached).resourceversion() == current->metadata().resourceversion();
    }));
    Status s = controller_.SyncForTesting("default/" + name);
    EXPECT_TRUE(s.ok()) << s.message();
    return env_.Get<policyv1::PodDisruptionBudget>("default", name)->status();
  }

  ControllerTestEnv env_;
  DisruptionController controller_;
  int next_ = 0;
};

TEST_F(DisruptionTest, MinAvailableNumberCountsSelectedPods) {
  Pods(3, 0);
  env_.Create(Budget("pdb", FromInt(2), std::nullopt));
  auto st = SyncStatus("pdb");
  EXPECT_EQ(st.expectedpods(), 3);
  EXPECT_EQ(st.desiredhealthy(), 2);
  EXPECT_EQ(st.currenthealthy(), 3);
  EXPECT_EQ(st.disruptionsallowed(), 1);
  ASSERT_EQ(st.conditions_size(), 1);
  EXPECT_EQ(st.conditions(0).reason(), "SufficientPods");
  EXPECT_EQ(st.observedgeneration(), 1);
}

TEST_F(DisruptionTest, UnreadyPodsAreNotHealthy) {
  Pods(2, 1);
  env_.Create(Budget("pdb", FromInt(2), std::nullopt));
  auto st = SyncStatus("pdb");
  EXPECT_EQ(st.currenthealthy(), 2);
  EXPECT_EQ(st.disruptionsallowed(), 0);
  EXPECT_EQ(st.conditions(0).status(), "False");
  EXPECT_EQ(st.conditions(0).reason(), "InsufficientPods");
}

TEST_F(DisruptionTest, MaxUnavailableAndPercentagesUseTheControllersScale) {
  appsv1::ReplicaSet rs = env_.Create(appsv1::ReplicaSet(ReplicaSetBuilder("web").Label("app", "web").Replicas(4)));
  Pods(3, 0, &rs);  // one of the 4 replicas is missing
  struct Case {
    const char* name;
    std::optional<IntOrString> min, max;
    int desired, allowed;
  };
  const Case cases[] = {
      {"max-1", std::nullopt, FromInt(1), 3, 0},
      {"max-50", std::nullopt, FromString("50%"), 2, 1},
      {"min-50", FromString("50%"), std::nullopt, 2, 1},
      {"min-60", FromString("60%"), std::nullopt, 3, 0},  // 2.4 rounds up
      {"max-30", std::nullopt, FromString("30%"), 2, 1},   // 1.2 unavailable rounds up to 2
  };
  for (const Case& c : cases) {
    env_.Create(Budget(c.name, c.min, c.max));
    auto st = SyncStatus(c.name);
    EXPECT_EQ(st.expectedpods(), 4) << c.name;
    EXPECT_EQ(st.desiredhealthy(), c.desired) << c.name;
    EXPECT_EQ(st.disruptionsallowed(), c.allowed) << c.name;
  }
}

TEST_F(DisruptionTest, PodsWithoutControllersFailSafe) {
  Pods(3, 0);
  env_.Create(Budget("pdb", std::nullopt, FromInt(1)));
  auto st = SyncStatus("pdb");
  EXPECT_EQ(st.disruptionsallowed(), 0);
  EXPECT_EQ(st.conditions(0).reason(), "SyncFailed");
  EXPECT_NE(st.conditions(0).message().find("found no controller ref for pod"), std::string::npos);
}

TEST_F(DisruptionTest, RecentEvictionsCountAsUnhealthyUntilTheyExpire) {
  Pods(3, 0);
  policyv1::PodDisruptionBudget pdb = Budget("pdb", FromInt(1), std::nullopt);
  env_.Create(pdb);
  auto st = SyncStatus("pdb");
  EXPECT_EQ(st.disruptionsallowed(), 2);
  // The apiserver records an eviction of web-0 that has not yet taken effect.
  auto current = *env_.Get<policyv1::PodDisruptionBudget>("default", "pdb");
  (*current.mutable_status()->mutable_disruptedpods())["web-0"] = api::MakeTime(env_.clock.Now());
  current.mutable_status()->set_disruptionsallowed(1);
  ASSERT_TRUE(env_.api.Update(testing::ResourceOf(policyv1::PodDisruptionBudget::descriptor()), "default", current,
                              "status").ok());
  st = SyncStatus("pdb");
  EXPECT_EQ(st.currenthealthy(), 2);
  EXPECT_EQ(st.disruptionsallowed(), 1);
  EXPECT_EQ(st.disruptedpods_size(), 1);
  env_.clock.Advance(DisruptionController::kDeletionTimeout + 1s);
  st = SyncStatus("pdb");
  EXPECT_EQ(st.disruptedpods_size(), 0);  // the eviction never happened: forgotten
  EXPECT_EQ(st.currenthealthy(), 3);
  EXPECT_EQ(st.disruptionsallowed(), 2);
}

}  // namespace
}  // namespace ck::controller_manager
