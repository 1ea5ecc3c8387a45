// CronJobController ("cronjob-controller", alias "cronjob"): starts a Job for every scheduled
// time of every CronJob, as upstream pkg/controller/cronjob (ControllerV2, v1.32) does. Each Sync
// reads the CronJob and the Jobs it controls from the caches, then:
//   1. drops finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit (oldest
//      start first), settles status.active (SawCompletedJob, MissingJob) and lastSuccessfulTime;
//   2. finds the most recent unmet scheduled time since lastScheduleTime (or creation), at most
//      startingDeadlineSeconds ago; more than 100 missed: TooManyMissedTimes, only the latest
//      runs; one older than the deadline: MissSchedule;
//   3. applies concurrencyPolicy (Forbid: JobAlreadyActive and skip; Replace: delete the active
//      Jobs) and creates "<cronjob>-<scheduled time in minutes since the epoch>" from
//      spec.jobTemplate with the batch.kubernetes.io/cronjob-scheduled-timestamp annotation;
//   4. writes status.active/lastScheduleTime through the status subresource and requeues the key
//      for the next scheduled time + 100 ms on the injected clock.
// Schedules are evaluated in spec.timeZone (the system tz database), else in `local_zone`
// (upstream: kube-controller-manager's local time). A schedule with a TZ=/CRON_TZ= prefix (which
// the apiserver refuses for new objects) is used with an UnsupportedSchedule warning, as upstream.
//   CronJob add/update/delete, Job add/update/delete -> key "ns/name" of the CronJob -> Sync(key)
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/api/proto/batch_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/cronjob/cron_schedule.h"
#include "controller-manager/cronjob/time_zone.h"

namespace ck::controller_manager {

// Upstream nextScheduleDelta: requeues land this long after the scheduled time (clock skew).
inline constexpr Duration kCronJobNextScheduleDelta = std::chrono::milliseconds(100);
// The annotation carrying a Job's scheduled time (RFC 3339 in the CronJob's time zone).
inline constexpr std::string_view kCronJobScheduledTimestampAnnotation = "batch.kubernetes.io/cronjob-scheduled-timestamp";

// The name of the Job for `scheduled`: "<cronjob>-<unix minutes>" (upstream getJobName).
std::string CronJobJobName(const std::string& cronjob_name, WallTime scheduled);

// Upstream mostRecentScheduleTime: from lastScheduleTime (else creationTimestamp), raised to
// now - startingDeadlineSeconds when `include_starting_deadline`, the latest scheduled time at or
// before `now`, and how many were missed (approximated from the interval between two
// activations, as upstream does). Error for schedules without two activations at least a second
// apart (e.g. "0 0 30 2 *").
struct MostRecentSchedule {
  WallTime earliest;
  std::optional<WallTime> most_recent;
  enum Missed { kNone, kFew, kMany } missed = kNone;
};
Result<MostRecentSchedule> MostRecentScheduleTime(const k8s::io::api::batch::v1::CronJob& cj, WallTime now,
                                                  const CronSchedule& schedule, bool include_starting_deadline);

class CronJobController final : public ManagedController {
 public:
  // Workers: settings.concurrent_cron_job_syncs.
  explicit CronJobController(ControllerContext& context, TimeZone local_zone = TimeZone::Local());
  ~CronJobController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  Status Sync(const std::string& key) override;

 private:
  using CronJobPtr = std::shared_ptr<const k8s::io::api::batch::v1::CronJob>;
  using JobPtr = std::shared_ptr<const k8s::io::api::batch::v1::Job>;

  void OnJob(const k8s::io::api::batch::v1::Job& job);
  CronJobPtr ResolveControllerRef(const std::string& ns, const k8s::io::apimachinery::pkg::apis::meta::v1::OwnerReference& ref) const;
  // Steps of Sync; each edits `cj` (a copy) and says whether its status changed.
  bool CleanupFinishedJobs(k8s::io::api::batch::v1::CronJob& cj, const std::vector<JobPtr>& jobs);
  bool RemoveOldestJobs(k8s::io::api::batch::v1::CronJob& cj, std::vector<JobPtr> jobs, int32_t max_jobs);
  bool DeleteJob(k8s::io::api::batch::v1::CronJob& cj, const k8s::io::api::batch::v1::Job& job);
  // Returns when to look again (nullopt: not before the spec changes) and sets *update_status.
  Result<std::optional<WallTime>> SyncCronJob(std::unique_ptr<k8s::io::api::batch::v1::CronJob>& cj,
                                              const std::vector<JobPtr>& jobs, bool* update_status);
  // The next scheduled time + kCronJobNextScheduleDelta (upstream nextScheduleTimeDuration, kept
  // as an instant so that the delay is taken from the clock only when the key is requeued).
  std::optional<WallTime> NextRequeueTime(const k8s::io::api::batch::v1::CronJob& cj, WallTime now,
                                                   const CronSchedule& schedule) const;

  client::ApiClient& api_;
  Clock& clock_;
  const TimeZone local_zone_;
  client::EventRecorder recorder_;
  client::TypedInformer<k8s::io::api::batch::v1::CronJob> cronjobs_;
  client::TypedInformer<k8s::io::api::batch::v1::Job> jobs_;
};

}  // namespace ck::controller_manager
