// DaemonSetsController ("daemonset-controller", kube-controller-manager's DaemonSet controller):
// one pod of each DaemonSet on every node that should run it. Pods are created without
// spec.nodeName and pinned with a required node affinity on metadata.name, so ck-scheduler binds
// them (upstream ScheduleDaemonSetPods). Template changes are recorded as ControllerRevisions and
// rolled out with RollingUpdate (maxUnavailable, maxSurge) or left to the user with OnDelete.
//   DaemonSet / Pod / Node / ControllerRevision events -> key "ns/name" of the DaemonSets concerned
//   Sync(key): history -> create and delete pods (expectations first) -> rolling update -> status
// Expectations (creates and deletes per DaemonSet key, counted down by the pod handlers) keep a
// lagging cache from making the controller act twice; failed pods are deleted with a per-node
// backoff (1 s doubling to 15 min).
// Threading: see client::Controller (settings.concurrent_daemonset_syncs workers, one key at a time).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/daemonset/daemonset_util.h"
#include "controller-manager/daemonset/failed_pods_backoff.h"
#include "controller-manager/util/expectations.h"
#include "controller-manager/util/history.h"
#include "controller-manager/util/pod_control.h"

namespace ck::controller_manager {

class DaemonSetsController final : public ManagedController {
 public:
  // Upstream BurstReplicas: at most this many creates (and deletes) per Sync.
  static constexpr int kBurstReplicas = 250;
  // Upstream StatusUpdateRetries: one retry of the status write after a fresh GET.
  static constexpr int kStatusUpdateRetries = 1;
  // Upstream SlowStartInitialBatchSize.
  static constexpr int kSlowStartInitialBatchSize = 1;

  // Event reasons (upstream daemon_controller.go; creates and deletes report SuccessfulCreate,
  // FailedCreate, SuccessfulDelete, FailedDelete).
  static constexpr char kSelectingAllReason[] = "SelectingAll";
  static constexpr char kFailedPlacementReason[] = "FailedPlacement";
  static constexpr char kFailedDaemonPodReason[] = "FailedDaemonPod";
  static constexpr char kSucceededDaemonPodReason[] = "SucceededDaemonPod";

  explicit DaemonSetsController(ControllerContext& context);
  ~DaemonSetsController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // For tests: the creates and deletes still expected for a DaemonSet key.
  std::pair<int, int> PendingExpectations(const std::string& key) const { return expectations_.Pending(key); }

 protected:
  // `key` is "namespace/name" of a DaemonSet.
  Status Sync(const std::string& key) override;

 private:
  using DaemonSetPtr = std::shared_ptr<const appsv1::DaemonSet>;
  using PodPtr = std::shared_ptr<const corev1::Pod>;
  using NodePtr = std::shared_ptr<const corev1::Node>;
  using RevisionPtr = std::shared_ptr<const appsv1::ControllerRevision>;
  // Daemon pods by the node they run on or are pinned to.
  using NodeToPods = std::map<std::string, std::vector<PodPtr>>;
  struct PodToDelete {
    std::string name;
    std::string uid;
  };
  struct HistoryState {
    RevisionPtr current;
    std::vector<RevisionPtr> old;
    std::optional<int32_t> collision_count;  // what status.collisionCount must say
  };
  struct NodeEval {
    NodePtr node;
    daemonset::NodeVerdict verdict;
  };

  // Handlers (enqueue and count expectations only).
  void OnPodAdded(const PodPtr& pod);
  void OnPodUpdated(const PodPtr& old_pod, const PodPtr& cur_pod);
  void OnPodDeleted(const PodPtr& pod);
  void OnRevisionAdded(const RevisionPtr& revision);
  void OnRevisionUpdated(const RevisionPtr& old_rev, const RevisionPtr& cur_rev);
  void OnRevisionDeleted(const RevisionPtr& revision);
  void OnNodeAdded(const NodePtr& node);
  void OnNodeUpdated(const NodePtr& old_node, const NodePtr& cur_node);
  void EnqueueDaemonSet(const appsv1::DaemonSet& ds);
  // The DaemonSet a controller reference points to (same name and uid), or nullptr.
  DaemonSetPtr ResolveControllerRef(const std::string& ns, const metav1::OwnerReference& ref) const;
  // DaemonSets in `ns` whose (non-empty) selector matches `labels`.
  std::vector<DaemonSetPtr> DaemonSetsSelecting(const std::string& ns,
                                                const google::protobuf::Map<std::string, std::string>& labels) const;

  // Sync steps, in upstream's order.
  Result<std::vector<PodPtr>> GetDaemonPods(const appsv1::DaemonSet& ds, const api::LabelSelector& selector);
  Result<NodeToPods> GetNodesToDaemonPods(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                          bool include_deleted_terminal);
  Result<HistoryState> ConstructHistory(const appsv1::DaemonSet& ds, const api::LabelSelector& selector);
  Result<RevisionPtr> DedupCurHistories(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                                        const std::vector<RevisionPtr>& current);
  Status UpdateDaemonSet(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                         const std::vector<NodeEval>& nodes, const std::string& hash, const std::string& key,
                         const std::vector<RevisionPtr>& old);
  Status Manage(const appsv1::DaemonSet& ds, const api::LabelSelector& selector, const std::vector<NodeEval>& nodes,
                const std::string& hash);
  void PodsShouldBeOnNode(const appsv1::DaemonSet& ds, const NodeEval& node, const NodeToPods& node_to_pods,
                          const std::string& hash, std::vector<std::string>* nodes_needing_pods,
                          std::vector<PodToDelete>* pods_to_delete);
  Status RollingUpdate(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                       const std::vector<NodeEval>& nodes, const std::string& hash);
  Status SyncNodes(const appsv1::DaemonSet& ds, const std::vector<PodToDelete>& pods_to_delete,
                   const std::vector<std::string>& nodes_needing_pods, const std::string& hash);
  Status CleanupHistory(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                        std::vector<RevisionPtr> old);
  Status UpdateDaemonSetStatus(const appsv1::DaemonSet& ds, const api::LabelSelector& selector,
                               const std::vector<NodeEval>& nodes, const std::string& hash,
                               std::optional<int32_t> collision_count, bool update_observed_generation);
  // Deletes a daemon pod; NotFound is returned (not recorded) so the caller can lower its
  // expectations, as upstream's RealPodControl.DeletePod.
  Status DeleteDaemonPod(const appsv1::DaemonSet& ds, const PodToDelete& pod);
  void MaybeGcBackoff();

  client::ApiClient& api_;
  Clock& clock_;
  client::EventRecorder recorder_;
  PodControl pod_control_;
  client::TypedInformer<appsv1::DaemonSet> daemonsets_;
  client::TypedInformer<corev1::Pod> pods_;
  client::TypedInformer<corev1::Node> nodes_;
  client::TypedInformer<appsv1::ControllerRevision> revisions_;
  ControllerExpectations expectations_;
  daemonset::FailedPodsBackoff failed_pods_backoff_;
  controller_manager::History history_;
  std::atomic<int64_t> last_backoff_gc_{0};  // clock_.Monotonic() ticks of the last GC
};

}  // namespace ck::controller_manager
