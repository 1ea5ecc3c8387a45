#include "apiserver/node/node_rules.h"

#include <algorithm>

namespace ck::apiserver::node {
namespace {

bool Has(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool VerbMatches(const PolicyRule& r, std::string_view verb) { return Has(r.verbs, "*") || Has(r.verbs, verb); }

bool GroupMatches(const PolicyRule& r, std::string_view group) {
  return Has(r.api_groups, "*") || Has(r.api_groups, group);
}

// upstream rbacv1helpers.ResourceMatches: "*", the exact "res/sub", "*/sub" for any resource's
// subresource; "res/*" for every subresource of res.
bool ResourceMatches(const PolicyRule& r, const std::string& resource, const std::string& subresource) {
  const std::string combined = subresource.empty() ? resource : resource + "/" + subresource;
  for (const auto& rr : r.resources) {
    if (rr == "*" || rr == combined) return true;
    if (subresource.empty()) continue;
    if (rr == "*/" + subresource) return true;
    if (rr == resource + "/*") return true;
  }
  return false;
}

bool NameMatches(const PolicyRule& r, std::string_view name) {
  return r.resource_names.empty() || Has(r.resource_names, name);
}

}  // namespace

const std::vector<PolicyRule>& NodeRules() {
  static const std::vector<PolicyRule> rules = {
      // Needed to check API access; these creates are non-mutating.
      {{"create"}, {"authentication.k8s.io"}, {"tokenreviews"}, {}},
      {{"create"}, {"authorization.k8s.io"}, {"subjectaccessreviews", "localsubjectaccessreviews"}, {}},
      // Service env vars.
      {{"get", "list", "watch"}, {""}, {"services"}, {}},
      // Nodes register and report status; NodeRestriction limits them to their own Node.
      {{"create", "get", "list", "watch"}, {""}, {"nodes"}, {}},
      {{"update", "patch"}, {""}, {"nodes/status"}, {}},
      {{"update", "patch"}, {""}, {"nodes"}, {}},
      {{"create", "update", "patch"}, {""}, {"events"}, {}},
      {{"create", "update", "patch"}, {"events.k8s.io"}, {"events"}, {}},
      // Pods: read all, create/delete mirror pods, report status, evict (NodeRestriction limits them).
      {{"get", "list", "watch"}, {""}, {"pods"}, {}},
      {{"create", "delete"}, {""}, {"pods"}, {}},
      {{"update", "patch"}, {""}, {"pods/status"}, {}},
      {{"create"}, {""}, {"pods/eviction"}, {}},
      // Secrets/configmaps/PVs/PVCs: the Node authorizer's graph narrows these to the node's pods.
      {{"get", "list", "watch"}, {""}, {"secrets", "configmaps"}, {}},
      {{"get"}, {""}, {"persistentvolumeclaims", "persistentvolumes"}, {}},
      {{"get"}, {""}, {"endpoints"}, {}},
      // Certificate rotation.
      {{"create", "get", "list", "watch"}, {"certificates.k8s.io"}, {"certificatesigningrequests"}, {}},
      // Node heartbeats.
      {{"get", "create", "update", "patch", "delete"}, {"coordination.k8s.io"}, {"leases"}, {}},
      // CSI.
      {{"get"}, {"storage.k8s.io"}, {"volumeattachments"}, {}},
      {{"get", "update", "patch"}, {""}, {"persistentvolumeclaims/status"}, {}},
      // Bound service account tokens for the node's pods.
      {{"create"}, {""}, {"serviceaccounts/token"}, {}},
      {{"get", "watch", "list"}, {"storage.k8s.io"}, {"csidrivers"}, {}},
      {{"get", "create", "update", "patch", "delete"}, {"storage.k8s.io"}, {"csinodes"}, {}},
      {{"get", "list", "watch"}, {"node.k8s.io"}, {"runtimeclasses"}, {}},
  };
  return rules;
}

bool RulesAllow(const Attributes& a, const std::vector<PolicyRule>& rules) {
  if (!a.resource_request) return false;
  for (const auto& r : rules) {
    if (VerbMatches(r, a.verb) && GroupMatches(r, a.api_group) && ResourceMatches(r, a.resource, a.subresource) &&
        NameMatches(r, a.name)) {
      return true;
    }
  }
  return false;
}

}  // namespace ck::apiserver::node
