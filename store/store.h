// Store: the MVCC key-value store under the API server (the role etcd plays in Kubernetes).
//
// One global revision counter; every key carries create_revision, mod_revision and version; a
// history of revisions feeds watches and reads at past revisions until it is compacted. Two
// implementations: RocksDbStore (rocksdb_store.h, durable, in-process in ck-apiserver) and
// MemoryStore (memory_store.h, for fast unit tests of code above the store).
//
// Semantics every implementation keeps (each one is tested in store_test.cc):
//  1. The revision grows by exactly one per successful write transaction, i.e. per Txn that
//     changes at least one key. A Txn whose compares fail, that only reads, or whose deletes match
//     nothing leaves the revision unchanged. Revisions are dense: 1, 2, 3, ...
//  2. All events of one transaction share its revision and are delivered to a watcher in one
//     WatchResponse, in the order of the transaction's operations.
//  3. A watch delivers events in revision order with no gaps and no duplicates; it can start (or
//     resume) from any revision above the compacted revision. Starting at or below the compacted
//     revision fails with Code::kGone and a message containing "compacted" (IsCompacted()), which
//     the API server turns into 410 Gone. Starting more than one past the current revision fails
//     with kBadRequest ("required revision is a future revision").
//  4. Progress notifications (on request, or periodically with WatchRequest::progress_notify)
//     carry a revision R such that every event with revision <= R has been delivered: a watcher
//     learns the current revision when nothing changes (Kubernetes watch bookmarks).
//  5. Writes never wait for watchers. Each watcher runs its callback on its own thread; a watcher
//     that has caught up once and then falls more than StoreOptions::watcher_max_lag revisions
//     behind (or out of the in-memory history) is cancelled with kUnavailable ("watcher too
//     slow", IsSlowWatcher()) and the last revision it was given, so it can resume from the next.
//     A watcher that starts far back catches up from the history on disk at its own pace.
//  6. Durability (RocksDbStore): a Txn returns only after its batch is in the WAL and the WAL was
//     synced. Concurrent writers share syncs (group commit). IO errors and a full disk make writes
//     fail with kUnavailable; nothing half-written becomes visible.
//  7. Compact(c): history with revision <= c is dropped. Reads at revision >= c still work; reads
//     below c and watches from revision <= c fail with kGone.
// Keys are non-empty byte strings, values opaque bytes. Ranges are half-open [start, end); an
// empty end means "no upper bound".
// Threading: every method of Store is safe to call from any thread, except that a Store must not
// be destroyed from inside a watch callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::store {

using Revision = int64_t;

// A value's bytes, immutable once written and shared by reference: the index, the history cache,
// watch events, transaction results and the API server's watch cache all hold the same copy of
// an object (three to four copies of every recently written object before, most of ck-apiserver's
// memory at scale). Reads as a `const std::string&`.
class Bytes {
 public:
  Bytes() = default;
  Bytes(std::string s) : p_(s.empty() ? nullptr : std::make_shared<const std::string>(std::move(s))) {}
  Bytes(const char* s) : Bytes(std::string(s)) {}
  Bytes(std::string_view s) : Bytes(std::string(s)) {}

  const std::string& str() const { return p_ ? *p_ : Empty(); }
  operator const std::string&() const { return str(); }
  operator std::string_view() const { return str(); }
  const char* data() const { return str().data(); }
  size_t size() const { return p_ ? p_->size() : 0; }
  bool empty() const { return size() == 0; }
  // The shared bytes themselves (never null: an empty value shares one empty string).
  std::shared_ptr<const std::string> shared() const;

  // One exact overload per kind of right-hand side, so that no comparison needs a conversion.
  friend bool operator==(const Bytes& a, const Bytes& b) { return a.str() == b.str(); }
  friend bool operator==(const Bytes& a, const std::string& b) { return a.str() == b; }
  friend bool operator==(const Bytes& a, std::string_view b) { return std::string_view(a.str()) == b; }
  friend bool operator==(const Bytes& a, const char* b) { return a.str() == b; }
  friend std::ostream& operator<<(std::ostream& o, const Bytes& b) { return o << b.str(); }

 private:
  static const std::string& Empty();
  std::shared_ptr<const std::string> p_;
};

struct KeyValue {
  std::string key;
  Bytes value;
  Revision create_revision = 0;  // revision of the transaction that created the key
  Revision mod_revision = 0;     // revision of the last change
  int64_t version = 0;           // number of puts since creation (1 after the create)
  friend bool operator==(const KeyValue&, const KeyValue&) = default;
};

