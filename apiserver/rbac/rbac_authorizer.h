// RbacAuthorizer: upstream's RBAC authorizer (plugin/pkg/auth/authorizer/rbac) over an in-memory
// copy of the cluster's Roles, ClusterRoles, RoleBindings and ClusterRoleBindings.
//
// The apiserver feeds it every rbac.authorization.k8s.io/v1 object at start (from storage) and
// on each create/update/delete (Upsert/Remove). Authorize allows when a ClusterRoleBinding (any
// namespace) or a RoleBinding of the request's namespace binds a subject matching the user
// (User name, Group, ServiceAccount "system:serviceaccount:<ns>:<name>") to a role holding a rule
// that allows the request; otherwise NoOpinion (RBAC never denies). system:masters is allowed
// everything through the bootstrap cluster-admin binding, as upstream.
// Bindings are indexed by subject (user name and group), so a decision looks only at the
// bindings naming the user or one of its groups, never at all bindings.
// Thread-safe: readers (Authorize, RulesFor, GetRoleReferenceRules) share a std::shared_mutex;
// Upsert/Remove take it exclusively.
#pragma once

#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <google/protobuf/message.h>

#include "apiserver/auth/auth.h"
#include "apiserver/rbac/rules.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/base/status.h"

namespace ck::apiserver::rbac {


// What SelfSubjectRulesReview reports (upstream RBACAuthorizer.RulesFor): every rule of a
// binding that applies to the user, split into resource rules (those with resources) and
// non-resource rules (those with nonResourceURLs). `evaluation_error` names the bindings whose
// role could not be found ("" when none); RBAC itself never marks the list incomplete.
struct RulesReview {
  std::vector<PolicyRule> resource_rules;      // verbs, apiGroups, resources, resourceNames
  std::vector<PolicyRule> non_resource_rules;  // verbs, nonResourceURLs
  bool incomplete = false;
  std::string evaluation_error;
};

class RbacAuthorizer : public Authorizer {
 public:
  RbacAuthorizer();
  ~RbacAuthorizer() override;

  // Adds or replaces a Role, ClusterRole, RoleBinding or ClusterRoleBinding (keyed by kind,
  // namespace and name). Other message types are ignored (returns false).
  bool Upsert(const google::protobuf::Message& obj);
  // Forgets one object; `kind` is "Role", "ClusterRole", "RoleBinding" or "ClusterRoleBinding",
  // `ns` is "" for the cluster-scoped kinds. Unknown objects are ignored.
  void Remove(std::string_view kind, std::string_view ns, std::string_view name);

  // Allow with reason `RBAC: allowed by ClusterRoleBinding "b" of ClusterRole "r" to User "u"`
  // (or `RoleBinding "b/ns" of Role "r" to Group "g"`), else NoOpinion with a reason naming
  // missing roles ("" when nothing went wrong).
  Decision Authorize(const Attributes& a, std::string* reason) const override;

  // The rules that apply to `user` in `ns` ("" = cluster bindings only).
  RulesReview RulesFor(const UserInfo& user, std::string_view ns) const;
  // Every rule of the bindings that apply to `user` in `ns`, and the role-lookup errors
  // (upstream AuthorizationRuleResolver.RulesFor; used by escalation checks).
  std::vector<PolicyRule> UserRules(const UserInfo& user, std::string_view ns, std::vector<std::string>* errors) const;
  // The rules of the role a binding in `binding_ns` refers to; NotFound
  // `clusterrole.rbac.authorization.k8s.io "x" not found` when the role does not exist.
  Result<std::vector<PolicyRule>> GetRoleReferenceRules(const rbacv1::RoleRef& ref, std::string_view binding_ns) const;

  // Counts (tests, logs).
  size_t binding_count() const;
  size_t role_count() const;

 private:
  struct State;
  mutable std::shared_mutex mu_;
  std::unique_ptr<State> state_;  // guarded by mu_
};

}  // namespace ck::apiserver::rbac
