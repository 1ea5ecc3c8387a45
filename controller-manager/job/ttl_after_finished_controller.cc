#include "controller-manager/job/ttl_after_finished_controller.h"

#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/job/job_util.h"

namespace ck::controller_manager {

namespace {

// Upstream needsCleanup: a TTL is set and the Job has finished.
bool NeedsCleanup(const batchv1::Job& job) { return job.spec().has_ttlsecondsafterfinished() && IsJobFinished(job); }

}  // namespace

TtlAfterFinishedController::TtlAfterFinishedController(ControllerContext& context, std::string propagation_policy)
    : ManagedController(client::ControllerOptions{.name = "ttl_jobs_to_delete",
                                                  .workers = context.settings.concurrent_ttl_after_finished_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      propagation_policy_(std::move(propagation_policy)),
      jobs_(context.informers.ForKind<batchv1::Job>()) {
  Handle(jobs_, client::TypedEventHandler<batchv1::Job>{
      .on_add = [this](const std::shared_ptr<const batchv1::Job>& job, bool) { OnJob(*job); },
      .on_update = [this](const std::shared_ptr<const batchv1::Job>&,
                          const std::shared_ptr<const batchv1::Job>& job) { OnJob(*job); },
  });
}

TtlAfterFinishedController::~TtlAfterFinishedController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> TtlAfterFinishedController::Informers() const {
  return {&jobs_.Informer()};
}

void TtlAfterFinishedController::OnJob(const batchv1::Job& job) {
  if (!job.metadata().has_deletiontimestamp() && NeedsCleanup(job)) Enqueue(api::ObjectKey(job.metadata()));
}

Result<bool> TtlAfterFinishedController::Expired(const batchv1::Job& job) {
  if (job.metadata().has_deletiontimestamp() || !NeedsCleanup(job)) return false;
  std::optional<WallTime> finished = JobFinishTime(job);
  if (!finished) {
    return Internal("unable to find the time when the Job " + api::ObjectKey(job.metadata()) + " finished");
  }
  const WallTime now = clock_.Now();
  if (*finished > now) {
    CK_LOG_INFO("Warning: Found Job finished in the future. This is likely due to time skew in the cluster. Job cleanup "
                "will be deferred.",
                "job", api::ObjectKey(job.metadata()));
  }
  const WallTime expire_at = *finished + std::chrono::seconds(job.spec().ttlsecondsafterfinished());
  if (expire_at <= now) return true;
  EnqueueAfter(api::ObjectKey(job.metadata()), expire_at - now);
  return false;
}

Status TtlAfterFinishedController::Sync(const std::string& key) {
  Result<std::pair<std::string, std::string>> split = api::SplitObjectKey(key);
  if (!split.ok()) return Status::Ok();
  const auto& [ns, name] = *split;
  CK_VLOG(4, "Checking if Job is ready for cleanup", "job", key);
  Result<std::shared_ptr<const batchv1::Job>> cached = jobs_.Lister().Get(ns, name);
  if (cached.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(cached.status());
  CK_ASSIGN_OR_RETURN(bool expired, Expired(**cached));
  if (!expired) return Status::Ok();

  // The cached TTL may be stale: decide again on the latest Job.
  Result<client::ObjectPtr> fresh = api_.Get(JobsResource(), ns, name);
  if (fresh.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(fresh.status());
  const auto& job = static_cast<const batchv1::Job&>(**fresh);
  CK_ASSIGN_OR_RETURN(expired, Expired(job));
  if (!expired) return Status::Ok();

  client::DeleteOptions options;
  options.propagation_policy = propagation_policy_;
  options.precondition_uid = job.metadata().uid();
  CK_VLOG(4, "Cleaning up Job", "job", key);
  Result<client::ObjectPtr> deleted = api_.Delete(JobsResource(), ns, name, options);
  if (!deleted.ok()) return deleted.status();
  return Status::Ok();
}

}  // namespace ck::controller_manager
