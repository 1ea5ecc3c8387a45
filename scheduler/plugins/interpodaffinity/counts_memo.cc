// CountsMemo, MemoCache and the parallel walk (counts_memo.h).
#include "scheduler/plugins/interpodaffinity/counts_memo.h"

#include <algorithm>

namespace ck::scheduler::plugins {

namespace {

// Below this many nodes a walk stays on the calling thread: waking the workers costs more.
constexpr size_t kSerialBelow = 32;

// Interns emission keys into a table; emissions of one term share the key's address.
class KeyCache {
 public:
  TopologyPairCounts::KeyId Id(TopologyPairCounts& table, const std::string* key) {
    if (key != last_key_) {
      last_key_ = key;
      last_id_ = table.InternKey(*key);
    }
    return last_id_;
  }

 private:
  const std::string* last_key_ = nullptr;
  TopologyPairCounts::KeyId last_id_ = TopologyPairCounts::kNoKey;
};

}  // namespace

size_t ParallelVisit(Parallelizer& parallelizer, const std::vector<std::shared_ptr<NodeInfo>>& nodes,
                     const std::vector<uint32_t>* items, const NodeVisit& visit, std::vector<EmitBuffer>& buffers) {
  const size_t n = items != nullptr ? items->size() : nodes.size();
  if (n == 0) return 0;
  // A few chunks per thread balance uneven nodes; each chunk owns its buffer, so the walk shares
  // nothing but the read-only snapshot.
  const size_t chunks =
      n < kSerialBelow ? 1 : std::min(n, static_cast<size_t>(std::max(1, parallelizer.parallelism())) * 8);
  if (buffers.size() < chunks) buffers.resize(chunks);
  for (size_t c = 0; c < chunks; ++c) buffers[c].clear();
  auto run = [&](size_t c) {
    EmitBuffer& out = buffers[c];
    const size_t end = n * (c + 1) / chunks;
    for (size_t j = n * c / chunks; j < end; ++j) {
      const NodeInfo& node = *nodes[items != nullptr ? (*items)[j] : j];
      if (node.node() == nullptr) continue;
      const size_t before = out.size();
      visit(node, out);
      for (size_t k = before; k < out.size(); ++k) out[k].item = static_cast<uint32_t>(j);
    }
  };
  if (chunks == 1) {
    run(0);
  } else {
    parallelizer.Until(chunks, run);
  }
  return chunks;
}

void MergeEmissions(const std::vector<EmitBuffer>& buffers, size_t chunks, const std::vector<TopologyPairCounts*>& tables) {
  std::vector<KeyCache> keys(tables.size());
  for (size_t c = 0; c < chunks; ++c) {
    for (const Emission& e : buffers[c]) {
      TopologyPairCounts& table = *tables[e.table];
      table.Add(keys[e.table].Id(table, e.key), *e.value, e.value_hash, e.delta);
    }
  }
}

void CountsMemo::Withdraw(Slot& slot) {
  for (const Contribution& c : slot.contributions) tables_[c.table].Add(c.key, c.value, c.value_hash, -c.delta);
  contributions_ -= slot.contributions.size();
  slot.contributions.clear();
}

void CountsMemo::Refresh(Parallelizer& parallelizer, const std::vector<std::shared_ptr<NodeInfo>>& nodes,
                         const NodeVisit& visit, std::vector<EmitBuffer>& buffers) {
  ++epoch_;
  dirty_.clear();
  size_t kept = 0;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const NodeInfo* node = nodes[i].get();
    if (node->node() == nullptr) continue;
    auto it = slots_.find(node);
    if (it != slots_.end() && it->second.generation == node->generation()) {
      it->second.epoch = epoch_;
      ++kept;
      continue;
    }
    dirty_.push_back(static_cast<uint32_t>(i));
  }
  last_recomputed_ = dirty_.size();

  const size_t chunks = ParallelVisit(parallelizer, nodes, &dirty_, visit, buffers);
  // Withdraw what the recomputed nodes counted before, then count what they hold now. Element
  // pointers of an unordered_map stay valid while it grows.
  std::vector<Slot*> dirty_slots(dirty_.size());
  for (size_t k = 0; k < dirty_.size(); ++k) {
    const NodeInfo* node = nodes[dirty_[k]].get();
    Slot& slot = slots_[node];
    Withdraw(slot);
    slot.generation = node->generation();
    slot.epoch = epoch_;
    dirty_slots[k] = &slot;
  }
  std::vector<KeyCache> keys(tables_.size());
  for (size_t c = 0; c < chunks; ++c) {
    for (const Emission& e : buffers[c]) {
      TopologyPairCounts& table = tables_[e.table];
      const TopologyPairCounts::KeyId key = keys[e.table].Id(table, e.key);
      table.Add(key, *e.value, e.value_hash, e.delta);
      dirty_slots[e.item]->contributions.push_back(Contribution{e.table, key, e.delta, e.value_hash, *e.value});
      ++contributions_;
    }
  }
  // Nodes that left the list take their counts with them.
  if (kept + dirty_.size() < slots_.size()) {
    for (auto it = slots_.begin(); it != slots_.end();) {
      if (it->second.epoch != epoch_) {
        Withdraw(it->second);
        it = slots_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (TopologyPairCounts& table : tables_) table.CompactIfSparse();
}

CountsMemo* MemoCache::Get(const std::string& key) {
  auto found = index_.find(key);
  if (found != index_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    Entry& entry = lru_.front();
    if (entry.memo == nullptr) {
      entry.memo = std::make_unique<CountsMemo>(tables_);
      ++memos_;
      --seen_once_;
      Evict();
    }
    return entry.memo.get();
  }
  lru_.push_front(Entry{key, nullptr});
  index_[key] = lru_.begin();
  ++seen_once_;
  Evict();
  return nullptr;
}

void MemoCache::Evict() {
  // Drop the least recently used entries of whichever kind is over its bound; the front entry
  // (just used) is never the one dropped since each bound is at least one.
  auto it = lru_.end();
  while ((memos_ > capacity_ || seen_once_ > capacity_) && it != lru_.begin()) {
    --it;
    const bool is_memo = it->memo != nullptr;
    if ((is_memo && memos_ > capacity_) || (!is_memo && seen_once_ > capacity_)) {
      --(is_memo ? memos_ : seen_once_);
      index_.erase(it->key);
      it = lru_.erase(it);
    }
  }
}

}  // namespace ck::scheduler::plugins
