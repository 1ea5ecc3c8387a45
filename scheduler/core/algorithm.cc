// ScheduleAlgorithm (algorithm.h).
#include "scheduler/core/algorithm.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "common/base/strings.h"

namespace ck::scheduler {

namespace {
// Upstream framework's status for nodes a PreFilterResult left out.
constexpr char kFilteredByPreFilter[] = "node is filtered out by the prefilter result";
}  // namespace

std::string FitErrorMessage(int64_t num_all_nodes, const Diagnosis& d) {
  std::string msg = "0/" + std::to_string(num_all_nodes) + " nodes are available:";
  if (!d.pre_filter_message.empty()) {
    msg += " " + d.pre_filter_message + ".";
  } else {
    std::map<std::string, int64_t> histogram;
    for (const auto& [node, v] : d.node_to_verdict) {
      for (const auto& reason : v.reasons()) ++histogram[reason];
    }
    std::vector<std::string> parts;
    parts.reserve(histogram.size());
    for (const auto& [reason, count] : histogram) parts.push_back(std::to_string(count) + " " + reason);
    std::sort(parts.begin(), parts.end());  // upstream sorts the "<count> <reason>" strings
    msg += " " + Join(parts, ", ") + ".";
  }
  if (!d.post_filter_message.empty()) msg += " " + d.post_filter_message + ".";
  return msg;
}

std::shared_ptr<const std::vector<std::string>> ScheduleAlgorithm::NodeOrder(const Snapshot& snapshot) {
  if (!order_names_ || order_snapshot_ != &snapshot || order_version_ != snapshot.list_version()) {
    auto names = std::make_shared<std::vector<std::string>>();
    names->reserve(snapshot.List().size());
    for (const auto& n : snapshot.List()) names->push_back(n->name());
    order_names_ = std::move(names);
    order_snapshot_ = &snapshot;
    order_version_ = snapshot.list_version();
  }
  return order_names_;
}

std::vector<const NodeInfo*> ScheduleAlgorithm::FindNodesThatPassFilters(Framework& fwk, CycleState& state,
                                                                        const PodInfo& pod,
                                                                        const std::vector<NodeInfo*>& nodes,
                                                                        Diagnosis* d, int64_t* num_to_find_out,
                                                                        ExplainRecord* explain) {
  const int64_t n = static_cast<int64_t>(nodes.size());
  std::optional<int32_t> pct = fwk.percentage_of_nodes_to_score();
  if (!pct) pct = global_percentage_;
  const int64_t num_to_find = NumFeasibleNodesToFind(pct, n);
  *num_to_find_out = num_to_find;
  std::vector<const NodeInfo*> feasible;
  if (n == 0) return feasible;
  const int64_t start = next_start_node_index_ % n;
  if (!fwk.HasFilterPlugins()) {
    for (int64_t i = 0; i < num_to_find; ++i) feasible.push_back(nodes[(start + i) % n]);
    next_start_node_index_ = (start + num_to_find) % n;
    return feasible;
  }
  std::vector<const NodeInfo*>& found = found_;
  found.assign(num_to_find, nullptr);
  std::vector<Verdict>& verdicts = verdicts_;
  if (verdicts.size() < static_cast<size_t>(n)) verdicts.resize(n);
  std::vector<uint8_t>& failed = failed_;
  failed.assign(n, 0);
  std::atomic<int64_t> found_len{0};
  std::atomic<bool> enough{false};
  std::atomic<int64_t> failures{0};
  fwk.parallelizer().Until(
      n,
      [&](size_t i) {
        const NodeInfo* node = nodes[(start + static_cast<int64_t>(i)) % n];
        Verdict v = fwk.RunFilterPluginsWithNominatedPods(state, pod, *node);
        if (v.IsSuccess()) {
          int64_t len = found_len.fetch_add(1) + 1;
          if (len > num_to_find) {
            enough = true;
            found_len.fetch_sub(1);
          } else {
            found[len - 1] = node;
            if (len == num_to_find) enough = true;
          }
        } else {
          verdicts[i] = std::move(v);
          failed[i] = 1;
          failures.fetch_add(1, std::memory_order_relaxed);
        }
      },
      &enough);
  feasible.assign(found.begin(), found.begin() + found_len.load());
  const bool keep = feasible.empty();
  for (int64_t i = 0; i < n; ++i) {
    if (!failed[i]) continue;
    Verdict& v = verdicts[i];
    const std::string& name = nodes[(start + i) % n]->name();
    if (explain != nullptr) explain->AddRejected(name, v);
    if (v.IsError()) {
      // An error fails the attempt whether or not other nodes fit.
      d->node_to_verdict.emplace(name, std::move(v));
      continue;
    }
    if (!keep) continue;
    if (v.code() == VerdictCode::kPending) {
      d->pending_plugins.insert(v.plugin());
    } else {
      d->unschedulable_plugins.insert(v.plugin());
    }
    d->node_to_verdict.emplace(name, std::move(v));
  }
  const int64_t processed = static_cast<int64_t>(feasible.size()) + failures.load();
  next_start_node_index_ = (start + processed) % n;
  return feasible;
}

ScheduleOutcome ScheduleAlgorithm::Schedule(Framework& fwk, CycleState& state, const PodInfo& pod,
                                            const Snapshot& snapshot, ExplainRecord* explain) {
  ScheduleOutcome out;
  out.num_all_nodes = static_cast<int64_t>(snapshot.NumNodes());
  if (explain != nullptr) {
    explain->node_order = NodeOrder(snapshot);
    explain->score_plugins = fwk.ScorePluginNames();
  }
  if (snapshot.NumNodes() == 0) {
    out.kind = ScheduleOutcome::Kind::kError;
    out.error = Status(Code::kUnavailable, "no nodes available to schedule pods");
    return out;
  }
  Diagnosis& d = out.diagnosis;
  PreFilterResult pre;
  Verdict v = fwk.RunPreFilterPlugins(state, pod, &pre);
  if (!v.IsSuccess()) {
    if (v.IsError()) {
      out.kind = ScheduleOutcome::Kind::kError;
      out.error = v.AsStatus();
      return out;
    }
    // Every node gets the PreFilter's verdict, so that preemption sees why (upstream).
    d.pre_filter_message = v.Message();
    for (const auto& n : snapshot.List()) {
      d.node_to_verdict.emplace(n->name(), v);
      if (explain != nullptr) explain->AddRejected(n->name(), v);
    }
    if (!v.plugin().empty()) d.unschedulable_plugins.insert(v.plugin());
    if (explain != nullptr) explain->pre_filter_message = v.Message();
    out.kind = ScheduleOutcome::Kind::kUnschedulable;
    return out;
  }

  std::vector<const NodeInfo*> feasible;
  int64_t num_to_find = 0;
  // A nominated node (from an earlier preemption) is tried on its own first.
  const std::string& nominated = pod.pod->status().nominatednodename();
  if (!nominated.empty()) {
    if (NodeInfo* n = snapshot.Get(nominated); n != nullptr && n->node() != nullptr) {
      if (explain != nullptr) explain->evaluated_nominated_node = nominated;
      Verdict nv = fwk.RunFilterPluginsWithNominatedPods(state, pod, *n);
      if (nv.IsSuccess()) feasible.push_back(n);
    }
  }
  if (feasible.empty()) {
    all_nodes_.clear();
    if (pre.AllNodes()) {
      for (const auto& n : snapshot.List()) all_nodes_.push_back(n.get());
    } else {
      for (const auto& n : snapshot.List()) {
        if (pre.node_names->count(n->name()) > 0) {
          all_nodes_.push_back(n.get());
        } else {
          d.node_to_verdict.emplace(n->name(), Verdict::UnschedulableAndUnresolvable(kFilteredByPreFilter));
          if (explain != nullptr) explain->AddRejected(n->name(), d.node_to_verdict.at(n->name()));
        }
      }
      if (explain != nullptr) explain->pre_filter_nodes.assign(pre.node_names->begin(), pre.node_names->end());
    }
    if (explain != nullptr) explain->start_index = all_nodes_.empty() ? 0 : next_start_node_index_ % static_cast<int64_t>(all_nodes_.size());
    feasible = FindNodesThatPassFilters(fwk, state, pod, all_nodes_, &d, &num_to_find, explain);
  }
  if (explain != nullptr) {
    explain->num_to_find = num_to_find;
    for (const auto* n : feasible) explain->feasible.push_back(n->name());
  }
  for (const auto& [name, verdict] : d.node_to_verdict) {
    if (verdict.IsError()) {
      out.kind = ScheduleOutcome::Kind::kError;
      out.error = verdict.AsStatus();
      return out;
    }
  }
  out.feasible_nodes = static_cast<int64_t>(feasible.size());
  if (feasible.empty()) {
    out.kind = ScheduleOutcome::Kind::kUnschedulable;
    return out;
  }
  if (feasible.size() == 1) {
    out.kind = ScheduleOutcome::Kind::kScheduled;
    out.node = feasible[0]->name();
    if (explain != nullptr) {
      explain->tie_count = 1;
    }
    return out;
  }

  // prioritizeNodes: without score plugins every node scores 1.
  std::vector<NodePluginScores> scores;
  if (!fwk.HasScorePlugins()) {
    scores.resize(feasible.size());
    for (size_t i = 0; i < feasible.size(); ++i) scores[i] = NodePluginScores{feasible[i], {}, 1};
  } else {
    Verdict ps = fwk.RunPreScorePlugins(state, pod, feasible);
    if (!ps.IsSuccess()) {
      out.kind = ScheduleOutcome::Kind::kError;
      out.error = ps.AsStatus();
      return out;
    }
    Verdict sv = fwk.RunScorePlugins(state, pod, feasible, &scores);
    if (!sv.IsSuccess()) {
      out.kind = ScheduleOutcome::Kind::kError;
      out.error = sv.AsStatus();
      return out;
    }
  }
  // selectHost: the highest total; ties broken by reservoir sampling (each of k tied nodes wins
  // with probability 1/k).
  size_t selected = 0;
  int64_t max_score = scores[0].total;
  int64_t count = 1;
  for (size_t i = 1; i < scores.size(); ++i) {
    if (scores[i].total > max_score) {
      max_score = scores[i].total;
      selected = i;
      count = 1;
    } else if (scores[i].total == max_score) {
      ++count;
      if (random_.Uniform(static_cast<uint64_t>(count)) == 0) selected = i;
    }
  }
  out.kind = ScheduleOutcome::Kind::kScheduled;
  out.node = scores[selected].node->name();
  if (explain != nullptr) {
    explain->top_score = max_score;
    explain->tie_count = count;
    explain->scored.reserve(scores.size());
    for (auto& s : scores) explain->scored.push_back(ExplainRecord::Scored{s.node->name(), std::move(s.scores), s.total});
  }
  return out;
}

}  // namespace ck::scheduler
