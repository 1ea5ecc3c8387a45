// ExplainStore and the JSON / text renderings of a decision (explain.h).
#include "scheduler/core/explain.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "common/api/time_format.h"
#include "common/base/strings.h"

namespace ck::scheduler {

namespace {

std::string StringList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + JsonString(v[i]);
  return out + "]";
}

}  // namespace

void ExplainRecord::AddRejected(const std::string& node, const Verdict& v) {
  uint32_t idx = 0;
  for (; idx < verdicts.size(); ++idx) {
    const Verdict& k = verdicts[idx];
    if (k.code() == v.code() && k.plugin() == v.plugin() && k.reasons() == v.reasons()) break;
  }
  if (idx == verdicts.size()) verdicts.push_back(v);
  rejected.emplace_back(node, idx);
}

std::vector<std::string> ExplainRecord::Unevaluated() const {
  std::vector<std::string> out;
  if (!node_order) return out;
  std::set<std::string_view> seen;
  for (const auto& [n, v] : rejected) seen.insert(n);
  for (const auto& n : feasible) seen.insert(n);
  for (const auto& n : *node_order) {
    if (seen.count(n) == 0) out.push_back(n);
  }
  return out;
}

std::string ExplainJson(const ExplainRecord& r) {
  std::ostringstream o;
  o << "{\"pod\":" << JsonString(r.pod) << ",\"uid\":" << JsonString(r.uid) << ",\"profile\":" << JsonString(r.profile)
    << ",\"time\":" << JsonString(api::FormatRfc3339Micro(api::ToTimestamp(r.time))) << ",\"attempt\":" << r.attempt
    << ",\"result\":" << JsonString(r.result) << ",\"node\":" << JsonString(r.node) << ",\"message\":" << JsonString(r.message)
    << ",\"nominatedNode\":" << JsonString(r.nominated_node)
    << ",\"nodes\":" << (r.node_order ? r.node_order->size() : 0) << ",\"startIndex\":" << r.start_index
    << ",\"numNodesToFind\":" << r.num_to_find;
  if (!r.pre_filter_message.empty()) o << ",\"preFilterMessage\":" << JsonString(r.pre_filter_message);
  if (!r.pre_filter_nodes.empty()) o << ",\"preFilterNodes\":" << StringList(r.pre_filter_nodes);
  if (!r.evaluated_nominated_node.empty()) o << ",\"evaluatedNominatedNode\":" << JsonString(r.evaluated_nominated_node);
  o << ",\"filter\":[";
  for (size_t i = 0; i < r.rejected.size(); ++i) {
    const std::string& node = r.rejected[i].first;
    const Verdict& v = r.verdicts[r.rejected[i].second];
    o << (i ? "," : "") << "{\"node\":" << JsonString(node) << ",\"plugin\":" << JsonString(v.plugin())
      << ",\"code\":" << JsonString(VerdictCodeName(v.code())) << ",\"reason\":" << JsonString(v.Message()) << "}";
  }
  o << "],\"feasible\":" << StringList(r.feasible) << ",\"unevaluated\":" << StringList(r.Unevaluated());
  o << ",\"scorePlugins\":[";
  for (size_t i = 0; i < r.score_plugins.size(); ++i) {
    o << (i ? "," : "") << "{\"name\":" << JsonString(r.score_plugins[i].first) << ",\"weight\":" << r.score_plugins[i].second
      << "}";
  }
  o << "],\"scores\":[";
  for (size_t i = 0; i < r.scored.size(); ++i) {
    const auto& s = r.scored[i];
    o << (i ? "," : "") << "{\"node\":" << JsonString(s.node) << ",\"total\":" << s.total << ",\"plugins\":{";
    for (size_t j = 0; j < s.scores.size() && j < r.score_plugins.size(); ++j) {
      o << (j ? "," : "") << JsonString(r.score_plugins[j].first) << ":" << s.scores[j];
    }
    o << "}}";
  }
  o << "],\"tieBreak\":{\"topScore\":" << r.top_score << ",\"nodesWithTopScore\":" << r.tie_count << "}}";
  return o.str();
}

