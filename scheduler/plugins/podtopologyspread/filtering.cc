// PodTopologySpread's filter half: PreFilter counts, Filter checks the skew, AddPod/RemovePod
// keep the counts right for preemption (upstream filtering.go).
#include "scheduler/plugins/podtopologyspread/filtering.h"

#include <functional>

#include "scheduler/framework/parallelizer.h"
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

namespace ck::scheduler::plugins {

using podtopologyspread_internal::Constraint;
using podtopologyspread_internal::CriticalPaths;
using podtopologyspread_internal::FindLabel;
using podtopologyspread_internal::HasUntoleratedDoNotScheduleTaint;
using podtopologyspread_internal::kDoNotSchedule;
using podtopologyspread_internal::kNoLabel;
using podtopologyspread_internal::kUnknownDomain;
using podtopologyspread_internal::Labels;
using podtopologyspread_internal::NodeHasAllKeys;
using podtopologyspread_internal::PreFilterShared;
using podtopologyspread_internal::PreFilterState;
using podtopologyspread_internal::RequiredNodeAffinity;
using podtopologyspread_internal::SelectorMatches;
using podtopologyspread_internal::SpreadCache;

namespace {

const std::string& PreFilterKey() {
  static const std::string key(PodTopologySpread::kPreFilterStateKey);
  return key;
}

// The state under our own key is always ours (a checked cast per Filter/Score call shows up in
// profiles).
const PreFilterState* ReadPreFilterState(const CycleState& state) {
  return static_cast<const PreFilterState*>(state.Read(PreFilterKey()));
}
PreFilterState* MutableState(CycleState& state) {
  return static_cast<PreFilterState*>(state.Read(PreFilterKey()));
}

Verdict MissingPreFilterState() {
  return Verdict::Error("reading \"" + PreFilterKey() + "\" from cycleState: not found");
}

}  // namespace

namespace podtopologyspread_internal {

void CriticalPaths::Update(int32_t domain, int32_t num) {
  int which = -1;
  if (domain == paths[0].domain) {
    which = 0;
  } else if (domain == paths[1].domain) {
    which = 1;
  }
  if (which >= 0) {
    paths[which].match_num = num;
    if (paths[0].match_num > paths[1].match_num) std::swap(paths[0], paths[1]);
    return;
  }
  if (num < paths[0].match_num) {
    paths[1] = paths[0];
    paths[0] = Path{domain, num};
  } else if (num < paths[1].match_num) {
    paths[1] = Path{domain, num};
  }
}

int32_t PreFilterState::MinMatchNum(size_t i) const {
  if (num_domains[i] < shared->constraints[i].min_domains) return 0;
  return paths[i].paths[0].match_num;
}

void PreFilterState::AddToDomain(size_t i, std::string_view value, int32_t delta) {
  const int32_t d = shared->values[i].intern->Intern(value);
  const size_t di = static_cast<size_t>(d);
  if (di >= match_num[i].size()) {
    match_num[i].resize(di + 1, 0);
    has_entry[i].resize(di + 1, 0);
  }
  match_num[i][di] += delta;
  if (!has_entry[i][di]) {
    has_entry[i][di] = 1;
    ++num_domains[i];
  }
  paths[i].Update(d, match_num[i][di]);
}

std::optional<int32_t> PreFilterState::MatchNumOf(size_t i, std::string_view value) const {
  const int32_t d = shared->values[i].intern->Find(value);
  if (d < 0 || static_cast<size_t>(d) >= match_num[i].size() || !has_entry[i][static_cast<size_t>(d)]) {
    return std::nullopt;
  }
  return match_num[i][static_cast<size_t>(d)];
}

std::pair<std::string, int32_t> PreFilterState::CriticalPath(size_t i, int which) const {
  const CriticalPaths::Path& p = paths[i].paths[which];
  return {shared->values[i].intern->Value(p.domain), p.match_num};
}

}  // namespace podtopologyspread_internal

Verdict PodTopologySpread::PreFilter(CycleState& state, const PodInfo& pod_info, const Snapshot& snapshot,
                                     PreFilterResult* /*result*/) {
  const corev1::Pod& pod = *pod_info.pod;
  Result<std::vector<Constraint>> constraints = ConstraintsFor(pod, kDoNotSchedule);
  if (!constraints.ok()) return Verdict::Error(constraints.status());
  if (constraints->empty()) return Verdict::Skip();

  auto shared = std::make_shared<PreFilterShared>();
  shared->constraints = std::move(constraints).value();
  shared->affinity = RequiredNodeAffinity(pod);
  const std::vector<Constraint>& cs = shared->constraints;
  const size_t nc = cs.size();
  for (const Constraint& c : cs)
    shared->self_match.push_back(SelectorMatches(c.selector, pod.metadata().labels()) ? 1 : 0);

  // Each node's value and matching pods per constraint, re-read only for nodes that changed.
  const SpreadCache::NodeList& nodes = snapshot.List();
  const size_t n = nodes.size();
  const std::string& ns = pod.metadata().namespace_();
  cache_.BeginCycle(nodes);
  shared->node_index = cache_.node_index();
  std::vector<const int32_t*> ids(nc);
  std::vector<const int32_t*> counts(nc);
  for (size_t i = 0; i < nc; ++i) {
    shared->values.push_back(cache_.Values(cs[i].topology_key, nodes));
    ids[i] = shared->values[i].ids->data();
  }
  for (size_t i = 0; i < nc; ++i)
    counts[i] = cache_.Counts(ns, cs[i].selector, nodes, handle_.parallelizer()).data();

  // nodeAffinityPolicy / nodeTaintsPolicy: which nodes count for which constraint.
  bool check_affinity = false, check_taints = false;
  for (const Constraint& c : cs) {
    check_affinity |= c.honor_node_affinity;
    check_taints |= c.honor_node_taints;
  }
  check_affinity = check_affinity && !shared->affinity.MatchesEverything();
  const uint8_t* inclusion = nullptr;
  if (check_affinity || check_taints) {
    inclusion = Inclusion(nodes, pod, shared->affinity, check_affinity, check_taints).data();
  }

  // Sum per domain over the nodes that hold every topology key and pass the policies.
  auto s = std::make_shared<PreFilterState>();
  s->match_num.resize(nc);
  s->has_entry.resize(nc);
  s->num_domains.assign(nc, 0);
  s->paths.resize(nc);
  for (size_t i = 0; i < nc; ++i) {
    const size_t domains = shared->values[i].intern->size();
    s->match_num[i].assign(domains, 0);
    s->has_entry[i].assign(domains, 0);
  }
  for (size_t r = 0; r < n; ++r) {
    bool has_all_keys = true;
    for (size_t i = 0; i < nc && has_all_keys; ++i) has_all_keys = ids[i][r] != kNoLabel;
    if (!has_all_keys) continue;
    const uint8_t incl = inclusion != nullptr ? inclusion[r] : (kAffinityOk | kTaintsOk);
    for (size_t i = 0; i < nc; ++i) {
      if (cs[i].honor_node_affinity && !(incl & kAffinityOk)) continue;
      if (cs[i].honor_node_taints && !(incl & kTaintsOk)) continue;
      const size_t d = static_cast<size_t>(ids[i][r]);
      s->match_num[i][d] += counts[i][r];
      if (!s->has_entry[i][d]) {
        s->has_entry[i][d] = 1;
        ++s->num_domains[i];
      }
    }
  }
  for (size_t i = 0; i < nc; ++i) {
    for (size_t d = 0; d < s->match_num[i].size(); ++d) {
      if (s->has_entry[i][d]) s->paths[i].Update(static_cast<int32_t>(d), s->match_num[i][d]);
    }
  }
  s->shared = std::move(shared);
  state.Write(PreFilterKey(), std::move(s));
  return Verdict::Success();
}

const std::vector<uint8_t>& PodTopologySpread::Inclusion(const SpreadCache::NodeList& nodes,
                                                         const corev1::Pod& pod,
                                                         const RequiredNodeAffinity& affinity,
                                                         bool check_affinity, bool check_taints) {
  inclusion_.assign(nodes.size(), 0);
  std::function<void(size_t)> check = [&](size_t r) {
    const corev1::Node* node = nodes[r]->node();
    if (node == nullptr) return;
    uint8_t bits = 0;
    if (!check_affinity || affinity.Matches(*node)) bits |= kAffinityOk;
    if (!check_taints || !HasUntoleratedDoNotScheduleTaint(*node, pod.spec().tolerations()))
      bits |= kTaintsOk;
    inclusion_[r] = bits;
  };
  handle_.parallelizer().Until(nodes.size(), check);
  return inclusion_;
}

Verdict PodTopologySpread::Filter(const CycleState& state, const PodInfo& /*pod*/,
                                  const NodeInfo& node_info) const {
  const auto* s = ReadPreFilterState(state);
  if (s == nullptr) return MissingPreFilterState();
  const PreFilterShared& sh = *s->shared;
  const size_t nc = sh.constraints.size();
  if (nc == 0) return Verdict::Success();
  const corev1::Node* node = node_info.node();
  if (node == nullptr) return Verdict::Error("node not found");

  const int32_t row = sh.node_index->Find(&node_info);
  for (size_t i = 0; i < nc; ++i) {
    const Constraint& c = sh.constraints[i];
    int32_t d;
    if (row >= 0) {
      d = (*sh.values[i].ids)[static_cast<size_t>(row)];
    } else {
      // A node PreFilter did not index (preemption's copy): look its value up.
      const std::string* v = FindLabel(node->metadata().labels(), c.topology_key);
      if (v == nullptr) {
        d = kNoLabel;
      } else {
        d = sh.values[i].intern->Find(*v);
        if (d < 0) d = kUnknownDomain;
      }
    }
    if (d == kNoLabel) return Verdict::UnschedulableAndUnresolvable(std::string(kReasonNodeLabelNotMatch));
    // existing matching pods + the pod itself (if it matches) - global minimum <= maxSkew
    const int64_t skew = static_cast<int64_t>(s->MatchNum(i, d)) + sh.self_match[i] - s->MinMatchNum(i);
    if (skew > c.max_skew) return Verdict::Unschedulable(std::string(kReasonConstraintsNotMatch));
  }
  return Verdict::Success();
}

namespace {

// updateWithPod: `other` (in the preemptor's namespace) counted on `node` with `delta`.
void UpdateWithPod(PreFilterState& s, const corev1::Pod& other, const corev1::Pod& preemptor,
                   const NodeInfo& node_info, int32_t delta) {
  const corev1::Node* node = node_info.node();
  if (node == nullptr || other.metadata().namespace_() != preemptor.metadata().namespace_()) return;
  const PreFilterShared& sh = *s.shared;
  const Labels& labels = node->metadata().labels();
  if (!NodeHasAllKeys(labels, sh.constraints)) return;
  for (size_t i = 0; i < sh.constraints.size(); ++i) {
    const Constraint& c = sh.constraints[i];
    if (!SelectorMatches(c.selector, other.metadata().labels())) continue;
    if (c.honor_node_affinity && !sh.affinity.Matches(*node)) continue;
    if (c.honor_node_taints && HasUntoleratedDoNotScheduleTaint(*node, preemptor.spec().tolerations()))
      continue;
    s.AddToDomain(i, *FindLabel(labels, c.topology_key), delta);
  }
}

}  // namespace

Verdict PodTopologySpread::AddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                  const NodeInfo& node) {
  auto* s = MutableState(state);
  if (s == nullptr) return MissingPreFilterState();
  UpdateWithPod(*s, *other->pod, *pod.pod, node, 1);
  return Verdict::Success();
}

Verdict PodTopologySpread::RemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                     const NodeInfo& node) {
  auto* s = MutableState(state);
  if (s == nullptr) return MissingPreFilterState();
  UpdateWithPod(*s, *other->pod, *pod.pod, node, -1);
  return Verdict::Success();
}

}  // namespace ck::scheduler::plugins
