// Escalation prevention: creating or binding roles beyond what one holds fails with upstream's
// message; `escalate`, `bind` (with resourceNames) and system:masters open the way.
#include <gtest/gtest.h>

#include "apiserver/rbac/escalation.h"

namespace ck::apiserver::rbac {
namespace {

rbacv1::Role MakeRole(const std::string& ns, const std::string& name, std::vector<PolicyRule> rules) {
  rbacv1::Role r;
  r.mutable_metadata()->set_namespace_(ns);
  r.mutable_metadata()->set_name(name);
  for (auto& rule : rules) *r.add_rules() = rule;
  return r;
}

rbacv1::ClusterRole MakeClusterRole(const std::string& name, std::vector<PolicyRule> rules) {
  rbacv1::ClusterRole r;
  r.mutable_metadata()->set_name(name);
  for (auto& rule : rules) *r.add_rules() = rule;
  return r;
}

template <typename B>
B MakeBinding(const std::string& ns, const std::string& name, const std::string& role_kind, const std::string& role,
              const std::string& user) {
  B b;
  if (!ns.empty()) b.mutable_metadata()->set_namespace_(ns);
  b.mutable_metadata()->set_name(name);
  b.mutable_roleref()->set_apigroup("rbac.authorization.k8s.io");
  b.mutable_roleref()->set_kind(role_kind);
  b.mutable_roleref()->set_name(role);
  auto* s = b.add_subjects();
  s->set_kind("User");
  s->set_name(user);
  return b;
}

class EscalationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // alice may manage Roles and RoleBindings in ns1 and read pods there.
    Add(MakeClusterRole("role-manager", {MakeRule({"get", "list", "watch", "create", "update", "patch", "delete"},
                                                  {"rbac.authorization.k8s.io"}, {"roles", "rolebindings"}),
                                         MakeRule({"get", "list"}, {""}, {"pods"})}));
    Add(MakeBinding<rbacv1::RoleBinding>("ns1", "alice-manager", "ClusterRole", "role-manager", "alice"));
    // The roles alice might hand out.
    Add(MakeClusterRole("pod-deleter", {MakeRule({"delete"}, {""}, {"pods"})}));
    Add(MakeClusterRole("pod-lister", {MakeRule({"list"}, {""}, {"pods"})}));
    Add(MakeRole("ns1", "secret-reader", {MakeRule({"get"}, {""}, {"secrets"})}));
  }
  void Add(const google::protobuf::Message& m) { ASSERT_TRUE(authz_.Upsert(m)); }

  RbacAuthorizer authz_;
  UserInfo alice_{"alice", "", {"devs", "system:authenticated"}, {}};
};

TEST_F(EscalationTest, RoleWithinHeldPermissionsPasses) {
  rbacv1::Role role = MakeRole("ns1", "pod-reader", {MakeRule({"get"}, {""}, {"pods"})});
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, role, "ns1").ok());
  // Several verbs held across rules; list is covered too.
  rbacv1::Role two = MakeRole("ns1", "pods-get-list", {MakeRule({"get", "list"}, {""}, {"pods"})});
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, two, "ns1").ok());
}

TEST_F(EscalationTest, RoleBeyondHeldPermissionsFailsWithUpstreamMessage) {
  rbacv1::Role role = MakeRole("ns1", "too-much",
                               {MakeRule({"get", "delete"}, {""}, {"pods"}), MakeRule({"get"}, {""}, {"secrets"})});
  Status st = CheckEscalation(authz_, authz_, alice_, role, "ns1");
  ASSERT_EQ(st.code(), Code::kForbidden);
  EXPECT_EQ(st.message(),
            "roles.rbac.authorization.k8s.io \"too-much\" is forbidden: user \"alice\" (groups=[\"devs\" "
            "\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"
            "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}\n"
            "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}");
  // What alice holds in ns1 she does not hold in ns2.
  rbacv1::Role elsewhere = MakeRole("ns2", "pod-reader", {MakeRule({"get"}, {""}, {"pods"})});
  EXPECT_EQ(CheckEscalation(authz_, authz_, alice_, elsewhere, "ns2").code(), Code::kForbidden);
}

TEST_F(EscalationTest, EscalateVerbAllowsAnyRole) {
  rbacv1::Role role = MakeRole("ns1", "too-much", {MakeRule({"*"}, {"*"}, {"*"})});
  ASSERT_FALSE(CheckEscalation(authz_, authz_, alice_, role, "ns1").ok());
  Add(MakeClusterRole("escalator", {MakeRule({"escalate"}, {"rbac.authorization.k8s.io"}, {"roles"})}));
  Add(MakeBinding<rbacv1::RoleBinding>("ns1", "alice-escalate", "ClusterRole", "escalator", "alice"));
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, role, "ns1").ok());
  // escalate on roles in ns1 does not reach clusterroles.
  rbacv1::ClusterRole cr = MakeClusterRole("big", {MakeRule({"*"}, {"*"}, {"*"})});
  Status st = CheckEscalation(authz_, authz_, alice_, cr, "");
  ASSERT_EQ(st.code(), Code::kForbidden);
  EXPECT_NE(st.message().find("clusterroles.rbac.authorization.k8s.io \"big\" is forbidden"), std::string::npos);
}

