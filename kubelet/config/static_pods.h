// StaticPods: the kubelet's file pod source and its mirror pods (upstream kubelet config
// sources + the static-pod part of syncPod/HandlePodCleanups + mirror_client). It feeds the pod
// manager as the API server's pods do, and keeps one mirror pod per static pod in the API server.
//
// Main loop (one thread, "ck-static-pods"):
//   1. every file_check_frequency (and at Start): FileSource::Scan -> new uids go to update_pod,
//      uids gone (manifest removed or changed) to delete_pod (the pod stops gracefully, is removed);
//   2. once the pod informer has synced (SetApiReady), reconcile mirror pods: a static pod without
//      a mirror gets one; a mirror being deleted or with a stale config.mirror hash is deleted (grace
//      0, uid precondition) and created again; a mirror with no static pod is deleted;
//   3. the informer's mirror pods (OnMirrorPod / OnMirrorPodDeleted) wake the loop and wake the
//      static pod's worker (pod_changed) so its status is written to the new mirror;
//   4. failed API calls are retried after 1 s, doubling up to file_check_frequency.
// MirrorPodOf is the StatusManager's resolver: the static pod's current mirror, or null.
// Threading: public methods are safe from any thread; mu_ guards the pod tables. The callbacks are
// called without mu_ held, on the loop thread (or Start's caller).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/client/api_client.h"
#include "kubelet/config/file_source.h"
#include "kubelet/pod/mirror_pod.h"

namespace ck::kubelet {

class StaticPods {
 public:
  struct Deps {
    client::ApiClient* api = nullptr;  // must outlive StaticPods
    Clock* clock = nullptr;            // must outlive StaticPods
    std::string node_name;
    std::string manifest_path;  // --pod-manifest-path: a directory or one file
    Duration file_check_frequency = std::chrono::seconds(20);
    // The pod manager (PodManager::UpdatePod / DeletePod / PodChanged).
    std::function<void(std::shared_ptr<const corev1::Pod>)> update_pod;
    std::function<void(const std::string& uid)> delete_pod;
    std::function<void(const std::string& uid)> pod_changed;  // may be null
  };

  explicit StaticPods(Deps deps);
  ~StaticPods();  // Stop()

  // Reads the manifests once (the static pods reach update_pod before Start returns, so a
  // restarted kubelet re-adopts their containers) and starts the loop thread.
  void Start();
  void Stop();

  // The pod informer has synced: mirror pods are known, reconciling may begin.
  void SetApiReady();
  // The informer's mirror pods (pods with kubernetes.io/config.mirror on this node).
  void OnMirrorPod(std::shared_ptr<const corev1::Pod> mirror);
  void OnMirrorPodDeleted(const corev1::Pod& mirror);
  // The current mirror pod of `static_pod` (same full name, hash current, not being deleted);
  // null when there is none.
  std::shared_ptr<const corev1::Pod> MirrorPodOf(const corev1::Pod& static_pod) const;

  // One step each, for tests and the loop: rescan the manifests (returns the scan's errors);
  // reconcile mirror pods (OK, or the first failed call's error; the others are still tried).
  std::vector<std::string> SyncFiles();
  Status SyncMirrorPods();

  std::vector<std::shared_ptr<const corev1::Pod>> StaticPodList() const;

 private:
  void Loop();

  Deps deps_;
  FileSource source_;  // used by Start's caller, then only by the loop thread
  MirrorPodClient mirrors_client_;
  std::thread thread_;
  Wakeup wakeup_;
  std::atomic<bool> stopping_{false};

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const corev1::Pod>> static_;   // guarded by mu_; by full name
  std::map<std::string, std::shared_ptr<const corev1::Pod>> mirrors_;  // guarded by mu_; by full name
  bool api_ready_ = false;                                             // guarded by mu_
};

}  // namespace ck::kubelet
