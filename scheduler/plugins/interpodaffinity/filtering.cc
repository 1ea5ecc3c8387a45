// InterPodAffinity's PreFilter, PreFilterExtensions and Filter (upstream filtering.go).
#include "scheduler/plugins/interpodaffinity/plugin.h"

namespace ck::scheduler::plugins {

namespace {

enum Table : uint32_t { kExistingAntiAffinity = 0, kAffinity = 1, kAntiAffinity = 2 };

Verdict MissingPreFilterState() {
  return Verdict::Error("reading \"" + kInterPodAffinityPreFilterKey + "\" from cycleState: not found");
}

// Adds `delta` to (term's topology key, node's value) when the node has the label.
void AddPair(TopologyPairCounts& counts, TopologyPairCounts::KeyId key, std::string_view topology_key,
             const corev1::Node& node, int64_t delta) {
  if (const std::string* value = NodeLabel(node, topology_key)) counts.Add(key, *value, delta);
}

// A node's labels as Filter reads them: the last few lookups are remembered, since the pod's terms
// and the existing pods' terms usually ask for the same key (kubernetes.io/hostname).
class NodeLabelReader {
 public:
  explicit NodeLabelReader(const corev1::Node& node) : node_(node) {}

  const std::string* Get(const std::string& key) {
    for (int i = 0; i < size_; ++i) {
      if (keys_[i] == &key || *keys_[i] == key) return values_[i];
    }
    const std::string* value = NodeLabel(node_, key);
    if (size_ < kSize) {
      keys_[size_] = &key;
      values_[size_++] = value;
    }
    return value;
  }

