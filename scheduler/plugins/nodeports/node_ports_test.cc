// NodePorts: the pod's host ports against those in use on the node.
#include "scheduler/plugins/nodeports/node_ports.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

// A pod with host ports given as "protocol/ip/port" (ip "" = 0.0.0.0), one container each.
corev1::Pod PodWithPorts(std::string name, std::vector<std::tuple<std::string, std::string, int32_t>> ports,
                         std::string node = "") {
  corev1::Pod pod = MakePod(name).Node(node);
  pod.mutable_metadata()->set_uid("uid-" + name);
  corev1::Container* c = pod.mutable_spec()->add_containers();
  c->set_name("c");
  for (auto& [proto, ip, port] : ports) {
    corev1::ContainerPort* p = c->add_ports();
    p->set_containerport(port);
    p->set_hostport(port);
    if (!proto.empty()) p->set_protocol(proto);
    if (!ip.empty()) p->set_hostip(ip);
  }
  return pod;
}

TEST(NodePortsTest, Filter) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    std::vector<corev1::Pod> existing;
    VerdictCode want;
  };
  const Case cases[] = {
      {"no ports on the node", PodWithPorts("p", {{"UDP", "127.0.0.1", 8080}}), {}, VerdictCode::kSuccess},
      {"another protocol", PodWithPorts("p", {{"UDP", "127.0.0.1", 8080}}),
       {PodWithPorts("e", {{"TCP", "127.0.0.1", 8080}}, "n")}, VerdictCode::kSuccess},
      {"another port", PodWithPorts("p", {{"UDP", "127.0.0.1", 8080}}),
       {PodWithPorts("e", {{"UDP", "127.0.0.1", 8081}}, "n")}, VerdictCode::kSuccess},
      {"same protocol, ip and port", PodWithPorts("p", {{"UDP", "127.0.0.1", 8080}}),
       {PodWithPorts("e", {{"UDP", "127.0.0.1", 8080}}, "n")}, VerdictCode::kUnschedulable},
      {"another ip", PodWithPorts("p", {{"TCP", "127.0.0.1", 8001}}),
       {PodWithPorts("e", {{"TCP", "127.0.0.2", 8001}}, "n")}, VerdictCode::kSuccess},
      {"second of two ports conflicts", PodWithPorts("p", {{"TCP", "127.0.0.1", 8001}, {"UDP", "127.0.0.1", 8002}}),
       {PodWithPorts("e", {{"UDP", "127.0.0.1", 8002}}, "n")}, VerdictCode::kUnschedulable},
      {"wanted 0.0.0.0 conflicts with a specific ip", PodWithPorts("p", {{"TCP", "", 8001}}),
       {PodWithPorts("e", {{"TCP", "127.0.0.1", 8001}}, "n")}, VerdictCode::kUnschedulable},
      {"used 0.0.0.0 conflicts with a specific ip", PodWithPorts("p", {{"TCP", "127.0.0.1", 8001}}),
       {PodWithPorts("e", {{"TCP", "0.0.0.0", 8001}}, "n")}, VerdictCode::kUnschedulable},
      {"0.0.0.0 with another protocol", PodWithPorts("p", {{"UDP", "", 8001}}),
       {PodWithPorts("e", {{"TCP", "127.0.0.1", 8001}}, "n")}, VerdictCode::kSuccess},
      {"protocol defaults to TCP", PodWithPorts("p", {{"", "", 8001}}), {PodWithPorts("e", {{"TCP", "", 8001}}, "n")},
       VerdictCode::kUnschedulable},
      {"a pod on another node does not count", PodWithPorts("p", {{"TCP", "", 8001}}),
       {PodWithPorts("e", {{"TCP", "", 8001}}, "other")}, VerdictCode::kSuccess},
  };
  NodePorts pl;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot snapshot = Snapshot::FromObjects(c.existing, {MakeNode("n"), MakeNode("other")});
    PodInfoPtr pod = *PodInfo::Create(c.pod);
    CycleState state;
    PreFilterResult r;
    ASSERT_TRUE(pl.PreFilter(state, *pod, snapshot, &r).IsSuccess());
    EXPECT_TRUE(r.AllNodes());
    Verdict v = pl.Filter(state, *pod, *snapshot.Get("n"));
    EXPECT_EQ(v.code(), c.want) << v.String();
    if (!v.IsSuccess()) {
      EXPECT_EQ(v.reasons(), std::vector<std::string>{"node(s) didn't have free ports for the requested pod ports"});
    }
    EXPECT_EQ(PortsFit(pod->host_ports, *snapshot.Get("n")), c.want == VerdictCode::kSuccess);
  }
}

