// NodeResourcesFit (upstream noderesources/fit.go). Filter rejects a node without room for the
// pod's requests: the pod count ("Too many pods"), cpu, memory, ephemeral-storage and every scalar
// resource the pod asks for ("Insufficient example.com/gpu"). A node whose allocatable is smaller
// than the request itself is UnschedulableAndUnresolvable (preemption cannot help there); other
// shortfalls are Unschedulable. Score ranks the nodes that fit with a scoring strategy:
// LeastAllocated (default), MostAllocated or RequestedToCapacityRatio (resource_allocation.h).
// PreFilter stores the pod's requests in the CycleState and PreScore the per-resource requests the
// scorer needs, so Filter and Score only read (Filter allocates nothing when the pod fits).
// Threading: immutable after Create; Filter and Score run concurrently for different nodes.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/noderesources/resource_allocation.h"

namespace ck::scheduler::plugins {

// NodeResourcesFitArgs (kubescheduler.config.k8s.io/v1), field names as in YAML:
//   ignoredResources: [example.com/foo]      extended resources Filter does not check
//   ignoredResourceGroups: [example.com]     ... by the prefix before '/'
//   scoringStrategy:
//     type: LeastAllocated | MostAllocated | RequestedToCapacityRatio
//     resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
//     requestedToCapacityRatio: {shape: [{utilization: 0, score: 0}, {utilization: 100, score: 10}]}
inline constexpr std::string_view kLeastAllocated = "LeastAllocated";
inline constexpr std::string_view kMostAllocated = "MostAllocated";
inline constexpr std::string_view kRequestedToCapacityRatio = "RequestedToCapacityRatio";

struct RequestedToCapacityRatioParam {
  std::vector<UtilizationShapePoint> shape;
};

struct ScoringStrategy {
  std::string type;
  std::vector<ResourceSpec> resources;
  std::optional<RequestedToCapacityRatioParam> requested_to_capacity_ratio;
};

struct NodeResourcesFitArgs {
  std::vector<std::string> ignored_resources;
  std::vector<std::string> ignored_resource_groups;
  std::optional<ScoringStrategy> scoring_strategy;
};

// Upstream's defaulting: no scoringStrategy -> LeastAllocated on cpu and memory; no resources ->
// cpu and memory; a weight of 0 -> 1.
void SetDefaults(NodeResourcesFitArgs* args);
// Upstream's ValidateNodeResourcesFitArgs (after defaulting): ignoredResources are qualified
// names, ignoredResourceGroups qualified names without '/', a known strategy type, weights in
// (0, 100], and a shape of 1+ points with utilization in [0, 100] increasing and score in
// [0, 10]. kInvalid "NodeResourcesFitArgs: <field errors>" otherwise.
ck::Status ValidateNodeResourcesFitArgs(const NodeResourcesFitArgs& args);
// Decodes pluginConfig args (a YAML map, or Null for none; unknown fields are errors), applies
// the defaults and validates. kInvalid naming the field on failure.
Result<NodeResourcesFitArgs> DecodeNodeResourcesFitArgs(const PluginArgs& args);

// One resource the pod lacks on a node (upstream InsufficientResource).
struct InsufficientResource {
  std::string resource_name;  // "pods", "cpu", "memory", "ephemeral-storage" or the scalar's name
  std::string reason;         // "Too many pods", "Insufficient cpu", ...
  int64_t requested = 0;
  int64_t used = 0;
  int64_t capacity = 0;
  bool unresolvable = false;  // the request exceeds the node's allocatable outright
};

// Upstream's Fits: what `pod` lacks on `node`, ignoring nothing; empty when it fits.
std::vector<InsufficientResource> Fits(const PodInfo& pod, const NodeInfo& node);

class NodeResourcesFit final : public PreFilterPlugin,
                               public FilterPlugin,
                               public PreScorePlugin,
                               public ScorePlugin,
                               public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "NodeResourcesFit";

  // Applies the defaults to `args` and validates them (kInvalid naming the field).
  static Result<std::unique_ptr<NodeResourcesFit>> Create(NodeResourcesFitArgs args);

  std::string_view Name() const override { return kName; }

  // Stores the pod's requests (PodInfo::requests: containers, init containers, sidecars and
  // overhead) minus ignored resources. Always Success.
  Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot, PreFilterResult* result) override;
  // Success when everything fits; otherwise every reason, Unschedulable, or
  // UnschedulableAndUnresolvable when some request exceeds the node's allocatable. Error when
  // PreFilter did not run.
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
  // Stores the pod's (non-zero) request of each scoring resource. Always Success.
  Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) override;
  // The strategy's score in [0, 100]; computes the requests itself if PreScore did not run.
  Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const override;
  // A pod deleted or scaled down, a node added or its allocatable changed.
  std::vector<ClusterEvent> EventsToRegister() const override;

  const NodeResourcesFitArgs& args() const { return args_; }

 private:
  NodeResourcesFit(NodeResourcesFitArgs args, ResourceAllocationScorer scorer);
  bool Ignored(const std::string& resource) const;

  NodeResourcesFitArgs args_;
  std::set<std::string, std::less<>> ignored_resources_;
  std::set<std::string, std::less<>> ignored_resource_groups_;
  ResourceAllocationScorer scorer_;
};

// The registry's factory: decodes `args` (Null: defaults) and builds the plugin.
Result<std::unique_ptr<Plugin>> NewNodeResourcesFit(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