TEST_F(EscalationTest, EscalateWithResourceNamesAppliesOnUpdateOnly) {
  Add(MakeClusterRole("named-escalator",
                      {MakeRule({"escalate"}, {"rbac.authorization.k8s.io"}, {"roles"}, {"too-much"})}));
  Add(MakeBinding<rbacv1::RoleBinding>("ns1", "alice-named", "ClusterRole", "named-escalator", "alice"));
  rbacv1::Role role = MakeRole("ns1", "too-much", {MakeRule({"delete"}, {""}, {"pods"})});
  // A create carries no name in the request (upstream RoleEscalationAuthorized), so resourceNames do not match.
  EXPECT_EQ(CheckEscalation(authz_, authz_, alice_, role, "ns1").code(), Code::kForbidden);
  rbacv1::Role old = MakeRole("ns1", "too-much", {});
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, role, "ns1", &old).ok());
  rbacv1::Role other = MakeRole("ns1", "other", {MakeRule({"delete"}, {""}, {"pods"})});
  rbacv1::Role other_old = MakeRole("ns1", "other", {});
  EXPECT_EQ(CheckEscalation(authz_, authz_, alice_, other, "ns1", &other_old).code(), Code::kForbidden);
}

TEST_F(EscalationTest, BindingToRoleNotHeldFails) {
  auto b = MakeBinding<rbacv1::RoleBinding>("ns1", "bob-deleter", "ClusterRole", "pod-deleter", "bob");
  Status st = CheckEscalation(authz_, authz_, alice_, b, "ns1");
  ASSERT_EQ(st.code(), Code::kForbidden);
  EXPECT_EQ(st.message(),
            "rolebindings.rbac.authorization.k8s.io \"bob-deleter\" is forbidden: user \"alice\" (groups=[\"devs\" "
            "\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"
            "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}");
  // A role alice holds entirely can be bound without `bind`.
  auto ok = MakeBinding<rbacv1::RoleBinding>("ns1", "bob-lister", "ClusterRole", "pod-lister", "bob");
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, ok, "ns1").ok());
  // A binding to a role that does not exist.
  auto missing = MakeBinding<rbacv1::RoleBinding>("ns1", "bob-missing", "Role", "nope", "bob");
  st = CheckEscalation(authz_, authz_, alice_, missing, "ns1");
  ASSERT_EQ(st.code(), Code::kForbidden);
  EXPECT_EQ(st.message(), "rolebindings.rbac.authorization.k8s.io \"bob-missing\" is forbidden: "
                          "role.rbac.authorization.k8s.io \"nope\" not found");
}

TEST_F(EscalationTest, BindVerbWithResourceNames) {
  Add(MakeClusterRole("binder", {MakeRule({"bind"}, {"rbac.authorization.k8s.io"}, {"clusterroles"}, {"pod-deleter"})}));
  Add(MakeBinding<rbacv1::RoleBinding>("ns1", "alice-binder", "ClusterRole", "binder", "alice"));
  auto b = MakeBinding<rbacv1::RoleBinding>("ns1", "bob-deleter", "ClusterRole", "pod-deleter", "bob");
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, b, "ns1").ok());
  // The name restricts: another cluster role alice does not hold stays out of reach.
  Add(MakeClusterRole("node-admin", {MakeRule({"*"}, {""}, {"nodes"})}));
  auto other = MakeBinding<rbacv1::RoleBinding>("ns1", "bob-nodes", "ClusterRole", "node-admin", "bob");
  EXPECT_EQ(CheckEscalation(authz_, authz_, alice_, other, "ns1").code(), Code::kForbidden);
  // bind granted in ns1 does not allow the binding in ns2, nor a ClusterRoleBinding.
  auto ns2 = MakeBinding<rbacv1::RoleBinding>("ns2", "bob-deleter", "ClusterRole", "pod-deleter", "bob");
  EXPECT_EQ(CheckEscalation(authz_, authz_, alice_, ns2, "ns2").code(), Code::kForbidden);
  auto crb = MakeBinding<rbacv1::ClusterRoleBinding>("", "bob-deleter", "ClusterRole", "pod-deleter", "bob");
  Status st = CheckEscalation(authz_, authz_, alice_, crb, "");
  ASSERT_EQ(st.code(), Code::kForbidden);
  EXPECT_NE(st.message().find("clusterrolebindings.rbac.authorization.k8s.io \"bob-deleter\" is forbidden"),
            std::string::npos);
}

