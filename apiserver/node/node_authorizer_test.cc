#include "apiserver/node/node_authorizer.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "common/api/testing/builders.h"

namespace ck::apiserver::node {
namespace {

using api::testing::PodBuilder;

UserInfo NodeUser(const std::string& node) {
  return UserInfo{"system:node:" + node, "", {"system:nodes", "system:authenticated"}, {}};
}

Attributes Req(const UserInfo& user, std::string verb, std::string resource, std::string ns, std::string name,
               std::string group = "", std::string subresource = "") {
  Attributes a;
  a.user = &user;
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.api_version = "v1";
  a.resource = std::move(resource);
  a.subresource = std::move(subresource);
  a.namespace_ = std::move(ns);
  a.name = std::move(name);
  return a;
}

// A pod on `node` using a secret volume, a configmap through envFrom, a projected secret and
// configmap, an env secretKeyRef, an image pull secret, a PVC and a service account.
corev1::Pod WorkPod(const std::string& name, const std::string& node, const std::string& suffix) {
  corev1::Pod pod = PodBuilder(name).Namespace("shop").Node(node).Container("app");
  auto* spec = pod.mutable_spec();
  spec->set_serviceaccountname("sa-" + suffix);
  spec->add_imagepullsecrets()->set_name("pull-" + suffix);
  auto* v = spec->add_volumes();
  v->set_name("creds");
  v->mutable_volumesource()->mutable_secret()->set_secretname("secret-" + suffix);
  auto* proj = spec->add_volumes();
  proj->set_name("proj");
  auto* sources = proj->mutable_volumesource()->mutable_projected();
  sources->add_sources()->mutable_secret()->mutable_localobjectreference()->set_name("projsecret-" + suffix);
  sources->add_sources()->mutable_configmap()->mutable_localobjectreference()->set_name("projcm-" + suffix);
  auto* pvc = spec->add_volumes();
  pvc->set_name("data");
  pvc->mutable_volumesource()->mutable_persistentvolumeclaim()->set_claimname("claim-" + suffix);
  auto* c = spec->mutable_containers(0);
  c->add_envfrom()->mutable_configmapref()->mutable_localobjectreference()->set_name("config-" + suffix);
  auto* env = c->add_env();
  env->set_name("TOKEN");
  env->mutable_valuefrom()->mutable_secretkeyref()->mutable_localobjectreference()->set_name("envsecret-" + suffix);
  env->mutable_valuefrom()->mutable_secretkeyref()->set_key("token");
  return pod;
}

class NodeAuthorizerTest : public ::testing::Test {
 protected:
  NodeAuthorizerTest() : authz_(&graph_) {
    graph_.UpsertPod(WorkPod("web-a", "node-a", "a"));
    graph_.UpsertPod(WorkPod("web-b", "node-b", "b"));
  }
  Decision Decide(const Attributes& a, std::string* reason = nullptr) const {
    std::string r;
    Decision d = authz_.Authorize(a, &r);
    if (reason != nullptr) *reason = r;
    return d;
  }
  Graph graph_;
  NodeAuthorizer authz_;
  UserInfo node_a_ = NodeUser("node-a");
  UserInfo node_b_ = NodeUser("node-b");
};

TEST_F(NodeAuthorizerTest, ReadsOnlyItsOwnPodsSecretsAndConfigMaps) {
  struct Case {
    std::string resource, name;
  };
  const std::vector<Case> cases = {
      {"secrets", "secret-"},   {"secrets", "projsecret-"}, {"secrets", "envsecret-"}, {"secrets", "pull-"},
      {"configmaps", "config-"}, {"configmaps", "projcm-"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.resource + "/" + c.name);
    EXPECT_EQ(Decide(Req(node_a_, "get", c.resource, "shop", c.name + "a")), Decision::kAllow);
    std::string reason;
    EXPECT_EQ(Decide(Req(node_a_, "get", c.resource, "shop", c.name + "b"), &reason), Decision::kNoOpinion);
    EXPECT_EQ(reason, "no relationship found between node 'node-a' and this object");
    EXPECT_EQ(Decide(Req(node_b_, "get", c.resource, "shop", c.name + "b")), Decision::kAllow);
    // Same name in another namespace is another object.
    EXPECT_EQ(Decide(Req(node_a_, "get", c.resource, "other", c.name + "a")), Decision::kNoOpinion);
  }
}

TEST_F(NodeAuthorizerTest, ListAndWatchOfSecretsNeedASingleRelatedName) {
  std::string reason;
  EXPECT_EQ(Decide(Req(node_a_, "list", "secrets", "shop", ""), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "No Object name found");
  EXPECT_EQ(Decide(Req(node_a_, "watch", "configmaps", "shop", ""), &reason), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_a_, "list", "secrets", "", ""), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only read namespaced object of this type");
  // A watch scoped by fieldSelector metadata.name carries the name.
  EXPECT_EQ(Decide(Req(node_a_, "watch", "secrets", "shop", "secret-a")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "update", "secrets", "shop", "secret-a"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only read resources of this type");
}

TEST_F(NodeAuthorizerTest, AccessEndsWhenThePodMovesOrIsDeleted) {
  ASSERT_EQ(Decide(Req(node_a_, "get", "secrets", "shop", "secret-a")), Decision::kAllow);
  // Recreated on node-b (same namespace/name, new binding).
  graph_.UpsertPod(WorkPod("web-a", "node-b", "a"));
  EXPECT_EQ(Decide(Req(node_a_, "get", "secrets", "shop", "secret-a")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_b_, "get", "secrets", "shop", "secret-a")), Decision::kAllow);
  graph_.RemovePod("shop", "web-a");
  EXPECT_EQ(Decide(Req(node_b_, "get", "secrets", "shop", "secret-a")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_b_, "get", "secrets", "shop", "secret-b")), Decision::kAllow);
  EXPECT_EQ(graph_.pod_count(), 1u);
}

TEST_F(NodeAuthorizerTest, SharedSecretStaysReadableWhileAnyPodOnTheNodeUsesIt) {
  graph_.UpsertPod(WorkPod("web-a2", "node-a", "a"));
  graph_.RemovePod("shop", "web-a");
  EXPECT_EQ(Decide(Req(node_a_, "get", "secrets", "shop", "secret-a")), Decision::kAllow);
  // An update dropping the reference takes it away.
  corev1::Pod bare = PodBuilder("web-a2").Namespace("shop").Node("node-a").Container("app");
  graph_.UpsertPod(bare);
  EXPECT_EQ(Decide(Req(node_a_, "get", "secrets", "shop", "secret-a")), Decision::kNoOpinion);
}

TEST_F(NodeAuthorizerTest, UnboundPodsGiveNoAccess) {
  graph_.UpsertPod(WorkPod("pending", "", "p"));
  EXPECT_EQ(Decide(Req(node_a_, "get", "secrets", "shop", "secret-p")), Decision::kNoOpinion);
}

TEST_F(NodeAuthorizerTest, PersistentVolumesThroughClaims) {
  EXPECT_EQ(Decide(Req(node_a_, "get", "persistentvolumeclaims", "shop", "claim-a")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "get", "persistentvolumeclaims", "shop", "claim-b")), Decision::kNoOpinion);
  std::string reason;
  EXPECT_EQ(Decide(Req(node_a_, "list", "persistentvolumeclaims", "shop", ""), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only get individual resources of this type");

  corev1::PersistentVolume pv;
  pv.mutable_metadata()->set_name("pv-1");
  pv.mutable_spec()->mutable_claimref()->set_namespace_("shop");
  pv.mutable_spec()->mutable_claimref()->set_name("claim-a");
  auto* csi = pv.mutable_spec()->mutable_persistentvolumesource()->mutable_csi();
  csi->set_driver("csi.example.com");
  csi->mutable_nodepublishsecretref()->set_namespace_("storage");
  csi->mutable_nodepublishsecretref()->set_name("csi-creds");
  graph_.UpsertPersistentVolume(pv);
  EXPECT_EQ(Decide(Req(node_a_, "get", "persistentvolumes", "", "pv-1")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_b_, "get", "persistentvolumes", "", "pv-1")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_a_, "get", "secrets", "storage", "csi-creds")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_b_, "get", "secrets", "storage", "csi-creds")), Decision::kNoOpinion);
  graph_.RemovePersistentVolume("pv-1");
  EXPECT_EQ(Decide(Req(node_a_, "get", "persistentvolumes", "", "pv-1")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_a_, "get", "secrets", "storage", "csi-creds")), Decision::kNoOpinion);
}

