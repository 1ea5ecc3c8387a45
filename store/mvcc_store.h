// MvccStore: the engine shared by RocksDbStore and MemoryStore, over a small persistence seam.
//
// It owns the in-memory index of current keys, the recent history cache, the group commit (the
// first waiting caller leads: it evaluates every queued transaction against the index plus the
// batch's own changes, persists the batch with one Backend::Commit, then publishes it), one thread
// per watcher (woken through one shared atomic epoch), and a timer thread for automatic
// compaction and periodic progress notifications. The Backend makes revisions durable and serves history
// older than the cache. See store.h for the contract and README.md for the design.
// Threading: see store.h; the Backend is called by the commit leader (Commit), by compaction
// (Compact) and by readers (ReadHistory, ReadAt) concurrently.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "store/store.h"

namespace ck::store {

// The events of one revision, immutable once published.
struct RevisionEvents {
  Revision revision = 0;
  std::vector<Event> events;
  int64_t bytes = 0;  // approximate memory, for the cache bound
};
using RevisionEventsPtr = std::shared_ptr<const RevisionEvents>;

// Persistence under MvccStore (the seam between RocksDbStore and MemoryStore).
class Backend {
 public:
  struct Loaded {
    std::vector<KeyValue> kvs;  // the current value of every key
    Revision current = 0;
    Revision compacted = 0;
    // The newest revisions, ascending, dense, ending at `current` (possibly empty).
    std::vector<RevisionEventsPtr> recent;
  };

  virtual ~Backend() = default;
  // Reads the state at start-up, with at most the given amount of recent history.
  virtual Result<Loaded> Load(int64_t max_revisions, int64_t max_bytes) = 0;
  // Makes `revisions` (ascending, dense, following the last committed one) durable. Called by
  // the commit leader only (one at a time). On failure nothing of the batch may become visible after a restart.
  virtual Status Commit(const std::vector<RevisionEventsPtr>& revisions) = 0;
  // Persists a compaction: history with revision <= `revision` is dropped.
  virtual Status Compact(Revision revision) = 0;
  // Appends revisions [from, to] to `out`, ascending, stopping once `max_bytes` were read (at
  // least one revision). kGone if `from` <= `compacted` once the backend holds a snapshot.
  virtual Status ReadHistory(Revision from, Revision to, int64_t max_bytes,
                             const std::atomic<Revision>& compacted,
                             std::vector<RevisionEventsPtr>* out) = 0;
  // Keys in `range` at revision `rev`, from one snapshot; kGone if rev < `compacted` then.
  virtual Result<RangeResult> ReadAt(const KeyRange& range, Revision rev, int64_t limit,
                                     const std::atomic<Revision>& compacted) = 0;
  virtual int64_t SizeBytes() = 0;
  virtual uint64_t Fsyncs() = 0;
  // True when every revision above the compacted one stays in memory (no history on disk).
  virtual bool KeepsAllHistoryInMemory() const = 0;
};

class MvccStore final : public Store {
 public:
  // Loads the backend's state and starts the threads.
  static Result<std::unique_ptr<Store>> Create(std::unique_ptr<Backend> backend,
                                               StoreOptions options);
  ~MvccStore() override;

  Result<KeyValue> Get(std::string_view key, Revision at_revision) override;
  Result<RangeResult> Range(std::string_view start, std::string_view end, Revision at_revision,
                            int64_t limit) override;
  Result<TxnResult> Txn(std::vector<Compare> compares, std::vector<Op> on_success,
                        std::vector<Op> on_failure) override;
  Result<std::unique_ptr<Watcher>> Watch(WatchRequest request, WatchCallback callback) override;
  Status Compact(Revision revision) override;
  Revision CurrentRevision() const override { return current_.load(); }
  Revision CompactedRevision() const override { return compacted_.load(); }
  StoreStats Stats() const override;

