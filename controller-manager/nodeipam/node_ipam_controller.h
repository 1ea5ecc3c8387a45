// NodeIpamController ("node-ipam-controller", events as "cidrAllocator"): gives every node a
// podCIDR out of --cluster-cidr (upstream pkg/controller/nodeipam with the RangeAllocator), one
// subnet of --node-cidr-mask-size per IP family (dual-stack: one IPv4 and one IPv6 cluster CIDR).
//   first Sync: every podCIDR already on a node, and --service-cluster-ip-range, marked used
//     (so a restarted controller hands out no duplicates);
//   node add/update without podCIDR, delete -> key = node name -> Sync:
//     node gone -> its subnets are free again; node has podCIDRs -> marked used;
//     else the next free subnet -> PATCH spec.podCIDR + spec.podCIDRs (3 tries, then the
//     CIDRAssignmentFailed event and a retry with the same subnet); none free -> CIDRNotAvailable.
// Only with --allocate-node-cidrs: otherwise New() builds a controller that does nothing (upstream
// does not start it).
// Threading: see client::Controller; mu_ guards the CIDR sets and reservations (never held
// across an API call).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/nodeipam/cidr_set.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

// The cluster CIDR --cluster-cidr defaults to with --allocate-node-cidrs (DESIGN.md §5).
inline constexpr char kDefaultClusterCidr[] = "10.244.0.0/16";

// The CIDR sets the settings describe, with the service ranges already marked used. Invalid with
// one readable line naming the flag (`--cluster-cidr: invalid CIDR address: 10.0.0.0/33`).
Result<std::vector<CidrSet>> CidrSetsFromSettings(const ControllerSettings& settings);

class NodeIpamController final : public ManagedController {
 public:
  // The table's constructor: Invalid (from CidrSetsFromSettings) for bad settings.
  static Result<std::unique_ptr<ManagedController>> New(ControllerContext& context);

  // `sets` empty: a disabled controller (no informers, nothing to do).
  NodeIpamController(ControllerContext& context, std::vector<CidrSet> sets, int workers = 2);
  ~NodeIpamController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  bool enabled() const { return nodes_.has_value(); }
  // Subnets in use in the set of `family_v6` (tests).
  int64_t Allocated(bool family_v6 = false) const;

 protected:
  // `key` is a node name.
  Status Sync(const std::string& key) override;

 private:
  // Marks every node's podCIDRs used, once, before the first allocation (mu_ held).
  void InitializeLocked();
  // Marks `cidrs` used for `node` and releases what was held for it before (mu_ held).
  void HoldLocked(const std::string& node, const std::vector<std::string>& cidrs);
  void ReleaseLocked(const std::string& node);
  CidrSet* SetFor(const IpNet& net);

  client::ApiClient& api_;
  client::EventRecorder recorder_;
  std::optional<client::TypedInformer<corev1::Node>> nodes_;

  mutable std::mutex mu_;
  std::vector<CidrSet> sets_;                             // guarded by mu_
  bool initialized_ = false;                              // guarded by mu_
  std::map<std::string, std::vector<std::string>> held_;  // node -> its subnets; guarded by mu_
};

}  // namespace ck::controller_manager
