#include "kubelet/pod/pod_workers.h"

#include <algorithm>
#include <optional>
#include <set>

#include "common/api/pod.h"
#include "common/base/log.h"

namespace ck::kubelet {

namespace {

constexpr Duration kStatusRetry = std::chrono::seconds(1);

bool Terminal(const std::string& phase) { return phase == api::kPodSucceeded || phase == api::kPodFailed; }

}  // namespace

PodWorkers::PodWorkers(PodSyncer& syncer, StatusManager& status, ContainerRuntime& runtime, Clock& clock,
                       PodWorkersOptions options)
    : syncer_(syncer), status_(status), runtime_(runtime), clock_(clock), options_(options) {
  if (options_.pool == nullptr) own_pool_ = std::make_unique<ThreadPool>("ck-podworker", options_.threads);
  pool_ = options_.pool != nullptr ? options_.pool : own_pool_.get();
}

PodWorkers::~PodWorkers() { Stop(); }

void PodWorkers::Start() {
  {
    std::lock_guard lock(mu_);
    if (started_) return;
    started_ = true;
    next_resync_ = clock_.Monotonic() + options_.resync_period;
  }
  if (options_.own_timer_thread) timer_ = std::thread([this] { TimerLoop(); });
}

void PodWorkers::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wakeup_.Notify();
  if (timer_.joinable()) timer_.join();
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return running_ == 0; });
}

void PodWorkers::EnqueueLocked(const std::string& uid, Worker& w) {
  if (stopping_) return;
  if (w.busy) {
    w.pending = true;
    return;
  }
  w.busy = true;
  ++running_;
  pool_->Post([this, uid] { Run(uid); });
}

namespace {

// The deletion grace period a pod asks for, if it is being deleted.
std::optional<int64_t> DeletionGrace(const corev1::Pod* pod) {
  if (pod == nullptr || !pod->metadata().has_deletiontimestamp() ||
      !pod->metadata().has_deletiongraceperiodseconds()) {
    return std::nullopt;
  }
  return pod->metadata().deletiongraceperiodseconds();
}

}  // namespace

void PodWorkers::UpdatePod(std::shared_ptr<const corev1::Pod> pod) {
  const std::string uid = pod->metadata().uid();
  std::optional<int64_t> shortened;
  {
    std::lock_guard lock(mu_);
    Worker& w = workers_[uid];
    if (w.terminated || w.forgotten) return;
    std::optional<int64_t> before = DeletionGrace(w.pod.get()), now = DeletionGrace(pod.get());
    if (now && before && *now < *before && w.busy) shortened = now;
    w.pod = std::move(pod);
    EnqueueLocked(uid, w);
  }
  // A second delete with a shorter grace period (`kubectl delete --grace-period=N`) reaches the
  // containers a running termination is stopping now, not after the first grace.
  if (shortened) ShortenStops(uid, std::chrono::seconds(std::max<int64_t>(*shortened, 0)));
}

void PodWorkers::ShortenStops(const std::string& uid, std::chrono::seconds grace) {
  auto containers = runtime_.ListPodContainers(uid);
  if (!containers.ok()) return;
  for (const ContainerStatus& c : *containers) {
    if (c.state == ContainerState::kRunning) runtime_.ShortenStop(c.id, grace);
  }
}

void PodWorkers::ForgetPod(const std::string& uid) {
  bool stopping;
  {
    std::lock_guard lock(mu_);
    auto it = workers_.find(uid);
    if (it == workers_.end()) return;
    it->second.forgotten = true;
    stopping = it->second.busy;
    EnqueueLocked(uid, it->second);
  }
  // Gone from the API before the kubelet confirmed (a force delete, `--grace-period=0 --force`):
  // nothing waits for the containers any more, so a stop in flight kills now.
  if (stopping) ShortenStops(uid, std::chrono::seconds(0));
}

void PodWorkers::SetReadyToRunPods(bool ready) {
  {
    std::lock_guard lock(mu_);
    ready_to_run_ = ready;
  }
  wakeup_.Notify();
}

void PodWorkers::Trigger(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = workers_.find(uid);
  if (it != workers_.end() && it->second.pod != nullptr) EnqueueLocked(uid, it->second);
}

void PodWorkers::Run(const std::string& uid) {
  while (true) {
    Worker snapshot;
    {
      std::lock_guard lock(mu_);
      auto it = workers_.find(uid);
      if (it == workers_.end() || stopping_) {
        if (it != workers_.end()) it->second.busy = false;
        --running_;
        idle_cv_.notify_all();
        return;
      }
      it->second.pending = false;
      snapshot = it->second;
    }
    // A requeue is counted from when the sync looked at the clock, not from when it ended: a
    // deadline computed at T must fire at T + requeue even if the sync took a while.
    const MonoTime started = clock_.Monotonic();
    Duration requeue = SyncOnce(uid, snapshot);
    syncs_.fetch_add(1);
    std::lock_guard lock(mu_);
    auto it = workers_.find(uid);
    if (it != workers_.end()) {
      if (requeue > Duration{0}) {
        it->second.due = started + requeue;
        wakeup_.Notify();
      }
      if (it->second.pending && !stopping_) continue;
      it->second.busy = false;
    }
    --running_;
    idle_cv_.notify_all();
    return;
  }
}

