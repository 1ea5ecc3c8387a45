// TaintToleration (taint_toleration.h).
#include "scheduler/plugins/tainttoleration/taint_toleration.h"

#include <string>

#include "scheduler/plugins/nodeaffinity/normalize_score.h"

namespace ck::scheduler::plugins {

namespace {

const std::string kPreScoreStateKey = "PreScoreTaintToleration";

// The pod's tolerations that matter for PreferNoSchedule taints. They point into the pod, which
// the state keeps alive.
struct PreScoreState final : StateData {
  PodPtr pod;
  std::vector<const corev1::Toleration*> tolerations;
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreScoreState>(*this); }
};

int64_t CountIntolerablePreferNoSchedule(const Taints& taints, const std::vector<const corev1::Toleration*>& tolerations) {
  int64_t count = 0;
  for (const corev1::Taint& taint : taints) {
    if (taint.effect() != kTaintEffectPreferNoSchedule) continue;
    bool tolerated = false;
    for (const corev1::Toleration* t : tolerations) {
      if (ToleratesTaint(*t, taint)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated) ++count;
  }
  return count;
}

}  // namespace

std::string UntoleratedTaintReason(const corev1::Taint& taint) {
  return "node(s) had untolerated taint {" + taint.key() + ": " + taint.value() + "}";
}

std::vector<ClusterEvent> TaintToleration::EventsToRegister() const {
  // Upstream (without queueing hints) also registers label changes, so that a node missed while it
  // was being added is seen; a pod's own toleration update requeues it through the queue itself.
  return {ClusterEvent{EventResource::kNode, kActionAdd | kActionUpdateNodeTaint | kActionUpdateNodeLabel, "Node"}};
}

Verdict TaintToleration::Filter(const CycleState& /*state*/, const PodInfo& pod, const NodeInfo& node_info) const {
  const corev1::Node* node = node_info.node();
  if (node == nullptr) return Verdict::Error("node not found");
  const corev1::Taint* taint =
      FindMatchingUntoleratedTaint(node->spec().taints(), pod.pod->spec().tolerations(), &IsDoNotScheduleTaint);
  if (taint == nullptr) return Verdict::Success();
  return Verdict::UnschedulableAndUnresolvable(UntoleratedTaintReason(*taint));
}

Verdict TaintToleration::PreScore(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& /*nodes*/) {
  auto data = std::make_shared<PreScoreState>();
  data->pod = pod.pod;
  for (const corev1::Toleration& t : pod.pod->spec().tolerations()) {
    // An empty effect tolerates every effect, PreferNoSchedule included.
    if (t.effect().empty() || t.effect() == kTaintEffectPreferNoSchedule) data->tolerations.push_back(&t);
  }
  state.Write(kPreScoreStateKey, std::move(data));
  return Verdict::Success();
}

Verdict TaintToleration::Score(const CycleState& state, const PodInfo& /*pod*/, const NodeInfo& node_info,
                               int64_t* score) const {
  *score = 0;
  const corev1::Node* node = node_info.node();
  if (node == nullptr) return Verdict::Error("node not found");
  const auto* s = state.ReadAs<PreScoreState>(kPreScoreStateKey);
  if (s == nullptr) return Verdict::Error("failed to read \"" + kPreScoreStateKey + "\" from cycleState: not found");
  *score = CountIntolerablePreferNoSchedule(node->spec().taints(), s->tolerations);
  return Verdict::Success();
}

Verdict TaintToleration::NormalizeScore(const CycleState& /*state*/, const PodInfo& /*pod*/,
                                        std::vector<NodeScore>& scores) const {
  DefaultNormalizeScore(kMaxNodeScore, /*reverse=*/true, scores);
  return Verdict::Success();
}

Result<std::unique_ptr<Plugin>> NewTaintToleration(const PluginArgs& /*args*/, Handle& /*handle*/) {
  return std::unique_ptr<Plugin>(std::make_unique<TaintToleration>());
}

}  // namespace ck::scheduler::plugins
