// ReplicaSetController ("replicaset-controller", alias "replicaset"): keeps spec.replicas active
// pods running for every ReplicaSet, as upstream pkg/controller/replicaset does. Pods are created
// from spec.template (generateName "<rs>-", the ReplicaSet as controller) in slow-start batches
// and deleted in upstream's order (unscheduled, pending, not ready, ... newest first); matching
// orphans are adopted and owned pods that stopped matching are released. Expectations keep a
// lagging pod cache from causing duplicate creates or deletes. Status (replicas,
// fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration, the ReplicaFailure
// condition) is written through the status subresource when it changed.
//   ReplicaSet add/update/delete, Pod add/update/delete -> key "ns/name" -> Sync(key)
// Threading: see client::Controller. Handlers run on informer threads and only count
// expectations and enqueue; Sync runs on the workers (never twice at once for one key).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/replicaset/parallel_runner.h"
#include "controller-manager/util/expectations.h"
#include "controller-manager/util/pod_control.h"

namespace ck::controller_manager {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;

// Upstream BurstReplicas: at most this many creates or deletes per Sync.
inline constexpr int kReplicaSetBurstReplicas = 500;
// Creates of one slow-start batch, and deletes, run on at most this many threads at once.
inline constexpr int kReplicaSetPodParallelism = 32;
// Upstream ReplicaSetReplicaFailure.
inline constexpr std::string_view kReplicaSetReplicaFailure = "ReplicaFailure";

// spec.replicas, 1 when unset (the API default).
int32_t DesiredReplicas(const appsv1::ReplicaSet& rs);

// Upstream calculateStatus: the status `rs` should have given its claimed active `pods` and the
// result of this Sync's create/delete step. Counts replicas, pods carrying every template label
// (fullyLabeledReplicas), ready pods and pods available for minReadySeconds at `now`. A failed
// step adds ReplicaFailure (reason FailedCreate or FailedDelete, message the error's) when the
// condition is absent; a step that did not fail removes it. observedGeneration is left as it was
// (UpdateReplicaSetStatus sets it).
appsv1::ReplicaSetStatus CalculateReplicaSetStatus(const appsv1::ReplicaSet& rs,
                                                   const std::vector<const corev1::Pod*>& pods,
                                                   const Status& manage_error, WallTime now);

// The condition of `type`, or nullptr.
const appsv1::ReplicaSetCondition* GetReplicaSetCondition(const appsv1::ReplicaSetStatus& status,
                                                          std::string_view type);

class ReplicaSetController final : public ManagedController {
 public:
  // Workers: settings.concurrent_replicaset_syncs. `burst_replicas` caps the creates or deletes
  // one Sync makes (tests lower it).
  explicit ReplicaSetController(ControllerContext& context, int burst_replicas = kReplicaSetBurstReplicas);
  ~ReplicaSetController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // The creates and deletes each ReplicaSet ("ns/name") still waits to see in the pod cache.
  UidTrackingExpectations& expectations() { return expectations_; }

 protected:
  // `key` is "namespace/name" of a ReplicaSet.
  Status Sync(const std::string& key) override;

 private:
  using RsPtr = std::shared_ptr<const appsv1::ReplicaSet>;

  // Event handlers (enqueue and count expectations only).
  void OnReplicaSetDelete(const appsv1::ReplicaSet& rs);
  void OnPodAdd(const corev1::Pod& pod);
  void OnPodUpdate(const corev1::Pod& old_pod, const corev1::Pod& cur_pod);
  void OnPodDelete(const corev1::Pod& pod);

  // The cached ReplicaSet `ref` names in `ns`, when it is still the same object (uid); else null.
  RsPtr ResolveControllerRef(const std::string& ns, const k8s::io::apimachinery::pkg::apis::meta::v1::OwnerReference& ref) const;
  // Upstream GetPodReplicaSets: the ReplicaSets of the pod's namespace whose (non-empty) selector
  // matches its labels.
  std::vector<RsPtr> PodReplicaSets(const corev1::Pod& pod) const;
  // Upstream getIndirectlyRelatedPods: the pods of every ReplicaSet with the same controller as `rs`
  // (itself included); none when `rs` has no controller.
  std::vector<std::shared_ptr<const corev1::Pod>> RelatedPods(const appsv1::ReplicaSet& rs) const;

  // Upstream manageReplicas: creates or deletes pods so that `pods` (claimed and active) moves
  // towards spec.replicas, at most burst_replicas_ at a time.
  Status ManageReplicas(const appsv1::ReplicaSet& rs, const std::string& key, const std::vector<const corev1::Pod*>& pods);
  // Deletes one surplus pod; NotFound is returned as is (the caller counts it as observed).
  Status DeletePod(const appsv1::ReplicaSet& rs, const corev1::Pod& pod);
  // Upstream updateReplicaSetStatus: PUT of the status subresource when it changed, retried once
  // on a fresh GET. Returns the ReplicaSet as written (or `rs` when nothing changed).
  Result<RsPtr> UpdateStatus(const RsPtr& rs, appsv1::ReplicaSetStatus status);

  client::ApiClient& api_;
  Clock& clock_;
  const int burst_replicas_;
  PodControl pod_control_;
  UidTrackingExpectations expectations_;
  ParallelRunner runner_;  // pod creates and deletes of every worker
  client::TypedInformer<appsv1::ReplicaSet> replica_sets_;
  client::TypedInformer<corev1::Pod> pods_;
};

}  // namespace ck::controller_manager
