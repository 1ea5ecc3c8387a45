#include "kubelet/core/node_agent.h"

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/base/clock.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"
#include "kubelet/network/loopback_plugin.h"

namespace ck::kubelet {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace coordv1 = ::k8s::io::api::coordination::v1;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

class NodeAgentTest : public ::testing::Test {
 protected:
  NodeAgentTest() : api_(clock_), network_("", true) {
    config_.name = "node-1";
    config_.node_ip = "127.0.1.1";
    config_.labels = {{"topology.kubernetes.io/zone", "zone-a"}};
    config_.cpu = "2";
    config_.memory = "4Gi";
    config_.ephemeral_storage = "10Gi";
    config_.runtime_version = "fake://0.1.0";
  }

  std::shared_ptr<const corev1::Node> StoredNode() {
    auto got = api_.Get(Res(corev1::Node::descriptor()), "", "node-1");
    EXPECT_TRUE(got.ok()) << got.status().message();
    return got.ok() ? client::As<corev1::Node>(*got) : nullptr;
  }
  static const corev1::NodeCondition* Ready(const corev1::Node& n) {
    for (const auto& c : n.status().conditions()) {
      if (c.type() == "Ready") return &c;
    }
    return nullptr;
  }

  FakeClock clock_;
  client::FakeApi api_;
  LoopbackNetworkPlugin network_;
  NodeConfig config_;
};

TEST_F(NodeAgentTest, RegistersNotReadyUntilThePodCidrArrivesThenReady) {
  NodeAgent agent(api_, clock_, config_, network_, nullptr);
  ASSERT_TRUE(agent.Register().ok());
  EXPECT_TRUE(agent.registered());
  auto node = StoredNode();
  ASSERT_NE(Ready(*node), nullptr);
  EXPECT_EQ(Ready(*node)->status(), "False");
  EXPECT_NE(Ready(*node)->message().find("podCIDR"), std::string::npos);
  EXPECT_EQ(node->metadata().labels().at("topology.kubernetes.io/zone"), "zone-a");

  // The node IPAM controller sets spec.podCIDR; the informer hands the node to the agent.
  corev1::Node with_cidr = *node;
  with_cidr.mutable_spec()->set_podcidr("127.244.1.0/24");
  auto updated = api_.Update(Res(corev1::Node::descriptor()), "", with_cidr);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  agent.OnNode(client::As<corev1::Node>(*updated));
  EXPECT_EQ(agent.pod_cidr(), "127.244.1.0/24");
  ASSERT_TRUE(agent.SyncStatus(false).ok());
  node = StoredNode();
  EXPECT_EQ(Ready(*node)->status(), "True");
  EXPECT_TRUE(network_.SetUpPod({"uid-1", "p", "default"}).ok());

  // Nothing changed and no report due: no write.
  api_.ResetCalls();
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(agent.SyncStatus(false).ok());
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kUpdate), 0);
  ASSERT_TRUE(agent.SyncStatus(true).ok());
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kUpdate), 1);
}

TEST_F(NodeAgentTest, ARestartedKubeletKeepsTheNodeAndReconcilesItsLabels) {
  {
    NodeAgent first(api_, clock_, config_, network_, nullptr);
    ASSERT_TRUE(first.Register().ok());
  }
  std::string uid = StoredNode()->metadata().uid();
  config_.labels["topology.kubernetes.io/zone"] = "zone-c";
  NodeAgent again(api_, clock_, config_, network_, nullptr);
  ASSERT_TRUE(again.Register().ok());
  auto node = StoredNode();
  EXPECT_EQ(node->metadata().uid(), uid);
  EXPECT_EQ(node->metadata().labels().at("topology.kubernetes.io/zone"), "zone-c");
}

TEST_F(NodeAgentTest, LeaseIsOwnedByTheNodeAndRenewedAfterConflicts) {
  NodeAgent agent(api_, clock_, config_, network_, nullptr);
  ASSERT_TRUE(agent.Register().ok());
  ASSERT_TRUE(agent.RenewLease().ok());
  auto got = api_.Get(Res(coordv1::Lease::descriptor()), "kube-node-lease", "node-1");
  ASSERT_TRUE(got.ok());
  auto lease = client::As<coordv1::Lease>(*got);
  EXPECT_EQ(lease->spec().holderidentity(), "node-1");
  EXPECT_EQ(lease->spec().leasedurationseconds(), 40);
  ASSERT_EQ(lease->metadata().ownerreferences_size(), 1);
  EXPECT_EQ(lease->metadata().ownerreferences(0).kind(), "Node");
  EXPECT_EQ(lease->metadata().ownerreferences(0).uid(), StoredNode()->metadata().uid());
  int64_t first_renew = lease->spec().renewtime().seconds();

  // Someone else wrote the lease: the renewal conflicts once, then reads it again and succeeds.
  coordv1::Lease other = *lease;
  other.mutable_spec()->set_leasedurationseconds(41);
  ASSERT_TRUE(api_.Update(Res(coordv1::Lease::descriptor()), "kube-node-lease", other).ok());
  clock_.Advance(std::chrono::seconds(10));
  EXPECT_EQ(agent.RenewLease().code(), Code::kConflict);
  ASSERT_TRUE(agent.RenewLease().ok());
  lease = client::As<coordv1::Lease>(*api_.Get(Res(coordv1::Lease::descriptor()), "kube-node-lease", "node-1"));
  EXPECT_EQ(lease->spec().renewtime().seconds(), first_renew + 10);
  EXPECT_EQ(lease->spec().leasedurationseconds(), 40);
}

TEST_F(NodeAgentTest, AStaticPodCidrOutsideLoopbackKeepsTheNodeNotReady) {
  config_.pod_cidr = "10.244.0.0/24";
  NodeAgent agent(api_, clock_, config_, network_, nullptr);
  ASSERT_TRUE(agent.Register().ok());
  auto node = StoredNode();
  EXPECT_EQ(Ready(*node)->status(), "False");
  EXPECT_NE(Ready(*node)->message().find("127.0.0.0/8"), std::string::npos);
}

}  // namespace
}  // namespace ck::kubelet
