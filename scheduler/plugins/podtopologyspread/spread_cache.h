// SpreadCache: what PodTopologySpread learns about each node, kept from one scheduling cycle to the
// next so that a cycle only re-reads the nodes that changed. A node's facts are valid while its
// NodeInfo has the same address and generation (the generation moves on every change to the node
// or its pods, and comes from one process-wide counter):
//   Values(key)           the node's value for a topology key, as an interned id (ValueIntern)
//   Counts(ns, selector)  the node's pods in `ns`, not terminating, matching `selector`
// plus a NodeInfo address -> row index over the snapshot's node list, so Filter and Score find a
// node's row without hashing strings.
// Threading: BeginCycle, Values and Counts run on the scheduling thread only (PreFilter and
// PreScore); the results they hand out are immutable (copy-on-write) and may be read from any
// thread. ValueIntern is internally locked.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/api/label_selector.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/framework/types.h"
#include "scheduler/plugins/podtopologyspread/common.h"

namespace ck::scheduler::plugins::podtopologyspread_internal {

// The node has no label for the topology key.
inline constexpr int32_t kNoLabel = -1;

// Topology values of one key <-> dense ids. Append-only: an id never changes meaning.
class ValueIntern {
 public:
  // The id of `value`, or -1.
  int32_t Find(std::string_view value) const;
  // The id of `value`, adding it when new.
  int32_t Intern(std::string_view value);
  std::string Value(int32_t id) const;
  size_t size() const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>{}(v); }
  };
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, int32_t, Hash, std::equal_to<>> ids_;  // guarded by mu_
  std::vector<std::string> values_;                                      // guarded by mu_
};

class SpreadCache {
 public:
  using NodeList = std::vector<std::shared_ptr<NodeInfo>>;

  // A topology key's value ids for every row of the cycle (kNoLabel for nodes without the key).
  struct KeyValues {
    std::shared_ptr<ValueIntern> intern;
    std::shared_ptr<const std::vector<int32_t>> ids;
  };

  // Starts a cycle over the snapshot's `nodes`: rows are their positions. Rebuilds the row index
  // when the list's NodeInfos moved.
  void BeginCycle(const NodeList& nodes);
  size_t rows() const { return current_.size(); }
  // NodeInfo address -> row for this cycle's list (shared; a later cycle makes a new one).
  const std::shared_ptr<const NodeIndex>& node_index() const { return index_; }

  // The value ids of `key` for this cycle, re-reading only rows whose node changed.
  KeyValues Values(const std::string& key, const NodeList& nodes);
  // CountMatchingPods for every row, recounting only rows whose node changed (over `parallelizer`
  // when there are many). The reference stays valid until the next BeginCycle.
  const std::vector<int32_t>& Counts(const std::string& ns, const api::LabelSelector& selector,
                                     const NodeList& nodes, Parallelizer& parallelizer);

 private:
  struct Stamp {
    const NodeInfo* node = nullptr;
    int64_t generation = -1;
    friend bool operator==(const Stamp&, const Stamp&) = default;
  };
  struct KeyColumn {
    std::shared_ptr<ValueIntern> intern;
    std::vector<Stamp> stamps;
    std::shared_ptr<std::vector<int32_t>> ids;
    uint64_t last_used = 0;
  };
  struct CountColumn {
    std::vector<Stamp> stamps;
    std::vector<int32_t> counts;
    uint64_t last_used = 0;
  };
  template <typename Column>
  void EvictIfFull(std::map<std::string, Column, std::less<>>& columns, size_t capacity);

  uint64_t cycle_ = 0;
  std::vector<Stamp> current_;  // this cycle's rows
  std::shared_ptr<const NodeIndex> index_ = std::make_shared<NodeIndex>();
  std::vector<const NodeInfo*> indexed_;  // the addresses index_ was built from
  std::map<std::string, KeyColumn, std::less<>> keys_;
  std::map<std::string, CountColumn, std::less<>> counts_;  // by namespace + selector
  std::vector<int32_t> zeros_;                              // Counts for a nil selector
  std::vector<uint32_t> stale_;                             // scratch
};

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