 private:
  static constexpr int kSize = 4;
  const corev1::Node& node_;
  const std::string* keys_[kSize];
  const std::string* values_[kSize];
  int size_ = 0;
};

}  // namespace

void PreFilterState::UpdateWithPod(const PodInfo& other, const corev1::Node& node, int64_t multiplier) {
  const IncomingPod& in = *incoming;
  // The other pod's required anti-affinity against the incoming pod (with its namespace's labels).
  for (const AffinityTerm& t : other.required_anti_affinity_terms) {
    if (TermMatches(t, *in.pod, &in.namespace_labels)) {
      AddPair(existing_anti_affinity_counts, existing_anti_affinity_counts.InternKey(t.topology_key), t.topology_key,
              node, multiplier);
    }
  }
  // The incoming pod's terms against the other pod: affinity counts only a pod matching all terms.
  if (MatchesAllTerms(in.affinity_terms, *other.pod)) {
    for (size_t i = 0; i < in.affinity_terms.size(); ++i) {
      AddPair(affinity_counts, in.affinity_key_ids[i], in.affinity_terms[i].topology_key, node, multiplier);
    }
  }
  for (size_t i = 0; i < in.anti_affinity_terms.size(); ++i) {
    if (TermMatches(in.anti_affinity_terms[i], *other.pod, nullptr)) {
      AddPair(anti_affinity_counts, in.anti_affinity_key_ids[i], in.anti_affinity_terms[i].topology_key, node,
              multiplier);
    }
  }
}

Verdict InterPodAffinity::PreFilter(CycleState& cycle_state, const PodInfo& pod, const Snapshot& snapshot,
                                    PreFilterResult* /*result*/) {
  const bool has_terms = !pod.required_affinity_terms.empty() || !pod.required_anti_affinity_terms.empty();
  // Nothing can reject the pod: no terms of its own and no pod anywhere with required anti-affinity.
  if (!has_terms && snapshot.HavePodsWithRequiredAntiAffinity().empty()) return Verdict::Skip();

  auto incoming = std::make_shared<IncomingPod>();
  incoming->pod = pod.pod;
  incoming->affinity_terms = pod.required_affinity_terms;
  incoming->anti_affinity_terms = pod.required_anti_affinity_terms;
  for (AffinityTerm& t : incoming->affinity_terms) MergeNamespaces(t);
  for (AffinityTerm& t : incoming->anti_affinity_terms) MergeNamespaces(t);
  incoming->namespace_labels = NamespaceLabelsOf(pod.ns());
  incoming->matches_own_affinity = MatchesAllTerms(incoming->affinity_terms, *pod.pod);
  const IncomingPod& in = *incoming;
  const corev1::Pod& incoming_pod = *pod.pod;

  // Existing pods whose required anti-affinity terms match the incoming pod.
  auto count_existing = [&](const NodeInfo& node, EmitBuffer& out) {
    const corev1::Node& n = *node.node();
    for (const PodInfoPtr& existing : node.pods_with_required_anti_affinity()) {
      for (const AffinityTerm& t : existing->required_anti_affinity_terms) {
        if (!TermMatches(t, incoming_pod, &in.namespace_labels)) continue;
        if (const std::string* value = NodeLabel(n, t.topology_key)) {
          out.push_back(
              Emission{&t.topology_key, value, TopologyPairCounts::HashValue(*value), 1, kExistingAntiAffinity, 0});
        }
      }
    }
  };
  // The same, plus the pods matching the incoming pod's own terms: one walk counts all three.
  auto count_all = [&](const NodeInfo& node, EmitBuffer& out) {
    count_existing(node, out);
    const corev1::Node& n = *node.node();
    auto emit = [&](const AffinityTerm& t, Table table) {
      if (const std::string* value = NodeLabel(n, t.topology_key)) {
        out.push_back(Emission{&t.topology_key, value, TopologyPairCounts::HashValue(*value), 1, table, 0});
      }
    };
    for (const PodInfoPtr& existing : node.pods()) {
      const corev1::Pod& other = *existing->pod;
      if (!in.affinity_terms.empty() && MatchesAllTerms(in.affinity_terms, other)) {
        for (const AffinityTerm& t : in.affinity_terms) emit(t, kAffinity);
      }
      for (const AffinityTerm& t : in.anti_affinity_terms) {
        if (TermMatches(t, other, nullptr)) emit(t, kAntiAffinity);
      }
    }
  };

  // The shape: what the counts depend on besides the nodes.
  std::string shape;
  AppendPodShape(shape, incoming_pod, in.namespace_labels);
  for (const AffinityTerm& t : in.affinity_terms) AppendTermShape(shape, t);
  shape += '\n';
  for (const AffinityTerm& t : in.anti_affinity_terms) AppendTermShape(shape, t);

  auto state = std::make_shared<PreFilterState>();
  // Without terms of its own only nodes with anti-affinity pods matter; otherwise every pod may match.
  Count(filter_memos_, shape, has_terms ? snapshot.List() : snapshot.HavePodsWithRequiredAntiAffinity(),
        has_terms ? NodeVisit(count_all) : NodeVisit(count_existing),
        {&state->existing_anti_affinity_counts, &state->affinity_counts, &state->anti_affinity_counts});
  if (!has_terms && state->existing_anti_affinity_counts.empty()) return Verdict::Skip();

  for (const AffinityTerm& t : in.affinity_terms) {
    incoming->affinity_key_ids.push_back(state->affinity_counts.InternKey(t.topology_key));
  }
  for (const AffinityTerm& t : in.anti_affinity_terms) {
    incoming->anti_affinity_key_ids.push_back(state->anti_affinity_counts.InternKey(t.topology_key));
  }
  state->incoming = std::move(incoming);
  cycle_state.Write(kInterPodAffinityPreFilterKey, std::move(state));
  return Verdict::Success();
}

Verdict InterPodAffinity::AddPod(CycleState& cycle_state, const PodInfo& /*pod*/, const PodInfoPtr& other,
                                 const NodeInfo& node) {
  auto* state = cycle_state.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
  if (state == nullptr) return MissingPreFilterState();
  if (node.node() == nullptr) return Verdict::Error("node not found");
  state->UpdateWithPod(*other, *node.node(), 1);
  return Verdict::Success();
}

Verdict InterPodAffinity::RemovePod(CycleState& cycle_state, const PodInfo& /*pod*/, const PodInfoPtr& other,
                                    const NodeInfo& node) {
  auto* state = cycle_state.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
  if (state == nullptr) return MissingPreFilterState();
  if (node.node() == nullptr) return Verdict::Error("node not found");
  state->UpdateWithPod(*other, *node.node(), -1);
  return Verdict::Success();
}

Verdict InterPodAffinity::Filter(const CycleState& cycle_state, const PodInfo& /*pod*/, const NodeInfo& node) const {
  const auto* state = cycle_state.ReadAs<PreFilterState>(kInterPodAffinityPreFilterKey);
  if (state == nullptr) return MissingPreFilterState();
  const corev1::Node* n = node.node();
  if (n == nullptr) return Verdict::Error("node not found");
  const IncomingPod& in = *state->incoming;
  NodeLabelReader labels(*n);

  // The incoming pod's affinity: every term's topology label must exist on the node, and a pod
  // matching all terms must run in each of the node's domains.
  if (!in.affinity_terms.empty()) {
    bool pods_exist = true;
    for (size_t i = 0; i < in.affinity_terms.size(); ++i) {
      const std::string* value = labels.Get(in.affinity_terms[i].topology_key);
      if (value == nullptr) {
        return Verdict::UnschedulableAndUnresolvable(std::string(kErrReasonAffinityRulesNotMatch));
      }
      if (state->affinity_counts.Get(in.affinity_key_ids[i], *value) <= 0) pods_exist = false;
    }
    // The first pod of a group whose terms select itself: no pod matches anywhere yet, so it may
    // go to any node that has the topology labels.
    if (!pods_exist && !(state->affinity_counts.empty() && in.matches_own_affinity)) {
      return Verdict::UnschedulableAndUnresolvable(std::string(kErrReasonAffinityRulesNotMatch));
    }
  }

  // The incoming pod's anti-affinity: no matching pod in any of the node's domains.
  if (!state->anti_affinity_counts.empty()) {
    for (size_t i = 0; i < in.anti_affinity_terms.size(); ++i) {
      const std::string* value = labels.Get(in.anti_affinity_terms[i].topology_key);
      if (value != nullptr && state->anti_affinity_counts.Get(in.anti_affinity_key_ids[i], *value) > 0) {
        return Verdict::Unschedulable(std::string(kErrReasonAntiAffinityRulesNotMatch));
      }
    }
  }

  // Existing pods' anti-affinity: no domain of the node holds a pod that repels the incoming pod.
  // Upstream walks the node's labels; walking the few keys that have counts is the same test.
  const TopologyPairCounts& existing = state->existing_anti_affinity_counts;
  if (!existing.empty()) {
    const std::vector<std::string>& keys = existing.keys();
    for (TopologyPairCounts::KeyId id = 0; id < keys.size(); ++id) {
      const std::string* value = labels.Get(keys[id]);
      if (value != nullptr && existing.Get(id, *value) > 0) {
        return Verdict::Unschedulable(std::string(kErrReasonExistingAntiAffinityRulesNotMatch));
      }
    }
  }
  return Verdict::Success();
}

}  // namespace ck::scheduler::plugins
