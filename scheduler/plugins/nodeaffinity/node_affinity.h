// NodeAffinity (upstream plugins/nodeaffinity): a pod runs only on nodes that match its
// spec.nodeSelector and required node affinity, and prefers nodes that match its preferred terms.
//   PreFilter  parses the pod's required selector once into the CycleState; Skip when the pod
//              has neither a nodeSelector nor required affinity (and no addedAffinity is set);
//              narrows the nodes when every term pins metadata.name with matchFields In
//              (DaemonSet pods), UnschedulableAndUnresolvable "pod affinity terms conflict" when
//              those pins cannot hold together.
//   Filter     UnschedulableAndUnresolvable "node(s) didn't match Pod's node affinity/selector"
//              (or "... scheduler-enforced node affinity" for the profile's addedAffinity).
//   PreScore   parses the preferred terms (Skip when there are none); Score sums the weights of
//              the matching terms; NormalizeScore scales them to 0..100 (DefaultNormalizeScore).
// Args (NodeAffinityArgs): addedAffinity, a core/v1 NodeAffinity every pod of the profile gets
// on top of its own; validated strictly when the profile is built.
// Threading: Filter and Score only read the plugin and the CycleState; safe concurrently.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/status.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/nodeaffinity/node_selector.h"

namespace ck::scheduler::plugins {

// The plugin's args (config.NodeAffinityArgs).
struct NodeAffinityArgs {
  std::optional<corev1::NodeAffinity> added_affinity;
};

// Reads NodeAffinityArgs from the pluginConfig args (Null: no args) and validates them like
// upstream's ValidateNodeAffinityArgs. kInvalid naming the field, e.g. "NodeAffinityArgs:
// addedAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator: Unsupported value: \"Foo\"".
Result<NodeAffinityArgs> ParseNodeAffinityArgs(const PluginArgs& args);

class NodeAffinity final : public PreFilterPlugin,
                           public FilterPlugin,
                           public PreScorePlugin,
                           public ScorePlugin,
                           public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "NodeAffinity";
  static constexpr std::string_view kReasonPod = "node(s) didn't match Pod's node affinity/selector";
  static constexpr std::string_view kReasonEnforced = "node(s) didn't match scheduler-enforced node affinity";
  static constexpr std::string_view kReasonConflict = "pod affinity terms conflict";

  // `args` must have passed ParseNodeAffinityArgs (their selectors parse); use NewNodeAffinity.
  static Result<std::unique_ptr<NodeAffinity>> Create(const NodeAffinityArgs& args);

  std::string_view Name() const override { return kName; }
  std::vector<ClusterEvent> EventsToRegister() const override;

  Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot, PreFilterResult* result) override;
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;

  Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) override;
  Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const override;
  bool HasNormalizeScore() const override { return true; }
  Verdict NormalizeScore(const CycleState& state, const PodInfo& pod, std::vector<NodeScore>& scores) const override;

 private:
  NodeAffinity() = default;

  std::optional<NodeSelector> added_node_selector_;
  std::optional<PreferredSchedulingTerms> added_preferred_;
};

Result<std::unique_ptr<Plugin>> NewNodeAffinity(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
