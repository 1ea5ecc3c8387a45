#include "controller-manager/job/job_controller.h"

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/client/cache/meta.h"
#include "common/client/workqueue/rate_limiter.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager {

namespace {

constexpr int kSlowStartInitialBatchSize = 1;  // upstream SlowStartInitialBatchSize
constexpr int kCreateParallelism = 32;         // creates of one slow-start batch in flight at once
constexpr size_t kWriteParallelism = 16;       // deletes and finalizer patches in flight at once

const client::ResourceInfo& PodsResource() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(corev1::Pod::descriptor()->full_name());
  return r;
}

bool NamespaceTerminating(const Status& s) {
  return s.code() == Code::kForbidden && s.message().find("because it is being terminated") != std::string::npos;
}

// Runs fn(0..n-1) on up to `max_threads` threads (the caller's included).
void ParallelFor(size_t n, size_t max_threads, const std::function<void(size_t)>& fn) {
  std::atomic<size_t> next{0};
  auto run = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  const size_t threads = std::min(n, max_threads);
  std::vector<std::thread> pool;
  for (size_t i = 1; i < threads; ++i) pool.emplace_back(run);
  run();
  for (std::thread& t : pool) t.join();
}

std::string PodKey(const corev1::Pod& pod) { return api::ObjectKey(pod.metadata()); }

bool IsTerminating(const corev1::Pod& pod) {
  return pod.metadata().has_deletiontimestamp() && !IsPodTerminal(pod);
}

// Upstream ensureJobConditionStatus: sets the condition of `type` to status/reason/message (new
// times when anything changed); a missing condition is added only when the status is not False.
bool EnsureJobConditionStatus(batchv1::JobStatus* status, std::string_view type, std::string_view cond_status,
                              std::string_view reason, std::string_view message, WallTime now) {
  auto fill = [&](batchv1::JobCondition* c) {
    c->set_type(std::string(type));
    c->set_status(std::string(cond_status));
    c->set_reason(std::string(reason));
    c->set_message(std::string(message));
    *c->mutable_lastprobetime() = api::MakeTime(now);
    *c->mutable_lasttransitiontime() = api::MakeTime(now);
  };
  for (batchv1::JobCondition& c : *status->mutable_conditions()) {
    if (c.type() != type) continue;
    if (c.status() != cond_status || c.reason() != reason || c.message() != message) {
      fill(&c);
      return true;
    }
    return false;
  }
  if (cond_status == "False") return false;
  fill(status->add_conditions());
  return true;
}

// Upstream pastBackoffLimitOnFailure: with restartPolicy OnFailure, container restarts of
// running and pending pods count against the backoff limit too.
bool PastBackoffLimitOnFailure(const batchv1::Job& job, const std::vector<const corev1::Pod*>& pods) {
  if (job.spec().template_().spec().restartpolicy() != "OnFailure") return false;
  int64_t restarts = 0;
  for (const corev1::Pod* p : pods) {
    const std::string& phase = p->status().phase();
    if (phase != "Running" && phase != "Pending") continue;
    for (const auto& cs : p->status().initcontainerstatuses()) restarts += cs.restartcount();
    for (const auto& cs : p->status().containerstatuses()) restarts += cs.restartcount();
  }
  const int32_t limit = JobBackoffLimit(job);
  return limit == 0 ? restarts > 0 : restarts >= limit;
}

// Upstream cleanUncountedPodsWithoutFinalizers: uids in uncountedTerminatedPods whose pod no
// longer has the finalizer move into the counters.
bool CleanUncountedPodsWithoutFinalizers(batchv1::JobStatus* status, const std::set<std::string>& uids_with_finalizer) {
  bool updated = false;
  auto* uncounted = status->mutable_uncountedterminatedpods();
  auto filter = [&](google::protobuf::RepeatedPtrField<std::string>* uids, int32_t* counter) {
    int before = uids->size();
    auto keep = std::remove_if(uids->begin(), uids->end(),
                               [&](const std::string& uid) { return !uids_with_finalizer.count(uid); });
    int removed = static_cast<int>(uids->end() - keep);
    uids->erase(keep, uids->end());
    if (removed > 0) {
      updated = true;
      *counter += removed;
    }
    (void)before;
  };
  int32_t succeeded = status->succeeded();
  int32_t failed = status->failed();
  filter(uncounted->mutable_succeeded(), &succeeded);
  filter(uncounted->mutable_failed(), &failed);
  status->set_succeeded(succeeded);
  status->set_failed(failed);
  return updated;
}

// Upstream appendDuplicatedIndexPodsForRemoval and activePodsForRemoval: pods with a missing or
// too large index and all but the best pod of a repeated index go first, then the rest in the
// deletion order (DeleteBefore).
std::vector<const corev1::Pod*> ActivePodsForRemoval(const batchv1::Job& job, std::vector<const corev1::Pod*> pods,
                                                     size_t rm_at_least) {
  auto delete_first = [](const corev1::Pod* a, const corev1::Pod* b) { return DeleteBefore(*a, 0, *b, 0); };
  std::vector<const corev1::Pod*> rm, left;
  if (IsIndexedJob(job)) {
    const int completions = JobCompletions(job).value_or(0);
    std::stable_sort(pods.begin(), pods.end(), [](const corev1::Pod* a, const corev1::Pod* b) {
      return CompletionIndexOf(*a) < CompletionIndexOf(*b);
    });
    size_t i = 0;
    while (i < pods.size()) {
      const int ix = CompletionIndexOf(*pods[i]);
      size_t j = i;
      while (j < pods.size() && CompletionIndexOf(*pods[j]) == ix) ++j;
      std::vector<const corev1::Pod*> same(pods.begin() + i, pods.begin() + j);
      if (ix < 0 || ix >= completions) {
        rm.insert(rm.end(), same.begin(), same.end());
      } else if (same.size() == 1) {
        left.push_back(same[0]);
      } else {
        std::stable_sort(same.begin(), same.end(), delete_first);
        rm.insert(rm.end(), same.begin(), same.end() - 1);
        left.push_back(same.back());
      }
      i = j;
    }
  } else {
    left = std::move(pods);
  }
  if (rm.size() < rm_at_least) {
    std::stable_sort(left.begin(), left.end(), delete_first);
    rm.insert(rm.end(), left.begin(), left.begin() + std::min(left.size(), rm_at_least - rm.size()));
  }
  return rm;
}