TEST(NodePortsTest, PreFilterSkipsPodsWithoutHostPorts) {
  NodePorts pl;
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("n")});
  CycleState state;
  PreFilterResult r;
  // A container port without hostPort is not a host port.
  PodInfoPtr pod = *PodInfo::Create(MakePod("p").Port(8080).Obj());
  EXPECT_TRUE(pl.PreFilter(state, *pod, snapshot, &r).IsSkip());
}

TEST(NodePortsTest, FilterWithoutPreFilterIsAnError) {
  NodePorts pl;
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("n")});
  CycleState state;
  Verdict v = pl.Filter(state, **PodInfo::Create(PodWithPorts("p", {{"TCP", "", 80}})), *snapshot.Get("n"));
  EXPECT_TRUE(v.IsError());
  EXPECT_EQ(v.Message(), "reading \"PreFilterNodePorts\" from cycleState: not found");
}

TEST(NodePortsTest, ThroughTheHandle) {
  // Two nodes, one with the port taken: only the other is feasible, and the taken one is
  // Unschedulable (preemption may free it).
  NodePorts pl;
  testing::FakeHandle handle(
      Snapshot::FromObjects({PodWithPorts("e", {{"TCP", "", 443}}, "a")}, {MakeNode("a"), MakeNode("b")}));
  handle.SetPreFilterPlugins({&pl});
  handle.SetFilterPlugins({&pl});
  PodInfoPtr pod = *PodInfo::Create(PodWithPorts("p", {{"TCP", "", 443}}));
  CycleState state;
  PreFilterResult r;
  ASSERT_TRUE(handle.RunPreFilterPlugins(state, *pod, &r).IsSuccess());
  NodeToVerdict rejected;
  EXPECT_EQ(handle.FeasibleNodes(state, *pod, r, &rejected), std::vector<std::string>{"b"});
  ASSERT_EQ(rejected.count("a"), 1u);
  EXPECT_EQ(rejected["a"].code(), VerdictCode::kUnschedulable);
  EXPECT_EQ(rejected["a"].plugin(), "NodePorts");

  // A pod nominated to b with the same port and higher priority takes it first.
  PodInfoPtr nominated = *PodInfo::Create(PodWithPorts("nom", {{"TCP", "", 443}}));
  handle.fake_nominator().AddNominatedPod(nominated, "b");
  EXPECT_TRUE(handle.FeasibleNodes(state, *pod, r).empty());
  handle.fake_nominator().DeleteNominatedPodIfExists(*nominated->pod);
  EXPECT_EQ(handle.FeasibleNodes(state, *pod, r), std::vector<std::string>{"b"});

  // A pod without host ports skips the plugin altogether.
  CycleState state2;
  PodInfoPtr plain = *PodInfo::Create(MakePod("plain").Obj());
  ASSERT_TRUE(handle.RunPreFilterPlugins(state2, *plain, &r).IsSuccess());
  EXPECT_EQ(state2.skip_filter_plugins.count("NodePorts"), 1u);
  EXPECT_EQ(handle.FeasibleNodes(state2, *plain, r), (std::vector<std::string>{"a", "b"}));
}

TEST(NodePortsTest, EventsAndFactory) {
  testing::FakeHandle handle;
  auto pl = NewNodePorts(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ((*pl)->Name(), "NodePorts");
  auto events = dynamic_cast<EnqueueExtensions*>(pl->get())->EventsToRegister();
  auto covered = [&](ClusterEvent e) {
    for (const auto& r : events) {
      if (r.Covers(e)) return true;
    }
    return false;
  };
  EXPECT_TRUE(covered({EventResource::kAssignedPod, kActionDelete, ""}));
  EXPECT_TRUE(covered({EventResource::kNode, kActionAdd, ""}));
  EXPECT_FALSE(covered({EventResource::kAssignedPod, kActionAdd, ""}));
  EXPECT_FALSE(covered({EventResource::kAssignedPod, kActionUpdatePodLabel, ""}));
}

}  // namespace
}  // namespace ck::scheduler::plugins