TEST_F(NodeAuthorizerTest, ServiceAccountTokensOnlyForItsPodsAccounts) {
  EXPECT_EQ(Decide(Req(node_a_, "create", "serviceaccounts", "shop", "sa-a", "", "token")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "get", "serviceaccounts", "shop", "sa-a")), Decision::kAllow);
  std::string reason;
  EXPECT_EQ(Decide(Req(node_a_, "create", "serviceaccounts", "shop", "sa-b", "", "token"), &reason),
            Decision::kNoOpinion);
  EXPECT_EQ(reason, "no relationship found between node 'node-a' and this object");
  EXPECT_EQ(Decide(Req(node_a_, "list", "serviceaccounts", "shop", ""), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only create tokens for individual service accounts");
  EXPECT_EQ(Decide(Req(node_a_, "create", "serviceaccounts", "shop", "sa-a"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only create token subresource of serviceaccount");
}

TEST_F(NodeAuthorizerTest, LeaseRules) {
  const std::string g = "coordination.k8s.io";
  for (const char* verb : {"get", "update", "patch", "delete"}) {
    EXPECT_EQ(Decide(Req(node_a_, verb, "leases", "kube-node-lease", "node-a", g)), Decision::kAllow) << verb;
  }
  // Create names the lease in the body; NodeRestriction checks it.
  EXPECT_EQ(Decide(Req(node_a_, "create", "leases", "kube-node-lease", "", g)), Decision::kAllow);
  std::string reason;
  EXPECT_EQ(Decide(Req(node_a_, "update", "leases", "kube-node-lease", "node-b", g), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only access node lease with the same name as the requesting node");
  EXPECT_EQ(Decide(Req(node_a_, "get", "leases", "kube-system", "node-a", g), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only access leases in the \"kube-node-lease\" system namespace");
  EXPECT_EQ(Decide(Req(node_a_, "list", "leases", "kube-node-lease", "", g), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "can only get, create, update, patch, or delete a node lease");
}

TEST_F(NodeAuthorizerTest, StaticNodeRules) {
  EXPECT_EQ(Decide(Req(node_a_, "get", "nodes", "", "node-a")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "watch", "pods", "", "")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "update", "pods", "shop", "web-b", "", "status")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "patch", "nodes", "", "node-a", "", "status")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "create", "pods", "shop", "web-a", "", "eviction")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "create", "events", "shop", "")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "create", "certificatesigningrequests", "", "", "certificates.k8s.io")),
            Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "create", "tokenreviews", "", "", "authentication.k8s.io")), Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "create", "subjectaccessreviews", "", "", "authorization.k8s.io")),
            Decision::kAllow);
  EXPECT_EQ(Decide(Req(node_a_, "get", "services", "shop", "web")), Decision::kAllow);
  // Not in the node's permission set: no opinion (RBAC decides).
  EXPECT_EQ(Decide(Req(node_a_, "update", "pods", "shop", "web-a")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_a_, "delete", "nodes", "", "node-a")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_a_, "create", "deployments", "shop", "", "apps")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(node_a_, "get", "pods", "shop", "web-a", "", "exec")), Decision::kNoOpinion);
  Attributes nonresource;
  nonresource.user = &node_a_;
  nonresource.verb = "get";
  nonresource.path = "/healthz";
  EXPECT_EQ(Decide(nonresource), Decision::kNoOpinion);
}

