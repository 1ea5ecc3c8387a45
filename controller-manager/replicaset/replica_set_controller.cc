#include "controller-manager/replicaset/replica_set_controller.h"

#include <algorithm>
#include <mutex>
#include <unordered_set>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/label_selector.h"
#include "common/api/object.h"
#include "common/base/log.h"
#include "common/client/cache/meta.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager {

namespace {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using google::protobuf::util::MessageDifferencer;

// Upstream SlowStartInitialBatchSize and statusUpdateRetries.
constexpr int kSlowStartInitialBatchSize = 1;
constexpr int kStatusUpdateRetries = 1;
// ReplicaSets by the uid of their controller (upstream controllerUIDIndex), to find siblings.
constexpr char kControllerUidIndex[] = "replicaset-controller/controllerUID";
// Pods by their controller's uid, and orphans by "orphan/<namespace>": a sync reads its own pods
// and the orphans it may adopt instead of every pod of the namespace (what Claim looks at is the
// same: pods of other controllers are never claimed).
constexpr char kPodsByControllerIndex[] = "replicaset-controller/podsByController";
constexpr char kOrphanPrefix[] = "orphan/";

const client::ResourceInfo& ReplicaSetsResource() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(appsv1::ReplicaSet::descriptor()->full_name());
  return r;
}

const client::ResourceInfo& PodsResource() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
  return r;
}

bool LabelsEqual(const google::protobuf::Map<std::string, std::string>& a,
                 const google::protobuf::Map<std::string, std::string>& b) {
  if (a.size() != b.size()) return false;
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end() || it->second != v) return false;
  }
  return true;
}

bool RefsEqual(const metav1::OwnerReference* a, const metav1::OwnerReference* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return MessageDifferencer::Equals(*a, *b);
}

// A terminating namespace refuses every create; upstream treats that as nothing to do.
bool NamespaceTerminating(const Status& s) {
  return s.code() == Code::kForbidden && s.message().find("because it is being terminated") != std::string::npos;
}

Result<api::LabelSelector> SelectorOf(const appsv1::ReplicaSet& rs) {
  return api::LabelSelector::FromProto(rs.spec().has_selector() ? &rs.spec().selector() : nullptr);
}

// Upstream's steady-state check in updateReplicaSetStatus.
bool StatusUnchanged(const appsv1::ReplicaSet& rs, const appsv1::ReplicaSetStatus& next) {
  const appsv1::ReplicaSetStatus& cur = rs.status();
  if (cur.replicas() != next.replicas() || cur.fullylabeledreplicas() != next.fullylabeledreplicas() ||
      cur.readyreplicas() != next.readyreplicas() || cur.availablereplicas() != next.availablereplicas() ||
      rs.metadata().generation() != cur.observedgeneration() || cur.conditions_size() != next.conditions_size()) {
    return false;
  }
  for (int i = 0; i < cur.conditions_size(); ++i) {
    if (!MessageDifferencer::Equals(cur.conditions(i), next.conditions(i))) return false;
  }
  return true;
}

// Every label of the template is on the pod with the same value (a template selector).
bool HasTemplateLabels(const appsv1::ReplicaSet& rs, const corev1::Pod& pod) {
  const auto& pod_labels = pod.metadata().labels();
  for (const auto& [k, v] : rs.spec().template_().metadata().labels()) {
    auto it = pod_labels.find(k);
    if (it == pod_labels.end() || it->second != v) return false;
  }
  return true;
}

}  // namespace

int32_t DesiredReplicas(const appsv1::ReplicaSet& rs) { return rs.spec().has_replicas() ? rs.spec().replicas() : 1; }

