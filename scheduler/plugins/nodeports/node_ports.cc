// NodePorts (node_ports.h).
#include "scheduler/plugins/nodeports/node_ports.h"

#include <string>

namespace ck::scheduler::plugins {

namespace {

const std::string kPreFilterStateKey = "PreFilterNodePorts";

struct PreFilterState final : StateData {
  std::vector<HostPort> ports;
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreFilterState>(*this); }
};

}  // namespace

bool PortsFit(const std::vector<HostPort>& ports, const NodeInfo& node) {
  const HostPortInfo& used = node.used_ports();
  for (const HostPort& p : ports) {
    if (used.CheckConflict(p)) return false;
  }
  return true;
}

std::vector<ClusterEvent> NodePorts::EventsToRegister() const {
  // Ports of a pod are immutable, so only a deleted pod frees one; node events as upstream
  // registers them without queueing hints.
  return {ClusterEvent{EventResource::kAssignedPod, kActionDelete, "AssignedPodDelete"},
          ClusterEvent{EventResource::kNode, kActionAdd | kActionUpdateNodeTaint | kActionUpdateNodeLabel, "Node"}};
}

Verdict NodePorts::PreFilter(CycleState& state, const PodInfo& pod, const Snapshot& /*snapshot*/,
                             PreFilterResult* /*result*/) {
  if (pod.host_ports.empty()) return Verdict::Skip();
  auto data = std::make_shared<PreFilterState>();
  data->ports = pod.host_ports;
  state.Write(kPreFilterStateKey, std::move(data));
  return Verdict::Success();
}

Verdict NodePorts::Filter(const CycleState& state, const PodInfo& /*pod*/, const NodeInfo& node) const {
  const auto* s = state.ReadAs<PreFilterState>(kPreFilterStateKey);
  if (s == nullptr) return Verdict::Error("reading \"" + kPreFilterStateKey + "\" from cycleState: not found");
  if (!PortsFit(s->ports, node)) return Verdict::Unschedulable(std::string(kReason));
  return Verdict::Success();
}

Result<std::unique_ptr<Plugin>> NewNodePorts(const PluginArgs& /*args*/, Handle& /*handle*/) {
  return std::unique_ptr<Plugin>(std::make_unique<NodePorts>());
}

}  // namespace ck::scheduler::plugins
