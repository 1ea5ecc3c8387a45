// PodSyncer: carries out one pod's sync against the node (upstream kuberuntime SyncPod and
// killPod): volumes, network, sandbox, then the actions ComputePodActions chose — stop what must
// stop, start containers with their environment, argv, mounts, resources, log path and the
// upstream labels/annotations — emitting upstream's events (Pulled, Created, Started, Killing,
// BackOff, Failed, FailedMount, FailedCreatePodSandBox). TerminatePod runs preStop hooks and stops
// the containers within the grace period, then releases the network; CleanupPod removes what is
// left (volumes, containers, sandbox). Each call returns the status to report.
// Threading: calls for one pod are never concurrent (PodWorkers serialize them); calls for
// different pods run in parallel. Per-pod state is guarded by mu_.
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
#include "kubelet/env/environment.h"
#include "kubelet/network/network_plugin.h"
#include "kubelet/pod/pod_actions.h"
#include "kubelet/pod/pod_status.h"
#include "kubelet/prober/prober_manager.h"
#include "kubelet/runtime/container_runtime.h"
#include "kubelet/volume/volume_manager.h"

namespace ck::client { class EventRecorder; }

namespace ck::kubelet {

struct PodSyncerDeps {
  ContainerRuntime* runtime = nullptr;
  NetworkPlugin* network = nullptr;
  ProbeManager* probes = nullptr;           // may be null: no probes (all results succeed)
  VolumeManager* volumes = nullptr;         // may be null: no volumes
  client::EventRecorder* events = nullptr;  // may be null
  Clock* clock = nullptr;
  CrashLoopBackoff* backoff = nullptr;
  std::string node_name;
  std::string host_ip;
  std::string root_dir;
  std::function<EnvContext()> env_context;  // may be null: an empty context
};

struct SyncResult {
  corev1::PodStatus status;   // what to report now
  Duration requeue_after{0};  // > 0: sync again after this long
  bool stopped = true;        // TerminatePod: false when a container outlived its stop
};

class PodSyncer {
 public:
  explicit PodSyncer(PodSyncerDeps deps);

  // One level-triggered sync of a pod that should run. A pod already Succeeded or Failed keeps
  // its status and nothing is restarted.
  SyncResult SyncPod(const corev1::Pod& pod);
  // Runs preStop hooks and stops every container within `grace` (upstream killPod; a stop gets
  // at least 2 s after the hooks, as upstream's minimumGracePeriodInSeconds), then tears the
  // network down. Returns the final status (containers terminated, phase Succeeded or Failed);
  // `stopped` is false when a container is still running after its stop (upstream killPod's
  // error: the pod's deletion must not be confirmed then).
  SyncResult TerminatePod(const corev1::Pod& pod, std::chrono::seconds grace);
  // Removes the pod's volumes, runtime containers and sandbox and forgets its state. Called
  // after TerminatePod (and the API delete), or for orphans.
  void CleanupPod(const std::string& uid);
  // A uid the API does not know: stops (grace from the containers' annotation) and removes
  // everything of it.
  void CleanupOrphan(const std::string& uid);

  // The pod's grace period for a deletion: metadata.deletionGracePeriodSeconds, else
  // spec.terminationGracePeriodSeconds, else 30.
  static std::chrono::seconds GracePeriodOf(const corev1::Pod& pod);
  // The runtime's containers of one pod.
  std::vector<ContainerStatus> ContainersOf(const std::string& uid);
  // <root>/logs/<ns>_<name>_<uid>
  std::string LogDirectory(const corev1::Pod& pod) const;

 private:
  struct PodState {
    bool sandbox_ready = false;
    bool probes_added = false;
    bool network_released = false;  // a finished pod's address went back to the plugin
    std::vector<std::string> ips;
    std::map<std::string, ContainerWaiting> waiting;  // from the last sync
  };

  PodState StateOf(const std::string& uid);
  void SaveState(const std::string& uid, const PodState& state);
  PodStatusInput StatusInput(const corev1::Pod& pod, const PodState& state, bool terminating);
  ProbeView ProbesOf(const std::string& uid) const;
  PodSandboxConfig SandboxConfig(const corev1::Pod& pod, const PodState& state) const;
  // Sets up the network and the sandbox; false (with an event) on failure.
  bool CreateSandbox(const corev1::Pod& pod, PodState* state);
  // Starts one container; on failure records the waiting reason and the Failed event.
  void StartOne(const corev1::Pod& pod, const ContainerStart& start, PodState* state, Duration* requeue);
  // preStop (bounded by `deadline`) then StopContainer with what is left of the grace.
  void KillOne(const corev1::Pod* pod, const ContainerStatus& c, std::chrono::seconds grace,
               const std::string& message);
  void RunPreStop(const corev1::Pod& pod, const corev1::Container& spec, const ContainerStatus& c,
                  const std::string& pod_ip, std::chrono::seconds budget);
  void RemoveOldInstances(const std::vector<ContainerStatus>& containers);
  void Event(const corev1::Pod& pod, std::string_view type, std::string_view reason, const std::string& message);

  PodSyncerDeps deps_;
  mutable std::mutex mu_;
  std::map<std::string, PodState> pods_;  // guarded by mu_; by uid
};

}  // namespace ck::kubelet
