// TaintToleration (upstream plugins/tainttoleration, v1.32): a pod stays off nodes with NoSchedule
// or NoExecute taints it does not tolerate, and prefers nodes with fewer PreferNoSchedule taints
// it does not tolerate.
//   Filter     the first untolerated NoSchedule/NoExecute taint, in node order, rejects the node
//              UnschedulableAndUnresolvable "node(s) had untolerated taint {key: value}"
//              (evicting pods cannot remove a taint).
//   PreScore   keeps the pod's tolerations that can tolerate PreferNoSchedule (that effect or none).
//   Score      the number of the node's PreferNoSchedule taints none of them tolerates;
//   NormalizeScore  reversed DefaultNormalizeScore: the fewest such taints scores 100.
// The matching rules are in toleration.h. No args.
// Threading: Filter and Score only read the CycleState and the node; safe concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"
#include "scheduler/plugins/tainttoleration/toleration.h"

namespace ck::scheduler::plugins {

class TaintToleration final : public FilterPlugin, public PreScorePlugin, public ScorePlugin, public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "TaintToleration";

  std::string_view Name() const override { return kName; }
  std::vector<ClusterEvent> EventsToRegister() const override;

  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;

  Verdict PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) override;
  Verdict Score(const CycleState& state, const PodInfo& pod, const NodeInfo& node, int64_t* score) const override;
  bool HasNormalizeScore() const override { return true; }
  Verdict NormalizeScore(const CycleState& state, const PodInfo& pod, std::vector<NodeScore>& scores) const override;
};

// The Filter reason for an untolerated taint: "node(s) had untolerated taint {key: value}".
std::string UntoleratedTaintReason(const corev1::Taint& taint);

Result<std::unique_ptr<Plugin>> NewTaintToleration(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
