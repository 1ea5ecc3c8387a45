// Job facts the Job controller, the TTL-after-finished controller and their tests share (upstream
// pkg/controller/job utils.go, indexed_job_utils.go, backoff_utils.go and job/util): spec fields
// with the API's defaults applied, finished conditions, completion indexes of Indexed Jobs and
// their interval form in status.completedIndexes ("1,3-5,7"), and the pod failure backoff
// (10 s doubling per failure since the last success, capped).
// Threading: pure functions and plain values.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/api/api_resources.h"
#include "common/api/proto/batch_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"

namespace ck::controller_manager {

namespace batchv1 = ::k8s::io::api::batch::v1;
namespace corev1 = ::k8s::io::api::core::v1;

// Labels, annotations and finalizers of upstream's batch/v1 API.
// The batch/v1 jobs row of the resource table.
const api::ResourceInfo& JobsResource();

inline constexpr std::string_view kJobTrackingFinalizer = "batch.kubernetes.io/job-tracking";
inline constexpr std::string_view kJobCompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index";
inline constexpr std::string_view kJobCompletionIndexEnv = "JOB_COMPLETION_INDEX";
inline constexpr std::string_view kJobControllerUidLabel = "batch.kubernetes.io/controller-uid";
inline constexpr std::string_view kJobNameLabel = "batch.kubernetes.io/job-name";
// spec.managedBy of Jobs this controller owns (any other value: an external controller's).
inline constexpr std::string_view kJobControllerName = "kubernetes.io/job-controller";

// Condition types and the reasons the controller writes.
inline constexpr std::string_view kJobComplete = "Complete";
inline constexpr std::string_view kJobFailed = "Failed";
inline constexpr std::string_view kJobSuspended = "Suspended";
inline constexpr std::string_view kJobFailureTarget = "FailureTarget";
inline constexpr std::string_view kJobSuccessCriteriaMet = "SuccessCriteriaMet";
inline constexpr std::string_view kJobReasonBackoffLimitExceeded = "BackoffLimitExceeded";
inline constexpr std::string_view kJobReasonDeadlineExceeded = "DeadlineExceeded";
inline constexpr std::string_view kJobReasonCompletionsReached = "CompletionsReached";

// Upstream DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff (the code's values; the
// user documentation still says six minutes for the cap).
inline constexpr Duration kJobPodFailureBackoff = std::chrono::seconds(10);
inline constexpr Duration kJobMaxPodFailureBackoff = std::chrono::minutes(10);

// Spec fields as the API defaults them (a Job read from a server is already defaulted; these
// make objects written without defaulting, as in unit tests, behave the same).
int32_t JobParallelism(const batchv1::Job& job);                 // 1 when unset
std::optional<int32_t> JobCompletions(const batchv1::Job& job);  // 1 when neither it nor parallelism is set
int32_t JobBackoffLimit(const batchv1::Job& job);                // 6 when unset
bool JobSuspended(const batchv1::Job& job);
bool IsIndexedJob(const batchv1::Job& job);
// spec.podReplacementPolicy is Failed (or a podFailurePolicy is set): a terminating pod is
// replaced only once it has failed.
bool OnlyReplaceFailedPods(const batchv1::Job& job);
// spec.managedBy names a controller other than this one.
bool ManagedByExternalController(const batchv1::Job& job);

// The condition of `type`, or nullptr.
const batchv1::JobCondition* FindJobCondition(const batchv1::JobStatus& status, std::string_view type);
// Complete or Failed is True (upstream IsJobFinished); `type` receives which one.
bool IsJobFinished(const batchv1::Job& job, std::string* type = nullptr);
// The lastTransitionTime of the True Complete/Failed condition; nullopt when not finished or the
// time is unset.
std::optional<WallTime> JobFinishTime(const batchv1::Job& job);

// Pod facts of Jobs.
bool HasJobTrackingFinalizer(const corev1::Pod& pod);
// The completion index annotation as a non-negative number; -1 when absent or malformed.
int CompletionIndexOf(const corev1::Pod& pod);
// Upstream isPodFailed: Failed, or (unless only failed pods are replaced) being deleted and not
// Succeeded, so that a deleted orphan still counts as a failure.
bool IsJobPodFailed(const corev1::Pod& pod, const batchv1::Job& job);
// Upstream getFinishedTime: the latest container (and sidecar) finishedAt, else the time Ready
// turned False, else deletionTimestamp - grace, else creationTimestamp.
WallTime PodFinishedTime(const corev1::Pod& pod);
// The strategic merge patch that drops the tracking finalizer.
std::string RemoveTrackingFinalizerPatch();
// generateName of an Indexed Job's pod: "<job>-<index>-", the job name trimmed so that the
// prefix stays within 58 characters (upstream podGenerateNameWithIndex).
std::string PodGenerateNameWithIndex(const std::string& job_name, int index);

// Completion indexes as ordered, disjoint, non-adjacent intervals (upstream orderedIntervals).
class IndexIntervals {
 public:
  IndexIntervals() = default;
  // Parses status.completedIndexes; malformed parts and indexes >= completions are dropped.
  static IndexIntervals Parse(std::string_view text, int completions);
  // This set plus `indexes` (sorted ascending, duplicates allowed).
  IndexIntervals With(const std::vector<int>& indexes) const;
  int Total() const;
  bool Has(int index) const;
  // "1,3-5,7"; two adjacent indexes print as "1,2" (upstream's format).
  std::string String() const;
  const std::vector<std::pair<int, int>>& intervals() const { return intervals_; }

 private:
  std::vector<std::pair<int, int>> intervals_;  // [first, last], ascending
};

// The pod failure backoff of one Job (upstream backoffRecord).
struct JobBackoffRecord {
  int32_t failures_after_last_success = 0;
  std::optional<WallTime> last_failure_time;
};
// Upstream newBackoffRecord: `previous` updated with the pods that finished since (their order
// does not matter; they are sorted by PodFinishedTime here). A success resets the count, except
// for failures that finished after the last success.
JobBackoffRecord NextBackoffRecord(const JobBackoffRecord& previous, std::vector<const corev1::Pod*> new_succeeded,
                                   std::vector<const corev1::Pod*> new_failed);
// How long pod creation still waits at `now`: base * 2^(failures-1), capped at `max`, minus the
// time since the last failure; zero when none is due.
Duration RemainingBackoff(const JobBackoffRecord& record, WallTime now, Duration base = kJobPodFailureBackoff,
                          Duration max = kJobMaxPodFailureBackoff);

}  // namespace ck::controller_manager