std::vector<int> SortedIndexes(const std::vector<const corev1::Pod*>& pods) {
  std::vector<int> out;
  for (const corev1::Pod* p : pods) {
    int ix = CompletionIndexOf(*p);
    if (ix >= 0) out.push_back(ix);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// JOB_COMPLETION_INDEX from the pod's completion index label (upstream, with PodIndexLabel).
void AddCompletionIndexEnv(google::protobuf::RepeatedPtrField<corev1::Container>* containers) {
  for (corev1::Container& c : *containers) {
    bool present = std::any_of(c.env().begin(), c.env().end(),
                               [](const corev1::EnvVar& e) { return e.name() == kJobCompletionIndexEnv; });
    if (present) continue;
    corev1::EnvVar* env = c.add_env();
    env->set_name(std::string(kJobCompletionIndexEnv));
    auto* ref = env->mutable_valuefrom()->mutable_fieldref();
    ref->set_apiversion("v1");
    ref->set_fieldpath("metadata.labels['" + std::string(kJobCompletionIndexAnnotation) + "']");
  }
}

}  // namespace

// ---- FinalizerExpectations ----------------------------------------------------------------------

void FinalizerExpectations::ExpectRemoved(const std::string& job_key, const std::vector<std::string>& uids) {
  std::lock_guard lock(mu_);
  uids_[job_key].insert(uids.begin(), uids.end());
}

void FinalizerExpectations::RemovalObserved(const std::string& job_key, const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = uids_.find(job_key);
  if (it == uids_.end()) return;
  it->second.erase(uid);
  if (it->second.empty()) uids_.erase(it);
}

std::set<std::string> FinalizerExpectations::Expected(const std::string& job_key) const {
  std::lock_guard lock(mu_);
  auto it = uids_.find(job_key);
  return it == uids_.end() ? std::set<std::string>{} : it->second;
}

void FinalizerExpectations::Delete(const std::string& job_key) {
  std::lock_guard lock(mu_);
  uids_.erase(job_key);
}

// ---- Construction -------------------------------------------------------------------------------

struct JobController::SyncContext {
  std::string key;
  batchv1::Job job;  // a copy of the cached Job; its status is what this Sync writes
  std::vector<PodPtr> owned;                 // keeps the pods below alive
  std::vector<const corev1::Pod*> pods;      // every pod the Job controls
  std::vector<const corev1::Pod*> active_pods;
  std::optional<batchv1::JobCondition> finished;
  int32_t succeeded = 0;
  int32_t failed = 0;
  IndexIntervals prev_succeeded_indexes;
  IndexIntervals succeeded_indexes;
  JobBackoffRecord new_backoff;
  std::set<std::string> uncounted_succeeded;
  std::set<std::string> uncounted_failed;
  std::set<std::string> expected_rm_finalizers;
  int32_t terminating = 0;
  int32_t ready = 0;
};

JobController::JobController(ControllerContext& context)
    : ManagedController(client::ControllerOptions{
          .name = "job",
          .workers = context.settings.concurrent_job_syncs,
          .clock = &context.clock,
          .registry = &context.metrics,
          .rate_limiter = std::make_unique<client::ItemExponentialFailureRateLimiter>(kJobApiBackoff, kJobMaxApiBackoff)}),
      api_(context.api),
      clock_(context.clock),
      pod_control_(context.api, context.Recorder("job-controller")),
      expectations_(context.clock),
      jobs_(context.informers.ForKind<batchv1::Job>()),
      pods_(context.informers.ForKind<corev1::Pod>()) {
  Handle(jobs_, client::TypedEventHandler<batchv1::Job>{
      .on_add = [this](const JobPtr& job, bool) { Enqueue(api::ObjectKey(job->metadata())); },
      .on_update = [this](const JobPtr& old_job, const JobPtr& cur_job) { OnJobUpdate(*old_job, *cur_job); },
      .on_delete = [this](const JobPtr& job, bool) { OnJobDelete(*job); },
  });
  Handle(pods_, client::TypedEventHandler<corev1::Pod>{
      .on_add = [this](const PodPtr& pod, bool) { OnPodAdd(*pod); },
      .on_update = [this](const PodPtr& old_pod, const PodPtr& cur_pod) { OnPodUpdate(*old_pod, *cur_pod); },
      .on_delete = [this](const PodPtr& pod, bool) { OnPodDelete(*pod, /*final_state=*/true); },
  });
}

JobController::~JobController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> JobController::Informers() const {
  return {&jobs_.Informer(), &pods_.Informer()};
}

JobBackoffRecord JobController::BackoffRecordForTesting(const std::string& job_key) const {
  std::lock_guard lock(backoff_mu_);
  auto it = backoff_.find(job_key);
  return it == backoff_.end() ? JobBackoffRecord{} : it->second;
}

// ---- Handlers -----------------------------------------------------------------------------------

void JobController::EnqueueBatched(const batchv1::Job& job) {
  EnqueueAfter(api::ObjectKey(job.metadata()), kJobSyncBatchPeriod);
}

void JobController::EnqueueOrphanPod(const corev1::Pod& pod) {
  Enqueue(std::string(kOrphanPodKeyPrefix) + PodKey(pod));
}

JobController::JobPtr JobController::ResolveControllerRef(const std::string& ns,
                                                          const metav1::OwnerReference& ref) const {
  if (ref.kind() != "Job" || ref.apiversion() != "batch/v1") return nullptr;
  Result<JobPtr> job = jobs_.Lister().Get(ns, ref.name());
  if (!job.ok() || (*job)->metadata().uid() != ref.uid()) return nullptr;
  return *job;
}

std::vector<JobController::JobPtr> JobController::PodJobs(const corev1::Pod& pod) const {
  std::vector<JobPtr> out;
  if (pod.metadata().labels().empty()) return out;
  for (JobPtr& job : jobs_.Lister().Namespace(pod.metadata().namespace_()).List()) {
    if (!job->spec().has_selector()) continue;
    Result<api::LabelSelector> selector = api::LabelSelector::FromProto(&job->spec().selector());
    if (!selector.ok() || selector->Empty() || selector->MatchesNothing()) continue;
    if (selector->Matches(pod.metadata().labels())) out.push_back(std::move(job));
  }
  return out;
}

void JobController::CleanupPodFinalizers(const batchv1::Job& job) {
  if (!job.spec().has_selector()) return;
  Result<api::LabelSelector> selector = api::LabelSelector::FromProto(&job.spec().selector());
  if (!selector.ok()) return;
  for (const PodPtr& pod : pods_.Lister().Namespace(job.metadata().namespace_()).List(*selector)) {
    if (IsControlledBy(pod->metadata(), job.metadata().uid()) && HasJobTrackingFinalizer(*pod)) EnqueueOrphanPod(*pod);
  }
}

void JobController::OnJobUpdate(const batchv1::Job& old_job, const batchv1::Job& cur_job) {
  const std::string key = api::ObjectKey(cur_job.metadata());
  if (old_job.metadata().uid() != cur_job.metadata().uid()) {
    // A recreated namesake starts with clean expectations.
    expectations_.DeleteExpectations(key);
    finalizer_expectations_.Delete(key);
  }
  if (cur_job.metadata().generation() == old_job.metadata().generation()) {
    EnqueueBatched(cur_job);  // a status update, usually caused by pod events: batch them
  } else {
    Enqueue(key);  // the spec changed: act now
  }
  // Backup: a finished Job's pods must not keep the finalizer.
  if (IsJobFinished(cur_job)) CleanupPodFinalizers(cur_job);
  // A changed activeDeadlineSeconds moves the deadline check.
  if (cur_job.status().has_starttime() && cur_job.spec().has_activedeadlineseconds() &&
      (!old_job.spec().has_activedeadlineseconds() ||
       old_job.spec().activedeadlineseconds() != cur_job.spec().activedeadlineseconds())) {
    Duration passed = clock_.Now() - api::WallTimeOf(cur_job.status().starttime());
    Duration total = std::chrono::seconds(cur_job.spec().activedeadlineseconds());
    EnqueueAfter(key, std::max(Duration::zero(), total - passed));
  }
}

void JobController::OnJobDelete(const batchv1::Job& job) {
  Enqueue(api::ObjectKey(job.metadata()));
  CleanupPodFinalizers(job);
}

void JobController::OnPodAdd(const corev1::Pod& pod) {
  if (pod.metadata().has_deletiontimestamp()) {
    // Seen for the first time already being deleted (a restart): never a creation observation.
    OnPodDelete(pod, /*final_state=*/false);
    return;
  }
  if (const metav1::OwnerReference* ref = GetControllerOf(pod.metadata()); ref != nullptr) {
    JobPtr job = ResolveControllerRef(pod.metadata().namespace_(), *ref);
    if (job == nullptr) {
      if (HasJobTrackingFinalizer(pod)) EnqueueOrphanPod(pod);
      return;
    }
    expectations_.CreationObserved(api::ObjectKey(job->metadata()));
    EnqueueBatched(*job);
    return;
  }
  if (HasJobTrackingFinalizer(pod)) EnqueueOrphanPod(pod);
  // An orphan: every matching Job may want to adopt it.
  for (const JobPtr& job : PodJobs(pod)) EnqueueBatched(*job);
}

void JobController::OnPodUpdate(const corev1::Pod& old_pod, const corev1::Pod& cur_pod) {
  if (old_pod.metadata().resourceversion() == cur_pod.metadata().resourceversion()) return;  // a resync
  if (cur_pod.metadata().has_deletiontimestamp()) {
    // Graceful deletion started: the Job may replace the pod now.
    OnPodDelete(cur_pod, /*final_state=*/false);
    return;
  }
  const bool finalizer_removed = !HasJobTrackingFinalizer(cur_pod);
  const metav1::OwnerReference* cur_ref = GetControllerOf(cur_pod.metadata());
  const metav1::OwnerReference* old_ref = GetControllerOf(old_pod.metadata());
  const bool ref_changed = (cur_ref == nullptr) != (old_ref == nullptr) ||
                           (cur_ref != nullptr && cur_ref->SerializeAsString() != old_ref->SerializeAsString());
  if (ref_changed && old_ref != nullptr) {
    if (JobPtr job = ResolveControllerRef(old_pod.metadata().namespace_(), *old_ref)) {
      if (finalizer_removed) {
        finalizer_expectations_.RemovalObserved(api::ObjectKey(job->metadata()), cur_pod.metadata().uid());
      }
      EnqueueBatched(*job);
    }
  }
  if (cur_ref != nullptr) {
    JobPtr job = ResolveControllerRef(cur_pod.metadata().namespace_(), *cur_ref);
    if (job == nullptr) {
      if (HasJobTrackingFinalizer(cur_pod)) EnqueueOrphanPod(cur_pod);
      return;
    }
    if (finalizer_removed) {
      finalizer_expectations_.RemovalObserved(api::ObjectKey(job->metadata()), cur_pod.metadata().uid());
    }
    EnqueueBatched(*job);
    return;
  }
  if (HasJobTrackingFinalizer(cur_pod)) EnqueueOrphanPod(cur_pod);
  bool labels_changed = old_pod.metadata().labels().size() != cur_pod.metadata().labels().size();
  for (const auto& [k, v] : cur_pod.metadata().labels()) {
    auto it = old_pod.metadata().labels().find(k);
    if (it == old_pod.metadata().labels().end() || it->second != v) labels_changed = true;
  }
  if (labels_changed || ref_changed) {
    for (const JobPtr& job : PodJobs(cur_pod)) EnqueueBatched(*job);
  }
}

void JobController::OnPodDelete(const corev1::Pod& pod, bool final_state) {
  const bool has_finalizer = HasJobTrackingFinalizer(pod);
  const metav1::OwnerReference* ref = GetControllerOf(pod.metadata());
  if (ref == nullptr) {
    // No Job cares about an orphan going away, but it may still hold the finalizer.
    if (has_finalizer) EnqueueOrphanPod(pod);
    return;
  }
  JobPtr job = ResolveControllerRef(pod.metadata().namespace_(), *ref);
  if (job == nullptr || IsJobFinished(*job)) {
    // No Sync of that Job removes this finalizer any more.
    if (has_finalizer) EnqueueOrphanPod(pod);
    return;
  }
  const std::string key = api::ObjectKey(job->metadata());
  expectations_.DeletionObserved(key, PodKey(pod));
  // The final delete, or a deletion update of a pod whose finalizer is gone.
  if (final_state || !has_finalizer) finalizer_expectations_.RemovalObserved(key, pod.metadata().uid());
  EnqueueBatched(*job);
}

// ---- Sync ---------------------------------------------------------------------------------------

Status JobController::Sync(const std::string& key) {
  if (key.starts_with(kOrphanPodKeyPrefix)) return SyncOrphanPod(key.substr(kOrphanPodKeyPrefix.size()));
  MonoTime start = clock_.Monotonic();
  Status s = SyncJob(key);
  CK_VLOG(4, "Finished syncing job", "key", key, "elapsed_ms",
          static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Monotonic() - start).count()));
  return s;
}

