// JobController ("job-controller", alias "job"): runs every Job's pods to completion as upstream
// pkg/controller/job (v1.32) does. Pods come from spec.template (generateName "<job>-", for
// Indexed Jobs "<job>-<index>-" with the batch.kubernetes.io/job-completion-index annotation and
// label, hostname "<job>-<index>" and JOB_COMPLETION_INDEX from the downward API), carry the
// batch.kubernetes.io/job-tracking finalizer and the Job as controller. A finished pod is first
// recorded in status.uncountedTerminatedPods, then its finalizer is removed, then it moves into
// status.succeeded / status.failed (Indexed: status.completedIndexes), so a pod deleted at any
// moment is counted exactly once. Failed pods are replaced after the pod failure backoff (10 s
// doubling, capped at 10 min); more than backoffLimit failures or a run longer than
// activeDeadlineSeconds fails the Job (FailureTarget, its active pods deleted, then Failed once
// none is terminating); enough successes mark it SuccessCriteriaMet, then Complete. Suspending
// deletes the active pods (uncounted); resuming resets startTime.
//   Job add/update/delete, Pod add/update/delete -> key "ns/name" -> Sync(key)
//   orphaned pods still holding the finalizer -> key "orphan-pod:ns/name" -> finalizer removed
// Not done: podFailurePolicy, backoffLimitPerIndex/maxFailedIndexes and successPolicy are not
// evaluated (a podFailurePolicy only makes terminating pods wait to be replaced).
// Threading: see client::Controller. Handlers run on informer threads and only count
// expectations and enqueue; Sync runs on the workers (never twice at once for one key).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/job/job_util.h"
#include "controller-manager/util/expectations.h"
#include "controller-manager/util/pod_control.h"

namespace ck::controller_manager {

// Upstream MaxUncountedPods and MaxPodCreateDeletePerSync.
inline constexpr int kJobMaxUncountedPods = 500;
inline constexpr int kJobMaxPodCreateDeletePerSync = 500;
// Upstream syncJobBatchPeriod: pod events of one Job are batched into one Sync per second.
inline constexpr Duration kJobSyncBatchPeriod = std::chrono::seconds(1);
// The queue's retry backoff (upstream DefaultJobApiBackOff / MaxJobApiBackOff).
inline constexpr Duration kJobApiBackoff = std::chrono::seconds(1);
inline constexpr Duration kJobMaxApiBackoff = std::chrono::minutes(1);
// Prefix of the queue keys of orphaned pods whose tracking finalizer must go.
inline constexpr std::string_view kOrphanPodKeyPrefix = "orphan-pod:";

// Which pods' finalizer removal a Job still expects to see (upstream uidTrackingExpectations):
// while one is pending, the pod is neither counted again nor patched again.
class FinalizerExpectations {
 public:
  void ExpectRemoved(const std::string& job_key, const std::vector<std::string>& uids);
  void RemovalObserved(const std::string& job_key, const std::string& uid);
  std::set<std::string> Expected(const std::string& job_key) const;
  void Delete(const std::string& job_key);

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> uids_;  // guarded by mu_
};

class JobController final : public ManagedController {
 public:
  // Workers: settings.concurrent_job_syncs.
  explicit JobController(ControllerContext& context);
  ~JobController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // The backoff record kept for `job_key`, and whether its expectations are met (tests read them).
  JobBackoffRecord BackoffRecordForTesting(const std::string& job_key) const;
  bool SatisfiedExpectationsForTesting(const std::string& job_key) const {
    return expectations_.SatisfiedExpectations(job_key);
  }

 protected:
  // `key` is "ns/name" of a Job, or kOrphanPodKeyPrefix + "ns/name" of a pod.
  Status Sync(const std::string& key) override;

 private:
  using JobPtr = std::shared_ptr<const batchv1::Job>;
  using PodPtr = std::shared_ptr<const corev1::Pod>;
  struct SyncContext;

  // Handlers.
  void OnJobUpdate(const batchv1::Job& old_job, const batchv1::Job& cur_job);
  void OnJobDelete(const batchv1::Job& job);
  void OnPodAdd(const corev1::Pod& pod);
  void OnPodUpdate(const corev1::Pod& old_pod, const corev1::Pod& cur_pod);
  void OnPodDelete(const corev1::Pod& pod, bool final_state);
  JobPtr ResolveControllerRef(const std::string& ns, const metav1::OwnerReference& ref) const;
  std::vector<JobPtr> PodJobs(const corev1::Pod& pod) const;
  void EnqueueBatched(const batchv1::Job& job);
  void EnqueueOrphanPod(const corev1::Pod& pod);
  void CleanupPodFinalizers(const batchv1::Job& job);

  // Sync steps.
  Status SyncJob(const std::string& key);
  Status SyncOrphanPod(const std::string& pod_key);
  Result<std::vector<PodPtr>> PodsForJob(const batchv1::Job& job, const api::LabelSelector& selector);
  Status ManageJob(SyncContext& ctx, int32_t* active);
  int32_t DeleteActivePods(const batchv1::Job& job, const std::vector<const corev1::Pod*>& pods, int32_t* deleted_ready,
                           Status* error);
  int32_t DeleteJobPods(const batchv1::Job& job, const std::string& key, const std::vector<const corev1::Pod*>& pods,
                        int32_t* deleted_ready, Status* error);
  Status TrackJobStatusAndRemoveFinalizers(SyncContext& ctx, bool needs_flush);
  Status FlushUncountedAndRemoveFinalizers(SyncContext& ctx, const std::vector<const corev1::Pod*>& to_remove,
                                           std::set<std::string>& uids_with_finalizer, bool* needs_flush);
  std::vector<bool> RemoveTrackingFinalizers(const std::string& key, const std::vector<const corev1::Pod*>& pods,
                                             Status* error);
  bool EnactJobFinished(SyncContext& ctx);
  void RecordJobFinished(const batchv1::Job& job, const batchv1::JobCondition& cond);
  Status UpdateJobStatus(batchv1::Job* job);
  batchv1::JobCondition NewCondition(std::string_view type, std::string_view reason, std::string_view message) const;
  bool PastActiveDeadline(const batchv1::Job& job) const;

  client::ApiClient& api_;
  Clock& clock_;
  PodControl pod_control_;
  UidTrackingExpectations expectations_;
  FinalizerExpectations finalizer_expectations_;
  client::TypedInformer<batchv1::Job> jobs_;
  client::TypedInformer<corev1::Pod> pods_;

  mutable std::mutex backoff_mu_;
  std::map<std::string, JobBackoffRecord> backoff_;  // guarded by backoff_mu_; by Job key
};

}  // namespace ck::controller_manager
