#include "apiserver/admission/plugins/priority.h"

#include <gtest/gtest.h>

#include "apiserver/admission/plugins/test_util.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT

class PriorityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& pc : SystemPriorityClasses()) source_.Put("priorityclasses.scheduling.k8s.io", pc);
    schedulingv1::PriorityClass batch = MakeClass("batch", 100);
    batch.set_preemptionpolicy("Never");
    source_.Put("priorityclasses.scheduling.k8s.io", batch);
  }
  Status Admit(corev1::Pod* pod) { return plugin_.Admit(PodCreate(pod), ctx_); }
  FakeObjectSource source_;
  Priority plugin_{source_};
  Context ctx_;
};

TEST_F(PriorityTest, SystemClassesHaveUpstreamValuesAndDescriptions) {
  auto classes = SystemPriorityClasses();
  ASSERT_EQ(classes.size(), 2u);
  EXPECT_EQ(classes[0].metadata().name(), "system-node-critical");
  EXPECT_EQ(classes[0].value(), 2000001000);
  EXPECT_EQ(classes[0].description(), "Used for system critical pods that must not be moved from their current node.");
  EXPECT_EQ(classes[1].metadata().name(), "system-cluster-critical");
  EXPECT_EQ(classes[1].value(), 2000000000);
  EXPECT_EQ(classes[1].description(),
            "Used for system critical pods that must run in the cluster, but can be moved to another node if "
            "necessary.");
  EXPECT_FALSE(classes[0].globaldefault());
}

TEST_F(PriorityTest, NamedClassSetsPriorityAndPreemptionPolicy) {
  corev1::Pod pod = MakePod("dns").Namespace("kube-system").Container("app");
  pod.mutable_spec()->set_priorityclassname("system-cluster-critical");
  ASSERT_TRUE(Admit(&pod).ok());
  EXPECT_EQ(pod.spec().priority(), 2000000000);
  EXPECT_EQ(pod.spec().preemptionpolicy(), "PreemptLowerPriority");

  corev1::Pod job = MakePod("job").Container("app");
  job.mutable_spec()->set_priorityclassname("batch");
  ASSERT_TRUE(Admit(&job).ok());
  EXPECT_EQ(job.spec().priority(), 100);
  EXPECT_EQ(job.spec().preemptionpolicy(), "Never");
}

TEST_F(PriorityTest, NoClassMeansZeroOrTheGlobalDefault) {
  corev1::Pod pod = MakePod("web").Container("app");
  ASSERT_TRUE(Admit(&pod).ok());
  EXPECT_TRUE(pod.spec().has_priority());
  EXPECT_EQ(pod.spec().priority(), 0);
  EXPECT_EQ(pod.spec().priorityclassname(), "");
  EXPECT_FALSE(pod.spec().has_preemptionpolicy());

  source_.Put("priorityclasses.scheduling.k8s.io", MakeClass("normal", 1000, true));
  source_.Put("priorityclasses.scheduling.k8s.io", MakeClass("low-default", 10, true));  // a race left two
  corev1::Pod pod2 = MakePod("web2").Container("app");
  ASSERT_TRUE(Admit(&pod2).ok());
  EXPECT_EQ(pod2.spec().priorityclassname(), "low-default");
  EXPECT_EQ(pod2.spec().priority(), 10);
}

TEST_F(PriorityTest, UnknownClassIsForbidden) {
  corev1::Pod pod = MakePod("web").Container("app");
  pod.mutable_spec()->set_priorityclassname("gold");
  Status s = Admit(&pod);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: no PriorityClass with name gold was found");
}

TEST_F(PriorityTest, PodMayNotSetADifferentPriorityOrPolicy) {
  corev1::Pod pod = MakePod("web").Container("app");
  pod.mutable_spec()->set_priorityclassname("batch");
  pod.mutable_spec()->set_priority(5);
  EXPECT_EQ(Admit(&pod).message(),
            "pods \"web\" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority "
            "admission controller computed 100 from the given PriorityClass name");
  pod.mutable_spec()->set_priority(100);  // the same value is fine
  pod.mutable_spec()->set_preemptionpolicy("PreemptLowerPriority");
  EXPECT_EQ(Admit(&pod).message(),
            "pods \"web\" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be "
            "provided in pod spec; priority admission controller computed Never from the given PriorityClass name");
  pod.mutable_spec()->clear_preemptionpolicy();
  EXPECT_TRUE(Admit(&pod).ok());
}

TEST_F(PriorityTest, UpdateKeepsTheStoredPriority) {
  corev1::Pod old = MakePod("web").Namespace("default").Container("app");
  old.mutable_spec()->set_priority(100);
  old.mutable_spec()->set_preemptionpolicy("Never");
  corev1::Pod now = MakePod("web").Namespace("default").Container("app");
  ASSERT_TRUE(plugin_.Admit(Attrs(Operation::kUpdate, Res("", "pods"), "default", "web", &now, &old), ctx_).ok());
  EXPECT_EQ(now.spec().priority(), 100);
  EXPECT_EQ(now.spec().preemptionpolicy(), "Never");
}

TEST_F(PriorityTest, OnlyOneGlobalDefaultClass) {
  const ResourceInfo* pcs = Res("scheduling.k8s.io", "priorityclasses");
  schedulingv1::PriorityClass first = MakeClass("first", 10, true);
  EXPECT_TRUE(plugin_.Validate(Attrs(Operation::kCreate, pcs, "", "first", &first), ctx_).ok());
  source_.Put("priorityclasses.scheduling.k8s.io", first);
  schedulingv1::PriorityClass second = MakeClass("second", 20, true);
  Status s = plugin_.Validate(Attrs(Operation::kCreate, pcs, "", "second", &second), ctx_);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "priorityclasses.scheduling.k8s.io \"second\" is forbidden: PriorityClass first is already marked as "
            "default. Only one default can exist");
  // Updating the default class itself is fine.
  EXPECT_TRUE(plugin_.Validate(Attrs(Operation::kUpdate, pcs, "", "first", &first, &first), ctx_).ok());
}

}  // namespace
}  // namespace ck::apiserver::admission::plugins
