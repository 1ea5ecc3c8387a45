// TopologyPairCounts (topology_counts.h): linear probing over a power-of-two table.
#include "scheduler/plugins/interpodaffinity/topology_counts.h"

#include <algorithm>

#include "common/base/check.h"

namespace ck::scheduler::plugins {

TopologyPairCounts::KeyId TopologyPairCounts::InternKey(std::string_view key) {
  KeyId id = FindKey(key);
  if (id != kNoKey) return id;
  keys_.emplace_back(key);
  return static_cast<KeyId>(keys_.size() - 1);
}

TopologyPairCounts::KeyId TopologyPairCounts::FindKey(std::string_view key) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i] == key) return static_cast<KeyId>(i);
  }
  return kNoKey;
}

uint64_t TopologyPairCounts::Mix(KeyId key, uint64_t value_hash) {
  // Fold the key id in and spread the bits (splitmix64's finalizer), so that low bits index well.
  uint64_t h = value_hash ^ ((static_cast<uint64_t>(key) + 1) * 0x9E3779B97F4A7C15ull);
  h ^= h >> 30;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 27;
  h *= 0x94D049BB133111EBull;
  h ^= h >> 31;
  return h;
}

namespace {
// Linear probing stays short up to about 70% load.
bool TooFull(size_t used, size_t capacity) { return used * 10 > capacity * 7; }
}  // namespace

void TopologyPairCounts::Reserve(size_t pairs) {
  if (TooFull(pairs, slots_.size())) Grow(pairs);
}

void TopologyPairCounts::Grow(size_t min_used) {
  size_t capacity = std::max<size_t>(16, slots_.size());
  while (TooFull(min_used, capacity)) capacity *= 2;
  if (capacity == slots_.size()) return;
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  const size_t mask = capacity - 1;
  for (const Slot& s : old) {
    if (s.key == kNoKey) continue;
    // Only the upper half of the hash is kept: the slot comes from hashing the value again.
    size_t i = Mix(s.key, HashValue(ValueOf(s))) & mask;
    while (slots_[i].key != kNoKey) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

void TopologyPairCounts::Add(KeyId key, std::string_view value, uint64_t value_hash, int64_t delta) {
  CK_CHECK(key < keys_.size()) << "topology key id " << key << " was never interned";
  if (slots_.empty() || TooFull(used_ + 1, slots_.size())) Grow(used_ + 1);
  const uint64_t h = Mix(key, value_hash);
  const uint32_t high = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (true) {
    Slot& s = slots_[i];
    if (s.key == kNoKey) {
      s.hash_high = high;
      s.key = key;
      s.value_off = static_cast<uint32_t>(arena_.size());
      s.value_len = static_cast<uint32_t>(value.size());
      arena_.append(value);
      s.count = delta;
      ++used_;
      if (delta != 0) ++nonzero_;
      return;
    }
    if (s.hash_high == high && s.key == key && ValueOf(s) == value) {
      const bool was_zero = s.count == 0;
      s.count += delta;
      if (was_zero && s.count != 0) ++nonzero_;
      if (!was_zero && s.count == 0) --nonzero_;
      return;
    }
    i = (i + 1) & mask;
  }
}

int64_t TopologyPairCounts::Get(KeyId key, std::string_view value, uint64_t value_hash) const {
  if (used_ == 0 || key == kNoKey) return 0;
  const uint64_t h = Mix(key, value_hash);
  const uint32_t high = static_cast<uint32_t>(h >> 32);
  const size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.key == kNoKey) return 0;
    if (s.hash_high == high && s.key == key && ValueOf(s) == value) return s.count;
  }
}

int64_t TopologyPairCounts::Get(std::string_view key, std::string_view value) const {
  return Get(FindKey(key), value);
}

void TopologyPairCounts::CompactIfSparse() {
  if (used_ - nonzero_ <= nonzero_ + 1024) return;
  std::vector<Slot> old = std::move(slots_);
  std::string old_arena = std::move(arena_);
  slots_.clear();
  arena_.clear();
  used_ = 0;
  nonzero_ = 0;
  for (const Slot& s : old) {
    if (s.key == kNoKey || s.count == 0) continue;
    const std::string_view value = std::string_view(old_arena).substr(s.value_off, s.value_len);
    Add(s.key, value, s.count);
  }
}

void TopologyPairCounts::ForEach(const std::function<void(std::string_view, std::string_view, int64_t)>& fn) const {
  for (const Slot& s : slots_) {
    if (s.key != kNoKey && s.count != 0) fn(keys_[s.key], ValueOf(s), s.count);
  }
}

}  // namespace ck::scheduler::plugins
