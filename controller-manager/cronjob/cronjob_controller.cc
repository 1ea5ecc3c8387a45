#include "controller-manager/cronjob/cronjob_controller.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/client/cache/meta.h"
#include "controller-manager/util/controller_ref.h"

namespace ck::controller_manager {

namespace batchv1 = ::k8s::io::api::batch::v1;
namespace corev1 = ::k8s::io::api::core::v1;

namespace {

const client::ResourceInfo& CronJobsResource() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(batchv1::CronJob::descriptor()->full_name());
  return r;
}

const client::ResourceInfo& JobsResource() {
  static const client::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(batchv1::Job::descriptor()->full_name());
  return r;
}

int64_t UnixSeconds(WallTime t) { return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count(); }

// Complete or Failed is True; `type` receives which.
bool JobFinished(const batchv1::Job& job, std::string* type = nullptr) {
  for (const batchv1::JobCondition& c : job.status().conditions()) {
    if ((c.type() == "Complete" || c.type() == "Failed") && c.status() == "True") {
      if (type != nullptr) *type = c.type();
      return true;
    }
  }
  return false;
}

bool JobSucceeded(const batchv1::Job& job) {
  std::string type;
  return JobFinished(job, &type) && type == "Complete";
}

bool InActiveList(const batchv1::CronJob& cj, const std::string& uid) {
  for (const corev1::ObjectReference& ref : cj.status().active()) {
    if (ref.uid() == uid) return true;
  }
  return false;
}

bool InActiveListByName(const batchv1::CronJob& cj, const std::string& ns, const std::string& name) {
  for (const corev1::ObjectReference& ref : cj.status().active()) {
    if (ref.name() == name && ref.namespace_() == ns) return true;
  }
  return false;
}

void DeleteFromActiveList(batchv1::CronJob& cj, const std::string& uid) {
  auto* active = cj.mutable_status()->mutable_active();
  active->erase(std::remove_if(active->begin(), active->end(),
                               [&](const corev1::ObjectReference& ref) { return ref.uid() == uid; }),
                active->end());
}

bool NamespaceTerminating(const Status& s) {
  return s.code() == Code::kForbidden && s.message().find("because it is being terminated") != std::string::npos;
}

// Go's time.RFC3339 in `zone`: "2026-01-01T09:00:00-05:00", "Z" for UTC.
std::string FormatRfc3339In(WallTime t, const TimeZone& zone) {
  const int64_t unix = UnixSeconds(t);
  CivilTime c = zone.ToCivil(unix);
  int32_t offset = zone.OffsetAt(unix);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year), c.month, c.day,
                c.hour, c.minute, c.second);
  std::string out = buf;
  if (offset == 0) return out + "Z";
  const char sign = offset < 0 ? '-' : '+';
  const int32_t abs = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", sign, abs / 3600, abs / 60 % 60);
  return out + buf;
}

// Go's time.RFC1123Z of a UTC time: "Thu, 01 Jan 2026 00:01:00 +0000".
std::string FormatRfc1123zUtc(WallTime t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  CivilTime c = TimeZone::Utc().ToCivil(UnixSeconds(t));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04lld %02d:%02d:%02d +0000", kDays[c.weekday], c.day,
                kMonths[c.month - 1], static_cast<long long>(c.year), c.hour, c.minute, c.second);
  return buf;
}

std::string Quote(const std::string& s) { return JsonString(s); }

}  // namespace

std::string CronJobJobName(const std::string& cronjob_name, WallTime scheduled) {
  return cronjob_name + "-" + std::to_string(UnixSeconds(scheduled) / 60);
}

