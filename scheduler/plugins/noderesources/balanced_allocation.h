// NodeResourcesBalancedAllocation (upstream noderesources/balanced_allocation.go): a Score
// plugin that favours nodes whose resources would be used evenly once the pod is there.
// score = (1 - std deviation of min(requested_i / allocatable_i, 1)) * 100 over the configured
// resources (default cpu and memory; with two resources the deviation is |f1 - f2| / 2). It
// compares plain requests (not the 100m / 200Mi "non-zero" ones). PreScore stores the pod's
// requests and answers Skip for a pod that requests none of the resources (a best-effort pod
// would otherwise be steered onto the same node again and again).
// Threading: immutable after Create; Score runs concurrently for different nodes.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/noderesources/resource_allocation.h"

namespace ck::scheduler::plugins {

// NodeResourcesBalancedAllocationArgs (kubescheduler.config.k8s.io/v1):
//   resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
struct NodeResourcesBalancedAllocationArgs {
  std::vector<ResourceSpec> resources;
};

// Upstream's defaulting: no resources -> cpu and memory; a weight of 0 -> 1.
void SetDefaults(NodeResourcesBalancedAllocationArgs* args);
// Upstream's validation: no resource twice, every weight exactly 1.
// kInvalid "NodeResourcesBalancedAllocationArgs: <field errors>" otherwise.
ck::Status ValidateNodeResourcesBalancedAllocationArgs(const NodeResourcesBalancedAllocationArgs& args);
// Decodes pluginConfig args (a YAML map, or Null for none), applies the defaults and validates.
Result<NodeResourcesBalancedAllocationArgs> DecodeNodeResourcesBalancedAllocationArgs(const PluginArgs& args);

class NodeResourcesBalancedAllocation final : public PreScorePlugin, public ScorePlugin {
 public:
  static constexpr std::string_view kName = "NodeResourcesBalancedAllocation";

  // Applies the defaults to `args` and validates them.
  static Result<std::unique_ptr<NodeResourcesBalancedAllocation>> Create(NodeResourcesBalancedAllocationArgs args);

  std::string_view Name() const override { return kName; }

  // Stores the pod's request of each resource; Skip when it requests none of them.
  Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) override;
  // The balance score in [0, 100]; computes the requests itself if PreScore did not run (and then
  // scores a best-effort pod 0).
  Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const override;

  const NodeResourcesBalancedAllocationArgs& args() const { return args_; }

 private:
  NodeResourcesBalancedAllocation(NodeResourcesBalancedAllocationArgs args, ResourceAllocationScorer scorer)
      : args_(std::move(args)), scorer_(std::move(scorer)) {}

  NodeResourcesBalancedAllocationArgs args_;
  ResourceAllocationScorer scorer_;
};

// The registry's factory: decodes `args` (Null: defaults) and builds the plugin.
Result<std::unique_ptr<Plugin>> NewNodeResourcesBalancedAllocation(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
