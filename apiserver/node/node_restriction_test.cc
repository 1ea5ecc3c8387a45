#include "apiserver/node/node_restriction.h"

#include <gtest/gtest.h>

#include "apiserver/admission/testing/fake_source.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/testing/builders.h"

namespace ck::apiserver::node {
namespace {

using admission::Attributes;
using admission::Context;
using admission::Operation;
using api::testing::NodeBuilder;
using api::testing::PodBuilder;
namespace corev1 = ::k8s::io::api::core::v1;

UserInfo NodeUser(const std::string& node) {
  return UserInfo{"system:node:" + node, "", {"system:nodes", "system:authenticated"}, {}};
}

class NodeRestrictionTest : public ::testing::Test {
 protected:
  NodeRestrictionTest() : plugin_(&source_) {
    corev1::Node a = NodeBuilder("node-a");
    a.mutable_metadata()->set_uid("uid-node-a");
    source_.Put("nodes", a);
    source_.Put("pods", pod_a_);
    source_.Put("pods", pod_b_);
  }

  Attributes Attr(Operation op, std::string resource, std::string ns, std::string name, std::string sub = "",
                  std::string group = "") {
    Attributes a;
    a.operation = op;
    a.resource = FindResource(group, group.empty() ? "v1" : (group == "coordination.k8s.io" ? "v1" : "v1"), resource);
    EXPECT_NE(a.resource, nullptr) << resource;
    a.subresource = std::move(sub);
    a.namespace_ = std::move(ns);
    a.name = std::move(name);
    a.user = &user_a_;
    return a;
  }
  Status Run(const Attributes& a) {
    Context ctx;
    return plugin_.Validate(a, ctx);
  }

  admission::testing::FakeObjectSource source_;
  NodeRestriction plugin_;
  UserInfo user_a_ = NodeUser("node-a");
  corev1::Pod pod_a_ = PodBuilder("web-a").Namespace("shop").Uid("uid-web-a").Node("node-a").Container("app");
  corev1::Pod pod_b_ = PodBuilder("web-b").Namespace("shop").Uid("uid-web-b").Node("node-b").Container("app");
};

TEST_F(NodeRestrictionTest, PodStatusOnlyForItsOwnPods) {
  corev1::Pod updated = pod_a_;
  updated.mutable_status()->set_phase("Running");
  Attributes a = Attr(Operation::kUpdate, "pods", "shop", "web-a", "status");
  a.object = &updated;
  a.old_object = &pod_a_;
  EXPECT_TRUE(Run(a).ok());

  corev1::Pod other = pod_b_;
  other.mutable_status()->set_phase("Failed");
  Attributes b = Attr(Operation::kUpdate, "pods", "shop", "web-b", "status");
  b.object = &other;
  b.old_object = &pod_b_;
  Status s = Run(b);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "pods \"web-b\" is forbidden: node \"node-a\" can only update pod status for pods with spec.nodeName "
            "set to itself");

