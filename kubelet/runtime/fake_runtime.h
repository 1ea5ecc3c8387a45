// FakeRuntime: a ContainerRuntime with no processes (kwok-style), for unit tests and for scale
// runs (`ck-kubelet --runtime=fake --fake-nodes=N`: one instance per simulated node, 30 pods each).
// A started container is kCreated until `start_delay` has passed on the injected Clock, then
// kRunning; it stays running until StopContainer, a test's Exit(), or the outcome function's
// `exit_after` says it ends. States are computed lazily from the clock when read, so there are no
// timers and a container costs one small record (no env, argv or mounts are kept).
// ExecSync answers through a settable function (default: exit 0, no output).
// Threading: every method is safe from any thread; one mutex guards the state. Hooks and the
// call observer run on the caller's thread without that mutex held.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet {

struct FakeRuntimeOptions {
  Duration start_delay{0};            // created -> running
  int32_t stop_exit_code = 143;       // what a stopped container reports (128 + SIGTERM)
  std::string stop_reason = "Error";  // upstream's reason for a non-zero exit
};

class FakeRuntime final : public ContainerRuntime {
 public:
  using Options = FakeRuntimeOptions;
  // What happens to a container once it runs: nothing (runs until stopped), or it exits on its
  // own `exit_after` after it started, with `exit_code` (reason "Completed" for 0, else "Error").
  struct Outcome {
    std::optional<Duration> exit_after;
    int32_t exit_code = 0;
    std::string message;  // the termination message
  };
  using OutcomeFn = std::function<Outcome(const PodSandboxConfig& pod, const ContainerConfig& config)>;
  // Refuses a start with the returned error (OK lets it proceed): models a missing binary.
  using StartHook = std::function<Status(const PodSandboxConfig& pod, const ContainerConfig& config)>;
  // Fails a stop with the returned error (OK lets it proceed); the container keeps running:
  // models a process that survives SIGKILL.
  using StopHook = std::function<Status(const std::string& id)>;
  using ExecFn = std::function<Result<ExecResult>(const ContainerStatus& container,
                                                  const std::vector<std::string>& argv,
                                                  std::chrono::milliseconds timeout)>;

  // `clock` must outlive the runtime.
  explicit FakeRuntime(Clock& clock, FakeRuntimeOptions options = {});

  std::string Name() const override { return "fake"; }
  std::string Version() const override { return "0.1.0"; }
  Status RunPodSandbox(const PodSandboxConfig& pod) override;
  Status RemovePodSandbox(const std::string& pod_uid) override;
  Result<std::string> StartContainer(const PodSandboxConfig& pod, const ContainerConfig& config) override;
  Status StopContainer(const std::string& id, std::chrono::seconds grace) override;
  // Recorded for tests (a fake stop never waits for a grace period).
  void ShortenStop(const std::string& id, std::chrono::seconds grace) override;
  Status RemoveContainer(const std::string& id) override;
  Result<std::vector<ContainerStatus>> ListContainers() override;
  Result<ExecResult> ExecSync(const std::string& id, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) override;
  // The fake runtime runs no processes: there is nothing to stream (MethodNotAllowed, saying so).
  Result<std::unique_ptr<StreamingProcess>> Exec(const std::string& id, const ExecRequest& req) override;
  Result<std::unique_ptr<StreamingProcess>> Attach(const std::string& id, bool stdin, bool tty) override;

  // ---- Test controls ----
  void SetOutcome(OutcomeFn fn);
  void SetStartHook(StartHook hook);
  void SetStopHook(StopHook hook);
  void SetExec(ExecFn fn);
  void SetStartDelay(Duration delay);
  // Makes a running (or created) container exit now with `code`; NotFound for an unknown id.
  Status Exit(const std::string& id, int32_t code, std::string message = "");
  // Called with one line per mutating call, e.g. "start <pod-uid>/<name> <id>", "stop <id>",
  // "remove <id>", "exec <id> <argv0>", "sandbox <uid>", "remove-sandbox <uid>".
  void SetCallObserver(std::function<void(const std::string&)> observer);

  // One container's status (NotFound when removed or unknown).
  Result<ContainerStatus> Inspect(const std::string& id);
  int64_t starts() const { return starts_.load(); }
  // Every ShortenStop call so far: "<id> <grace seconds>".
  std::vector<std::string> shortened_stops() const {
    std::lock_guard lock(mu_);
    return shortened_stops_;
  }
  size_t container_count() const;
  bool HasSandbox(const std::string& pod_uid) const;

 private:
  struct PodInfo {
    std::string uid, name, ns;
  };
  // One container: kept small (scale runs hold 30,000 of them in one process).
  struct Record {
    std::shared_ptr<const PodInfo> pod;
    std::string name;
    std::string image;
    std::string log_path;
    int32_t attempt = 0;
    bool exited = false;
    int32_t exit_code = 0;
    WallTime created_at{};
    WallTime started_at{};  // created_at + the start delay at creation
    WallTime finished_at{};
    std::optional<Duration> exit_after;
    int32_t planned_exit_code = 0;
    std::string message;
    int64_t pid = 0;
    std::vector<std::pair<std::string, std::string>> extra_labels;  // beyond the four pod/container labels
    std::vector<std::pair<std::string, std::string>> annotations;
  };

  // Brings `r` up to date with the clock (an outcome's exit); mu_ held.
  void AdvanceLocked(Record& r, WallTime now);
  static WallTime StartedAtLocked(const Record& r) { return r.started_at; }
  bool RunningLocked(const Record& r, WallTime now) const { return !r.exited && now >= StartedAtLocked(r); }
  ContainerStatus ToStatusLocked(const std::string& id, const Record& r, WallTime now) const;
  void Observe(const std::string& line);

  Clock& clock_;
  const FakeRuntimeOptions options_;
  std::atomic<int64_t> starts_{0};

  mutable std::mutex mu_;
  Duration start_delay_;                                             // guarded by mu_
  uint64_t next_id_ = 1;                                             // guarded by mu_
  std::map<std::string, Record> containers_;                         // guarded by mu_; by id
  std::map<std::string, std::shared_ptr<const PodInfo>> sandboxes_;  // guarded by mu_; by uid
  OutcomeFn outcome_;                                                // guarded by mu_
  StartHook start_hook_;                                             // guarded by mu_
  StopHook stop_hook_;                                               // guarded by mu_
  std::vector<std::string> shortened_stops_;                         // guarded by mu_
  ExecFn exec_;                                                      // guarded by mu_
  std::function<void(const std::string&)> observer_;                 // guarded by mu_
};

}  // namespace ck::kubelet
