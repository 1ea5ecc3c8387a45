// The static permission set of a kubelet (upstream bootstrappolicy.NodeRules(), the rules of the
// system:node ClusterRole) and the small matcher the Node authorizer uses for every request it
// does not subdivide itself. The RBAC package owns the cluster-wide copy of these rules; this
// table is the Node authorizer's own until the apiserver wires rbac::NodeRules() in instead.
// Immutable data; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "apiserver/auth/auth.h"

namespace ck::apiserver::node {

// One rbac.authorization.k8s.io/v1 PolicyRule (resource rules only). "*" is a wildcard in every
// list; a resource may name a subresource ("pods/status", "*/scale").
struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;  // empty: every name
};

// upstream's NodeRules() as of Kubernetes 1.32 (features that Clearkube does not serve, such as
// DRA and CSI storage, keep their rules so the table reads like upstream's).
const std::vector<PolicyRule>& NodeRules();

// True when one rule allows the resource request `a` (upstream rbac.RulesAllow). Non-resource
// requests never match: node rules have no nonResourceURLs.
bool RulesAllow(const Attributes& a, const std::vector<PolicyRule>& rules);

}  // namespace ck::apiserver::node
