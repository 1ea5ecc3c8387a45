#include "controller-manager/job/job_util.h"

#include <algorithm>

#include "common/api/object.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"

namespace ck::controller_manager {

const api::ResourceInfo& JobsResource() {
  static const api::ResourceInfo& r =
      client::SharedInformerFactory::ResourceOfMessage(batchv1::Job::descriptor()->full_name());
  return r;
}

int32_t JobParallelism(const batchv1::Job& job) {
  return job.spec().has_parallelism() ? job.spec().parallelism() : 1;
}

std::optional<int32_t> JobCompletions(const batchv1::Job& job) {
  if (job.spec().has_completions()) return job.spec().completions();
  // The API defaults both to 1 when neither is set; parallelism alone means "work queue" mode.
  if (!job.spec().has_parallelism()) return 1;
  return std::nullopt;
}

int32_t JobBackoffLimit(const batchv1::Job& job) {
  return job.spec().has_backofflimit() ? job.spec().backofflimit() : 6;
}

bool JobSuspended(const batchv1::Job& job) { return job.spec().has_suspend() && job.spec().suspend(); }

bool IsIndexedJob(const batchv1::Job& job) { return job.spec().completionmode() == "Indexed"; }

bool OnlyReplaceFailedPods(const batchv1::Job& job) {
  if (job.spec().has_podreplacementpolicy() && job.spec().podreplacementpolicy() == "Failed") return true;
  return job.spec().has_podfailurepolicy();
}

bool ManagedByExternalController(const batchv1::Job& job) {
  return job.spec().has_managedby() && job.spec().managedby() != kJobControllerName;
}

const batchv1::JobCondition* FindJobCondition(const batchv1::JobStatus& status, std::string_view type) {
  for (const batchv1::JobCondition& c : status.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

bool IsJobFinished(const batchv1::Job& job, std::string* type) {
  for (const batchv1::JobCondition& c : job.status().conditions()) {
    if ((c.type() == kJobComplete || c.type() == kJobFailed) && c.status() == "True") {
      if (type != nullptr) *type = c.type();
      return true;
    }
  }
  return false;
}

std::optional<WallTime> JobFinishTime(const batchv1::Job& job) {
  for (const batchv1::JobCondition& c : job.status().conditions()) {
    if ((c.type() == kJobComplete || c.type() == kJobFailed) && c.status() == "True") {
      if (api::IsZeroTime(c.lasttransitiontime())) return std::nullopt;
      return api::WallTimeOf(c.lasttransitiontime());
    }
  }
  return std::nullopt;
}

bool HasJobTrackingFinalizer(const corev1::Pod& pod) {
  for (const std::string& f : pod.metadata().finalizers()) {
    if (f == kJobTrackingFinalizer) return true;
  }
  return false;
}

int CompletionIndexOf(const corev1::Pod& pod) {
  auto it = pod.metadata().annotations().find(std::string(kJobCompletionIndexAnnotation));
  if (it == pod.metadata().annotations().end()) return -1;
  std::optional<int64_t> v = ParseInt(it->second);
  if (!v || *v < 0 || *v > INT32_MAX) return -1;
  return static_cast<int>(*v);
}

bool IsJobPodFailed(const corev1::Pod& pod, const batchv1::Job& job) {
  if (pod.status().phase() == "Failed") return true;
  if (OnlyReplaceFailedPods(job)) return false;
  return pod.metadata().has_deletiontimestamp() && pod.status().phase() != "Succeeded";
}

namespace {

void LatestFinish(std::optional<WallTime>& latest, const corev1::ContainerStatus& cs) {
  if (!cs.state().has_terminated()) return;
  const auto& finished = cs.state().terminated().finishedat();
  if (api::IsZeroTime(finished)) return;
  WallTime t = api::WallTimeOf(finished);
  if (!latest || *latest < t) latest = t;
}

}  // namespace

WallTime PodFinishedTime(const corev1::Pod& pod) {
  std::optional<WallTime> finish;
  for (const auto& cs : pod.status().containerstatuses()) LatestFinish(finish, cs);
  // Sidecars (restartable init containers) finish after the regular containers.
  for (const auto& cs : pod.status().initcontainerstatuses()) {
    for (const auto& c : pod.spec().initcontainers()) {
      if (c.name() == cs.name() && c.restartpolicy() == "Always") LatestFinish(finish, cs);
    }
  }
  if (finish) return *finish;
  for (const auto& c : pod.status().conditions()) {
    if (c.type() == "Ready" && c.status() == "False" && !api::IsZeroTime(c.lasttransitiontime())) {
      return api::WallTimeOf(c.lasttransitiontime());
    }
  }
  if (pod.metadata().has_deletiontimestamp()) {
    return api::WallTimeOf(pod.metadata().deletiontimestamp()) -
           std::chrono::seconds(pod.metadata().deletiongraceperiodseconds());
  }
  return api::WallTimeOf(pod.metadata().creationtimestamp());
}

std::string RemoveTrackingFinalizerPatch() {
  return R"({"metadata":{"$deleteFromPrimitiveList/finalizers":[)" + JsonString(kJobTrackingFinalizer) + "]}}";
}

std::string PodGenerateNameWithIndex(const std::string& job_name, int index) {
  constexpr size_t kMaxGeneratedNameLength = 58;  // 63 minus the 5 random characters
  std::string suffix = "-" + std::to_string(index) + "-";
  std::string prefix = job_name + suffix;
  if (prefix.size() > kMaxGeneratedNameLength) prefix = job_name.substr(0, kMaxGeneratedNameLength - suffix.size()) + suffix;
  return prefix;
}

// ---- IndexIntervals --------------------------------------------------------------------------------

IndexIntervals IndexIntervals::Parse(std::string_view text, int completions) {
  IndexIntervals out;
  if (text.empty()) return out;
  std::vector<int> indexes;
  for (std::string_view part : Split(text, ',', /*skip_empty=*/true)) {
    size_t dash = part.find('-');
    std::optional<int64_t> first = ParseInt(part.substr(0, dash));
    std::optional<int64_t> last = dash == std::string_view::npos ? first : ParseInt(part.substr(dash + 1));
    if (!first || !last || *first < 0 || *last < *first) continue;  // upstream logs and skips it
    if (*first >= completions) continue;
    int64_t end = std::min<int64_t>(*last, completions - 1);
    auto& iv = out.intervals_;
    if (!iv.empty() && iv.back().second + 1 >= *first) {
      iv.back().second = std::max<int>(iv.back().second, static_cast<int>(end));
    } else {
      iv.emplace_back(static_cast<int>(*first), static_cast<int>(end));
    }
  }
  return out;
}

IndexIntervals IndexIntervals::With(const std::vector<int>& indexes) const {
  IndexIntervals out;
  auto& result = out.intervals_;
  auto add = [&](int first, int last) {
    if (!result.empty() && result.back().second + 1 >= first) {
      result.back().second = std::max(result.back().second, last);
    } else {
      result.emplace_back(first, last);
    }
  };
  size_t i = 0;
  for (int ix : indexes) {
    while (i < intervals_.size() && intervals_[i].first <= ix) {
      add(intervals_[i].first, intervals_[i].second);
      ++i;
    }
    add(ix, ix);
  }
  for (; i < intervals_.size(); ++i) add(intervals_[i].first, intervals_[i].second);
  return out;
}

int IndexIntervals::Total() const {
  int total = 0;
  for (const auto& [first, last] : intervals_) total += last - first + 1;
  return total;
}

bool IndexIntervals::Has(int index) const {
  auto it = std::lower_bound(intervals_.begin(), intervals_.end(), index,
                             [](const std::pair<int, int>& iv, int ix) { return iv.second < ix; });
  return it != intervals_.end() && it->first <= index;
}

std::string IndexIntervals::String() const {
  std::string out;
  for (const auto& [first, last] : intervals_) {
    if (!out.empty()) out += ',';
    out += std::to_string(first);
    if (last > first) {
      out += last == first + 1 ? ',' : '-';
      out += std::to_string(last);
    }
  }
  return out;
}

// ---- Backoff ---------------------------------------------------------------------------------------

JobBackoffRecord NextBackoffRecord(const JobBackoffRecord& previous, std::vector<const corev1::Pod*> new_succeeded,
                                   std::vector<const corev1::Pod*> new_failed) {
  auto by_finish = [](const corev1::Pod* a, const corev1::Pod* b) { return PodFinishedTime(*a) < PodFinishedTime(*b); };
  std::sort(new_succeeded.begin(), new_succeeded.end(), by_finish);
  std::sort(new_failed.begin(), new_failed.end(), by_finish);
  JobBackoffRecord record = previous;
  if (new_succeeded.empty()) {
    if (new_failed.empty()) return record;
    record.failures_after_last_success += static_cast<int32_t>(new_failed.size());
    record.last_failure_time = PodFinishedTime(*new_failed.back());
    return record;
  }
  record.failures_after_last_success = 0;
  record.last_failure_time.reset();
  const WallTime last_success = PodFinishedTime(*new_succeeded.back());
  for (auto it = new_failed.rbegin(); it != new_failed.rend(); ++it) {
    WallTime failed_at = PodFinishedTime(**it);
    if (failed_at <= last_success) break;
    if (!record.last_failure_time) record.last_failure_time = failed_at;
    ++record.failures_after_last_success;
  }
  return record;
}

Duration RemainingBackoff(const JobBackoffRecord& record, WallTime now, Duration base, Duration max) {
  if (record.failures_after_last_success == 0 || !record.last_failure_time) return Duration::zero();
  Duration backoff = base;
  for (int32_t i = 1; i < record.failures_after_last_success; ++i) {
    backoff *= 2;
    if (backoff >= max) {
      backoff = max;
      break;
    }
  }
  Duration elapsed = now - *record.last_failure_time;
  if (backoff < elapsed) return Duration::zero();
  return backoff - elapsed;
}

}  // namespace ck::controller_manager