const appsv1::ReplicaSetCondition* GetReplicaSetCondition(const appsv1::ReplicaSetStatus& status,
                                                          std::string_view type) {
  for (const auto& c : status.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

appsv1::ReplicaSetStatus CalculateReplicaSetStatus(const appsv1::ReplicaSet& rs,
                                                   const std::vector<const corev1::Pod*>& pods,
                                                   const Status& manage_error, WallTime now) {
  appsv1::ReplicaSetStatus status = rs.status();
  int32_t fully_labeled = 0, ready = 0, available = 0;
  for (const corev1::Pod* pod : pods) {
    if (HasTemplateLabels(rs, *pod)) ++fully_labeled;
    if (IsPodReady(*pod)) {
      ++ready;
      if (IsPodAvailable(*pod, rs.spec().minreadyseconds(), now)) ++available;
    }
  }

  const bool has_failure = GetReplicaSetCondition(rs.status(), kReplicaSetReplicaFailure) != nullptr;
  if (!manage_error.ok() && !has_failure) {
    int64_t diff = static_cast<int64_t>(pods.size()) - DesiredReplicas(rs);
    appsv1::ReplicaSetCondition* c = status.add_conditions();
    c->set_type(std::string(kReplicaSetReplicaFailure));
    c->set_status("True");
    *c->mutable_lasttransitiontime() = api::MakeTime(now);
    if (diff < 0) c->set_reason("FailedCreate");
    if (diff > 0) c->set_reason("FailedDelete");
    c->set_message(manage_error.message());
  } else if (manage_error.ok() && has_failure) {
    auto* conditions = status.mutable_conditions();
    conditions->erase(std::remove_if(conditions->begin(), conditions->end(),
                                     [](const appsv1::ReplicaSetCondition& c) {
                                       return c.type() == kReplicaSetReplicaFailure;
                                     }),
                      conditions->end());
  }

  status.set_replicas(static_cast<int32_t>(pods.size()));
  status.set_fullylabeledreplicas(fully_labeled);
  status.set_readyreplicas(ready);
  status.set_availablereplicas(available);
  return status;
}

ReplicaSetController::ReplicaSetController(ControllerContext& context, int burst_replicas)
    : ManagedController(client::ControllerOptions{.name = "replicaset",
                                                  .workers = context.settings.concurrent_replicaset_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      burst_replicas_(burst_replicas),
      pod_control_(context.api, context.Recorder("replicaset-controller")),
      expectations_(context.clock),
      runner_(kReplicaSetPodParallelism - 1, "ck-replicaset"),
      replica_sets_(context.informers.ForKind<appsv1::ReplicaSet>()),
      pods_(context.informers.ForKind<corev1::Pod>()) {
  // Another instance on the same factory (tests) already added the index: the same function.
  (void)replica_sets_.Informer().AddIndexers({{kControllerUidIndex, [](const google::protobuf::Message& object) {
                                                 const metav1::OwnerReference* ref = GetControllerOf(MetaOf(object));
                                                 return ref == nullptr ? std::vector<std::string>{}
                                                                       : std::vector<std::string>{ref->uid()};
                                               }}});
  (void)pods_.Informer().AddIndexers({{kPodsByControllerIndex, [](const google::protobuf::Message& object) {
                                         const metav1::ObjectMeta& meta = MetaOf(object);
                                         const metav1::OwnerReference* ref = GetControllerOf(meta);
                                         return std::vector<std::string>{
                                             ref == nullptr ? kOrphanPrefix + meta.namespace_() : ref->uid()};
                                       }}});
  Handle(replica_sets_, client::TypedEventHandler<appsv1::ReplicaSet>{
      .on_add = [this](const RsPtr& rs, bool) { Enqueue(api::ObjectKey(rs->metadata())); },
      .on_update =
          [this](const RsPtr& old_rs, const RsPtr& cur_rs) {
            // A recreated namesake: the old one's expectations go (upstream treats it as a delete).
            if (old_rs->metadata().uid() != cur_rs->metadata().uid()) OnReplicaSetDelete(*old_rs);
            if (DesiredReplicas(*old_rs) != DesiredReplicas(*cur_rs)) {
              CK_VLOG(4, "ReplicaSet updated. Desired pod count change.", "replicaSet",
                      api::ObjectKey(cur_rs->metadata()), "oldReplicas", DesiredReplicas(*old_rs), "newReplicas",
                      DesiredReplicas(*cur_rs));
            }
            Enqueue(api::ObjectKey(cur_rs->metadata()));
          },
      .on_delete = [this](const RsPtr& rs, bool) { OnReplicaSetDelete(*rs); },
  });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const std::shared_ptr<const corev1::Pod>& pod, bool) { OnPodAdd(*pod); },
      .on_update =
          [this](const std::shared_ptr<const corev1::Pod>& old_pod, const std::shared_ptr<const corev1::Pod>& cur_pod) {
            OnPodUpdate(*old_pod, *cur_pod);
          },
      .on_delete = [this](const std::shared_ptr<const corev1::Pod>& pod, bool) { OnPodDelete(*pod); },
  });
}

ReplicaSetController::~ReplicaSetController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> ReplicaSetController::Informers() const {
  return {&replica_sets_.Informer(), &pods_.Informer()};
}

// ---- Handlers -----------------------------------------------------------------------------------

void ReplicaSetController::OnReplicaSetDelete(const appsv1::ReplicaSet& rs) {
  std::string key = api::ObjectKey(rs.metadata());
  // A namesake created later starts with clean expectations.
  expectations_.DeleteExpectations(key);
  Enqueue(key);
}

ReplicaSetController::RsPtr ReplicaSetController::ResolveControllerRef(const std::string& ns,
                                                                       const metav1::OwnerReference& ref) const {
  if (ref.kind() != "ReplicaSet") return nullptr;
  Result<RsPtr> rs = replica_sets_.Lister().Get(ns, ref.name());
  if (!rs.ok() || (*rs)->metadata().uid() != ref.uid()) return nullptr;
  return *rs;
}

std::vector<ReplicaSetController::RsPtr> ReplicaSetController::PodReplicaSets(const corev1::Pod& pod) const {
  std::vector<RsPtr> out;
  if (pod.metadata().labels().empty()) return out;
  for (RsPtr& rs : replica_sets_.Lister().Namespace(pod.metadata().namespace_()).List()) {
    Result<api::LabelSelector> selector = SelectorOf(*rs);
    // A nil or empty selector matches nothing here, not everything.
    if (!selector.ok() || selector->Empty() || selector->MatchesNothing()) continue;
    if (selector->Matches(pod.metadata().labels())) out.push_back(std::move(rs));
  }
  if (out.size() > 1) {
    CK_VLOG(2, "user error! more than one ReplicaSet is selecting pods with labels", "pod",
            api::ObjectKey(pod.metadata()), "replicaSets", static_cast<uint64_t>(out.size()));
  }
  return out;
}

void ReplicaSetController::OnPodAdd(const corev1::Pod& pod) {
  if (pod.metadata().has_deletiontimestamp()) {
    // Seen for the first time already being deleted (a restart): never a creation observation.
    OnPodDelete(pod);
    return;
  }
  if (const metav1::OwnerReference* ref = GetControllerOf(pod.metadata()); ref != nullptr) {
    RsPtr rs = ResolveControllerRef(pod.metadata().namespace_(), *ref);
    if (rs == nullptr) return;
    std::string key = api::ObjectKey(rs->metadata());
    expectations_.CreationObserved(key);
    Enqueue(key);
    return;
  }
  // An orphan: every matching ReplicaSet may want to adopt it.
  for (const RsPtr& rs : PodReplicaSets(pod)) Enqueue(api::ObjectKey(rs->metadata()));
}

void ReplicaSetController::OnPodUpdate(const corev1::Pod& old_pod, const corev1::Pod& cur_pod) {
  if (old_pod.metadata().resourceversion() == cur_pod.metadata().resourceversion()) return;  // a resync
  const bool labels_changed = !LabelsEqual(old_pod.metadata().labels(), cur_pod.metadata().labels());
  if (cur_pod.metadata().has_deletiontimestamp()) {
    // Graceful deletion started: the ReplicaSet replaces the pod now, not when the kubelet is done.
    OnPodDelete(cur_pod);
    if (labels_changed) OnPodDelete(old_pod);
    return;
  }
  const metav1::OwnerReference* cur_ref = GetControllerOf(cur_pod.metadata());
  const metav1::OwnerReference* old_ref = GetControllerOf(old_pod.metadata());
  const bool ref_changed = !RefsEqual(cur_ref, old_ref);
  if (ref_changed && old_ref != nullptr) {
    if (RsPtr rs = ResolveControllerRef(old_pod.metadata().namespace_(), *old_ref)) {
      Enqueue(api::ObjectKey(rs->metadata()));
    }
  }
  if (cur_ref != nullptr) {
    RsPtr rs = ResolveControllerRef(cur_pod.metadata().namespace_(), *cur_ref);
    if (rs == nullptr) return;
    std::string key = api::ObjectKey(rs->metadata());
    Enqueue(key);
    // Nothing else wakes the ReplicaSet when the pod becomes available; upstream adds a second
    // against clock skew.
    int32_t min_ready = rs->spec().minreadyseconds();
    if (min_ready > 0 && !IsPodReady(old_pod) && IsPodReady(cur_pod)) {
      EnqueueAfter(key, std::chrono::seconds(min_ready) + std::chrono::seconds(1));
    }
    return;
  }
  if (labels_changed || ref_changed) {
    for (const RsPtr& rs : PodReplicaSets(cur_pod)) Enqueue(api::ObjectKey(rs->metadata()));
  }
}

void ReplicaSetController::OnPodDelete(const corev1::Pod& pod) {
  const metav1::OwnerReference* ref = GetControllerOf(pod.metadata());
  if (ref == nullptr) return;  // no ReplicaSet cares about an orphan going away
  RsPtr rs = ResolveControllerRef(pod.metadata().namespace_(), *ref);
  if (rs == nullptr) return;
  std::string key = api::ObjectKey(rs->metadata());
  expectations_.DeletionObserved(key, api::ObjectKey(pod.metadata()));
  Enqueue(key);
}

// ---- Sync ---------------------------------------------------------------------------------------

Status ReplicaSetController::Sync(const std::string& key) {
  MonoTime start = clock_.Monotonic();
  Result<std::pair<std::string, std::string>> split = api::SplitObjectKey(key);
  if (!split.ok()) {
    CK_LOG_ERROR("Invalid key", "key", key, "err", split.status().message());
    return Status::Ok();  // retrying cannot fix a malformed key
  }
  const auto& [ns, name] = *split;
  Result<RsPtr> found = replica_sets_.Lister().Get(ns, name);
  if (found.status().code() == Code::kNotFound) {
    CK_VLOG(4, "deleted", "kind", "ReplicaSet", "key", key);
    expectations_.DeleteExpectations(key);
    return Status::Ok();
  }
  CK_RETURN_IF_ERROR(found.status());
  const RsPtr& rs = *found;

  const bool needs_sync = expectations_.SatisfiedExpectations(key);
  Result<api::LabelSelector> selector = SelectorOf(*rs);
  if (!selector.ok()) {
    CK_LOG_ERROR("error converting pod selector to selector for rs", "replicaSet", key, "err",
                 selector.status().message());
    return Status::Ok();  // fixed only by an update of the ReplicaSet, which enqueues it
  }

  // The active pods that name this ReplicaSet as controller (also those that no longer match its
  // selector) and the namespace's orphans. Shared cache objects: never modified here.
  const client::Indexer& index = pods_.Informer().GetIndexer();
  Result<std::vector<client::ObjectPtr>> owned = index.ByIndex(kPodsByControllerIndex, rs->metadata().uid());
  Result<std::vector<client::ObjectPtr>> orphans = index.ByIndex(kPodsByControllerIndex, kOrphanPrefix + ns);
  std::vector<client::ObjectPtr> candidates;
  if (owned.ok() && orphans.ok()) {
    candidates = std::move(*owned);
    for (auto& pod : *orphans) {
      if (MetaOf(*pod).namespace_() == ns) candidates.push_back(std::move(pod));
    }
  } else {
    for (auto& pod : pods_.Lister().Namespace(ns).List()) candidates.push_back(std::move(pod));
  }
  // A pod owned by this uid in another namespace cannot be ours.
  std::erase_if(candidates, [&ns = ns](const client::ObjectPtr& o) { return MetaOf(*o).namespace_() != ns; });
  std::erase_if(candidates, [](const client::ObjectPtr& o) {
    return !IsPodActive(static_cast<const corev1::Pod&>(*o));
  });

  ControllerRefManager ref_manager(
      api_, *rs, *selector, PodsResource(),
      RecheckDeletionTimestamp(api_, ReplicaSetsResource(), ns, name, rs->metadata().uid()));
  CK_ASSIGN_OR_RETURN(std::vector<client::ObjectPtr> claimed, ref_manager.Claim(candidates));
  std::vector<const corev1::Pod*> pods;
  pods.reserve(claimed.size());
  for (const client::ObjectPtr& o : claimed) pods.push_back(static_cast<const corev1::Pod*>(o.get()));

  Status manage_error;
  if (needs_sync && !rs->metadata().has_deletiontimestamp()) manage_error = ManageReplicas(*rs, key, pods);

  appsv1::ReplicaSetStatus status = CalculateReplicaSetStatus(*rs, pods, manage_error, clock_.Now());
  CK_ASSIGN_OR_RETURN(RsPtr updated, UpdateStatus(rs, std::move(status)));

  // Pods that are ready but not yet available become available without any event: look again
  // then (upstream: as a last line of defense against clock skew).
  const int32_t min_ready = updated->spec().minreadyseconds();
  if (manage_error.ok() && min_ready > 0 && updated->status().readyreplicas() > updated->status().availablereplicas()) {
    EnqueueAfter(key, std::chrono::seconds(min_ready));
  }
  CK_VLOG(4, "Finished syncing", "kind", "ReplicaSet", "key", key, "duration_ms",
          static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - start).count()));
  return manage_error;
}

