// ProcessRuntime: the ContainerRuntime of process mode (DESIGN.md §5). Each container is a host
// process supervised by its own ck-shim, started detached (double fork + setsid) so it outlives
// a killed kubelet. All state lives on disk under the root dir (README.md has the layout):
// StartContainer writes spec.json and waits for the shim's "started"; ListContainers rebuilds
// everything from spec.json + state.json and checks the pids (with their start times, against pid
// reuse), which is how a restarted kubelet re-adopts running containers without duplicates.
// Threading: no in-memory container state; every method is safe from many threads at once and
// may block (StopContainer up to its grace period, ExecSync up to its timeout).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "kubelet/cm/cgroup_writer.h"
#include "kubelet/runtime/container_runtime.h"
#include "kubelet/shim/shim_state.h"

namespace ck::kubelet {

struct ExecContext;  // process_runtime.cc: what an exec's child needs, shared by ExecSync and Exec

// Set on a ContainerStatus (annotations) when the shim could not bind-mount the volumes (not
// root, or no mount namespace); the value says why. The kubelet turns it into an event.
inline constexpr char kAnnotationMountsSkipped[] = "clearkube.io/mounts-skipped";
// The message a container that died while no shim watched it reports (its exit code is unknown).
inline constexpr char kExitedWithoutShimMessage[] =
    "the container exited while its ck-shim was not running; its exit code is unknown";

class ProcessRuntime final : public ContainerRuntime {
 public:
  // `root_dir` is the kubelet's --root-dir (pods/ is created below it); `shim_path` the ck-shim
  // binary; `cgroups` may be unusable (limits are then not applied). All must outlive this.
  // Grace periods and exec timeouts are measured on `clock` (a real one in the kubelet).
  ProcessRuntime(std::string root_dir, std::string shim_path, Clock& clock, Random& random,
                 const cm::CgroupWriter& cgroups);

  std::string Name() const override { return "process"; }
  std::string Version() const override { return "0.1.0"; }

  Status RunPodSandbox(const PodSandboxConfig& pod) override;
  Status RemovePodSandbox(const std::string& pod_uid) override;
  Result<std::string> StartContainer(const PodSandboxConfig& pod, const ContainerConfig& config) override;
  Status StopContainer(const std::string& id, std::chrono::seconds grace) override;
  void ShortenStop(const std::string& id, std::chrono::seconds grace) override;
  Status RemoveContainer(const std::string& id) override;
  Result<std::vector<ContainerStatus>> ListContainers() override;
  Result<std::vector<ContainerStatus>> ListPodContainers(const std::string& pod_uid) override;
  Result<ExecResult> ExecSync(const std::string& id, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) override;
  // Exec: pipes, or a pseudo-terminal with tty (the child gets its own session with the terminal
  // as controlling tty, and TERM=xterm when the container's env has no TERM).
  Result<std::unique_ptr<StreamingProcess>> Exec(const std::string& id, const ExecRequest& req) override;
  // Attach: the container's output from its CRI log (from the current end) and, with stdin, the
  // FIFO ck-shim made for a stdin: true container (shim/README.md has the stdinOnce protocol).
  Result<std::unique_ptr<StreamingProcess>> Attach(const std::string& id, bool stdin, bool tty) override;

  // <root>/pods/<uid> and <root>/pods/<uid>/containers/<id>; for tests and the README.
  std::string PodDir(const std::string& pod_uid) const;
  std::string ContainerDir(const std::string& pod_uid, const std::string& id) const;

  // How long StartContainer waits for the shim to report (the shim only resolves the binary,
  // makes mounts and forks, so this is generous).
  static constexpr std::chrono::seconds kShimStartTimeout{10};

 private:
  // The container's directory, found by scanning the pods (ids are unique on the node).
  Result<std::string> FindContainer(const std::string& id) const;
  Result<ContainerStatus> Inspect(const std::string& dir);
  // spec.json never changes after StartContainer wrote it: parsed once per container dir.
  Result<std::shared_ptr<const shim::ContainerSpec>> CachedSpec(const std::string& dir);
  void ForgetSpec(const std::string& dir);
  std::string NewContainerId();
  // Checks the container runs and builds the exec's context (env, working dir, cgroup, mount
  // namespace); a command that cannot be found is recorded in the context, not an error.
  Result<std::unique_ptr<ExecContext>> PrepareExec(const std::string& id, const std::vector<std::string>& argv,
                                                   bool tty);

  const std::string root_dir_;
  const std::string shim_path_;
  Clock& clock_;
  Random& random_;
  const cm::CgroupWriter& cgroups_;
  // Serializes the runtime's own writes to state.json (only made when the shim is gone) and the
  // pod directory's created-mountpoint list.
  std::mutex write_mu_;
  std::mutex spec_mu_;
  std::map<std::string, std::shared_ptr<const shim::ContainerSpec>> specs_;  // guarded by spec_mu_
  struct StopInFlight {
    MonoTime kill_at{};  // when SIGKILL is sent
    int stoppers = 0;    // StopContainer calls waiting on this container
  };
  std::mutex stops_mu_;
  std::map<std::string, StopInFlight> stops_;  // guarded by stops_mu_
};

}  // namespace ck::kubelet
