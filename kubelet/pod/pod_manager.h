// PodManager: the kubelet's pod machinery behind one object the daemon wires up: PodWorkers (one
// worker per pod, PLEG relist every second, periodic resync), the PodSyncer (volumes, network,
// sandbox, containers, events), the StatusManager (pods/<name>/status writes, deletion
// confirmation) and the CrashLoopBackOff table (timings from the daemon Profile).
// The daemon feeds it from an informer on its pods (spec.nodeName field selector): UpdatePod on
// add/update, DeletePod on delete, SetReadyToRunPods(true) once the informer has synced (orphan
// cleanup waits for it), and forwards ProbeManager result changes to PodChanged. Static pods
// (kubelet/config) enter the same way, from their file source; mirror pods never do.
// Threading: every public method is safe from any thread.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/thread.h"
#include "common/client/api_client.h"
#include "common/daemon/profile.h"
#include "kubelet/env/environment.h"
#include "kubelet/network/network_plugin.h"
#include "kubelet/pod/pod_actions.h"
#include "kubelet/pod/pod_syncer.h"
#include "kubelet/pod/pod_workers.h"
#include "kubelet/pod/status_manager.h"
#include "kubelet/prober/prober_manager.h"
#include "kubelet/runtime/container_runtime.h"
#include "kubelet/volume/volume_manager.h"

namespace ck::client { class EventRecorder; }

namespace ck::kubelet {

class PodManager {
 public:
  // Everything pointed to must outlive the manager.
  struct Deps {
    ContainerRuntime* runtime = nullptr;
    NetworkPlugin* network = nullptr;         // may be null: pods get no IP (tests)
    ProbeManager* probes = nullptr;           // may be null: no probes
    VolumeManager* volumes = nullptr;         // may be null: no volumes
    client::ApiClient* api = nullptr;
    client::EventRecorder* events = nullptr;  // may be null: no events
    Clock* clock = nullptr;
    const daemon::Profile* profile = nullptr;
    std::string node_name;
    std::string host_ip;
    std::string root_dir;
    std::function<EnvContext()> env_context;  // config maps, secrets, services, allocatable
    // Static pods (mirror_pod.h): their status is written to the mirror pod this returns (may be
    // null: static pods' statuses are not written).
    StatusManager::MirrorResolver mirror_pod_of;
    // Scale runs (many fake nodes in one process): share one worker pool and drive the relist
    // from one thread by calling Tick() on each manager; PodWorkersOptions defaults otherwise.
    PodWorkersOptions workers;
  };

  explicit PodManager(Deps deps);
  ~PodManager();  // Stop()

  // Starts the workers and the PLEG/resync timer. Pods already in the runtime are re-adopted by
  // their first sync (no duplicate starts; restart counts come from the runtime).
  void Start();
  // Stops syncing; running containers stay (a restarted kubelet re-adopts them).
  void Stop();

  // The informer's pod (add or update).
  void UpdatePod(std::shared_ptr<const corev1::Pod> pod);
  // The informer's delete: whatever still runs of the pod is stopped and removed.
  void DeletePod(const std::string& uid);
  // After the informer's first sync: runtime containers of unknown pods are orphans from then on.
  void SetReadyToRunPods(bool ready);
  // ProbeManager::Deps::on_change target.
  void PodChanged(const std::string& uid);
  // One PLEG relist and the due syncs (when Deps.workers.own_timer_thread is false).
  void Tick();

  int RunningPodCount() const;

  StatusManager& status_manager() { return status_; }
  PodWorkers& workers() { return *workers_; }

 private:
  Deps deps_;
  CrashLoopBackoff backoff_;
  StatusManager status_;
  std::unique_ptr<PodSyncer> syncer_;
  std::unique_ptr<PodWorkers> workers_;
};

}  // namespace ck::kubelet
