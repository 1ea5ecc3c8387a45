#include "apiserver/rbac/aggregation.h"

#include <algorithm>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/label_selector.h"

namespace ck::apiserver::rbac {
namespace {

bool SameRule(const PolicyRule& a, const PolicyRule& b) {
  return google::protobuf::util::MessageDifferencer::Equivalent(a, b);
}

}  // namespace

Result<std::vector<PolicyRule>> AggregatedRules(const ::k8s::io::api::rbac::v1::ClusterRole& target,
                                                const std::vector<const ::k8s::io::api::rbac::v1::ClusterRole*>& all) {
  if (!target.has_aggregationrule()) return std::vector<PolicyRule>(target.rules().begin(), target.rules().end());
  std::vector<const ::k8s::io::api::rbac::v1::ClusterRole*> sorted = all;
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->metadata().name() < b->metadata().name(); });
  std::vector<PolicyRule> out;
  for (const auto& selector_proto : target.aggregationrule().clusterroleselectors()) {
    Result<api::LabelSelector> selector = api::LabelSelector::FromProto(&selector_proto);
    if (!selector.ok()) return selector.status();
    for (const auto* role : sorted) {
      if (role->metadata().name() == target.metadata().name()) continue;
      if (!selector.value().Matches(role->metadata().labels())) continue;
      for (const PolicyRule& rule : role->rules()) {
        bool exists = std::any_of(out.begin(), out.end(), [&](const PolicyRule& r) { return SameRule(r, rule); });
        if (!exists) out.push_back(rule);
      }
    }
  }
  return out;
}

bool SameRules(const std::vector<PolicyRule>& a, const google::protobuf::RepeatedPtrField<PolicyRule>& b) {
  if (static_cast<int>(a.size()) != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!SameRule(a[i], b[static_cast<int>(i)])) return false;
  }
  return true;
}

}  // namespace ck::apiserver::rbac
