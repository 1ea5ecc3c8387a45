#include "common/client/workqueue/delaying_queue.h"

#include <algorithm>
#include <vector>

#include "common/base/thread.h"

namespace ck::client {

DelayingQueue::DelayingQueue(Clock& clock, QueueOptions options) : WorkQueue(clock, std::move(options)) {
  waiting_thread_ = std::thread([this] {
    SetCurrentThreadName(name().empty() ? std::string("wq-delay") : "wqd-" + name());
    WaitingLoop();
  });
}

DelayingQueue::~DelayingQueue() {
  DelayingQueue::ShutDown();
  waiting_thread_.join();
}

void DelayingQueue::AddAfter(const std::string& key, Duration delay) {
  if (ShuttingDown()) return;
  metrics().Retried();
  if (delay <= Duration::zero()) {
    Add(key);
    return;
  }
  MonoTime ready_at = clock().Monotonic() + delay;
  bool new_earliest;
  {
    std::lock_guard lock(wait_mu_);
    if (stopped_) return;
    auto known = pending_index_.find(key);
    if (known != pending_index_.end()) {
      if (known->second->first.first <= ready_at) return;  // only ever moves earlier
      pending_.erase(known->second);
      pending_index_.erase(known);
    }
    auto it = pending_.emplace(PendingKey{ready_at, next_sequence_++}, key).first;
    pending_index_.emplace(key, it);
    new_earliest = it == pending_.begin();
  }
  // The waiting thread sleeps until the old earliest time; a new earliest key must wake it.
  if (new_earliest) wakeup_.Notify();
}

size_t DelayingQueue::PendingLen() const {
  std::lock_guard lock(wait_mu_);
  return pending_.size();
}

void DelayingQueue::StopWaiting() {
  {
    std::lock_guard lock(wait_mu_);
    stopped_ = true;
    pending_.clear();
    pending_index_.clear();
  }
  wakeup_.Notify();
}

void DelayingQueue::ShutDown() {
  StopWaiting();
  WorkQueue::ShutDown();
}

void DelayingQueue::ShutDownWithDrain() {
  StopWaiting();
  WorkQueue::ShutDownWithDrain();
}

void DelayingQueue::WaitingLoop() {
  while (true) {
    MonoTime next;
    {
      std::lock_guard lock(wait_mu_);
      if (stopped_) return;
      MonoTime now = clock().Monotonic();
      // Adding under wait_mu_ keeps a due key visible in either pending_ or the queue, never
      // in neither, so a concurrent AddAfter of the same key cannot slip between the two.
      while (!pending_.empty() && pending_.begin()->first.first <= now) {
        auto first = pending_.begin();
        pending_index_.erase(first->second);
        Add(first->second);
        pending_.erase(first);
      }
      next = now + kMaxWait;
      if (!pending_.empty()) next = std::min(next, pending_.begin()->first.first);
    }
    clock().WaitUntil(wakeup_, next);
  }
}

}  // namespace ck::client
