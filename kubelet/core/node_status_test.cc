#include "kubelet/core/node_status.h"

#include <gtest/gtest.h>

#include "common/api/object.h"

namespace ck::kubelet {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

NodeConfig Config() {
  NodeConfig c;
  c.name = "node-2";
  c.node_ip = "127.0.1.2";
  c.labels = {{"topology.kubernetes.io/zone", "zone-b"}};
  c.cpu = "2";
  c.memory = "8Gi";
  c.ephemeral_storage = "100Gi";
  c.runtime_version = "process://0.1.0";
  return c;
}

const corev1::NodeCondition* Condition(const corev1::NodeStatus& s, const std::string& type) {
  for (const auto& c : s.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

TEST(NodeStatus, NewNodeCarriesLabelsCapacityAddressesAndConditions) {
  NodeConfig c = Config();
  c.taints = *ParseTaints("dedicated=infra:NoSchedule");
  corev1::Node n = NewNode(c, WallTime(std::chrono::seconds(1000)));
  EXPECT_EQ(n.metadata().name(), "node-2");
  EXPECT_EQ(n.metadata().labels().at("kubernetes.io/hostname"), "node-2");
  EXPECT_EQ(n.metadata().labels().at("kubernetes.io/os"), "linux");
  EXPECT_EQ(n.metadata().labels().at("topology.kubernetes.io/zone"), "zone-b");
  ASSERT_EQ(n.spec().taints_size(), 1);
  EXPECT_EQ(n.spec().taints(0).key(), "dedicated");
  EXPECT_EQ(n.spec().taints(0).value(), "infra");
  EXPECT_EQ(n.spec().taints(0).effect(), "NoSchedule");
  EXPECT_EQ(n.status().capacity().at("cpu").string(), "2");
  EXPECT_EQ(n.status().capacity().at("pods").string(), "110");
  EXPECT_EQ(n.status().allocatable().at("memory").string(), "8Gi");
  EXPECT_EQ(n.status().addresses(0).type(), "InternalIP");
  EXPECT_EQ(n.status().addresses(0).address(), "127.0.1.2");
  EXPECT_EQ(n.status().nodeinfo().containerruntimeversion(), "process://0.1.0");
  EXPECT_EQ(n.status().daemonendpoints().kubeletendpoint().port(), 10250);
  for (const char* t : {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}) {
    ASSERT_NE(Condition(n.status(), t), nullptr) << t;
  }
  EXPECT_EQ(Condition(n.status(), "Ready")->status(), "True");
  EXPECT_EQ(Condition(n.status(), "Ready")->reason(), "KubeletReady");
  EXPECT_EQ(Condition(n.status(), "MemoryPressure")->status(), "False");
}

TEST(NodeStatus, NotReadyNamesTheNetworkAndTransitionTimesMoveOnlyOnChange) {
  corev1::NodeStatus s;
  NodeHealth sick;
  sick.network_ready = false;
  sick.network_message = "node has no podCIDR yet";
  SetNodeStatus(Config(), sick, WallTime(std::chrono::seconds(100)), &s);
  const auto* ready = Condition(s, "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->status(), "False");
  EXPECT_EQ(ready->reason(), "KubeletNotReady");
  EXPECT_NE(ready->message().find("NetworkPluginNotReady"), std::string::npos);
  EXPECT_NE(ready->message().find("podCIDR"), std::string::npos);
  SetNodeStatus(Config(), sick, WallTime(std::chrono::seconds(200)), &s);
  ready = Condition(s, "Ready");
  EXPECT_EQ(api::WallTimeOf(ready->lasttransitiontime()), WallTime(std::chrono::seconds(100)));
  EXPECT_EQ(api::WallTimeOf(ready->lastheartbeattime()), WallTime(std::chrono::seconds(200)));
  corev1::NodeStatus before = s;
  SetNodeStatus(Config(), NodeHealth{}, WallTime(std::chrono::seconds(300)), &s);
  ready = Condition(s, "Ready");
  EXPECT_EQ(ready->status(), "True");
  EXPECT_EQ(api::WallTimeOf(ready->lasttransitiontime()), WallTime(std::chrono::seconds(300)));
  EXPECT_TRUE(NodeStatusChanged(before, s));
  corev1::NodeStatus later = s;
  SetNodeStatus(Config(), NodeHealth{}, WallTime(std::chrono::seconds(400)), &later);
  EXPECT_FALSE(NodeStatusChanged(s, later)) << "only heartbeat times differ";
}

TEST(NodeStatus, ParsesTaintsAndLabelsWithReadableErrors) {
  auto t = ParseTaints("a=b:NoExecute, c:PreferNoSchedule");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[1].key(), "c");
  EXPECT_EQ((*t)[1].value(), "");
  EXPECT_EQ((*t)[1].effect(), "PreferNoSchedule");
  auto bad = ParseTaints("a=b:Sometimes");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("NoSchedule, PreferNoSchedule or NoExecute"), std::string::npos);
  EXPECT_FALSE(ParseTaints("novalue").ok());
  auto l = ParseNodeLabels("topology.kubernetes.io/zone=zone-a,team=web,node.kubernetes.io/pool=sys");
  ASSERT_TRUE(l.ok()) << l.status().message();
  EXPECT_EQ(l->at("team"), "web");
  auto refused = ParseNodeLabels("node-role.kubernetes.io/control-plane=");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("NodeRestriction"), std::string::npos);
  EXPECT_FALSE(ParseNodeLabels("=x").ok());
}

TEST(NodeStatus, DetectsTheHostsCapacity) {
  HostCapacity h = DetectHostCapacity("/");
  EXPECT_GE(std::stoi(h.cpu), 1);
  EXPECT_TRUE(h.memory.ends_with("Ki"));
  EXPECT_GT(std::stoll(h.memory), 0);
  EXPECT_GT(std::stoll(h.ephemeral_storage), 0);
}

}  // namespace
}  // namespace ck::kubelet