std::string ExplainText(const ExplainRecord& r) {
  std::ostringstream o;
  size_t total = r.node_order ? r.node_order->size() : 0;
  o << "pod " << r.pod << " (uid " << r.uid << "), profile " << r.profile << ", attempt " << r.attempt << " at "
    << api::FormatRfc3339Micro(api::ToTimestamp(r.time)) << "\n";
  o << "result: " << r.result;
  if (!r.node.empty()) o << " -> " << r.node;
  o << "\n";
  if (!r.message.empty()) o << "message: " << r.message << "\n";
  if (!r.nominated_node.empty()) o << "nominated node (preemption): " << r.nominated_node << "\n";
  o << "nodes: " << total << ", to find: " << r.num_to_find << " feasible (percentageOfNodesToScore), started at index "
    << r.start_index << "\n";
  if (!r.pre_filter_message.empty()) o << "PreFilter rejected the pod on every node: " << r.pre_filter_message << "\n";
  if (!r.pre_filter_nodes.empty()) o << "PreFilter narrowed the nodes to " << r.pre_filter_nodes.size() << "\n";
  if (!r.evaluated_nominated_node.empty()) o << "tried the nominated node first: " << r.evaluated_nominated_node << "\n";
  o << "\nFILTER (" << r.rejected.size() << " rejected, " << r.feasible.size() << " feasible)\n";
  o << "NODE                          PLUGIN                        VERDICT\n";
  char line[512];
  for (const auto& [node, idx] : r.rejected) {
    const Verdict& v = r.verdicts[idx];
    std::snprintf(line, sizeof(line), "%-29s %-29s %s: %s\n", node.c_str(), v.plugin().c_str(),
                  std::string(VerdictCodeName(v.code())).c_str(), v.Message().c_str());
    o << line;
  }
  for (const auto& node : r.feasible) {
    std::snprintf(line, sizeof(line), "%-29s %-29s %s\n", node.c_str(), "-", "passed");
    o << line;
  }
  auto unevaluated = r.Unevaluated();
  if (!unevaluated.empty()) {
    o << "\nNOT EVALUATED (" << unevaluated.size() << " nodes: enough feasible nodes were found first)\n";
    for (size_t i = 0; i < unevaluated.size(); ++i) o << unevaluated[i] << ((i + 1) % 8 == 0 ? "\n" : " ");
    o << "\n";
  }
  if (!r.scored.empty()) {
    o << "\nSCORE (weighted)\n";
    std::snprintf(line, sizeof(line), "%-29s", "NODE");
    o << line;
    for (const auto& [name, w] : r.score_plugins) o << " " << name << "(x" << w << ")";
    o << " TOTAL\n";
    auto sorted = r.scored;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.total > b.total; });
    for (const auto& s : sorted) {
      std::snprintf(line, sizeof(line), "%-29s", s.node.c_str());
      o << line;
      for (size_t j = 0; j < s.scores.size() && j < r.score_plugins.size(); ++j) {
        std::snprintf(line, sizeof(line), " %*lld", static_cast<int>(r.score_plugins[j].first.size() + 4),
                      static_cast<long long>(s.scores[j]));
        o << line;
      }
      o << " " << s.total << "\n";
    }
    o << "\ntie-break: " << r.tie_count << " node(s) had the top score " << r.top_score;
    if (r.tie_count > 1) o << "; one was chosen uniformly at random (reservoir sampling)";
    o << "\n";
  }
  return o.str();
}

void ExplainStore::Put(ExplainRecord record) {
  std::lock_guard lock(mu_);
  if (auto it = by_pod_.find(record.pod); it != by_pod_.end()) {
    records_.erase(it->second);
    by_pod_.erase(it);
  }
  records_.push_front(std::move(record));
  by_pod_[records_.front().pod] = records_.begin();
  while (records_.size() > capacity_) {
    by_pod_.erase(records_.back().pod);
    records_.pop_back();
  }
}

std::optional<ExplainRecord> ExplainStore::Get(const std::string& pod) const {
  std::lock_guard lock(mu_);
  auto it = by_pod_.find(pod);
  if (it == by_pod_.end()) return std::nullopt;
  return *it->second;
}

size_t ExplainStore::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

std::vector<std::string> ExplainStore::Keys(size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& r : records_) {
    if (out.size() >= limit) break;
    out.push_back(r.pod);
  }
  return out;
}

}  // namespace ck::scheduler
