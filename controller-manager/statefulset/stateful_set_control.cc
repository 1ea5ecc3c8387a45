#include "controller-manager/statefulset/stateful_set_control.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <string>

#include "common/api/label_selector.h"
#include "common/base/log.h"
#include "common/client/cache/informer_factory.h"
#include "controller-manager/statefulset/stateful_set_utils.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager::statefulset {

namespace {

const client::ResourceInfo& StatefulSets() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(appsv1::StatefulSet::descriptor()->full_name());
  return r;
}

const client::ResourceInfo& ControllerRevisions() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(appsv1::ControllerRevision::descriptor()->full_name());
  return r;
}

constexpr int kStatusAttempts = 5;  // upstream retry.DefaultRetry's steps

}  // namespace

StatefulSetControl::StatefulSetControl(client::ApiClient& api, client::EventRecorder recorder,
                                       client::Lister<appsv1::ControllerRevision> revisions, Clock& clock)
    : api_(api),
      pod_control_(api, std::move(recorder)),
      history_(api),
      revisions_(std::move(revisions)),
      clock_(clock) {}

Result<std::vector<RevisionPtr>> StatefulSetControl::ListRevisions(const appsv1::StatefulSet& set) const {
  CK_ASSIGN_OR_RETURN(api::LabelSelector selector,
                      api::LabelSelector::FromProto(set.spec().has_selector() ? &set.spec().selector() : nullptr));
  std::vector<RevisionPtr> out;
  for (RevisionPtr& r : revisions_.Namespace(set.metadata().namespace_()).List(selector)) {
    const auto* ref = GetControllerOf(r->metadata());
    if (ref == nullptr || ref->uid() == set.metadata().uid()) out.push_back(std::move(r));
  }
  return out;
}

Status StatefulSetControl::AdoptOrphanRevisions(const appsv1::StatefulSet& set,
                                                const std::vector<RevisionPtr>& orphans) {
  const metav1::OwnerReference ref = NewControllerRef(set);
  for (const RevisionPtr& r : orphans) {
    Result<client::ObjectPtr> adopted =
        api_.Patch(ControllerRevisions(), r->metadata().namespace_(), r->metadata().name(),
                   client::PatchType::kStrategicMerge, AdoptPatch(ref, r->metadata().uid()));
    CK_RETURN_IF_ERROR(adopted.status());
  }
  return Status::Ok();
}

Result<appsv1::StatefulSetStatus> StatefulSetControl::UpdateStatefulSet(const appsv1::StatefulSet& set,
                                                                        const std::vector<PodPtr>& pods) {
  CK_ASSIGN_OR_RETURN(std::vector<RevisionPtr> revisions, ListRevisions(set));
  SortControllerRevisions(revisions);

  // performUpdate: revisions, pods, then the status, which is written even after a failure.
  Result<Revisions> revs = GetStatefulSetRevisions(set, revisions);
  if (!revs.ok()) {
    Status truncated = TruncateHistory(set, pods, revisions, nullptr);
    if (!truncated.ok()) CK_LOG_WARNING("Could not truncate StatefulSet history", "statefulSet", set.metadata().name(), "error", truncated.message());
    return revs.status();
  }
  std::optional<appsv1::StatefulSetStatus> status;
  Status err = UpdatePods(set, *revs, pods, &status);
  Status status_err;
  if (status) status_err = WriteStatus(set, &*status);
  Status truncated = TruncateHistory(set, pods, revisions, &*revs);
  if (!err.ok()) {
    if (!status_err.ok()) {
      CK_LOG_ERROR("Could not update status", "statefulSet", set.metadata().name(), "error", status_err.message());
    }
    if (!truncated.ok()) {
      CK_LOG_WARNING("Could not truncate StatefulSet history", "statefulSet", set.metadata().name(), "error", truncated.message());
    }
    return err;
  }
  CK_RETURN_IF_ERROR(status_err);
  CK_RETURN_IF_ERROR(truncated);
  CK_VLOG(4, "StatefulSet revisions", "statefulSet", set.metadata().name(), "currentRevision",
          status->currentrevision(), "updateRevision", status->updaterevision());
  return *status;
}

