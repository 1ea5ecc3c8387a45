// DisruptionController ("disruption-controller"): keeps every PodDisruptionBudget's status
// true, which is what the pods/eviction subresource (ck-apiserver) enforces — `kubectl drain`
// evicts a pod only while its budget's disruptionsAllowed is above zero (upstream
// pkg/controller/disruption).
//   PDB add/update/delete, pod add/update/delete (-> the budgets selecting it) -> key "ns/name"
//   -> Sync: selected pods; expected pods (minAvailable as a number: the pods themselves;
//      otherwise the scale of their controllers: ReplicaSet, Deployment, StatefulSet);
//      desiredHealthy; currentHealthy (ready, not deleting, not recently evicted);
//      disruptionsAllowed = max(0, current - desired); disruptedPods entries older than 2 min or
//      of pods gone are dropped; condition DisruptionAllowed; written only when changed.
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

class DisruptionController final : public ManagedController {
 public:
  // Upstream DeletionTimeout: an eviction the controller has not seen take effect in this long is
  // forgotten (the pod counts as healthy again).
  static constexpr Duration kDeletionTimeout = std::chrono::minutes(2);

  explicit DisruptionController(ControllerContext& context, int workers = 2);
  ~DisruptionController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  Status Sync(const std::string& key) override;

 private:
  using Pod = k8s::io::api::core::v1::Pod;
  using Budget = k8s::io::api::policy::v1::PodDisruptionBudget;
  void EnqueueBudgetsOf(const Pod& pod);
  // Sum of the scales of the controllers of `pods` (each controller once); an error names a pod
  // without a controller whose scale is known ("found no controllers for pod ...").
  Result<int> ExpectedScale(const Budget& pdb, const std::vector<std::shared_ptr<const Pod>>& pods);
  Status WriteStatus(const Budget& pdb, k8s::io::api::policy::v1::PodDisruptionBudgetStatus status);
  // The status upstream's failSafe writes when Sync cannot compute one: no disruptions allowed.
  Status FailSafe(const Budget& pdb, const std::string& message);

  client::ApiClient& api_;
  Clock& clock_;
  client::TypedInformer<Budget> budgets_;
  client::TypedInformer<Pod> pods_;
  client::TypedInformer<k8s::io::api::apps::v1::ReplicaSet> replica_sets_;
  client::TypedInformer<k8s::io::api::apps::v1::Deployment> deployments_;
  client::TypedInformer<k8s::io::api::apps::v1::StatefulSet> stateful_sets_;
};

}  // namespace ck::controller_manager
