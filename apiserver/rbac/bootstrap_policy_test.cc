// The bootstrap policy: labels and annotations, every binding's role exists, the aggregated
// default roles hold their parts' rules, and the component identities get what they need.
#include <set>

#include <gtest/gtest.h>

#include "apiserver/rbac/aggregation.h"
#include "apiserver/rbac/bootstrap_policy.h"
#include "apiserver/rbac/rbac_authorizer.h"
#include "common/api/object.h"

namespace ck::apiserver::rbac {
namespace {

TEST(BootstrapPolicyTest, ObjectsAreLabelledAndConsistent) {
  auto objs = BootstrapPolicy();
  std::set<std::string> cluster_roles, roles;
  std::vector<const rbacv1::ClusterRole*> all;
  int crbs = 0, rbs = 0;
  for (auto& obj : objs) {
    const auto& meta = api::MetaOf(*obj);
    EXPECT_EQ(meta.labels().at("kubernetes.io/bootstrapping"), "rbac-defaults") << meta.name();
    EXPECT_EQ(meta.annotations().at("rbac.authorization.kubernetes.io/autoupdate"), "true") << meta.name();
    if (auto* cr = dynamic_cast<const rbacv1::ClusterRole*>(obj.get())) {
      EXPECT_TRUE(cluster_roles.insert(cr->metadata().name()).second) << "duplicate " << cr->metadata().name();
      all.push_back(cr);
    }
    if (auto* r = dynamic_cast<const rbacv1::Role*>(obj.get())) roles.insert(r->metadata().namespace_() + "/" + r->metadata().name());
  }
  for (auto& obj : objs) {
    if (auto* b = dynamic_cast<const rbacv1::ClusterRoleBinding*>(obj.get())) {
      ++crbs;
      EXPECT_TRUE(cluster_roles.count(b->roleref().name())) << b->metadata().name();
    }
    if (auto* b = dynamic_cast<const rbacv1::RoleBinding*>(obj.get())) {
      ++rbs;
      EXPECT_TRUE(roles.count(b->metadata().namespace_() + "/" + b->roleref().name())) << b->metadata().name();
    }
  }
  for (const char* name : {"cluster-admin", "admin", "edit", "view", "system:basic-user", "system:discovery",
                           "system:public-info-viewer", "system:monitoring", "system:auth-delegator",
                           "system:kube-scheduler", "system:volume-scheduler", "system:kube-controller-manager",
                           "system:node", "system:node-proxier", "system:kube-dns",
                           "system:service-account-issuer-discovery", "system:controller:service-account-controller",
                           "system:controller:root-ca-cert-publisher",
                           "system:controller:clusterrole-aggregation-controller",
                           "system:controller:replicaset-controller", "system:controller:deployment-controller",
                           "system:controller:statefulset-controller", "system:controller:daemon-set-controller",
                           "system:controller:endpoint-controller", "system:controller:endpointslice-controller",
                           "system:controller:node-controller", "system:controller:namespace-controller",
                           "system:controller:generic-garbage-collector", "system:controller:job-controller",
                           "system:controller:cronjob-controller", "system:controller:resourcequota-controller"}) {
    EXPECT_TRUE(cluster_roles.count(name)) << name;
  }
  EXPECT_TRUE(roles.count("kube-system/system::leader-locking-kube-scheduler"));
  EXPECT_TRUE(roles.count("kube-system/extension-apiserver-authentication-reader"));
  EXPECT_GT(crbs, 30);
  EXPECT_GE(rbs, 5);
  // admin/edit/view are at the aggregation fixed point.
  for (const auto* cr : all) {
    if (!cr->has_aggregationrule()) continue;
    Result<std::vector<PolicyRule>> rules = AggregatedRules(*cr, all);
    ASSERT_TRUE(rules.ok());
    EXPECT_TRUE(SameRules(rules.value(), cr->rules())) << cr->metadata().name();
    EXPECT_GT(cr->rules_size(), 5) << cr->metadata().name();
  }
}

TEST(BootstrapPolicyTest, NodeBindingHasNoSubjectsAndNodeRulesMatchTheRole) {
  for (auto& obj : BootstrapPolicy()) {
    if (auto* b = dynamic_cast<const rbacv1::ClusterRoleBinding*>(obj.get()); b && b->metadata().name() == "system:node") {
      EXPECT_EQ(b->subjects_size(), 0);
    }
    if (auto* r = dynamic_cast<const rbacv1::ClusterRole*>(obj.get()); r && r->metadata().name() == "system:node") {
      EXPECT_TRUE(SameRules(NodeRules(), r->rules()));
    }
  }
}

TEST(BootstrapPolicyTest, ComponentIdentities) {
  RbacAuthorizer authz;
  for (auto& obj : BootstrapPolicy()) ASSERT_TRUE(authz.Upsert(*obj));
  auto can = [&](const UserInfo& u, std::string verb, std::string group, std::string resource, std::string ns,
                 std::string name = "") {
    Attributes a;
    a.user = &u;
    a.verb = std::move(verb);
    a.resource_request = true;
    a.api_group = std::move(group);
    a.resource = std::move(resource);
    a.namespace_ = std::move(ns);
    a.name = std::move(name);
    std::string reason;
    return authz.Authorize(a, &reason) == Decision::kAllow;
  };
  UserInfo kcm{"system:kube-controller-manager", "", {"system:authenticated"}, {}};
  EXPECT_TRUE(can(kcm, "list", "apps", "deployments", ""));
  EXPECT_TRUE(can(kcm, "update", "coordination.k8s.io", "leases", "kube-system", "kube-controller-manager"));
  // ck-controller-manager runs its controllers as itself, so it holds their roles (the ReplicaSet
  // controller deletes pods) and nothing beyond them.
  EXPECT_TRUE(can(kcm, "delete", "", "pods", "default", "p"));
  EXPECT_FALSE(can(kcm, "create", "rbac.authorization.k8s.io", "clusterrolebindings", ""));
  EXPECT_FALSE(can(kcm, "impersonate", "", "users", "", "x"));
  UserInfo sa_ctl{"system:serviceaccount:kube-system:service-account-controller", "",
                  {"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}, {}};
  EXPECT_TRUE(can(sa_ctl, "create", "", "serviceaccounts", "team-a"));
  EXPECT_FALSE(can(sa_ctl, "delete", "", "serviceaccounts", "team-a", "default"));
  UserInfo publisher{"system:serviceaccount:kube-system:root-ca-cert-publisher", "",
                     {"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}, {}};
  EXPECT_TRUE(can(publisher, "update", "", "configmaps", "team-a", "kube-root-ca.crt"));
  UserInfo agg{"system:serviceaccount:kube-system:clusterrole-aggregation-controller", "",
               {"system:serviceaccounts", "system:serviceaccounts:kube-system"}, {}};
  EXPECT_TRUE(can(agg, "escalate", "rbac.authorization.k8s.io", "clusterroles", "", "admin"));
}

}  // namespace
}  // namespace ck::apiserver::rbac
