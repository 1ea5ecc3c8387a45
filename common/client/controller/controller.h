// Controller: the one shape every controller has (STYLE.md #7, client-go's controller pattern).
// Informers in; their handlers only enqueue keys ("namespace/name"); `workers` threads take keys
// from a rate-limited queue and call Sync(key); a failed Sync is retried with the queue's
// backoff (the queue owns retries, STYLE.md #6) and a successful one resets the key's backoff.
//   handlers -> Enqueue(key) -> RateLimitingQueue -> worker: Sync(key) -> Forget | AddRateLimited
// Sync must be idempotent and level-triggered: it reads the current state from listers and
// makes the world match it, whatever events led there.
// Threading: Enqueue* are safe from any thread (handler threads); Sync runs on the worker
// threads, never for the same key on two workers at once.
#pragma once

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/client/cache/shared_informer.h"
#include "common/client/workqueue/rate_limiting_queue.h"
#include "common/metrics/metrics.h"

namespace ck::client {

struct ControllerOptions {
  std::string name;  // queue name: the {name} label of the workqueue_* metrics, and thread names
  int workers = 1;
  Clock* clock = nullptr;                  // nullptr: RealClock
  metrics::Registry* registry = nullptr;   // nullptr: metrics::Registry::Default()
  std::unique_ptr<RateLimiter> rate_limiter;  // nullptr: DefaultControllerRateLimiter
  // After this many failed Syncs in a row a key is dropped (logged) until it is enqueued again;
  // negative retries forever (the upstream controllers' usual choice).
  int max_retries = -1;
};

class Controller {
 public:
  explicit Controller(ControllerOptions options);
  virtual ~Controller();  // Stop()
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Waits (on the real clock, up to `sync_timeout`) until `informers` have synced, then starts
  // the workers. Fails with kUnavailable when the caches did not sync in time.
  Status Start(const std::vector<SharedIndexInformer*>& informers, Duration sync_timeout);
  // Shuts the queue down, lets in-flight Syncs finish and joins the workers. Idempotent.
  void Stop();

  void Enqueue(const std::string& key);
  void EnqueueAfter(const std::string& key, Duration delay);
  void EnqueueRateLimited(const std::string& key);
  // Enqueues the object's key (for a tombstone, the tombstone's key).
  void EnqueueObject(const ObjectPtr& object);
  void EnqueueDeleted(const DeletedObject& deleted);
  // A handler that enqueues the key of every added, updated and deleted object; the common case
  // for an informer of the controller's own kind.
  EventHandler EnqueueHandler();

  const std::string& name() const { return name_; }
  RateLimitingQueue& queue() { return queue_; }

 protected:
  // Makes the world match the desired state for `key`. A non-OK Status requeues the key with
  // backoff; OK forgets its failures. A key whose object is gone must succeed (nothing to do, or
  // clean up).
  virtual Status Sync(const std::string& key) = 0;

 private:
  void Worker();

  const std::string name_;
  const int workers_;
  const int max_retries_;
  Clock& clock_;
  RateLimitingQueue queue_;
  std::vector<std::thread> threads_;
};

}  // namespace ck::client
