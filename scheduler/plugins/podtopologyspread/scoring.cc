// PodTopologySpread's score half: PreScore counts and precomputes, Score looks up,
// NormalizeScore maps to [0, 100] (upstream scoring.go).
#include "scheduler/plugins/podtopologyspread/scoring.h"

#include <cmath>
#include <limits>

#include "scheduler/framework/parallelizer.h"
#include "scheduler/plugins/podtopologyspread/node_matching.h"
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

namespace ck::scheduler::plugins {

using podtopologyspread_internal::Constraint;
using podtopologyspread_internal::CountMatchingPods;
using podtopologyspread_internal::FindLabel;
using podtopologyspread_internal::kNoLabel;
using podtopologyspread_internal::kScheduleAnyway;
using podtopologyspread_internal::PreScoreData;
using podtopologyspread_internal::PreScoreState;
using podtopologyspread_internal::RequiredNodeAffinity;
using podtopologyspread_internal::ScoreForCount;
using podtopologyspread_internal::SpreadCache;
using podtopologyspread_internal::TopologyNormalizingWeight;

namespace {

const std::string& PreScoreKey() {
  static const std::string key(PodTopologySpread::kPreScoreStateKey);
  return key;
}

// The state under our own key is always ours (a checked cast per Filter/Score call shows up in
// profiles).
const PreScoreState* ReadPreScoreState(const CycleState& state) {
  return static_cast<const PreScoreState*>(state.Read(PreScoreKey()));
}

Verdict MissingPreScoreState() {
  return Verdict::Error("reading \"" + PreScoreKey() + "\" from cycleState: not found");
}

// The raw score of `info` as upstream's Score computes it (for nodes PreScore did not index).
int64_t ScoreDirectly(const PreScoreData& data, const NodeInfo& info) {
  const corev1::Node* node = info.node();
  if (node == nullptr || data.ignored.count(node->metadata().name()) > 0) return 0;
  double score = 0;
  for (size_t i = 0; i < data.constraints.size(); ++i) {
    const Constraint& c = data.constraints[i];
    const std::string* v = FindLabel(node->metadata().labels(), c.topology_key);
    if (v == nullptr) continue;
    int64_t cnt = 0;
    if (c.is_hostname) {
      cnt = CountMatchingPods(info.pods(), c.selector, data.ns);
    } else {
      const int32_t d = data.values[i].intern->Find(*v);
      if (d >= 0 && static_cast<size_t>(d) < data.counts[i].size())
        cnt = data.counts[i][static_cast<size_t>(d)];
    }
    score += ScoreForCount(cnt, c.max_skew, data.weights[i]);
  }
  return static_cast<int64_t>(std::round(score));
}

}  // namespace

namespace podtopologyspread_internal {

double TopologyNormalizingWeight(size_t size) { return std::log(static_cast<double>(size + 2)); }

double ScoreForCount(int64_t count, int32_t max_skew, double weight) {
  return static_cast<double>(count) * weight + static_cast<double>(max_skew - 1);
}

std::optional<int64_t> PreScoreState::CountOf(size_t i, std::string_view value) const {
  const int32_t d = data->values[i].intern->Find(value);
  if (d < 0 || static_cast<size_t>(d) >= data->is_domain[i].size() ||
      !data->is_domain[i][static_cast<size_t>(d)]) {
    return std::nullopt;
  }
  return data->counts[i][static_cast<size_t>(d)];
}

}  // namespace podtopologyspread_internal

Verdict PodTopologySpread::PreScore(CycleState& state, const PodInfo& pod_info,
                                    const std::vector<const NodeInfo*>& filtered) {
  const SpreadCache::NodeList& all = handle_.snapshot().List();
  if (all.empty()) return Verdict::Skip();
  const corev1::Pod& pod = *pod_info.pod;
  // Only non-system-default constraints require every topology key on a node; with the system
  // defaults a node without a zone label still gets hostname spreading.
  const bool require_all_keys = pod.spec().topologyspreadconstraints_size() > 0 || !system_defaulted_;
  Result<std::vector<Constraint>> constraints = ConstraintsFor(pod, kScheduleAnyway);
  if (!constraints.ok()) return Verdict::Error(constraints.status().WithPrefix("calculating preScoreState"));
  if (constraints->empty()) return Verdict::Skip();

  auto data = std::make_shared<PreScoreData>();
  data->constraints = std::move(constraints).value();
  data->ns = pod.metadata().namespace_();
  const std::vector<Constraint>& cs = data->constraints;
  const size_t nc = cs.size();
  const size_t nf = filtered.size();
  const size_t n = all.size();
  const std::string& ns = data->ns;

  // Each node's value and matching pods per constraint, re-read only for nodes that changed.
  cache_.BeginCycle(all);
  data->node_index = cache_.node_index();
  std::vector<const int32_t*> ids(nc), counts(nc);
  for (size_t i = 0; i < nc; ++i) {
    data->values.push_back(cache_.Values(cs[i].topology_key, all));
    ids[i] = data->values[i].ids->data();
  }
  for (size_t i = 0; i < nc; ++i)
    counts[i] = cache_.Counts(ns, cs[i].selector, all, handle_.parallelizer()).data();

  // The scored nodes' values and counts: from their rows, or read directly for a node outside
  // the snapshot's list.
  std::vector<int32_t> scored_row(nf), scored_id(nf * nc, kNoLabel), scored_count(nf * nc, 0);
  for (size_t f = 0; f < nf; ++f) {
    const int32_t row = data->node_index->Find(filtered[f]);
    scored_row[f] = row;
    for (size_t i = 0; i < nc; ++i) {
      if (row >= 0) {
        scored_id[f * nc + i] = ids[i][row];
        scored_count[f * nc + i] = counts[i][row];
      } else if (const corev1::Node* node = filtered[f]->node()) {
        const std::string* v = FindLabel(node->metadata().labels(), cs[i].topology_key);
        if (v != nullptr) scored_id[f * nc + i] = data->values[i].intern->Intern(*v);
        scored_count[f * nc + i] = CountMatchingPods(filtered[f]->pods(), cs[i].selector, ns);
      }
    }
  }

  // initPreScoreState: nodes missing a key are ignored (when every key is required); the domains
  // are the scored nodes' values, a missing label counting as value "" as upstream's map lookup
  // does.
  std::vector<uint8_t> ignored(nf, 0);
  size_t num_ignored = 0;
  std::vector<int32_t> empty_id(nc, -1);
  for (size_t f = 0; f < nf; ++f) {
    const corev1::Node* node = filtered[f]->node();
    bool missing = node == nullptr;
    for (size_t i = 0; i < nc && !missing; ++i)
      missing = require_all_keys && scored_id[f * nc + i] == kNoLabel;
    if (missing) {
      if (node != nullptr) data->ignored.insert(node->metadata().name());
      ignored[f] = 1;
      ++num_ignored;
      continue;
    }
    for (size_t i = 0; i < nc; ++i) {
      if (!cs[i].is_hostname && scored_id[f * nc + i] == kNoLabel && empty_id[i] < 0) {
        empty_id[i] = data->values[i].intern->Intern("");
      }
    }
  }
  for (size_t i = 0; i < nc; ++i) {
    if (empty_id[i] < 0 && !require_all_keys) empty_id[i] = data->values[i].intern->Find("");
  }
  auto domain_of = [&](size_t i, int32_t id) { return id != kNoLabel ? id : empty_id[i]; };
  data->is_domain.resize(nc);
  data->counts.resize(nc);
  data->weights.resize(nc);
  for (size_t i = 0; i < nc; ++i) {
    size_t domains = 0;
    if (cs[i].is_hostname) {
      domains = nf - num_ignored;  // per-node counts, read in Score
    } else {
      const size_t size = data->values[i].intern->size();
      data->is_domain[i].assign(size, 0);
      data->counts[i].assign(size, 0);
      for (size_t f = 0; f < nf; ++f) {
        if (ignored[f]) continue;
        const size_t d = static_cast<size_t>(domain_of(i, scored_id[f * nc + i]));
        if (!data->is_domain[i][d]) {
          data->is_domain[i][d] = 1;
          ++domains;
        }
      }
    }
    data->weights[i] = TopologyNormalizingWeight(domains);
  }

  // Matching pods per domain over every node of the snapshot (not only the scored ones).
  bool check_affinity = false, check_taints = false;
  for (const Constraint& c : cs) {
    if (c.is_hostname) continue;
    check_affinity |= c.honor_node_affinity;
    check_taints |= c.honor_node_taints;
  }
  const RequiredNodeAffinity affinity(pod);
  check_affinity = check_affinity && !affinity.MatchesEverything();
  const uint8_t* inclusion = nullptr;
  if (check_affinity || check_taints)
    inclusion = Inclusion(all, pod, affinity, check_affinity, check_taints).data();
  for (size_t r = 0; r < n; ++r) {
    if (require_all_keys) {
      bool has_all_keys = true;
      for (size_t i = 0; i < nc && has_all_keys; ++i) has_all_keys = ids[i][r] != kNoLabel;
      if (!has_all_keys) continue;
    }
    const uint8_t incl = inclusion != nullptr ? inclusion[r] : (kAffinityOk | kTaintsOk);
    for (size_t i = 0; i < nc; ++i) {
      if (cs[i].is_hostname) continue;
      const int32_t d = domain_of(i, ids[i][r]);
      if (d < 0 || !data->is_domain[i][static_cast<size_t>(d)]) continue;
      if (cs[i].honor_node_affinity && !(incl & kAffinityOk)) continue;
      if (cs[i].honor_node_taints && !(incl & kTaintsOk)) continue;
      data->counts[i][static_cast<size_t>(d)] += counts[i][r];
    }
  }

  // Each scored node's raw score: the sum over the constraints whose key it has.
  data->raw_scores.assign(n, 0);
  data->scored.assign(n, 0);
  for (size_t f = 0; f < nf; ++f) {
    const int32_t row = scored_row[f];
    if (row < 0) continue;  // Score computes it directly
    data->scored[static_cast<size_t>(row)] = 1;
    if (ignored[f]) continue;
    double score = 0;
    for (size_t i = 0; i < nc; ++i) {
      const int32_t id = scored_id[f * nc + i];
      if (id == kNoLabel) continue;
      const int64_t cnt =
          cs[i].is_hostname ? scored_count[f * nc + i] : data->counts[i][static_cast<size_t>(id)];
      score += ScoreForCount(cnt, cs[i].max_skew, data->weights[i]);
    }
    data->raw_scores[static_cast<size_t>(row)] = static_cast<int64_t>(std::round(score));
  }

  auto s = std::make_shared<PreScoreState>();
  s->data = std::move(data);
  state.Write(PreScoreKey(), std::move(s));
  return Verdict::Success();
}

Verdict PodTopologySpread::Score(const CycleState& state, const PodInfo& /*pod*/, const NodeInfo& node,
                                 int64_t* score) const {
  const auto* s = ReadPreScoreState(state);
  if (s == nullptr) return MissingPreScoreState();
  const PreScoreData& data = *s->data;
  const int32_t row = data.node_index->Find(&node);
  *score = row >= 0 && data.scored[static_cast<size_t>(row)] ? data.raw_scores[static_cast<size_t>(row)]
                                                             : ScoreDirectly(data, node);
  return Verdict::Success();
}

Verdict PodTopologySpread::NormalizeScore(const CycleState& state, const PodInfo& /*pod*/,
                                          std::vector<NodeScore>& scores) const {
  const auto* s = ReadPreScoreState(state);
  if (s == nullptr) return MissingPreScoreState();
  const PreScoreData& data = *s->data;
  constexpr int64_t kInvalidScore = -1;
  int64_t min_score = std::numeric_limits<int64_t>::max();
  int64_t max_score = 0;
  for (NodeScore& ns : scores) {
    if (!data.ignored.empty() && data.ignored.count(ns.name) > 0) {
      ns.score = kInvalidScore;
      continue;
    }
    min_score = std::min(min_score, ns.score);
    max_score = std::max(max_score, ns.score);
  }
  for (NodeScore& ns : scores) {
    if (ns.score == kInvalidScore) {
      ns.score = 0;
    } else if (max_score == 0) {
      ns.score = kMaxNodeScore;
    } else {
      ns.score = kMaxNodeScore * (max_score + min_score - ns.score) / max_score;
    }
  }
  return Verdict::Success();
}

}  // namespace ck::scheduler::plugins
