// WatchCache: every object under /registry/ in memory, kept current by one store watch, so that
// lists and watches are served without touching RocksDB (upstream's watch cache, one for all
// resources).
//
// - Start() reads everything at one revision, then follows the store's watch from the next one.
// - List(prefix) serves objects in key order at the cache's revision; Get(key) one object.
// - Watch(prefix, from) replays buffered events after `from` (or synthetic ADDED events for the
//   current state), then streams live ones, in revision order, with no gaps. A `from` older than
//   the buffered history fails with kGone ("too old resource version"), which becomes 410 Expired.
// - A watch with a filter sees an object that stops matching as DELETED and one that starts
//   matching as ADDED, as upstream does for label and field selectors.
// - Each object's JSON is encoded once, on first use, and shared by every reader.
// Threading: all methods are safe from any thread. Watch sinks run on the cache's dispatch thread
// (the store watch thread) while it holds the cache lock: they must not block and must not call
// back into the cache.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "apiserver/object.h"
#include "apiserver/resources.h"
#include "common/api/label_selector.h"
#include "common/base/clock.h"
#include "store/store.h"

namespace ck::apiserver {

// One object as the cache holds it: the store's bytes, its labels, and its JSON once encoded.
// The decoded object is not kept: at ~11 KB per pod it was most of the apiserver's memory at
// scale (upstream keeps it; its Go objects are smaller). object() hands out a live decoded copy
// when someone holds one (the cache pins the object it has just applied while it dispatches the
// event) and decodes the bytes again otherwise (~6 us for a pod); callers keep the returned
// pointer while they use the object.
class CachedObject {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by key

  // `object` is `stored` decoded at `revision` (its resourceVersion); it stays pinned until Unpin()
  // (for the few small resources that every write reads, such as namespaces, for good).
  CachedObject(const ResourceInfo* resource, std::string key, int64_t revision, std::shared_ptr<const Message> object,
               std::shared_ptr<const std::string> stored);
  const ResourceInfo& resource() const { return *resource_; }
  const std::string& key() const { return key_; }
  int64_t revision() const { return revision_; }
  // metadata.name and metadata.namespace ("" when cluster-scoped), from the key.
  std::string_view name() const;
  std::string_view namespace_() const;
  const Labels& labels() const { return labels_; }
  bool MatchesLabels(const api::LabelSelector& selector) const;
  // The decoded object (see above). Never null.
  std::shared_ptr<const Message> object() const;
  // Drops the pinned decoded object; later object() calls share a live copy or decode.
  void Unpin() const;
  // Kubernetes JSON with kind and apiVersion, encoded on first use.
  const std::string& Json() const;
  // The store's bytes the object was decoded from.
  const std::shared_ptr<const std::string>& stored() const { return stored_; }

 private:
  const ResourceInfo* resource_;
  std::string key_;
  int64_t revision_;
  std::shared_ptr<const std::string> stored_;
  Labels labels_;
  size_t name_pos_ = 0;  // where the name starts in key_
  bool kept_decoded_;
  mutable std::mutex mu_;
  mutable std::shared_ptr<const Message> pinned_;  // guarded by mu_
  mutable std::weak_ptr<const Message> live_;      // guarded by mu_
  mutable std::once_flag json_once_;
  mutable std::string json_;
};
using ObjectPtr = std::shared_ptr<const CachedObject>;

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark };
std::string_view WatchEventTypeName(WatchEventType t);  // "ADDED", ...

struct CacheEvent {
  WatchEventType type = WatchEventType::kAdded;
  int64_t revision = 0;
  ObjectPtr object;  // the object as of this event (for DELETED: its last state at `revision`)
  ObjectPtr prev;    // the object before this event, if any
};

using ObjectFilter = std::function<bool(const CachedObject&)>;

struct CacheWatchOptions {
  std::string prefix;           // key prefix, e.g. "/registry/pods/default/"
  int64_t from_revision = 0;    // deliver events with revision > from_revision
  bool send_initial = false;    // first, ADDED for every current matching object (then live)
  ObjectFilter filter;          // empty = everything under the prefix
  bool bookmarks = false;       // receive periodic kBookmark events
};

// Receives one event; returns false to end the watch (no further calls).
using WatchSink = std::function<bool(const CacheEvent&)>;

class CacheWatch {
 public:
  virtual ~CacheWatch() = default;  // ends the watch; no sink call runs after it returns
};

