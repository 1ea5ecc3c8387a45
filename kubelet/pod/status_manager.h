// StatusManager: writes pods' status to the API server (the kubelet's status manager). A status
// is written (PUT pods/<name>/status) only when it differs from the last one written for the pod
// (or, before any write, from the status the API has); a Conflict re-reads the pod and retries;
// a terminal phase (Succeeded, Failed) is never moved back; a status for a pod that is gone
// (NotFound, or another uid under the name) is dropped. DeletePod confirms a terminated pod's
// deletion as upstream does: DELETE with gracePeriodSeconds=0 and the uid as precondition.
// A static pod (mirror_pod.h) is not in the API: its status goes to its mirror pod (PUT on the
// mirror's name, with the mirror's uid and resourceVersion), found through `mirror_of`; while it
// has no mirror (or only one being deleted) nothing is written and the next sync tries again.
// Threading: safe from any thread; calls for one pod are serialized by the caller (PodWorkers).
// mu_ guards the per-pod cache.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
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
  // The current mirror pod of a static pod, or null when there is none.
  using MirrorResolver = std::function<std::shared_ptr<const corev1::Pod>(const corev1::Pod& static_pod)>;

  // `api` must outlive the manager. Without `mirror_of`, static pods' statuses are not written.
  explicit StatusManager(client::ApiClient& api, MirrorResolver mirror_of = nullptr);

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
    std::string target_uid;        // the pod written: the pod itself, or a static pod's mirror
  };
  client::ApiClient& api_;
  const MirrorResolver mirror_of_;
  const client::ResourceInfo& pods_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> last_;  // guarded by mu_; by uid
  int64_t writes_ = 0;                 // guarded by mu_
};

}  // namespace ck::kubelet
