// NodeUnschedulable (upstream plugins/nodeunschedulable): a cordoned node (spec.unschedulable)
// takes no new pods, unless the pod tolerates the node.kubernetes.io/unschedulable:NoSchedule
// taint (as DaemonSet pods do). Filter only; the rejection is UnschedulableAndUnresolvable
// "node(s) were unschedulable", since evicting pods cannot uncordon a node. No args.
// Threading: stateless; Filter is safe concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

class NodeUnschedulable final : public FilterPlugin, public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "NodeUnschedulable";
  static constexpr std::string_view kReasonUnschedulable = "node(s) were unschedulable";
  static constexpr std::string_view kReasonUnknownCondition = "node(s) had unknown conditions";

  std::string_view Name() const override { return kName; }
  std::vector<ClusterEvent> EventsToRegister() const override;
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

Result<std::unique_ptr<Plugin>> NewNodeUnschedulable(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