Result<StatefulSetControl::Revisions> StatefulSetControl::GetStatefulSetRevisions(
    const appsv1::StatefulSet& set, const std::vector<RevisionPtr>& revisions) {
  Revisions out;
  out.collision_count = set.status().has_collisioncount() ? set.status().collisioncount() : 0;
  CK_ASSIGN_OR_RETURN(appsv1::ControllerRevision candidate, NewRevision(set, NextRevision(revisions), out.collision_count));
  std::vector<RevisionPtr> equal = FindEqualRevisions(revisions, candidate);
  if (!equal.empty() && EqualRevision(*revisions.back(), *equal.back())) {
    // The newest revision already holds this template: nothing changed.
    out.update = revisions.back();
  } else if (!equal.empty()) {
    // An older revision holds it: a rollback, which renumbers that revision as the newest.
    CK_ASSIGN_OR_RETURN(out.update, history_.UpdateRevision(*equal.back(), candidate.revision()));
  } else {
    CK_ASSIGN_OR_RETURN(out.update, history_.Create(set, candidate, &out.collision_count));
  }
  for (const RevisionPtr& r : revisions) {
    if (r->metadata().name() == set.status().currentrevision()) {
      out.current = r;
      break;
    }
  }
  // No current revision yet (a new set, or its revision was lost): start history at the update.
  if (out.current == nullptr) out.current = out.update;
  return out;
}

void StatefulSetControl::ComputeStatus(appsv1::StatefulSetStatus* status, int32_t min_ready_seconds,
                                       const Revisions& revs,
                                       const std::vector<const std::vector<Slot>*>& lists) const {
  int32_t replicas = 0, ready = 0, available = 0, current = 0, updated = 0;
  const WallTime now = clock_.Now();
  for (const std::vector<Slot>* list : lists) {
    for (const Slot& slot : *list) {
      const corev1::Pod& pod = *slot.pod;
      if (slot.created) ++replicas;
      if (IsRunningAndReady(pod)) {
        ++ready;
        if (IsRunningAndAvailable(pod, min_ready_seconds, now)) ++available;
      }
      if (slot.created && !IsTerminating(pod)) {
        const std::string revision = PodRevision(pod);
        if (revision == revs.current->metadata().name()) ++current;
        if (revision == revs.update->metadata().name()) ++updated;
      }
    }
  }
  status->set_replicas(replicas);
  status->set_readyreplicas(ready);
  status->set_availablereplicas(available);
  status->set_currentreplicas(current);
  status->set_updatedreplicas(updated);
}

std::pair<bool, Status> StatefulSetControl::RunForAll(int n, const std::function<std::pair<bool, Status>(int)>& fn,
                                                      bool monotonic, const std::function<bool(int)>& writes) {
  if (monotonic) {
    for (int i = 0; i < n; ++i) {
      auto [stop, err] = fn(i);
      if (stop || !err.ok()) return {true, err};
    }
    return {false, Status::Ok()};
  }
  // Parallel: only the items that write go through the slow-start batches (a batch starts
  // threads; the others have nothing to do). Each call takes the next index, in order.
  std::vector<int> work;
  for (int i = 0; i < n; ++i) {
    if (writes(i)) work.push_back(i);
  }
  std::atomic<size_t> next{0};
  auto [done, err] = SlowStartBatch(static_cast<int>(work.size()), 1, kParallelPodWrites,
                                    [&] { return fn(work[next.fetch_add(1)]).second; });
  (void)done;
  if (!err.ok()) return {true, err};
  return {false, Status::Ok()};
}

