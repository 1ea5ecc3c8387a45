// NodePorts (upstream plugins/nodeports): a pod that asks for host ports (containers' and
// sidecars' ports with hostPort set) only fits a node where none of them is in use by the
// node's pods for the same protocol and an overlapping host IP (0.0.0.0 overlaps every IP).
//   PreFilter  copies the pod's host ports into the CycleState; Skip when it has none.
//   Filter     Unschedulable "node(s) didn't have free ports for the requested pod ports"
//              (evicting the pod holding the port would help, so preemption may try the node).
// No args. Threading: Filter only reads the CycleState and the node; safe concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

class NodePorts final : public PreFilterPlugin, public FilterPlugin, public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "NodePorts";
  static constexpr std::string_view kReason = "node(s) didn't have free ports for the requested pod ports";

  std::string_view Name() const override { return kName; }
  std::vector<ClusterEvent> EventsToRegister() const override;
  Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot, PreFilterResult* result) override;
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

// True when none of `ports` conflicts with the node's used ports (nodeports.Fits, for callers
// outside a scheduling cycle).
bool PortsFit(const std::vector<HostPort>& ports, const NodeInfo& node);

Result<std::unique_ptr<Plugin>> NewNodePorts(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
