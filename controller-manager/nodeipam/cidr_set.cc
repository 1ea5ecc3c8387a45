#include "controller-manager/nodeipam/cidr_set.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace ck::controller_manager {

namespace {

using u128 = unsigned __int128;

u128 AllOnes(int bits) { return bits == 128 ? ~u128(0) : ((u128(1) << bits) - 1); }

// The network mask of `prefix` bits in an address of `bits` bits.
u128 Mask(int prefix, int bits) {
  if (prefix <= 0) return 0;
  return AllOnes(bits) & ~AllOnes(bits - prefix);
}

Status BadCidr(std::string_view s) { return BadRequest("invalid CIDR address: " + std::string(s)); }

}  // namespace

std::string IpNet::String() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v6) {
    unsigned char bytes[16];
    for (int i = 0; i < 16; ++i) bytes[i] = static_cast<unsigned char>(address >> (8 * (15 - i)));
    inet_ntop(AF_INET6, bytes, buf, sizeof(buf));
  } else {
    unsigned char bytes[4];
    for (int i = 0; i < 4; ++i) bytes[i] = static_cast<unsigned char>(address >> (8 * (3 - i)));
    inet_ntop(AF_INET, bytes, buf, sizeof(buf));
  }
  return std::string(buf) + "/" + std::to_string(prefix);
}

u128 IpNet::Last() const { return address | (AllOnes(bits()) & ~Mask(prefix, bits())); }

bool IpNet::Contains(u128 ip) const { return (ip & Mask(prefix, bits())) == address; }

Result<IpNet> ParseCidr(std::string_view s) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos) return BadCidr(s);
  std::string host(s.substr(0, slash));
  std::string_view len = s.substr(slash + 1);
  int prefix = -1;
  auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), prefix);
  if (len.empty() || ec != std::errc() || ptr != len.data() + len.size() || (len.size() > 1 && len[0] == '0')) {
    return BadCidr(s);
  }
  IpNet net;
  unsigned char bytes[16] = {};
  if (host.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, host.c_str(), bytes) != 1) return BadCidr(s);
    for (int i = 0; i < 4; ++i) net.address = (net.address << 8) | bytes[i];
  } else {
    if (inet_pton(AF_INET6, host.c_str(), bytes) != 1) return BadCidr(s);
    net.v6 = true;
    for (int i = 0; i < 16; ++i) net.address = (net.address << 8) | bytes[i];
  }
  if (prefix < 0 || prefix > net.bits()) return BadCidr(s);
  net.prefix = prefix;
  net.address &= Mask(prefix, net.bits());
  return net;
}

Result<std::vector<IpNet>> ParseCidrList(std::string_view s) {
  std::vector<IpNet> out;
  while (true) {
    size_t comma = s.find(',');
    CK_ASSIGN_OR_RETURN(IpNet net, ParseCidr(s.substr(0, comma)));
    out.push_back(net);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

CidrSet::CidrSet(IpNet cluster, int node_mask)
    : cluster_(cluster),
      node_mask_(node_mask),
      max_cidrs_(int64_t{1} << (node_mask - cluster.prefix)),
      used_(static_cast<size_t>(max_cidrs_), false) {}

Result<CidrSet> CidrSet::New(const IpNet& cluster, int node_mask) {
  if (node_mask < cluster.prefix || node_mask > cluster.bits()) {
    return Invalid("node CIDR mask size " + std::to_string(node_mask) + " does not fit cluster CIDR " +
                   cluster.String() + " (it must be between " + std::to_string(cluster.prefix) + " and " +
                   std::to_string(cluster.bits()) + ")");
  }
  const int max_diff = cluster.v6 ? 16 : 24;  // upstream clusterSubnetMaxDiff for IPv6
  if (node_mask - cluster.prefix > max_diff) {
    return Invalid("New CIDR set failed; the node CIDR size is too big: " + cluster.String() + " holds 2^" +
                   std::to_string(node_mask - cluster.prefix) + " subnets of /" + std::to_string(node_mask) +
                   " (at most 2^" + std::to_string(max_diff) + ")");
  }
  return CidrSet(cluster, node_mask);
}

int64_t CidrSet::IndexOf(u128 ip) const {
  return static_cast<int64_t>((ip - cluster_.address) >> (cluster_.bits() - node_mask_));
}

IpNet CidrSet::SubnetAt(int64_t index) const {
  IpNet net = cluster_;
  net.prefix = node_mask_;
  net.address = cluster_.address + (u128(index) << (cluster_.bits() - node_mask_));
  return net;
}

Status CidrSet::Range(const IpNet& cidr, int64_t* begin, int64_t* end) const {
  const bool overlap = cidr.v6 == cluster_.v6 && (cluster_.Contains(cidr.address & Mask(cluster_.prefix, cidr.bits())) ||
                                                  cidr.Contains(cluster_.address & Mask(cidr.prefix, cidr.bits())));
  if (!overlap) return Invalid("cidr " + cidr.String() + " is out the range of cluster cidr " + cluster_.String());
  *begin = 0;
  *end = max_cidrs_ - 1;
  if (cluster_.prefix < cidr.prefix) {
    const u128 node_mask = Mask(node_mask_, cluster_.bits());
    *begin = IndexOf(cidr.First() & node_mask);
    *end = IndexOf(cidr.Last() & node_mask);
  }
  return Status::Ok();
}

Result<IpNet> CidrSet::AllocateNext() {
  if (allocated_ >= max_cidrs_) {
    return Unavailable("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range");
  }
  int64_t candidate = next_candidate_;
  for (int64_t i = 0; i < max_cidrs_ && used_[candidate]; ++i) candidate = (candidate + 1) % max_cidrs_;
  next_candidate_ = (candidate + 1) % max_cidrs_;
  used_[candidate] = true;
  ++allocated_;
  return SubnetAt(candidate);
}

Status CidrSet::Occupy(const IpNet& cidr) {
  int64_t begin = 0;
  int64_t end = 0;
  CK_RETURN_IF_ERROR(Range(cidr, &begin, &end));
  for (int64_t i = begin; i <= end; ++i) {
    if (!used_[i]) {
      used_[i] = true;
      ++allocated_;
    }
  }
  return Status::Ok();
}

Status CidrSet::Release(const IpNet& cidr) {
  int64_t begin = 0;
  int64_t end = 0;
  CK_RETURN_IF_ERROR(Range(cidr, &begin, &end));
  for (int64_t i = begin; i <= end; ++i) {
    if (used_[i]) {
      used_[i] = false;
      --allocated_;
    }
  }
  return Status::Ok();
}

bool CidrSet::IsUsed(const IpNet& subnet) const {
  int64_t begin = 0;
  int64_t end = 0;
  if (!Range(subnet, &begin, &end).ok()) return false;
  for (int64_t i = begin; i <= end; ++i) {
    if (!used_[i]) return false;
  }
  return true;
}

}  // namespace ck::controller_manager
