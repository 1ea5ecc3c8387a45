// CountsMemo: InterPodAffinity's topology pair counts for one pod "shape", kept across scheduling
// cycles and brought up to date from the cycle's snapshot instead of recounted from every pod.
// Each node's contribution (the pairs its pods add) is stored with the node's NodeInfo address and
// generation; a refresh recomputes only nodes that are new or whose generation moved (a pod came
// or went, the node changed) and withdraws nodes that left the list. Every change to a NodeInfo
// takes a fresh generation from the process-wide counter, so an unchanged (address, generation)
// means unchanged content.
// A shape is everything a contribution depends on besides the node: the incoming pod's namespace,
// labels, namespace labels and terms (AppendPodShape / AppendTermShape in terms.h). MemoCache keeps the few
// most recent shapes and admits a shape on its second sighting, so pods that never repeat (unique
// labels) pay for the plain walk only.
// Threading: not synchronized; the plugin calls it from PreFilter / PreScore under its lock.
// Contributions are computed in parallel through the Parallelizer.
#pragma once

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "scheduler/framework/parallelizer.h"
#include "scheduler/framework/types.h"
#include "scheduler/plugins/interpodaffinity/topology_counts.h"

namespace ck::scheduler::plugins {

// One topology pair a node contributes, as a walk finds it. Pointers refer to the snapshot's pods
// and nodes and live only for the walk.
struct Emission {
  const std::string* key;
  const std::string* value;
  uint64_t value_hash;
  int64_t delta;
  uint32_t table;  // index into the tables being counted
  uint32_t item;   // which node of the walk (set by the walk)
};
using EmitBuffer = std::vector<Emission>;
// Appends the contributions of one node.
using NodeVisit = std::function<void(const NodeInfo& node, EmitBuffer& out)>;

// Runs `visit` for nodes[i] of every i in `items` (all nodes when `items` is null) over the
// parallelizer in chunks; emissions land in `buffers` (one per chunk, reused), in item order.
// Returns the number of chunks used. Small walks run on the calling thread.
size_t ParallelVisit(Parallelizer& parallelizer, const std::vector<std::shared_ptr<NodeInfo>>& nodes,
                     const std::vector<uint32_t>* items, const NodeVisit& visit, std::vector<EmitBuffer>& buffers);

// Adds every emission of buffers[0..chunks) to tables[emission.table].
void MergeEmissions(const std::vector<EmitBuffer>& buffers, size_t chunks, const std::vector<TopologyPairCounts*>& tables);

class CountsMemo {
 public:
  explicit CountsMemo(size_t tables) : tables_(tables) {}

  // Brings the tables up to date with `nodes` (nodes without a Node object are left out).
  void Refresh(Parallelizer& parallelizer, const std::vector<std::shared_ptr<NodeInfo>>& nodes,
               const NodeVisit& visit, std::vector<EmitBuffer>& buffers);

  const TopologyPairCounts& table(size_t i) const { return tables_[i]; }
  // Contributions currently counted (0: nothing matched anywhere).
  size_t contributions() const { return contributions_; }
  // Nodes recomputed by the last Refresh (for tests and the benchmark).
  size_t last_recomputed() const { return last_recomputed_; }

 private:
  struct Contribution {
    uint32_t table;
    TopologyPairCounts::KeyId key;
    int64_t delta;
    uint64_t value_hash;
    std::string value;
  };
  struct Slot {
    int64_t generation = 0;
    uint64_t epoch = 0;
    std::vector<Contribution> contributions;
  };
  void Withdraw(Slot& slot);

  std::vector<TopologyPairCounts> tables_;
  std::unordered_map<const NodeInfo*, Slot> slots_;
  uint64_t epoch_ = 0;
  size_t contributions_ = 0;
  size_t last_recomputed_ = 0;
  std::vector<uint32_t> dirty_;  // scratch: indexes of nodes to recompute
};

// The most recently used CountsMemo per shape key, at most `capacity`.
class MemoCache {
 public:
  explicit MemoCache(size_t capacity, size_t tables) : capacity_(capacity), tables_(tables) {}

  // The memo of `key`, or nullptr when the key is new: then it is only remembered, and a memo is
  // created the next time it comes (most pods are replicas; a one-off shape is not worth one).
  CountsMemo* Get(const std::string& key);
  // Memos held (not counting keys seen once).
  size_t size() const { return memos_; }

 private:
  struct Entry {
    std::string key;
    std::unique_ptr<CountsMemo> memo;  // null: seen once
  };
  void Evict();

  const size_t capacity_;  // memos kept; as many again seen-once keys
  const size_t tables_;
  std::list<Entry> lru_;   // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t memos_ = 0;
  size_t seen_once_ = 0;
};

}  // namespace ck::scheduler::plugins
