#include "kubelet/runtime/fake_runtime.h"

#include <cstdio>

namespace ck::kubelet {

namespace {

bool IsPodLabel(const std::string& key) {
  return key == kLabelPodUid || key == kLabelPodName || key == kLabelPodNamespace || key == kLabelContainerName;
}

std::string ReasonFor(int32_t exit_code) { return exit_code == 0 ? "Completed" : "Error"; }

}  // namespace

FakeRuntime::FakeRuntime(Clock& clock, FakeRuntimeOptions options)
    : clock_(clock), options_(std::move(options)), start_delay_(options_.start_delay) {}

void FakeRuntime::Observe(const std::string& line) {
  std::function<void(const std::string&)> observer;
  {
    std::lock_guard lock(mu_);
    observer = observer_;
  }
  if (observer) observer(line);
}

Status FakeRuntime::RunPodSandbox(const PodSandboxConfig& pod) {
  {
    std::lock_guard lock(mu_);
    auto& slot = sandboxes_[pod.uid];
    if (slot == nullptr) slot = std::make_shared<const PodInfo>(PodInfo{pod.uid, pod.name, pod.ns});
  }
  Observe("sandbox " + pod.uid);
  return Status::Ok();
}

Status FakeRuntime::RemovePodSandbox(const std::string& pod_uid) {
  {
    std::lock_guard lock(mu_);
    // Like a CRI runtime, removing the sandbox removes what is left of its containers.
    for (auto it = containers_.begin(); it != containers_.end();) {
      it = it->second.pod->uid == pod_uid ? containers_.erase(it) : std::next(it);
    }
    sandboxes_.erase(pod_uid);
  }
  Observe("remove-sandbox " + pod_uid);
  return Status::Ok();
}

Result<std::string> FakeRuntime::StartContainer(const PodSandboxConfig& pod, const ContainerConfig& config) {
  StartHook hook;
  OutcomeFn outcome_fn;
  {
    std::lock_guard lock(mu_);
    hook = start_hook_;
    outcome_fn = outcome_;
  }
  if (hook) {
    Status refused = hook(pod, config);
    if (!refused.ok()) return refused;
  }
  Outcome outcome = outcome_fn ? outcome_fn(pod, config) : Outcome{};
  std::string id;
  {
    std::lock_guard lock(mu_);
    auto& sandbox = sandboxes_[pod.uid];
    if (sandbox == nullptr) sandbox = std::make_shared<const PodInfo>(PodInfo{pod.uid, pod.name, pod.ns});
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(next_id_));
    id = buf;
    Record r;
    r.pod = sandbox;
    r.name = config.name;
    r.image = config.image;
    r.log_path = config.log_path;
    r.attempt = config.attempt;
    r.created_at = clock_.Now();
    r.started_at = r.created_at + start_delay_;
    r.exit_after = outcome.exit_after;
    r.planned_exit_code = outcome.exit_code;
    r.message = std::move(outcome.message);
    r.pid = 100000 + static_cast<int64_t>(next_id_);
    ++next_id_;
    for (const auto& [k, v] : config.labels) {
      if (!IsPodLabel(k)) r.extra_labels.emplace_back(k, v);
    }
    r.annotations.assign(config.annotations.begin(), config.annotations.end());
    containers_.emplace(id, std::move(r));
  }
  starts_.fetch_add(1);
  Observe("start " + pod.uid + "/" + config.name + " " + id);
  return id;
}

void FakeRuntime::AdvanceLocked(Record& r, WallTime now) {
  if (r.exited || !r.exit_after.has_value()) return;
  WallTime ends = StartedAtLocked(r) + *r.exit_after;
  if (now < ends) return;
  r.exited = true;
  r.exit_code = r.planned_exit_code;
  r.finished_at = ends;
}

void FakeRuntime::ShortenStop(const std::string& id, std::chrono::seconds grace) {
  std::lock_guard lock(mu_);
  shortened_stops_.push_back(id + " " + std::to_string(grace.count()));
}

Status FakeRuntime::StopContainer(const std::string& id, std::chrono::seconds /*grace*/) {
  StopHook hook;
  {
    std::lock_guard lock(mu_);
    hook = stop_hook_;
  }
  if (hook) {
    Status refused = hook(id);
    if (!refused.ok()) return refused;
  }
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return NotFound("container \"" + id + "\" not found");
    Record& r = it->second;
    WallTime now = clock_.Now();
    AdvanceLocked(r, now);
    if (!r.exited) {
      r.exited = true;
      r.exit_code = options_.stop_exit_code;
      r.finished_at = now;
      if (now < r.started_at) r.started_at = now;  // it never ran: start == finish
    }
  }
  Observe("stop " + id);
  return Status::Ok();
}

Status FakeRuntime::RemoveContainer(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    containers_.erase(id);
  }
  Observe("remove " + id);
  return Status::Ok();
}

