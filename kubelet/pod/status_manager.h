// StatusManager: writes pods' status to the API server (the kubelet's status manager). A status
// is written (PUT pods/<name>/status) only when it differs from the last one written for the pod
// (or, before any write, from the status the API has); a Conflict re-reads the pod and retries;
// a terminal phase (Succeeded, Failed) is never moved back; a status for a pod that is gone
// (NotFound, or another uid under the name) is dropped. DeletePod confirms a terminated pod's
// deletion as upstream does: DELETE with gracePeriodSeconds=0 and the uid as precondition.
// Threading: safe from any thread; calls for one pod are serialized by the caller (PodWorkers).
// mu_ guards the per-pod cache.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "common/client/api_client.h"

namespace ck::kubelet {

namespace corev1 = ::k8s::io::api::core::v1;

class StatusManager {
 public:
  // `api` must outlive the manager.
  explicit StatusManager(client::ApiClient& api);

  // Writes `status` for `pod` (the latest object the informer has) when it changed. OK when
  // written, unchanged or dropped (pod gone); the error otherwise (the caller syncs again later).
  Status SetPodStatus(const corev1::Pod& pod, corev1::PodStatus status);
  // DELETE gracePeriodSeconds=0 with the uid precondition; NotFound and Conflict (a new pod under
  // the name) count as done.
  Status DeletePod(const corev1::Pod& pod);
  // Replaces in `pod` the kubelet-owned parts of its status (conditions the kubelet sets, phase,
  // startTime) by the last status written, when that is newer than what the informer delivered:
  // the base GeneratePodStatus keeps lastTransitionTime and startTime from.
  void MergeLastWritten(corev1::Pod* pod) const;
  void ForgetPod(const std::string& uid);

  std::optional<corev1::PodStatus> LastWritten(const std::string& uid) const;
  int64_t writes() const;

 private:
  struct Entry {
    corev1::PodStatus status;
    int64_t resource_version = 0;  // of the object our last write returned
  };
  client::ApiClient& api_;
  const client::ResourceInfo& pods_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> last_;  // guarded by mu_; by uid
  int64_t writes_ = 0;                 // guarded by mu_
};

}  // namespace ck::kubelet
