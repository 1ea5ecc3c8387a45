// WatchQueue: a pull-style view of a Store watch, for code that prefers a blocking
// `Next(timeout)` over a callback (tests, simple tools, the benchmark's RPC server).
//
// Responses are queued without bound by the watcher's thread; Next() pops them in order. The queue
// is unbounded on purpose: a consumer that wants the store's slow-watcher protection uses the
// callback API directly. Threading: Next() from one thread at a time; the destructor stops the watch.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "store/store.h"

namespace ck::store {

class WatchQueue {
 public:
  static Result<std::unique_ptr<WatchQueue>> Start(Store& store, WatchRequest request);
  ~WatchQueue();

  // The next response, or nullopt when none arrives within `timeout` (real time).
  std::optional<WatchResponse> Next(std::chrono::milliseconds timeout);
  // Asks the watcher for a progress notification.
  void RequestProgress() { watcher_->RequestProgress(); }

 private:
  struct Shared {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<WatchResponse> responses;  // guarded by mu
  };
  WatchQueue() = default;

  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
  std::unique_ptr<Watcher> watcher_;
};

}  // namespace ck::store
