// Escalation prevention for writes of RBAC objects (upstream pkg/registry/rbac/*/policybased and
// validation.ConfirmNoEscalation): nobody grants permissions they do not hold.
//
// The apiserver calls CheckEscalation on create (old == nullptr) and update of a Role,
// ClusterRole, RoleBinding or ClusterRoleBinding, after defaulting and before admission:
// - members of system:masters always pass;
// - Role/ClusterRole: pass when the user is authorized (by `chain`, the full authorizer chain) for
//   verb `escalate` on the roles/clusterroles resource (name "" on create, as the request carries
//   no name there), or already holds every rule of the object (Covers, wildcards included) in the
//   role's namespace ("" for ClusterRoles); a ClusterRole with an aggregationRule also needs
//   every permission (`*` on `*.*` and on `*` URLs);
// - RoleBinding/ClusterRoleBinding: pass when `chain` allows verb `bind` on the referenced role
//   (its name, so resourceNames apply; in the binding's namespace), or the user holds every rule
//   of the referenced role (Forbidden naming the role when it does not exist);
// - an update that only changes ownerReferences/finalizers/managedFields passes (garbage collector).
// Failure is Forbidden with upstream's text:
//   roles.rbac.authorization.k8s.io "r" is forbidden: user "u" (groups=["g"]) is attempting to
//   grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["get"]}
// Other message types pass. Thread-safe (reads the authorizers only).
#pragma once

#include <string_view>

#include <google/protobuf/message.h>

#include "apiserver/auth/auth.h"
#include "apiserver/rbac/rbac_authorizer.h"
#include "common/base/status.h"

namespace ck::apiserver::rbac {

// `ns` is the request's namespace ("" for the cluster-scoped kinds); the object's own
// metadata.namespace is used when `ns` is empty.
Status CheckEscalation(const RbacAuthorizer& rbac, const Authorizer& chain, const UserInfo& user,
                       const google::protobuf::Message& obj, std::string_view ns,
                       const google::protobuf::Message* old = nullptr);

// True for members of system:masters (upstream EscalationAllowed).
bool EscalationAllowed(const UserInfo& user);

// upstream ConfirmNoEscalation: OK when the user's rules in `ns` cover `rules`, else Forbidden
// `<resource> "<name>" is forbidden: user ... not currently held:\n<missing rules>`.
Status ConfirmNoEscalation(const RbacAuthorizer& rbac, const UserInfo& user, std::string_view ns,
                           const std::vector<PolicyRule>& rules, std::string_view qualified_resource,
                           std::string_view name);

}  // namespace ck::apiserver::rbac
