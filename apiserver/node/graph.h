// Graph: which API objects each node may read, the state behind the Node authorizer (upstream
// plugin/pkg/auth/authorizer/node/graph.go). The apiserver feeds it every pod and
// PersistentVolume write (and the initial list) from its watch cache; the authorizer asks whether
// an object is reachable from a node:
//
//   node <- pod <- secret | configmap | serviceaccount | pvc <- pv <- secret (CSI secret refs)
//
// A pod only joins once it is bound (spec.nodeName set). Instead of upstream's general vertex
// graph this keeps, for every referenced object, how many pods on each node reference it, so a
// question is two map lookups (three through a PersistentVolume).
// Threading: safe from many threads; readers share a std::shared_mutex, writers take it alone.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::node {

namespace corev1 = ::k8s::io::api::core::v1;

enum class VertexKind { kPod, kSecret, kConfigMap, kServiceAccount, kPersistentVolumeClaim, kPersistentVolume };

class Graph {
 public:
  // Adds the pod or replaces what an earlier version of it referenced. An unbound pod is ignored
  // (and removed if it was known).
  void UpsertPod(const corev1::Pod& pod);
  void RemovePod(std::string_view ns, std::string_view name);
  // A PersistentVolume is reachable through the claim in spec.claimRef; secrets in its CSI
  // source's secret references become reachable through it.
  void UpsertPersistentVolume(const corev1::PersistentVolume& pv);
  void RemovePersistentVolume(std::string_view name);

  // True when the object (ns empty for PersistentVolumes) is referenced by a pod bound to `node`,
  // directly or through a PersistentVolume's claim.
  bool HasPathFrom(std::string_view node, VertexKind kind, std::string_view ns, std::string_view name) const;

  size_t pod_count() const;

 private:
  using Ref = std::tuple<VertexKind, std::string, std::string>;  // kind, namespace, name
  struct PodEntry {
    std::string node;
    std::vector<Ref> refs;  // deduplicated; includes the pod itself
  };
  struct PvEntry {
    std::string claim_namespace, claim_name;
    std::vector<std::pair<std::string, std::string>> secrets;  // namespace, name
  };

  void AddPodLocked(const std::string& ns, const std::string& name, PodEntry entry);
  void RemovePodLocked(const std::string& ns, const std::string& name);
  void RemovePvLocked(const std::string& name);
  bool RefOnNodeLocked(const Ref& ref, std::string_view node) const;

  mutable std::shared_mutex mu_;
  std::map<std::pair<std::string, std::string>, PodEntry> pods_;  // guarded by mu_
  std::map<Ref, std::map<std::string, int, std::less<>>> ref_nodes_;  // guarded by mu_: ref -> node -> pods
  std::map<std::string, PvEntry, std::less<>> pvs_;                   // guarded by mu_
  std::map<std::pair<std::string, std::string>, std::set<std::string>> secret_pvs_;  // guarded by mu_
};

// The names a pod references (upstream podutil.VisitPodSecretNames / VisitPodConfigmapNames over
// all containers, init and ephemeral containers included). Also used by NodeRestriction.
std::vector<std::string> PodSecretNames(const corev1::Pod& pod);
std::vector<std::string> PodConfigMapNames(const corev1::Pod& pod);

}  // namespace ck::apiserver::node
