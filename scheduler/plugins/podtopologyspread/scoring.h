// PodTopologySpread's PreScore state (upstream preScoreState): the ScheduleAnyway constraints,
// the nodes left out of scoring (missing a topology key), matching pods per domain (interned value
// ids, spread_cache.h), each constraint's weight log(domains + 2), and every scored node's raw
// score computed up front so Score is one lookup.
// Threading: written once by PreScore, then read concurrently; clones share the data.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>  // before cycle_state.h, which uses std::unique_lock without including it
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "scheduler/framework/cycle_state.h"
#include "scheduler/plugins/podtopologyspread/common.h"
#include "scheduler/plugins/podtopologyspread/spread_cache.h"

namespace ck::scheduler::plugins::podtopologyspread_internal {

// topologyNormalizingWeight: log(size + 2), so small topologies are not drowned by large ones.
double TopologyNormalizingWeight(size_t size);
// scoreForCount: count * weight + (maxSkew - 1); maxSkew waters the differences down.
double ScoreForCount(int64_t count, int32_t max_skew, double weight);

struct PreScoreData {
  std::vector<Constraint> constraints;
  std::vector<double> weights;                  // [i] (TopologyNormalizingWeight)
  std::vector<SpreadCache::KeyValues> values;   // [i]: each row's value id of constraint i's key
  std::vector<std::vector<int64_t>> counts;     // [i][domain] (TopologyValueToPodCounts), not hostname
  std::vector<std::vector<uint8_t>> is_domain;  // [i][domain]: a scored node is in the domain
  std::unordered_set<std::string> ignored;      // names of scored nodes missing a topology key
  std::shared_ptr<const NodeIndex> node_index;  // snapshot NodeInfo -> row
  std::vector<int64_t> raw_scores;              // [row] for scored rows
  std::vector<uint8_t> scored;                  // [row]: PreScore computed raw_scores[row]
  std::string ns;                               // the pod's namespace
};

class PreScoreState final : public StateData {
 public:
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreScoreState>(*this); }
  // For tests: the count of domain `value` of constraint i (nullopt: no such domain).
  std::optional<int64_t> CountOf(size_t i, std::string_view value) const;

  std::shared_ptr<const PreScoreData> data;
};

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
