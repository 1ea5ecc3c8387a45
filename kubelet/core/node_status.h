// The Node object a kubelet registers and the status it keeps (upstream's kubelet_node_status):
// capacity and allocatable (cpu, memory, ephemeral-storage, pods), the labels every node carries
// (kubernetes.io/hostname, kubernetes.io/os, kubernetes.io/arch, plus --node-labels such as
// topology.kubernetes.io/zone), --register-with-taints, addresses (InternalIP, Hostname),
// nodeInfo, daemonEndpoints, and the conditions Ready, MemoryPressure, DiskPressure and
// PIDPressure with upstream's reasons and messages.
// Threading: pure functions.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::kubelet {

struct NodeConfig {
  std::string name;      // --hostname-override
  std::string node_ip;   // --node-ip
  std::map<std::string, std::string> labels;           // --node-labels
  std::vector<k8s::io::api::core::v1::Taint> taints;   // --register-with-taints
  std::string cpu;                  // capacity quantities ("2", "8Gi", ...)
  std::string memory;
  std::string ephemeral_storage;
  std::string pods = "110";         // --max-pods
  std::string runtime_version;      // "process://0.1.0"
  std::string pod_cidr;             // --pod-cidr (static; "" = from the node IPAM controller)
  int32_t kubelet_port = 10250;
};

// The machine's cpu count, MemTotal and the size of the filesystem holding `root_dir`.
struct HostCapacity {
  std::string cpu;
  std::string memory;
  std::string ephemeral_storage;
};
HostCapacity DetectHostCapacity(const std::string& root_dir);

// "k=v:NoSchedule,k2:NoExecute" (upstream --register-with-taints syntax).
Result<std::vector<k8s::io::api::core::v1::Taint>> ParseTaints(const std::string& flag);
// "k=v,k2=v2" (--node-labels). Keys in kubernetes.io / k8s.io other than the allowed upstream
// set are refused as NodeRestriction would.
Result<std::map<std::string, std::string>> ParseNodeLabels(const std::string& flag);

// The object POSTed at registration (metadata, spec, status with capacity and conditions).
k8s::io::api::core::v1::Node NewNode(const NodeConfig& config, WallTime now);

// What the node's health checks found, for the conditions.
struct NodeHealth {
  bool runtime_ready = true;
  std::string runtime_message;   // why not, when not
  bool network_ready = true;
  std::string network_message;
};

// Sets `status` (capacity, allocatable, conditions, addresses, nodeInfo, daemonEndpoints) from
// `config` and `health`. Condition lastTransitionTime changes only when a condition's status
// changes; lastHeartbeatTime is `now`.
void SetNodeStatus(const NodeConfig& config, const NodeHealth& health, WallTime now,
                   k8s::io::api::core::v1::NodeStatus* status);

// True when the status the API holds differs from `wanted` in more than heartbeat times (the
// kubelet then writes at once instead of at its next report).
bool NodeStatusChanged(const k8s::io::api::core::v1::NodeStatus& current,
                       const k8s::io::api::core::v1::NodeStatus& wanted);

}  // namespace ck::kubelet
