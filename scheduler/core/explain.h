// Explain: the full decision behind each pod's last scheduling attempt, kept for learners and
// served at /debug/explain?pod=ns/name on the scheduler's port (JSON, or a text table with
// `&format=text`). For every attempt it records each evaluated node's Filter verdict (plugin and
// reason), the nodes percentageOfNodesToScore left unevaluated, every scored node's per-plugin
// (weighted) scores and total, and the tie-break (how many nodes shared the top score).
// The store is bounded (least recently written pods are dropped first).
// Threading: ExplainStore is safe from any thread; a record is built by the scheduling loop alone.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/base/clock.h"
#include "scheduler/framework/verdict.h"

namespace ck::scheduler {

struct ExplainRecord {
  std::string pod;  // "ns/name"
  std::string uid;
  std::string profile;
  WallTime time{};
  int attempt = 0;
  std::string result;   // "Scheduled", "Unschedulable", "Error"
  std::string node;     // the chosen node, when any
  std::string message;  // FailedScheduling's message or the error
  std::string nominated_node;  // set by preemption

  // Node names in the order the cycle walked them (shared between records while nodes do not
  // change), the index it started at, and how many it needed to find.
  std::shared_ptr<const std::vector<std::string>> node_order;
  int64_t start_index = 0;
  int64_t num_to_find = 0;
  std::string pre_filter_message;            // when PreFilter rejected the pod for every node
  std::vector<std::string> pre_filter_nodes; // when PreFilter narrowed the nodes
  std::string evaluated_nominated_node;      // the pod's nominatedNodeName tried first
  // Each rejected node with the index of its verdict in `verdicts` (the first rejecting plugin's);
  // verdicts are kept once each, since thousands of nodes usually share a handful of them.
  std::vector<Verdict> verdicts;
  std::vector<std::pair<std::string, uint32_t>> rejected;
  // Adds a rejected node, reusing an equal verdict already recorded.
  void AddRejected(const std::string& node, const Verdict& v);
  std::vector<std::string> feasible;

  std::vector<std::pair<std::string, int32_t>> score_plugins;  // name, weight
  struct Scored {
    std::string node;
    std::vector<int64_t> scores;  // weighted, in score_plugins order
    int64_t total = 0;
  };
  std::vector<Scored> scored;
  int64_t top_score = 0;
  int64_t tie_count = 0;  // nodes sharing top_score; the choice among them was random

  // Nodes neither rejected nor feasible: not evaluated because enough feasible nodes were found
  // (or excluded by PreFilter). Computed from node_order.
  std::vector<std::string> Unevaluated() const;
};

std::string ExplainJson(const ExplainRecord& r);
std::string ExplainText(const ExplainRecord& r);

class ExplainStore {
 public:
  explicit ExplainStore(size_t capacity = 1000) : capacity_(capacity) {}
  void Put(ExplainRecord record);
  std::optional<ExplainRecord> Get(const std::string& pod) const;
  size_t size() const;
  // Pod keys, most recent first.
  std::vector<std::string> Keys(size_t limit) const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<ExplainRecord> records_;  // guarded by mu_; most recent first
  std::unordered_map<std::string, std::list<ExplainRecord>::iterator> by_pod_;  // guarded by mu_
};

}  // namespace ck::scheduler