Duration PodWorkers::SyncOnce(const std::string& uid, const Worker& w) {
  if (w.pod == nullptr) {  // an orphan: the API does not know the uid
    syncer_.CleanupOrphan(uid);
    std::lock_guard lock(mu_);
    auto it = workers_.find(uid);
    if (it != workers_.end() && it->second.pod == nullptr) workers_.erase(it);
    return Duration{0};
  }
  if (w.forgotten) {
    if (!w.terminated) syncer_.TerminatePod(*w.pod, PodSyncer::GracePeriodOf(*w.pod));
    syncer_.CleanupPod(uid);
    status_.ForgetPod(uid);
    std::lock_guard lock(mu_);
    workers_.erase(uid);
    return Duration{0};
  }
  if (w.terminated) return Duration{0};

  corev1::Pod pod = *w.pod;
  status_.MergeLastWritten(&pod);
  if (pod.metadata().has_deletiontimestamp()) {
    SyncResult r = syncer_.TerminatePod(pod, PodSyncer::GracePeriodOf(pod));
    if (!r.stopped) return kStatusRetry;  // a container survived its stop: try again, confirm nothing
    Status written = status_.SetPodStatus(pod, std::move(r.status));
    if (!written.ok()) CK_LOG_WARNING("final pod status not written", "pod", pod.metadata().name(), "err", written.ToString());
    Status deleted = status_.DeletePod(pod);
    if (!deleted.ok()) {
      CK_LOG_WARNING("pod deletion not confirmed", "pod", pod.metadata().name(), "err", deleted.ToString());
      return kStatusRetry;
    }
    syncer_.CleanupPod(uid);
    std::lock_guard lock(mu_);
    auto it = workers_.find(uid);
    if (it != workers_.end()) it->second.terminated = true;
    return Duration{0};
  }
  SyncResult r = syncer_.SyncPod(pod);
  const bool terminal = Terminal(r.status.phase());
  Duration requeue = r.requeue_after;
  Status written = status_.SetPodStatus(pod, std::move(r.status));
  if (!written.ok()) {
    CK_LOG_WARNING("Failed to update status for pod", "pod", pod.metadata().name(), "err", written.ToString());
    if (requeue == Duration{0} || kStatusRetry < requeue) requeue = kStatusRetry;
  }
  std::lock_guard lock(mu_);
  auto it = workers_.find(uid);
  if (it != workers_.end()) it->second.terminal = terminal;
  return requeue;
}

void PodWorkers::Tick() { TickOnce(true); }

void PodWorkers::TickOnce(bool relist_now) {
  Result<std::vector<ContainerStatus>> list =
      relist_now ? runtime_.ListContainers() : Result<std::vector<ContainerStatus>>(Unavailable("no relist"));
  const MonoTime now = clock_.Monotonic();
  std::lock_guard lock(mu_);
  if (stopping_) return;
  std::set<std::string> changed;
  std::set<std::string> uids;
  if (list.ok()) {
    // PLEG: diff this relist with the last one; a pod whose containers changed syncs.
    std::map<std::string, std::pair<int, int64_t>> relist;
    std::map<std::string, std::string> relist_uid;
    for (const ContainerStatus& c : *list) {
      std::pair<int, int64_t> key{static_cast<int>(c.state), c.finished_at.time_since_epoch().count()};
      auto prev = last_relist_.find(c.id);
      if (prev == last_relist_.end() || prev->second != key) changed.insert(c.pod_uid);
      relist.emplace(c.id, key);
      relist_uid.emplace(c.id, c.pod_uid);
      uids.insert(c.pod_uid);
    }
    for (const auto& [id, key] : last_relist_) {
      if (!relist.count(id)) changed.insert(relist_uid_[id]);
    }
    last_relist_.swap(relist);
    relist_uid_.swap(relist_uid);
  } else if (relist_now) {
    CK_LOG_WARNING("PLEG relist failed", "err", list.status().ToString());
  }
  for (const std::string& uid : changed) {
    auto it = workers_.find(uid);
    if (it != workers_.end()) EnqueueLocked(uid, it->second);
  }
  if (ready_to_run_ && list.ok()) {
    for (const std::string& uid : uids) {
      if (workers_.count(uid)) continue;
      CK_LOG_INFO("Found orphaned pod containers", "podUID", uid);
      EnqueueLocked(uid, workers_[uid]);
    }
  }
  const bool resync = now >= next_resync_;
  if (resync) next_resync_ = now + options_.resync_period;
  for (auto& [uid, w] : workers_) {
    if (w.pod == nullptr || w.terminated) continue;
    bool due = w.due != MonoTime{} && w.due <= now;
    if (due) w.due = MonoTime{};
    if (due || resync) EnqueueLocked(uid, w);
  }
}

void PodWorkers::TimerLoop() {
  SetCurrentThreadName("ck-pleg");
  MonoTime next_relist = clock_.Monotonic();
  while (true) {
    const bool relist = clock_.Monotonic() >= next_relist;
    if (relist) next_relist = clock_.Monotonic() + options_.relist_period;
    TickOnce(relist);
    MonoTime next = next_relist;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      for (const auto& [uid, w] : workers_) {
        if (w.due != MonoTime{} && w.due < next) next = w.due;
      }
    }
    clock_.WaitUntil(wakeup_, next);
  }
}

int PodWorkers::RunningPodCount() const {
  std::lock_guard lock(mu_);
  int n = 0;
  for (const auto& [uid, w] : workers_) {
    if (w.pod != nullptr && !w.terminated && !w.forgotten && !w.terminal) ++n;
  }
  return n;
}

bool PodWorkers::Idle() const {
  std::lock_guard lock(mu_);
  return running_ == 0;
}

}  // namespace ck::kubelet