TEST_F(NodeAuthorizerTest, OnlyNodeIdentitiesAreJudged) {
  UserInfo alice{"alice", "", {"system:authenticated"}, {}};
  EXPECT_EQ(Decide(Req(alice, "get", "secrets", "shop", "secret-a")), Decision::kNoOpinion);
  // The name alone is not enough: the system:nodes group is required.
  UserInfo fake{"system:node:node-a", "", {"system:authenticated"}, {}};
  EXPECT_EQ(Decide(Req(fake, "get", "secrets", "shop", "secret-a")), Decision::kNoOpinion);
  EXPECT_EQ(Decide(Req(fake, "get", "nodes", "", "node-a")), Decision::kNoOpinion);
  UserInfo nameless{"system:node:", "", {"system:nodes"}, {}};
  std::string reason;
  EXPECT_EQ(Decide(Req(nameless, "get", "nodes", "", "x"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "unknown node for user \"system:node:\"");
  EXPECT_FALSE(IdentifyNode(alice).is_node);
  EXPECT_EQ(IdentifyNode(node_a_).name, "node-a");
}

TEST_F(NodeAuthorizerTest, ConcurrentReadersAndWriters) {
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  std::thread writer([&] {
    for (int i = 0; i < 2000; ++i) {
      graph_.UpsertPod(WorkPod("churn-" + std::to_string(i % 50), (i % 2) ? "node-c" : "node-d", "c"));
    }
    stop = true;
  });
  std::thread reader([&] {
    UserInfo other = NodeUser("node-z");
    while (!stop) {
      // A node with no pods never gets access, whatever the writer is doing.
      if (authz_.Authorize(Req(other, "get", "secrets", "shop", "secret-c"), nullptr) != Decision::kNoOpinion) ++wrong;
      // Unrelated pods are never disturbed.
      if (authz_.Authorize(Req(node_a_, "get", "secrets", "shop", "secret-a"), nullptr) != Decision::kAllow) ++wrong;
    }
  });
  writer.join();
  reader.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(graph_.pod_count(), 52u);
}

}  // namespace
}  // namespace ck::apiserver::node
