// NodeName (upstream plugins/nodename): a pod that names its node in spec.nodeName runs there or
// nowhere.
//   PreFilter  Skip when spec.nodeName is empty; otherwise narrows the cycle to that one node
//              (upstream did so briefly; v1.32 filters every node instead: the same decision,
//              only slower, and FailedScheduling then counts the other nodes under this
//              plugin's reason rather than as "didn't satisfy plugin(s) [NodeName]").
//   Filter     UnschedulableAndUnresolvable "node(s) didn't match the requested node name".
// No args. Threading: stateless; Filter is safe concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "scheduler/framework/interface.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler::plugins {

class NodeName final : public PreFilterPlugin, public FilterPlugin, public EnqueueExtensions {
 public:
  static constexpr std::string_view kName = "NodeName";
  static constexpr std::string_view kReason = "node(s) didn't match the requested node name";

  std::string_view Name() const override { return kName; }
  std::vector<ClusterEvent> EventsToRegister() const override;
  Verdict PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& snapshot, PreFilterResult* result) override;
  Verdict Filter(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const override;
};

// True when the pod names no node or names this one (nodename.Fits).
bool NodeNameFits(const corev1::Pod& pod, const NodeInfo& node);

Result<std::unique_ptr<Plugin>> NewNodeName(const PluginArgs& args, Handle& handle);

}  // namespace ck::scheduler::plugins
