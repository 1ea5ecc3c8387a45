// DeploymentController ("deployment-controller", upstream pkg/controller/deployment): rolls a
// Deployment's pod template out through ReplicaSets. Each distinct template is one ReplicaSet
// named `<deployment>-<pod-template-hash>`; the controller creates, scales and annotates them
// (the ReplicaSet controller turns their sizes into pods) and reports progress in the
// Deployment's status, which `kubectl rollout status` reads.
//   Deployment / ReplicaSet events, deletes of a Recreate deployment's pods -> key "ns/name" ->
//   Sync: claim ReplicaSets -> (deleting: status) (paused or scaled: proportional scale)
//         (else RollingUpdate or Recreate step) -> cleanup old ReplicaSets -> status.
// Sync is level-triggered: it reads only the listers and writes through the API client, and the
// queue retries it on any error (a stale cache ends in a Conflict and a retry).
// Threading: see client::Controller; handlers only enqueue keys.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/api/label_selector.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/deployment/deployment_util.h"

namespace ck::controller_manager {

class DeploymentController final : public ManagedController {
 public:
  // Workers: context.settings.concurrent_deployment_syncs.
  explicit DeploymentController(ControllerContext& context);
  ~DeploymentController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  // `key` is "namespace/name" of a Deployment.
  Status Sync(const std::string& key) override;

 private:
  using Deployment = ::k8s::io::api::apps::v1::Deployment;
  using ReplicaSet = ::k8s::io::api::apps::v1::ReplicaSet;
  using Pod = ::k8s::io::api::core::v1::Pod;
  using ReplicaSetPtr = deployment::ReplicaSetPtr;
  using ReplicaSets = deployment::ReplicaSets;
  // Pods by the uid of the ReplicaSet controlling them (every claimed ReplicaSet has an entry).
  using PodMap = std::map<std::string, std::vector<std::shared_ptr<const Pod>>>;
  struct Scaled {
    bool scaled = false;
    ReplicaSetPtr rs;  // as written (or as given when nothing was written)
  };
  struct NewAndOld {
    ReplicaSetPtr new_rs;  // nullptr when it does not exist (and was not to be created)
    ReplicaSets old_rss;
  };

  // ---- Event handlers (deployment_controller.cc): they only enqueue.
  void EnqueueDeployment(const Deployment& d);
  std::shared_ptr<const Deployment> ResolveControllerRef(const std::string& ns,
                                                         const ::k8s::io::apimachinery::pkg::apis::meta::v1::OwnerReference* ref) const;
  std::vector<std::shared_ptr<const Deployment>> DeploymentsForReplicaSet(const ReplicaSet& rs) const;
  void OnReplicaSetAdd(const std::shared_ptr<const ReplicaSet>& rs);
  void OnReplicaSetUpdate(const std::shared_ptr<const ReplicaSet>& old_rs, const std::shared_ptr<const ReplicaSet>& cur);
  void OnReplicaSetDelete(const std::shared_ptr<const ReplicaSet>& rs);
  void OnPodDelete(const std::shared_ptr<const Pod>& pod);

  // ---- Sync plumbing (deployment_controller.cc).
  Result<ReplicaSets> ClaimReplicaSets(const Deployment& d, const api::LabelSelector& selector);
  PodMap PodMapFor(const Deployment& d, const api::LabelSelector& selector, const ReplicaSets& rs_list) const;
  // Writes d->status through /status and, when the server kept the old one, the revision
  // annotation through the object (upstream's status strategy keeps metadata; ours does not).
  // On success d carries the stored resourceVersion.
  Status WriteStatus(Deployment* d);
  Result<ReplicaSetPtr> UpdateReplicaSet(const ReplicaSet& rs);

  // ---- sync.cc: the new ReplicaSet, scaling, cleanup, status.
  Result<NewAndOld> GetAllReplicaSetsAndSyncRevision(Deployment* d, ReplicaSets* rs_list, bool create);
  Result<ReplicaSetPtr> GetNewReplicaSet(Deployment* d, ReplicaSets* rs_list, const ReplicaSets& old_rss, bool create);
  Status SyncStatusOnly(Deployment* d, ReplicaSets* rs_list);
  // Upstream `sync`: scaling events and paused deployments.
  Status SyncScale(Deployment* d, ReplicaSets* rs_list);
  Status CheckPausedConditions(Deployment* d);
  Result<bool> IsScalingEvent(Deployment* d, ReplicaSets* rs_list);
  Status Scale(const Deployment& d, const ReplicaSetPtr& new_rs, const ReplicaSets& old_rss);
  Result<Scaled> ScaleReplicaSetAndRecordEvent(const ReplicaSetPtr& rs, int32_t new_scale, const Deployment& d);
  Result<Scaled> ScaleReplicaSet(const ReplicaSetPtr& rs, int32_t new_scale, const Deployment& d,
                                 const std::string& operation);
  Status CleanupDeployment(const ReplicaSets& old_rss, const Deployment& d);
  Status SyncDeploymentStatus(const ReplicaSets& all, const ReplicaSetPtr& new_rs, Deployment* d);

  // ---- rolling.cc
  Status RolloutRolling(Deployment* d, ReplicaSets* rs_list);
  Result<bool> ReconcileNewReplicaSet(const ReplicaSets& all, const ReplicaSetPtr& new_rs, const Deployment& d);
  Result<bool> ReconcileOldReplicaSets(const ReplicaSets& all, ReplicaSets old_rss, const ReplicaSetPtr& new_rs,
                                       const Deployment& d);
  Result<int32_t> CleanupUnhealthyReplicas(ReplicaSets* old_rss, const Deployment& d, int32_t max_cleanup);
  Result<int32_t> ScaleDownOldReplicaSetsForRollingUpdate(const ReplicaSets& all, ReplicaSets old_rss,
                                                          const Deployment& d);

  // ---- recreate.cc
  Status RolloutRecreate(Deployment* d, ReplicaSets* rs_list, const PodMap& pod_map);
  Result<bool> ScaleDownOldReplicaSetsForRecreate(const ReplicaSets& old_rss, const Deployment& d);
  static bool OldPodsRunning(const ReplicaSetPtr& new_rs, const ReplicaSets& old_rss, const PodMap& pod_map);

  // ---- progress.cc
  Status SyncRolloutStatus(const ReplicaSets& all, const ReplicaSetPtr& new_rs, Deployment* d);
  // Requeues a deployment whose rollout may still time out, at its deadline.
  void RequeueStuckDeployment(const Deployment& d, const ::k8s::io::api::apps::v1::DeploymentStatus& new_status);

  client::ApiClient& api_;
  Clock& clock_;
  client::EventRecorder recorder_;
  const client::ResourceInfo& deployments_resource_;
  const client::ResourceInfo& replicasets_resource_;
  client::TypedInformer<Deployment> deployments_;
  client::TypedInformer<ReplicaSet> replica_sets_;
  client::TypedInformer<Pod> pods_;
};

}  // namespace ck::controller_manager
