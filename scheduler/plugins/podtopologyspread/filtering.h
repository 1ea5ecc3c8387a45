// PodTopologySpread's PreFilter state (upstream preFilterState): per DoNotSchedule constraint,
// the number of matching pods in each eligible domain and the two domains with the fewest
// (critical paths). Domains are the interned value ids of the constraint's topology key
// (spread_cache.h), so Filter answers with array lookups: NodeInfo address -> row -> value id ->
// count.
// Threading: written by PreFilter; read concurrently by Filter. AddPod/RemovePod change only a
// preemption clone, never while Filter reads that same clone.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>  // before cycle_state.h, which uses std::unique_lock without including it
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "scheduler/framework/cycle_state.h"
#include "scheduler/plugins/podtopologyspread/common.h"
#include "scheduler/plugins/podtopologyspread/node_matching.h"
#include "scheduler/plugins/podtopologyspread/spread_cache.h"

namespace ck::scheduler::plugins::podtopologyspread_internal {

// Filter on a node PreFilter did not index: its value is no domain the state knows (0 pods).
inline constexpr int32_t kUnknownDomain = -2;

// The two domains with the fewest matching pods (upstream criticalPaths). paths[0] always holds
// the minimum; paths[1] is at least as large but not necessarily the second smallest (exact for
// preemption, which moves one node's pods at a time on its own copy).
struct CriticalPaths {
  struct Path {
    int32_t domain = -1;
    int32_t match_num = std::numeric_limits<int32_t>::max();
  };
  Path paths[2];
  void Update(int32_t domain, int32_t num);
};

// Computed once by PreFilter and shared by every clone.
struct PreFilterShared {
  std::vector<Constraint> constraints;
  std::vector<uint8_t> self_match;              // the pod itself matches constraint i's selector
  RequiredNodeAffinity affinity;                // the pod's, for AddPod/RemovePod
  std::vector<SpreadCache::KeyValues> values;   // [i]: each row's value id of constraint i's key
  std::shared_ptr<const NodeIndex> node_index;  // snapshot NodeInfo -> row
};

class PreFilterState final : public StateData {
 public:
  std::unique_ptr<StateData> Clone() const override { return std::make_unique<PreFilterState>(*this); }

  size_t num_constraints() const { return shared->constraints.size(); }
  // The global minimum for constraint i: the smallest eligible domain count, or 0 when fewer
  // domains than minDomains are eligible.
  int32_t MinMatchNum(size_t i) const;
  // Matching pods in domain `d` of constraint i (0 for a domain without an entry).
  int32_t MatchNum(size_t i, int32_t d) const {
    return d >= 0 && static_cast<size_t>(d) < match_num[i].size() ? match_num[i][static_cast<size_t>(d)] : 0;
  }
  // Adds `delta` matching pods to the domain `value` of constraint i (giving it an entry).
  void AddToDomain(size_t i, std::string_view value, int32_t delta);

  // For tests and explain: the count of domain `value` (nullopt: no entry), the number of domains
  // with an entry, and a critical path as (value, count).
  std::optional<int32_t> MatchNumOf(size_t i, std::string_view value) const;
  int32_t NumDomains(size_t i) const { return num_domains[i]; }
  std::pair<std::string, int32_t> CriticalPath(size_t i, int which) const;

  std::shared_ptr<const PreFilterShared> shared;
  std::vector<std::vector<int32_t>> match_num;  // [i][domain] (TpValueToMatchNum)
  std::vector<std::vector<uint8_t>> has_entry;  // [i][domain]: the domain is in TpValueToMatchNum
  std::vector<int32_t> num_domains;             // [i]: domains with an entry
  std::vector<CriticalPaths> paths;             // [i]
};

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
