// NodeUnschedulable: cordoned nodes reject pods that do not tolerate the unschedulable taint.
#include "scheduler/plugins/nodeunschedulable/node_unschedulable.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

TEST(NodeUnschedulableTest, Filter) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    corev1::Node node;
    VerdictCode want;
  };
  const corev1::Node cordoned = MakeNode("n").Unschedulable();
  const Case cases[] = {
      {"schedulable node", MakePod("p"), MakeNode("n"), VerdictCode::kSuccess},
      {"explicitly schedulable node", MakePod("p"), MakeNode("n").Unschedulable(false), VerdictCode::kSuccess},
      {"cordoned node, no toleration", MakePod("p"), cordoned, VerdictCode::kUnschedulableAndUnresolvable},
      {"cordoned node, tolerates the taint (Exists)",
       MakePod("p").Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoSchedule"), cordoned,
       VerdictCode::kSuccess},
      {"cordoned node, tolerates the taint (Equal, empty value)",
       MakePod("p").Toleration("node.kubernetes.io/unschedulable", "Equal", "", "NoSchedule"), cordoned,
       VerdictCode::kSuccess},
      {"cordoned node, toleration with any effect",
       MakePod("p").Toleration("node.kubernetes.io/unschedulable", "Exists", "", ""), cordoned, VerdictCode::kSuccess},
      {"cordoned node, tolerates everything", MakePod("p").Toleration("", "Exists", "", ""), cordoned,
       VerdictCode::kSuccess},
      {"cordoned node, toleration for NoExecute only",
       MakePod("p").Toleration("node.kubernetes.io/unschedulable", "Exists", "", "NoExecute"), cordoned,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"cordoned node, toleration with a value the taint lacks",
       MakePod("p").Toleration("node.kubernetes.io/unschedulable", "Equal", "yes", "NoSchedule"), cordoned,
       VerdictCode::kUnschedulableAndUnresolvable},
      {"cordoned node, toleration of another key",
       MakePod("p").Toleration("node.kubernetes.io/not-ready", "Exists", "", "NoSchedule"), cordoned,
       VerdictCode::kUnschedulableAndUnresolvable},
  };
  NodeUnschedulable pl;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Snapshot snapshot = Snapshot::FromObjects({}, {c.node});
    PodInfoPtr pod = *PodInfo::Create(c.pod);
    CycleState state;
    Verdict v = pl.Filter(state, *pod, *snapshot.Get("n"));
    EXPECT_EQ(v.code(), c.want) << v.String();
    if (c.want != VerdictCode::kSuccess) {
      EXPECT_EQ(v.reasons(), std::vector<std::string>{"node(s) were unschedulable"});
    }
  }
}

TEST(NodeUnschedulableTest, FilterNodeInfoWithoutNode) {
  NodeUnschedulable pl;
  CycleState state;
  NodeInfo empty;
  Verdict v = pl.Filter(state, **PodInfo::Create(MakePod("p").Obj()), empty);
  EXPECT_EQ(v.code(), VerdictCode::kUnschedulableAndUnresolvable);
  EXPECT_EQ(v.Message(), "node(s) had unknown conditions");
}

TEST(NodeUnschedulableTest, EventsAndFactory) {
  testing::FakeHandle handle;
  auto pl = NewNodeUnschedulable(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ((*pl)->Name(), "NodeUnschedulable");
  auto* ext = dynamic_cast<EnqueueExtensions*>(pl->get());
  ASSERT_NE(ext, nullptr);
  std::vector<ClusterEvent> events = ext->EventsToRegister();
  ASSERT_EQ(events.size(), 1u);
  // An uncordon is reported as a node taint change; a new node may be schedulable.
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionUpdateNodeTaint, ""}));
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionAdd, ""}));
  EXPECT_FALSE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionUpdateNodeAllocatable, ""}));
  EXPECT_FALSE(events[0].Covers(ClusterEvent{EventResource::kAssignedPod, kActionDelete, ""}));
}

}  // namespace
}  // namespace ck::scheduler::plugins
