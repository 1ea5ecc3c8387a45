// ComputePodActions: what one sync of a pod must do, from its spec and what the runtime reports
// (upstream kuberuntime computePodActions). Pure logic over its inputs plus the CrashLoopBackoff
// table it updates; the PodSyncer carries the actions out.
//
// Rules (upstream's): the sandbox and network come first; init containers run one at a time in
// order, the next only after the previous exited 0; a failed init container restarts per
// restartPolicy (Never fails the pod); regular containers start once every init container
// succeeded; an exited container restarts per restartPolicy (Always: always, OnFailure: on a
// non-zero exit, Never: never), delayed by the CrashLoopBackOff; a running container whose spec
// hash changed, that failed its liveness probe, or whose startup probe failed past its threshold
// is killed and (unless restartPolicy is Never; always for a spec change) started again.
// Threading: CrashLoopBackoff is internally synchronized; the functions are pure.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "kubelet/prober/prober_manager.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;

// The container spec hash stored with each container (kAnnotationContainerHash): a change of the
// spec makes the pod sync restart the container. Hex of a 64-bit FNV-1a over the deterministic
// serialization of the Container.
std::string ContainerHash(const corev1::Container& container);

// "web-1_shop(8f3c...)": upstream's format.Pod, used in messages.
std::string PodDescription(const corev1::Pod& pod);

// Per (pod, container) restart back-off, as upstream's flowcontrol.Backoff keyed by
// "<pod>_<ns>_<uid>_<container>_<hash>":
//   * Next(key, t) (a restart of a container that finished at t) starts at `initial` for a new
//     key, else doubles the previous delay up to `max`; the entry records t.
//   * InBackOffSince(key, t) is true while now - t < the entry's delay.
//   * The delay resets to `initial` when the container had been stable: the finish t is more than
//     2 * max after the previous recorded finish (upstream's hasExpired "stable for twice the
//     maxDuration"; with the defaults, 10 min of running), and GC() drops entries not updated for
//     2 * max.
// The first restart after a crash is immediate (it records the delay the next crash will wait),
// as upstream.
class CrashLoopBackoff {
 public:
  CrashLoopBackoff(Duration initial, Duration max) : initial_(initial), max_(max) {}
  bool InBackOffSince(const std::string& key, WallTime finished_at, WallTime now) const;
  void Next(const std::string& key, WallTime finished_at);
  // The key's current delay (zero when none).
  Duration Get(const std::string& key) const;
  void GC(WallTime now);
  // Forgets every entry of one pod (keys start with `prefix`).
  void ForgetPrefix(const std::string& prefix);
  Duration initial() const { return initial_; }
  Duration max() const { return max_; }

 private:
  struct Entry {
    Duration delay{0};
    WallTime last_update{};
  };
  const Duration initial_;
  const Duration max_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

// The backoff key of one container of the pod (upstream getStableKey).
std::string BackoffKey(const corev1::Pod& pod, const corev1::Container& container);

// Probe results of the pod's current containers, by container name.
struct ProbeView {
  std::function<ProbeResult(const std::string& container)> readiness;
  std::function<ProbeResult(const std::string& container)> liveness;
  std::function<ProbeResult(const std::string& container)> startup;
};

struct ContainerStart {
  std::string name;
  int index = 0;         // in spec.initContainers (init) or spec.containers
  bool init = false;
  int32_t attempt = 0;   // the restartCount it will report
};

struct ContainerKill {
  std::string id;
  std::string name;
  std::string message;  // why, e.g. "Container app failed liveness probe, will be restarted"
};

struct ContainerWaiting {
  std::string reason;   // "CrashLoopBackOff"
  std::string message;  // "back-off 10s restarting failed container=app pod=web_shop(uid)"
};

struct PodActions {
  bool create_sandbox = false;             // sandbox and network not set up yet
  bool kill_pod = false;                   // an init container failed with restartPolicy Never
  std::vector<ContainerKill> kill;         // running containers to stop first
  std::vector<ContainerStart> start;       // in order: at most one init container, or regular ones
  std::map<std::string, ContainerWaiting> waiting;  // containers held back by the backoff
  Duration requeue_after{0};               // > 0: sync again then (the shortest backoff left)
};

// Running, or created and not yet started: the container still occupies its name.
bool ContainerAlive(const ContainerStatus& c);

// The latest runtime instance of each container name (highest attempt, then newest).
std::map<std::string, const ContainerStatus*> LatestByName(const std::vector<ContainerStatus>& containers);

// `containers` are the runtime's containers of this pod (any attempts). `sandbox_ready` says
// whether RunPodSandbox and the network setup already happened for the pod.
PodActions ComputePodActions(const corev1::Pod& pod, const std::vector<ContainerStatus>& containers,
                             bool sandbox_ready, const ProbeView& probes, CrashLoopBackoff& backoff, WallTime now);

}  // namespace ck::kubelet
