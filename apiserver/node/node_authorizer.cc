#include "apiserver/node/node_authorizer.h"

#include <algorithm>

#include "common/base/check.h"

namespace ck::apiserver::node {
namespace {

Decision NoOpinion(std::string* reason, std::string text) {
  if (reason != nullptr) *reason = std::move(text);
  return Decision::kNoOpinion;
}

std::string NoRelationship(const std::string& node) {
  return "no relationship found between node '" + node + "' and this object";
}

}  // namespace

NodeIdentity IdentifyNode(const UserInfo& user) {
  NodeIdentity id;
  if (!user.name.starts_with(kNodeUserPrefix)) return id;
  if (std::find(user.groups.begin(), user.groups.end(), kNodesGroup) == user.groups.end()) return id;
  id.is_node = true;
  id.name = user.name.substr(kNodeUserPrefix.size());
  return id;
}

NodeAuthorizer::NodeAuthorizer(const Graph* graph, std::vector<rbac::PolicyRule> rules)
    : graph_(graph), rules_(std::move(rules)) {
  CK_CHECK(graph_ != nullptr);
}

Decision NodeAuthorizer::Authorize(const Attributes& a, std::string* reason) const {
  if (a.user == nullptr) return Decision::kNoOpinion;
  const NodeIdentity id = IdentifyNode(*a.user);
  if (!id.is_node) return Decision::kNoOpinion;
  if (id.name.empty()) return NoOpinion(reason, "unknown node for user \"" + a.user->name + "\"");
  const std::string& node = id.name;

  if (a.resource_request) {
    if (a.api_group.empty()) {
      if (a.resource == "secrets") return ReadNamespacedObject(node, VertexKind::kSecret, a, reason);
      if (a.resource == "configmaps") return ReadNamespacedObject(node, VertexKind::kConfigMap, a, reason);
      if (a.resource == "persistentvolumeclaims") {
        if (a.subresource == "status") return StatusUpdate(node, VertexKind::kPersistentVolumeClaim, a, reason);
        return Get(node, VertexKind::kPersistentVolumeClaim, a, reason);
      }
      if (a.resource == "persistentvolumes") return Get(node, VertexKind::kPersistentVolume, a, reason);
      if (a.resource == "serviceaccounts") return ServiceAccount(node, a, reason);
    } else if (a.api_group == "coordination.k8s.io" && a.resource == "leases") {
      return Lease(node, a, reason);
    }
  }
  // Not subdivided: the static node rules (pods, nodes, events, services, ...).
  for (const rbac::PolicyRule& rule : rules_) {
    if (rbac::RuleAllows(a, rule)) return Decision::kAllow;
  }
  return Decision::kNoOpinion;
}

Decision NodeAuthorizer::ReadNamespacedObject(const std::string& node, VertexKind kind, const Attributes& a,
                                              std::string* reason) const {
  if (a.verb != "get" && a.verb != "list" && a.verb != "watch") {
    return NoOpinion(reason, "can only read resources of this type");
  }
  if (!a.subresource.empty()) return NoOpinion(reason, "cannot read subresource");
  if (a.namespace_.empty()) return NoOpinion(reason, "can only read namespaced object of this type");
  // list/watch carry a name only when scoped to one object (fieldSelector metadata.name=x).
  return Related(node, kind, a, reason);
}

Decision NodeAuthorizer::Get(const std::string& node, VertexKind kind, const Attributes& a,
                             std::string* reason) const {
  if (a.verb != "get") return NoOpinion(reason, "can only get individual resources of this type");
  if (!a.subresource.empty()) return NoOpinion(reason, "cannot get subresource");
  return Related(node, kind, a, reason);
}

Decision NodeAuthorizer::StatusUpdate(const std::string& node, VertexKind kind, const Attributes& a,
                                      std::string* reason) const {
  if (a.verb != "update" && a.verb != "patch") return NoOpinion(reason, "can only get/update/patch this type");
  if (a.subresource != "status") return NoOpinion(reason, "can only update status subresource");
  return Related(node, kind, a, reason);
}

Decision NodeAuthorizer::ServiceAccount(const std::string& node, const Attributes& a, std::string* reason) const {
  // A kubelet reads the accounts of its pods and requests their bound tokens.
  if (a.verb == "get" && a.subresource.empty() && !a.name.empty()) {
    return Related(node, VertexKind::kServiceAccount, a, reason);
  }
  if (a.verb != "create" || a.name.empty()) {
    return NoOpinion(reason, "can only create tokens for individual service accounts");
  }
  if (a.subresource != "token") return NoOpinion(reason, "can only create token subresource of serviceaccount");
  return Related(node, VertexKind::kServiceAccount, a, reason);
}

Decision NodeAuthorizer::Lease(const std::string& node, const Attributes& a, std::string* reason) const {
  const std::string& v = a.verb;
  if (v != "get" && v != "create" && v != "update" && v != "patch" && v != "delete") {
    return NoOpinion(reason, "can only get, create, update, patch, or delete a node lease");
  }
  if (a.namespace_ != kNodeLeaseNamespace) {
    return NoOpinion(reason, "can only access leases in the \"" + std::string(kNodeLeaseNamespace) +
                                 "\" system namespace");
  }
  // The name of a create is in the body; NodeRestriction checks it.
  if (v != "create" && a.name != node) {
    return NoOpinion(reason, "can only access node lease with the same name as the requesting node");
  }
  return Decision::kAllow;
}

Decision NodeAuthorizer::Related(const std::string& node, VertexKind kind, const Attributes& a,
                                 std::string* reason) const {
  if (a.name.empty()) return NoOpinion(reason, "No Object name found");
  if (!graph_->HasPathFrom(node, kind, a.namespace_, a.name)) return NoOpinion(reason, NoRelationship(node));
  return Decision::kAllow;
}

}  // namespace ck::apiserver::node
