#include "apiserver/admission/plugins/default_toleration_seconds.h"

#include <gtest/gtest.h>

#include "apiserver/admission/plugins/test_util.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT

TEST(DefaultTolerationSecondsTest, AddsBothTolerationsWithTheConfiguredSeconds) {
  DefaultTolerationSeconds plugin(30);
  corev1::Pod pod = MakePod("web").Container("app");
  Context ctx;
  ASSERT_TRUE(plugin.Admit(PodCreate(&pod), ctx).ok());
  ASSERT_EQ(pod.spec().tolerations_size(), 2);
  const auto& nr = pod.spec().tolerations(0);
  EXPECT_EQ(nr.key(), "node.kubernetes.io/not-ready");
  EXPECT_EQ(nr.operator_(), "Exists");
  EXPECT_EQ(nr.effect(), "NoExecute");
  EXPECT_EQ(nr.tolerationseconds(), 30);
  EXPECT_EQ(pod.spec().tolerations(1).key(), "node.kubernetes.io/unreachable");
  EXPECT_EQ(pod.spec().tolerations(1).tolerationseconds(), 30);
  ASSERT_EQ(ctx.trace.size(), 1u);
  EXPECT_EQ(ctx.trace[0], "DefaultTolerationSeconds: tolerate not-ready, unreachable for 30s");
}

TEST(DefaultTolerationSecondsTest, UpstreamDefaultIs300) {
  DefaultTolerationSeconds plugin;
  corev1::Pod pod = MakePod("web").Container("app");
  Context ctx;
  ASSERT_TRUE(plugin.Admit(PodCreate(&pod), ctx).ok());
  EXPECT_EQ(pod.spec().tolerations(0).tolerationseconds(), 300);
}

TEST(DefaultTolerationSecondsTest, ExistingTolerationsAreRespected) {
  DefaultTolerationSeconds plugin(300);
  Context ctx;
  // Tolerates not-ready already (any effect): only unreachable is added.
  corev1::Pod pod = MakePod("web").Container("app").Toleration("node.kubernetes.io/not-ready", "Exists", "", "");
  ASSERT_TRUE(plugin.Admit(PodCreate(&pod), ctx).ok());
  ASSERT_EQ(pod.spec().tolerations_size(), 2);
  EXPECT_EQ(pod.spec().tolerations(1).key(), "node.kubernetes.io/unreachable");
  // An empty key with NoExecute tolerates both.
  corev1::Pod all = MakePod("all").Container("app").Toleration("", "Exists", "", "NoExecute");
  ASSERT_TRUE(plugin.Admit(PodCreate(&all), ctx).ok());
  EXPECT_EQ(all.spec().tolerations_size(), 1);
  // A NoSchedule toleration for the key does not count.
  corev1::Pod ns = MakePod("ns").Container("app").Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoSchedule");
  ASSERT_TRUE(plugin.Admit(PodCreate(&ns), ctx).ok());
  EXPECT_EQ(ns.spec().tolerations_size(), 3);
}

TEST(DefaultTolerationSecondsTest, OnlyPodCreates) {
  DefaultTolerationSeconds plugin(300);
  Context ctx;
  corev1::Pod pod = MakePod("web").Namespace("default").Container("app");
  ASSERT_TRUE(plugin.Admit(Attrs(Operation::kUpdate, Res("", "pods"), "default", "web", &pod, &pod), ctx).ok());
  Attributes status = PodCreate(&pod);
  status.subresource = "status";
  ASSERT_TRUE(plugin.Admit(status, ctx).ok());
  EXPECT_EQ(pod.spec().tolerations_size(), 0);
}

}  // namespace
}  // namespace ck::apiserver::admission::plugins