ContainerStatus FakeRuntime::ToStatusLocked(const std::string& id, const Record& r, WallTime now) const {
  ContainerStatus s;
  s.id = id;
  s.pod_uid = r.pod->uid;
  s.pod_name = r.pod->name;
  s.pod_namespace = r.pod->ns;
  s.name = r.name;
  s.attempt = r.attempt;
  s.created_at = r.created_at;
  s.image = r.image;
  s.log_path = r.log_path;
  if (r.exited) {
    s.state = ContainerState::kExited;
    s.started_at = StartedAtLocked(r);
    s.finished_at = r.finished_at;
    s.exit_code = r.exit_code;
    s.reason = r.exit_code == options_.stop_exit_code && r.exit_code != 0 ? options_.stop_reason : ReasonFor(r.exit_code);
    s.message = r.message;
  } else if (now >= StartedAtLocked(r)) {
    s.state = ContainerState::kRunning;
    s.started_at = StartedAtLocked(r);
    s.pid = r.pid;
  } else {
    s.state = ContainerState::kCreated;
  }
  s.labels[kLabelPodUid] = r.pod->uid;
  s.labels[kLabelPodName] = r.pod->name;
  s.labels[kLabelPodNamespace] = r.pod->ns;
  s.labels[kLabelContainerName] = r.name;
  for (const auto& [k, v] : r.extra_labels) s.labels[k] = v;
  for (const auto& [k, v] : r.annotations) s.annotations[k] = v;
  return s;
}

Result<std::vector<ContainerStatus>> FakeRuntime::ListContainers() {
  std::lock_guard lock(mu_);
  WallTime now = clock_.Now();
  std::vector<ContainerStatus> out;
  out.reserve(containers_.size());
  for (auto& [id, r] : containers_) {
    AdvanceLocked(r, now);
    out.push_back(ToStatusLocked(id, r, now));
  }
  return out;
}

Result<ContainerStatus> FakeRuntime::Inspect(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return NotFound("container \"" + id + "\" not found");
  WallTime now = clock_.Now();
  AdvanceLocked(it->second, now);
  return ToStatusLocked(id, it->second, now);
}

Result<ExecResult> FakeRuntime::ExecSync(const std::string& id, const std::vector<std::string>& argv,
                                         std::chrono::milliseconds timeout) {
  ContainerStatus status;
  ExecFn exec;
  {
    std::lock_guard lock(mu_);
    auto it = containers_.find(id);
    if (it == containers_.end()) return NotFound("container \"" + id + "\" not found");
    WallTime now = clock_.Now();
    AdvanceLocked(it->second, now);
    if (!RunningLocked(it->second, now)) return Unavailable("container \"" + id + "\" is not running");
    status = ToStatusLocked(id, it->second, now);
    exec = exec_;
  }
  Observe("exec " + id + " " + (argv.empty() ? std::string() : argv[0]));
  if (exec) return exec(status, argv, timeout);
  return ExecResult{};
}

void FakeRuntime::SetOutcome(OutcomeFn fn) {
  std::lock_guard lock(mu_);
  outcome_ = std::move(fn);
}

void FakeRuntime::SetStartHook(StartHook hook) {
  std::lock_guard lock(mu_);
  start_hook_ = std::move(hook);
}

void FakeRuntime::SetStopHook(StopHook hook) {
  std::lock_guard lock(mu_);
  stop_hook_ = std::move(hook);
}

void FakeRuntime::SetExec(ExecFn fn) {
  std::lock_guard lock(mu_);
  exec_ = std::move(fn);
}

void FakeRuntime::SetStartDelay(Duration delay) {
  std::lock_guard lock(mu_);
  start_delay_ = delay;
}

void FakeRuntime::SetCallObserver(std::function<void(const std::string&)> observer) {
  std::lock_guard lock(mu_);
  observer_ = std::move(observer);
}

Status FakeRuntime::Exit(const std::string& id, int32_t code, std::string message) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return NotFound("container \"" + id + "\" not found");
  Record& r = it->second;
  WallTime now = clock_.Now();
  AdvanceLocked(r, now);
  if (r.exited) return Status::Ok();
  if (now < r.started_at) r.started_at = now;
  r.exited = true;
  r.exit_code = code;
  r.finished_at = now;
  r.message = std::move(message);
  return Status::Ok();
}

size_t FakeRuntime::container_count() const {
  std::lock_guard lock(mu_);
  return containers_.size();
}

bool FakeRuntime::HasSandbox(const std::string& pod_uid) const {
  std::lock_guard lock(mu_);
  return sandboxes_.count(pod_uid) > 0;
}

Result<std::unique_ptr<StreamingProcess>> FakeRuntime::Exec(const std::string& id, const ExecRequest&) {
  return Status(Code::kMethodNotAllowed, "cannot exec in container \"" + id +
                                             "\": the fake runtime (--runtime=fake) runs no processes");
}

Result<std::unique_ptr<StreamingProcess>> FakeRuntime::Attach(const std::string& id, bool, bool) {
  return Status(Code::kMethodNotAllowed, "cannot attach to container \"" + id +
                                             "\": the fake runtime (--runtime=fake) runs no processes");
}

}  // namespace ck::kubelet
