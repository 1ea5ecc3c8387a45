// DeploymentController: one step of a RollingUpdate (upstream rolling.go). Grow the new
// ReplicaSet as far as maxSurge allows; otherwise shrink old ones as far as maxUnavailable
// allows (unhealthy replicas first); once complete, drop old ReplicaSets beyond the history
// limit. Every step ends in a status sync.
#include <algorithm>

#include "common/base/log.h"
#include "controller-manager/deployment/deployment_controller.h"

namespace ck::controller_manager {

using namespace deployment;  // NOLINT

Status DeploymentController::RolloutRolling(Deployment* d, ReplicaSets* rs_list) {
  CK_ASSIGN_OR_RETURN(NewAndOld rss, GetAllReplicaSetsAndSyncRevision(d, rs_list, /*create=*/true));
  CK_CHECK(rss.new_rs != nullptr) << "a rolling update always has a new ReplicaSet once created";
  ReplicaSets all = rss.old_rss;
  all.push_back(rss.new_rs);

  CK_ASSIGN_OR_RETURN(bool scaled_up, ReconcileNewReplicaSet(all, rss.new_rs, *d));
  if (scaled_up) return SyncRolloutStatus(all, rss.new_rs, d);

  CK_ASSIGN_OR_RETURN(bool scaled_down, ReconcileOldReplicaSets(all, FilterActive(rss.old_rss), rss.new_rs, *d));
  if (scaled_down) return SyncRolloutStatus(all, rss.new_rs, d);

  if (DeploymentComplete(*d, d->status())) CK_RETURN_IF_ERROR(CleanupDeployment(rss.old_rss, *d));
  return SyncRolloutStatus(all, rss.new_rs, d);
}

Result<bool> DeploymentController::ReconcileNewReplicaSet(const ReplicaSets& all, const ReplicaSetPtr& new_rs,
                                                          const Deployment& d) {
  const int32_t replicas = d.spec().replicas();
  if (SpecReplicas(*new_rs) == replicas) return false;
  if (SpecReplicas(*new_rs) > replicas) {
    CK_ASSIGN_OR_RETURN(Scaled r, ScaleReplicaSetAndRecordEvent(new_rs, replicas, d));
    return r.scaled;
  }
  CK_ASSIGN_OR_RETURN(int32_t new_replicas, NewRSNewReplicas(d, all, *new_rs));
  CK_ASSIGN_OR_RETURN(Scaled r, ScaleReplicaSetAndRecordEvent(new_rs, new_replicas, d));
  return r.scaled;
}

Result<bool> DeploymentController::ReconcileOldReplicaSets(const ReplicaSets& all, ReplicaSets old_rss,
                                                           const ReplicaSetPtr& new_rs, const Deployment& d) {
  if (ReplicaCount(old_rss) == 0) return false;  // nothing left to scale down
  const int32_t all_pods = ReplicaCount(all);
  const int32_t min_available = d.spec().replicas() - MaxUnavailable(d);
  // Pods of the new ReplicaSet that are not available yet count against the budget too, so that
  // a broken new template never lets the old ones shrink below minAvailable:
  //   maxScaledDown = allPods - minAvailable - newRSUnavailable
  const int32_t new_unavailable = SpecReplicas(*new_rs) - new_rs->status().availablereplicas();
  const int32_t max_scaled_down = all_pods - min_available - new_unavailable;
  if (max_scaled_down <= 0) return false;

  // Unhealthy old replicas go first: removing them costs no availability, and left alone they
  // could block the rollout until it times out (upstream #16737).
  CK_ASSIGN_OR_RETURN(int32_t cleaned, CleanupUnhealthyReplicas(&old_rss, d, max_scaled_down));
  CK_VLOG(4, "Cleaned up unhealthy replicas from old RSes", "count", static_cast<int64_t>(cleaned));

  ReplicaSets all_now = old_rss;
  all_now.push_back(new_rs);
  CK_ASSIGN_OR_RETURN(int32_t scaled_down, ScaleDownOldReplicaSetsForRollingUpdate(all_now, old_rss, d));
  CK_VLOG(4, "Scaled down old RSes", "deployment", d.metadata().name(), "count", static_cast<int64_t>(scaled_down));
  return cleaned + scaled_down > 0;
}

Result<int32_t> DeploymentController::CleanupUnhealthyReplicas(ReplicaSets* old_rss, const Deployment& d,
                                                               int32_t max_cleanup) {
  SortByCreationTimestamp(old_rss);
  int32_t total = 0;
  for (auto& rs : *old_rss) {
    if (total >= max_cleanup) break;
    const int32_t size = SpecReplicas(*rs);
    const int32_t available = rs->status().availablereplicas();
    if (size == 0 || size == available) continue;  // nothing unhealthy here
    // The ReplicaSet controller deletes not-ready, unscheduled and pending pods first.
    const int32_t scaled = std::min(max_cleanup - total, size - available);
    const int32_t new_size = size - scaled;
    if (new_size > size) {
      return Internal("when cleaning up unhealthy replicas, got invalid request to scale down " +
                      rs->metadata().namespace_() + "/" + rs->metadata().name() + " " + std::to_string(size) +
                      " -> " + std::to_string(new_size));
    }
    CK_ASSIGN_OR_RETURN(Scaled r, ScaleReplicaSetAndRecordEvent(rs, new_size, d));
    total += scaled;
    rs = r.rs;
  }
  return total;
}

Result<int32_t> DeploymentController::ScaleDownOldReplicaSetsForRollingUpdate(const ReplicaSets& all,
                                                                              ReplicaSets old_rss,
                                                                              const Deployment& d) {
  const int32_t min_available = d.spec().replicas() - MaxUnavailable(d);
  const int32_t available = AvailableReplicaCount(all);
  if (available <= min_available) return 0;  // cannot give up any available pod
  SortByCreationTimestamp(&old_rss);  // oldest first
  const int32_t to_scale_down = available - min_available;
  int32_t total = 0;
  for (const auto& rs : old_rss) {
    if (total >= to_scale_down) break;
    const int32_t size = SpecReplicas(*rs);
    if (size == 0) continue;
    const int32_t count = std::min(size, to_scale_down - total);
    const int32_t new_size = size - count;
    if (new_size > size) {
      return Internal("when scaling down old RS, got invalid request to scale down " + rs->metadata().namespace_() +
                      "/" + rs->metadata().name() + " " + std::to_string(size) + " -> " + std::to_string(new_size));
    }
    CK_RETURN_IF_ERROR(ScaleReplicaSetAndRecordEvent(rs, new_size, d).status());
    total += count;
  }
  return total;
}

}  // namespace ck::controller_manager
