#include "common/client/workqueue/queue.h"

#include "common/base/check.h"
#include "common/base/thread.h"

namespace ck::client {

WorkQueue::WorkQueue(Clock& clock, QueueOptions options) : clock_(clock), name_(std::move(options.name)) {
  if (name_.empty()) return;
  metrics::Registry& registry = options.registry ? *options.registry : metrics::Registry::Default();
  metrics_ = QueueMetrics(name_, registry, clock_);
  metrics_thread_ = std::thread([this] {
    SetCurrentThreadName("wqm-" + name_);
    UnfinishedWorkLoop();
  });
}

WorkQueue::~WorkQueue() {
  WorkQueue::ShutDown();
  if (metrics_thread_.joinable()) metrics_thread_.join();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (dirty_.contains(key)) return;
  metrics_.Added(key);
  dirty_.insert(key);
  if (processing_.contains(key)) return;  // queued again by Done
  queue_.push_back(key);
  get_cv_.notify_one();
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  get_cv_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  metrics_.Got(key);
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard lock(mu_);
  CK_CHECK(processing_.erase(key) == 1) << "workqueue Done(" << key << ") for a key not being processed";
  metrics_.Finished(key);
  if (dirty_.contains(key)) {
    queue_.push_back(key);
    get_cv_.notify_one();
  } else if (processing_.empty()) {
    drain_cv_.notify_all();
  }
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkQueue::ShutDown() {
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    drain_ = false;  // releases a ShutDownWithDrain that is waiting
    get_cv_.notify_all();
    drain_cv_.notify_all();
  }
  metrics_wakeup_.Notify();
}

void WorkQueue::ShutDownWithDrain() {
  std::unique_lock lock(mu_);
  shutting_down_ = true;
  drain_ = true;
  get_cv_.notify_all();
  metrics_wakeup_.Notify();
  drain_cv_.wait(lock, [&] { return processing_.empty() || !drain_; });
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

void WorkQueue::UnfinishedWorkLoop() {
  while (true) {
    MonoTime next;
    {
      std::lock_guard lock(mu_);
      if (shutting_down_) return;
      metrics_.UpdateUnfinishedWork();
      next = clock_.Monotonic() + kUnfinishedWorkUpdatePeriod;
    }
    clock_.WaitUntil(metrics_wakeup_, next);
  }
}

}  // namespace ck::client
