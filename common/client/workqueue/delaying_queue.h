// DelayingQueue: a WorkQueue that can also add a key later (client-go's delaying queue). A
// controller uses it to requeue after a failure without hot-looping, or to look at an object
// again when something in it will expire. One named thread waits on the injected Clock for the
// earliest pending key and adds every key whose time has come, earliest first (keys due at the
// same time keep their AddAfter order). A key already pending is held once: adding it again with
// an earlier time moves it earlier; a later time leaves it where it is.
//
// Threading: every method is safe from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/client/workqueue/queue.h"

namespace ck::client {

class DelayingQueue : public WorkQueue {
 public:
  // How long the waiting thread sleeps at most when nothing is pending (client-go's heartbeat).
  static constexpr Duration kMaxWait = std::chrono::seconds(10);

  explicit DelayingQueue(Clock& clock, QueueOptions options = {});
  // Shuts down, joins the waiting thread; keys still pending are dropped.
  ~DelayingQueue() override;

  // Adds `key` once `delay` has passed on the clock (at once when delay <= 0). Counts a retry in
  // workqueue_retries_total. Ignored once the queue is shutting down.
  void AddAfter(const std::string& key, Duration delay);

  // Number of keys pending a delayed add (not yet in the queue).
  size_t PendingLen() const;

  // Both stop the waiting thread first; pending keys are dropped.
  void ShutDown() override;
  void ShutDownWithDrain() override;

 private:
  // (ready time, sequence number): earliest first, then AddAfter order.
  using PendingKey = std::pair<MonoTime, uint64_t>;

  void StopWaiting();
  void WaitingLoop();

  mutable std::mutex wait_mu_;                 // taken before WorkQueue's mutex, never after
  std::map<PendingKey, std::string> pending_;  // guarded by wait_mu_
  std::unordered_map<std::string, std::map<PendingKey, std::string>::iterator>
      pending_index_;           // guarded by wait_mu_
  uint64_t next_sequence_ = 0;  // guarded by wait_mu_
  bool stopped_ = false;        // guarded by wait_mu_
  Wakeup wakeup_;               // a new earliest key, or stop
  std::thread waiting_thread_;
};

}  // namespace ck::client
