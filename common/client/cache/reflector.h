// Reflector: keeps a ReflectorStore in step with one resource on the API server (client-go's
// cache.Reflector). It lists (in pages of 500, restarting when a continue token expires), hands
// the store a Replace at the list's resourceVersion, then watches from that resourceVersion with
// bookmarks and a server timeout of 5-10 minutes, passing each event to the store in order.
//   - watch ended normally (timeout): watch again from the last resourceVersion seen;
//   - broken stream or failed watch request: back off, then watch again from there;
//   - 410 Gone (ERROR event or response): back off, then relist; the Replace tells the store
//     which objects went away meanwhile.
// Backoff is jittered exponential (backoff.h) on the injected Clock and Random. No event is
// skipped or reordered: the store sees the list, then every event after it.
// Threading: Start() runs the loop on its own thread "rf-<resource>"; Stop() may be called from
// any thread and returns once that thread has finished (promptly: it interrupts the watch and any
// backoff wait; an API request in flight is awaited). The store is called from that thread only.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/api_client.h"
#include "common/client/cache/backoff.h"
#include "common/client/cache/store.h"

namespace ck::client {

// What an informer keeps of each object it receives (client-go's TransformFunc). It runs on the
// reflector's thread for every listed object and every watch event's object, before any store or
// handler sees it, and returns the object to keep: the same one, or a smaller copy without the
// fields this process never reads (kube-scheduler and kube-controller-manager drop managedFields
// this way). It must be idempotent and must pass through the kinds it does not know (metadata-only
// informers hand it PartialObjectMetadata).
using TransformFunc = std::function<ObjectPtr(ObjectPtr)>;

struct ReflectorOptions {
  std::string ns;  // "" for all namespaces (and for cluster-scoped resources)
  std::string label_selector;
  std::string field_selector;
  bool metadata_only = false;  // PartialObjectMetadata instead of full objects
  int64_t page_size = 500;     // 0 lists everything in one request
  // Each watch asks the server to end it after a random time in [min, 2 * min) so that many
  // clients do not reconnect at once.
  Duration min_watch_timeout = std::chrono::minutes(5);
  BackoffPolicy backoff;
  // What the caches keep of each object (client-go's TransformFunc); see TransformFunc.
  TransformFunc transform;
};

class Reflector {
 public:
  // `client`, `store`, `clock` and `random` must outlive the reflector.
  Reflector(ApiClient& client, ResourceInfo resource, ReflectorStore& store, Clock& clock, Random& random,
            ReflectorOptions options = {});
  ~Reflector();  // Stop()
  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Starts the list-and-watch thread. Call at most once.
  void Start();
  // Stops the loop and joins its thread. Idempotent.
  void Stop();

  // True once the first list has been handed to the store.
  bool HasSynced() const { return synced_.load(); }
  // The resourceVersion of the last list, event or bookmark handed to the store.
  std::string LastSyncResourceVersion() const;

  // Counters, for tests and metrics.
  struct Stats {
    int64_t lists = 0;            // complete lists handed to the store (Replace calls)
    int64_t list_requests = 0;    // List calls, one per page
    int64_t expired_continues = 0;
    int64_t watches = 0;          // Watch calls
    int64_t events = 0;           // events handed to the store (bookmarks included)
    int64_t gone = 0;             // 410s that forced a relist
    int64_t broken = 0;           // failed watch requests and broken streams
    int64_t backoffs = 0;
    Duration last_backoff{0};
  };
  Stats stats() const;

 private:
  enum class WatchEnd { kStopped, kGone, kBroken, kEnded, kEndedEarly };
  void Run();
  Status ListAndReplace();
  WatchEnd WatchOnce();
  void HandleEvent(WatchEvent event);
  void BackOff();
  ListOptions BaseOptions() const;
  void SetLastResourceVersion(const std::string& rv);

  ApiClient& client_;
  const ResourceInfo resource_;
  ReflectorStore& store_;
  Clock& clock_;
  Random& random_;
  const ReflectorOptions options_;
  const std::string expected_type_;  // full protobuf name of the objects watched
  Backoff backoff_;                  // used by the loop thread only

  std::atomic<bool> stopped_{false};
  std::atomic<bool> synced_{false};
  Wakeup wakeup_;  // interrupts a backoff wait on Stop()
  std::thread thread_;

  mutable std::mutex mu_;
  WatchStream* stream_ = nullptr;  // guarded by mu_; the watch being read, to Stop() it
  std::string last_rv_;            // guarded by mu_
  Stats stats_;                    // guarded by mu_
};

}  // namespace ck::client
