// RateLimiter: decides how long a failed key waits before a worker sees it again (client-go's
// workqueue rate limiters, same names and defaults). A RateLimitingQueue asks When(key) on each
// AddRateLimited; the controller calls Forget(key) after a successful Sync so the key's next
// failure starts from the smallest delay again.
//   ItemExponentialFailureRateLimiter  base * 2^failures per key, capped (5 ms .. 1000 s)
//   ItemFastSlowRateLimiter            a fixed fast delay for the first attempts, then a slow one
//   BucketRateLimiter                  one token bucket over all keys (10 qps, burst 100)
//   MaxOfRateLimiter                   the longest delay of several limiters
//   DefaultControllerRateLimiter()     max(exponential 5 ms .. 1000 s, bucket 10 qps / 100)
//
// Threading: every implementation is safe from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/clock.h"
#include "common/client/flowcontrol/token_bucket.h"

namespace ck::client {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // How long `key` should wait before it is processed again. Per-key limiters count a failure.
  virtual Duration When(const std::string& key) = 0;
  // Stops tracking `key` (it succeeded): its failure count goes back to zero.
  virtual void Forget(const std::string& key) = 0;
  // How many failures `key` has had since it was last forgotten.
  virtual int NumRequeues(const std::string& key) = 0;
};

// Delay base * 2^n for a key's n-th failure (counting from 0), at most max_delay.
class ItemExponentialFailureRateLimiter final : public RateLimiter {
 public:
  static constexpr Duration kDefaultBaseDelay = std::chrono::milliseconds(5);
  static constexpr Duration kDefaultMaxDelay = std::chrono::seconds(1000);

  explicit ItemExponentialFailureRateLimiter(Duration base_delay = kDefaultBaseDelay,
                                             Duration max_delay = kDefaultMaxDelay);
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const Duration base_delay_;
  const Duration max_delay_;
  std::mutex mu_;
  std::unordered_map<std::string, int> failures_;  // guarded by mu_
};

// fast_delay for a key's first max_fast_attempts failures, slow_delay after that.
class ItemFastSlowRateLimiter final : public RateLimiter {
 public:
  ItemFastSlowRateLimiter(Duration fast_delay, Duration slow_delay, int max_fast_attempts);
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const Duration fast_delay_;
  const Duration slow_delay_;
  const int max_fast_attempts_;
  std::mutex mu_;
  std::unordered_map<std::string, int> failures_;  // guarded by mu_
};

// One token bucket shared by all keys: When reserves a token and returns the wait for it, so a
// burst of failures across many keys is spread out to qps. Tracks no keys (NumRequeues is 0).
class BucketRateLimiter final : public RateLimiter {
 public:
  static constexpr double kDefaultQps = 10;
  static constexpr int kDefaultBurst = 100;

  // `clock` must outlive the limiter.
  explicit BucketRateLimiter(Clock& clock, double qps = kDefaultQps, int burst = kDefaultBurst);
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  TokenBucket bucket_;
};

// The longest When of all its limiters (each of them counts the failure), the largest
// NumRequeues, and Forget on every one.
class MaxOfRateLimiter final : public RateLimiter {
 public:
  explicit MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters);
  Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int NumRequeues(const std::string& key) override;

 private:
  const std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// What every controller uses unless it has a reason not to: per-key exponential backoff from
// 5 ms to 1000 s, and at most 10 requeues per second overall (burst 100).
std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(Clock& clock);

}  // namespace ck::client
