#include "apiserver/admission/plugins/limit_ranger.h"

#include <gtest/gtest.h>

#include "apiserver/admission/plugins/test_util.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT
using KV = std::initializer_list<std::pair<std::string, std::string>>;

struct ItemSpec {
  std::string type;
  KV max = {}, min = {}, default_limit = {}, default_request = {}, ratio = {};
};

corev1::LimitRange MakeLimitRange(std::string ns, std::string name, std::initializer_list<ItemSpec> items) {
  corev1::LimitRange lr;
  lr.mutable_metadata()->set_namespace_(std::move(ns));
  lr.mutable_metadata()->set_name(std::move(name));
  for (const ItemSpec& it : items) {
    auto* li = lr.mutable_spec()->add_limits();
    li->set_type(it.type);
    SetList(li->mutable_max(), it.max);
    SetList(li->mutable_min(), it.min);
    SetList(li->mutable_default_(), it.default_limit);
    SetList(li->mutable_defaultrequest(), it.default_request);
    SetList(li->mutable_maxlimitrequestratio(), it.ratio);
  }
  return lr;
}

std::string Req(const corev1::Container& c, const std::string& r) {
  auto it = c.resources().requests().find(r);
  return it == c.resources().requests().end() ? "<none>" : it->second.string();
}
std::string Lim(const corev1::Container& c, const std::string& r) {
  auto it = c.resources().limits().find(r);
  return it == c.resources().limits().end() ? "<none>" : it->second.string();
}

class LimitRangerTest : public ::testing::Test {
 protected:
  Status Run(corev1::Pod* pod) {
    Attributes a = PodCreate(pod);
    CK_RETURN_IF_ERROR(plugin_.Admit(a, ctx_));
    return plugin_.Validate(a, ctx_);
  }
  FakeObjectSource source_;
  LimitRanger plugin_{source_};
  Context ctx_;
};

TEST_F(LimitRangerTest, NoLimitRangeChangesNothing) {
  corev1::Pod pod = MakePod("web").Container("app");
  corev1::Pod before = pod;
  ASSERT_TRUE(Run(&pod).ok());
  EXPECT_EQ(pod.DebugString(), PodCreate(&before).object->DebugString());
}

TEST_F(LimitRangerTest, DefaultsFillMissingRequestsAndLimitsAndAnnotate) {
  source_.Put("limitranges", MakeLimitRange("default", "defaults",
                                            {{.type = "Container",
                                              .default_limit = {{"cpu", "500m"}, {"memory", "256Mi"}},
                                              .default_request = {{"cpu", "100m"}, {"memory", "128Mi"}}}}));
  corev1::Pod pod = MakePod("web").Container("app").Cpu("200m").Container("sidecar").InitContainer("setup");
  ASSERT_TRUE(Run(&pod).ok());
  const auto& app = pod.spec().containers(0);
  EXPECT_EQ(Req(app, "cpu"), "200m");  // explicit request kept
  EXPECT_EQ(Lim(app, "cpu"), "500m");
  EXPECT_EQ(Req(app, "memory"), "128Mi");
  EXPECT_EQ(Lim(app, "memory"), "256Mi");
  EXPECT_EQ(Req(pod.spec().containers(1), "cpu"), "100m");
  EXPECT_EQ(Req(pod.spec().initcontainers(0), "memory"), "128Mi");
  EXPECT_EQ(pod.metadata().annotations().at("kubernetes.io/limit-ranger"),
            "LimitRanger plugin set: memory request for container app; cpu, memory limit for container app; "
            "cpu, memory request for container sidecar; cpu, memory limit for container sidecar; "
            "cpu, memory request for init container setup; cpu, memory limit for init container setup");
}

TEST_F(LimitRangerTest, RequestDefaultsToLimitWhenOnlyLimitIsSet) {
  // LimitRange defaulting: default <- max, defaultRequest <- default.
  source_.Put("limitranges", MakeLimitRange("default", "caps", {{.type = "Container", .max = {{"cpu", "2"}}}}));
  corev1::Pod pod = MakePod("web").Container("app").Container("mem").MemoryLimit("64Mi");
  ASSERT_TRUE(Run(&pod).ok());
  EXPECT_EQ(Lim(pod.spec().containers(0), "cpu"), "2");
  EXPECT_EQ(Req(pod.spec().containers(0), "cpu"), "2");
  // The pod's own limit becomes its request (upstream pod defaulting), not the range's default.
  EXPECT_EQ(Req(pod.spec().containers(1), "memory"), "64Mi");
}

