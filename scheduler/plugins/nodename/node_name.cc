// NodeName (node_name.h).
#include "scheduler/plugins/nodename/node_name.h"

#include <string>

namespace ck::scheduler::plugins {

bool NodeNameFits(const corev1::Pod& pod, const NodeInfo& node) {
  const std::string& want = pod.spec().nodename();
  return want.empty() || (node.node() != nullptr && want == node.name());
}

std::vector<ClusterEvent> NodeName::EventsToRegister() const {
  // Only a new node can be the one asked for; upstream (without queueing hints) also registers
  // node updates so that a node missed while it was being added is seen.
  return {ClusterEvent{EventResource::kNode, kActionAdd | kActionUpdateNodeTaint | kActionUpdateNodeLabel, "Node"}};
}

Verdict NodeName::PreFilter(CycleState& /*state*/, const PodInfo& pod, const Snapshot& /*snapshot*/,
                            PreFilterResult* result) {
  const std::string& want = pod.pod->spec().nodename();
  if (want.empty()) return Verdict::Skip();
  if (result != nullptr) result->node_names = std::set<std::string>{want};
  return Verdict::Success();
}

Verdict NodeName::Filter(const CycleState& /*state*/, const PodInfo& pod, const NodeInfo& node) const {
  if (!NodeNameFits(*pod.pod, node)) return Verdict::UnschedulableAndUnresolvable(std::string(kReason));
  return Verdict::Success();
}

Result<std::unique_ptr<Plugin>> NewNodeName(const PluginArgs& /*args*/, Handle& /*handle*/) {
  return std::unique_ptr<Plugin>(std::make_unique<NodeName>());
}

}  // namespace ck::scheduler::plugins
