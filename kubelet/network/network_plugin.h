// NetworkPlugin: the kubelet's CNI-style seam for pod networking. SetUpPod runs before a pod's
// first container starts (CNI ADD) and returns the pod's IPs; TearDownPod runs after its last
// container stopped (CNI DEL). Implementations: LoopbackNetworkPlugin (process mode: a loopback
// address from the node's podCIDR, e.g. 127.244.3.7 from 127.244.3.0/24, DESIGN.md §5); netd's
// plugin replaces it in the networking issue without changes to the kubelet.
// Threading: safe to call from many threads; calls for one pod are never concurrent.
#pragma once

#include <string>
#include <vector>

#include "common/base/status.h"

namespace ck::kubelet {

struct PodNetworkRequest {
  std::string uid;
  std::string name;
  std::string ns;
};

struct PodNetworkStatus {
  std::vector<std::string> ips;  // the first is status.podIP
};

class NetworkPlugin {
 public:
  virtual ~NetworkPlugin() = default;
  virtual std::string Name() const = 0;
  // Called once the node's podCIDR is known (from the Node object). Until then SetUpPod fails
  // with kUnavailable ("node has no podCIDR yet").
  virtual Status SetPodCidr(const std::string& cidr) = 0;
  // Idempotent: a second call for the same uid returns the same IPs (also after a kubelet
  // restart: allocations are persisted).
  virtual Result<PodNetworkStatus> SetUpPod(const PodNetworkRequest& pod) = 0;
  // Releases the pod's addresses. An unknown pod is success.
  virtual Status TearDownPod(const PodNetworkRequest& pod) = 0;
  // The pod's IPs if set up (for status after a restart); empty otherwise.
  virtual PodNetworkStatus GetPodNetworkStatus(const std::string& uid) = 0;
};

}  // namespace ck::kubelet
