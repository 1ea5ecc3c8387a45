// Unit tests of node IPAM: the CIDR set's arithmetic (tables) and NodeIpamController on the fake
// API (allocation, service range, restart without duplicates, release and reuse, exhaustion,
// dual-stack, bad settings).
#include "controller-manager/nodeipam/node_ipam_controller.h"

#include <gtest/gtest.h>

#include <set>

#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

using api::testing::MakeNode;
using testing::ControllerTestEnv;

// ---- CidrSet ------------------------------------------------------------------------------------

struct ParseCase {
  std::string in;
  std::string want;  // String() of the parsed network, or "" for an error
};

TEST(CidrSetTest, ParseCidr) {
  for (const ParseCase& c : std::vector<ParseCase>{
           {"10.244.0.0/16", "10.244.0.0/16"},
           {"10.244.7.9/16", "10.244.0.0/16"},  // host bits cleared, as net.ParseCIDR
           {"127.244.0.0/16", "127.244.0.0/16"},
           {"0.0.0.0/0", "0.0.0.0/0"},
           {"10.0.0.1/32", "10.0.0.1/32"},
           {"fd00:10:244::/56", "fd00:10:244::/56"},
           {"FD00:0:0:1::5/64", "fd00:0:0:1::/64"},
           {"::/0", "::/0"},
           {"10.244.0.0/33", ""},
           {"10.244.0.0", ""},
           {"10.244.0/16", ""},
           {"10.244.0.0/-1", ""},
           {"10.244.0.0/016", ""},
           {"fd00::/129", ""},
           {"cluster", ""},
       }) {
    Result<IpNet> net = ParseCidr(c.in);
    if (c.want.empty()) {
      ASSERT_FALSE(net.ok()) << c.in;
      EXPECT_EQ(net.status().message(), "invalid CIDR address: " + c.in);
    } else {
      ASSERT_TRUE(net.ok()) << c.in << ": " << net.status().message();
      EXPECT_EQ(net->String(), c.want) << c.in;
    }
  }
}

struct SetCase {
  std::string cluster;
  int mask;
  std::vector<std::string> occupy;  // marked used first
  int allocations;
  std::vector<std::string> want;  // the allocations, in order ("" = exhausted)
};

TEST(CidrSetTest, AllocationOrder) {
  for (const SetCase& c : std::vector<SetCase>{
           {"10.244.0.0/16", 24, {}, 3, {"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"}},
           {"10.244.0.0/16", 24, {"10.244.1.0/24"}, 2, {"10.244.0.0/24", "10.244.2.0/24"}},
           // A range wider than a subnet marks every subnet it touches.
           {"10.0.0.0/16", 24, {"10.0.0.0/20"}, 1, {"10.0.16.0/24"}},
           // A range covering the whole cluster CIDR leaves nothing.
           {"10.0.0.0/16", 24, {"10.0.0.0/12"}, 1, {""}},
           {"10.0.0.0/24", 26, {}, 5, {"10.0.0.0/26", "10.0.0.64/26", "10.0.0.128/26", "10.0.0.192/26", ""}},
           {"10.0.0.0/24", 24, {}, 2, {"10.0.0.0/24", ""}},
           {"fd00:10:244::/56", 64, {}, 2, {"fd00:10:244::/64", "fd00:10:244:1::/64"}},
       }) {
    SCOPED_TRACE(c.cluster + " /" + std::to_string(c.mask));
    Result<CidrSet> set = CidrSet::New(*ParseCidr(c.cluster), c.mask);
    ASSERT_TRUE(set.ok()) << set.status().message();
    for (const auto& o : c.occupy) ASSERT_TRUE(set->Occupy(*ParseCidr(o)).ok());
    for (int i = 0; i < c.allocations; ++i) {
      Result<IpNet> next = set->AllocateNext();
      if (c.want[i].empty()) {
        ASSERT_FALSE(next.ok());
        EXPECT_EQ(next.status().message(),
                  "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range");
      } else {
        ASSERT_TRUE(next.ok()) << i;
        EXPECT_EQ(next->String(), c.want[i]) << i;
      }
    }
  }
}

