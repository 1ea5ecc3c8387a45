// WorkQueue: the FIFO of string keys ("namespace/name") between a controller's event handlers
// and its workers (client-go's workqueue.Type). Handlers Add keys; workers loop Get -> Sync ->
// Done. Two promises: a key waiting in the queue is held once however often it is added, and a
// key is never handed to a second worker while a first one holds it (between Get and Done);
// adding it meanwhile marks it dirty and it is queued again when Done is called.
// A queue given a name reports the upstream workqueue_* metrics (queue_metrics.h) and runs one
// named thread that refreshes the unfinished-work gauges every 500 ms on the injected Clock.
//
// Threading: every method is safe from any thread; one mutex guards the queue state.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_set>

#include "common/base/clock.h"
#include "common/client/workqueue/queue_metrics.h"
#include "common/metrics/metrics.h"

namespace ck::client {

struct QueueOptions {
  // Value of the {name} label of the workqueue_* metrics; an empty name reports nothing.
  std::string name;
  // Where a named queue registers its metrics; nullptr means metrics::Registry::Default().
  metrics::Registry* registry = nullptr;
};

class WorkQueue {
 public:
  // How often a named queue refreshes the unfinished-work gauges (client-go's default).
  static constexpr Duration kUnfinishedWorkUpdatePeriod = std::chrono::milliseconds(500);

  // `clock` must outlive the queue.
  explicit WorkQueue(Clock& clock, QueueOptions options = {});
  // Shuts the queue down and joins its thread.
  virtual ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `key` unless it is already waiting. A key being processed is only marked dirty and is
  // queued again when its worker calls Done. Ignored once the queue is shutting down.
  void Add(const std::string& key);

  // Blocks until a key is available and returns it; the caller must call Done(key) when finished.
  // After ShutDown, keys still queued are handed out, then Get returns nullopt ("shut down").
  std::optional<std::string> Get();

  // Marks `key` as no longer processed; re-queues it if it was added meanwhile. Calling Done for a
  // key that is not being processed is a bug (CK_CHECK).
  void Done(const std::string& key);

  // Number of keys waiting (not counting keys being processed).
  size_t Len() const;

  // Stops accepting keys and wakes every blocked Get. Does not wait for workers.
  virtual void ShutDown();
  // ShutDown, then blocks until no key is being processed (workers have called Done).
  virtual void ShutDownWithDrain();
  bool ShuttingDown() const;

 protected:
  Clock& clock() const { return clock_; }
  QueueMetrics& metrics() { return metrics_; }
  const std::string& name() const { return name_; }

 private:
  void UnfinishedWorkLoop();

  Clock& clock_;
  const std::string name_;
  mutable std::mutex mu_;
  std::condition_variable get_cv_;              // a key was queued, or shutdown
  std::condition_variable drain_cv_;            // processing_ became empty, or drain was cancelled
  std::deque<std::string> queue_;               // guarded by mu_; each key is also in dirty_
  std::unordered_set<std::string> dirty_;       // guarded by mu_; keys that need processing
  std::unordered_set<std::string> processing_;  // guarded by mu_; keys between Get and Done
  bool shutting_down_ = false;                  // guarded by mu_
  bool drain_ = false;                          // guarded by mu_
  QueueMetrics metrics_;                        // its maps guarded by mu_
  Wakeup metrics_wakeup_;                       // ends UnfinishedWorkLoop's wait on shutdown
  std::thread metrics_thread_;                  // runs only for a named queue
};

}  // namespace ck::client