Status JobController::SyncOrphanPod(const std::string& pod_key) {
  Result<std::pair<std::string, std::string>> split = api::SplitObjectKey(pod_key);
  if (!split.ok()) return Status::Ok();
  const auto& [ns, name] = *split;
  Result<PodPtr> found = pods_.Lister().Get(ns, name);
  if (found.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(found.status());
  const corev1::Pod& pod = **found;
  if (const metav1::OwnerReference* ref = GetControllerOf(pod.metadata()); ref != nullptr) {
    // Controlled by something else than a Job: its finalizers are none of our business.
    if (ref->kind() != "Job" || ref->apiversion() != "batch/v1") return Status::Ok();
    JobPtr job = ResolveControllerRef(ns, *ref);
    if (job != nullptr && ManagedByExternalController(*job)) return Status::Ok();
    // Adopted (again) by a running Job: that Job's Sync counts it.
    if (job != nullptr && !IsJobFinished(*job)) return Status::Ok();
  }
  if (!HasJobTrackingFinalizer(pod)) return Status::Ok();
  Status s = pod_control_.PatchPod(ns, name, RemoveTrackingFinalizerPatch());
  if (!s.ok() && s.code() != Code::kNotFound) return s;
  return Status::Ok();
}

Result<std::vector<JobController::PodPtr>> JobController::PodsForJob(const batchv1::Job& job,
                                                                      const api::LabelSelector& selector) {
  const std::string& ns = job.metadata().namespace_();
  const std::string& uid = job.metadata().uid();
  // Every pod of the namespace, to see also pods that still name this Job as controller but no
  // longer match its selector.
  std::vector<client::ObjectPtr> candidates;
  std::set<std::string> ours_before;
  for (PodPtr& pod : pods_.Lister().Namespace(ns).List()) {
    if (IsControlledBy(pod->metadata(), uid)) ours_before.insert(pod->metadata().uid());
    candidates.push_back(std::move(pod));
  }
  ControllerRefManager ref_manager(api_, job, selector, PodsResource(),
                                   RecheckDeletionTimestamp(api_, JobsResource(), ns, job.metadata().name(), uid));
  CK_ASSIGN_OR_RETURN(std::vector<client::ObjectPtr> claimed, ref_manager.Claim(candidates));
  std::vector<PodPtr> pods;
  pods.reserve(claimed.size());
  for (const client::ObjectPtr& o : claimed) {
    PodPtr pod = client::As<corev1::Pod>(o);
    if (!ours_before.count(pod->metadata().uid()) && !HasJobTrackingFinalizer(*pod)) {
      // Adopted: it is tracked like the pods this Job created (upstream adopts with the finalizer).
      Result<client::ObjectPtr> patched =
          api_.Patch(PodsResource(), ns, pod->metadata().name(), client::PatchType::kStrategicMerge,
                     R"({"metadata":{"finalizers":[")" + std::string(kJobTrackingFinalizer) + R"("]}})");
      if (patched.ok()) pod = client::As<corev1::Pod>(*patched);
    }
    pods.push_back(std::move(pod));
  }
  // A stable order (the cache's is arbitrary) keeps Syncs reproducible.
  std::sort(pods.begin(), pods.end(), [](const PodPtr& a, const PodPtr& b) {
    return a->metadata().name() < b->metadata().name();
  });
  return pods;
}

batchv1::JobCondition JobController::NewCondition(std::string_view type, std::string_view reason,
                                                  std::string_view message) const {
  batchv1::JobCondition c;
  c.set_type(std::string(type));
  c.set_status("True");
  c.set_reason(std::string(reason));
  c.set_message(std::string(message));
  WallTime now = clock_.Now();
  *c.mutable_lastprobetime() = api::MakeTime(now);
  *c.mutable_lasttransitiontime() = api::MakeTime(now);
  return c;
}

bool JobController::PastActiveDeadline(const batchv1::Job& job) const {
  if (!job.spec().has_activedeadlineseconds() || !job.status().has_starttime() || JobSuspended(job)) return false;
  Duration elapsed = clock_.Now() - api::WallTimeOf(job.status().starttime());
  return elapsed >= std::chrono::seconds(job.spec().activedeadlineseconds());
}

Status JobController::SyncJob(const std::string& key) {
  Result<std::pair<std::string, std::string>> split = api::SplitObjectKey(key);
  if (!split.ok() || split->first.empty()) {
    CK_LOG_ERROR("Invalid job key", "key", key);
    return Status::Ok();  // retrying cannot fix a malformed key
  }
  const auto& [ns, name] = *split;
  Result<JobPtr> found = jobs_.Lister().Get(ns, name);
  if (found.status().code() == Code::kNotFound) {
    CK_VLOG(4, "Job has been deleted", "key", key);
    expectations_.DeleteExpectations(key);
    finalizer_expectations_.Delete(key);
    std::lock_guard lock(backoff_mu_);
    backoff_.erase(key);
    return Status::Ok();
  }
  CK_RETURN_IF_ERROR(found.status());
  const batchv1::Job& shared = **found;
  if (ManagedByExternalController(shared)) {
    CK_VLOG(2, "Skip syncing the job as it is managed by an external controller", "key", key, "controllerName",
            shared.spec().managedby());
    return Status::Ok();
  }
  if (IsJobFinished(shared)) {
    // Finished for good: nothing is created or counted any more.
    std::lock_guard lock(backoff_mu_);
    backoff_.erase(key);
    return Status::Ok();
  }
  if (shared.spec().has_completionmode() && shared.spec().completionmode() != "NonIndexed" &&
      shared.spec().completionmode() != "Indexed") {
    pod_control_.recorder().Event(shared, client::kEventWarning, "UnknownCompletionMode",
                                  "Skipped Job sync because completion mode is unknown");
    return Status::Ok();
  }

  SyncContext ctx;
  ctx.key = key;
  ctx.job = shared;
  batchv1::Job& job = ctx.job;
  batchv1::JobStatus* status = job.mutable_status();
  status->mutable_uncountedterminatedpods();  // present, even when empty, as upstream writes it
  const bool indexed = IsIndexedJob(job);
  const std::optional<int32_t> completions = JobCompletions(job);

  // Checked before the pods are listed: a pod created after the check defers the Sync to the
  // pod's own event instead of sneaking past the expectations.
  const bool satisfied = expectations_.SatisfiedExpectations(key);

  Result<api::LabelSelector> selector =
      api::LabelSelector::FromProto(job.spec().has_selector() ? &job.spec().selector() : nullptr);
  if (!selector.ok()) {
    CK_LOG_ERROR("Invalid job selector", "key", key, "err", selector.status().message());
    return Status::Ok();  // only an update of the Job fixes it, and that enqueues it
  }
  CK_ASSIGN_OR_RETURN(ctx.owned, PodsForJob(job, *selector));
  for (const PodPtr& p : ctx.owned) {
    ctx.pods.push_back(p.get());
    if (IsPodActive(*p)) {
      ctx.active_pods.push_back(p.get());
      if (IsPodReady(*p)) ++ctx.ready;
    }
    if (IsTerminating(*p)) ++ctx.terminating;
  }
  for (const std::string& uid : status->uncountedterminatedpods().succeeded()) ctx.uncounted_succeeded.insert(uid);
  for (const std::string& uid : status->uncountedterminatedpods().failed()) ctx.uncounted_failed.insert(uid);
  ctx.expected_rm_finalizers = finalizer_expectations_.Expected(key);
  int32_t active = static_cast<int32_t>(ctx.active_pods.size());

  // Finished pods not counted yet: they still hold the finalizer and are in no uncounted list.
  std::vector<const corev1::Pod*> new_succeeded, new_failed;
  for (const corev1::Pod* p : ctx.pods) {
    const std::string& uid = p->metadata().uid();
    if (!HasJobTrackingFinalizer(*p) || ctx.expected_rm_finalizers.count(uid)) continue;
    if (indexed) {
      int ix = CompletionIndexOf(*p);
      if (ix < 0 || ix >= completions.value_or(0)) continue;
    }
    if (p->status().phase() == "Succeeded" && !ctx.uncounted_succeeded.count(uid)) new_succeeded.push_back(p);
    if (IsJobPodFailed(*p, job) && !ctx.uncounted_failed.count(uid)) new_failed.push_back(p);
  }
  ctx.succeeded = status->succeeded() + static_cast<int32_t>(new_succeeded.size() + ctx.uncounted_succeeded.size());
  ctx.failed = status->failed() + static_cast<int32_t>(new_failed.size() + ctx.uncounted_failed.size());

  // First start (not while suspended).
  if (!status->has_starttime() && !JobSuspended(job)) *status->mutable_starttime() = api::MakeTime(clock_.Now());

  {
    std::lock_guard lock(backoff_mu_);
    auto it = backoff_.find(key);
    ctx.new_backoff = NextBackoffRecord(it == backoff_.end() ? JobBackoffRecord{} : it->second, new_succeeded,
                                        new_failed);
  }

  Status manage_error;
  const bool exceeds_backoff_limit = ctx.failed > JobBackoffLimit(job);
  if (const batchv1::JobCondition* met = FindJobCondition(*status, kJobSuccessCriteriaMet);
      met != nullptr && met->status() == "True") {
    ctx.finished = *met;  // success was decided in an earlier Sync
  } else if (const batchv1::JobCondition* target = FindJobCondition(*status, kJobFailureTarget);
             target != nullptr && target->status() == "True") {
    ctx.finished = NewCondition(kJobFailed, target->reason(), target->message());
  }
  if (!ctx.finished) {
    if (exceeds_backoff_limit || PastBackoffLimitOnFailure(job, ctx.pods)) {
      ctx.finished = NewCondition(kJobFailureTarget, kJobReasonBackoffLimitExceeded,
                                  "Job has reached the specified backoff limit");
    } else if (PastActiveDeadline(job)) {
      ctx.finished = NewCondition(kJobFailureTarget, kJobReasonDeadlineExceeded,
                                  "Job was active longer than specified deadline");
    } else if (job.spec().has_activedeadlineseconds() && !JobSuspended(job)) {
      Duration left = std::chrono::seconds(job.spec().activedeadlineseconds()) -
                      (clock_.Now() - api::WallTimeOf(status->starttime()));
      CK_VLOG(2, "Job has activeDeadlineSeconds configuration. Will sync this job again", "key", key, "nextSyncIn_ms",
              static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
      EnqueueAfter(key, std::max(Duration::zero(), left));
    }
  }

  if (indexed) {
    ctx.prev_succeeded_indexes = IndexIntervals::Parse(status->completedindexes(), completions.value_or(0));
    std::vector<const corev1::Pod*> counted;
    for (const corev1::Pod* p : ctx.pods) {
      int ix = CompletionIndexOf(*p);
      if (p->status().phase() == "Succeeded" && ix >= 0 && ix < completions.value_or(0) && HasJobTrackingFinalizer(*p)) {
        counted.push_back(p);
      }
    }
    ctx.succeeded_indexes = ctx.prev_succeeded_indexes.With(SortedIndexes(counted));
    ctx.succeeded = ctx.succeeded_indexes.Total();
  }

  bool suspend_changed = false;
  if (ctx.finished) {
    // Finished: the active pods go (their finalizers stay until they are counted as failed).
    int32_t deleted_ready = 0;
    int32_t deleted = DeleteActivePods(job, ctx.active_pods, &deleted_ready, &manage_error);
    if (deleted != active || !satisfied) {
      // Not all deletes went through, or pods may be missing from the cache: not finished yet.
      ctx.finished.reset();
    }
    active -= deleted;
    ctx.terminating += deleted;
    ctx.ready -= deleted_ready;
  } else {
    bool manage_called = false;
    if (satisfied && !job.metadata().has_deletiontimestamp()) {
      manage_error = ManageJob(ctx, &active);
      manage_called = true;
    }
    const bool complete = completions ? ctx.succeeded >= *completions && active == 0 : ctx.succeeded > 0 && active == 0;
    if (complete) {
      ctx.finished = NewCondition(kJobSuccessCriteriaMet, kJobReasonCompletionsReached,
                                  "Reached expected number of succeeded pods");
    } else if (manage_called) {
      // Conditions and events only when this Sync managed the pods.
      if (JobSuspended(job)) {
        if (EnsureJobConditionStatus(status, kJobSuspended, "True", "JobSuspended", "Job suspended", clock_.Now())) {
          suspend_changed = true;
          pod_control_.recorder().Event(job, client::kEventNormal, "Suspended", "Job suspended");
        }
      } else if (EnsureJobConditionStatus(status, kJobSuspended, "False", "JobResumed", "Job resumed", clock_.Now())) {
        suspend_changed = true;
        pod_control_.recorder().Event(job, client::kEventNormal, "Resumed", "Job resumed");
        // activeDeadlineSeconds counts continuous activity: a resumed Job starts again.
        *status->mutable_starttime() = api::MakeTime(clock_.Now());
      }
    }
  }

  const bool needs_status_update = suspend_changed || active != status->active() || !status->has_ready() ||
                                   ctx.ready != status->ready() || !status->has_terminating() ||
                                   ctx.terminating != status->terminating();
  status->set_active(active);
  status->set_ready(ctx.ready);
  status->set_terminating(ctx.terminating);
  Status tracked = TrackJobStatusAndRemoveFinalizers(ctx, needs_status_update);
  if (!tracked.ok()) return tracked.WithPrefix("tracking status: ");
  return manage_error;
}

Status JobController::ManageJob(SyncContext& ctx, int32_t* active) {
  const batchv1::Job& job = ctx.job;
  const std::string& ns = job.metadata().namespace_();
  const std::optional<int32_t> completions = JobCompletions(job);

  auto delete_pods = [&](const std::vector<const corev1::Pod*>& victims) {
    std::vector<std::string> keys;
    for (const corev1::Pod* p : victims) keys.push_back(PodKey(*p));
    expectations_.ExpectDeletions(ctx.key, keys);
    int32_t removed_ready = 0;
    Status error;
    int32_t removed = DeleteJobPods(job, ctx.key, victims, &removed_ready, &error);
    *active -= removed;
    ctx.terminating += removed;
    ctx.ready -= removed_ready;
    return error;
  };

  if (JobSuspended(job)) {
    CK_VLOG(4, "Deleting all active pods in suspended job", "job", ctx.key, "active", *active);
    return delete_pods(ActivePodsForRemoval(job, ctx.active_pods, static_cast<size_t>(*active)));
  }

  int32_t want_active = 0;
  if (!completions) {
    // A work queue: parallelism pods until one succeeds, then only those still running.
    want_active = ctx.succeeded > 0 ? *active : JobParallelism(job);
  } else {
    want_active = std::clamp(*completions - ctx.succeeded, 0, std::max(0, JobParallelism(job)));
  }

  const int32_t rm_at_least = std::max(0, *active - want_active);
  std::vector<const corev1::Pod*> victims = ActivePodsForRemoval(job, ctx.active_pods, static_cast<size_t>(rm_at_least));
  if (victims.size() > static_cast<size_t>(kJobMaxPodCreateDeletePerSync)) victims.resize(kJobMaxPodCreateDeletePerSync);
  if (!victims.empty()) {
    CK_VLOG(4, "Too many pods running for job", "job", ctx.key, "deleted", static_cast<int64_t>(victims.size()),
            "target", want_active);
    // Either deletes or creates in one Sync; deletes first (indexed Jobs may need both).
    return delete_pods(victims);
  }

  const int32_t terminating = OnlyReplaceFailedPods(job) ? ctx.terminating : 0;
  int32_t diff = want_active - terminating - *active;
  if (diff <= 0) return Status::Ok();

  Duration remaining = RemainingBackoff(ctx.new_backoff, clock_.Now());
  if (remaining > Duration::zero()) {
    // Failed pods are replaced only after the backoff (upstream also reports 0 active meanwhile).
    CK_VLOG(4, "Job pod creation backs off", "job", ctx.key, "remaining_ms",
            static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(remaining).count()));
    EnqueueAfter(ctx.key, std::max(remaining, kJobSyncBatchPeriod));
    *active = 0;
    return Status::Ok();
  }
  diff = std::min(diff, kJobMaxPodCreateDeletePerSync);

  std::vector<int> indexes;
  if (IsIndexedJob(job)) {
    // Upstream firstPendingIndexes: the lowest indexes neither succeeded nor running.
    std::vector<const corev1::Pod*> busy = ctx.active_pods;
    if (OnlyReplaceFailedPods(job)) {
      for (const corev1::Pod* p : ctx.pods) {
        if (IsTerminating(*p)) busy.push_back(p);
      }
    }
    const IndexIntervals non_pending = ctx.succeeded_indexes.With(SortedIndexes(busy));
    int candidate = 0;
    const int total = completions.value_or(0);
    for (const auto& [first, last] : non_pending.intervals()) {
      for (; candidate < total && static_cast<int32_t>(indexes.size()) < diff && candidate < first; ++candidate) {
        indexes.push_back(candidate);
      }
      candidate = std::max(candidate, last + 1);
    }
    for (; candidate < total && static_cast<int32_t>(indexes.size()) < diff; ++candidate) indexes.push_back(candidate);
    diff = static_cast<int32_t>(indexes.size());
    if (diff == 0) return Status::Ok();
  }

  expectations_.ExpectCreations(ctx.key, diff);
  CK_VLOG(4, "Too few pods running", "key", ctx.key, "need", want_active, "creating", diff);
  corev1::PodTemplateSpec tmpl = job.spec().template_();
  if (IsIndexedJob(job)) {
    AddCompletionIndexEnv(tmpl.mutable_spec()->mutable_containers());
    AddCompletionIndexEnv(tmpl.mutable_spec()->mutable_initcontainers());
  }
  auto* finalizers = tmpl.mutable_metadata()->mutable_finalizers();
  if (std::find(finalizers->begin(), finalizers->end(), kJobTrackingFinalizer) == finalizers->end()) {
    finalizers->Add(std::string(kJobTrackingFinalizer));
  }
  const corev1::Pod base = PodFromTemplate(tmpl, job.metadata().name(), NewControllerRef(job));
  std::atomic<size_t> next_index{0};
  auto [created, error] = SlowStartBatch(diff, kSlowStartInitialBatchSize, kCreateParallelism, [&]() -> Status {
    corev1::Pod pod = base;
    if (!indexes.empty()) {
      const int ix = indexes[next_index.fetch_add(1)];
      const std::string value = std::to_string(ix);
      (*pod.mutable_metadata()->mutable_annotations())[std::string(kJobCompletionIndexAnnotation)] = value;
      (*pod.mutable_metadata()->mutable_labels())[std::string(kJobCompletionIndexAnnotation)] = value;
      pod.mutable_spec()->set_hostname(job.metadata().name() + "-" + value);
      pod.mutable_metadata()->set_generatename(PodGenerateNameWithIndex(job.metadata().name(), ix));
    }
    Result<std::shared_ptr<const corev1::Pod>> r = pod_control_.CreatePod(ns, pod, job);
    // A terminating namespace refuses every create; nothing to retry.
    if (!r.ok() && NamespaceTerminating(r.status())) return Status::Ok();
    return r.status();
  });
  // Creates that failed or were never attempted will not be observed.
  if (int skipped = diff - created; skipped > 0) {
    CK_VLOG(2, "Slow-start failure. Skipping creating pods, decrementing expectations", "skippedCount", skipped, "job",
            ctx.key);
    expectations_.LowerExpectations(ctx.key, skipped, 0);
  }
  *active += created;
  return error;
}

int32_t JobController::DeleteActivePods(const batchv1::Job& job, const std::vector<const corev1::Pod*>& pods,
                                        int32_t* deleted_ready, Status* error) {
  std::atomic<int32_t> deleted{static_cast<int32_t>(pods.size())};
  std::atomic<int32_t> ready{0};
  std::mutex mu;
  ParallelFor(pods.size(), kWriteParallelism, [&](size_t i) {
    const corev1::Pod& pod = *pods[i];
    Status s = pod_control_.DeletePod(job.metadata().namespace_(), pod.metadata().name(), pod.metadata().uid(), job);
    if (!s.ok()) {
      --deleted;
      std::lock_guard lock(mu);
      if (error->ok()) *error = s;
    }
    if (IsPodReady(pod)) ++ready;
  });
  *deleted_ready = ready;
  return deleted;
}

int32_t JobController::DeleteJobPods(const batchv1::Job& job, const std::string& key,
                                     const std::vector<const corev1::Pod*>& pods, int32_t* deleted_ready,
                                     Status* error) {
  std::atomic<int32_t> deleted{static_cast<int32_t>(pods.size())};
  std::atomic<int32_t> ready{0};
  std::mutex mu;
  ParallelFor(pods.size(), kWriteParallelism, [&](size_t i) {
    const corev1::Pod& pod = *pods[i];
    auto fail = [&](const Status& s) {
      // The informer will not see this deletion: count it here.
      expectations_.DeletionObserved(key, PodKey(pod));
      if (s.code() == Code::kNotFound) return;
      --deleted;
      std::lock_guard lock(mu);
      if (error->ok()) *error = s;
    };
    // Removed pods are not failures: drop the finalizer first so that they are never counted.
    if (HasJobTrackingFinalizer(pod)) {
      Status s = pod_control_.PatchPod(pod.metadata().namespace_(), pod.metadata().name(), RemoveTrackingFinalizerPatch());
      if (!s.ok()) {
        fail(s.WithPrefix("removing completion finalizer: "));
        return;
      }
    }
    Status s = pod_control_.DeletePod(job.metadata().namespace_(), pod.metadata().name(), pod.metadata().uid(), job);
    if (!s.ok()) fail(s);
    if (IsPodReady(pod)) ++ready;
  });
  *deleted_ready = ready;
  return deleted;
}

Status JobController::UpdateJobStatus(batchv1::Job* job) {
  Result<client::ObjectPtr> updated = api_.Update(JobsResource(), job->metadata().namespace_(), *job, "status");
  if (!updated.ok()) return updated.status();
  *job = static_cast<const batchv1::Job&>(**updated);
  return Status::Ok();
}

Status JobController::TrackJobStatusAndRemoveFinalizers(SyncContext& ctx, bool needs_flush) {
  batchv1::Job& job = ctx.job;
  batchv1::JobStatus* status = job.mutable_status();
  const bool indexed = IsIndexedJob(job);
  const int completions = JobCompletions(job).value_or(0);
  std::vector<const corev1::Pod*> pods = ctx.pods;
  if (indexed) {
    // Completed indexes are introduced in order.
    std::stable_sort(pods.begin(), pods.end(), [](const corev1::Pod* a, const corev1::Pod* b) {
      return CompletionIndexOf(*a) < CompletionIndexOf(*b);
    });
  }
  std::set<std::string> uids_with_finalizer;
  for (const corev1::Pod* p : pods) {
    if (HasJobTrackingFinalizer(*p) && !ctx.expected_rm_finalizers.count(p->metadata().uid())) {
      uids_with_finalizer.insert(p->metadata().uid());
    }
  }
  if (CleanUncountedPodsWithoutFinalizers(status, uids_with_finalizer)) needs_flush = true;

  std::vector<const corev1::Pod*> to_remove;
  std::vector<int> new_succeeded_indexes;
  bool reached_max_uncounted = false;
  auto* uncounted = status->mutable_uncountedterminatedpods();
  for (const corev1::Pod* pod : pods) {
    const std::string& uid = pod->metadata().uid();
    if (!HasJobTrackingFinalizer(*pod) || ctx.expected_rm_finalizers.count(uid)) continue;  // done earlier
    const bool failed = IsJobPodFailed(*pod, job);
    // Upstream canRemoveFinalizer: the Job is being deleted or has finished, or the pod has.
    const bool removable = job.metadata().has_deletiontimestamp() || ctx.finished.has_value() ||
                           pod->status().phase() == "Succeeded" || failed;
    if (!removable) continue;
    to_remove.push_back(pod);
    if (pod->status().phase() == "Succeeded" && !ctx.uncounted_failed.count(uid)) {
      if (indexed) {
        // The index alone is enough never to count a success twice.
        int ix = CompletionIndexOf(*pod);
        if (ix >= 0 && ix < completions && !ctx.prev_succeeded_indexes.Has(ix)) {
          new_succeeded_indexes.push_back(ix);
          needs_flush = true;
        }
      } else if (!ctx.uncounted_succeeded.count(uid)) {
        needs_flush = true;
        uncounted->add_succeeded(uid);
      }
    } else if (failed || (ctx.finished && ctx.finished->type() != kJobSuccessCriteriaMet)) {
      // Once the Job failed, every pod that did not succeed counts as failed.
      int ix = CompletionIndexOf(*pod);
      if (!ctx.uncounted_failed.count(uid) && (!indexed || (ix >= 0 && ix < completions))) {
        needs_flush = true;
        uncounted->add_failed(uid);
      }
    }
    if (new_succeeded_indexes.size() + uncounted->succeeded_size() + uncounted->failed_size() >=
        static_cast<size_t>(kJobMaxUncountedPods)) {
      // Keeps the status small and one big Job from starving the others; the updates this
      // Sync makes bring the Job back.
      reached_max_uncounted = true;
      break;
    }
  }
  if (indexed) {
    std::sort(new_succeeded_indexes.begin(), new_succeeded_indexes.end());
    ctx.succeeded_indexes = ctx.succeeded_indexes.With(new_succeeded_indexes);
    std::string completed = ctx.succeeded_indexes.String();
    if (completed != status->completedindexes()) needs_flush = true;
    status->set_succeeded(ctx.succeeded_indexes.Total());
    status->set_completedindexes(completed);
    if (status->has_failedindexes()) {
      status->clear_failedindexes();
      needs_flush = true;
    }
  }
  if (ctx.finished && ctx.finished->type() == kJobFailureTarget) {
    // Recorded before any finalizer goes, so that the failure survives a crash; Failed follows.
    *status->add_conditions() = *ctx.finished;
    needs_flush = true;
    ctx.finished = NewCondition(kJobFailed, ctx.finished->reason(), ctx.finished->message());
  }
  if (ctx.finished && ctx.finished->type() == kJobSuccessCriteriaMet) {
    const batchv1::JobCondition* met = FindJobCondition(*status, kJobSuccessCriteriaMet);
    if (met == nullptr || met->status() != "True") {
      *status->add_conditions() = *ctx.finished;
      needs_flush = true;
    }
    ctx.finished = NewCondition(kJobComplete, ctx.finished->reason(), ctx.finished->message());
  }
  CK_RETURN_IF_ERROR(FlushUncountedAndRemoveFinalizers(ctx, to_remove, uids_with_finalizer, &needs_flush));
  const bool job_finished = !reached_max_uncounted && EnactJobFinished(ctx);
  if (job_finished) needs_flush = true;
  if (needs_flush) {
    Status s = UpdateJobStatus(&job);
    if (!s.ok()) return s.WithPrefix("removing uncounted pods from status: ");
    if (job_finished) RecordJobFinished(job, *ctx.finished);
  }
  return Status::Ok();
}

Status JobController::FlushUncountedAndRemoveFinalizers(SyncContext& ctx, const std::vector<const corev1::Pod*>& to_remove,
                                                        std::set<std::string>& uids_with_finalizer, bool* needs_flush) {
  if (*needs_flush) {
    // The uncounted pods are in the status before their finalizers go.
    Status s = UpdateJobStatus(&ctx.job);
    if (!s.ok()) return s.WithPrefix("adding uncounted pods to status: ");
    {
      std::lock_guard lock(backoff_mu_);
      backoff_[ctx.key] = ctx.new_backoff;
    }
    *needs_flush = false;
  }
  Status rm_error;
  if (!to_remove.empty()) {
    std::vector<bool> removed = RemoveTrackingFinalizers(ctx.key, to_remove, &rm_error);
    for (size_t i = 0; i < to_remove.size(); ++i) {
      if (removed[i]) uids_with_finalizer.erase(to_remove[i]->metadata().uid());
    }
  }
  // Partial progress is written even when some removals failed.
  if (CleanUncountedPodsWithoutFinalizers(ctx.job.mutable_status(), uids_with_finalizer)) *needs_flush = true;
  if (!rm_error.ok() && *needs_flush) {
    Status s = UpdateJobStatus(&ctx.job);
    if (!s.ok()) return s.WithPrefix("removing uncounted pods from status: ");
  }
  return rm_error;
}

std::vector<bool> JobController::RemoveTrackingFinalizers(const std::string& key,
                                                          const std::vector<const corev1::Pod*>& pods, Status* error) {
  std::vector<std::string> uids;
  for (const corev1::Pod* p : pods) uids.push_back(p->metadata().uid());
  finalizer_expectations_.ExpectRemoved(key, uids);
  std::vector<char> succeeded(pods.size(), 0);
  std::mutex mu;
  ParallelFor(pods.size(), kWriteParallelism, [&](size_t i) {
    const corev1::Pod& pod = *pods[i];
    if (!HasJobTrackingFinalizer(pod)) return;
    Status s = pod_control_.PatchPod(pod.metadata().namespace_(), pod.metadata().name(), RemoveTrackingFinalizerPatch());
    if (!s.ok()) {
      // No update will show this removal.
      finalizer_expectations_.RemovalObserved(key, pod.metadata().uid());
      if (s.code() != Code::kNotFound) {
        std::lock_guard lock(mu);
        if (error->ok()) *error = s.WithPrefix("removing tracking finalizer: ");
        return;
      }
    }
    succeeded[i] = 1;
  });
  return std::vector<bool>(succeeded.begin(), succeeded.end());
}

bool JobController::EnactJobFinished(SyncContext& ctx) {
  if (!ctx.finished) return false;
  batchv1::JobStatus* status = ctx.job.mutable_status();
  const auto& uncounted = status->uncountedterminatedpods();
  if (uncounted.succeeded_size() + uncounted.failed_size() > 0) {
    CK_VLOG(4, "Delaying marking the Job as finished, because there are still uncounted pod(s)", "job", ctx.key,
            "condition", ctx.finished->type());
    return false;
  }
  if (ctx.terminating > 0) {
    CK_VLOG(4, "Delaying marking the Job as finished, because there are still terminating pod(s)", "job", ctx.key,
            "condition", ctx.finished->type(), "count", ctx.terminating);
    return false;
  }
  const batchv1::JobCondition& cond = *ctx.finished;
  EnsureJobConditionStatus(status, cond.type(), cond.status(), cond.reason(), cond.message(), clock_.Now());
  if (cond.type() == kJobComplete) *status->mutable_completiontime() = cond.lasttransitiontime();
  return true;
}

void JobController::RecordJobFinished(const batchv1::Job& job, const batchv1::JobCondition& cond) {
  const client::EventRecorder& recorder = pod_control_.recorder();
  if (cond.type() == kJobComplete) {
    std::optional<int32_t> completions = JobCompletions(job);
    if (completions && job.status().succeeded() > *completions) {
      recorder.Event(job, client::kEventWarning, "TooManySucceededPods",
                     "Too many succeeded pods running after completion count reached");
    }
    recorder.Event(job, client::kEventNormal, "Completed", "Job completed");
  } else {
    recorder.Event(job, client::kEventWarning, cond.reason(), cond.message());
  }
}

}  // namespace ck::controller_manager
