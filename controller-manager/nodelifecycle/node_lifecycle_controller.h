// NodeLifecycleController ("node-lifecycle-controller", events as "node-controller"): watches
// node health and turns it into node conditions and taints (upstream pkg/controller/nodelifecycle).
//   every node_monitor_period ("monitor:" on the queue, re-added with EnqueueAfter on the clock):
//     a node not heard from (latest of its Ready heartbeat and its kube-node-lease renewTime) for
//     node_monitor_grace_period (node_startup_grace_period before it ever posted Ready) gets
//     Ready/MemoryPressure/DiskPressure/PIDPressure = Unknown; the NodeNotReady event and the pods'
//     Ready=False mark a Ready -> not Ready change; zone states decide each zone's tainting rate;
//   "tainting:" adds the NoExecute taint unreachable (Ready Unknown) or not-ready (Ready False),
//     per zone at node_eviction_rate (secondary rate / 0 in unhealthy zones), and is re-run while
//     nodes wait for a token; a Ready node loses both at once;
//   "node:<name>" keeps the NoSchedule condition taints (TaintNodesByCondition) and the beta
//     os/arch labels; "pod:<ns>/<name>" marks a pod bound to a not-ready node not Ready.
// Pods are evicted from NoExecute-tainted nodes by TaintEvictionController, not here.
// Threading: see client::Controller. health_mu_ guards what the monitor pass learned about nodes;
// evictor_mu_ guards the zone queues and states (and is held while the tainting pass writes).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/nodelifecycle/rate_limited_queue.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;

class NodeLifecycleController final : public ManagedController {
 public:
  // Upstream ZoneState values.
  enum class ZoneState { kInitial, kNormal, kFullDisruption, kPartialDisruption };
  static const char* ZoneStateName(ZoneState state);

  static constexpr char kMonitorKey[] = "monitor:";
  static constexpr char kTaintingKey[] = "tainting:";
  static std::string NodeKey(const std::string& name) { return "node:" + name; }
  static std::string PodKey(const std::string& ns, const std::string& name) { return "pod:" + ns + "/" + name; }

  explicit NodeLifecycleController(ControllerContext& context, int workers = 4);
  ~NodeLifecycleController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // For tests and the README's teaching walk-through.
  std::map<std::string, ZoneState> ZoneStates() const;
  // The tainting rate of a zone, or nullopt for an unknown zone.
  std::optional<double> ZoneRate(const std::string& zone) const;

 protected:
  Status Sync(const std::string& key) override;

 private:
  // What the monitor pass knows about a node: the freshest node object seen or written, and the
  // Ready condition as it stands after the pass (upstream nodeHealthData.status).
  struct NodeHealth {
    std::shared_ptr<const corev1::Node> node;
    std::optional<corev1::NodeCondition> ready;
  };
  struct HealthResult {
    corev1::NodeCondition observed;                // Ready before the pass (a fake Unknown if absent)
    std::optional<corev1::NodeCondition> current;  // Ready after the pass
    std::shared_ptr<const corev1::Node> node;      // the node after the pass
  };

  Status MonitorNodeHealth();
  Result<HealthResult> TryUpdateNodeHealth(std::shared_ptr<const corev1::Node> node);
  void ProcessTaintBaseEviction(const std::shared_ptr<const corev1::Node>& node, const corev1::NodeCondition& ready);
  bool MarkNodeForTainting(const corev1::Node& node, const std::string& status);
  Result<bool> MarkNodeAsReachable(const std::shared_ptr<const corev1::Node>& node);
  Status MarkPodsNotReady(const std::vector<std::shared_ptr<const corev1::Pod>>& pods, const std::string& node_name);
  void HandleDisruption(const std::map<std::string, std::vector<std::optional<corev1::NodeCondition>>>& zones,
                        const std::vector<std::shared_ptr<const corev1::Node>>& nodes);
  ZoneState ComputeZoneState(const std::vector<std::optional<corev1::NodeCondition>>& conditions) const;
  void SetLimiterInZone(const std::string& zone, int zone_size, ZoneState state);  // evictor_mu_ held
  void AddZoneIfNew(const corev1::Node& node);
  void DoNoExecuteTaintingPass();
  RateLimitedTimedQueue::Outcome TaintOne(const std::string& node_name);

  Status DoNoScheduleTaintingPass(const std::string& node_name);
  Status ReconcileNodeLabels(const std::string& node_name);
  Status ProcessPod(const std::string& ns, const std::string& name);

  std::vector<std::shared_ptr<const corev1::Pod>> PodsOnNode(const std::string& node_name) const;
  // The newer of the cached node and the one this controller last wrote (null when neither).
  std::shared_ptr<const corev1::Node> FreshestNode(const std::string& name) const;
  void Remember(const std::shared_ptr<const corev1::Node>& node);

  client::ApiClient& api_;
  Clock& clock_;
  const ControllerSettings& settings_;
  client::EventRecorder recorder_;
  client::TypedInformer<corev1::Node> nodes_;
  client::TypedInformer<corev1::Pod> pods_;
  client::TypedInformer<k8s::io::api::coordination::v1::Lease> leases_;

  mutable std::mutex health_mu_;
  std::map<std::string, NodeHealth> health_;       // guarded by health_mu_
  std::map<std::string, std::string> known_nodes_;  // name -> uid; guarded by health_mu_
  std::set<std::string> nodes_to_retry_;            // MarkPodsNotReady failed; guarded by health_mu_

  mutable std::mutex evictor_mu_;
  std::map<std::string, ZoneState> zone_states_;                     // guarded by evictor_mu_
  std::map<std::string, std::unique_ptr<RateLimitedTimedQueue>> tainters_;  // guarded by evictor_mu_
};

}  // namespace ck::controller_manager
