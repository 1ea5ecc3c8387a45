// IP networks and the CIDR set node IPAM hands podCIDRs out of (upstream
// pkg/controller/nodeipam/ipam/cidrset): a cluster CIDR cut into subnets of the node mask size,
// a bit per subnet, allocation round-robin from the subnet after the last one handed out (so a
// released subnet is reused only after the others), and Occupy/Release of any CIDR that
// overlaps the cluster CIDR (a node's podCIDR, or the whole service range).
// Threading: IpNet is a value; a CidrSet is not synchronized (the controller's mutex guards it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::controller_manager {

// An address (IPv4 in the low 32 bits) and a prefix length, with the host bits cleared.
struct IpNet {
  bool v6 = false;
  unsigned __int128 address = 0;
  int prefix = 0;

  int bits() const { return v6 ? 128 : 32; }
  // Go's IPNet.String(): "10.244.1.0/24", "fd00:1::/64".
  std::string String() const;
  // The first and last address of the network.
  unsigned __int128 First() const { return address; }
  unsigned __int128 Last() const;
  bool Contains(unsigned __int128 ip) const;
  friend bool operator==(const IpNet&, const IpNet&) = default;
};

// Go's net.ParseCIDR (the network, host bits cleared). BadRequest `invalid CIDR address: <s>`.
Result<IpNet> ParseCidr(std::string_view s);
// A comma-separated list ("10.244.0.0/16,fd00::/48"); empty entries are errors.
Result<std::vector<IpNet>> ParseCidrList(std::string_view s);

class CidrSet {
 public:
  // Invalid when `node_mask` is shorter than the cluster prefix or longer than the address, or
  // when the cluster holds more than 2^16 (IPv6, as upstream) / 2^24 (IPv4) subnets.
  static Result<CidrSet> New(const IpNet& cluster, int node_mask);

  // The next free subnet, starting after the last one allocated. Unavailable "CIDR allocation
  // failed; there are no remaining CIDRs left to allocate in the accepted range" when none is free.
  Result<IpNet> AllocateNext();
  // Marks every subnet overlapping `cidr` used / free. Invalid "cidr <c> is out the range of
  // cluster cidr <cluster>" when they do not overlap (and for a different IP family).
  Status Occupy(const IpNet& cidr);
  Status Release(const IpNet& cidr);

  const IpNet& cluster() const { return cluster_; }
  int node_mask() const { return node_mask_; }
  int64_t max_cidrs() const { return max_cidrs_; }
  int64_t allocated() const { return allocated_; }
  bool IsUsed(const IpNet& subnet) const;

 private:
  CidrSet(IpNet cluster, int node_mask);
  Status Range(const IpNet& cidr, int64_t* begin, int64_t* end) const;
  int64_t IndexOf(unsigned __int128 ip) const;
  IpNet SubnetAt(int64_t index) const;

  IpNet cluster_;
  int node_mask_ = 0;
  int64_t max_cidrs_ = 0;
  int64_t allocated_ = 0;
  int64_t next_candidate_ = 0;
  std::vector<bool> used_;
};

}  // namespace ck::controller_manager
