// LoopbackNetworkPlugin (loopback_plugin.h).
#include "kubelet/network/loopback_plugin.h"

#include <arpa/inet.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/base/log.h"

namespace ck::kubelet {

namespace fs = std::filesystem;

Result<std::pair<uint32_t, int>> ParseIpv4Cidr(const std::string& cidr) {
  size_t slash = cidr.find('/');
  if (slash == std::string::npos) return Status(Code::kInvalid, "invalid CIDR \"" + cidr + "\": no prefix length");
  in_addr addr{};
  if (inet_pton(AF_INET, cidr.substr(0, slash).c_str(), &addr) != 1) {
    return Status(Code::kInvalid, "invalid CIDR \"" + cidr + "\": not an IPv4 address");
  }
  int prefix = -1;
  try {
    size_t used = 0;
    prefix = std::stoi(cidr.substr(slash + 1), &used);
    if (used != cidr.size() - slash - 1) prefix = -1;
  } catch (...) {
    prefix = -1;
  }
  if (prefix < 0 || prefix > 32) return Status(Code::kInvalid, "invalid CIDR \"" + cidr + "\": bad prefix length");
  uint32_t a = ntohl(addr.s_addr);
  uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return std::pair<uint32_t, int>(a & mask, prefix);
}

std::string FormatIpv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

LoopbackNetworkPlugin::LoopbackNetworkPlugin(std::string state_dir, bool require_loopback)
    : state_dir_(std::move(state_dir)), require_loopback_(require_loopback) {}

Status LoopbackNetworkPlugin::SetPodCidr(const std::string& cidr) {
  CK_ASSIGN_OR_RETURN(auto parsed, ParseIpv4Cidr(cidr));
  auto [network, prefix] = parsed;
  if (require_loopback_ && (network >> 24) != 127) {
    return Status(Code::kInvalid, "podCIDR " + cidr +
                                      " is outside 127.0.0.0/8: in process mode pods share the host's network, so "
                                      "their addresses must be loopback addresses (--cluster-cidr=127.244.0.0/16)");
  }
  if (prefix > 30) return Status(Code::kInvalid, "podCIDR " + cidr + " is too small for pods");
  std::lock_guard lock(mu_);
  if (have_cidr_ && network == network_ && size_ == (uint32_t{1} << (32 - prefix))) return Status::Ok();
  network_ = network;
  size_ = uint32_t{1} << (32 - prefix);
  have_cidr_ = true;
  return LoadLocked();
}

Status LoopbackNetworkPlugin::LoadLocked() {
  used_.clear();
  by_uid_.clear();
  if (state_dir_.empty()) return Status::Ok();
  std::error_code ec;
  fs::create_directories(state_dir_, ec);
  if (ec) return Status(Code::kInternal, "create " + state_dir_ + ": " + ec.message());
  for (const auto& entry : fs::directory_iterator(state_dir_, ec)) {
    in_addr addr{};
    std::string name = entry.path().filename().string();
    if (inet_pton(AF_INET, name.c_str(), &addr) != 1) continue;
    uint32_t a = ntohl(addr.s_addr);
    std::ifstream in(entry.path());
    std::string uid;
    std::getline(in, uid);
    if (a < network_ || a >= network_ + size_ || uid.empty()) {
      // An allocation from an earlier podCIDR: the node was re-registered with another range.
      fs::remove(entry.path(), ec);
      continue;
    }
    used_[a] = uid;
    by_uid_[uid] = a;
    last_ = std::max(last_, a - network_);
  }
  return Status::Ok();
}

Result<PodNetworkStatus> LoopbackNetworkPlugin::SetUpPod(const PodNetworkRequest& pod) {
  std::lock_guard lock(mu_);
  if (!have_cidr_) return Status(Code::kUnavailable, "node has no podCIDR yet");
  if (auto it = by_uid_.find(pod.uid); it != by_uid_.end()) return PodNetworkStatus{{FormatIpv4(it->second)}};
  // Offsets 0 (network), 1 (gateway) and size-1 (broadcast) are never handed out.
  const uint32_t usable = size_ - 3;
  const uint32_t start = last_ >= 2 ? last_ - 1 : 0;  // the index after the last one handed out
  for (uint32_t i = 0; i < usable; ++i) {
    uint32_t offset = (start + i) % usable + 2;
    uint32_t address = network_ + offset;
    if (used_.count(address)) continue;
    if (!state_dir_.empty()) {
      std::string path = state_dir_ + "/" + FormatIpv4(address);
      std::ofstream out(path, std::ios::trunc);
      out << pod.uid << "\n" << pod.ns << "/" << pod.name << "\n";
      if (!out.flush()) return Status(Code::kInternal, "write " + path + " failed");
    }
    used_[address] = pod.uid;
    by_uid_[pod.uid] = address;
    last_ = offset;
    return PodNetworkStatus{{FormatIpv4(address)}};
  }
  return Status(Code::kUnavailable, "no free address left in the node's podCIDR " + FormatIpv4(network_));
}

Status LoopbackNetworkPlugin::TearDownPod(const PodNetworkRequest& pod) {
  std::lock_guard lock(mu_);
  auto it = by_uid_.find(pod.uid);
  if (it == by_uid_.end()) return Status::Ok();
  if (!state_dir_.empty()) {
    std::error_code ec;
    fs::remove(state_dir_ + "/" + FormatIpv4(it->second), ec);
  }
  used_.erase(it->second);
  by_uid_.erase(it);
  return Status::Ok();
}

PodNetworkStatus LoopbackNetworkPlugin::GetPodNetworkStatus(const std::string& uid) {
  std::lock_guard lock(mu_);
  auto it = by_uid_.find(uid);
  if (it == by_uid_.end()) return {};
  return PodNetworkStatus{{FormatIpv4(it->second)}};
}

}  // namespace ck::kubelet
