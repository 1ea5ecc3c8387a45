// RateLimitingQueue: the queue a controller owns (client-go's rate-limiting queue). Sync fails ->
// AddRateLimited(key) requeues it after the RateLimiter's delay; Sync succeeds -> Forget(key)
// resets the key's backoff. STYLE.md #6: the queue, not the controller, owns retries.
//   while (auto key = queue.Get()) {
//     Status s = Sync(*key);
//     if (s.ok()) queue.Forget(*key); else queue.AddRateLimited(*key);
//     queue.Done(*key);
//   }
// Threading: every method is safe from any thread.
#pragma once

#include <memory>
#include <string>

#include "common/client/workqueue/delaying_queue.h"
#include "common/client/workqueue/rate_limiter.h"

namespace ck::client {

class RateLimitingQueue : public DelayingQueue {
 public:
  // Takes ownership of `limiter` (must not be null), e.g. DefaultControllerRateLimiter(clock).
  RateLimitingQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter, QueueOptions options = {});

  // AddAfter(key, limiter.When(key)): counts a failure of `key` and requeues it after its backoff.
  void AddRateLimited(const std::string& key);
  // The key succeeded: its backoff starts over. Does not remove it from the queue.
  void Forget(const std::string& key);
  // How many times `key` has been rate-limited since it was last forgotten.
  int NumRequeues(const std::string& key);

 private:
  const std::unique_ptr<RateLimiter> limiter_;
};

}  // namespace ck::client
