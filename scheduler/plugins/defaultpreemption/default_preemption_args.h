// DefaultPreemptionArgs: how many nodes preemption dry-runs before it picks one (upstream
// config.DefaultPreemptionArgs). Preemption tries at least
//   max(numNodes * minCandidateNodesPercentage / 100, minCandidateNodesAbsolute)
// of the nodes that could be helped (never more than there are), and stops once it has that many
// candidates with at least one that violates no PodDisruptionBudget.
// Parsed from the profile's `pluginConfig[].args` with upstream's field names and defaults (10 and
// 100), validated like upstream's ValidateDefaultPreemptionArgs. Plain values; not synchronized.
#pragma once

#include <cstdint>

#include "common/base/status.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

struct DefaultPreemptionArgs {
  int32_t min_candidate_nodes_percentage = 10;
  int32_t min_candidate_nodes_absolute = 100;
};

// Reads `args` (a YAML map; Null means all defaults). Unknown fields, non-integers and values
// outside upstream's ranges are Invalid with the field named, e.g.
//   "DefaultPreemptionArgs: minCandidateNodesPercentage: Invalid value: 101: not in valid range [0, 100]".
Result<DefaultPreemptionArgs> ParseDefaultPreemptionArgs(const PluginArgs& args);

// Upstream's checks: percentage in [0, 100], absolute >= 0, not both zero. OK or Invalid.
Status ValidateDefaultPreemptionArgs(const DefaultPreemptionArgs& args);

}  // namespace ck::scheduler::plugins
