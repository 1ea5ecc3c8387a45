// RBAC matrix: a seeded random policy (users, groups, service accounts, Roles, ClusterRoles and
// their bindings, some pointing at roles that do not exist) and thousands of requests, each
// decided by RbacAuthorizer and by a small evaluator written here from the RBAC rules (plain
// loops over every binding, no index, nothing shared with the library). Decisions and reasons
// must agree; then bindings and roles change (Remove/Upsert) and the comparison runs again.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "apiserver/rbac/rbac_authorizer.h"
#include "common/base/random.h"

namespace ck::apiserver::rbac {
namespace {

using Strs = std::vector<std::string>;

// ---- the model ----
struct MRule {
  Strs verbs, groups, resources, names, urls;
};
struct MRole {
  std::string ns, name;  // ns "" = ClusterRole
  std::vector<MRule> rules;
};
struct MSubject {
  std::string kind, name, ns;
};
struct MBinding {
  std::string ns, name;  // ns "" = ClusterRoleBinding
  std::string role_kind, role_name;
  std::vector<MSubject> subjects;
};
struct MPolicy {
  std::vector<MRole> roles;
  std::vector<MBinding> bindings;
};

bool Contains(const Strs& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

bool ModelRuleAllows(const MRule& r, const Attributes& a) {
  if (!Contains(r.verbs, "*") && !Contains(r.verbs, a.verb)) return false;
  if (!a.resource_request) {
    for (const std::string& u : r.urls) {
      if (u == "*" || u == a.path) return true;
      if (!u.empty() && u.back() == '*') {
        std::string prefix = u;
        while (!prefix.empty() && prefix.back() == '*') prefix.pop_back();
        if (a.path.compare(0, prefix.size(), prefix) == 0) return true;
      }
    }
    return false;
  }
  if (!Contains(r.groups, "*") && !Contains(r.groups, a.api_group)) return false;
  std::string full = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  bool resource_ok = false;
  for (const std::string& res : r.resources) {
    if (res == "*" || res == full || (!a.subresource.empty() && res == "*/" + a.subresource)) resource_ok = true;
  }
  if (!resource_ok) return false;
  return r.names.empty() || Contains(r.names, a.name);
}

bool ModelSubjectApplies(const MSubject& s, const UserInfo& u, const std::string& binding_ns) {
  if (s.kind == "User") return s.name == u.name;
  if (s.kind == "Group") return Contains(u.groups, s.name);
  if (s.kind == "ServiceAccount") {
    std::string ns = s.ns.empty() ? binding_ns : s.ns;
    if (ns.empty()) return false;
    return u.name == "system:serviceaccount:" + ns + ":" + s.name;
  }
  return false;
}

std::string Q(const std::string& s) { return "\"" + s + "\""; }

// Expected decision and reason: ClusterRoleBindings by name, then RoleBindings of the
// namespace by name; the first subject that applies names the grant.
bool ModelAuthorize(const MPolicy& p, const Attributes& a, std::string* reason) {
  std::vector<const MBinding*> order;
  for (const MBinding& b : p.bindings) {
    if (b.ns.empty()) order.push_back(&b);
  }
  std::vector<const MBinding*> local;
  for (const MBinding& b : p.bindings) {
    if (!b.ns.empty() && !a.namespace_.empty() && b.ns == a.namespace_) local.push_back(&b);
  }
  auto by_name = [](const MBinding* x, const MBinding* y) { return x->name < y->name; };
  std::sort(order.begin(), order.end(), by_name);
  std::sort(local.begin(), local.end(), by_name);
  order.insert(order.end(), local.begin(), local.end());
  for (const MBinding* b : order) {
    const MSubject* subject = nullptr;
    for (const MSubject& s : b->subjects) {
      if (ModelSubjectApplies(s, *a.user, b->ns)) {
        subject = &s;
        break;
      }
    }
    if (subject == nullptr) continue;
    std::string role_ns = b->role_kind == "Role" ? b->ns : "";
    const MRole* role = nullptr;
    for (const MRole& r : p.roles) {
      if (r.ns == role_ns && r.name == b->role_name) role = &r;
    }
    if (role == nullptr) continue;
    for (const MRule& rule : role->rules) {
      if (!ModelRuleAllows(rule, a)) continue;
      std::string who = subject->kind == "ServiceAccount"
                            ? subject->kind + " " + Q(subject->name + "/" + (subject->ns.empty() ? b->ns : subject->ns))
                            : subject->kind + " " + Q(subject->name);
      std::string what = b->ns.empty() ? "ClusterRoleBinding " + Q(b->name) : "RoleBinding " + Q(b->name + "/" + b->ns);
      *reason = "RBAC: allowed by " + what + " of " + b->role_kind + " " + Q(b->role_name) + " to " + who;
      return true;
    }
  }
  return false;
}

// ---- generation ----
const Strs kVerbs = {"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "bind", "escalate"};
const Strs kGroups = {"", "apps", "batch", "rbac.authorization.k8s.io"};
const Strs kResources = {"pods", "deployments", "secrets", "configmaps", "jobs", "roles"};
const Strs kSubresources = {"", "", "", "log", "status", "scale", "exec"};
const Strs kNames = {"", "a", "b", "c"};
const Strs kNamespaces = {"ns1", "ns2", "ns3", "ns4"};
const Strs kPaths = {"/healthz", "/healthz/ping", "/healthzx", "/metrics", "/api", "/api/v1", "/apis/apps/v1", "/version", "/"};
const Strs kRuleResources = {"pods", "pods/log", "pods/status", "pods/*", "*/scale", "deployments", "deployments/scale",
                             "secrets", "configmaps", "jobs", "roles", "*"};
const Strs kRuleUrls = {"/healthz", "/healthz/*", "/healthz*", "/metrics", "/api", "/api/*", "/apis/*", "/version", "*", "/"};

struct Gen {
  FakeRandom rnd{20240607};
  size_t N(size_t n) { return static_cast<size_t>(rnd.Uniform(n)); }
  const std::string& Pick(const Strs& v) { return v[N(v.size())]; }
  Strs Some(const Strs& v, size_t max, const char* star, int star_pct) {
    if (star != nullptr && static_cast<int>(N(100)) < star_pct) return {star};
    Strs out;
    size_t n = 1 + N(max);
    for (size_t i = 0; i < n; ++i) {
      const std::string& s = Pick(v);
      if (!Contains(out, s)) out.push_back(s);
    }
    return out;
  }
  MRule Rule() {
    MRule r;
    r.verbs = Some(kVerbs, 6, "*", 20);
    if (N(5) == 0) {
      r.urls = Some(kRuleUrls, 3, nullptr, 0);
      return r;
    }
    r.groups = Some(kGroups, 3, "*", 30);
    r.resources = Some(kRuleResources, 4, nullptr, 0);
    if (N(4) == 0) r.names = Some({"a", "b", "c"}, 2, nullptr, 0);
    return r;
  }
  MSubject Subject(const std::string& binding_ns) {
    switch (N(4)) {
      case 0: return {"User", "u" + std::to_string(N(6)), ""};
      case 1: return {"Group", "g" + std::to_string(N(4)), ""};
      case 2: return {"Group", N(2) == 0 ? "system:serviceaccounts" : "system:serviceaccounts:" + Pick(kNamespaces), ""};
      default: {
        // Empty namespace defaults to a RoleBinding's own (and never matches in a ClusterRoleBinding).
        std::string ns = N(3) == 0 ? "" : Pick(kNamespaces);
        (void)binding_ns;
        return {"ServiceAccount", "sa" + std::to_string(N(3)), ns};
      }
    }
  }
  MBinding Binding(const std::string& ns, const std::string& name) {
    MBinding b;
    b.ns = ns;
    b.name = name;
    if (ns.empty() || N(2) == 0) {
      b.role_kind = "ClusterRole";
      b.role_name = "cr" + std::to_string(N(9));  // cr8 never exists
    } else {
      b.role_kind = "Role";
      b.role_name = "r" + std::to_string(N(4));  // r3 never exists
    }
    size_t n = 1 + N(3);
    for (size_t i = 0; i < n; ++i) b.subjects.push_back(Subject(ns));
    return b;
  }
  MPolicy Policy() {
    MPolicy p;
    for (int i = 0; i < 8; ++i) {
      MRole r{"", "cr" + std::to_string(i), {}};
      for (size_t k = 1 + N(4); k > 0; --k) r.rules.push_back(Rule());
      p.roles.push_back(r);
    }
    for (const std::string& ns : kNamespaces) {
      for (int i = 0; i < 3; ++i) {
        MRole r{ns, "r" + std::to_string(i), {}};
        for (size_t k = 1 + N(4); k > 0; --k) r.rules.push_back(Rule());
        p.roles.push_back(r);
      }
    }
    for (int i = 0; i < 10; ++i) p.bindings.push_back(Binding("", "crb" + std::to_string(i)));
    for (int i = 0; i < 30; ++i) p.bindings.push_back(Binding(Pick(kNamespaces), "rb" + std::to_string(i)));
    return p;
  }
  UserInfo Identity() {
    UserInfo u;
    if (N(3) == 0) {
      std::string ns = Pick(kNamespaces);
      u.name = "system:serviceaccount:" + ns + ":sa" + std::to_string(N(3));
      u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"};
    } else {
      u.name = "u" + std::to_string(N(6));
      for (size_t k = N(3); k > 0; --k) u.groups.push_back("g" + std::to_string(N(4)));
      u.groups.push_back("system:authenticated");
    }
    return u;
  }
  Attributes Request(const UserInfo* u) {
    Attributes a;
    a.user = u;
    a.verb = Pick(kVerbs);
    if (N(6) == 0) {
      a.verb = N(2) == 0 ? "get" : a.verb;
      a.path = Pick(kPaths);
      return a;
    }
    a.resource_request = true;
    a.api_group = Pick(kGroups);
    a.api_version = "v1";
    a.resource = Pick(kResources);
    a.subresource = Pick(kSubresources);
    a.name = Pick(kNames);
    a.namespace_ = N(5) == 0 ? "" : Pick(kNamespaces);
    return a;
  }
};

// ---- feeding the library ----
void Feed(const MRole& r, RbacAuthorizer* authz) {
  auto fill = [&](auto* msg) {
    msg->mutable_metadata()->set_name(r.name);
    for (const MRule& mr : r.rules) {
      PolicyRule* pr = msg->add_rules();
      for (const auto& v : mr.verbs) pr->add_verbs(v);
      for (const auto& v : mr.groups) pr->add_apigroups(v);
      for (const auto& v : mr.resources) pr->add_resources(v);
      for (const auto& v : mr.names) pr->add_resourcenames(v);
      for (const auto& v : mr.urls) pr->add_nonresourceurls(v);
    }
  };
  if (r.ns.empty()) {
    rbacv1::ClusterRole cr;
    fill(&cr);
    ASSERT_TRUE(authz->Upsert(cr));
  } else {
    rbacv1::Role role;
    role.mutable_metadata()->set_namespace_(r.ns);
    fill(&role);
    ASSERT_TRUE(authz->Upsert(role));
  }
}

void Feed(const MBinding& b, RbacAuthorizer* authz) {
  auto fill = [&](auto* msg) {
    msg->mutable_metadata()->set_name(b.name);
    msg->mutable_roleref()->set_apigroup("rbac.authorization.k8s.io");
    msg->mutable_roleref()->set_kind(b.role_kind);
    msg->mutable_roleref()->set_name(b.role_name);
    for (const MSubject& s : b.subjects) {
      auto* sub = msg->add_subjects();
      sub->set_kind(s.kind);
      sub->set_name(s.name);
      if (!s.ns.empty()) sub->set_namespace_(s.ns);
    }
  };
  if (b.ns.empty()) {
    rbacv1::ClusterRoleBinding crb;
    fill(&crb);
    ASSERT_TRUE(authz->Upsert(crb));
  } else {
    rbacv1::RoleBinding rb;
    rb.mutable_metadata()->set_namespace_(b.ns);
    fill(&rb);
    ASSERT_TRUE(authz->Upsert(rb));
  }
}

std::string Describe(const Attributes& a) {
  std::string s = "user=" + a.user->name + " groups=";
  for (const auto& g : a.user->groups) s += g + ",";
  if (!a.resource_request) return s + " " + a.verb + " " + a.path;
  return s + " " + a.verb + " " + a.api_group + "/" + a.resource + "/" + a.subresource + " name=" + a.name +
         " ns=" + a.namespace_;
}

struct Tally {
  int cases = 0, allowed = 0, mismatches = 0;
};

void Compare(Gen& gen, const MPolicy& p, const RbacAuthorizer& authz, int n, Tally* t) {
  std::vector<UserInfo> identities;
  for (int i = 0; i < 40; ++i) identities.push_back(gen.Identity());
  for (int i = 0; i < n; ++i) {
    const UserInfo* u = &identities[gen.N(identities.size())];
    Attributes a = gen.Request(u);
    std::string want_reason, got_reason;
    bool want = ModelAuthorize(p, a, &want_reason);
    Decision got = authz.Authorize(a, &got_reason);
    ++t->cases;
    if (want) ++t->allowed;
    EXPECT_NE(got, Decision::kDeny) << "RBAC never denies";
    if ((got == Decision::kAllow) != want || (want && got_reason != want_reason)) {
      ++t->mismatches;
      ADD_FAILURE() << Describe(a) << "\n want " << want << " " << want_reason << "\n got " << (got == Decision::kAllow)
                    << " " << got_reason;
      if (t->mismatches > 10) return;
    }
  }
}

TEST(RbacMatrixTest, AgreesWithIndependentEvaluator) {
  Gen gen;
  Tally total;
  for (int round = 0; round < 4; ++round) {
    MPolicy p = gen.Policy();
    RbacAuthorizer authz;
    for (const MRole& r : p.roles) Feed(r, &authz);
    for (const MBinding& b : p.bindings) Feed(b, &authz);
    Compare(gen, p, authz, 1500, &total);

    // Change the policy: drop some bindings and roles, rewrite others under the same names.
    for (int k = 0; k < 8; ++k) {
      size_t i = gen.N(p.bindings.size());
      MBinding& b = p.bindings[i];
      if (gen.N(2) == 0) {
        authz.Remove(b.ns.empty() ? "ClusterRoleBinding" : "RoleBinding", b.ns, b.name);
        p.bindings.erase(p.bindings.begin() + static_cast<long>(i));
      } else {
        b = gen.Binding(b.ns, b.name);
        Feed(b, &authz);
      }
    }
    for (int k = 0; k < 2; ++k) {
      size_t i = gen.N(p.roles.size());
      authz.Remove(p.roles[i].ns.empty() ? "ClusterRole" : "Role", p.roles[i].ns, p.roles[i].name);
      p.roles.erase(p.roles.begin() + static_cast<long>(i));
    }
    Compare(gen, p, authz, 500, &total);
  }
  std::printf("rbac matrix: %d cases, %d allowed, %d mismatches\n", total.cases, total.allowed, total.mismatches);
  EXPECT_GE(total.cases, 5000);
  EXPECT_EQ(total.mismatches, 0);
  // The generated policy must exercise both outcomes substantially.
  EXPECT_GT(total.allowed, total.cases / 8);
  EXPECT_LT(total.allowed, total.cases * 4 / 5);
}

}  // namespace
}  // namespace ck::apiserver::rbac
