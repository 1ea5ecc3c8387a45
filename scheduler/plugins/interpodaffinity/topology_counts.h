// TopologyPairCounts: a count per topology pair (topologyKey, topologyValue), the data
// InterPodAffinity computes once per cycle and reads for every node (upstream
// topologyToMatchedTermCount and the scoring scoreMap). Built for the hot path: topology keys are
// interned to small ids (a cycle sees only a few: hostname, zone), pairs sit in one open-addressed
// table keyed by (key id, value) with the hash stored, values are copied into one arena string,
// so a lookup allocates nothing and a copy (CycleState::Clone) is three memcpy-like copies.
// A pair whose count returns to zero stays in the table but no longer counts in size(), as the
// upstream map deletes it.
// Threading: a plain value; concurrent const calls are safe, writes need exclusive access.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ck::scheduler::plugins {

class TopologyPairCounts {
 public:
  using KeyId = uint32_t;
  static constexpr KeyId kNoKey = UINT32_MAX;

  // The id of `key`, adding it when new. Ids are dense, from 0, in order of first use.
  KeyId InternKey(std::string_view key);
  // The id of `key`, or kNoKey when it was never interned.
  KeyId FindKey(std::string_view key) const;
  // Every interned key, indexed by id (including keys whose pairs are all back to zero).
  const std::vector<std::string>& keys() const { return keys_; }

  // The hash of a topology value as Add/Get expect it (so that callers may hash off the lock).
  static uint64_t HashValue(std::string_view value) { return std::hash<std::string_view>{}(value); }

  // Adds `delta` to the pair (key, value); `value_hash` must be HashValue(value).
  void Add(KeyId key, std::string_view value, uint64_t value_hash, int64_t delta);
  void Add(KeyId key, std::string_view value, int64_t delta) { Add(key, value, HashValue(value), delta); }
  // The count of the pair, 0 when absent.
  int64_t Get(KeyId key, std::string_view value, uint64_t value_hash) const;
  int64_t Get(KeyId key, std::string_view value) const { return Get(key, value, HashValue(value)); }
  // By key name (tests, logs): 0 when the key is unknown.
  int64_t Get(std::string_view key, std::string_view value) const;

  // Pairs with a non-zero count (upstream len(map)).
  size_t size() const { return nonzero_; }
  bool empty() const { return nonzero_ == 0; }
  // Makes room for `pairs` entries without rehashing.
  void Reserve(size_t pairs);
  // Drops the pairs whose count is back to zero when they make up most of the table (a long-lived
  // table, such as a memo's, would otherwise keep every pair it ever saw). Key ids do not change.
  void CompactIfSparse();
  // Calls fn(key, value, count) for every pair with a non-zero count, in table order.
  void ForEach(const std::function<void(std::string_view, std::string_view, int64_t)>& fn) const;

 private:
  struct Slot {              // 24 bytes
    uint32_t hash_high = 0;  // upper half of the pair's hash (the lower half picks the slot)
    KeyId key = kNoKey;      // kNoKey: empty slot
    uint32_t value_off = 0;
    uint32_t value_len = 0;
    int64_t count = 0;
  };
  static uint64_t Mix(KeyId key, uint64_t value_hash);
  std::string_view ValueOf(const Slot& s) const { return std::string_view(arena_).substr(s.value_off, s.value_len); }
  void Grow(size_t min_used);

  std::vector<std::string> keys_;
  std::vector<Slot> slots_;  // capacity a power of two, at most 70% full
  std::string arena_;        // the values of all pairs, back to back
  size_t used_ = 0;          // occupied slots
  size_t nonzero_ = 0;       // occupied slots with count != 0
};

}  // namespace ck::scheduler::plugins