std::pair<bool, Status> StatefulSetControl::ProcessReplica(const appsv1::StatefulSet& set,
                                                           const appsv1::StatefulSet& update_set, bool monotonic,
                                                           const Slot& replica) {
  const corev1::Pod& pod = *replica.pod;
  const int32_t min_ready = set.spec().minreadyseconds();
  // A pod that ran to completion (Failed, or Succeeded after an eviction or a node reboot) is
  // deleted; its replacement is created by a later pass, once the old one is gone.
  if (replica.created && (IsFailed(pod) || IsSucceeded(pod))) {
    if (!IsTerminating(pod)) {
      Status s = pod_control_.DeleteStatefulPod(set, pod);
      if (!s.ok()) return {true, s};
    }
    return {true, Status::Ok()};
  }
  if (!replica.created) {
    Status s = pod_control_.CreateStatefulPod(set, pod);
    if (!s.ok()) return {true, s};
    // OrderedReady creates one pod per pass and waits for it.
    if (monotonic) return {true, Status::Ok()};
  }
  if (IsTerminating(pod) && monotonic) {
    CK_VLOG(4, "StatefulSet is waiting for Pod to Terminate", "statefulSet", set.metadata().name(), "pod", pod.metadata().name());
    return {true, Status::Ok()};
  }
  if (!IsRunningAndReady(pod) && monotonic) {
    CK_VLOG(4, "StatefulSet is waiting for Pod to be Running and Ready", "statefulSet", set.metadata().name(), "pod",
            pod.metadata().name());
    return {true, Status::Ok()};
  }
  if (!IsRunningAndAvailable(pod, min_ready, clock_.Now()) && monotonic) {
    CK_VLOG(4, "StatefulSet is waiting for Pod to be Available", "statefulSet", set.metadata().name(), "pod",
            pod.metadata().name());
    return {true, Status::Ok()};
  }
  if (IdentityMatches(set, pod) && StorageMatches(set, pod)) return {false, Status::Ok()};
  Status s = pod_control_.UpdateStatefulPod(update_set, pod);
  if (!s.ok()) return {true, s};
  return {false, Status::Ok()};
}

std::pair<bool, Status> StatefulSetControl::ProcessCondemned(const appsv1::StatefulSet& set,
                                                             const corev1::Pod* first_unavailable, bool monotonic,
                                                             const corev1::Pod& condemned) {
  if (IsTerminating(condemned)) {
    // OrderedReady waits for it to be gone before touching the next one.
    return {monotonic, Status::Ok()};
  }
  if (monotonic && &condemned != first_unavailable) {
    if (!IsRunningAndReady(condemned)) {
      CK_VLOG(4, "StatefulSet is waiting for Pod to be Running and Ready prior to scale down", "statefulSet",
              set.metadata().name(), "pod", condemned.metadata().name());
      return {true, Status::Ok()};
    }
    if (!IsRunningAndAvailable(condemned, set.spec().minreadyseconds(), clock_.Now())) {
      CK_VLOG(4, "StatefulSet is waiting for Pod to be Available prior to scale down", "statefulSet",
              set.metadata().name(), "pod", condemned.metadata().name());
      return {true, Status::Ok()};
    }
  }
  CK_VLOG(2, "Pod of StatefulSet is terminating for scale down", "statefulSet", set.metadata().name(), "pod",
          condemned.metadata().name());
  return {true, pod_control_.DeleteStatefulPod(set, condemned)};
}

