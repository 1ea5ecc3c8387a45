// DeploymentController: the new ReplicaSet and revisions, scaling (proportional when the
// deployment is scaled mid-rollout or paused), cleanup of old ReplicaSets, and the plain status
// sync (upstream sync.go).
#include <algorithm>

#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/deployment/deployment_controller.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/hash.h"

namespace ck::controller_manager {

namespace appsv1 = ::k8s::io::api::apps::v1;
using namespace deployment;  // NOLINT

namespace {

void ReplaceByUid(ReplicaSets* list, const ReplicaSetPtr& rs) {
  for (auto& entry : *list) {
    if (entry && entry->metadata().uid() == rs->metadata().uid()) {
      entry = rs;
      return;
    }
  }
  list->push_back(rs);
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

ReplicaSets With(ReplicaSets list, const ReplicaSetPtr& rs) {
  list.push_back(rs);
  return list;
}

}  // namespace

Result<DeploymentController::NewAndOld> DeploymentController::GetAllReplicaSetsAndSyncRevision(Deployment* d,
                                                                                             ReplicaSets* rs_list,
                                                                                             bool create) {
  NewAndOld out;
  out.old_rss = FindOldReplicaSets(*d, *rs_list);
  CK_ASSIGN_OR_RETURN(out.new_rs, GetNewReplicaSet(d, rs_list, out.old_rss, create));
  return out;
}

Result<deployment::ReplicaSetPtr> DeploymentController::GetNewReplicaSet(Deployment* d, ReplicaSets* rs_list,
                                                                         const ReplicaSets& old_rss, bool create) {
  const std::string& ns = d->metadata().namespace_();
  ReplicaSetPtr existing = FindNewReplicaSet(*d, *rs_list);
  // The new ReplicaSet's revision is one more than any old one's; an old ReplicaSet that becomes
  // new again (kubectl rollout undo restores its template) moves up to it.
  const std::string new_revision = std::to_string(MaxRevision(old_rss) + 1);

  if (existing != nullptr) {
    ReplicaSet copy = *existing;
    const bool annotations_updated = SetNewReplicaSetAnnotations(*d, &copy, new_revision, /*exists=*/true);
    const bool min_ready_changed = copy.spec().minreadyseconds() != d->spec().minreadyseconds();
    if (annotations_updated || min_ready_changed) {
      copy.mutable_spec()->set_minreadyseconds(d->spec().minreadyseconds());
      CK_ASSIGN_OR_RETURN(ReplicaSetPtr updated, UpdateReplicaSet(copy));
      ReplaceByUid(rs_list, updated);
      return updated;
    }
    // The deployment takes the revision its new ReplicaSet carries.
    const auto& annotations = copy.metadata().annotations();
    auto rev = annotations.find(kRevisionAnnotation);
    bool needs_update = SetDeploymentRevision(d, rev != annotations.end() ? rev->second : "");
    // A deployment that never had a Progressing condition starts counting progress now.
    if (HasProgressDeadline(*d) && GetCondition(d->status(), kProgressing) == nullptr) {
      SetCondition(d->mutable_status(), NewCondition(kProgressing, "True", kFoundNewReplicaSetReason,
                                                     "Found new replica set " + Quoted(copy.metadata().name()),
                                                     clock_.Now()));
      needs_update = true;
    }
    if (needs_update) CK_RETURN_IF_ERROR(WriteStatus(d));
    return existing;
  }
  if (!create) return ReplicaSetPtr();

  // Create it, named deterministically after its template's hash so that a retry (or a second
  // manager) finds the same name.
  std::optional<int32_t> collision_count;
  if (d->status().has_collisioncount()) collision_count = d->status().collisioncount();
  const std::string hash = ComputeHash(d->spec().template_(), collision_count);
  ReplicaSet rs;
  auto* meta = rs.mutable_metadata();
  meta->set_name(d->metadata().name() + "-" + hash);
  meta->set_namespace_(ns);
  *meta->add_ownerreferences() = NewControllerRef(*d);
  auto* spec = rs.mutable_spec();
  *spec->mutable_template_() = d->spec().template_();
  (*spec->mutable_template_()->mutable_metadata()->mutable_labels())[kPodTemplateHashLabel] = hash;
  *meta->mutable_labels() = spec->template_().metadata().labels();
  *spec->mutable_selector() = d->spec().selector();
  (*spec->mutable_selector()->mutable_matchlabels())[kPodTemplateHashLabel] = hash;
  spec->set_minreadyseconds(d->spec().minreadyseconds());
  spec->set_replicas(0);
  CK_ASSIGN_OR_RETURN(int32_t new_replicas,
                      NewRSNewReplicas(*d, With(old_rss, std::make_shared<const ReplicaSet>(rs)), rs));
  spec->set_replicas(new_replicas);
  SetNewReplicaSetAnnotations(*d, &rs, new_revision, /*exists=*/false);

  bool already_exists = false;
  ReplicaSetPtr created_rs;
  Result<client::ObjectPtr> created = api_.Create(replicasets_resource_, ns, rs);
  if (created.ok()) {
    created_rs = client::As<ReplicaSet>(*created);
    CK_CHECK(created_rs != nullptr) << "replicasets answered a " << (*created)->GetDescriptor()->full_name();
  } else if (created.status().code() == Code::kAlreadyExists) {
    // A slow cache or a fast resync: it may be ours already. If not, two templates share the
    // hash: bump collisionCount (which changes the hash) and retry through the queue.
    already_exists = true;
    Result<ReplicaSetPtr> cached = replica_sets_.Lister().Get(ns, rs.metadata().name());
    if (!cached.ok()) return cached.status();
    const metav1::OwnerReference* ref = GetControllerOf((*cached)->metadata());
    if (ref != nullptr && ref->uid() == d->metadata().uid() &&
        EqualIgnoreHash(d->spec().template_(), (*cached)->spec().template_())) {
      created_rs = *cached;
    } else {
      const int32_t before = d->status().collisioncount();
      d->mutable_status()->set_collisioncount(before + 1);
      if (WriteStatus(d).ok()) {
        CK_VLOG(2, "Found a hash collision for deployment - bumping collisionCount to resolve it", "deployment",
                api::ObjectKey(d->metadata()), "oldCollisionCount", static_cast<int64_t>(before), "newCollisionCount",
                static_cast<int64_t>(before + 1));
      }
      return created.status();
    }
  } else if (created.status().code() == Code::kForbidden &&
             created.status().message().find("being terminated") != std::string::npos) {
    // The namespace is terminating: every create fails; nothing to report.
    return created.status();
  } else {
    const std::string msg =
        "Failed to create new replica set " + Quoted(rs.metadata().name()) + ": " + created.status().message();
    if (HasProgressDeadline(*d)) {
      SetCondition(d->mutable_status(),
                   NewCondition(kProgressing, "False", kFailedReplicaSetCreateReason, msg, clock_.Now()));
      // The create failure is the error that matters; this write is best effort.
      (void)WriteStatus(d);
    }
    recorder_.Event(*d, client::kEventWarning, kFailedReplicaSetCreateReason, msg);
    return created.status();
  }
  if (!already_exists && new_replicas > 0) {
    recorder_.Event(*d, client::kEventNormal, "ScalingReplicaSet",
                    "Scaled up replica set " + created_rs->metadata().name() + " to " + std::to_string(new_replicas));
  }
  ReplaceByUid(rs_list, created_rs);

  bool needs_update = SetDeploymentRevision(d, new_revision);
  if (!already_exists && HasProgressDeadline(*d)) {
    SetCondition(d->mutable_status(),
                 NewCondition(kProgressing, "True", kNewReplicaSetReason,
                              "Created new replica set " + Quoted(created_rs->metadata().name()), clock_.Now()));
    needs_update = true;
  }
  if (needs_update) CK_RETURN_IF_ERROR(WriteStatus(d));
  return created_rs;
}

Status DeploymentController::SyncStatusOnly(Deployment* d, ReplicaSets* rs_list) {
  CK_ASSIGN_OR_RETURN(NewAndOld rss, GetAllReplicaSetsAndSyncRevision(d, rs_list, false));
  return SyncDeploymentStatus(With(rss.old_rss, rss.new_rs), rss.new_rs, d);
}

Status DeploymentController::SyncScale(Deployment* d, ReplicaSets* rs_list) {
  CK_ASSIGN_OR_RETURN(NewAndOld rss, GetAllReplicaSetsAndSyncRevision(d, rs_list, false));
  CK_RETURN_IF_ERROR(Scale(*d, rss.new_rs, rss.old_rss));
  // A paused deployment still drops ReplicaSets beyond its history limit.
  if (d->spec().paused()) CK_RETURN_IF_ERROR(CleanupDeployment(rss.old_rss, *d));
  return SyncDeploymentStatus(With(rss.old_rss, rss.new_rs), rss.new_rs, d);
}

Status DeploymentController::CheckPausedConditions(Deployment* d) {
  if (!HasProgressDeadline(*d)) return Status::Ok();
  const appsv1::DeploymentCondition* cond = GetCondition(d->status(), kProgressing);
  // A reported lack of progress is not overwritten by a pause.
  if (cond != nullptr && cond->reason() == kTimedOutReason) return Status::Ok();
  const bool paused_condition = cond != nullptr && cond->reason() == kPausedReason;
  if (d->spec().paused() && !paused_condition) {
    SetCondition(d->mutable_status(),
                 NewCondition(kProgressing, "Unknown", kPausedReason, "Deployment is paused", clock_.Now()));
  } else if (!d->spec().paused() && paused_condition) {
    SetCondition(d->mutable_status(),
                 NewCondition(kProgressing, "Unknown", kResumedReason, "Deployment is resumed", clock_.Now()));
  } else {
    return Status::Ok();
  }
  return WriteStatus(d);
}

Result<bool> DeploymentController::IsScalingEvent(Deployment* d, ReplicaSets* rs_list) {
  CK_ASSIGN_OR_RETURN(NewAndOld rss, GetAllReplicaSetsAndSyncRevision(d, rs_list, false));
  // The desired-replicas annotation remembers the size each active ReplicaSet was sized for.
  for (const auto& rs : FilterActive(With(rss.old_rss, rss.new_rs))) {
    std::optional<int32_t> desired = DesiredReplicasAnnotation(*rs);
    if (desired && *desired != d->spec().replicas()) return true;
  }
  return false;
}

Status DeploymentController::Scale(const Deployment& d, const ReplicaSetPtr& new_rs, const ReplicaSets& old_rss) {
  const int32_t replicas = d.spec().replicas();
  // One active ReplicaSet (or none: then the newest) takes the whole count.
  if (ReplicaSetPtr only = FindActiveOrLatest(new_rs, old_rss)) {
    if (SpecReplicas(*only) == replicas) return Status::Ok();
    return ScaleReplicaSetAndRecordEvent(only, replicas, d).status();
  }
  // A saturated new ReplicaSet (e.g. after adopting old ones) leaves nothing to the old ones.
  if (IsSaturated(d, new_rs.get())) {
    for (const auto& old : FilterActive(old_rss)) CK_RETURN_IF_ERROR(ScaleReplicaSetAndRecordEvent(old, 0, d).status());
    return Status::Ok();
  }
  if (!IsRollingUpdate(d)) return Status::Ok();

  // Several active ReplicaSets mid-rollout: spread the change in size over them in proportion to
  // their sizes, so that scaling neither hastens nor holds back the rollout.
  ProportionalPlan plan = PlanProportionalScale(d, FilterActive(With(old_rss, new_rs)));
  for (const auto& [rs, size] : plan.sizes) {
    // Stop at the first failure; the queue retries the whole sync.
    CK_RETURN_IF_ERROR(ScaleReplicaSet(rs, size, d, plan.operation).status());
  }
  return Status::Ok();
}

Result<DeploymentController::Scaled> DeploymentController::ScaleReplicaSetAndRecordEvent(const ReplicaSetPtr& rs,
                                                                                       int32_t new_scale,
                                                                                       const Deployment& d) {
  if (SpecReplicas(*rs) == new_scale) return Scaled{false, rs};
  return ScaleReplicaSet(rs, new_scale, d, SpecReplicas(*rs) < new_scale ? "up" : "down");
}

Result<DeploymentController::Scaled> DeploymentController::ScaleReplicaSet(const ReplicaSetPtr& rs, int32_t new_scale,
                                                                         const Deployment& d,
                                                                         const std::string& operation) {
  const int32_t old_scale = SpecReplicas(*rs);
  const bool size_changes = old_scale != new_scale;
  const int32_t desired = d.spec().replicas();
  const int32_t max_replicas = desired + MaxSurge(d);
  if (!size_changes && !ReplicasAnnotationsNeedUpdate(*rs, desired, max_replicas)) return Scaled{false, rs};
  ReplicaSet copy = *rs;
  copy.mutable_spec()->set_replicas(new_scale);
  SetReplicasAnnotations(&copy, desired, max_replicas);
  CK_ASSIGN_OR_RETURN(ReplicaSetPtr updated, UpdateReplicaSet(copy));
  if (!size_changes) return Scaled{false, updated};
  recorder_.Event(d, client::kEventNormal, "ScalingReplicaSet",
                  "Scaled " + operation + " replica set " + updated->metadata().name() + " to " +
                      std::to_string(new_scale) + " from " + std::to_string(old_scale));
  return Scaled{true, updated};
}

Status DeploymentController::CleanupDeployment(const ReplicaSets& old_rss, const Deployment& d) {
  if (!HasRevisionHistoryLimit(d)) return Status::Ok();
  ReplicaSets cleanable;
  for (const auto& rs : old_rss) {
    if (rs && !rs->metadata().has_deletiontimestamp()) cleanable.push_back(rs);
  }
  const int64_t diff = static_cast<int64_t>(cleanable.size()) - d.spec().revisionhistorylimit();
  if (diff <= 0) return Status::Ok();
  SortByRevision(&cleanable);  // oldest revisions go first
  CK_VLOG(4, "Looking to cleanup old replica sets for deployment", "deployment", api::ObjectKey(d.metadata()));
  for (int64_t i = 0; i < diff; ++i) {
    const ReplicaSet& rs = *cleanable[static_cast<size_t>(i)];
    // Only ReplicaSets scaled to zero, with no pods left and whose scale-down was observed.
    if (rs.status().replicas() != 0 || SpecReplicas(rs) != 0 ||
        rs.metadata().generation() > rs.status().observedgeneration() || rs.metadata().has_deletiontimestamp()) {
      continue;
    }
    CK_VLOG(4, "Trying to cleanup replica set for deployment", "replicaSet", rs.metadata().name(), "deployment",
            api::ObjectKey(d.metadata()));
    client::DeleteOptions options;
    options.precondition_uid = rs.metadata().uid();
    Result<client::ObjectPtr> deleted =
        api_.Delete(replicasets_resource_, rs.metadata().namespace_(), rs.metadata().name(), options);
    // Stop at the first failure rather than pile more DELETEs on a struggling server.
    if (!deleted.ok() && deleted.status().code() != Code::kNotFound) return deleted.status();
  }
  return Status::Ok();
}

Status DeploymentController::SyncDeploymentStatus(const ReplicaSets& all, const ReplicaSetPtr& new_rs, Deployment* d) {
  appsv1::DeploymentStatus status = CalculateStatus(all, new_rs, *d, clock_.Now());
  if (StatusEqual(d->status(), status)) return Status::Ok();
  *d->mutable_status() = std::move(status);
  return WriteStatus(d);
}

}  // namespace ck::controller_manager
