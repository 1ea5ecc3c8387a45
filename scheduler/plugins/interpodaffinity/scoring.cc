// InterPodAffinity's PreScore, Score and NormalizeScore (upstream scoring.go).
#include <algorithm>
#include <limits>
#include <string>

#include "scheduler/plugins/interpodaffinity/plugin.h"

namespace ck::scheduler::plugins {

namespace {

Verdict MissingPreScoreState() {
  return Verdict::Error("failed to read \"" + kInterPodAffinityPreScoreKey + "\" from cycleState: not found");
}

}  // namespace

Verdict InterPodAffinity::PreScore(CycleState& cycle_state, const PodInfo& pod,
                                   const std::vector<const NodeInfo*>& /*nodes*/) {
  const bool has_constraints = !pod.preferred_affinity_terms.empty() || !pod.preferred_anti_affinity_terms.empty();
  // Optionally leave existing pods' preferences out when the incoming pod has none of its own.
  if (args_.ignore_preferred_terms_of_existing_pods && !has_constraints) return Verdict::Skip();

  std::vector<WeightedAffinityTerm> affinity = pod.preferred_affinity_terms;
  std::vector<WeightedAffinityTerm> anti_affinity = pod.preferred_anti_affinity_terms;
  for (WeightedAffinityTerm& t : affinity) MergeNamespaces(t.term);
  for (WeightedAffinityTerm& t : anti_affinity) MergeNamespaces(t.term);
  const NamespaceLabels ns_labels = NamespaceLabelsOf(pod.ns());
  const corev1::Pod& incoming = *pod.pod;
  const int64_t hard_weight = args_.hard_pod_affinity_weight;

  // Unless the incoming pod has preferred terms, only pods with affinity can contribute.
  const Snapshot& snapshot = handle_.snapshot();
  const auto& nodes = has_constraints ? snapshot.List() : snapshot.HavePodsWithAffinity();
  if (nodes.empty()) return Verdict::Skip();
  auto table = std::make_shared<TopologyPairCounts>();
  auto visit = [&](const NodeInfo& node, EmitBuffer& out) {
    const corev1::Node& n = *node.node();
    if (n.metadata().labels().empty()) return;
    auto emit = [&](const AffinityTerm& t, int64_t delta) {
      if (const std::string* value = NodeLabel(n, t.topology_key)) {
        out.push_back(Emission{&t.topology_key, value, TopologyPairCounts::HashValue(*value), delta, 0, 0});
      }
    };
    const auto& pods = has_constraints ? node.pods() : node.pods_with_affinity();
    for (const PodInfoPtr& existing : pods) {
      const corev1::Pod& other = *existing->pod;
      // The incoming pod's preferences (namespaceSelector already merged: no labels needed).
      for (const WeightedAffinityTerm& t : affinity) {
        if (TermMatches(t.term, other, nullptr)) emit(t.term, t.weight);
      }
      for (const WeightedAffinityTerm& t : anti_affinity) {
        if (TermMatches(t.term, other, nullptr)) emit(t.term, -static_cast<int64_t>(t.weight));
      }
      // The existing pod's terms against the incoming pod (with its namespace's labels).
      if (hard_weight > 0) {
        for (const AffinityTerm& t : existing->required_affinity_terms) {
          if (TermMatches(t, incoming, &ns_labels)) emit(t, hard_weight);
        }
      }
      for (const WeightedAffinityTerm& t : existing->preferred_affinity_terms) {
        if (TermMatches(t.term, incoming, &ns_labels)) emit(t.term, t.weight);
      }
      for (const WeightedAffinityTerm& t : existing->preferred_anti_affinity_terms) {
        if (TermMatches(t.term, incoming, &ns_labels)) emit(t.term, -static_cast<int64_t>(t.weight));
      }
    }
  };
  // The shape: what the sums depend on besides the nodes (the hard weight is the plugin's own).
  std::string shape;
  AppendPodShape(shape, incoming, ns_labels);
  for (const auto* terms : {&affinity, &anti_affinity}) {
    for (const WeightedAffinityTerm& t : *terms) {
      shape += std::to_string(t.weight);
      AppendTermShape(shape, t.term);
    }
    shape += '\n';
  }
  // No contribution at all: nothing to score (upstream: no node produced a topology score).
  if (Count(score_memos_, shape, nodes, visit, {table.get()}) == 0) return Verdict::Skip();

  auto state = std::make_shared<PreScoreState>();
  state->topology_score = std::move(table);
  cycle_state.Write(kInterPodAffinityPreScoreKey, std::move(state));
  return Verdict::Success();
}

Verdict InterPodAffinity::Score(const CycleState& cycle_state, const PodInfo& /*pod*/, const NodeInfo& node,
                                int64_t* score) const {
  const auto* state = cycle_state.ReadAs<PreScoreState>(kInterPodAffinityPreScoreKey);
  if (state == nullptr) return MissingPreScoreState();
  const corev1::Node* n = node.node();
  if (n == nullptr) return Verdict::Error("node not found");
  // Positive for affinity, negative for anti-affinity; NormalizeScore rescales.
  const TopologyPairCounts& sums = *state->topology_score;
  const std::vector<std::string>& keys = sums.keys();
  int64_t total = 0;
  for (TopologyPairCounts::KeyId id = 0; id < keys.size(); ++id) {
    if (const std::string* value = NodeLabel(*n, keys[id])) total += sums.Get(id, *value);
  }
  *score = total;
  return Verdict::Success();
}

Verdict InterPodAffinity::NormalizeScore(const CycleState& cycle_state, const PodInfo& /*pod*/,
                                         std::vector<NodeScore>& scores) const {
  const auto* state = cycle_state.ReadAs<PreScoreState>(kInterPodAffinityPreScoreKey);
  if (state == nullptr) return MissingPreScoreState();
  if (state->topology_score->keys().empty() || scores.empty()) return Verdict::Success();
  int64_t min_score = std::numeric_limits<int64_t>::max();
  int64_t max_score = std::numeric_limits<int64_t>::min();
  for (const NodeScore& s : scores) {
    min_score = std::min(min_score, s.score);
    max_score = std::max(max_score, s.score);
  }
  // Upstream: MaxNodeScore * (score - min) / (max - min), truncated; all 0 when max == min.
  const int64_t diff = max_score - min_score;
  for (NodeScore& s : scores) {
    double f = 0;
    if (diff > 0) f = static_cast<double>(kMaxNodeScore) * (static_cast<double>(s.score - min_score) / static_cast<double>(diff));
    s.score = static_cast<int64_t>(f);
  }
  return Verdict::Success();
}

}  // namespace ck::scheduler::plugins
