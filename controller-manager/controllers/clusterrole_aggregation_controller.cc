#include "controller-manager/controllers/clusterrole_aggregation_controller.h"

#include "apiserver/rbac/aggregation.h"
#include "common/base/log.h"

namespace ck::controller_manager {

namespace rbacv1 = ::k8s::io::api::rbac::v1;

ClusterRoleAggregationController::ClusterRoleAggregationController(ControllerContext& context, int workers)
    : ManagedController(client::ControllerOptions{.name = "ClusterRoleAggregator",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      roles_(context.informers.ForKind<rbacv1::ClusterRole>()) {
  Handle(roles_, client::TypedEventHandler<k8s::io::api::rbac::v1::ClusterRole>{
      .on_add = [this](const auto&, bool) { EnqueueAggregated(); },
      .on_update = [this](const auto&, const auto&) { EnqueueAggregated(); },
      .on_delete = [this](const auto&, bool) { EnqueueAggregated(); },
  });
}

ClusterRoleAggregationController::~ClusterRoleAggregationController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> ClusterRoleAggregationController::Informers() const {
  return {&roles_.Informer()};
}

void ClusterRoleAggregationController::EnqueueAggregated() {
  for (const auto& role : roles_.Lister().List()) {
    if (role->has_aggregationrule()) Enqueue(role->metadata().name());
  }
}

Status ClusterRoleAggregationController::Sync(const std::string& key) {
  Result<std::shared_ptr<const rbacv1::ClusterRole>> role = roles_.Lister().Get(key);
  if (role.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(role.status());
  if (!(*role)->has_aggregationrule()) return Status::Ok();

  // The rules come from the same function the apiserver's tests pin (upstream's order: selectors
  // in order, roles by name, duplicates dropped); a selector that does not parse is an error.
  std::vector<std::shared_ptr<const rbacv1::ClusterRole>> all = roles_.Lister().List();
  std::vector<const rbacv1::ClusterRole*> candidates;
  for (const auto& r : all) candidates.push_back(r.get());
  CK_ASSIGN_OR_RETURN(std::vector<rbacv1::PolicyRule> rules, apiserver::rbac::AggregatedRules(**role, candidates));
  if (apiserver::rbac::SameRules(rules, (*role)->rules())) return Status::Ok();

  rbacv1::ClusterRole updated = **role;
  updated.clear_rules();
  for (rbacv1::PolicyRule& rule : rules) *updated.add_rules() = std::move(rule);
  const client::ResourceInfo& resource =
      client::SharedInformerFactory::ResourceOfMessage(rbacv1::ClusterRole::descriptor()->full_name());
  Result<client::ObjectPtr> written =
      api_.Update(resource, "", updated, "", client::WriteOptions{.field_manager = "clusterrole-aggregation-controller"});
  if (written.ok()) CK_VLOG(2, "Aggregated ClusterRole rules", "clusterrole", key, "rules", updated.rules_size());
  // Conflict: the cache is behind; the queue retries once it has caught up.
  return written.status();
}

}  // namespace ck::controller_manager