Status ReplicaSetController::ManageReplicas(const appsv1::ReplicaSet& rs, const std::string& key,
                                            const std::vector<const corev1::Pod*>& pods) {
  const std::string& ns = rs.metadata().namespace_();
  const int64_t diff = static_cast<int64_t>(pods.size()) - DesiredReplicas(rs);
  if (diff < 0) {
    const int count = static_cast<int>(std::min<int64_t>(-diff, burst_replicas_));
    // Expected before the first create, so that the informer's observations count it down.
    expectations_.ExpectCreations(key, count);
    CK_VLOG(2, "Too few replicas", "replicaSet", key, "need", DesiredReplicas(rs), "creating", count);
    const corev1::Pod pod = PodFromTemplate(rs.spec().template_(), rs.metadata().name(), NewControllerRef(rs));
    auto [created, error] = SlowStartBatch(runner_, count, kSlowStartInitialBatchSize, kReplicaSetPodParallelism, [&] {
      Result<std::shared_ptr<const corev1::Pod>> r = pod_control_.CreatePod(ns, pod, rs);
      if (!r.ok() && NamespaceTerminating(r.status())) return Status::Ok();
      return r.status();
    });
    // Creates never attempted (or failed) will not be observed; the next Sync retries them.
    if (int skipped = count - created; skipped > 0) {
      CK_VLOG(2, "Slow-start failure. Skipping creation of pods, decrementing expectations", "podsSkipped", skipped,
              "kind", "ReplicaSet", "replicaSet", key);
      expectations_.LowerExpectations(key, skipped, 0);
    }
    return error;
  }
  if (diff == 0) return Status::Ok();

  const size_t count = static_cast<size_t>(std::min<int64_t>(diff, burst_replicas_));
  CK_VLOG(2, "Too many replicas", "replicaSet", key, "need", DesiredReplicas(rs), "deleting",
          static_cast<uint64_t>(count));
  std::vector<std::shared_ptr<const corev1::Pod>> related = RelatedPods(rs);
  std::vector<const corev1::Pod*> related_ptrs;
  related_ptrs.reserve(related.size());
  for (const auto& p : related) related_ptrs.push_back(p.get());
  const std::vector<const corev1::Pod*> victims = PodsToDelete(pods, related_ptrs, count);

  // Which pods, not only how many: a deletion is then counted once, whether it is seen as an
  // update with a deletionTimestamp or as a delete.
  std::vector<std::string> pod_keys;
  pod_keys.reserve(victims.size());
  for (const corev1::Pod* p : victims) pod_keys.push_back(api::ObjectKey(p->metadata()));
  expectations_.ExpectDeletions(key, pod_keys);

  // All at once (upstream: a goroutine each), at most kReplicaSetPodParallelism in flight.
  std::mutex mu;
  Status first_error;  // guarded by mu
  runner_.Run(static_cast<int>(victims.size()), kReplicaSetPodParallelism, [&](int i) {
    Status s = DeletePod(rs, *victims[i]);
    if (s.ok()) return;
    // The informer will not see this deletion (or already did): count it here.
    expectations_.DeletionObserved(key, pod_keys[i]);
    if (s.code() == Code::kNotFound) return;
    CK_VLOG(2, "Failed to delete pod, decremented expectations", "pod", pod_keys[i], "kind", "ReplicaSet",
            "replicaSet", key);
    std::lock_guard lock(mu);
    if (first_error.ok()) first_error = s;
  });
  return first_error;
}

