// NodeAuthorizer: the "Node" authorization mode (upstream plugin/pkg/auth/authorizer/node). It
// decides only for kubelets, users named system:node:<name> in group system:nodes; for everyone
// else it has no opinion. A kubelet may read a secret, configmap, PVC, PV or service account (and
// request a token for that account) only when a pod bound to its node references it (Graph); a
// Lease only in kube-node-lease under its own name; everything else by the static node rules.
// Like upstream it never denies outright: a refused request is kNoOpinion with a reason, so a
// later authorizer in the chain (RBAC) may still allow it.
// Threading: Authorize is safe from many threads; the Graph is fed concurrently by the apiserver.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "apiserver/auth/auth.h"
#include "apiserver/node/graph.h"
#include "apiserver/rbac/bootstrap_policy.h"
#include "apiserver/rbac/rules.h"

namespace ck::apiserver::node {

inline constexpr std::string_view kNodesGroup = "system:nodes";
inline constexpr std::string_view kNodeUserPrefix = "system:node:";
inline constexpr std::string_view kNodeLeaseNamespace = "kube-node-lease";

// upstream nodeidentifier: is_node when the name starts with system:node: and the user is in
// system:nodes; name is what follows the prefix (empty for the bare prefix).
struct NodeIdentity {
  bool is_node = false;
  std::string name;
};
NodeIdentity IdentifyNode(const UserInfo& user);

class NodeAuthorizer : public Authorizer {
 public:
  // `graph` must outlive the authorizer. `rules` is the static node permission set (NodeRules()
  // by default; the apiserver may pass rbac's copy).
  explicit NodeAuthorizer(const Graph* graph, std::vector<rbac::PolicyRule> rules = rbac::NodeRules());

  Decision Authorize(const Attributes& a, std::string* reason) const override;

 private:
  Decision ReadNamespacedObject(const std::string& node, VertexKind kind, const Attributes& a,
                                std::string* reason) const;
  Decision Get(const std::string& node, VertexKind kind, const Attributes& a, std::string* reason) const;
  Decision StatusUpdate(const std::string& node, VertexKind kind, const Attributes& a, std::string* reason) const;
  Decision ServiceAccount(const std::string& node, const Attributes& a, std::string* reason) const;
  Decision Lease(const std::string& node, const Attributes& a, std::string* reason) const;
  Decision Related(const std::string& node, VertexKind kind, const Attributes& a, std::string* reason) const;

  const Graph* graph_;
  std::vector<rbac::PolicyRule> rules_;
};

}  // namespace ck::apiserver::node
