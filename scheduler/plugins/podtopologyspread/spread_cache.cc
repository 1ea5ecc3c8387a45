#include "scheduler/plugins/podtopologyspread/spread_cache.h"

#include <algorithm>
#include <mutex>

namespace ck::scheduler::plugins::podtopologyspread_internal {
namespace {

// Columns kept for keys / selectors not used in the current cycle.
constexpr size_t kMaxKeyColumns = 8;
constexpr size_t kMaxCountColumns = 32;
// Below this many changed nodes the recount stays on the scheduling thread: waking the workers
// costs more than the counting.
constexpr size_t kParallelRecountRows = 256;

}  // namespace

// ---- ValueIntern ----

int32_t ValueIntern::Find(std::string_view value) const {
  std::shared_lock lock(mu_);
  auto it = ids_.find(value);
  return it == ids_.end() ? -1 : it->second;
}

int32_t ValueIntern::Intern(std::string_view value) {
  std::unique_lock lock(mu_);
  auto it = ids_.find(value);
  if (it != ids_.end()) return it->second;
  const int32_t id = static_cast<int32_t>(values_.size());
  values_.emplace_back(value);
  ids_.emplace(std::string(value), id);
  return id;
}

std::string ValueIntern::Value(int32_t id) const {
  std::shared_lock lock(mu_);
  return id >= 0 && static_cast<size_t>(id) < values_.size() ? values_[static_cast<size_t>(id)]
                                                             : std::string();
}

size_t ValueIntern::size() const {
  std::shared_lock lock(mu_);
  return values_.size();
}

// ---- SpreadCache ----

void SpreadCache::BeginCycle(const NodeList& nodes) {
  ++cycle_;
  const size_t n = nodes.size();
  current_.resize(n);
  bool moved = indexed_.size() != n;
  for (size_t r = 0; r < n; ++r) {
    const NodeInfo* info = nodes[r].get();
    current_[r] = Stamp{info, info->generation()};
    if (!moved && indexed_[r] != info) moved = true;
  }
  if (moved) {
    auto index = std::make_shared<NodeIndex>();
    index->Reset(n);
    indexed_.resize(n);
    for (size_t r = 0; r < n; ++r) {
      indexed_[r] = nodes[r].get();
      index->Insert(nodes[r].get(), static_cast<int32_t>(r));
    }
    index_ = std::move(index);
  }
}

template <typename Column>
void SpreadCache::EvictIfFull(std::map<std::string, Column, std::less<>>& columns, size_t capacity) {
  while (columns.size() >= capacity) {
    auto oldest = columns.end();
    for (auto it = columns.begin(); it != columns.end(); ++it) {
      // A column handed out in this cycle stays (its results are still in use).
      if (it->second.last_used == cycle_) continue;
      if (oldest == columns.end() || it->second.last_used < oldest->second.last_used) oldest = it;
    }
    if (oldest == columns.end()) return;
    columns.erase(oldest);
  }
}

SpreadCache::KeyValues SpreadCache::Values(const std::string& key, const NodeList& nodes) {
  auto it = keys_.find(key);
  if (it == keys_.end()) {
    EvictIfFull(keys_, kMaxKeyColumns);
    it = keys_.emplace(key, KeyColumn{}).first;
  }
  KeyColumn& col = it->second;
  col.last_used = cycle_;
  const size_t n = current_.size();
  // Interned values of nodes long gone would pile up: start over when there are many more values
  // than nodes (states of earlier cycles keep the old table).
  if (col.intern == nullptr || col.intern->size() > 2 * n + 1024) {
    col.intern = std::make_shared<ValueIntern>();
    col.stamps.clear();
    col.ids.reset();
  }
  if (col.stamps.size() != n) col.stamps.resize(n);
  size_t first_stale = 0;
  while (first_stale < n && col.stamps[first_stale] == current_[first_stale]) ++first_stale;
  if (first_stale == n && col.ids != nullptr && col.ids->size() == n) return KeyValues{col.intern, col.ids};
  // Copy on write: a state of an earlier cycle may still read the previous ids.
  if (col.ids == nullptr) {
    col.ids = std::make_shared<std::vector<int32_t>>(n, kNoLabel);
  } else if (col.ids.use_count() > 1 || col.ids->size() != n) {
    auto copy = std::make_shared<std::vector<int32_t>>(*col.ids);
    copy->resize(n, kNoLabel);
    col.ids = std::move(copy);
  }
  std::vector<int32_t>& ids = *col.ids;
  for (size_t r = first_stale; r < n; ++r) {
    if (col.stamps[r] == current_[r]) continue;
    col.stamps[r] = current_[r];
    const corev1::Node* node = nodes[r]->node();
    const std::string* v = node == nullptr ? nullptr : FindLabel(node->metadata().labels(), key);
    ids[r] = v == nullptr ? kNoLabel : col.intern->Intern(*v);
  }
  return KeyValues{col.intern, col.ids};
}

const std::vector<int32_t>& SpreadCache::Counts(const std::string& ns, const api::LabelSelector& selector,
                                                const NodeList& nodes, Parallelizer& parallelizer) {
  const size_t n = current_.size();
  if (selector.MatchesNothing()) {
    zeros_.assign(n, 0);
    return zeros_;
  }
  std::string key = ns;
  key += '\n';
  key += selector.String();
  auto it = counts_.find(key);
  if (it == counts_.end()) {
    EvictIfFull(counts_, kMaxCountColumns);
    it = counts_.emplace(std::move(key), CountColumn{}).first;
  }
  CountColumn& col = it->second;
  col.last_used = cycle_;
  col.stamps.resize(n);
  col.counts.resize(n, 0);
  stale_.clear();
  for (size_t r = 0; r < n; ++r) {
    if (!(col.stamps[r] == current_[r])) stale_.push_back(static_cast<uint32_t>(r));
  }
  auto recount = [&](size_t k) {
    const size_t r = stale_[k];
    col.counts[r] = CountMatchingPods(nodes[r]->pods(), selector, ns);
    col.stamps[r] = current_[r];
  };
  if (stale_.size() >= kParallelRecountRows) {
    parallelizer.Until(stale_.size(), recount);
  } else {
    for (size_t k = 0; k < stale_.size(); ++k) recount(k);
  }
  return col.counts;
}

}  // namespace ck::scheduler::plugins::podtopologyspread_internal