Status StatefulSetControl::UpdatePods(const appsv1::StatefulSet& set, const Revisions& revs,
                                      const std::vector<PodPtr>& pods,
                                      std::optional<appsv1::StatefulSetStatus>* status_out) {
  CK_ASSIGN_OR_RETURN(appsv1::StatefulSet current_set, ApplyRevision(set, *revs.current));
  CK_ASSIGN_OR_RETURN(appsv1::StatefulSet update_set, ApplyRevision(set, *revs.update));
  const int32_t min_ready = set.spec().minreadyseconds();
  const std::string& current_name = revs.current->metadata().name();
  const std::string& update_name = revs.update->metadata().name();

  appsv1::StatefulSetStatus& status = status_out->emplace();
  status.set_observedgeneration(set.metadata().generation());
  status.set_currentrevision(current_name);
  status.set_updaterevision(update_name);
  status.set_collisioncount(revs.collision_count);

  std::vector<Slot> all;
  all.reserve(pods.size());
  for (const PodPtr& pod : pods) all.push_back({pod, true});
  ComputeStatus(&status, min_ready, revs, {&all});

  // Replicas by ordinal, condemned (valid ordinals out of range) highest first; pods whose name
  // has no ordinal are ignored.
  const int start = StartOrdinal(set);
  const int replica_count = std::max(0, set.spec().replicas());
  std::vector<Slot> replicas(replica_count);
  std::vector<Slot> condemned;
  for (const PodPtr& pod : pods) {
    if (PodInOrdinalRange(*pod, set)) {
      replicas[OrdinalOf(*pod) - start] = {pod, true};
    } else if (OrdinalOf(*pod) >= 0) {
      condemned.push_back({pod, true});
    }
  }
  for (int i = 0; i < replica_count; ++i) {
    if (replicas[i].pod != nullptr) continue;
    replicas[i].pod = std::make_shared<const corev1::Pod>(
        NewVersionedStatefulSetPod(current_set, update_set, current_name, update_name, start + i));
  }
  std::sort(condemned.begin(), condemned.end(),
            [](const Slot& a, const Slot& b) { return OrdinalOf(*a.pod) > OrdinalOf(*b.pod); });

  const WallTime now = clock_.Now();
  const corev1::Pod* first_unavailable = nullptr;
  int unavailable = 0;
  for (const Slot& r : replicas) {
    if (IsUnavailable(*r.pod, min_ready, now)) {
      ++unavailable;
      if (first_unavailable == nullptr) first_unavailable = r.pod.get();
    }
  }
  for (auto it = condemned.rbegin(); it != condemned.rend(); ++it) {
    if (IsUnavailable(*it->pod, min_ready, now)) {
      ++unavailable;
      if (first_unavailable == nullptr) first_unavailable = it->pod.get();
    }
  }
  if (unavailable > 0) {
    CK_VLOG(4, "StatefulSet has unavailable Pods", "statefulSet", set.metadata().name(), "unavailableReplicas",
            unavailable, "pod", first_unavailable->metadata().name());
  }

  // A set being deleted only reports status; the garbage collector removes its pods.
  if (set.metadata().has_deletiontimestamp()) return Status::Ok();

  const bool monotonic = !AllowsBurst(set);
  auto recount = [&] { ComputeStatus(&status, min_ready, revs, {&replicas, &condemned}); };

  // What ProcessReplica writes for a replica when nothing makes it wait (Parallel).
  auto replica_writes = [&](int i) {
    const Slot& r = replicas[i];
    if (!r.created) return true;
    if (IsFailed(*r.pod) || IsSucceeded(*r.pod)) return !IsTerminating(*r.pod);
    return !IdentityMatches(set, *r.pod) || !StorageMatches(set, *r.pod);
  };
  auto [stop, err] = RunForAll(
      replica_count, [&](int i) { return ProcessReplica(set, update_set, monotonic, replicas[i]); }, monotonic,
      replica_writes);
  if (stop || !err.ok()) {
    recount();
    return err;
  }
  // In OrderedReady every replica is now Running, Ready and Available: scale down may proceed,
  // highest ordinal first. Scaling takes precedence over updates.
  std::tie(stop, err) = RunForAll(
      static_cast<int>(condemned.size()),
      [&](int i) { return ProcessCondemned(set, first_unavailable, monotonic, *condemned[i].pod); }, monotonic,
      [&](int i) { return !IsTerminating(*condemned[i].pod); });
  if (stop || !err.ok()) {
    recount();
    return err;
  }
  recount();

  // OnDelete: pods move to the update revision only when someone deletes them.
  if (set.spec().updatestrategy().type() == "OnDelete") return Status::Ok();

  // RollingUpdate: replace the highest-ordinal pod not at the update revision, from the top down
  // to the partition, one at a time; the pods above it must be available again first.
  int update_min = 0;
  if (set.spec().updatestrategy().has_rollingupdate()) update_min = set.spec().updatestrategy().rollingupdate().partition();
  for (int target = replica_count - 1; target >= update_min; --target) {
    const corev1::Pod& pod = *replicas[target].pod;
    if (PodRevision(pod) != update_name && !IsTerminating(pod)) {
      CK_VLOG(2, "Pod of StatefulSet is terminating for update", "statefulSet", set.metadata().name(), "pod",
              pod.metadata().name());
      Status s = pod_control_.DeleteStatefulPod(set, pod);
      if (!s.ok() && s.code() != Code::kNotFound) return s;
      status.set_currentreplicas(status.currentreplicas() - 1);
      return Status::Ok();
    }
    if (IsUnavailable(pod, min_ready, now)) {
      CK_VLOG(4, "StatefulSet is waiting for Pod to update", "statefulSet", set.metadata().name(), "pod",
              pod.metadata().name());
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status StatefulSetControl::WriteStatus(const appsv1::StatefulSet& set, appsv1::StatefulSetStatus* status) {
  CompleteRollingUpdate(set, status);
  if (!InconsistentStatus(set, *status)) return Status::Ok();
  appsv1::StatefulSet copy = set;
  Status result;
  for (int attempt = 0; attempt < kStatusAttempts; ++attempt) {
    *copy.mutable_status() = *status;
    Result<client::ObjectPtr> updated = api_.Update(StatefulSets(), set.metadata().namespace_(), copy, "status");
    result = updated.status();
    if (updated.ok() || updated.status().code() != Code::kConflict) break;
    // Someone else wrote the set meanwhile: write ours over the fresh copy.
    Result<client::ObjectPtr> fresh = api_.Get(StatefulSets(), set.metadata().namespace_(), set.metadata().name());
    if (!fresh.ok()) return fresh.status();
    copy = static_cast<const appsv1::StatefulSet&>(**fresh);
  }
  if (result.ok()) {
    CK_VLOG(4, "Updated status", "statefulSet", set.metadata().name(), "replicas", status->replicas(),
            "readyReplicas", status->readyreplicas(), "currentReplicas", status->currentreplicas(), "updatedReplicas",
            status->updatedreplicas());
  }
  return result;
}

Status StatefulSetControl::TruncateHistory(const appsv1::StatefulSet& set, const std::vector<PodPtr>& pods,
                                           const std::vector<RevisionPtr>& revisions, const Revisions* revs) {
  std::set<std::string> live;
  if (revs != nullptr) {
    if (revs->current) live.insert(revs->current->metadata().name());
    if (revs->update) live.insert(revs->update->metadata().name());
  }
  for (const PodPtr& pod : pods) live.insert(PodRevision(*pod));
  std::vector<RevisionPtr> history;
  for (const RevisionPtr& r : revisions) {
    if (!live.contains(r->metadata().name())) history.push_back(r);
  }
  const int limit = set.spec().revisionhistorylimit();
  if (limit < 0 || static_cast<int>(history.size()) <= limit) return Status::Ok();
  // `revisions` is sorted oldest first, so the oldest non-live ones go.
  const size_t excess = history.size() - static_cast<size_t>(limit);
  for (size_t i = 0; i < excess; ++i) {
    CK_RETURN_IF_ERROR(history_.Delete(*history[i]));
  }
  return Status::Ok();
}

}  // namespace ck::controller_manager::statefulset
