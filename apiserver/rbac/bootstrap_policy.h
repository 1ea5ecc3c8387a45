// The default RBAC policy the apiserver creates at first start (upstream bootstrappolicy):
// ClusterRoles (cluster-admin, admin/edit/view and their system:aggregate-to-* parts, system:*
// roles of the control-plane components, system:controller:* roles of the controllers we run),
// their ClusterRoleBindings, and the kube-system / kube-public Roles and RoleBindings (leader
// locking, extension-apiserver-authentication-reader, bootstrap signer, token cleaner).
// Every object carries the label kubernetes.io/bootstrapping=rbac-defaults and the annotation
// rbac.authorization.kubernetes.io/autoupdate="true". admin, edit and view keep their
// aggregationRule and are returned with the rules aggregation gives them (the fixed point the
// clusterrole-aggregation controller would reach), so RBAC works before that controller runs.
// The data lives in bootstrap_policy.cc as tables. Pure functions; thread-safe.
#pragma once

#include <memory>
#include <vector>

#include <google/protobuf/message.h>

#include "apiserver/rbac/rules.h"

namespace ck::apiserver::rbac {

// ClusterRoles, then ClusterRoleBindings, Roles, RoleBindings (k8s.io.api.rbac.v1 messages).
std::vector<std::unique_ptr<google::protobuf::Message>> BootstrapPolicy();

// The rules of the system:node ClusterRole (upstream NodeRules; the Node authorizer's base).
std::vector<PolicyRule> NodeRules();

}  // namespace ck::apiserver::rbac