Result<MostRecentSchedule> MostRecentScheduleTime(const batchv1::CronJob& cj, WallTime now, const CronSchedule& schedule,
                                                  bool include_starting_deadline) {
  MostRecentSchedule out;
  out.earliest = api::WallTimeOf(cj.metadata().creationtimestamp());
  if (cj.status().has_lastscheduletime()) out.earliest = api::WallTimeOf(cj.status().lastscheduletime());
  if (include_starting_deadline && cj.spec().has_startingdeadlineseconds()) {
    // Nothing older than the deadline is started any more.
    WallTime deadline = now - std::chrono::seconds(cj.spec().startingdeadlineseconds());
    if (deadline > out.earliest) out.earliest = deadline;
  }
  const Status invalid = BadRequest("time difference between two schedules is less than 1 second");
  std::optional<WallTime> t1 = schedule.Next(out.earliest);
  if (!t1) return invalid;
  if (now < *t1) return out;
  std::optional<WallTime> t2 = schedule.Next(*t1);
  if (!t2) return invalid;
  if (now < *t2) {
    out.most_recent = t1;
    return out;
  }
  // Upstream approximates how many were missed from the gap between the first two activations,
  // then walks only the last ones.
  const int64_t between = std::chrono::round<std::chrono::seconds>(*t2 - *t1).count();
  if (between < 1) return invalid;
  const int64_t elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - *t1).count();
  const int64_t missed = elapsed / between + 1;
  const WallTime potential_earliest = *t1 + std::chrono::seconds((missed - 2) * between);
  for (std::optional<WallTime> t = schedule.Next(potential_earliest); t && *t <= now; t = schedule.Next(*t)) {
    out.most_recent = t;
  }
  if (missed > 100) {
    out.missed = MostRecentSchedule::kMany;
  } else if (missed > 0) {
    out.missed = MostRecentSchedule::kFew;
  }
  return out;
}

