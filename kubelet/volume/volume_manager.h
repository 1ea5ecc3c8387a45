// VolumeManager: prepares a pod's volumes on the node before its containers start and removes
// them after (the kubelet's volume manager, for the in-tree local kinds). Layout as upstream:
// <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<volume-name>. Kinds: emptyDir (medium
// "" on disk; Memory also on disk in process mode, sizeLimit recorded), hostPath (type checks:
// Directory, DirectoryOrCreate, File, FileOrCreate, Socket, ...), configMap and secret (items,
// defaultMode/mode, optional; written atomically through a ..data symlink swap like upstream's
// AtomicWriter, so updates appear to running containers), downwardAPI (fieldRef and
// resourceFieldRef files), projected (serviceAccountToken with audience and expirationSeconds,
// configMap, secret, downwardAPI; the token is refreshed when 80 % of its lifetime has passed
// or after 24 h, as upstream).
// Threading: calls for one pod are never concurrent; calls for different pods may be.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet {

struct VolumeDeps {
  std::string root_dir;  // --root-dir
  Clock* clock = nullptr;
  std::function<Result<k8s::io::api::core::v1::ConfigMap>(const std::string& ns, const std::string& name)> config_map;
  std::function<Result<k8s::io::api::core::v1::Secret>(const std::string& ns, const std::string& name)> secret;
  // POST serviceaccounts/<sa>/token bound to the pod (TokenRequest with boundObjectRef).
  std::function<Result<k8s::io::api::authentication::v1::TokenRequest>(
      const std::string& ns, const std::string& service_account,
      const k8s::io::api::authentication::v1::TokenRequest& request)>
      request_token;
  // For downwardAPI resourceFieldRef fallbacks.
  std::string node_allocatable_cpu = "0";
  std::string node_allocatable_memory = "0";
};

class VolumeManager {
 public:
  explicit VolumeManager(VolumeDeps deps);

  // Prepares (or refreshes: configMap/secret contents, downwardAPI labels, expiring tokens) every
  // volume of the pod. Returns an error naming the volume on failure (the pod sync emits
  // FailedMount with upstream's message, `MountVolume.SetUp failed for volume "cfg" : configmap
  // "x" not found`); volumes that succeeded stay.
  Status SetUpPod(const k8s::io::api::core::v1::Pod& pod);
  // The mounts of one container (volumeMounts with subPath resolved). Requires SetUpPod first.
  Result<std::vector<Mount>> MountsFor(const k8s::io::api::core::v1::Pod& pod,
                                       const k8s::io::api::core::v1::Container& container) const;
  // Removes the pod's volume directories (never follows hostPath into the host).
  Status TearDownPod(const std::string& pod_uid);

 private:
  // A cached TokenRequest answer and the pod it is bound to (for TearDownPod).
  struct CachedToken {
    std::string pod_uid;
    k8s::io::api::authentication::v1::TokenRequest token;
  };
  Status SetUpVolume(const k8s::io::api::core::v1::Pod& pod, const k8s::io::api::core::v1::Volume& volume);
  // The pod's bound token for one projection, from the cache unless 80 % of its lifetime (or
  // 24 h) has passed; a cached token that has not expired yet covers a failed request.
  Result<std::string> ServiceAccountToken(const k8s::io::api::core::v1::Pod& pod,
                                          const k8s::io::api::core::v1::ServiceAccountTokenProjection& source);

  VolumeDeps deps_;
  std::mutex mu_;
  std::map<std::string, CachedToken> tokens_;  // guarded by mu_; key: ns/sa/audience/expiry/pod uid
};

}  // namespace ck::kubelet
