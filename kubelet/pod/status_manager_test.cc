// StatusManager on FakeApi (status_manager.h).
#include "kubelet/pod/status_manager.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"

namespace ck::kubelet {
namespace {

using api::testing::MakePod;

const client::ResourceInfo& Pods() {
  return client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
}

corev1::PodCondition Condition(const std::string& type, const std::string& status) {
  corev1::PodCondition c;
  c.set_type(type);
  c.set_status(status);
  return c;
}

std::map<std::string, std::string> Conditions(const corev1::Pod& pod) {
  std::map<std::string, std::string> out;
  for (const auto& c : pod.status().conditions()) out[c.type()] = c.status();
  return out;
}

// A status write that meets a conflict is sent again on the latest pod, keeping the conditions
// other writers set there (upstream mergePodStatus) and replacing the kubelet's own.
TEST(StatusManagerTest, ConflictRetryKeepsTheConditionsOtherWritersSet) {
  FakeClock clock;
  client::FakeApi api(clock);
  auto created = api.Create(Pods(), "shop", MakePod("web").Namespace("shop").Node("node-1").Obj());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const corev1::Pod seen = *client::As<corev1::Pod>(*created);  // what the kubelet's informer has

  // Meanwhile the disruption controller marks the pod, and the kubelet had written Ready=False.
  corev1::Pod other = seen;
  *other.mutable_status()->add_conditions() = Condition("DisruptionTarget", "True");
  *other.mutable_status()->add_conditions() = Condition("Ready", "False");
  ASSERT_TRUE(api.Update(Pods(), "shop", other, "status").ok());

  StatusManager sm(api);
  corev1::PodStatus mine;
  mine.set_phase("Running");
  *mine.add_conditions() = Condition("PodScheduled", "True");
  *mine.add_conditions() = Condition("Ready", "True");
  ASSERT_TRUE(sm.SetPodStatus(seen, mine).ok());  // `seen` is stale: a conflict, then a retry

  auto got = api.Get(Pods(), "shop", "web");
  ASSERT_TRUE(got.ok());
  const auto& pod = *client::As<corev1::Pod>(*got);
  EXPECT_EQ(pod.status().phase(), "Running");
  EXPECT_EQ(Conditions(pod), (std::map<std::string, std::string>{
                                 {"DisruptionTarget", "True"}, {"PodScheduled", "True"}, {"Ready", "True"}}));
}

// A sync that still saw the pod running (its informer copy was older than the Failed write) must
// not move the phase back, nor drop the reason that ended the pod.
TEST(StatusManagerTest, ALaterRunningStatusKeepsTheTerminalPhaseAndItsReason) {
  FakeClock clock;
  client::FakeApi api(clock);
  auto created = api.Create(Pods(), "shop", MakePod("web").Namespace("shop").Node("node-1").Obj());
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const corev1::Pod seen = *client::As<corev1::Pod>(*created);
  StatusManager sm(api);
  corev1::PodStatus failed;
  failed.set_phase("Failed");
  failed.set_reason("DeadlineExceeded");
  failed.set_message("Pod was active on the node longer than the specified deadline");
  ASSERT_TRUE(sm.SetPodStatus(seen, failed).ok());

  corev1::PodStatus running;
  running.set_phase("Running");
  *running.add_conditions() = Condition("Ready", "False");
  ASSERT_TRUE(sm.SetPodStatus(seen, running).ok());
  auto got = api.Get(Pods(), "shop", "web");
  ASSERT_TRUE(got.ok());
  const auto& pod = *client::As<corev1::Pod>(*got);
  EXPECT_EQ(pod.status().phase(), "Failed");
  EXPECT_EQ(pod.status().reason(), "DeadlineExceeded");
  EXPECT_EQ(pod.status().message(), "Pod was active on the node longer than the specified deadline");
}

}  // namespace
}  // namespace ck::kubelet