CronJobController::CronJobController(ControllerContext& context, TimeZone local_zone)
    : ManagedController(client::ControllerOptions{.name = "cronjob",
                                                  .workers = context.settings.concurrent_cron_job_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      local_zone_(std::move(local_zone)),
      recorder_(context.Recorder("cronjob-controller")),
      cronjobs_(context.informers.ForKind<batchv1::CronJob>()),
      jobs_(context.informers.ForKind<batchv1::Job>()) {
  Handle(cronjobs_, client::TypedEventHandler<batchv1::CronJob>{
      .on_add = [this](const CronJobPtr& cj, bool) { Enqueue(api::ObjectKey(cj->metadata())); },
      // A changed schedule or time zone moves the next activation: a Sync now computes it.
      .on_update = [this](const CronJobPtr&, const CronJobPtr& cj) { Enqueue(api::ObjectKey(cj->metadata())); },
      .on_delete = [this](const CronJobPtr& cj, bool) { Enqueue(api::ObjectKey(cj->metadata())); },
  });
  Handle(jobs_, client::TypedEventHandler<batchv1::Job>{
      .on_add = [this](const JobPtr& job, bool) { OnJob(*job); },
      .on_update =
          [this](const JobPtr& old_job, const JobPtr& cur_job) {
            if (old_job->metadata().resourceversion() == cur_job->metadata().resourceversion()) return;
            const metav1::OwnerReference* old_ref = GetControllerOf(old_job->metadata());
            const metav1::OwnerReference* cur_ref = GetControllerOf(cur_job->metadata());
            if (old_ref != nullptr && (cur_ref == nullptr || old_ref->uid() != cur_ref->uid())) OnJob(*old_job);
            OnJob(*cur_job);
          },
      .on_delete = [this](const JobPtr& job, bool) { OnJob(*job); },
  });
}

CronJobController::~CronJobController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> CronJobController::Informers() const {
  return {&cronjobs_.Informer(), &jobs_.Informer()};
}

CronJobController::CronJobPtr CronJobController::ResolveControllerRef(const std::string& ns,
                                                                      const metav1::OwnerReference& ref) const {
  if (ref.kind() != "CronJob") return nullptr;
  Result<CronJobPtr> cj = cronjobs_.Lister().Get(ns, ref.name());
  if (!cj.ok() || (*cj)->metadata().uid() != ref.uid()) return nullptr;
  return *cj;
}

void CronJobController::OnJob(const batchv1::Job& job) {
  const metav1::OwnerReference* ref = GetControllerOf(job.metadata());
  if (ref == nullptr) return;  // orphans are no CronJob's concern (upstream adopts none)
  if (CronJobPtr cj = ResolveControllerRef(job.metadata().namespace_(), *ref)) Enqueue(api::ObjectKey(cj->metadata()));
}

// ---- Sync ---------------------------------------------------------------------------------------

Status CronJobController::Sync(const std::string& key) {
  Result<std::pair<std::string, std::string>> split = api::SplitObjectKey(key);
  if (!split.ok()) return Status::Ok();
  const auto& [ns, name] = *split;
  Result<CronJobPtr> found = cronjobs_.Lister().Get(ns, name);
  if (found.status().code() == Code::kNotFound) return Status::Ok();  // deleted: nothing to requeue
  CK_RETURN_IF_ERROR(found.status());

  // Every Job of the namespace naming this CronJob as controller, whatever its labels.
  std::vector<JobPtr> jobs;
  for (JobPtr& job : jobs_.Lister().Namespace(ns).List()) {
    const metav1::OwnerReference* ref = GetControllerOf(job->metadata());
    if (ref != nullptr && ref->kind() == "CronJob" && ref->name() == name) jobs.push_back(std::move(job));
  }
  auto cj = std::make_unique<batchv1::CronJob>(**found);
  const bool cleaned = CleanupFinishedJobs(*cj, jobs);
  bool synced = false;
  Result<std::optional<WallTime>> requeue = SyncCronJob(cj, jobs, &synced);
  if (!requeue.ok()) CK_VLOG(2, "Error reconciling cronjob", "cronjob", key, "err", requeue.status().message());
  if (cleaned || synced) {
    Result<client::ObjectPtr> updated = api_.Update(CronJobsResource(), ns, *cj, "status");
    if (!updated.ok()) return updated.status();
  }
  if (!requeue.ok()) return requeue.status();
  // The delay from the clock now, not from when this Sync started: a slow Sync is not late.
  if (*requeue) EnqueueAfter(key, std::max(Duration::zero(), **requeue - clock_.Now()));
  return Status::Ok();
}

bool CronJobController::CleanupFinishedJobs(batchv1::CronJob& cj, const std::vector<JobPtr>& jobs) {
  const auto& spec = cj.spec();
  if (!spec.has_failedjobshistorylimit() && !spec.has_successfuljobshistorylimit()) return false;
  std::vector<JobPtr> succeeded, failed;
  for (const JobPtr& job : jobs) {
    std::string type;
    if (!JobFinished(*job, &type)) continue;
    (type == "Complete" ? succeeded : failed).push_back(job);
  }
  bool update = false;
  if (spec.has_successfuljobshistorylimit() && RemoveOldestJobs(cj, succeeded, spec.successfuljobshistorylimit())) {
    update = true;
  }
  if (spec.has_failedjobshistorylimit() && RemoveOldestJobs(cj, failed, spec.failedjobshistorylimit())) update = true;
  return update;
}

bool CronJobController::RemoveOldestJobs(batchv1::CronJob& cj, std::vector<JobPtr> jobs, int32_t max_jobs) {
  const int64_t to_delete = static_cast<int64_t>(jobs.size()) - max_jobs;
  if (to_delete <= 0) return false;
  CK_VLOG(4, "Cleaning up jobs from CronJob list", "deletejobnum", to_delete, "jobnum",
          static_cast<int64_t>(jobs.size()), "cronjob", api::ObjectKey(cj.metadata()));
  // Upstream byJobStartTime: started before not started, earlier start first, then by name.
  std::sort(jobs.begin(), jobs.end(), [](const JobPtr& a, const JobPtr& b) {
    const bool sa = a->status().has_starttime(), sb = b->status().has_starttime();
    if (sa != sb) return sa;
    if (sa) {
      WallTime ta = api::WallTimeOf(a->status().starttime()), tb = api::WallTimeOf(b->status().starttime());
      if (ta != tb) return ta < tb;
    }
    return a->metadata().name() < b->metadata().name();
  });
  bool update = false;
  for (int64_t i = 0; i < to_delete; ++i) {
    if (DeleteJob(cj, *jobs[i])) update = true;
  }
  return update;
}

bool CronJobController::DeleteJob(batchv1::CronJob& cj, const batchv1::Job& job) {
  client::DeleteOptions options;
  options.propagation_policy = "Background";
  Result<client::ObjectPtr> deleted = api_.Delete(JobsResource(), job.metadata().namespace_(), job.metadata().name(), options);
  if (!deleted.ok() && deleted.status().code() != Code::kNotFound) {
    recorder_.Event(cj, client::kEventWarning, "FailedDelete", "Deleted job: " + deleted.status().message());
    CK_LOG_ERROR("Error deleting job from cronjob", "job", api::ObjectKey(job.metadata()), "cronjob",
                 api::ObjectKey(cj.metadata()), "err", deleted.status().message());
    return false;
  }
  DeleteFromActiveList(cj, job.metadata().uid());
  recorder_.Event(cj, client::kEventNormal, "SuccessfulDelete", "Deleted job " + job.metadata().name());
  return true;
}

std::optional<WallTime> CronJobController::NextRequeueTime(const batchv1::CronJob& cj, WallTime now,
                                                                    const CronSchedule& schedule) const {
  Result<MostRecentSchedule> mr = MostRecentScheduleTime(cj, now, schedule, /*include_starting_deadline=*/false);
  WallTime base = now;  // on error, aim for the next slot from now
  if (mr.ok()) {
    if (mr->most_recent) {
      base = *mr->most_recent;
    } else if (mr->missed == MostRecentSchedule::kNone) {
      base = mr->earliest;
    }
  }
  std::optional<WallTime> next = schedule.Next(base);
  if (!next) return std::nullopt;
  return *next + kCronJobNextScheduleDelta;
}

Result<std::optional<WallTime>> CronJobController::SyncCronJob(std::unique_ptr<batchv1::CronJob>& cj,
                                                               const std::vector<JobPtr>& jobs, bool* update_status) {
  const WallTime now = clock_.Now();
  // Copies: `cj` may be replaced by a fresher CronJob below.
  const std::string ns = cj->metadata().namespace_();
  const std::string key = api::ObjectKey(cj->metadata());

  std::set<std::string> children;
  for (const JobPtr& job : jobs) {
    const std::string& uid = job->metadata().uid();
    children.insert(uid);
    const bool found = InActiveList(*cj, uid);
    std::string finished_type;
    const bool finished = JobFinished(*job, &finished_type);
    if (!found && !finished) {
      // Our status may be older than the Job (a crash right after creating it): ask the server.
      Result<client::ObjectPtr> fresh = api_.Get(CronJobsResource(), ns, cj->metadata().name());
      if (!fresh.ok()) return fresh.status();
      const auto& fresh_cj = static_cast<const batchv1::CronJob&>(**fresh);
      if (InActiveList(fresh_cj, uid)) {
        cj = std::make_unique<batchv1::CronJob>(fresh_cj);
        continue;
      }
      recorder_.Event(*cj, client::kEventWarning, "UnexpectedJob",
                      "Saw a job that the controller did not create or forgot: " + job->metadata().name());
    } else if (found && finished) {
      DeleteFromActiveList(*cj, uid);
      recorder_.Event(*cj, client::kEventNormal, "SawCompletedJob",
                      "Saw completed job: " + job->metadata().name() + ", condition: " + finished_type);
      *update_status = true;
    } else if (JobSucceeded(*job)) {
      // Succeeded and no longer active: its completion time may be the latest success.
      auto* status = cj->mutable_status();
      if (!status->has_lastsuccessfultime()) {
        if (job->status().has_completiontime()) {
          *status->mutable_lastsuccessfultime() = job->status().completiontime();
        }
        *update_status = true;
      }
      if (job->status().has_completiontime() && status->has_lastsuccessfultime() &&
          api::WallTimeOf(job->status().completiontime()) > api::WallTimeOf(status->lastsuccessfultime())) {
        *status->mutable_lastsuccessfultime() = job->status().completiontime();
        *update_status = true;
      }
    }
  }

  // An active Job that is gone (checked on the server, not only the cache) leaves the list.
  std::vector<corev1::ObjectReference> active(cj->status().active().begin(), cj->status().active().end());
  for (const corev1::ObjectReference& ref : active) {
    if (children.count(ref.uid())) continue;
    Result<client::ObjectPtr> got = api_.Get(JobsResource(), ref.namespace_(), ref.name());
    if (got.status().code() == Code::kNotFound) {
      recorder_.Event(*cj, client::kEventNormal, "MissingJob", "Active job went missing: " + ref.name());
      DeleteFromActiveList(*cj, ref.uid());
      *update_status = true;
    } else if (!got.ok()) {
      return got.status();
    }
  }

  if (cj->metadata().has_deletiontimestamp()) return std::optional<WallTime>();  // being deleted: status only

  TimeZone zone = local_zone_;
  if (cj->spec().has_timezone()) {
    Result<TimeZone> loaded = TimeZone::Load(cj->spec().timezone());
    if (!loaded.ok()) {
      CK_VLOG(4, "Not starting job because timeZone is invalid", "cronjob", key, "timeZone", cj->spec().timezone());
      recorder_.Event(*cj, client::kEventWarning, "UnknownTimeZone",
                      "invalid timeZone: " + Quote(cj->spec().timezone()) + ": " + loaded.status().message());
      return std::optional<WallTime>();
    }
    zone = *loaded;
  }
  if (cj->spec().has_suspend() && cj->spec().suspend()) {
    CK_VLOG(4, "Not starting job because the cron is suspended", "cronjob", key);
    return std::optional<WallTime>();
  }
  const std::string& spec = cj->spec().schedule();
  if (spec.find("TZ") != std::string::npos) {
    recorder_.Event(*cj, client::kEventWarning, "UnsupportedSchedule",
                    "CRON_TZ or TZ used in schedule " + Quote(spec) +
                        " is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/"
                        "cron-jobs/ for more details");
  }
  Result<CronSchedule> schedule = CronSchedule::Parse(spec, zone);
  if (!schedule.ok()) {
    // A user error: nothing happens until the spec changes (which enqueues the CronJob).
    CK_VLOG(2, "Unparseable schedule", "cronjob", key, "schedule", spec, "err", schedule.status().message());
    recorder_.Event(*cj, client::kEventWarning, "UnparseableSchedule",
                    "unparseable schedule: " + Quote(spec) + " : " + schedule.status().message());
    return std::optional<WallTime>();
  }

  Result<MostRecentSchedule> mr = MostRecentScheduleTime(*cj, now, *schedule, /*include_starting_deadline=*/true);
  if (!mr.ok()) {
    CK_VLOG(2, "Invalid schedule", "cronjob", key, "schedule", spec, "err", mr.status().message());
    recorder_.Event(*cj, client::kEventWarning, "InvalidSchedule",
                    "invalid schedule: " + spec + " : " + mr.status().message());
    return std::optional<WallTime>();
  }
  if (!mr->most_recent || *mr->most_recent > now) {
    CK_VLOG(4, "No unmet start times", "cronjob", key);
    return NextRequeueTime(*cj, now, *schedule);
  }
  if (mr->missed == MostRecentSchedule::kMany) {
    recorder_.Event(*cj, client::kEventWarning, "TooManyMissedTimes",
                    "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
    CK_LOG_INFO("too many missed times", "cronjob", key);
  }
  const WallTime scheduled = *mr->most_recent;

  if (cj->spec().has_startingdeadlineseconds() &&
      scheduled + std::chrono::seconds(cj->spec().startingdeadlineseconds()) < now) {
    CK_VLOG(4, "Missed starting window", "cronjob", key);
    recorder_.Event(*cj, client::kEventWarning, "MissSchedule",
                    "Missed scheduled time to start a job: " + FormatRfc1123zUtc(scheduled));
    return NextRequeueTime(*cj, now, *schedule);
  }
  const std::string job_name = CronJobJobName(cj->metadata().name(), scheduled);
  if (InActiveListByName(*cj, ns, job_name) ||
      (cj->status().has_lastscheduletime() && api::WallTimeOf(cj->status().lastscheduletime()) == scheduled)) {
    CK_VLOG(4, "Not starting job because the scheduled time is already processed", "cronjob", key);
    return NextRequeueTime(*cj, now, *schedule);
  }
  const std::string& policy = cj->spec().concurrencypolicy();
  if (policy == "Forbid" && cj->status().active_size() > 0) {
    // The cache may lag, so a Forbid CronJob can still overlap rarely (upstream accepts that).
    CK_VLOG(4, "Not starting job because prior execution is still running and concurrency policy is Forbid",
            "cronjob", key);
    recorder_.Event(*cj, client::kEventNormal, "JobAlreadyActive",
                    "Not starting job because prior execution is running and concurrency policy is Forbid");
    return NextRequeueTime(*cj, now, *schedule);
  }
  if (policy == "Replace") {
    std::vector<corev1::ObjectReference> running(cj->status().active().begin(), cj->status().active().end());
    for (const corev1::ObjectReference& ref : running) {
      CK_VLOG(4, "Deleting job that was still running at next scheduled start time", "job",
              ref.namespace_() + "/" + ref.name());
      Result<client::ObjectPtr> job = api_.Get(JobsResource(), ref.namespace_(), ref.name());
      if (!job.ok()) {
        recorder_.Event(*cj, client::kEventWarning, "FailedGet", "Get job: " + job.status().message());
        return job.status();
      }
      if (!DeleteJob(*cj, static_cast<const batchv1::Job&>(**job))) {
        return Internal("could not replace job " + ref.namespace_() + "/" + ref.name());
      }
      *update_status = true;
    }
  }

  // The Job, named after its scheduled time so that a second attempt for the same time collides.
  batchv1::Job request;
  auto* meta = request.mutable_metadata();
  meta->set_name(job_name);
  *meta->mutable_labels() = cj->spec().jobtemplate().metadata().labels();
  *meta->mutable_annotations() = cj->spec().jobtemplate().metadata().annotations();
  (*meta->mutable_annotations())[std::string(kCronJobScheduledTimestampAnnotation)] =
      FormatRfc3339In(scheduled, cj->spec().has_timezone() ? zone : TimeZone::Utc());
  *meta->mutable_creationtimestamp() = api::MakeTime(scheduled);
  *meta->add_ownerreferences() = NewControllerRef(*cj);
  *request.mutable_spec() = cj->spec().jobtemplate().spec();

  client::ObjectPtr created;
  bool already_exists = false;
  Result<client::ObjectPtr> result = api_.Create(JobsResource(), ns, request);
  if (result.ok()) {
    created = *result;
  } else if (NamespaceTerminating(result.status())) {
    return result.status();  // every create fails until the namespace is gone
  } else if (result.status().code() == Code::kAlreadyExists) {
    // Someone made it already; if it is ours and recorded, there is nothing left to do.
    CK_LOG_INFO("Job already exists", "cronjob", key, "job", ns + "/" + job_name);
    already_exists = true;
    Result<client::ObjectPtr> existing = api_.Get(JobsResource(), ns, job_name);
    if (!existing.ok()) return existing.status();
    const metav1::ObjectMeta& existing_meta = MetaOf(**existing);
    if (!IsControlledBy(existing_meta, cj->metadata().uid())) return std::optional<WallTime>();
    if (InActiveList(*cj, existing_meta.uid())) return std::optional<WallTime>();
    created = *existing;
  } else {
    recorder_.Event(*cj, client::kEventWarning, "FailedCreate", "Error creating job: " + result.status().message());
    return result.status();
  }
  const auto& job = static_cast<const batchv1::Job&>(*created);
  if (!already_exists) {
    CK_VLOG(4, "Created Job", "job", ns + "/" + job.metadata().name(), "cronjob", key);
    recorder_.Event(*cj, client::kEventNormal, "SuccessfulCreate", "Created job " + job.metadata().name());
  }
  Result<corev1::ObjectReference> ref = client::EventRecorder::ReferenceTo(job);
  if (!ref.ok()) return Internal("unable to make object reference for job for " + key);
  *cj->mutable_status()->add_active() = *ref;
  *cj->mutable_status()->mutable_lastscheduletime() = api::MakeTime(scheduled);
  *update_status = true;
  return NextRequeueTime(*cj, now, *schedule);
}

}  // namespace ck::controller_manager