Status ReplicaSetController::DeletePod(const appsv1::ReplicaSet& rs, const corev1::Pod& pod) {
  const std::string& ns = pod.metadata().namespace_();
  const std::string& name = pod.metadata().name();
  CK_VLOG(2, "Deleting pod", "controller", rs.metadata().name(), "pod", ns + "/" + name);
  Result<client::ObjectPtr> deleted = api_.Delete(PodsResource(), ns, name);
  if (!deleted.ok()) {
    if (deleted.status().code() == Code::kNotFound) {
      CK_VLOG(4, "Pod has already been deleted.", "pod", ns + "/" + name);
      return deleted.status();
    }
    pod_control_.recorder().Event(rs, client::kEventWarning, "FailedDelete",
                                  "Error deleting: " + deleted.status().message());
    return Status(deleted.status().code(), "unable to delete pods: " + deleted.status().message());
  }
  pod_control_.recorder().Event(rs, client::kEventNormal, "SuccessfulDelete", "Deleted pod: " + name);
  return Status::Ok();
}

std::vector<std::shared_ptr<const corev1::Pod>> ReplicaSetController::RelatedPods(const appsv1::ReplicaSet& rs) const {
  std::vector<std::shared_ptr<const corev1::Pod>> out;
  const metav1::OwnerReference* controller = GetControllerOf(rs.metadata());
  if (controller == nullptr) return out;  // upstream: a ReplicaSet without controller has no relatives
  Result<std::vector<RsPtr>> siblings = replica_sets_.Lister().ByIndex(kControllerUidIndex, controller->uid());
  if (!siblings.ok()) return out;
  std::unordered_set<std::string> seen;
  for (const RsPtr& sibling : *siblings) {
    Result<api::LabelSelector> selector = SelectorOf(*sibling);
    if (!selector.ok()) continue;  // an invalid selector matches no pods
    for (auto& pod : pods_.Lister().Namespace(sibling->metadata().namespace_()).List(*selector)) {
      if (seen.insert(pod->metadata().uid()).second) out.push_back(std::move(pod));
    }
  }
  return out;
}

