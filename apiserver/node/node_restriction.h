// NodeRestriction: the validating admission plugin that narrows what the node rules let a kubelet
// write (upstream plugin/pkg/admission/noderestriction). For users identified as a node
// (IdentifyNode) it allows only:
//   pods           create mirror pods bound to itself (owned by its Node, no secrets, configmaps,
//                  service account or PVCs); delete pods bound to itself; no other pod writes
//   pods/status    update pods bound to itself, without changing labels
//   pods/eviction  evict pods bound to itself
//   nodes          create/update/delete its own Node; no configSource, no taint changes, no
//                  labels outside the kubelet set and never node-restriction.kubernetes.io/
//   leases         only its own Lease in kube-node-lease
//   serviceaccounts/token  only tokens bound to a pod (by name and uid) bound to itself
//   persistentvolumeclaims only status.capacity / status.conditions (status subresource)
//   csinodes       only its own
// Other users and other resources pass untouched. Refusals are Forbidden with upstream's text
// (`pods "web" is forbidden: node "node-1" can only update pod status for pods with spec.nodeName
// set to itself`). Existing pods and Nodes are read from the ObjectSource.
// Threading: stateless beyond the source; Validate is safe from many threads.
#pragma once

#include <string_view>

#include "apiserver/admission/admission.h"

namespace ck::apiserver::node {

class NodeRestriction : public admission::Plugin {
 public:
  // `source` must outlive the plugin.
  explicit NodeRestriction(const admission::ObjectSource* source);

  std::string_view name() const override { return "NodeRestriction"; }
  Status Validate(const admission::Attributes& a, admission::Context& ctx) override;

 private:
  Status AdmitPod(const std::string& node, const admission::Attributes& a);
  Status AdmitPodCreate(const std::string& node, const admission::Attributes& a);
  Status AdmitPodStatus(const std::string& node, const admission::Attributes& a);
  Status AdmitPodEviction(const std::string& node, const admission::Attributes& a);
  Status AdmitNode(const std::string& node, const admission::Attributes& a);
  Status AdmitPvcStatus(const std::string& node, const admission::Attributes& a);
  Status AdmitServiceAccount(const std::string& node, const admission::Attributes& a);
  Status AdmitLease(const std::string& node, const admission::Attributes& a);
  Status AdmitCsiNode(const std::string& node, const admission::Attributes& a);

  const admission::ObjectSource* source_;
};

// upstream kubeletapis.IsKubeletLabel: the labels a kubelet may set on its own Node.
bool IsKubeletLabel(std::string_view key);

}  // namespace ck::apiserver::node
