// DeploymentController: the status of a rollout in progress (upstream progress.go): counts,
// Available, and the Progressing condition that `kubectl rollout status` waits on
// (ReplicaSetUpdated while pods move, NewReplicaSetAvailable when done, ProgressDeadlineExceeded
// when nothing moved for progressDeadlineSeconds), plus ReplicaFailure copied from the
// ReplicaSets. A rollout that may still time out is requeued for its deadline.
#include <chrono>

#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/deployment/deployment_controller.h"

namespace ck::controller_manager {

namespace appsv1 = ::k8s::io::api::apps::v1;
using namespace deployment;  // NOLINT

namespace {

std::string ProgressMessage(const appsv1::Deployment& d, const ReplicaSetPtr& new_rs, const std::string& what) {
  if (new_rs != nullptr) return "ReplicaSet \"" + new_rs->metadata().name() + "\" " + what;
  return "Deployment \"" + d.metadata().name() + "\" " + what;
}

// The new ReplicaSet's failures come first; only without them the old ones' (one is reported).
std::vector<appsv1::DeploymentCondition> ReplicaFailures(const ReplicaSets& all, const ReplicaSetPtr& new_rs) {
  std::vector<appsv1::DeploymentCondition> out;
  auto collect = [&](const ReplicaSetPtr& rs) {
    for (const auto& c : rs->status().conditions()) {
      if (c.type() == kReplicaFailure) out.push_back(ReplicaSetToDeploymentCondition(c));
    }
  };
  if (new_rs != nullptr) collect(new_rs);
  if (!out.empty()) return out;
  for (const auto& rs : all) {
    if (rs != nullptr) collect(rs);
  }
  return out;
}

}  // namespace

Status DeploymentController::SyncRolloutStatus(const ReplicaSets& all, const ReplicaSetPtr& new_rs, Deployment* d) {
  const WallTime now = clock_.Now();
  appsv1::DeploymentStatus status = CalculateStatus(all, new_rs, *d, now);
  if (!HasProgressDeadline(*d)) RemoveCondition(&status, kProgressing);

  // Progress is estimated only while a rollout is under way: a resync of a finished one (every
  // replica updated, NewReplicaSetAvailable already reported) leaves the condition alone.
  const appsv1::DeploymentCondition* current = GetCondition(d->status(), kProgressing);
  const bool complete_already = status.replicas() == status.updatedreplicas() && current != nullptr &&
                                current->reason() == kNewReplicaSetAvailableReason;
  if (HasProgressDeadline(*d) && !complete_already) {
    if (DeploymentComplete(*d, status)) {
      SetCondition(&status, NewCondition(kProgressing, "True", kNewReplicaSetAvailableReason,
                                         ProgressMessage(*d, new_rs, "has successfully progressed."), now));
    } else if (DeploymentProgressing(*d, status)) {
      // Any progress refreshes lastUpdateTime, even with the same reason (which SetCondition
      // alone would ignore); lastTransitionTime stays while the status stays True.
      appsv1::DeploymentCondition c = NewCondition(kProgressing, "True", kReplicaSetUpdatedReason,
                                                   ProgressMessage(*d, new_rs, "is progressing."), now);
      if (current != nullptr) {
        if (current->status() == "True") *c.mutable_lasttransitiontime() = current->lasttransitiontime();
        RemoveCondition(&status, kProgressing);
      }
      SetCondition(&status, std::move(c));
    } else if (DeploymentTimedOut(*d, status, now)) {
      SetCondition(&status, NewCondition(kProgressing, "False", kTimedOutReason,
                                         ProgressMessage(*d, new_rs, "has timed out progressing."), now));
    }
  }

  std::vector<appsv1::DeploymentCondition> failures = ReplicaFailures(all, new_rs);
  if (!failures.empty()) {
    SetCondition(&status, failures[0]);
  } else {
    RemoveCondition(&status, kReplicaFailure);
  }

  if (StatusEqual(d->status(), status)) {
    RequeueStuckDeployment(*d, status);
    return Status::Ok();
  }
  *d->mutable_status() = std::move(status);
  return WriteStatus(d);
}

void DeploymentController::RequeueStuckDeployment(const Deployment& d, const appsv1::DeploymentStatus& new_status) {
  const appsv1::DeploymentCondition* current = GetCondition(d.status(), kProgressing);
  // Nothing to time out: no deadline, no Progressing condition, finished, or already timed out.
  if (!HasProgressDeadline(d) || current == nullptr) return;
  if (DeploymentComplete(d, new_status) || current->reason() == kTimedOutReason) return;
  // No sign of progress: look again when the deadline passes (lastUpdateTime + deadline - now),
  // rather than wait for an event that may never come (upstream #34458).
  const WallTime deadline =
      api::WallTimeOf(current->lastupdatetime()) + std::chrono::seconds(d.spec().progressdeadlineseconds());
  const Duration after = deadline - clock_.Now();
  const std::string key = api::ObjectKey(d.metadata());
  if (after < std::chrono::seconds(1)) {
    CK_VLOG(4, "Queueing up deployment for a progress check now", "deployment", key);
    EnqueueRateLimited(key);
    return;
  }
  CK_VLOG(4, "Queueing up deployment for a progress check", "deployment", key, "queueAfter",
          static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(after).count()));
  // One more second so the check lands after the deadline, not a few milliseconds before it.
  EnqueueAfter(key, after + std::chrono::seconds(1));
}

}  // namespace ck::controller_manager
