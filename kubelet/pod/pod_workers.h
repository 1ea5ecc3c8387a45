// PodWorkers: one worker per pod (upstream podWorkers): syncs of one pod are serialized, pods
// sync in parallel on a small named thread pool. A sync is triggered by the informer
// (UpdatePod), a probe result change (Trigger), a PLEG relist that saw the pod's containers
// change, the requeue time a sync asked for (backoff, retries), and a periodic resync of every
// pod. A pod with a deletionTimestamp is terminated (PodSyncer::TerminatePod), its final status
// written, its deletion confirmed (DELETE grace 0) and its resources cleaned up; ForgetPod (the
// API deleted it) terminates what still runs and forgets it. Once SetReadyToRunPods(true) says
// the informer has synced, runtime containers of uids no worker knows are orphans and removed.
// Threading: public methods are safe from any thread; mu_ guards the worker table. Tick() runs on
// the timer thread (or the caller's, when the owner drives ticks itself).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/thread.h"
#include "kubelet/pod/pod_syncer.h"
#include "kubelet/pod/status_manager.h"

namespace ck::kubelet {

struct PodWorkersOptions {
  Duration relist_period = std::chrono::seconds(1);  // PLEG relist, profile-independent as upstream
  Duration resync_period = std::chrono::seconds(60);  // upstream --sync-frequency
  int threads = 4;                                    // own pool size (when `pool` is null)
  ThreadPool* pool = nullptr;                         // a shared pool (many fake nodes in one process)
  bool own_timer_thread = true;                       // false: the owner calls Tick() itself
};

class PodWorkers {
 public:
  // Everything passed must outlive the workers.
  PodWorkers(PodSyncer& syncer, StatusManager& status, ContainerRuntime& runtime, Clock& clock,
             PodWorkersOptions options = {});
  ~PodWorkers();  // Stop()

  void Start();
  // Stops the timer thread and waits for running syncs; pods keep running in the runtime.
  void Stop();

  void UpdatePod(std::shared_ptr<const corev1::Pod> pod);
  void ForgetPod(const std::string& uid);
  void SetReadyToRunPods(bool ready);
  // Syncs the pod soon (probe result changes).
  void Trigger(const std::string& uid);
  // One PLEG relist plus the due requeues and resyncs.
  void Tick();

  // Pods with a worker that are neither terminated nor terminal.
  int RunningPodCount() const;
  // Syncs finished so far (tests wait on it).
  int64_t syncs() const { return syncs_.load(); }
  // True when no sync is running or queued.
  bool Idle() const;

 private:
  struct Worker {
    std::shared_ptr<const corev1::Pod> pod;  // null for an orphan
    bool busy = false;
    bool pending = false;
    bool forgotten = false;   // the API deleted the pod
    bool terminated = false;  // containers stopped, deletion confirmed
    bool terminal = false;    // last status Succeeded/Failed
    MonoTime due{};           // requeue time (epoch: none)
  };
  void EnqueueLocked(const std::string& uid, Worker& w);
  // Brings the SIGKILL of every stop in flight of the pod's containers to `grace` from now.
  void ShortenStops(const std::string& uid, std::chrono::seconds grace);
  void Run(const std::string& uid);
  // One step for the pod; returns the requeue delay (0: none).
  Duration SyncOnce(const std::string& uid, const Worker& snapshot);
  void TimerLoop();
  void TickOnce(bool relist);

  PodSyncer& syncer_;
  StatusManager& status_;
  ContainerRuntime& runtime_;
  Clock& clock_;
  const PodWorkersOptions options_;
  std::unique_ptr<ThreadPool> own_pool_;
  ThreadPool* pool_;
  std::atomic<int64_t> syncs_{0};
  Wakeup wakeup_;
  std::thread timer_;

  mutable std::mutex mu_;
  std::map<std::string, Worker> workers_;                 // guarded by mu_; by uid
  std::map<std::string, std::pair<int, int64_t>> last_relist_;  // guarded by mu_; id -> (state, finish)
  std::map<std::string, std::string> relist_uid_;         // guarded by mu_; id -> pod uid
  bool ready_to_run_ = false;                             // guarded by mu_
  bool stopping_ = false;                                 // guarded by mu_
  bool started_ = false;                                  // guarded by mu_
  int running_ = 0;                                       // guarded by mu_; syncs in flight
  MonoTime next_resync_{};                                // guarded by mu_
  std::condition_variable idle_cv_;
};

}  // namespace ck::kubelet
