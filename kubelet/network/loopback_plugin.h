// LoopbackNetworkPlugin: process mode's pod network (DESIGN.md §5). Each pod gets one address of
// the node's podCIDR, which the launcher keeps inside 127.0.0.0/8: Linux routes the whole of
// 127/8 to `lo`, so a container binds $POD_IP with no interface setup, and no packet can leave the
// machine. Addresses are handed out like CNI's host-local IPAM: the network and first (gateway)
// addresses and the broadcast address are skipped, the next free address after the last one handed
// out is taken, and each allocation is a file `<state-dir>/<ip>` holding the pod uid, so a
// restarted kubelet gives a pod the same address. An empty state dir keeps allocations in memory
// only (the fake runtime's thousands of nodes).
// Threading: every method takes mu_.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "kubelet/network/network_plugin.h"

namespace ck::kubelet {

class LoopbackNetworkPlugin final : public NetworkPlugin {
 public:
  // `require_loopback`: refuse a podCIDR outside 127.0.0.0/8 (process mode's safety rule,
  // DESIGN.md §6). The fake runtime passes false: its addresses are never bound.
  LoopbackNetworkPlugin(std::string state_dir, bool require_loopback);

  std::string Name() const override { return "loopback"; }
  Status SetPodCidr(const std::string& cidr) override;
  Result<PodNetworkStatus> SetUpPod(const PodNetworkRequest& pod) override;
  Status TearDownPod(const PodNetworkRequest& pod) override;
  PodNetworkStatus GetPodNetworkStatus(const std::string& uid) override;

 private:
  Status LoadLocked();

  const std::string state_dir_;
  const bool require_loopback_;
  mutable std::mutex mu_;
  bool have_cidr_ = false;          // guarded by mu_
  uint32_t network_ = 0;            // guarded by mu_; host order
  uint32_t size_ = 0;               // guarded by mu_; addresses in the CIDR
  uint32_t last_ = 0;               // guarded by mu_; offset of the last address handed out
  std::map<uint32_t, std::string> used_;     // guarded by mu_; address -> pod uid
  std::map<std::string, uint32_t> by_uid_;   // guarded by mu_
};

// "127.244.3.0/24" -> network address and prefix length (IPv4 only); kInvalid otherwise.
Result<std::pair<uint32_t, int>> ParseIpv4Cidr(const std::string& cidr);
std::string FormatIpv4(uint32_t address);

}  // namespace ck::kubelet