 private:
  struct Entry {
    Revision create_revision = 0;
    Revision mod_revision = 0;
    int64_t version = 0;
    Bytes value;
  };
  using Index = std::map<std::string, Entry, std::less<>>;
  struct PendingTxn;
  struct WatchState;
  class WatcherHandle;
  class View;
  enum class PumpResult { kCaughtUp, kCanceled, kStopped };

  MvccStore(std::unique_ptr<Backend> backend, StoreOptions options);
  Status Load();

  // Reads.
  Status CheckReadRevisionLocked(Revision* rev) const;
  Result<RangeResult> ReadOldLocked(const KeyRange& range, Revision rev, int64_t limit) const;

  // Writes (run by the leader of the group commit).
  std::vector<Result<TxnResult>> CommitBatch(const std::vector<PendingTxn*>& batch);
  void ExecuteTxn(PendingTxn& txn, View& view, Revision write_rev, TxnResult* result,
                  std::vector<Event>* events);
  void Publish(View& view, std::vector<RevisionEventsPtr>& revisions);
  void TrimCacheLocked();

  // Watchers.
  void WatchLoop(std::shared_ptr<WatchState> w);
  PumpResult Pump(WatchState& w);
  void Deliver(WatchState& w, const RevisionEvents& rev);
  void CancelWatch(WatchState& w, Status status, Revision compact_revision);
  void RequestProgressFromAll();

  // Timer thread: automatic compaction and periodic progress notifications.
  void TimerLoop();
  void RecordRevisionTime(Revision rev);
  Status CompactImpl(Revision revision, bool automatic);

  const StoreOptions options_;
  Clock& clock_;
  std::unique_ptr<Backend> backend_;
  const bool all_history_in_memory_;

  // The current state. Written only by the commit leader (and compaction for the cache).
  mutable std::shared_mutex state_mu_;
  Index index_;                          // guarded by state_mu_
  std::deque<RevisionEventsPtr> cache_;  // guarded by state_mu_: revisions cache_first_..current_
  Revision cache_first_ = 1;             // guarded by state_mu_
  int64_t cache_bytes_ = 0;              // guarded by state_mu_
  std::atomic<Revision> current_{0};     // written under state_mu_ (exclusive)
  std::atomic<Revision> compacted_{0};   // written under state_mu_ (exclusive)

  // Transactions waiting for the group commit.
  std::mutex queue_mu_;
  std::condition_variable idle_cv_;    // signalled when closing and a commit ends
  std::deque<PendingTxn*> queue_;      // guarded by queue_mu_
  bool writer_active_ = false;         // guarded by queue_mu_: a leader is committing
  bool closing_ = false;               // guarded by queue_mu_

  // Watchers.
  mutable std::mutex watchers_mu_;
  std::unordered_map<int64_t, std::shared_ptr<WatchState>> watchers_;  // guarded by watchers_mu_
  int64_t next_watch_id_ = 1;                                          // guarded by watchers_mu_
  std::mutex threads_mu_;
  std::condition_variable threads_cv_;
  int running_watch_threads_ = 0;  // guarded by threads_mu_

  // Bumped (and waited on) to wake watcher threads; shared with their handles.
  std::shared_ptr<std::atomic<int>> epoch_ = std::make_shared<std::atomic<int>>(0);

  // Timer.
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_stop_ = false;  // guarded by timer_mu_
  MonoTime timer_start_;     // set before the timer thread starts
  struct TimeBucket {
    MonoTime start;
    Revision max_revision;
  };
  std::mutex samples_mu_;
  std::deque<TimeBucket> samples_;  // guarded by samples_mu_: when revisions were written
  std::mutex compact_mu_;           // serializes compactions

  // Counters.
  std::atomic<uint64_t> txns_{0}, write_txns_{0}, txn_failures_{0}, batches_{0};
  std::atomic<uint64_t> compactions_{0}, slow_canceled_{0}, events_delivered_{0};
  std::atomic<int64_t> objects_{0};
  std::atomic<double> last_compaction_seconds_{0};

  std::thread timer_;
};

}  // namespace ck::store