Result<ReplicaSetController::RsPtr> ReplicaSetController::UpdateStatus(const RsPtr& rs,
                                                                        appsv1::ReplicaSetStatus status) {
  // The steady state: nothing to write.
  if (StatusUnchanged(*rs, status)) return rs;
  // The generation acted on, also when the retry below writes onto a newer object.
  status.set_observedgeneration(rs->metadata().generation());
  const std::string& ns = rs->metadata().namespace_();
  std::unique_ptr<appsv1::ReplicaSet> next = client::MutableCopy(*rs);
  for (int attempt = 0;; ++attempt) {
    CK_VLOG(4, "Updating status for ReplicaSet", "replicaSet", api::ObjectKey(next->metadata()), "replicas",
            next->status().replicas(), "newReplicas", status.replicas(), "need", DesiredReplicas(*next),
            "readyReplicas", status.readyreplicas(), "availableReplicas", status.availablereplicas());
    *next->mutable_status() = status;
    Result<client::ObjectPtr> updated = api_.Update(ReplicaSetsResource(), ns, *next, "status");
    if (updated.ok()) return client::As<appsv1::ReplicaSet>(*updated);
    if (attempt >= kStatusUpdateRetries) return updated.status();  // the queue requeues with backoff
    // Retry on the latest resourceVersion; a failed GET is the more telling error.
    Result<client::ObjectPtr> fresh = api_.Get(ReplicaSetsResource(), ns, rs->metadata().name());
    if (!fresh.ok()) return fresh.status();
    next = client::MutableCopy(static_cast<const appsv1::ReplicaSet&>(**fresh));
  }
}

}  // namespace ck::controller_manager
