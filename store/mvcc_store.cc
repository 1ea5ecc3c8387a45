// The MVCC engine: index, group-commit writer, history cache, watchers, compaction.
#include "store/mvcc_store.h"

#include <algorithm>
#include <optional>
#include <semaphore>
#include <set>
#include <utility>

#include "common/base/check.h"
#include "common/base/log.h"
#include "store/codec.h"

namespace ck::store {
namespace {

constexpr int64_t kPumpChunkRevisions = 1024;
constexpr int64_t kHistoryReadBytes = 4 << 20;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// Wakes every watcher thread (they wait on the epoch with std::atomic::wait): one futex call.
void Bump(std::atomic<int>& epoch) {
  epoch.fetch_add(1);
  epoch.notify_all();
}

Status CompactedError(Revision wanted, Revision compacted) {
  return Gone("required revision " + std::to_string(wanted) +
              " has been compacted; compacted revision is " + std::to_string(compacted));
}

Status FutureError(Revision wanted, Revision current) {
  return BadRequest("required revision " + std::to_string(wanted) +
                    " is a future revision; current revision is " + std::to_string(current));
}

Status ValidateKey(std::string_view key) {
  if (key.empty()) return BadRequest("key must not be empty");
  return Status::Ok();
}

Status ValidateRange(const KeyRange& range) {
  if (range.start.empty()) return BadRequest("range start must not be empty");
  if (!range.end.empty() && range.end < range.start) {
    return BadRequest("range end " + Quote(range.end) + " is before range start " +
                      Quote(range.start));
  }
  return Status::Ok();
}

// A key may be written at most once per branch so that each revision has one event per key.
Status ValidateBranch(const std::vector<Op>& ops) {
  std::set<std::string_view> written;
  std::vector<const KeyRange*> deleted_ranges;
  for (const Op& op : ops) {
    switch (op.type) {
      case Op::Type::kPut:
      case Op::Type::kDelete:
      case Op::Type::kGet:
        CK_RETURN_IF_ERROR(ValidateKey(op.key));
        break;
      case Op::Type::kDeleteRange:
      case Op::Type::kRange:
        CK_RETURN_IF_ERROR(ValidateRange(op.range));
        if (op.type == Op::Type::kDeleteRange) deleted_ranges.push_back(&op.range);
        break;
    }
  }
  for (const Op& op : ops) {
    if (op.type != Op::Type::kPut) continue;
    if (!written.insert(op.key).second) {
      return BadRequest("duplicate key " + Quote(op.key) + " given in one transaction");
    }
    for (const KeyRange* r : deleted_ranges) {
      if (r->Contains(op.key)) {
        return BadRequest("key " + Quote(op.key) + " is both put and deleted in one transaction");
      }
    }
  }
  for (const Op& op : ops) {
    if (op.type == Op::Type::kDelete && written.count(op.key) > 0) {
      return BadRequest("key " + Quote(op.key) + " is both put and deleted in one transaction");
    }
  }
  return Status::Ok();
}

// The state at an old revision: current keys, with the first later event of each key undone.
using UndoMap = std::map<std::string, std::optional<KeyValue>, std::less<>>;

void AddUndo(const RevisionEvents& rev, const KeyRange& range, UndoMap* undo) {
  for (const Event& e : rev.events) {
    if (range.Contains(e.kv.key)) undo->try_emplace(e.kv.key, e.prev_kv);
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Internal types.

struct MvccStore::PendingTxn {
  std::vector<Compare> compares;
  std::vector<Op> on_success;
  std::vector<Op> on_failure;
  // Written by the leader before it releases `wake`; read by the caller after acquiring it.
  std::optional<Result<TxnResult>> result;
  bool done = false;
  // The caller sleeps here without holding queue_mu_ (so a woken caller does not queue for the
  // leader's lock): released once with the result, or to make the caller the next leader.
  std::binary_semaphore wake{0};
};

struct MvccStore::WatchState {
  int64_t id = 0;
  KeyRange range;
  bool progress_notify = false;
  WatchCallback callback;

  // Wake-ups: every change bumps the store's epoch (an atomic all watcher threads wait on).
  std::shared_ptr<std::atomic<int>> epoch;
  std::atomic<bool> stop{false};     // the handle was destroyed
  std::atomic<bool> closing{false};  // the store is closing
  std::atomic<bool> progress_requested{false};

  // Owned by the watcher thread once started.
  Revision next = 0;  // next revision to deliver
  bool live = false;  // true once it has caught up with the head (then lag counts as slowness)

  std::mutex join_mu;
  std::thread thread;  // guarded by join_mu
};

class MvccStore::WatcherHandle final : public Watcher {
 public:
  explicit WatcherHandle(std::shared_ptr<WatchState> w) : w_(std::move(w)) {}
  ~WatcherHandle() override {
    w_->stop.store(true);
    Bump(*w_->epoch);
    std::lock_guard<std::mutex> lock(w_->join_mu);
    if (!w_->thread.joinable()) return;
    if (w_->thread.get_id() == std::this_thread::get_id()) {
      w_->thread.detach();  // destroyed from its own callback: the thread ends after it returns
    } else {
      w_->thread.join();
    }
  }
  void RequestProgress() override {
    w_->progress_requested.store(true);
    Bump(*w_->epoch);
  }

 private:
  std::shared_ptr<WatchState> w_;
};

// The index as the current batch sees it: the published index plus the batch's own changes.
class MvccStore::View {
 public:
  explicit View(const Index& index) : index_(index) {}

  const Entry* Find(std::string_view key) const {
    auto o = overlay_.find(key);
    if (o != overlay_.end()) return o->second ? &*o->second : nullptr;
    auto i = index_.find(key);
    return i == index_.end() ? nullptr : &i->second;
  }
  void Set(const std::string& key, Entry e) { overlay_.insert_or_assign(key, std::move(e)); }
  void Erase(const std::string& key) { overlay_.insert_or_assign(key, std::nullopt); }

  // Visits (key, entry) for every present key in `range`, in key order.
  template <typename F>
  void ForEach(const KeyRange& range, F&& f) const {
    auto i = index_.lower_bound(range.start);
    auto o = overlay_.lower_bound(range.start);
    auto in_range = [&](const std::string& k) { return range.end.empty() || k < range.end; };
    while (true) {
      bool i_ok = i != index_.end() && in_range(i->first);
      bool o_ok = o != overlay_.end() && in_range(o->first);
      if (!i_ok && !o_ok) return;
      if (o_ok && (!i_ok || o->first <= i->first)) {
        if (i_ok && i->first == o->first) ++i;
        if (o->second) f(o->first, *o->second);
        ++o;
      } else {
        f(i->first, i->second);
        ++i;
      }
    }
  }

  std::map<std::string, std::optional<Entry>, std::less<>>& overlay() { return overlay_; }

 private:
  const Index& index_;
  std::map<std::string, std::optional<Entry>, std::less<>> overlay_;
};

namespace {
template <typename E>
KeyValue ToKeyValue(const std::string& key, const E& e) {
  return KeyValue{key, e.value, e.create_revision, e.mod_revision, e.version};
}
}  // namespace

// ---------------------------------------------------------------------------------------------
// Start and stop.

MvccStore::MvccStore(std::unique_ptr<Backend> backend, StoreOptions options)
    : options_(std::move(options)),
      clock_(*options_.clock),
      backend_(std::move(backend)),
      all_history_in_memory_(backend_->KeepsAllHistoryInMemory()) {}

Result<std::unique_ptr<Store>> MvccStore::Create(std::unique_ptr<Backend> backend,
                                                 StoreOptions options) {
  std::unique_ptr<MvccStore> store(new MvccStore(std::move(backend), std::move(options)));
  CK_RETURN_IF_ERROR(store->Load());
  store->timer_ = std::thread([s = store.get()] { s->TimerLoop(); });
  return std::unique_ptr<Store>(std::move(store));
}

Status MvccStore::Load() {
  CK_ASSIGN_OR_RETURN(Backend::Loaded loaded,
                      backend_->Load(options_.history_cache_revisions, options_.history_cache_bytes));
  std::unique_lock<std::shared_mutex> lock(state_mu_);
  for (KeyValue& kv : loaded.kvs) {
    CK_CHECK(kv.mod_revision <= loaded.current) << "key " << kv.key << " is newer than the store";
    index_.emplace(std::move(kv.key), Entry{kv.create_revision, kv.mod_revision, kv.version,
                                             std::move(kv.value)});
  }
  objects_ = static_cast<int64_t>(index_.size());
  current_ = loaded.current;
  compacted_ = loaded.compacted;
  cache_first_ = loaded.current + 1;
  for (auto it = loaded.recent.rbegin(); it != loaded.recent.rend(); ++it) {
    CK_CHECK((*it)->revision == cache_first_ - 1) << "history is not dense at " << (*it)->revision;
    cache_.push_front(*it);
    cache_bytes_ += (*it)->bytes;
    --cache_first_;
  }
  timer_start_ = clock_.Monotonic();  // before the timer thread starts, so no advance is missed
  std::lock_guard<std::mutex> samples(samples_mu_);
  samples_.push_back({timer_start_, loaded.current});
  return Status::Ok();
}

MvccStore::~MvccStore() {
  {
    // Queued transactions fail; one being committed finishes first.
    std::unique_lock<std::mutex> lock(queue_mu_);
    closing_ = true;
    idle_cv_.wait(lock, [&] { return !writer_active_ && queue_.empty(); });
  }
  {
    std::lock_guard<std::mutex> lock(timer_mu_);
    timer_stop_ = true;
  }
  timer_cv_.notify_all();
  timer_.join();

  std::unordered_map<int64_t, std::shared_ptr<WatchState>> watchers;
  {
    std::lock_guard<std::mutex> lock(watchers_mu_);
    watchers.swap(watchers_);
  }
  for (auto& [id, w] : watchers) w->closing.store(true);
  Bump(*epoch_);
  std::unique_lock<std::mutex> lock(threads_mu_);
  threads_cv_.wait(lock, [&] { return running_watch_threads_ == 0; });
}

// ---------------------------------------------------------------------------------------------
// Reads.

Status MvccStore::CheckReadRevisionLocked(Revision* rev) const {
  Revision current = current_.load();
  if (*rev < 0) return BadRequest("revision must not be negative");
  if (*rev == 0) *rev = current;
  if (*rev > current) return FutureError(*rev, current);
  if (*rev < compacted_.load()) return CompactedError(*rev, compacted_.load());
  return Status::Ok();
}

Result<KeyValue> MvccStore::Get(std::string_view key, Revision at_revision) {
  CK_RETURN_IF_ERROR(ValidateKey(key));
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  CK_RETURN_IF_ERROR(CheckReadRevisionLocked(&at_revision));
  auto not_found = [&] { return NotFound("key " + Quote(key) + " not found"); };
  if (at_revision == current_.load()) {
    auto it = index_.find(key);
    if (it == index_.end()) return not_found();
    return ToKeyValue(it->first, it->second);
  }
  if (at_revision + 1 >= cache_first_) {
    for (size_t i = static_cast<size_t>(at_revision + 1 - cache_first_); i < cache_.size(); ++i) {
      for (const Event& e : cache_[i]->events) {
        if (e.kv.key == key) {
          if (!e.prev_kv) return not_found();
          return *e.prev_kv;
        }
      }
    }
    auto it = index_.find(key);
    if (it == index_.end()) return not_found();
    return ToKeyValue(it->first, it->second);
  }
  lock.unlock();
  CK_ASSIGN_OR_RETURN(RangeResult r, backend_->ReadAt(KeyRange::Single(std::string(key)),
                                                      at_revision, 0, compacted_));
  if (r.kvs.empty()) return not_found();
  return std::move(r.kvs[0]);
}

Result<RangeResult> MvccStore::Range(std::string_view start, std::string_view end,
                                     Revision at_revision, int64_t limit) {
  KeyRange range{std::string(start), std::string(end)};
  CK_RETURN_IF_ERROR(ValidateRange(range));
  if (limit < 0) return BadRequest("limit must not be negative");
  std::shared_lock<std::shared_mutex> lock(state_mu_);
  CK_RETURN_IF_ERROR(CheckReadRevisionLocked(&at_revision));
  if (at_revision == current_.load()) {
    RangeResult r;
    r.revision = at_revision;
    for (auto it = index_.lower_bound(range.start);
         it != index_.end() && (range.end.empty() || it->first < range.end); ++it) {
      ++r.count;
      if (limit == 0 || static_cast<int64_t>(r.kvs.size()) < limit) {
        r.kvs.push_back(ToKeyValue(it->first, it->second));
      }
    }
    r.more = r.count > static_cast<int64_t>(r.kvs.size());
    return r;
  }
  if (at_revision + 1 >= cache_first_) return ReadOldLocked(range, at_revision, limit);
  lock.unlock();
  return backend_->ReadAt(range, at_revision, limit, compacted_);
}

Result<RangeResult> MvccStore::ReadOldLocked(const KeyRange& range, Revision rev,
                                             int64_t limit) const {
  UndoMap undo;
  for (size_t i = static_cast<size_t>(rev + 1 - cache_first_); i < cache_.size(); ++i) {
    AddUndo(*cache_[i], range, &undo);
  }
  std::map<std::string_view, KeyValue> at;
  for (auto it = index_.lower_bound(range.start);
       it != index_.end() && (range.end.empty() || it->first < range.end); ++it) {
    if (undo.count(it->first) == 0) at.emplace(it->first, ToKeyValue(it->first, it->second));
  }
  for (auto& [key, kv] : undo) {
    if (kv) at.emplace(key, *kv);
  }
  RangeResult r;
  r.revision = rev;
  r.count = static_cast<int64_t>(at.size());
  for (auto& [key, kv] : at) {
    if (limit != 0 && static_cast<int64_t>(r.kvs.size()) >= limit) break;
    r.kvs.push_back(std::move(kv));
  }
  r.more = r.count > static_cast<int64_t>(r.kvs.size());
  return r;
}

// ---------------------------------------------------------------------------------------------
// Writes.

// Group commit in the style of LevelDB's writer queue: every caller queues its transaction; the
// first one that finds no commit in progress becomes the leader, takes the whole queue as one
// batch, commits it with one synced write and hands the results back. A lone writer therefore
// commits on its own thread with no hand-off, and concurrent writers share one sync.
Result<TxnResult> MvccStore::Txn(std::vector<Compare> compares, std::vector<Op> on_success,
                                 std::vector<Op> on_failure) {
  for (const Compare& c : compares) CK_RETURN_IF_ERROR(ValidateKey(c.key));
  CK_RETURN_IF_ERROR(ValidateBranch(on_success));
  CK_RETURN_IF_ERROR(ValidateBranch(on_failure));
  PendingTxn txn;
  txn.compares = std::move(compares);
  txn.on_success = std::move(on_success);
  txn.on_failure = std::move(on_failure);
  std::unique_lock<std::mutex> lock(queue_mu_);
  if (closing_) return Unavailable("store is closed");
  queue_.push_back(&txn);
  if (writer_active_) {
    // A leader is committing: it either answers this transaction or hands leadership over to it
    // (it is then first in the queue, and writer_active_ stays set on its behalf).
    lock.unlock();
    txn.wake.acquire();
    if (txn.done) return std::move(*txn.result);
    lock.lock();
  } else {
    writer_active_ = true;
  }
  std::vector<PendingTxn*> batch;
  while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch_txns) {
    batch.push_back(queue_.front());
    queue_.pop_front();
  }
  std::vector<Result<TxnResult>> results;
  if (closing_) {
    results.assign(batch.size(), Result<TxnResult>(Unavailable("store is closed")));
  } else {
    lock.unlock();
    results = CommitBatch(batch);
    lock.lock();
  }
  // batch[0] is this transaction: a fresh leader queued alone, a successor was the queue's front.
  for (size_t i = 0; i < batch.size(); ++i) {
    batch[i]->result = std::move(results[i]);
    batch[i]->done = true;
  }
  PendingTxn* next_leader = nullptr;
  if (!queue_.empty()) {
    next_leader = queue_.front();
  } else {
    writer_active_ = false;
    if (closing_) idle_cv_.notify_all();
  }
  lock.unlock();
  for (size_t i = 1; i < batch.size(); ++i) batch[i]->wake.release();
  if (next_leader) next_leader->wake.release();
  return std::move(*txn.result);
}

std::vector<Result<TxnResult>> MvccStore::CommitBatch(const std::vector<PendingTxn*>& batch) {
  View view(index_);  // only the leader writes index_, so reading it unlocked is safe
  std::vector<Result<TxnResult>> results;
  results.reserve(batch.size());
  std::vector<RevisionEventsPtr> revisions;
  Revision rev = current_.load();
  for (PendingTxn* txn : batch) {
    TxnResult result;
    std::vector<Event> events;
    ExecuteTxn(*txn, view, rev + 1, &result, &events);
    if (!events.empty()) {
      ++rev;
      auto re = std::make_shared<RevisionEvents>();
      re->revision = rev;
      for (const Event& e : events) re->bytes += static_cast<int64_t>(codec::EventBytes(e));
      re->events = std::move(events);
      revisions.push_back(std::move(re));
    }
    result.revision = rev;
    results.push_back(std::move(result));
  }

  Status status;
  if (!revisions.empty()) {
    status = backend_->Commit(revisions);
    batches_.fetch_add(1);
  }
  txns_.fetch_add(batch.size());
  if (!status.ok()) {
    // Reads in this batch may have seen its failed writes, so every transaction fails.
    CK_LOG_ERROR("Store write failed", "err", status.ToString(), "txns",
                 static_cast<int64_t>(batch.size()));
    txn_failures_.fetch_add(batch.size());
    return std::vector<Result<TxnResult>>(batch.size(), Result<TxnResult>(status));
  }
  if (!revisions.empty()) {
    write_txns_.fetch_add(revisions.size());
    Publish(view, revisions);
  }
  return results;
}

void MvccStore::ExecuteTxn(PendingTxn& txn, View& view, Revision write_rev, TxnResult* result,
                           std::vector<Event>* events) {
  bool ok = true;
  for (const Compare& c : txn.compares) {
    const Entry* e = view.Find(c.key);
    KeyValue meta;
    if (e != nullptr) {
      meta.create_revision = e->create_revision;
      meta.mod_revision = e->mod_revision;
      meta.version = e->version;
    }
    if (!c.Holds(e != nullptr ? &meta : nullptr)) {
      ok = false;
      break;
    }
  }
  result->succeeded = ok;
  std::vector<Op>& ops = ok ? txn.on_success : txn.on_failure;
  result->results.resize(ops.size());
  auto erase = [&](const std::string& key, const Entry& prev, OpResult* out) {
    Event ev;
    ev.type = Event::Type::kDelete;
    ev.kv.key = key;
    ev.kv.mod_revision = write_rev;
    ev.prev_kv = ToKeyValue(key, prev);
    out->kvs.push_back(*ev.prev_kv);
    ++out->deleted;
    events->push_back(std::move(ev));
    view.Erase(key);
  };
  for (size_t i = 0; i < ops.size(); ++i) {
    Op& op = ops[i];
    OpResult& out = result->results[i];
    switch (op.type) {
      case Op::Type::kPut: {
        const Entry* prev = view.Find(op.key);
        Event ev;
        ev.type = Event::Type::kPut;
        ev.kv.key = op.key;
        ev.kv.value = op.value;
        ev.kv.mod_revision = write_rev;
        ev.kv.create_revision = prev != nullptr ? prev->create_revision : write_rev;
        ev.kv.version = prev != nullptr ? prev->version + 1 : 1;
        if (prev != nullptr) {
          ev.prev_kv = ToKeyValue(op.key, *prev);
          out.kvs.push_back(*ev.prev_kv);
        }
        view.Set(op.key, Entry{ev.kv.create_revision, write_rev, ev.kv.version,
                               std::move(op.value)});
        events->push_back(std::move(ev));
        break;
      }
      case Op::Type::kDelete: {
        const Entry* prev = view.Find(op.key);
        if (prev != nullptr) erase(op.key, *prev, &out);
        break;
      }
      case Op::Type::kDeleteRange: {
        std::vector<std::pair<std::string, Entry>> doomed;
        view.ForEach(op.range, [&](const std::string& k, const Entry& e) { doomed.emplace_back(k, e); });
        for (auto& [k, e] : doomed) erase(k, e, &out);
        break;
      }
      case Op::Type::kGet: {
        const Entry* e = view.Find(op.key);
        if (e != nullptr) out.kvs.push_back(ToKeyValue(op.key, *e));
        break;
      }
      case Op::Type::kRange:
        view.ForEach(op.range, [&](const std::string& k, const Entry& e) {
          out.kvs.push_back(ToKeyValue(k, e));
        });
        break;
    }
  }
}

void MvccStore::Publish(View& view, std::vector<RevisionEventsPtr>& revisions) {
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    for (auto& [key, entry] : view.overlay()) {
      if (entry) {
        index_.insert_or_assign(key, std::move(*entry));
      } else {
        index_.erase(key);
      }
    }
    for (RevisionEventsPtr& r : revisions) {
      CK_CHECK(r->revision == current_.load() + 1) << "revision " << r->revision << " is not dense";
      cache_bytes_ += r->bytes;
      cache_.push_back(std::move(r));
      current_.store(current_.load() + 1);
    }
    objects_ = static_cast<int64_t>(index_.size());
    TrimCacheLocked();
  }
  Bump(*epoch_);
  RecordRevisionTime(current_.load());
}

void MvccStore::TrimCacheLocked() {
  while (!cache_.empty() && cache_.front()->revision <= compacted_.load()) {
    cache_bytes_ -= cache_.front()->bytes;
    cache_.pop_front();
    ++cache_first_;
  }
  if (all_history_in_memory_) return;
  while (!cache_.empty() &&
         (static_cast<int64_t>(cache_.size()) > options_.history_cache_revisions ||
          cache_bytes_ > options_.history_cache_bytes)) {
    cache_bytes_ -= cache_.front()->bytes;
    cache_.pop_front();
    ++cache_first_;
  }
}

// ---------------------------------------------------------------------------------------------
// Compaction.

Status MvccStore::Compact(Revision revision) { return CompactImpl(revision, false); }

Status MvccStore::CompactImpl(Revision revision, bool automatic) {
  std::lock_guard<std::mutex> serial(compact_mu_);
  {
    std::unique_lock<std::shared_mutex> lock(state_mu_);
    if (revision > current_.load()) return FutureError(revision, current_.load());
    if (revision <= compacted_.load()) return CompactedError(revision, compacted_.load());
    // Readers take their snapshot before checking compacted_, so it moves before any deletion.
    compacted_.store(revision);
    TrimCacheLocked();
    if (cache_.empty()) cache_first_ = std::max(cache_first_, revision + 1);
  }
  MonoTime start = std::chrono::steady_clock::now();
  Status s = backend_->Compact(revision);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  last_compaction_seconds_.store(seconds);
  compactions_.fetch_add(1);
  CK_VLOG(1, "Store compacted", "revision", revision, "automatic", automatic, "seconds", seconds);
  if (!s.ok()) CK_LOG_ERROR("Store compaction failed", "revision", revision, "err", s.ToString());
  return s;
}

void MvccStore::RecordRevisionTime(Revision rev) {
  if (options_.compaction_window.count() <= 0) return;
  Duration granularity = std::min<Duration>(std::chrono::seconds(1), options_.compaction_window / 8);
  MonoTime now = clock_.Monotonic();
  std::lock_guard<std::mutex> lock(samples_mu_);
  if (!samples_.empty() && now - samples_.back().start < granularity) {
    samples_.back().max_revision = rev;
  } else {
    samples_.push_back({now, rev});
  }
}

void MvccStore::TimerLoop() {
  MonoTime last_progress = timer_start_;
  MonoTime last_compaction = timer_start_;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(timer_mu_);
      timer_cv_.wait_for(lock, options_.timer_tick, [&] { return timer_stop_; });
      if (timer_stop_) return;
    }
    MonoTime now = clock_.Monotonic();
    if (options_.progress_notify_interval.count() > 0 &&
        now - last_progress >= options_.progress_notify_interval) {
      last_progress = now;
      RequestProgressFromAll();
    }
    Duration window = options_.compaction_window;
    if (window.count() > 0 && now - last_compaction >= window / 8) {
      // Everything written within the window stays; a bucket's revisions were all written before
      // its start plus the granularity, so a bucket is old enough once that is window ago.
      Duration granularity = std::min<Duration>(std::chrono::seconds(1), window / 8);
      Revision target = 0;
      {
        std::lock_guard<std::mutex> lock(samples_mu_);
        while (samples_.size() > 1 && samples_.front().start + granularity <= now - window) {
          target = std::max(target, samples_.front().max_revision);
          samples_.pop_front();
        }
        if (samples_.size() == 1 && samples_.front().start + granularity <= now - window) {
          target = std::max(target, samples_.front().max_revision);
        }
      }
      if (target > compacted_.load()) {
        last_compaction = now;
        CompactImpl(target, /*automatic=*/true).IgnoreError();  // logged inside
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Watchers.

Result<std::unique_ptr<Watcher>> MvccStore::Watch(WatchRequest request, WatchCallback callback) {
  CK_RETURN_IF_ERROR(ValidateRange(request.range));
  if (request.start_revision < 0) return BadRequest("start revision must not be negative");
  if (!callback) return BadRequest("watch callback must be set");
  auto w = std::make_shared<WatchState>();
  w->epoch = epoch_;
  w->range = std::move(request.range);
  w->progress_notify = request.progress_notify;
  w->callback = std::move(callback);
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    Revision current = current_.load();
    Revision start = request.start_revision == 0 ? current + 1 : request.start_revision;
    if (start > current + 1) return FutureError(start, current);
    if (start <= compacted_.load()) return CompactedError(start, compacted_.load());
    w->next = start;
    w->live = start == current + 1;  // starting at the head counts as caught up
  }
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (closing_) return Unavailable("store is closed");
  }
  {
    std::lock_guard<std::mutex> lock(watchers_mu_);
    w->id = next_watch_id_++;
    watchers_.emplace(w->id, w);
  }
  {
    std::lock_guard<std::mutex> lock(threads_mu_);
    ++running_watch_threads_;
  }
  {
    std::lock_guard<std::mutex> lock(w->join_mu);
    w->thread = std::thread([this, w] { WatchLoop(w); });
  }
  return std::unique_ptr<Watcher>(new WatcherHandle(w));
}

void MvccStore::WatchLoop(std::shared_ptr<WatchState> w) {
  while (true) {
    int seen = epoch_->load();
    if (w->stop.load()) break;
    if (w->closing.load()) {
      CancelWatch(*w, Unavailable("store is closed"), 0);
      break;
    }
    bool progress = w->progress_requested.exchange(false);
    if (!progress && w->next > current_.load()) {
      epoch_->wait(seen);  // returns once anything happened since `seen` was read
      continue;
    }
    PumpResult r = Pump(*w);
    if (r == PumpResult::kCanceled) break;
    if (r == PumpResult::kStopped) continue;  // the loop sees stop or closing at once
    w->live = true;
    if (progress) {
      WatchResponse resp;
      resp.type = WatchResponse::Type::kProgress;
      resp.revision = w->next - 1;
      w->callback(resp);
    }
  }
  {
    std::lock_guard<std::mutex> lock(watchers_mu_);
    watchers_.erase(w->id);
  }
  w->callback = nullptr;  // release what the callback captured while the store is alive
  std::lock_guard<std::mutex> lock(threads_mu_);
  --running_watch_threads_;
  threads_cv_.notify_all();
}

MvccStore::PumpResult MvccStore::Pump(WatchState& w) {
  std::vector<RevisionEventsPtr> chunk;
  while (true) {
    if (w.stop.load() || w.closing.load()) return PumpResult::kStopped;
    chunk.clear();
    Revision read_to = 0;
    {
      std::shared_lock<std::shared_mutex> lock(state_mu_);
      Revision head = current_.load();
      if (w.next > head) return PumpResult::kCaughtUp;
      if (w.next <= compacted_.load()) {
        Revision compacted = compacted_.load();
        lock.unlock();
        CancelWatch(w, CompactedError(w.next, compacted), compacted);
        return PumpResult::kCanceled;
      }
      if (w.next >= cache_first_) {
        if (w.live && head - (w.next - 1) > options_.watcher_max_lag) {
          lock.unlock();
          slow_canceled_.fetch_add(1);
          CancelWatch(w,
                      Unavailable("watcher too slow: " + std::to_string(head - (w.next - 1)) +
                                  " revisions behind (limit " +
                                  std::to_string(options_.watcher_max_lag) + "); resume from " +
                                  std::to_string(w.next)),
                      0);
          return PumpResult::kCanceled;
        }
        for (auto i = static_cast<size_t>(w.next - cache_first_);
             i < cache_.size() && static_cast<int64_t>(chunk.size()) < kPumpChunkRevisions; ++i) {
          chunk.push_back(cache_[i]);
        }
      } else if (w.live) {
        lock.unlock();
        slow_canceled_.fetch_add(1);
        CancelWatch(w,
                    Unavailable("watcher too slow: revision " + std::to_string(w.next) +
                                " left the in-memory history before it was delivered; resume from " +
                                std::to_string(w.next)),
                    0);
        return PumpResult::kCanceled;
      } else {
        read_to = cache_first_ - 1;
      }
    }
    if (chunk.empty()) {
      Status s = backend_->ReadHistory(w.next, read_to, kHistoryReadBytes, compacted_, &chunk);
      if (!s.ok()) {
        CancelWatch(w, s, IsCompacted(s) ? compacted_.load() : 0);
        return PumpResult::kCanceled;
      }
      CK_CHECK(!chunk.empty() && chunk.front()->revision == w.next)
          << "history read from " << w.next << " returned nothing";
    }
    for (const RevisionEventsPtr& r : chunk) {
      if (w.stop.load() || w.closing.load()) return PumpResult::kStopped;
      Deliver(w, *r);
      w.next = r->revision + 1;
    }
  }
}

void MvccStore::Deliver(WatchState& w, const RevisionEvents& rev) {
  WatchResponse resp;
  resp.type = WatchResponse::Type::kEvents;
  resp.revision = rev.revision;
  for (const Event& e : rev.events) {
    if (w.range.Contains(e.kv.key)) resp.events.push_back(e);
  }
  if (resp.events.empty()) return;
  events_delivered_.fetch_add(resp.events.size());
  w.callback(resp);
}

void MvccStore::CancelWatch(WatchState& w, Status status, Revision compact_revision) {
  CK_VLOG(1, "Watch canceled", "id", w.id, "err", status.ToString());
  WatchResponse resp;
  resp.type = WatchResponse::Type::kCanceled;
  resp.revision = w.next - 1;
  resp.status = std::move(status);
  resp.compact_revision = compact_revision;
  w.callback(resp);
}

void MvccStore::RequestProgressFromAll() {
  {
    std::lock_guard<std::mutex> lock(watchers_mu_);
    for (auto& [id, w] : watchers_) {
      if (w->progress_notify) w->progress_requested.store(true);
    }
  }
  Bump(*epoch_);
}

// ---------------------------------------------------------------------------------------------
// Metrics.

StoreStats MvccStore::Stats() const {
  StoreStats s;
  s.apiserver_storage_objects = objects_.load();
  s.apiserver_storage_db_total_size_in_bytes = backend_->SizeBytes();
  s.ck_store_revision = current_.load();
  s.ck_store_compacted_revision = compacted_.load();
  {
    std::lock_guard<std::mutex> lock(watchers_mu_);
    s.ck_store_watchers = static_cast<int64_t>(watchers_.size());
  }
  {
    std::shared_lock<std::shared_mutex> lock(state_mu_);
    s.ck_store_history_revisions_in_memory = static_cast<int64_t>(cache_.size());
  }
  s.ck_store_txns_total = txns_.load();
  s.ck_store_write_txns_total = write_txns_.load();
  s.ck_store_txn_failures_total = txn_failures_.load();
  s.ck_store_write_batches_total = batches_.load();
  s.ck_store_fsyncs_total = backend_->Fsyncs();
  s.ck_store_compactions_total = compactions_.load();
  s.ck_store_slow_watchers_canceled_total = slow_canceled_.load();
  s.ck_store_watch_events_total = events_delivered_.load();
  s.ck_store_last_compaction_seconds = last_compaction_seconds_.load();
  return s;
}

}  // namespace ck::store
