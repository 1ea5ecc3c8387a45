// NodeTree: zone keys and the zone-interleaved node order.
#include "scheduler/cache/node_tree.h"

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::scheduler {
namespace {

using api::testing::MakeNode;

corev1::Node ZonedNode(const std::string& name, const std::string& zone) {
  return MakeNode(name).Label("topology.kubernetes.io/zone", zone).Label("topology.kubernetes.io/region", "r1");
}

TEST(NodeTreeTest, ZoneKey) {
  struct Case {
    const char* name;
    corev1::Node node;
    std::string want;
  };
  std::vector<Case> cases = {
      {"no labels", MakeNode("n"), ""},
      {"zone and region", MakeNode("n").Label("topology.kubernetes.io/zone", "a").Label("topology.kubernetes.io/region", "r"),
       std::string("r:\0:a", 5)},
      {"zone only", MakeNode("n").Label("topology.kubernetes.io/zone", "a"), std::string(":\0:a", 4)},
      {"region only", MakeNode("n").Label("topology.kubernetes.io/region", "r"), std::string("r:\0:", 4)},
      {"beta labels", MakeNode("n")
                          .Label("failure-domain.beta.kubernetes.io/zone", "b")
                          .Label("failure-domain.beta.kubernetes.io/region", "rb"),
       std::string("rb:\0:b", 6)},
      {"GA label wins over beta", MakeNode("n")
                                      .Label("topology.kubernetes.io/zone", "a")
                                      .Label("failure-domain.beta.kubernetes.io/zone", "b"),
       std::string(":\0:a", 4)},
      {"unrelated labels", MakeNode("n").Label("kubernetes.io/hostname", "n"), ""},
  };
  for (const auto& c : cases) EXPECT_EQ(NodeTree::ZoneKey(c.node), c.want) << c.name;
  // Region "a:" + zone "b" and region "a" + zone ":b" must not collide.
  EXPECT_NE(NodeTree::ZoneKey(MakeNode("n").Label("topology.kubernetes.io/region", "a:").Label("topology.kubernetes.io/zone", "b")),
            NodeTree::ZoneKey(MakeNode("n").Label("topology.kubernetes.io/region", "a").Label("topology.kubernetes.io/zone", ":b")));
}

TEST(NodeTreeTest, ListInterleavesZonesRoundRobin) {
  NodeTree tree;
  for (const auto& [name, zone] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "A"}, {"a2", "A"}, {"b1", "B"}, {"a3", "A"}, {"c1", "C"}, {"b2", "B"}}) {
    tree.Add(ZonedNode(name, zone));
  }
  EXPECT_EQ(tree.num_nodes(), 6u);
  EXPECT_EQ(tree.num_zones(), 3u);
  EXPECT_EQ(tree.List(), (std::vector<std::string>{"a1", "b1", "c1", "a2", "b2", "a3"}));
}

TEST(NodeTreeTest, NodesWithoutZoneFormOneGroup) {
  NodeTree tree;
  tree.Add(MakeNode("x1"));
  tree.Add(ZonedNode("a1", "A"));
  tree.Add(MakeNode("x2"));
  EXPECT_EQ(tree.List(), (std::vector<std::string>{"x1", "a1", "x2"}));
}

TEST(NodeTreeTest, RemoveKeepsOrderAndDropsEmptyZones) {
  NodeTree tree;
  for (const auto& [name, zone] : std::vector<std::pair<std::string, std::string>>{
           {"a1", "A"}, {"b1", "B"}, {"a2", "A"}, {"c1", "C"}, {"a3", "A"}}) {
    tree.Add(ZonedNode(name, zone));
  }
  EXPECT_TRUE(tree.Remove("b1"));
  EXPECT_EQ(tree.num_zones(), 2u);
  EXPECT_TRUE(tree.Remove("a2"));
  EXPECT_EQ(tree.List(), (std::vector<std::string>{"a1", "c1", "a3"}));
  EXPECT_FALSE(tree.Remove("a2"));
  EXPECT_FALSE(tree.Remove("nope"));
  EXPECT_FALSE(tree.Contains("a2"));
  EXPECT_TRUE(tree.Contains("a3"));
  EXPECT_EQ(tree.num_nodes(), 3u);
  // A zone that comes back goes to the end of the zone order.
  tree.Add(ZonedNode("b9", "B"));
  EXPECT_EQ(tree.List(), (std::vector<std::string>{"a1", "c1", "b9", "a3"}));
}

TEST(NodeTreeTest, ReAddIsAnUpdate) {
  NodeTree tree;
  tree.Add(ZonedNode("a1", "A"));
  tree.Add(ZonedNode("a2", "A"));
  tree.Add(ZonedNode("b1", "B"));
  // Same zone: no change (the node keeps its place).
  tree.Add(ZonedNode("a1", "A"));
  EXPECT_EQ(tree.num_nodes(), 3u);
  EXPECT_EQ(tree.List(), (std::vector<std::string>{"a1", "b1", "a2"}));
  // New zone: moves to the end of that zone.
  tree.Add(ZonedNode("a1", "B"));
  EXPECT_EQ(tree.num_nodes(), 3u);
  EXPECT_EQ(tree.List(), (std::vector<std::string>{"a2", "b1", "a1"}));
}

TEST(NodeTreeTest, EmptyTree) {
  NodeTree tree;
  EXPECT_TRUE(tree.List().empty());
  EXPECT_EQ(tree.num_nodes(), 0u);
}

}  // namespace
}  // namespace ck::scheduler
