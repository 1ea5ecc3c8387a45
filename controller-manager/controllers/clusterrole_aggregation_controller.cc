#include "controller-manager/controllers/clusterrole_aggregation_controller.h"

#include <algorithm>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/label_selector.h"
#include "common/base/log.h"

namespace ck::controller_manager {

namespace rbacv1 = ::k8s::io::api::rbac::v1;
using google::protobuf::util::MessageDifferencer;

std::vector<rbacv1::PolicyRule> AggregateRules(const rbacv1::ClusterRole& role,
                                               const std::vector<std::shared_ptr<const rbacv1::ClusterRole>>& all) {
  std::vector<std::shared_ptr<const rbacv1::ClusterRole>> sorted = all;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto& a, const auto& b) { return a->metadata().name() < b->metadata().name(); });
  std::vector<rbacv1::PolicyRule> rules;
  for (const auto& selector_proto : role.aggregationrule().clusterroleselectors()) {
    Result<api::LabelSelector> selector = api::LabelSelector::FromProto(&selector_proto);
    if (!selector.ok()) continue;
    for (const auto& candidate : sorted) {
      if (candidate->metadata().name() == role.metadata().name()) continue;
      if (!selector->Matches(candidate->metadata().labels())) continue;
      for (const rbacv1::PolicyRule& rule : candidate->rules()) {
        bool seen = std::any_of(rules.begin(), rules.end(),
                                [&](const rbacv1::PolicyRule& r) { return MessageDifferencer::Equals(r, rule); });
        if (!seen) rules.push_back(rule);
      }
    }
  }
  return rules;
}

ClusterRoleAggregationController::ClusterRoleAggregationController(ControllerContext& context, int workers)
    : ManagedController(client::ControllerOptions{.name = "ClusterRoleAggregator",
                                                  .workers = workers,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      roles_(context.informers.ForKind<rbacv1::ClusterRole>()) {
  roles_.AddEventHandler({
      .on_add = [this](const auto&, bool) { EnqueueAggregated(); },
      .on_update = [this](const auto&, const auto&) { EnqueueAggregated(); },
      .on_delete = [this](const auto&, bool) { EnqueueAggregated(); },
  });
}

ClusterRoleAggregationController::~ClusterRoleAggregationController() { Stop(); }

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

  std::vector<rbacv1::PolicyRule> rules = AggregateRules(**role, roles_.Lister().List());
  bool same = static_cast<size_t>((*role)->rules_size()) == rules.size();
  for (size_t i = 0; same && i < rules.size(); ++i) {
    same = MessageDifferencer::Equals((*role)->rules(static_cast<int>(i)), rules[i]);
  }
  if (same) return Status::Ok();

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
