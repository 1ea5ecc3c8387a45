// ClusterRole aggregation (upstream pkg/controller/clusterroleaggregation): the rules a
// ClusterRole with an aggregationRule should hold. The clusterrole-aggregation controller
// calls AggregatedRules and writes the result into the role's `rules` when it differs.
// Pure function; thread-safe.
#pragma once

#include <vector>

#include "apiserver/rbac/rules.h"
#include "common/api/proto/rbac_v1.pb.h"
#include "common/base/status.h"

namespace ck::apiserver::rbac {

// For each selector of target.aggregationRule.clusterRoleSelectors in order, the ClusterRoles of
// `all` it matches, by name, skipping the target itself; their rules in order, each distinct rule
// once. A target without aggregationRule gets its own rules back. BadRequest for a selector that
// does not parse (upstream LabelSelectorAsSelector's message).
Result<std::vector<PolicyRule>> AggregatedRules(const ::k8s::io::api::rbac::v1::ClusterRole& target,
                                                const std::vector<const ::k8s::io::api::rbac::v1::ClusterRole*>& all);

// True when two rule lists are equal element by element (the controller's "nothing to do").
bool SameRules(const std::vector<PolicyRule>& a, const google::protobuf::RepeatedPtrField<PolicyRule>& b);

}  // namespace ck::apiserver::rbac
