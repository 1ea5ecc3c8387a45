// ContainerRuntime: the kubelet's seam to whatever runs containers (the CRI's role). The pod
// sync (kubelet/pod/) decides what to start and stop; a runtime only does it and reports what
// exists. Implementations: ProcessRuntime (child processes under ck-shim, process mode),
// FakeRuntime (no processes; statuses follow the spec after a delay, kwok-style); an OCI/crun
// runtime arrives with namespace mode.
//
// A container is identified by its id (unique for ever on this node); its metadata (pod uid,
// namespace, name, container name, attempt, spec hash, ...) is stored with it, so a restarted
// kubelet re-adopts everything ListContainers() reports without starting duplicates.
// Threading: every method is safe to call from many threads at once; calls may block (a stop
// waits up to its grace period).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::kubelet {

// The pod a container belongs to, as the runtime needs it.
struct PodSandboxConfig {
  std::string uid;
  std::string name;
  std::string ns;
  std::string pod_ip;                // "" before the network plugin ran
  std::string log_directory;         // <root>/pods/<uid>/logs... (upstream: /var/log/pods/<ns>_<name>_<uid>)
  std::string cgroup_parent;         // relative cgroup path for the pod ("kubepods/burstable/pod<uid>"), "" for none
};

struct Mount {
  std::string host_path;       // a directory or file prepared by the volume manager
  std::string container_path;  // volumeMounts[].mountPath (+ subPath resolved into host_path)
  bool read_only = false;
};

// Resource limits the runtime applies (cgroups in process mode). 0 means unset.
struct LinuxResources {
  int64_t cpu_shares = 0;           // from requests.cpu (milli * 1024 / 1000, min 2)
  int64_t cpu_quota_us = 0;         // from limits.cpu, per cpu_period_us
  int64_t cpu_period_us = 100000;
  int64_t memory_limit_bytes = 0;   // limits.memory
};

// Everything needed to start one container. Built by the pod sync from the pod spec.
struct ContainerConfig {
  std::string name;                 // the container's name in the pod
  std::string image;                // recorded; process mode runs argv from the host filesystem
  std::vector<std::string> argv;    // command + args, resolved ($(VAR) expansion done)
  std::vector<std::pair<std::string, std::string>> env;  // in order, resolved
  std::string working_dir;
  std::vector<Mount> mounts;
  LinuxResources resources;
  int32_t attempt = 0;              // restartCount this container will report
  bool init = false;                // an init container
  bool stdin_open = false;          // stdin: true: the container's stdin stays open for attach
  bool stdin_once = false;          // stdinOnce: the first attacher's end of stdin closes it for good
  bool tty = false;
  std::string log_path;             // CRI log file the runtime writes stdout/stderr to
  std::string termination_message_path;  // "" none; read into the exit status' message
  std::map<std::string, std::string> labels;       // kept with the container (pod uid/name/ns, container name)
  std::map<std::string, std::string> annotations;  // kept with the container (spec hash, grace period, ...)
};

enum class ContainerState { kCreated, kRunning, kExited, kUnknown };

// What the runtime knows about one container; ListContainers returns one per container that has
// not been removed.
struct ContainerStatus {
  std::string id;
  std::string pod_uid;
  std::string pod_name;
  std::string pod_namespace;
  std::string name;                 // container name in the pod
  int32_t attempt = 0;
  ContainerState state = ContainerState::kUnknown;
  int64_t pid = 0;                  // 0 unless running
  WallTime created_at{};
  WallTime started_at{};            // epoch when never started
  WallTime finished_at{};           // epoch unless exited
  int32_t exit_code = 0;
  std::string reason;               // "Completed", "Error", "OOMKilled", "ContainerCannotRun", ...
  std::string message;              // termination message or the start failure
  std::string image;
  std::string log_path;
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> annotations;
};

struct ExecResult {
  int32_t exit_code = 0;
  std::string output;               // stdout and stderr combined, capped at 10 KiB as upstream probes
  bool timed_out = false;
};

// A command to run in a running container's context, streaming (kubectl exec).
struct ExecRequest {
  std::vector<std::string> argv;
  bool stdin = false;  // a pipe (or the terminal) the caller writes; otherwise /dev/null
  bool tty = false;    // a pseudo-terminal: stdout and stderr are both its master, stderr_fd() is -1
};

// A running exec or attach, driven by whoever polls its file descriptors (the kubelet's server;
// no threads needed by the caller). Every fd is non-blocking and owned by this object: the
// destructor kills what still runs (SIGKILL to the exec's process group; an attach only
// detaches), closes every fd and reaps. Methods are safe from many threads at once.
class StreamingProcess {
 public:
  virtual ~StreamingProcess() = default;
  // Write end of the command's stdin; -1 without stdin (or after CloseStdin).
  virtual int stdin_fd() const = 0;
  // Closes stdin_fd: the command reads EOF (an attach with stdinOnce closes the container's
  // stdin for good; without stdinOnce the container keeps it open). On a terminal there is no
  // EOF but the one the user types (^D), as upstream.
  virtual void CloseStdin() = 0;
  // Read end of stdout (the terminal's master with tty); EOF once the output is complete.
  virtual int stdout_fd() const = 0;
  // Read end of stderr; -1 with tty.
  virtual int stderr_fd() const = 0;
  // The terminal's size (TIOCSWINSZ); OK and nothing done without a terminal.
  virtual Status Resize(uint16_t width, uint16_t height) = 0;
  // Becomes readable (POLLIN) once the command (exec) or the container (attach) has exited.
  virtual int exit_fd() const = 0;
  // The exit code once exit_fd is readable: 128+N for a signal N. Unavailable before.
  virtual Result<int> ExitCode() = 0;
};

