// NodeName: spec.nodeName must name the node; PreFilter narrows to it.
#include "scheduler/plugins/nodename/node_name.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

TEST(NodeNameTest, Filter) {
  struct Case {
    const char* name;
    corev1::Pod pod;
    VerdictCode want;
  };
  const Case cases[] = {
      {"no node name", MakePod("p"), VerdictCode::kSuccess},
      {"names this node", MakePod("p").Node("node-1"), VerdictCode::kSuccess},
      {"names another node", MakePod("p").Node("node-2"), VerdictCode::kUnschedulableAndUnresolvable},
  };
  NodeName pl;
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("node-1")});
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    CycleState state;
    Verdict v = pl.Filter(state, **PodInfo::Create(c.pod), *snapshot.Get("node-1"));
    EXPECT_EQ(v.code(), c.want) << v.String();
    if (!v.IsSuccess()) {
      EXPECT_EQ(v.reasons(), std::vector<std::string>{"node(s) didn't match the requested node name"});
    }
  }
}

TEST(NodeNameTest, PreFilterNarrowsToTheNamedNode) {
  NodeName pl;
  Snapshot snapshot = Snapshot::FromObjects({}, {MakeNode("node-1"), MakeNode("node-2")});
  {
    CycleState state;
    PreFilterResult r;
    Verdict v = pl.PreFilter(state, **PodInfo::Create(MakePod("p").Obj()), snapshot, &r);
    EXPECT_TRUE(v.IsSkip()) << v.String();
    EXPECT_TRUE(r.AllNodes());
  }
  {
    CycleState state;
    PreFilterResult r;
    Verdict v = pl.PreFilter(state, **PodInfo::Create(MakePod("p").Node("node-2").Obj()), snapshot, &r);
    EXPECT_TRUE(v.IsSuccess()) << v.String();
    ASSERT_FALSE(r.AllNodes());
    EXPECT_EQ(*r.node_names, std::set<std::string>{"node-2"});
  }
}

TEST(NodeNameTest, ThroughTheHandle) {
  // The framework's loop: a pod naming node-2 is feasible on node-2 only; a pod naming a node that
  // does not exist is feasible nowhere.
  NodeName pl;
  testing::FakeHandle handle(Snapshot::FromObjects({}, {MakeNode("node-1"), MakeNode("node-2"), MakeNode("node-3")}));
  handle.SetPreFilterPlugins({&pl});
  handle.SetFilterPlugins({&pl});
  for (auto [want_node, feasible] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"node-2", {"node-2"}}, {"node-9", {}}, {"", {"node-1", "node-2", "node-3"}}}) {
    SCOPED_TRACE(want_node);
    CycleState state;
    PreFilterResult r;
    PodInfoPtr pod = *PodInfo::Create(MakePod("p").Node(want_node).Obj());
    ASSERT_TRUE(handle.RunPreFilterPlugins(state, *pod, &r).IsSuccess());
    EXPECT_EQ(handle.FeasibleNodes(state, *pod, r), feasible);
  }
}

TEST(NodeNameTest, EventsAndFactory) {
  testing::FakeHandle handle;
  auto pl = NewNodeName(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ((*pl)->Name(), "NodeName");
  auto events = dynamic_cast<EnqueueExtensions*>(pl->get())->EventsToRegister();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(events[0].Covers(ClusterEvent{EventResource::kNode, kActionAdd, ""}));
  EXPECT_FALSE(events[0].Covers(ClusterEvent{EventResource::kAssignedPod, kActionDelete, ""}));
}

}  // namespace
}  // namespace ck::scheduler::plugins