TEST_F(EscalationTest, SystemMastersBypass) {
  UserInfo root{"root", "", {"system:masters"}, {}};
  rbacv1::ClusterRole cr = MakeClusterRole("anything", {MakeRule({"*"}, {"*"}, {"*"})});
  EXPECT_TRUE(CheckEscalation(authz_, authz_, root, cr, "").ok());
  auto crb = MakeBinding<rbacv1::ClusterRoleBinding>("", "x", "ClusterRole", "anything", "bob");
  EXPECT_TRUE(CheckEscalation(authz_, authz_, root, crb, "").ok());
}

TEST_F(EscalationTest, AggregationRuleNeedsFullAuthority) {
  // bob may write every resource (not `escalate`) but holds no non-resource URL: not enough for
  // an aggregationRule.
  Add(MakeClusterRole("all-resources",
                      {MakeRule({"get", "list", "watch", "create", "update", "patch", "delete"}, {"*"}, {"*"})}));
  Add(MakeBinding<rbacv1::ClusterRoleBinding>("", "bob-all", "ClusterRole", "all-resources", "bob"));
  UserInfo bob{"bob", "", {}, {}};
  rbacv1::ClusterRole plain = MakeClusterRole("plain", {MakeRule({"get"}, {""}, {"pods"})});
  EXPECT_TRUE(CheckEscalation(authz_, authz_, bob, plain, "").ok());
  rbacv1::ClusterRole agg = MakeClusterRole("agg", {});
  (*agg.mutable_aggregationrule()->add_clusterroleselectors()->mutable_matchlabels())["x"] = "true";
  Status st = CheckEscalation(authz_, authz_, bob, agg, "");
  ASSERT_EQ(st.code(), Code::kForbidden);
  EXPECT_EQ(st.message(), "clusterroles.rbac.authorization.k8s.io \"agg\" is forbidden: must have cluster-admin "
                          "privileges to use the aggregationRule");
}

TEST_F(EscalationTest, GarbageCollectorOnlyUpdatePasses) {
  rbacv1::Role old = MakeRole("ns1", "too-much", {MakeRule({"*"}, {"*"}, {"*"})});
  rbacv1::Role updated = old;
  updated.mutable_metadata()->add_finalizers("example.com/hold");
  EXPECT_TRUE(CheckEscalation(authz_, authz_, alice_, updated, "ns1", &old).ok());
  updated.mutable_metadata()->mutable_labels()->insert({"a", "b"});
  EXPECT_EQ(CheckEscalation(authz_, authz_, alice_, updated, "ns1", &old).code(), Code::kForbidden);
}

TEST(CoversTest, WildcardsAndSubresources) {
  std::vector<PolicyRule> owner = {MakeRule({"*"}, {""}, {"pods"}), MakeRule({"get"}, {"apps"}, {"*/scale"}),
                                   MakeUrlRule({"get"}, {"/healthz/*"})};
  EXPECT_TRUE(Covers(owner, {MakeRule({"get", "delete"}, {""}, {"pods"})}, nullptr));
  EXPECT_TRUE(Covers(owner, {MakeRule({"get"}, {"apps"}, {"deployments/scale"})}, nullptr));
  EXPECT_TRUE(Covers(owner, {MakeUrlRule({"get"}, {"/healthz/etcd"})}, nullptr));
  EXPECT_FALSE(Covers(owner, {MakeUrlRule({"get"}, {"/healthz"})}, nullptr));
  EXPECT_FALSE(Covers(owner, {MakeRule({"get"}, {""}, {"pods/log"})}, nullptr));
  EXPECT_FALSE(Covers(owner, {MakeRule({"update"}, {"apps"}, {"deployments/scale"})}, nullptr));
  // resourceNames: an owner restricted to names covers only those names.
  std::vector<PolicyRule> named = {MakeRule({"get"}, {""}, {"configmaps"}, {"a", "b"})};
  EXPECT_TRUE(Covers(named, {MakeRule({"get"}, {""}, {"configmaps"}, {"a"})}, nullptr));
  EXPECT_FALSE(Covers(named, {MakeRule({"get"}, {""}, {"configmaps"})}, nullptr));
  std::vector<PolicyRule> missing;
  EXPECT_FALSE(Covers(named, {MakeRule({"get", "list"}, {""}, {"configmaps"}, {"a", "c"})}, &missing));
  EXPECT_EQ(missing.size(), 3u);  // get c, list a, list c
  std::vector<PolicyRule> compact = CompactRules(missing);
  ASSERT_EQ(compact.size(), 2u);
  EXPECT_EQ(CompactString(compact[0]), R"({APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["list"]})");
  EXPECT_EQ(CompactString(compact[1]),
            R"({APIGroups:[""], Resources:["configmaps"], ResourceNames:["c"], Verbs:["get" "list"]})");
}

}  // namespace
}  // namespace ck::apiserver::rbac