class ContainerRuntime {
 public:
  virtual ~ContainerRuntime() = default;

  // "process" or "fake"; reported as the node's containerRuntimeVersion ("process://0.1.0").
  virtual std::string Name() const = 0;
  virtual std::string Version() const = 0;

  // Prepares the pod's state (directories, cgroup). Idempotent: a second call for the same uid
  // keeps what exists.
  virtual Status RunPodSandbox(const PodSandboxConfig& pod) = 0;
  // Removes the pod's state once all its containers are removed. NotFound is success.
  virtual Status RemovePodSandbox(const std::string& pod_uid) = 0;

  // Creates and starts a container; returns its id. A container that cannot start (no argv,
  // binary not found, not executable) is reported as an error whose message says why (the pod
  // sync reports it as CreateContainerError / RunContainerError); nothing is left running.
  virtual Result<std::string> StartContainer(const PodSandboxConfig& pod, const ContainerConfig& config) = 0;

  // Sends SIGTERM, waits up to `grace`, then SIGKILL; returns once the container has exited.
  // An already exited container is success; an unknown id is NotFound.
  virtual Status StopContainer(const std::string& id, std::chrono::seconds grace) = 0;
  // A StopContainer of `id` in flight sends SIGKILL no later than `grace` from now (a second
  // delete with a shorter grace period, upstream's gracePeriodOverride); no effect otherwise.
  virtual void ShortenStop(const std::string& /*id*/, std::chrono::seconds /*grace*/) {}
  // Forgets an exited container (its log file stays until the pod is removed).
  virtual Status RemoveContainer(const std::string& id) = 0;

  // Every container not yet removed, of every pod (the PLEG relist reads this every second).
  virtual Result<std::vector<ContainerStatus>> ListContainers() = 0;
  // The containers of one pod (a pod's sync reads this; runtimes that can, answer without
  // looking at the other pods). The default filters ListContainers().
  virtual Result<std::vector<ContainerStatus>> ListPodContainers(const std::string& pod_uid) {
    CK_ASSIGN_OR_RETURN(std::vector<ContainerStatus> all, ListContainers());
    std::vector<ContainerStatus> out;
    for (ContainerStatus& c : all) {
      if (c.pod_uid == pod_uid) out.push_back(std::move(c));
    }
    return out;
  }

  // Runs `argv` in the context of a running container (its env, working dir, cgroup) and waits
  // at most `timeout`. Used by exec probes and preStop exec hooks.
  virtual Result<ExecResult> ExecSync(const std::string& id, const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) = 0;

  // Starts `req.argv` in the context of a running container, as ExecSync does, with its stdio
  // connected to the returned StreamingProcess (kubectl exec). NotFound for an unknown id,
  // Conflict when the container is not running, Invalid for an empty argv. A command that
  // cannot be found still starts a StreamingProcess: it reports the reason on stderr and exits
  // 127 (126 when not executable), so kubectl prints it and exits with that code.
  virtual Result<std::unique_ptr<StreamingProcess>> Exec(const std::string& id, const ExecRequest& req) {
    (void)id;
    (void)req;
    return Status(Code::kMethodNotAllowed, "exec is not supported by the " + Name() + " runtime");
  }
  // Attaches to the running container's own stdio (kubectl attach): its output from now on
  // and, with `stdin`, its stdin (the container must have stdin: true; BadRequest otherwise).
  // `tty` follows the container's spec (process mode gives containers no terminal: output
  // arrives as stdout and stderr, and Resize does nothing).
  virtual Result<std::unique_ptr<StreamingProcess>> Attach(const std::string& id, bool stdin, bool tty) {
    (void)id;
    (void)stdin;
    (void)tty;
    return Status(Code::kMethodNotAllowed, "attach is not supported by the " + Name() + " runtime");
  }
};

// Labels every runtime stores with a container (upstream's io.kubernetes.* names).
inline constexpr char kLabelPodUid[] = "io.kubernetes.pod.uid";
inline constexpr char kLabelPodName[] = "io.kubernetes.pod.name";
inline constexpr char kLabelPodNamespace[] = "io.kubernetes.pod.namespace";
inline constexpr char kLabelContainerName[] = "io.kubernetes.container.name";
// Annotations the pod sync stores with a container.
inline constexpr char kAnnotationContainerHash[] = "io.kubernetes.container.hash";
inline constexpr char kAnnotationRestartCount[] = "io.kubernetes.container.restartCount";
inline constexpr char kAnnotationTerminationGracePeriod[] = "io.kubernetes.pod.terminationGracePeriod";

}  // namespace ck::kubelet
