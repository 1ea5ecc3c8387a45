// DeploymentController: one step of a Recreate rollout (upstream recreate.go). Scale every old
// ReplicaSet to zero; wait until none of their pods is left running; only then create (or find)
// the new ReplicaSet and scale it to spec.replicas. Old and new pods never run together.
#include "controller-manager/deployment/deployment_controller.h"

namespace ck::controller_manager {

using namespace deployment;  // NOLINT

Status DeploymentController::RolloutRecreate(Deployment* d, ReplicaSets* rs_list, const PodMap& pod_map) {
  // The new ReplicaSet is not created yet, so nothing scales up before the old ones are down.
  CK_ASSIGN_OR_RETURN(NewAndOld rss, GetAllReplicaSetsAndSyncRevision(d, rs_list, /*create=*/false));
  ReplicaSets all = rss.old_rss;
  all.push_back(rss.new_rs);

  CK_ASSIGN_OR_RETURN(bool scaled_down, ScaleDownOldReplicaSetsForRecreate(FilterActive(rss.old_rss), *d));
  if (scaled_down) return SyncRolloutStatus(all, rss.new_rs, d);

  // Wait for the old pods to go (a pod delete of this deployment enqueues it again).
  if (OldPodsRunning(rss.new_rs, rss.old_rss, pod_map)) return SyncRolloutStatus(all, rss.new_rs, d);

  if (rss.new_rs == nullptr) {
    CK_ASSIGN_OR_RETURN(rss, GetAllReplicaSetsAndSyncRevision(d, rs_list, /*create=*/true));
    all = rss.old_rss;
    all.push_back(rss.new_rs);
  }
  CK_RETURN_IF_ERROR(ScaleReplicaSetAndRecordEvent(rss.new_rs, d->spec().replicas(), *d).status());

  if (DeploymentComplete(*d, d->status())) CK_RETURN_IF_ERROR(CleanupDeployment(rss.old_rss, *d));
  return SyncRolloutStatus(all, rss.new_rs, d);
}

Result<bool> DeploymentController::ScaleDownOldReplicaSetsForRecreate(const ReplicaSets& old_rss,
                                                                      const Deployment& d) {
  bool scaled = false;
  for (const auto& rs : old_rss) {
    if (SpecReplicas(*rs) == 0) continue;
    CK_ASSIGN_OR_RETURN(Scaled r, ScaleReplicaSetAndRecordEvent(rs, 0, d));
    scaled = scaled || r.scaled;
  }
  return scaled;
}

bool DeploymentController::OldPodsRunning(const ReplicaSetPtr& new_rs, const ReplicaSets& old_rss,
                                          const PodMap& pod_map) {
  if (ActualReplicaCount(old_rss) > 0) return true;
  for (const auto& [rs_uid, pods] : pod_map) {
    if (new_rs != nullptr && new_rs->metadata().uid() == rs_uid) continue;
    for (const auto& pod : pods) {
      // Succeeded and Failed pods run nothing; anything else (Unknown included: the node may
      // just be out of touch) might still be running.
      const std::string& phase = pod->status().phase();
      if (phase != "Failed" && phase != "Succeeded") return true;
    }
  }
  return false;
}

}  // namespace ck::controller_manager