TEST_F(LimitRangerTest, ContainerMaxRefusesAndNamesTheLimit) {
  source_.Put("limitranges", MakeLimitRange("default", "caps", {{.type = "Container", .max = {{"cpu", "1"}}}}));
  corev1::Pod pod = MakePod("web").Container("app").CpuLimit("2");
  Status s = Run(&pod);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: maximum cpu usage per Container is 1, but limit is 2");
}

TEST_F(LimitRangerTest, ContainerMinAndMissingLimitMessages) {
  corev1::LimitRange lr = MakeLimitRange("default", "bounds", {{.type = "Container", .min = {{"memory", "64Mi"}}}});
  source_.Put("limitranges", lr);
  corev1::Pod pod = MakePod("web").Container("app").Memory("32Mi");
  Attributes a = PodCreate(&pod);
  Status s = plugin_.Validate(a, ctx_);
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi");

  // Validate alone (no defaults applied): max with no limit, min with no request; both reported.
  source_.Put("limitranges", MakeLimitRange("default", "bounds",
                                            {{.type = "Container", .max = {{"cpu", "1"}}, .min = {{"memory", "64Mi"}}}}));
  corev1::Pod bare = MakePod("bare").Container("app");
  s = plugin_.Validate(PodCreate(&bare), ctx_);
  EXPECT_EQ(s.message(),
            "pods \"bare\" is forbidden: [minimum memory usage per Container is 64Mi.  No request is specified, "
            "maximum cpu usage per Container is 1.  No limit is specified]");
}

TEST_F(LimitRangerTest, MaxLimitRequestRatio) {
  source_.Put("limitranges", MakeLimitRange("default", "ratio", {{.type = "Container", .ratio = {{"cpu", "2"}}}}));
  corev1::Pod pod = MakePod("web").Container("app").Cpu("100m").CpuLimit("300m");
  Status s = Run(&pod);
  EXPECT_EQ(s.message(),
            "pods \"web\" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is "
            "3.000000");
  corev1::Pod ok = MakePod("ok").Container("app").Cpu("100m").CpuLimit("200m");
  EXPECT_TRUE(Run(&ok).ok());
}

TEST_F(LimitRangerTest, PodMaxAppliesToTheSum) {
  source_.Put("limitranges", MakeLimitRange("default", "pod", {{.type = "Pod", .max = {{"memory", "1Gi"}}}}));
  corev1::Pod pod =
      MakePod("web").Container("a").Memory("512Mi").MemoryLimit("600Mi").Container("b").Memory("512Mi").MemoryLimit("600Mi");
  Status s = Run(&pod);
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi");
}

TEST_F(LimitRangerTest, ClaimStorageBounds) {
  source_.Put("limitranges", MakeLimitRange("default", "storage",
                                            {{.type = "PersistentVolumeClaim", .max = {{"storage", "10Gi"}},
                                              .min = {{"storage", "1Gi"}}}}));
  corev1::PersistentVolumeClaim pvc;
  pvc.mutable_metadata()->set_name("data");
  SetList(pvc.mutable_spec()->mutable_resources()->mutable_requests(), {{"storage", "20Gi"}});
  Status s = plugin_.Validate(Attrs(Operation::kCreate, Res("", "persistentvolumeclaims"), "default", "data", &pvc), ctx_);
  EXPECT_EQ(s.message(),
            "persistentvolumeclaims \"data\" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, "
            "but request is 20Gi");
  SetList(pvc.mutable_spec()->mutable_resources()->mutable_requests(), {{"storage", "500Mi"}});
  s = plugin_.Validate(Attrs(Operation::kCreate, Res("", "persistentvolumeclaims"), "default", "data", &pvc), ctx_);
  EXPECT_EQ(s.message(),
            "persistentvolumeclaims \"data\" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, "
            "but request is 500Mi");
  SetList(pvc.mutable_spec()->mutable_resources()->mutable_requests(), {{"storage", "5Gi"}});
  EXPECT_TRUE(plugin_.Validate(Attrs(Operation::kUpdate, Res("", "persistentvolumeclaims"), "default", "data", &pvc, &pvc), ctx_).ok());
}

TEST_F(LimitRangerTest, PodUpdatesAreNotChecked) {
  source_.Put("limitranges", MakeLimitRange("default", "caps", {{.type = "Container", .max = {{"cpu", "1"}}}}));
  corev1::Pod pod = MakePod("web").Namespace("default").Container("app").CpuLimit("2");
  EXPECT_TRUE(plugin_.Validate(Attrs(Operation::kUpdate, Res("", "pods"), "default", "web", &pod, &pod), ctx_).ok());
}

}  // namespace
}  // namespace ck::apiserver::admission::plugins
