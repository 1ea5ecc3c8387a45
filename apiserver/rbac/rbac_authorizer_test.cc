// RbacAuthorizer: updates and removals keep the subject index right, RulesFor (can-i --list),
// concurrent reads during writes, and the cost of one decision among 1,000 bindings.
#include <atomic>
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "apiserver/rbac/bootstrap_policy.h"
#include "apiserver/rbac/rbac_authorizer.h"

namespace ck::apiserver::rbac {
namespace {

rbacv1::ClusterRole ClusterRole(const std::string& name, std::vector<PolicyRule> rules) {
  rbacv1::ClusterRole r;
  r.mutable_metadata()->set_name(name);
  for (auto& rule : rules) *r.add_rules() = rule;
  return r;
}

rbacv1::RoleBinding RoleBinding(const std::string& ns, const std::string& name, const std::string& kind,
                                const std::string& role, std::vector<std::pair<std::string, std::string>> subjects) {
  rbacv1::RoleBinding b;
  b.mutable_metadata()->set_namespace_(ns);
  b.mutable_metadata()->set_name(name);
  b.mutable_roleref()->set_kind(kind);
  b.mutable_roleref()->set_name(role);
  for (auto& [k, n] : subjects) {
    auto* s = b.add_subjects();
    s->set_kind(k);
    s->set_name(n);
  }
  return b;
}

Attributes Get(const UserInfo* u, std::string resource, std::string ns, std::string name = "x") {
  Attributes a;
  a.user = u;
  a.verb = "get";
  a.resource_request = true;
  a.resource = std::move(resource);
  a.namespace_ = std::move(ns);
  a.name = std::move(name);
  return a;
}

TEST(RbacAuthorizerTest, UpsertReplacesAndRemoveForgets) {
  RbacAuthorizer authz;
  ASSERT_TRUE(authz.Upsert(ClusterRole("reader", {MakeRule({"get"}, {""}, {"pods"})})));
  ASSERT_TRUE(authz.Upsert(RoleBinding("ns1", "b", "ClusterRole", "reader", {{"User", "ann"}})));
  UserInfo ann{"ann", "", {}, {}}, ben{"ben", "", {"team"}, {}};
  std::string reason;
  EXPECT_EQ(authz.Authorize(Get(&ann, "pods", "ns1"), &reason), Decision::kAllow);
  EXPECT_EQ(authz.Authorize(Get(&ann, "pods", "ns2"), &reason), Decision::kNoOpinion);
  // Same binding, new subjects: ann loses access, group team gains it.
  ASSERT_TRUE(authz.Upsert(RoleBinding("ns1", "b", "ClusterRole", "reader", {{"Group", "team"}})));
  EXPECT_EQ(authz.Authorize(Get(&ann, "pods", "ns1"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(authz.Authorize(Get(&ben, "pods", "ns1"), &reason), Decision::kAllow);
  EXPECT_EQ(reason, R"(RBAC: allowed by RoleBinding "b/ns1" of ClusterRole "reader" to Group "team")");
  // Role rules change in place.
  ASSERT_TRUE(authz.Upsert(ClusterRole("reader", {MakeRule({"get"}, {""}, {"secrets"})})));
  EXPECT_EQ(authz.Authorize(Get(&ben, "pods", "ns1"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(authz.Authorize(Get(&ben, "secrets", "ns1"), &reason), Decision::kAllow);
  authz.Remove("ClusterRole", "", "reader");
  EXPECT_EQ(authz.Authorize(Get(&ben, "secrets", "ns1"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, R"(RBAC: clusterrole.rbac.authorization.k8s.io "reader" not found)");
  authz.Remove("RoleBinding", "ns1", "b");
  EXPECT_EQ(authz.Authorize(Get(&ben, "secrets", "ns1"), &reason), Decision::kNoOpinion);
  EXPECT_EQ(reason, "");
  EXPECT_EQ(authz.binding_count(), 0u);
  authz.Remove("RoleBinding", "ns1", "b");  // unknown: ignored
  rbacv1::Subject not_rbac;
  EXPECT_FALSE(authz.Upsert(not_rbac));
}

TEST(RbacAuthorizerTest, RulesForListsWhatCanIListShows) {
  RbacAuthorizer authz;
  for (auto& obj : BootstrapPolicy()) ASSERT_TRUE(authz.Upsert(*obj));
  ASSERT_TRUE(authz.Upsert(ClusterRole("pod-reader", {MakeRule({"get", "list"}, {""}, {"pods"}, {}),
                                                      MakeUrlRule({"get"}, {"/logs/*"})})));
  ASSERT_TRUE(authz.Upsert(RoleBinding("dev", "read", "ClusterRole", "pod-reader", {{"User", "jane"}})));
  ASSERT_TRUE(authz.Upsert(RoleBinding("dev", "broken", "Role", "missing", {{"User", "jane"}})));
  UserInfo jane{"jane", "", {"system:authenticated"}, {}};

  RulesReview dev = authz.RulesFor(jane, "dev");
  // system:basic-user (2 resource rules), system:discovery and system:public-info-viewer (URLs),
  // then the RoleBinding's pod rule and /logs/* rule.
  ASSERT_EQ(dev.resource_rules.size(), 3u);
  EXPECT_EQ(CompactString(dev.resource_rules[0]),
            R"({APIGroups:["authorization.k8s.io"], Resources:["selfsubjectaccessreviews" "selfsubjectrulesreviews"], Verbs:["create"]})");
  EXPECT_EQ(CompactString(dev.resource_rules[2]), R"({APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]})");
  ASSERT_EQ(dev.non_resource_rules.size(), 3u);
  EXPECT_EQ(CompactString(dev.non_resource_rules[2]), R"({NonResourceURLs:["/logs/*"], Verbs:["get"]})");
  EXPECT_FALSE(dev.incomplete);
  EXPECT_EQ(dev.evaluation_error, R"(role.rbac.authorization.k8s.io "missing" not found)");

  RulesReview other = authz.RulesFor(jane, "prod");
  EXPECT_EQ(other.resource_rules.size(), 2u);
  EXPECT_EQ(other.non_resource_rules.size(), 2u);
  EXPECT_EQ(other.evaluation_error, "");

  UserInfo root{"root", "", {"system:masters", "system:authenticated"}, {}};
  RulesReview all = authz.RulesFor(root, "");
  bool star = false;
  for (const PolicyRule& r : all.resource_rules) star |= CompactString(r) == R"({APIGroups:["*"], Resources:["*"], Verbs:["*"]})";
  EXPECT_TRUE(star);
}

TEST(RbacAuthorizerTest, ConcurrentReadsDuringUpdates) {
  RbacAuthorizer authz;
  ASSERT_TRUE(authz.Upsert(ClusterRole("reader", {MakeRule({"get"}, {""}, {"pods"})})));
  ASSERT_TRUE(authz.Upsert(RoleBinding("ns1", "stable", "ClusterRole", "reader", {{"User", "ann"}})));
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0}, decisions{0};
  std::thread reader([&] {
    UserInfo ann{"ann", "", {}, {}};
    while (!stop.load()) {
      std::string reason;
      if (authz.Authorize(Get(&ann, "pods", "ns1"), &reason) != Decision::kAllow) wrong.fetch_add(1);
      decisions.fetch_add(1);
    }
  });
  // Write until the reader has decided many times while writes were going on (deadline 60 s).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (int i = 0; i < 2000 || (decisions.load() < 1000 && std::chrono::steady_clock::now() < deadline); ++i) {
    std::string name = "churn" + std::to_string(i % 50);
    EXPECT_TRUE(authz.Upsert(RoleBinding("ns1", name, "ClusterRole", "reader", {{"User", "u" + std::to_string(i)}})));
    if (i % 3 == 0) authz.Remove("RoleBinding", "ns1", name);
  }
  stop.store(true);
  reader.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(decisions.load(), 1000);
}

// The cost of one decision with 1,000 bindings (the figure is printed; no timing assertion).
TEST(RbacAuthorizerTest, ThousandBindingsDecisionCost) {
  RbacAuthorizer authz;
  for (auto& obj : BootstrapPolicy()) ASSERT_TRUE(authz.Upsert(*obj));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(authz.Upsert(ClusterRole("role" + std::to_string(i),
                                         {MakeRule({"get", "list"}, {""}, {"pods", "configmaps"}),
                                          MakeRule({"update"}, {"apps"}, {"deployments", "deployments/scale"})})));
  }
  size_t before = authz.binding_count();
  for (int i = 0; i < 1000; ++i) {
    std::string ns = "ns" + std::to_string(i % 20);
    ASSERT_TRUE(authz.Upsert(RoleBinding(ns, "b" + std::to_string(i), "ClusterRole", "role" + std::to_string(i % 50),
                                         {{"User", "user" + std::to_string(i)}, {"Group", "group" + std::to_string(i % 40)}})));
  }
  EXPECT_EQ(authz.binding_count(), before + 1000);
  UserInfo user{"user777", "", {"group17", "system:authenticated"}, {}};
  Attributes allowed = Get(&user, "pods", "ns17");
  Attributes denied = Get(&user, "secrets", "ns17");
  const int kIters = 200000;
  int allows = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kIters; ++i) {
    std::string reason;
    if (authz.Authorize((i & 1) ? denied : allowed, &reason) == Decision::kAllow) ++allows;
  }
  double ns_per = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() / kIters;
  EXPECT_EQ(allows, kIters / 2);
  std::printf("rbac authorize: %zu bindings, %.0f ns per decision (half allowed, half no opinion)\n",
              authz.binding_count(), ns_per);
}

}  // namespace
}  // namespace ck::apiserver::rbac
