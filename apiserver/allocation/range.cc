#include "apiserver/allocation/range.h"

#include <algorithm>
#include <charconv>

namespace ck::apiserver::allocation {

namespace {

// Upstream refuses service ranges of more than 2^20 addresses (kube-apiserver's maxCIDRBits).
constexpr int kMaxHostBits = 20;

// min(max(lo, size / step), hi), or 0 when the pool has `lo` values or fewer.
int64_t StaticBand(int64_t cidr_or_range_size, int64_t lo, int64_t hi, int64_t step) {
  if (cidr_or_range_size <= lo) return 0;
  return std::clamp(cidr_or_range_size / step, lo, hi);
}

std::optional<int64_t> ParseInt(std::string_view s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<uint32_t> ParseIpv4(std::string_view text) {
  // Go's ParseIPSloppy, which validation follows: octets of 1-3 decimal digits, leading zeros
  // allowed and read as decimal ("10.96.000.010" is 10.96.0.10).
  uint32_t address = 0;
  size_t i = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
    size_t start = i;
    uint32_t octet = 0;
    while (i < text.size() && i - start < 3 && text[i] >= '0' && text[i] <= '9') octet = octet * 10 + (text[i++] - '0');
    if (i == start || octet > 255) return std::nullopt;
    address = (address << 8) | octet;
  }
  if (i != text.size()) return std::nullopt;
  return address;
}

std::string FormatIpv4(uint32_t address) {
  return std::to_string(address >> 24) + "." + std::to_string((address >> 16) & 0xff) + "." +
         std::to_string((address >> 8) & 0xff) + "." + std::to_string(address & 0xff);
}

Result<ServiceIpRange> ServiceIpRange::Parse(std::string_view cidr) {
  const std::string flag = "--service-cluster-ip-range=\"" + std::string(cidr) + "\": ";
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) {
    return BadRequest(flag + "not an IPv4 CIDR (expected ADDRESS/PREFIX, e.g. 10.96.0.0/12)");
  }
  std::string_view addr_text = cidr.substr(0, slash);
  auto addr = ParseIpv4(addr_text);
  auto prefix = ParseInt(cidr.substr(slash + 1));
  if (!addr) {
    if (addr_text.find(':') != std::string_view::npos) {
      return BadRequest(flag + "IPv6 service ranges are not supported; give an IPv4 CIDR such as 10.96.0.0/12");
    }
    return BadRequest(flag + "not an IPv4 CIDR (expected ADDRESS/PREFIX, e.g. 10.96.0.0/12)");
  }
  if (!prefix || *prefix < 0 || *prefix > 32) {
    return BadRequest(flag + "the prefix length must be a number from 0 to 32");
  }
  if (32 - *prefix > kMaxHostBits) {
    return BadRequest(flag + "too large; for 32-bit addresses, the mask must be >= " + std::to_string(32 - kMaxHostBits));
  }
  if (*prefix > 30) {
    return BadRequest(flag + "too small; the mask must be <= 30 to leave an address besides the kubernetes service's");
  }
  ServiceIpRange r;
  r.prefix_ = static_cast<int>(*prefix);
  uint32_t mask = r.prefix_ == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix_);
  r.network_ = *addr & mask;
  r.first_ = r.network_ + 1;
  int64_t cidr_size = int64_t{1} << (32 - r.prefix_);
  r.size_ = cidr_size - 2;
  r.band_ = StaticBand(cidr_size, 16, 256, 16);
  return r;
}

std::string ServiceIpRange::cidr() const { return FormatIpv4(network_) + "/" + std::to_string(prefix_); }

std::optional<int64_t> ServiceIpRange::Offset(uint32_t address) const {
  if (address < first_) return std::nullopt;
  int64_t offset = static_cast<int64_t>(address) - first_;
  if (offset >= size_) return std::nullopt;
  return offset;
}

Result<NodePortRange> NodePortRange::Parse(std::string_view spec) {
  const std::string flag = "--service-node-port-range=\"" + std::string(spec) + "\": ";
  std::optional<int64_t> low, high;
  if (size_t dash = spec.find('-'); dash != std::string_view::npos) {
    low = ParseInt(spec.substr(0, dash));
    high = ParseInt(spec.substr(dash + 1));
  } else if (size_t plus = spec.find('+'); plus != std::string_view::npos) {
    low = ParseInt(spec.substr(0, plus));
    auto count = ParseInt(spec.substr(plus + 1));
    if (low && count) high = *low + *count;
  } else {
    low = high = ParseInt(spec);
  }
  if (!low || !high) return BadRequest(flag + "not a port range (expected LOW-HIGH, e.g. 30000-32767)");
  if (*low < 1 || *high > 65535) return BadRequest(flag + "ports must be between 1 and 65535");
  if (*high < *low) return BadRequest(flag + "the end of the range is below its start");
  NodePortRange r;
  r.base_ = static_cast<int32_t>(*low);
  r.size_ = *high - *low + 1;
  r.band_ = StaticBand(r.size_, 16, 128, 32);
  return r;
}

std::string NodePortRange::ToString() const {
  return std::to_string(base_) + "-" + std::to_string(base_ + size_ - 1);
}

std::optional<int64_t> NodePortRange::Offset(int32_t port) const {
  int64_t offset = int64_t{port} - base_;
  if (offset < 0 || offset >= size_) return std::nullopt;
  return offset;
}

std::optional<int64_t> ScanStart::First(int64_t size, int64_t band) const {
  if (size <= 0) return std::nullopt;
  return band < size ? band + upper : lower;
}

ScanStart RandomScanStart(int64_t size, int64_t band, Random& random) {
  ScanStart s;
  if (size > band) s.upper = static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(size - band)));
  if (band > 0) s.lower = static_cast<int64_t>(random.Uniform(static_cast<uint64_t>(band)));
  return s;
}

std::optional<int64_t> PickFree(int64_t size, int64_t band, const ScanStart& start,
                                const std::function<bool(int64_t)>& taken) {
  int64_t upper = size - band;
  for (int64_t i = 0; i < upper; ++i) {
    int64_t at = band + (start.upper + i) % upper;
    if (!taken(at)) return at;
  }
  for (int64_t i = 0; i < band; ++i) {
    int64_t at = (start.lower + i) % band;
    if (!taken(at)) return at;
  }
  return std::nullopt;
}

}  // namespace ck::apiserver::allocation
