// NodeResourcesBalancedAllocation (balanced_allocation.h); the formula lives in
// ResourceAllocationScorer (resource_allocation.cc).
#include "scheduler/plugins/noderesources/balanced_allocation.h"

#include <set>

namespace ck::scheduler::plugins {

namespace {

constexpr std::string_view kBalancedArgsKind = "NodeResourcesBalancedAllocationArgs";

const std::string& BalancedPreScoreStateKey() {
  static const std::string key = "PreScore" + std::string(NodeResourcesBalancedAllocation::kName);
  return key;
}

struct BalancedPreScoreState final : StateData {
  std::vector<int64_t> pod_requests;  // one per configured resource
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<BalancedPreScoreState>(*this); }
};

}  // namespace

void SetDefaults(NodeResourcesBalancedAllocationArgs* args) {
  if (args->resources.empty()) {
    args->resources = DefaultResourceSpecs();
    return;
  }
  for (ResourceSpec& r : args->resources) {
    if (r.weight == 0) r.weight = 1;
  }
}

ck::Status ValidateNodeResourcesBalancedAllocationArgs(const NodeResourcesBalancedAllocationArgs& args) {
  ArgsErrors errors;
  std::set<std::string> seen;
  for (size_t i = 0; i < args.resources.size(); ++i) {
    const ResourceSpec& r = args.resources[i];
    const std::string path = "resources[" + std::to_string(i) + "]";
    if (!seen.insert(r.name).second) errors.Duplicate(path + ".name", GoQuote(r.name));
    if (r.weight != 1) errors.Invalid(path + ".weight", std::to_string(r.weight), "must be 1");
  }
  return errors.ToStatus(kBalancedArgsKind);
}

Result<NodeResourcesBalancedAllocationArgs> DecodeNodeResourcesBalancedAllocationArgs(const PluginArgs& yaml) {
  NodeResourcesBalancedAllocationArgs args;
  ArgsErrors errors;
  if (yaml.IsDefined() && !yaml.IsNull() && CheckFields(yaml, "", {"apiVersion", "kind", "resources"}, &errors)) {
    args.resources = DecodeResourceSpecs(yaml["resources"], "resources", &errors);
  }
  CK_RETURN_IF_ERROR(errors.ToStatus(kBalancedArgsKind));
  SetDefaults(&args);
  CK_RETURN_IF_ERROR(ValidateNodeResourcesBalancedAllocationArgs(args));
  return args;
}

Result<std::unique_ptr<NodeResourcesBalancedAllocation>> NodeResourcesBalancedAllocation::Create(
    NodeResourcesBalancedAllocationArgs args) {
  SetDefaults(&args);
  CK_RETURN_IF_ERROR(ValidateNodeResourcesBalancedAllocationArgs(args));
  ResourceAllocationScorer scorer(ScoringFunction::kBalancedAllocation, args.resources, /*use_requested=*/true);
  return std::unique_ptr<NodeResourcesBalancedAllocation>(
      new NodeResourcesBalancedAllocation(std::move(args), std::move(scorer)));
}

Verdict NodeResourcesBalancedAllocation::PreScore(CycleState& state, const PodInfo& pod,
                                                  const std::vector<const NodeInfo*>& /*nodes*/) {
  std::vector<int64_t> requests = scorer_.PodRequests(pod);
  // Best-effort pods are not scored: every empty node would look perfectly balanced to them
  // (kubernetes/kubernetes#129138).
  if (ResourceAllocationScorer::IsBestEffort(requests)) return Verdict::Skip();
  auto s = std::make_shared<BalancedPreScoreState>();
  s->pod_requests = std::move(requests);
  state.Write(BalancedPreScoreStateKey(), std::move(s));
  return Verdict::Success();
}

Verdict NodeResourcesBalancedAllocation::Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                                               int64_t* score) const {
  if (const auto* s = state.ReadAs<BalancedPreScoreState>(BalancedPreScoreStateKey()); s != nullptr) {
    *score = scorer_.Score(node, s->pod_requests);
    return Verdict::Success();
  }
  std::vector<int64_t> requests = scorer_.PodRequests(pod);
  *score = ResourceAllocationScorer::IsBestEffort(requests) ? 0 : scorer_.Score(node, requests);
  return Verdict::Success();
}

Result<std::unique_ptr<Plugin>> NewNodeResourcesBalancedAllocation(const PluginArgs& args, Handle& /*handle*/) {
  CK_ASSIGN_OR_RETURN(NodeResourcesBalancedAllocationArgs decoded, DecodeNodeResourcesBalancedAllocationArgs(args));
  CK_ASSIGN_OR_RETURN(std::unique_ptr<NodeResourcesBalancedAllocation> plugin,
                      NodeResourcesBalancedAllocation::Create(std::move(decoded)));
  return std::unique_ptr<Plugin>(std::move(plugin));
}

}  // namespace ck::scheduler::plugins