TEST(CidrSetTest, ReleasedSubnetIsReusedAfterTheOthers) {
  Result<CidrSet> set = CidrSet::New(*ParseCidr("10.0.0.0/24"), 26);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->max_cidrs(), 4);
  EXPECT_EQ(set->AllocateNext()->String(), "10.0.0.0/26");
  EXPECT_EQ(set->AllocateNext()->String(), "10.0.0.64/26");
  ASSERT_TRUE(set->Release(*ParseCidr("10.0.0.0/26")).ok());
  // Round robin: the free subnets after the last allocation come first.
  EXPECT_EQ(set->AllocateNext()->String(), "10.0.0.128/26");
  EXPECT_EQ(set->AllocateNext()->String(), "10.0.0.192/26");
  EXPECT_EQ(set->AllocateNext()->String(), "10.0.0.0/26");
  EXPECT_EQ(set->allocated(), 4);
  EXPECT_FALSE(set->AllocateNext().ok());
  EXPECT_EQ(set->Occupy(*ParseCidr("10.1.0.0/26")).message(), "cidr 10.1.0.0/26 is out the range of cluster cidr 10.0.0.0/24");
  EXPECT_FALSE(set->Occupy(*ParseCidr("fd00::/64")).ok());
}

// ---- Settings -----------------------------------------------------------------------------------

struct SettingsCase {
  std::string cluster;
  int mask;
  std::string service;
  std::string want_error;  // "" = valid
};

TEST(NodeIpamSettingsTest, InvalidSettingsAreOneReadableLine) {
  for (const SettingsCase& c : std::vector<SettingsCase>{
           {"", 24, "", ""},  // 10.244.0.0/16
           {"10.244.0.0/16", 24, "10.96.0.0/12", ""},
           {"10.244.0.0/16,fd00:10:244::/56", 24, "", ""},
           {"10.244.0.0/33", 24, "", "--cluster-cidr: invalid CIDR address: 10.244.0.0/33"},
           {"pods", 24, "", "--cluster-cidr: invalid CIDR address: pods"},
           {"10.0.0.0/16,10.1.0.0/16", 24, "",
            "--cluster-cidr: at most one IPv4 and one IPv6 CIDR (dual-stack) are allowed, got \"10.0.0.0/16,10.1.0.0/16\""},
           {"10.244.0.0/16", 8, "",
            "--node-cidr-mask-size: node CIDR mask size 8 does not fit cluster CIDR 10.244.0.0/16 (it must be between 16 and 32)"},
           {"fd00::/32", 24, "",
            "--node-cidr-mask-size: New CIDR set failed; the node CIDR size is too big: fd00::/32 holds 2^32 subnets of /64 "
            "(at most 2^16)"},
           {"10.244.0.0/16", 24, "10.96.0.0", "--service-cluster-ip-range: invalid CIDR address: 10.96.0.0"},
       }) {
    ControllerSettings s;
    s.allocate_node_cidrs = true;
    s.cluster_cidr = c.cluster;
    s.node_cidr_mask_size = c.mask;
    s.service_cluster_ip_range = c.service;
    ControllerTestEnv env(s);
    Result<std::unique_ptr<ManagedController>> built = NodeIpamController::New(env.context);
    if (c.want_error.empty()) {
      EXPECT_TRUE(built.ok()) << c.cluster << ": " << built.status().message();
    } else {
      ASSERT_FALSE(built.ok()) << c.cluster;
      EXPECT_EQ(built.status().code(), Code::kInvalid);
      EXPECT_EQ(built.status().message(), c.want_error);
      EXPECT_EQ(built.status().message().find('\n'), std::string::npos);
    }
  }
}

TEST(NodeIpamSettingsTest, DisabledWithoutAllocateNodeCidrs) {
  ControllerTestEnv env;  // allocate_node_cidrs = false
  env.Create(corev1::Node(MakeNode("node-1")));
  Result<std::unique_ptr<ManagedController>> built = NodeIpamController::New(env.context);
  ASSERT_TRUE(built.ok());
  EXPECT_TRUE((*built)->Informers().empty());
  EXPECT_TRUE((*built)->SyncForTesting("node-1").ok());
  EXPECT_TRUE(env.Get<corev1::Node>("", "node-1")->spec().podcidr().empty());
}

// ---- The controller -----------------------------------------------------------------------------

