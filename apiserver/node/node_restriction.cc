#include "apiserver/node/node_restriction.h"

#include <algorithm>
#include <set>
#include <string>
#include <type_traits>

#include <google/protobuf/util/message_differencer.h>

#include "apiserver/node/graph.h"
#include "apiserver/node/node_authorizer.h"
#include "common/api/object.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/base/check.h"
#include "common/base/strings.h"

namespace ck::apiserver::node {
namespace {

namespace authnv1 = ::k8s::io::api::authentication::v1;
namespace policyv1 = ::k8s::io::api::policy::v1;

constexpr std::string_view kMirrorPodAnnotation = "kubernetes.io/config.mirror";
constexpr std::string_view kNodeRestrictionLabelNamespace = "node-restriction.kubernetes.io";

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// The name of the object a request is about: the URL's, or the body's on create.
std::string RequestName(const admission::Attributes& a) {
  if (!a.name.empty()) return a.name;
  if (a.object != nullptr) {
    if (const auto* meta = api::FindMeta(*a.object)) return meta->name();
  }
  return "";
}

// upstream admission.NewForbidden: `<resource>[.<group>] ["<name>"] is forbidden: <why>`.
Status Forbid(const admission::Attributes& a, std::string_view why) {
  std::string resource = a.resource != nullptr ? a.resource->GroupResource() : "";
  std::string name = RequestName(a);
  std::string msg;
  if (resource.empty()) {
    msg = "forbidden: ";
  } else if (name.empty()) {
    msg = resource + " is forbidden: ";
  } else {
    msg = resource + " " + Quote(name) + " is forbidden: ";
  }
  return Forbidden(msg + std::string(why));
}

std::string UnexpectedType(const google::protobuf::Message* m) {
  return "unexpected type " + (m == nullptr ? std::string("<nil>") : "*" + std::string(m->GetTypeName()));
}

std::string LabelNamespace(std::string_view key) {
  auto slash = key.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(key.substr(0, slash));
}

bool InDomain(const std::string& ns, std::string_view domain) {
  return ns == domain || (ns.size() > domain.size() && ns.ends_with("." + std::string(domain)));
}

bool IsKubernetesLabel(std::string_view key) {
  const std::string ns = LabelNamespace(key);
  return InDomain(ns, "kubernetes.io") || InDomain(ns, "k8s.io");
}

// Keys added, removed or changed between the two label maps.
template <typename MapT>
std::set<std::string> ModifiedLabels(const MapT& now, const std::type_identity_t<MapT>* before) {
  std::set<std::string> out;
  for (const auto& [k, v] : now) {
    if (before == nullptr) {
      out.insert(k);
      continue;
    }
    auto it = before->find(k);
    if (it == before->end() || it->second != v) out.insert(k);
  }
  if (before != nullptr) {
    for (const auto& [k, v] : *before) {
      auto it = now.find(k);
      if (it == now.end() || it->second != v) out.insert(k);
    }
  }
  return out;
}

std::vector<std::string> ForbiddenLabels(const std::set<std::string>& modified) {
  std::vector<std::string> out;
  for (const auto& key : modified) {
    const std::string ns = LabelNamespace(key);
    if (InDomain(ns, kNodeRestrictionLabelNamespace) || (IsKubernetesLabel(key) && !IsKubeletLabel(key))) {
      out.push_back(key);  // std::set keeps them sorted, as upstream's sets.List()
    }
  }
  return out;
}

template <typename MapT>
bool MapsEqual(const MapT& x, const MapT& y) {
  if (x.size() != y.size()) return false;
  for (const auto& [k, v] : x) {
    auto it = y.find(k);
    if (it == y.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

bool IsKubeletLabel(std::string_view key) {
  static const std::set<std::string, std::less<>> kLabels = {
      "kubernetes.io/hostname",
      "topology.kubernetes.io/zone",
      "topology.kubernetes.io/region",
      "failure-domain.beta.kubernetes.io/zone",
      "failure-domain.beta.kubernetes.io/region",
      "beta.kubernetes.io/instance-type",
      "node.kubernetes.io/instance-type",
      "kubernetes.io/os",
      "kubernetes.io/arch",
      "beta.kubernetes.io/os",
      "beta.kubernetes.io/arch",
  };
  if (kLabels.count(key) > 0) return true;
  const std::string ns = LabelNamespace(key);
  return InDomain(ns, "kubelet.kubernetes.io") || InDomain(ns, "node.kubernetes.io");
}

NodeRestriction::NodeRestriction(const admission::ObjectSource* source) : source_(source) {
  CK_CHECK(source_ != nullptr);
}

Status NodeRestriction::Validate(const admission::Attributes& a, admission::Context& ctx) {
  (void)ctx;
  if (a.user == nullptr || a.resource == nullptr) return Status::Ok();
  if (a.operation == admission::Operation::kConnect) return Status::Ok();
  const NodeIdentity id = IdentifyNode(*a.user);
  if (!id.is_node) return Status::Ok();
  if (id.name.empty()) return Forbid(a, "could not determine node from user " + Quote(a.user->name));
  const std::string& node = id.name;
  const std::string& group = a.resource->group;
  const std::string& resource = a.resource->resource;

  if (group.empty()) {
    if (resource == "pods") {
      if (a.subresource.empty()) return AdmitPod(node, a);
      if (a.subresource == "status") return AdmitPodStatus(node, a);
      if (a.subresource == "eviction") return AdmitPodEviction(node, a);
      return Forbid(a, "unexpected pod subresource " + Quote(a.subresource) +
                           ", only 'status' and 'eviction' are allowed");
    }
    if (resource == "nodes") return AdmitNode(node, a);
    if (resource == "persistentvolumeclaims") {
      if (a.subresource == "status") return AdmitPvcStatus(node, a);
      return Forbid(a, "may only update PVC status");
    }
    if (resource == "serviceaccounts") return AdmitServiceAccount(node, a);
  } else if (group == "coordination.k8s.io" && resource == "leases") {
    return AdmitLease(node, a);
  } else if (group == "storage.k8s.io" && resource == "csinodes") {
    return AdmitCsiNode(node, a);
  }
  return Status::Ok();
}

Status NodeRestriction::AdmitPod(const std::string& node, const admission::Attributes& a) {
  switch (a.operation) {
    case admission::Operation::kCreate:
      return AdmitPodCreate(node, a);
    case admission::Operation::kDelete: {
      auto ref = source_->Get("pods", a.namespace_, a.name);
      if (ref == nullptr) return NotFound("pods " + Quote(a.name) + " not found");
      const auto* pod = dynamic_cast<const corev1::Pod*>(ref.get());
      if (pod == nullptr) return Forbid(a, UnexpectedType(ref.get()));
      if (pod->spec().nodename() != node) {
        return Forbid(a, "node " + Quote(node) + " can only delete pods with spec.nodeName set to itself");
      }
      return Status::Ok();
    }
    default:
      return Forbid(a, "unexpected operation " + Quote(admission::OperationName(a.operation)) + ", node " +
                           Quote(node) + " can only create and delete mirror pods");
  }
}

Status NodeRestriction::AdmitPodCreate(const std::string& node, const admission::Attributes& a) {
  const auto* pod = dynamic_cast<const corev1::Pod*>(a.object);
  if (pod == nullptr) return Forbid(a, UnexpectedType(a.object));
  const std::string qn = Quote(node);
  if (pod->metadata().annotations().count(std::string(kMirrorPodAnnotation)) == 0) {
    return Forbid(a, "pod does not have " + Quote(kMirrorPodAnnotation) + " annotation, node " + qn +
                         " can only create mirror pods");
  }
  if (pod->spec().nodename() != node) {
    return Forbid(a, "node " + qn + " can only create pods with spec.nodeName set to itself");
  }
  const auto& owners = pod->metadata().ownerreferences();
  if (owners.size() > 1) {
    return Forbid(a, "node " + qn + " can only create pods with a single owner reference set to itself");
  }
  if (owners.empty()) return Forbid(a, "node " + qn + " can only create pods with an owner reference set to itself");
  const auto& owner = owners[0];
  if (owner.apiversion() != "v1" || owner.kind() != "Node" || owner.name() != node) {
    return Forbid(a, "node " + qn + " can only create pods with an owner reference set to itself");
  }
  if (!owner.has_controller() || !owner.controller()) {
    return Forbid(a, "node " + qn + " can only create pods with a controller owner reference set to itself");
  }
  if (owner.has_blockownerdeletion() && owner.blockownerdeletion()) {
    return Forbid(a, "node " + qn + " must not set blockOwnerDeletion on an owner reference");
  }
  auto node_ref = source_->Get("nodes", "", node);
  if (node_ref == nullptr) return NotFound("nodes " + qn + " not found");
  const std::string& node_uid = api::MetaOf(*node_ref).uid();
  if (owner.uid() != node_uid) {
    return Forbid(a, "node " + node + " UID mismatch: expected " + owner.uid() + " got " + node_uid);
  }
  // A mirror pod must not reference other API objects.
  if (!pod->spec().serviceaccountname().empty()) {
    return Forbid(a, "node " + qn + " can not create pods that reference a service account");
  }
  if (!PodSecretNames(*pod).empty()) return Forbid(a, "node " + qn + " can not create pods that reference secrets");
  if (!PodConfigMapNames(*pod).empty()) {
    return Forbid(a, "node " + qn + " can not create pods that reference configmaps");
  }
  for (const auto& v : pod->spec().volumes()) {
    if (!v.volumesource().has_projected()) continue;
    for (const auto& src : v.volumesource().projected().sources()) {
      if (src.has_clustertrustbundle()) {
        return Forbid(a, "node " + qn + " can not create pods that reference clustertrustbundles");
      }
    }
  }
  for (const auto& v : pod->spec().volumes()) {
    if (v.volumesource().has_persistentvolumeclaim()) {
      return Forbid(a, "node " + qn + " can not create pods that reference persistentvolumeclaims");
    }
  }
  return Status::Ok();
}

Status NodeRestriction::AdmitPodStatus(const std::string& node, const admission::Attributes& a) {
  if (a.operation != admission::Operation::kUpdate) {
    return Forbid(a, "unexpected operation " + Quote(admission::OperationName(a.operation)));
  }
  const auto* old_pod = dynamic_cast<const corev1::Pod*>(a.old_object);
  if (old_pod == nullptr) return Forbid(a, UnexpectedType(a.old_object));
  if (old_pod->spec().nodename() != node) {
    return Forbid(a, "node " + Quote(node) + " can only update pod status for pods with spec.nodeName set to itself");
  }
  const auto* new_pod = dynamic_cast<const corev1::Pod*>(a.object);
  if (new_pod == nullptr) return Forbid(a, UnexpectedType(a.object));
  if (!MapsEqual(old_pod->metadata().labels(), new_pod->metadata().labels())) {
    return Forbid(a, "node " + Quote(node) + " cannot update labels through pod status");
  }
  const auto& rs_old = old_pod->status().resourceclaimstatuses();
  const auto& rs_new = new_pod->status().resourceclaimstatuses();
  bool claims_equal = rs_old.size() == rs_new.size();
  for (int i = 0; claims_equal && i < rs_old.size(); ++i) {
    claims_equal = google::protobuf::util::MessageDifferencer::Equals(rs_old[i], rs_new[i]);
  }
  if (!claims_equal) return Forbid(a, "node " + Quote(node) + " cannot update resource claim statues");
  return Status::Ok();
}

Status NodeRestriction::AdmitPodEviction(const std::string& node, const admission::Attributes& a) {
  if (a.operation != admission::Operation::kCreate) {
    return Forbid(a, "unexpected operation " + std::string(admission::OperationName(a.operation)));
  }
  const auto* eviction = dynamic_cast<const policyv1::Eviction*>(a.object);
  if (eviction == nullptr) return Forbid(a, UnexpectedType(a.object));
  std::string pod_name = a.name;
  if (pod_name.empty()) {
    if (eviction->metadata().name().empty()) return Forbid(a, "could not determine pod from request data");
    pod_name = eviction->metadata().name();
  }
  auto ref = source_->Get("pods", a.namespace_, pod_name);
  if (ref == nullptr) return NotFound("pods " + Quote(pod_name) + " not found");
  const auto* pod = dynamic_cast<const corev1::Pod*>(ref.get());
  if (pod == nullptr) return Forbid(a, UnexpectedType(ref.get()));
  if (pod->spec().nodename() != node) {
    return Forbid(a, "node " + node + " can only evict pods with spec.nodeName set to itself");
  }
  return Status::Ok();
}

Status NodeRestriction::AdmitNode(const std::string& node, const admission::Attributes& a) {
  const std::string requested = RequestName(a);
  if (requested != node) {
    return Forbid(a, "node " + Quote(node) + " is not allowed to modify node " + Quote(requested));
  }
  if (a.operation == admission::Operation::kCreate) {
    const auto* n = dynamic_cast<const corev1::Node*>(a.object);
    if (n == nullptr) return Forbid(a, UnexpectedType(a.object));
    // Spec fields scope what a node may read; a config source would widen that view.
    if (n->spec().has_configsource()) {
      return Forbid(a, "node " + Quote(node) + " is not allowed to create pods with a non-nil configSource");
    }
    auto forbidden = ForbiddenLabels(ModifiedLabels(n->metadata().labels(), nullptr));
    if (!forbidden.empty()) {
      return Forbid(a, "node " + Quote(node) + " is not allowed to set the following labels: " + Join(forbidden, ", "));
    }
  }
  if (a.operation == admission::Operation::kUpdate) {
    const auto* n = dynamic_cast<const corev1::Node*>(a.object);
    if (n == nullptr) return Forbid(a, UnexpectedType(a.object));
    const auto* old = dynamic_cast<const corev1::Node*>(a.old_object);
    if (old == nullptr) return Forbid(a, UnexpectedType(a.object));
    if (n->spec().has_configsource() &&
        !google::protobuf::util::MessageDifferencer::Equals(n->spec().configsource(), old->spec().configsource())) {
      return Forbid(a, "node " + Quote(node) + " is not allowed to update configSource to a new non-nil configSource");
    }
    // Changing its own taints would let a node attract workloads that avoid it.
    bool taints_equal = n->spec().taints().size() == old->spec().taints().size();
    for (int i = 0; taints_equal && i < n->spec().taints().size(); ++i) {
      taints_equal = google::protobuf::util::MessageDifferencer::Equals(n->spec().taints(i), old->spec().taints(i));
    }
    if (!taints_equal) return Forbid(a, "node " + Quote(node) + " is not allowed to modify taints");
    auto forbidden = ForbiddenLabels(ModifiedLabels(n->metadata().labels(), &old->metadata().labels()));
    if (!forbidden.empty()) return Forbid(a, "is not allowed to modify labels: " + Join(forbidden, ", "));
  }
  return Status::Ok();
}

Status NodeRestriction::AdmitPvcStatus(const std::string& node, const admission::Attributes& a) {
  if (a.operation != admission::Operation::kUpdate) {
    return Forbid(a, "unexpected operation " + Quote(admission::OperationName(a.operation)));
  }
  const auto* old_pvc = dynamic_cast<const corev1::PersistentVolumeClaim*>(a.old_object);
  if (old_pvc == nullptr) return Forbid(a, UnexpectedType(a.old_object));
  const auto* new_pvc = dynamic_cast<const corev1::PersistentVolumeClaim*>(a.object);
  if (new_pvc == nullptr) return Forbid(a, UnexpectedType(a.object));
  corev1::PersistentVolumeClaim x = *old_pvc, y = *new_pvc;
  for (auto* p : {&x, &y}) {
    p->mutable_metadata()->clear_resourceversion();
    p->mutable_metadata()->clear_managedfields();
    p->mutable_status()->clear_capacity();
    p->mutable_status()->clear_conditions();
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(x, y)) {
    return Forbid(a, "node " + Quote(node) +
                         " is not allowed to update fields other than status.capacity and status.conditions");
  }
  return Status::Ok();
}

Status NodeRestriction::AdmitServiceAccount(const std::string& node, const admission::Attributes& a) {
  (void)node;
  if (a.operation != admission::Operation::kCreate || a.subresource != "token") return Status::Ok();
  const auto* tr = dynamic_cast<const authnv1::TokenRequest*>(a.object);
  if (tr == nullptr) return Forbid(a, UnexpectedType(a.object));
  // A node's tokens must be bound to one of its pods (the apiserver then adds the node binding).
  if (!tr->spec().has_boundobjectref()) return Forbid(a, "node requested token not bound to a pod");
  const auto& ref = tr->spec().boundobjectref();
  if (ref.apiversion() != "v1" || ref.kind() != "Pod" || ref.name().empty()) {
    return Forbid(a, "node requested token not bound to a pod");
  }
  if (ref.uid().empty()) return Forbid(a, "node requested token with a pod binding without a uid");
  auto pod_ref = source_->Get("pods", a.namespace_, ref.name());
  if (pod_ref == nullptr) return NotFound("pods " + Quote(ref.name()) + " not found");
  const auto* pod = dynamic_cast<const corev1::Pod*>(pod_ref.get());
  if (pod == nullptr) return Forbid(a, UnexpectedType(pod_ref.get()));
  if (ref.uid() != pod->metadata().uid()) {
    return Forbid(a, "the UID in the bound object reference (" + ref.uid() +
                         ") does not match the UID in record. The object might have been deleted and then recreated");
  }
  if (pod->spec().nodename() != node) return Forbid(a, "node requested token bound to a pod scheduled on a different node");
  return Status::Ok();
}

Status NodeRestriction::AdmitLease(const std::string& node, const admission::Attributes& a) {
  if (a.namespace_ != kNodeLeaseNamespace) {
    return Forbid(a, "can only access leases in the " + Quote(kNodeLeaseNamespace) + " system namespace");
  }
  const std::string name = a.operation == admission::Operation::kCreate ? RequestName(a) : a.name;
  if (name != node) return Forbid(a, "can only access node lease with the same name as the requesting node");
  return Status::Ok();
}

Status NodeRestriction::AdmitCsiNode(const std::string& node, const admission::Attributes& a) {
  const std::string name = a.operation == admission::Operation::kCreate ? RequestName(a) : a.name;
  if (name != node) return Forbid(a, "can only access CSINode with the same name as the requesting node");
  return Status::Ok();
}

}  // namespace ck::apiserver::node