struct Event {
  enum class Type : uint8_t { kPut = 0, kDelete = 1 };
  Type type = Type::kPut;
  // kPut: the new key-value. kDelete: key and mod_revision (the deleting revision); the rest zero.
  KeyValue kv;
  // The key-value just before this event; empty when the event created the key.
  std::optional<KeyValue> prev_kv;
  friend bool operator==(const Event&, const Event&) = default;
};

// A half-open key range [start, end). An empty end means every key >= start.
struct KeyRange {
  std::string start;
  std::string end;

  static KeyRange Single(std::string key);     // exactly `key`
  static KeyRange Prefix(std::string prefix);  // every key starting with `prefix`
  bool Contains(std::string_view key) const;
};

// The smallest key greater than every key with this prefix ("" if there is none: "\xff\xff").
std::string PrefixEnd(std::string_view prefix);

// True for the error a read or watch gets at a compacted revision (410 Gone upstream).
bool IsCompacted(const Status& status);
// True for the error that cancels a watcher that fell too far behind.
bool IsSlowWatcher(const Status& status);

struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key, at most `limit` of them
  int64_t count = 0;          // number of keys in the range at that revision, ignoring the limit
  bool more = false;          // true when kvs holds fewer than count keys
  Revision revision = 0;      // the revision the read was served at
};

// One test of a transaction's guard. A missing key has version, create and mod revision 0.
struct Compare {
  enum class Target : uint8_t { kVersion, kCreateRevision, kModRevision };
  enum class Result : uint8_t { kEqual, kNotEqual, kLess, kGreater };
  std::string key;
  Target target = Target::kModRevision;
  Result result = Result::kEqual;
  int64_t operand = 0;

  static Compare ModRevisionIs(std::string key, Revision rev);  // optimistic concurrency
  static Compare VersionIs(std::string key, int64_t version);
  static Compare Exists(std::string key);     // version > 0
  static Compare NotExists(std::string key);  // version == 0
  bool Holds(const KeyValue* kv) const;       // kv == nullptr: the key is absent
};

// One operation of a transaction branch. A key may be put at most once per branch, and not also
// deleted in the same branch.
struct Op {
  enum class Type : uint8_t { kPut, kDelete, kDeleteRange, kGet, kRange };
  Type type = Type::kGet;
  std::string key;    // kPut, kDelete, kGet
  Bytes value;        // kPut
  KeyRange range;     // kDeleteRange, kRange

  static Op Put(std::string key, std::string value);
  static Op Delete(std::string key);
  static Op DeleteRange(KeyRange range);
  static Op Get(std::string key);
  static Op Range(KeyRange range);
};

struct OpResult {
  int64_t deleted = 0;  // kDelete, kDeleteRange: number of keys removed
  // kPut: the previous key-value if there was one; kDelete/kDeleteRange: the removed key-values;
  // kGet/kRange: the key-values read (after the earlier operations of the same branch).
  std::vector<KeyValue> kvs;
};

struct TxnResult {
  bool succeeded = false;  // all compares held, so on_success ran
  // The revision after the transaction: its own revision if it wrote, else the current one.
  Revision revision = 0;
  std::vector<OpResult> results;  // one per operation of the branch that ran
};

struct WatchRequest {
  KeyRange range;
  // First revision to deliver (inclusive). 0 means "from now": CurrentRevision() + 1.
  Revision start_revision = 0;
  // Send a progress notification every StoreOptions::progress_notify_interval.
  bool progress_notify = false;
};

struct WatchResponse {
  enum class Type : uint8_t { kEvents, kProgress, kCanceled };
  Type type = Type::kEvents;
  // kEvents: the revision of every event in `events` (one transaction).
  // kProgress: every event with revision <= `revision` has been delivered.
  // kCanceled: the last revision delivered; resume from revision + 1.
  Revision revision = 0;
  std::vector<Event> events;
  Status status;                 // kCanceled: why (kGone when compacted, kUnavailable otherwise)
  Revision compact_revision = 0;  // kCanceled by compaction: the compacted revision
};

// Called on the watcher's own thread, one response at a time, in order. After a kCanceled
// response no more calls follow. A callback may block (only its own watcher waits) and may call
// the Store, but must not destroy the Store.
using WatchCallback = std::function<void(const WatchResponse&)>;