  // Labels cannot change through status.
  corev1::Pod relabeled = pod_a_;
  (*relabeled.mutable_metadata()->mutable_labels())["role"] = "db";
  a.object = &relabeled;
  EXPECT_EQ(Run(a).message(), "pods \"web-a\" is forbidden: node \"node-a\" cannot update labels through pod status");
}

TEST_F(NodeRestrictionTest, OtherUsersAreNotRestricted) {
  UserInfo admin{"admin", "", {"system:masters"}, {}};
  corev1::Pod other = pod_b_;
  Attributes b = Attr(Operation::kUpdate, "pods", "shop", "web-b", "status");
  b.user = &admin;
  b.object = &other;
  b.old_object = &pod_b_;
  EXPECT_TRUE(Run(b).ok());
}

TEST_F(NodeRestrictionTest, PodWritesOtherThanMirrorCreateAndDelete) {
  Attributes del = Attr(Operation::kDelete, "pods", "shop", "web-a");
  del.old_object = &pod_a_;
  EXPECT_TRUE(Run(del).ok());
  Attributes del_b = Attr(Operation::kDelete, "pods", "shop", "web-b");
  EXPECT_EQ(Run(del_b).message(),
            "pods \"web-b\" is forbidden: node \"node-a\" can only delete pods with spec.nodeName set to itself");
  Attributes gone = Attr(Operation::kDelete, "pods", "shop", "nope");
  EXPECT_EQ(Run(gone).code(), Code::kNotFound);

  corev1::Pod changed = pod_a_;
  Attributes upd = Attr(Operation::kUpdate, "pods", "shop", "web-a");
  upd.object = &changed;
  upd.old_object = &pod_a_;
  EXPECT_EQ(Run(upd).message(),
            "pods \"web-a\" is forbidden: unexpected operation \"UPDATE\", node \"node-a\" can only create and "
            "delete mirror pods");
  Attributes exec = Attr(Operation::kConnect, "pods", "shop", "web-a", "exec");
  EXPECT_TRUE(Run(exec).ok());
}

TEST_F(NodeRestrictionTest, MirrorPodCreate) {
  auto mirror = [](const std::string& node, const std::string& uid) {
    corev1::Pod p = PodBuilder("static-web-node-a")
                        .Namespace("kube-system")
                        .Annotation("kubernetes.io/config.mirror", "hash")
                        .OwnerRef("Node", node, uid)
                        .Node(node)
                        .Container("web");
    p.mutable_metadata()->mutable_ownerreferences(0)->set_apiversion("v1");
    p.mutable_metadata()->mutable_ownerreferences(0)->clear_blockownerdeletion();
    return p;
  };
  corev1::Pod ok = mirror("node-a", "uid-node-a");
  Attributes a = Attr(Operation::kCreate, "pods", "kube-system", "");
  a.object = &ok;
  EXPECT_TRUE(Run(a).ok()) << Run(a).message();

  corev1::Pod blocking = mirror("node-a", "uid-node-a");
  blocking.mutable_metadata()->mutable_ownerreferences(0)->set_blockownerdeletion(true);
  a.object = &blocking;
  EXPECT_EQ(Run(a).message(),
            "pods \"static-web-node-a\" is forbidden: node \"node-a\" must not set blockOwnerDeletion on an owner "
            "reference");

  corev1::Pod plain = PodBuilder("plain").Namespace("kube-system").Node("node-a").Container("web");
  a.object = &plain;
  EXPECT_EQ(Run(a).message(),
            "pods \"plain\" is forbidden: pod does not have \"kubernetes.io/config.mirror\" annotation, node "
            "\"node-a\" can only create mirror pods");

  corev1::Pod elsewhere = mirror("node-b", "uid-node-a");
  a.object = &elsewhere;
  EXPECT_EQ(Run(a).message(),
            "pods \"static-web-node-a\" is forbidden: node \"node-a\" can only create pods with spec.nodeName set to "
            "itself");

  corev1::Pod wrong_uid = mirror("node-a", "uid-other");
  a.object = &wrong_uid;
  EXPECT_EQ(Run(a).message(),
            "pods \"static-web-node-a\" is forbidden: node node-a UID mismatch: expected uid-other got uid-node-a");

  corev1::Pod with_secret = mirror("node-a", "uid-node-a");
  auto* v = with_secret.mutable_spec()->add_volumes();
  v->set_name("s");
  v->mutable_volumesource()->mutable_secret()->set_secretname("db-pass");
  a.object = &with_secret;
  EXPECT_EQ(Run(a).message(),
            "pods \"static-web-node-a\" is forbidden: node \"node-a\" can not create pods that reference secrets");

  corev1::Pod with_sa = mirror("node-a", "uid-node-a");
  with_sa.mutable_spec()->set_serviceaccountname("default");
  a.object = &with_sa;
  EXPECT_EQ(Run(a).message(),
            "pods \"static-web-node-a\" is forbidden: node \"node-a\" can not create pods that reference a service "
            "account");
}

TEST_F(NodeRestrictionTest, OnlyItsOwnNode) {
  corev1::Node old_a = NodeBuilder("node-a").Label("kubernetes.io/hostname", "node-a").Taint("gpu", "yes", "NoSchedule");
  corev1::Node new_a = old_a;
  new_a.mutable_status()->add_conditions()->set_type("Ready");
  Attributes a = Attr(Operation::kUpdate, "nodes", "", "node-a", "status");
  a.object = &new_a;
  a.old_object = &old_a;
  EXPECT_TRUE(Run(a).ok());

  corev1::Node old_b = NodeBuilder("node-b");
  corev1::Node new_b = old_b;
  Attributes b = Attr(Operation::kUpdate, "nodes", "", "node-b");
  b.object = &new_b;
  b.old_object = &old_b;
  EXPECT_EQ(Run(b).message(), "nodes \"node-b\" is forbidden: node \"node-a\" is not allowed to modify node \"node-b\"");
  Attributes create_b = Attr(Operation::kCreate, "nodes", "", "");
  create_b.object = &new_b;
  EXPECT_EQ(Run(create_b).message(),
            "nodes \"node-b\" is forbidden: node \"node-a\" is not allowed to modify node \"node-b\"");

  // Taints are not the kubelet's to change.
  corev1::Node untainted = old_a;
  untainted.mutable_spec()->clear_taints();
  a.subresource = "";
  a.object = &untainted;
  EXPECT_EQ(Run(a).message(), "nodes \"node-a\" is forbidden: node \"node-a\" is not allowed to modify taints");

  // Labels: kubelet labels are fine; node-restriction.kubernetes.io/ and unknown kubernetes.io are not.
  corev1::Node relabeled = old_a;
  (*relabeled.mutable_metadata()->mutable_labels())["node.kubernetes.io/instance-type"] = "big";
  (*relabeled.mutable_metadata()->mutable_labels())["example.com/team"] = "web";
  a.object = &relabeled;
  EXPECT_TRUE(Run(a).ok());
  (*relabeled.mutable_metadata()->mutable_labels())["node-restriction.kubernetes.io/pci"] = "true";
  (*relabeled.mutable_metadata()->mutable_labels())["node-role.kubernetes.io/control-plane"] = "";
  EXPECT_EQ(Run(a).message(),
            "nodes \"node-a\" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pci, "
            "node-role.kubernetes.io/control-plane");

  corev1::Node fresh = NodeBuilder("node-a").Label("node-restriction.kubernetes.io/pci", "true");
  Attributes create = Attr(Operation::kCreate, "nodes", "", "");
  create.object = &fresh;
  EXPECT_EQ(Run(create).message(),
            "nodes \"node-a\" is forbidden: node \"node-a\" is not allowed to set the following labels: "
            "node-restriction.kubernetes.io/pci");
  EXPECT_TRUE(IsKubeletLabel("kubernetes.io/os"));
  EXPECT_TRUE(IsKubeletLabel("x.kubelet.kubernetes.io/a"));
  EXPECT_FALSE(IsKubeletLabel("node-role.kubernetes.io/worker"));
}

TEST_F(NodeRestrictionTest, OnlyItsOwnLease) {
  k8s::io::api::coordination::v1::Lease lease;
  lease.mutable_metadata()->set_name("node-a");
  lease.mutable_metadata()->set_namespace_("kube-node-lease");
  Attributes create = Attr(Operation::kCreate, "leases", "kube-node-lease", "", "", "coordination.k8s.io");
  create.object = &lease;
  EXPECT_TRUE(Run(create).ok());
  lease.mutable_metadata()->set_name("node-b");
  EXPECT_EQ(Run(create).message(),
            "leases.coordination.k8s.io \"node-b\" is forbidden: can only access node lease with the same name as "
            "the requesting node");
  Attributes upd = Attr(Operation::kUpdate, "leases", "kube-node-lease", "node-b", "", "coordination.k8s.io");
  upd.object = &lease;
  EXPECT_EQ(Run(upd).code(), Code::kForbidden);
  Attributes other_ns = Attr(Operation::kUpdate, "leases", "kube-system", "node-a", "", "coordination.k8s.io");
  EXPECT_EQ(Run(other_ns).message(),
            "leases.coordination.k8s.io \"node-a\" is forbidden: can only access leases in the \"kube-node-lease\" "
            "system namespace");
}

TEST_F(NodeRestrictionTest, EvictionOnlyOfItsOwnPods) {
  k8s::io::api::policy::v1::Eviction ev;
  Attributes a = Attr(Operation::kCreate, "pods", "shop", "web-a", "eviction");
  a.object = &ev;
  EXPECT_TRUE(Run(a).ok());
  Attributes b = Attr(Operation::kCreate, "pods", "shop", "web-b", "eviction");
  b.object = &ev;
  EXPECT_EQ(Run(b).message(),
            "pods \"web-b\" is forbidden: node node-a can only evict pods with spec.nodeName set to itself");
}

TEST_F(NodeRestrictionTest, TokensOnlyForItsOwnPods) {
  k8s::io::api::authentication::v1::TokenRequest tr;
  auto* ref = tr.mutable_spec()->mutable_boundobjectref();
  ref->set_apiversion("v1");
  ref->set_kind("Pod");
  ref->set_name("web-a");
  ref->set_uid("uid-web-a");
  Attributes a = Attr(Operation::kCreate, "serviceaccounts", "shop", "default", "token");
  a.object = &tr;
  EXPECT_TRUE(Run(a).ok());
  ref->set_uid("stale");
  EXPECT_EQ(Run(a).message(),
            "serviceaccounts \"default\" is forbidden: the UID in the bound object reference (stale) does not match "
            "the UID in record. The object might have been deleted and then recreated");
  ref->set_name("web-b");
  ref->set_uid("uid-web-b");
  EXPECT_EQ(Run(a).message(),
            "serviceaccounts \"default\" is forbidden: node requested token bound to a pod scheduled on a different "
            "node");
  tr.mutable_spec()->clear_boundobjectref();
  EXPECT_EQ(Run(a).message(), "serviceaccounts \"default\" is forbidden: node requested token not bound to a pod");
}

}  // namespace
}  // namespace ck::apiserver::node
