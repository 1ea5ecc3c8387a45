// SharedIndexInformer: one reflector, one indexer and many handlers for one resource (client-go's
// cache.SharedIndexInformer). The reflector lists and watches into a DeltaQueue; the processing
// thread applies each delta to the indexer and hands the matching notification to every handler's
// own buffer; each handler runs on its own thread, so a slow handler delays only itself.
//   OnAdd(obj, is_initial_list)  OnUpdate(old, new)  OnDelete(obj or DeletedFinalStateUnknown)
// Per handler, notifications arrive in the order of the server's changes. A handler added after
// the informer has synced first receives an OnAdd (is_initial_list = true) for every cached object.
// A relist delivers OnAdd/OnUpdate for what is new or changed and a tombstone OnDelete for what is
// gone; objects whose resourceVersion did not change are not re-delivered. With a resync period,
// every cached object is re-delivered as OnUpdate(obj, obj) at that interval, on the Clock.
// Threading: all methods are safe from any thread. Handlers must not block for long (they delay
// their own buffer only) and must not mutate the objects they receive.
#pragma once

#include <atomic>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/api_client.h"
#include "common/client/cache/delta_queue.h"
#include "common/client/cache/indexer.h"
#include "common/client/cache/reflector.h"
#include "common/client/cache/store.h"

namespace ck::client {

// Callbacks of one handler; unset ones are skipped. Called from the handler's own thread.
struct EventHandler {
  std::function<void(const ObjectPtr& obj, bool is_initial_list)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const DeletedObject& obj)> on_delete;
};

namespace internal {
class ProcessorListener;
}

// Identifies a handler; HasSynced() turns true once the handler has been called for everything the
// informer held when it synced (or, for a late handler, for the synthetic adds).
class HandlerRegistration {
 public:
  HandlerRegistration() = default;
  bool HasSynced() const;

 private:
  friend class SharedIndexInformer;
  explicit HandlerRegistration(std::shared_ptr<internal::ProcessorListener> l) : listener_(std::move(l)) {}
  std::shared_ptr<internal::ProcessorListener> listener_;
};

struct InformerOptions {
  ReflectorOptions list_watch;  // namespace, selectors, metadata_only, page size, backoff
  Duration resync_period{0};    // default for handlers; 0 = no resync
  Indexers indexers = DefaultIndexers();
};

class SharedIndexInformer {
 public:
  // `client`, `clock` and `random` must outlive the informer.
  SharedIndexInformer(ApiClient& client, ResourceInfo resource, Clock& clock, Random& random,
                      InformerOptions options = {});
  ~SharedIndexInformer();  // Stop()
  SharedIndexInformer(const SharedIndexInformer&) = delete;
  SharedIndexInformer& operator=(const SharedIndexInformer&) = delete;

  // Adds a handler with the informer's resync period (or `resync_period`; at least 1 s, 0 = none).
  HandlerRegistration AddEventHandler(EventHandler handler);
  HandlerRegistration AddEventHandler(EventHandler handler, Duration resync_period);
  // Stops calling the handler; notifications not yet delivered to it are dropped.
  void RemoveEventHandler(const HandlerRegistration& registration);
  // Adds indexes (see Indexer::AddIndexers).
  Status AddIndexers(Indexers indexers) { return indexer_.AddIndexers(std::move(indexers)); }

  // Starts the reflector, processing and handler threads. Once only; Start after Stop does nothing.
  void Start();
  // Stops every thread of the informer and joins them; undelivered notifications are dropped.
  void Stop();

  // True once the first list has been applied to the indexer and handed to the handlers.
  bool HasSynced() const { return synced_.load(); }
  bool IsStarted() const { return started_.load(); }
  bool IsStopped() const { return stopped_.load(); }

  // The cache; read it freely (listers), but only the informer writes it.
  const Indexer& GetIndexer() const { return indexer_; }
  const ResourceInfo& resource() const { return resource_; }
  const InformerOptions& options() const { return options_; }
  // The resourceVersion of the reflector's last list, event or bookmark (may be ahead of the indexer).
  std::string LastSyncResourceVersion() const { return reflector_.LastSyncResourceVersion(); }
  Reflector::Stats reflector_stats() const { return reflector_.stats(); }

  // `wakeup` is notified when the informer syncs or stops (used by WaitForCacheSync).
  void AddSyncWaiter(Wakeup* wakeup);
  void RemoveSyncWaiter(Wakeup* wakeup);

 private:
  void ProcessLoop();
  void ApplyLocked(Delta delta);
  void ApplyReplaceLocked(std::vector<ObjectPtr> objects, std::string resource_version);
  void ResyncDueLocked();
  std::optional<MonoTime> NextResyncLocked() const;
  void NotifySyncWaiters();

  const ResourceInfo resource_;
  Clock& clock_;
  const InformerOptions options_;
  Indexer indexer_;
  DeltaQueue queue_;
  Reflector reflector_;

  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> synced_{false};
  std::thread processor_;

  // Held while a delta is applied and distributed, and while a handler joins: a late handler sees
  // the cache exactly between two deltas.
  mutable std::mutex process_mu_;
  std::vector<std::shared_ptr<internal::ProcessorListener>> listeners_;  // guarded by process_mu_

  std::mutex waiters_mu_;
  std::vector<Wakeup*> sync_waiters_;  // guarded by waiters_mu_
};

// Waits until every informer has synced. False when `deadline` passes on `clock` first or an
// informer is stopped before it synced. Pass RealClock to bound a wait on informers that run on a
// FakeClock.
bool WaitForCacheSync(const std::vector<SharedIndexInformer*>& informers, Clock& clock, MonoTime deadline);

}  // namespace ck::client
