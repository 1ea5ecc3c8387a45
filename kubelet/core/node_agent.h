// NodeAgent: one node's side of the control plane's view of it — registration of the Node, its
// status (written at once when something changed, otherwise every status report period, as
// upstream's nodeStatusReportFrequency once Leases carry the heartbeat), and its Lease in
// kube-node-lease renewed every renew interval (10 s; teaching profile 1 s), owned by the Node so
// the garbage collector removes it with the node. It learns the node's podCIDR from the Node
// object (watched by the daemon) and hands it to the NetworkPlugin.
// Threading: the daemon's heartbeat thread calls RenewLease/SyncStatus; OnNode comes from the node
// informer's thread. Methods take mu_ where they touch shared state.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/client/api_client.h"
#include "kubelet/core/node_status.h"
#include "kubelet/network/network_plugin.h"

namespace ck::kubelet {

class NodeAgent {
 public:
  // `network` and `health` must outlive the agent; `health` is asked at every status sync.
  NodeAgent(client::ApiClient& api, Clock& clock, NodeConfig config, NetworkPlugin& network,
            std::function<NodeHealth()> health);

  // POSTs the Node; when it exists already, keeps it and reconciles the labels this kubelet sets
  // (upstream's tryRegisterWithAPIServer). Errors are returned for the caller to retry.
  Status Register();
  bool registered() const { return registered_; }

  // Creates the Lease on first use, then renews it (spec.renewTime).
  Status RenewLease();

  // Writes the node status when it differs from what the API holds or when `report_due`.
  Status SyncStatus(bool report_due);

  // The Node as the informer saw it: the podCIDR goes to the network plugin; the status is kept
  // to compare against.
  void OnNode(const std::shared_ptr<const k8s::io::api::core::v1::Node>& node);

  const NodeConfig& config() const { return config_; }
  // The podCIDR the network plugin got ("" until known).
  std::string pod_cidr() const;
  NodeHealth Health() const;

 private:
  client::ApiClient& api_;
  Clock& clock_;
  NodeConfig config_;
  NetworkPlugin& network_;
  std::function<NodeHealth()> health_;
  std::atomic<bool> registered_{false};

  mutable std::mutex mu_;
  std::shared_ptr<const k8s::io::api::core::v1::Node> node_;         // guarded by mu_: latest seen
  std::shared_ptr<const k8s::io::api::coordination::v1::Lease> lease_;  // guarded by mu_
  std::string pod_cidr_;                                             // guarded by mu_
  std::string network_error_;                                        // guarded by mu_
};

}  // namespace ck::kubelet