// A running watch. Destroying it stops delivery: once the destructor returns, no callback runs
// (destroying it from inside its own callback is allowed; then that callback is the last one).
class Watcher {
 public:
  virtual ~Watcher() = default;
  // Asks for a kProgress response as soon as the watcher has delivered everything up to the
  // current revision.
  virtual void RequestProgress() = 0;
};

// Counters and gauges, named after the Prometheus metrics they feed.
struct StoreStats {
  int64_t apiserver_storage_objects = 0;                // keys stored now
  int64_t apiserver_storage_db_total_size_in_bytes = 0;  // on-disk size (0 for MemoryStore)
  int64_t ck_store_revision = 0;
  int64_t ck_store_compacted_revision = 0;
  int64_t ck_store_watchers = 0;
  int64_t ck_store_history_revisions_in_memory = 0;
  uint64_t ck_store_txns_total = 0;          // transactions answered (any outcome)
  uint64_t ck_store_write_txns_total = 0;    // transactions that created a revision
  uint64_t ck_store_txn_failures_total = 0;  // transactions failed by the store (IO, shutdown)
  uint64_t ck_store_write_batches_total = 0;  // group commits written
  uint64_t ck_store_fsyncs_total = 0;        // WAL syncs, as counted by RocksDB
  uint64_t ck_store_compactions_total = 0;
  uint64_t ck_store_slow_watchers_canceled_total = 0;
  uint64_t ck_store_watch_events_total = 0;  // events handed to watch callbacks
  double ck_store_last_compaction_seconds = 0;
};

struct StoreOptions {
  Clock* clock = &RealClock::Get();
  // Automatic compaction keeps at least this much history (by write time; the API server's
  // default is 5 minutes); it runs at most every window / 8. 0 disables it.
  Duration compaction_window = std::chrono::minutes(5);
  // Period of progress notifications for watchers that asked for them.
  Duration progress_notify_interval = std::chrono::seconds(10);
  // Recent history kept in memory for fast watch start and old reads (the API server's watch
  // cache follows the head and keeps its own history). MemoryStore keeps all history (until
  // compacted) regardless.
  int64_t history_cache_revisions = 100'000;
  int64_t history_cache_bytes = 16 << 20;
  // A live watcher further behind than this many revisions is cancelled as too slow.
  int64_t watcher_max_lag = 20'000;
  // At most this many transactions share one WAL sync.
  int max_batch_txns = 1024;
  // How often (real time) the timer thread looks at `clock` for compaction and progress.
  std::chrono::milliseconds timer_tick{20};
};

class Store {
 public:
  virtual ~Store() = default;

  // The key at `at_revision` (0 = now). NotFound if absent then; kGone if compacted;
  // kBadRequest for an empty key or a future revision.
  virtual Result<KeyValue> Get(std::string_view key, Revision at_revision = 0) = 0;

  // Keys in [start, end) from one consistent snapshot at `at_revision` (0 = now), at most `limit`
  // (0 = no limit). kBadRequest for an empty start, end < start, or a future revision.
  virtual Result<RangeResult> Range(std::string_view start, std::string_view end,
                                    Revision at_revision = 0, int64_t limit = 0) = 0;

  // If every compare holds, runs on_success, else on_failure, atomically. Returns when durable.
  // kBadRequest for invalid input; kUnavailable when the write could not be made durable (the
  // transaction then did not happen) or the store is closing.
  virtual Result<TxnResult> Txn(std::vector<Compare> compares, std::vector<Op> on_success,
                                std::vector<Op> on_failure) = 0;

  // Starts a watch (see the semantics above). Delivery starts at once on the watcher's own thread,
  // possibly before Watch returns. Errors: kBadRequest (bad range, future revision), kGone
  // (compacted start revision), kUnavailable (store closing).
  virtual Result<std::unique_ptr<Watcher>> Watch(WatchRequest request, WatchCallback callback) = 0;

  // Drops history with revision <= `revision`. kGone if already compacted at or past it,
  // kBadRequest for a future revision.
  virtual Status Compact(Revision revision) = 0;

  virtual Revision CurrentRevision() const = 0;
  virtual Revision CompactedRevision() const = 0;
  virtual StoreStats Stats() const = 0;

  // Conveniences over Txn. Put returns the new revision; Delete returns the deleting revision or
  // NotFound.
  Result<Revision> Put(std::string key, std::string value);
  Result<Revision> Delete(std::string key);
};

}  // namespace ck::store