class Harness {
 public:
  explicit Harness(std::string cluster, int mask = 24, std::string service = "") : env(Settings(cluster, mask, service)) {}
  static ControllerSettings Settings(std::string cluster, int mask, std::string service) {
    ControllerSettings s;
    s.allocate_node_cidrs = true;
    s.cluster_cidr = std::move(cluster);
    s.node_cidr_mask_size = mask;
    s.service_cluster_ip_range = std::move(service);
    return s;
  }
  NodeIpamController& Build() {
    Result<std::unique_ptr<ManagedController>> built = NodeIpamController::New(env.context);
    CK_CHECK(built.ok()) << built.status().message();
    controller.reset(static_cast<NodeIpamController*>(built->release()));
    env.StartInformers(controller->Informers());
    return *controller;
  }
  // Waits until the node cache holds exactly the nodes of the fake API, at their versions.
  void Settle() {
    CK_CHECK(client::testing::WaitFor([&] {
      auto& indexer = controller->Informers()[0]->GetIndexer();
      auto objects = env.api.Objects(testing::ResourceOf(corev1::Node::descriptor()));
      if (indexer.size() != objects.size()) return false;
      for (const auto& o : objects) {
        auto cached = indexer.Get(api::MetaOf(*o).name());
        if (cached == nullptr || api::MetaOf(*cached).resourceversion() != api::MetaOf(*o).resourceversion()) return false;
      }
      return true;
    }));
  }
  Status Sync(const std::string& node) {
    Settle();
    return controller->SyncForTesting(node);
  }
  std::vector<std::string> PodCidrs(const std::string& node) {
    auto n = env.Get<corev1::Node>("", node);
    CK_CHECK(n.ok());
    EXPECT_EQ(n->spec().podcidr(), n->spec().podcidrs().empty() ? "" : n->spec().podcidrs(0));
    return {n->spec().podcidrs().begin(), n->spec().podcidrs().end()};
  }
  std::vector<corev1::Event> WaitEvents(const std::string& reason, size_t at_least) {
    std::vector<corev1::Event> out;
    client::testing::WaitFor([&] { return (out = env.Events(reason)).size() >= at_least; }, std::chrono::seconds(5));
    return out;
  }

  ControllerTestEnv env;
  std::unique_ptr<NodeIpamController> controller;
};

using Cidrs = std::vector<std::string>;

TEST(NodeIpamTest, EachNodeGetsTheNextFreeSubnet) {
  Harness h("10.244.0.0/16", 24, "10.96.0.0/12");
  for (const char* n : {"node-1", "node-2", "node-3"}) h.env.Create(corev1::Node(MakeNode(n)));
  h.Build();
  for (const char* n : {"node-1", "node-2", "node-3"}) ASSERT_TRUE(h.Sync(n).ok()) << n;
  EXPECT_EQ(h.PodCidrs("node-1"), Cidrs{"10.244.0.0/24"});
  EXPECT_EQ(h.PodCidrs("node-2"), Cidrs{"10.244.1.0/24"});
  EXPECT_EQ(h.PodCidrs("node-3"), Cidrs{"10.244.2.0/24"});
  // Syncing again changes nothing.
  const int64_t patches = h.env.api.Calls(client::FakeApi::Verb::kPatch, "nodes");
  for (const char* n : {"node-1", "node-2", "node-3"}) ASSERT_TRUE(h.Sync(n).ok());
  EXPECT_EQ(h.env.api.Calls(client::FakeApi::Verb::kPatch, "nodes"), patches);
  EXPECT_EQ(h.controller->Allocated(), 3);
}

TEST(NodeIpamTest, ServiceRangeIsNeverHandedOut) {
  // The Service range sits inside the cluster CIDR: its subnet is marked used from the start.
  Harness h("127.96.0.0/15", 16, "127.96.0.0/16");
  h.env.Create(corev1::Node(MakeNode("node-1")));
  h.env.Create(corev1::Node(MakeNode("node-2")));
  h.Build();
  ASSERT_TRUE(h.Sync("node-1").ok());
  EXPECT_EQ(h.PodCidrs("node-1"), Cidrs{"127.97.0.0/16"});
  Status exhausted = h.Sync("node-2");
  EXPECT_EQ(exhausted.code(), Code::kUnavailable);
  EXPECT_TRUE(h.PodCidrs("node-2").empty());
}

TEST(NodeIpamTest, NoDuplicatesAfterARestart) {
  Harness h("10.244.0.0/16");
  // Subnets handed out by an earlier run: .0 and .2.
  h.env.Create(corev1::Node(MakeNode("node-1").PodCIDR("10.244.0.0/24")));
  h.env.Create(corev1::Node(MakeNode("node-3").PodCIDR("10.244.2.0/24")));
  h.env.Create(corev1::Node(MakeNode("node-4")));
  h.env.Create(corev1::Node(MakeNode("node-5")));
  h.Build();
  // node-4 is synced first: it must not get .0, although that is the first subnet.
  ASSERT_TRUE(h.Sync("node-4").ok());
  ASSERT_TRUE(h.Sync("node-5").ok());
  EXPECT_EQ(h.PodCidrs("node-4"), Cidrs{"10.244.1.0/24"});
  EXPECT_EQ(h.PodCidrs("node-5"), Cidrs{"10.244.3.0/24"});

  // Another restart: a new controller on the same cluster, then a new node.
  h.controller.reset();
  h.env.Create(corev1::Node(MakeNode("node-6")));
  h.Build();
  ASSERT_TRUE(h.Sync("node-6").ok());
  EXPECT_EQ(h.PodCidrs("node-6"), Cidrs{"10.244.4.0/24"});
  std::set<std::string> all;
  for (const auto& n : h.env.List<corev1::Node>()) {
    ASSERT_EQ(n.spec().podcidrs_size(), 1) << n.metadata().name();
    EXPECT_TRUE(all.insert(n.spec().podcidrs(0)).second) << "duplicate " << n.spec().podcidrs(0);
  }
}

