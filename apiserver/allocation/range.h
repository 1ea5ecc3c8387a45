// The two pools Service allocation draws from, --service-cluster-ip-range (an IPv4 CIDR) and
// --service-node-port-range (LOW-HIGH), and upstream's way of picking a free value in them.
//
// A pool is a row of `size()` values addressed by offset 0..size-1. Upstream splits each row in
// two bands (KEP-3070 for ClusterIPs, KEP-3668 for NodePorts): the first `static_band()` offsets
// are left for values users ask for by number, and dynamic allocation picks a random offset in
// the upper band and scans forward (wrapping), falling back to the lower band only when the upper
// one is full. PickFree is that scan.
// Plain values; safe to share between threads once built.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/random.h"
#include "common/base/status.h"

namespace ck::apiserver::allocation {

// Dotted-quad IPv4 text -> host-order address; nullopt for anything else (IPv6, garbage).
// Leading zeros are accepted as validation accepts them; FormatIpv4 gives the canonical form
// that allocation keys use.
std::optional<uint32_t> ParseIpv4(std::string_view text);
std::string FormatIpv4(uint32_t address);

// The usable addresses of an IPv4 CIDR: every address but the network and broadcast ones.
// Offset 0 is the first usable address (10.96.0.1 in 10.96.0.0/12).
class ServiceIpRange {
 public:
  // Parses "10.96.0.0/12" (host bits are cleared: "10.96.0.5/12" is 10.96.0.0/12). Errors
  // (kBadRequest, one line): not an IPv4 CIDR, larger than /12 (upstream's limit of 2^20
  // addresses), or smaller than /30 (no address to hand out besides the first).
  static Result<ServiceIpRange> Parse(std::string_view cidr);

  std::string cidr() const;  // "10.96.0.0/12"
  int64_t size() const { return size_; }
  // Upstream's calculateRangeOffset: min(max(16, cidr size / 16), 256), 0 for 16 addresses or fewer.
  int64_t static_band() const { return band_; }
  // The offset of a usable address, or nullopt when the address is outside the range or is its
  // network or broadcast address.
  std::optional<int64_t> Offset(uint32_t address) const;
  uint32_t At(int64_t offset) const { return first_ + static_cast<uint32_t>(offset); }

 private:
  uint32_t network_ = 0;
  int prefix_ = 0;
  uint32_t first_ = 0;  // network + 1
  int64_t size_ = 0;
  int64_t band_ = 0;
};

// An inclusive port range, "30000-32767".
class NodePortRange {
 public:
  // Parses "LOW-HIGH", "LOW+COUNT" (upstream's "30000+2767") or a single port. Errors
  // (kBadRequest, one line): not that shape, ports outside 1..65535, HIGH < LOW.
  static Result<NodePortRange> Parse(std::string_view spec);

  std::string ToString() const;  // "30000-32767"
  int64_t size() const { return size_; }
  // Upstream's calculateRangeOffset for ports: min(max(16, size / 32), 128), 0 for 16 or fewer.
  int64_t static_band() const { return band_; }
  std::optional<int64_t> Offset(int32_t port) const;
  int32_t At(int64_t offset) const { return base_ + static_cast<int32_t>(offset); }

 private:
  int32_t base_ = 0;
  int64_t size_ = 0;
  int64_t band_ = 0;
};

// Where one dynamic allocation starts scanning: a random offset in each band.
struct ScanStart {
  int64_t upper = 0;  // in [0, size - band)
  int64_t lower = 0;  // in [0, band)
  // The first offset the scan looks at, or nullopt for an empty pool.
  std::optional<int64_t> First(int64_t size, int64_t band) const;
};
ScanStart RandomScanStart(int64_t size, int64_t band, Random& random);

// Upstream's randomScanStrategyWithOffset: scans the upper band [band, size) from band + start.upper
// (wrapping inside the band), then the lower band [0, band) from start.lower; returns the first
// offset for which `taken` is false, or nullopt when every offset is taken ("range is full").
std::optional<int64_t> PickFree(int64_t size, int64_t band, const ScanStart& start,
                                const std::function<bool(int64_t)>& taken);

}  // namespace ck::apiserver::allocation