struct WatchCacheOptions {
  std::string root = "/registry/";
  // The buffered history holds at most `history_events` events, and drops events older than
  // `event_fresh_duration` once it holds more than `min_history_events` (upstream sizes its
  // buffer to hold eventFreshDuration = 75 s of events the same way). A watch resuming from an
  // older revision gets 410 Expired and relists.
  size_t history_events = 100'000;
  size_t min_history_events = 1'000;
  Duration event_fresh_duration = std::chrono::seconds(75);
  Clock* clock = &RealClock::Get();
  Duration bookmark_interval = std::chrono::seconds(60);
};

class WatchCache {
 public:
  WatchCache(store::Store* store, WatchCacheOptions options = {});
  ~WatchCache();

  // Loads the current state and starts following the store. Fails if the store cannot be read.
  Status Start();

  int64_t revision() const;
  // Blocks until the cache has applied `revision`; kTimeout after `timeout`.
  Status WaitFor(int64_t revision, std::chrono::milliseconds timeout);
  // Waits until the cache holds everything the store has acknowledged (a consistent read).
  Status Sync(std::chrono::milliseconds timeout = std::chrono::seconds(3));

  struct ListResult {
    std::vector<ObjectPtr> objects;  // key order
    int64_t revision = 0;            // the cache revision the list was taken at
    bool more = false;               // stopped at `limit` with more matching objects left
    int64_t remaining = 0;           // matching objects after the last returned one (-1: not counted)
  };
  // Objects under `prefix` that pass `filter`, starting after `after_key`, at most `limit` (0 = all).
  ListResult List(std::string_view prefix, const ObjectFilter& filter, int64_t limit = 0,
                  std::string_view after_key = {}) const;
  // The same at an earlier `revision`, read from the store's history: the next page of a
  // paginated list is served from the snapshot of its first page, as upstream's continue tokens
  // are (etcd reads at the token's revision). kGone once that revision is compacted. With a
  // filter, `remaining` is not counted (-1), as upstream omits remainingItemCount then.
  Result<ListResult> ListAt(int64_t revision, std::string_view prefix, const ObjectFilter& filter, int64_t limit,
                            std::string_view after_key) const;
  ObjectPtr Get(std::string_view key) const;
  size_t size() const;
  // Oldest revision a watch can resume from (events after it are buffered).
  int64_t oldest_resumable_revision() const;

  Result<std::unique_ptr<CacheWatch>> Watch(CacheWatchOptions options, WatchSink sink);

 private:
  struct Watcher;
  class WatchHandle;
  // A buffered event as kept for watches that resume from an older revision: the store's bytes
  // of the object at the event (and of its state before, for selector transitions), decoded
  // again only when a watch replays it. Decoded objects with their JSON here held most of the
  // apiserver's memory at 30,000 pods (100,000 events of ~8 KB against ~1.5 KB of bytes).
  struct HistoryEvent {
    WatchEventType type = WatchEventType::kAdded;
    int64_t revision = 0;
    const ResourceInfo* resource = nullptr;
    std::string key;
    std::shared_ptr<const std::string> object;  // for kDeleted: the last state before the delete
    std::shared_ptr<const std::string> prev;    // null: the key had no object before
    int64_t prev_revision = 0;
    MonoTime at;  // when the cache applied it
  };
  // The CacheEvent a replay delivers; `with_prev` decodes the previous state too.
  CacheEvent Materialize(const HistoryEvent& h, bool with_prev) const;
  void OnStoreEvents(const store::WatchResponse& response);
  // One event under a served resource `r`; `decoded` is the put's object, decoded outside the
  // lock (null for a delete).
  void Apply(const store::Event& event, int64_t revision, const ResourceInfo* r, std::shared_ptr<Message> decoded);
  void Dispatch(const CacheEvent& event);
  bool Deliver(Watcher& w, const CacheEvent& event);
  void RemoveWatcher(Watcher* w);
  void BookmarkLoop();
  const ResourceInfo* ResourceForKey(std::string_view key) const;
  Status StartStoreWatch(int64_t from);

  store::Store* store_;
  WatchCacheOptions options_;
  std::vector<std::pair<std::string, const ResourceInfo*>> prefixes_;  // longest first

  mutable std::mutex mu_;
  std::condition_variable revision_cv_;
  std::condition_variable stop_cv_;  // the bookmark loop sleeps on it (woken only to stop)
  std::map<std::string, ObjectPtr, std::less<>> objects_;  // guarded by mu_
  std::deque<HistoryEvent> history_;                       // guarded by mu_
  int64_t revision_ = 0;                                   // guarded by mu_
  int64_t history_start_ = 0;  // guarded by mu_: events with revision > history_start_ are buffered
  std::list<std::shared_ptr<Watcher>> watchers_;           // guarded by mu_
  bool stopping_ = false;                                  // guarded by mu_
  std::unique_ptr<store::Watcher> store_watch_;
  std::thread bookmark_thread_;
};

}  // namespace ck::apiserver