TEST(NodeIpamTest, ExhaustionThenReleaseAndReuse) {
  Harness h("10.0.0.0/24", 26);  // four subnets
  for (int i = 1; i <= 5; ++i) h.env.Create(corev1::Node(MakeNode("node-" + std::to_string(i))));
  h.Build();
  for (int i = 1; i <= 4; ++i) ASSERT_TRUE(h.Sync("node-" + std::to_string(i)).ok());
  EXPECT_EQ(h.PodCidrs("node-2"), Cidrs{"10.0.0.64/26"});

  Status full = h.Sync("node-5");
  EXPECT_EQ(full.code(), Code::kUnavailable);
  EXPECT_EQ(full.message(),
            "failed to allocate cidr from cluster cidr at idx:0: CIDR allocation failed; there are no remaining CIDRs "
            "left to allocate in the accepted range");
  auto events = h.WaitEvents("CIDRNotAvailable", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].message(), "Node node-5 status is now: CIDRNotAvailable");
  EXPECT_EQ(events[0].involvedobject().kind(), "Node");
  EXPECT_EQ(events[0].involvedobject().name(), "node-5");
  EXPECT_EQ(events[0].source().component(), "cidrAllocator");
  EXPECT_TRUE(h.PodCidrs("node-5").empty());

  // node-2 goes away: its subnet is free again, and node-5 gets it.
  ASSERT_TRUE(h.env.api.Delete(testing::ResourceOf(corev1::Node::descriptor()), "", "node-2").ok());
  ASSERT_TRUE(h.Sync("node-2").ok());
  EXPECT_EQ(h.controller->Allocated(), 3);
  ASSERT_TRUE(h.Sync("node-5").ok());
  EXPECT_EQ(h.PodCidrs("node-5"), Cidrs{"10.0.0.64/26"});
}

TEST(NodeIpamTest, FailedWriteKeepsTheReservationForTheRetry) {
  Harness h("10.244.0.0/16");
  h.env.Create(corev1::Node(MakeNode("node-1")));
  h.env.Create(corev1::Node(MakeNode("node-2")));
  h.Build();
  h.env.api.FailNext(client::FakeApi::Verb::kPatch, Unavailable("etcdserver: request timed out"), 3, "nodes");
  EXPECT_FALSE(h.Sync("node-1").ok());
  EXPECT_EQ(h.WaitEvents("CIDRAssignmentFailed", 1).size(), 1u);
  ASSERT_TRUE(h.Sync("node-2").ok());
  ASSERT_TRUE(h.Sync("node-1").ok());
  EXPECT_EQ(h.PodCidrs("node-1"), Cidrs{"10.244.0.0/24"});
  EXPECT_EQ(h.PodCidrs("node-2"), Cidrs{"10.244.1.0/24"});
}

TEST(NodeIpamTest, DualStackGetsOneSubnetPerFamily) {
  Harness h("10.244.0.0/16,fd00:10:244::/56");
  h.env.Create(corev1::Node(MakeNode("node-1")));
  h.env.Create(corev1::Node(MakeNode("node-2")));
  h.Build();
  ASSERT_TRUE(h.Sync("node-1").ok());
  ASSERT_TRUE(h.Sync("node-2").ok());
  EXPECT_EQ(h.PodCidrs("node-1"), (Cidrs{"10.244.0.0/24", "fd00:10:244::/64"}));
  EXPECT_EQ(h.PodCidrs("node-2"), (Cidrs{"10.244.1.0/24", "fd00:10:244:1::/64"}));
  EXPECT_EQ(h.controller->Allocated(true), 2);
}

TEST(NodeIpamTest, WorkersAllocateForNewNodes) {
  Harness h("10.244.0.0/16");
  Result<std::unique_ptr<ManagedController>> built = NodeIpamController::New(h.env.context);
  ASSERT_TRUE(built.ok());
  h.env.Start(**built);
  h.env.Create(corev1::Node(MakeNode("node-1")));
  h.env.Create(corev1::Node(MakeNode("node-2")));
  EXPECT_TRUE(client::testing::WaitFor([&] {
    return !h.env.Get<corev1::Node>("", "node-1")->spec().podcidr().empty() &&
           !h.env.Get<corev1::Node>("", "node-2")->spec().podcidr().empty();
  }));
  EXPECT_NE(h.PodCidrs("node-1"), h.PodCidrs("node-2"));
}

}  // namespace
}  // namespace ck::controller_manager
