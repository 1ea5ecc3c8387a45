// WatchQueue: callback-to-queue adapter over Store::Watch.
#include "store/watch_queue.h"

#include <utility>

namespace ck::store {

Result<std::unique_ptr<WatchQueue>> WatchQueue::Start(Store& store, WatchRequest request) {
  std::unique_ptr<WatchQueue> q(new WatchQueue());
  std::shared_ptr<Shared> shared = q->shared_;
  CK_ASSIGN_OR_RETURN(q->watcher_,
                      store.Watch(std::move(request), [shared](const WatchResponse& resp) {
                        {
                          std::lock_guard<std::mutex> lock(shared->mu);
                          shared->responses.push_back(resp);
                        }
                        shared->cv.notify_all();
                      }));
  return q;
}

WatchQueue::~WatchQueue() { watcher_.reset(); }

std::optional<WatchResponse> WatchQueue::Next(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(shared_->mu);
  if (!shared_->cv.wait_for(lock, timeout, [&] { return !shared_->responses.empty(); })) {
    return std::nullopt;
  }
  WatchResponse resp = std::move(shared_->responses.front());
  shared_->responses.pop_front();
  return resp;
}

}  // namespace ck::store
