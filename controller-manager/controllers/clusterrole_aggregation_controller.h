// ClusterRoleAggregationController ("clusterrole-aggregation-controller"): a ClusterRole with an
// aggregationRule gets as its rules the union of the rules of every other ClusterRole that one of
// its clusterRoleSelectors matches (upstream's clusterrole-aggregation controller). Order as
// upstream: selectors in order, matched roles sorted by name, rules in each role's order, a rule
// equal to one already taken is skipped.
//   any ClusterRole add/update/delete -> key of every aggregated ClusterRole -> Sync rewrites rules.
// Threading: see client::Controller.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/rbac_v1.pb.h"
#include "controller-manager/controller_table.h"

namespace ck::controller_manager {

class ClusterRoleAggregationController final : public ManagedController {
 public:
  explicit ClusterRoleAggregationController(ControllerContext& context, int workers = 1);
  ~ClusterRoleAggregationController() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

 protected:
  // `key` is a ClusterRole name.
  Status Sync(const std::string& key) override;

 private:
  // Any change may alter what an aggregated role selects: enqueue every aggregated role.
  void EnqueueAggregated();

  client::ApiClient& api_;
  client::TypedInformer<k8s::io::api::rbac::v1::ClusterRole> roles_;
};

}  // namespace ck::controller_manager
