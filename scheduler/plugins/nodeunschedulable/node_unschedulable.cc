// NodeUnschedulable (node_unschedulable.h).
#include "scheduler/plugins/nodeunschedulable/node_unschedulable.h"

#include <string>

#include "scheduler/plugins/tainttoleration/toleration.h"

namespace ck::scheduler::plugins {

std::vector<ClusterEvent> NodeUnschedulable::EventsToRegister() const {
  // An uncordon arrives as a taint change (upstream's NodeSpecUnschedulableChange); label changes
  // are registered too, as upstream does without queueing hints.
  return {ClusterEvent{EventResource::kNode, kActionAdd | kActionUpdateNodeTaint | kActionUpdateNodeLabel, "Node"}};
}

Verdict NodeUnschedulable::Filter(const CycleState& /*state*/, const PodInfo& pod, const NodeInfo& node_info) const {
  const corev1::Node* node = node_info.node();
  if (node == nullptr) return Verdict::UnschedulableAndUnresolvable(std::string(kReasonUnknownCondition));
  if (!node->spec().unschedulable()) return Verdict::Success();
  // A pod that tolerates the unschedulable taint tolerates spec.unschedulable too.
  if (TolerationsTolerateTaint(pod.pod->spec().tolerations(), kTaintNodeUnschedulable, "", kTaintEffectNoSchedule)) {
    return Verdict::Success();
  }
  return Verdict::UnschedulableAndUnresolvable(std::string(kReasonUnschedulable));
}

Result<std::unique_ptr<Plugin>> NewNodeUnschedulable(const PluginArgs& /*args*/, Handle& /*handle*/) {
  return std::unique_ptr<Plugin>(std::make_unique<NodeUnschedulable>());
}

}  // namespace ck::scheduler::plugins
