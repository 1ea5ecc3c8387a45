#include "common/client/workqueue/rate_limiter.h"

#include <algorithm>
#include <cmath>

#include "common/base/check.h"

namespace ck::client {

ItemExponentialFailureRateLimiter::ItemExponentialFailureRateLimiter(Duration base_delay, Duration max_delay)
    : base_delay_(base_delay), max_delay_(max_delay) {}

Duration ItemExponentialFailureRateLimiter::When(const std::string& key) {
  int exponent;
  {
    std::lock_guard lock(mu_);
    exponent = failures_[key]++;
  }
  // In floating point so that many failures saturate at max_delay instead of overflowing.
  double delay_ns = static_cast<double>(base_delay_.count()) * std::pow(2.0, exponent);
  if (delay_ns >= static_cast<double>(max_delay_.count())) return max_delay_;
  return Duration(static_cast<Duration::rep>(delay_ns));
}

void ItemExponentialFailureRateLimiter::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemExponentialFailureRateLimiter::NumRequeues(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

ItemFastSlowRateLimiter::ItemFastSlowRateLimiter(Duration fast_delay, Duration slow_delay,
                                                 int max_fast_attempts)
    : fast_delay_(fast_delay), slow_delay_(slow_delay), max_fast_attempts_(max_fast_attempts) {}

Duration ItemFastSlowRateLimiter::When(const std::string& key) {
  std::lock_guard lock(mu_);
  int attempts = ++failures_[key];
  return attempts <= max_fast_attempts_ ? fast_delay_ : slow_delay_;
}

void ItemFastSlowRateLimiter::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  failures_.erase(key);
}

int ItemFastSlowRateLimiter::NumRequeues(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

BucketRateLimiter::BucketRateLimiter(Clock& clock, double qps, int burst) : bucket_(qps, burst, clock) {}

Duration BucketRateLimiter::When(const std::string&) { return bucket_.Reserve(); }

void BucketRateLimiter::Forget(const std::string&) {}

int BucketRateLimiter::NumRequeues(const std::string&) { return 0; }

MaxOfRateLimiter::MaxOfRateLimiter(std::vector<std::unique_ptr<RateLimiter>> limiters)
    : limiters_(std::move(limiters)) {
  CK_CHECK(!limiters_.empty()) << "MaxOfRateLimiter needs at least one limiter";
  for (const auto& limiter : limiters_) CK_CHECK(limiter != nullptr);
}

Duration MaxOfRateLimiter::When(const std::string& key) {
  Duration longest = Duration::zero();
  for (const auto& limiter : limiters_) longest = std::max(longest, limiter->When(key));
  return longest;
}

void MaxOfRateLimiter::Forget(const std::string& key) {
  for (const auto& limiter : limiters_) limiter->Forget(key);
}

int MaxOfRateLimiter::NumRequeues(const std::string& key) {
  int most = 0;
  for (const auto& limiter : limiters_) most = std::max(most, limiter->NumRequeues(key));
  return most;
}

std::unique_ptr<RateLimiter> DefaultControllerRateLimiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(
      ItemExponentialFailureRateLimiter::kDefaultBaseDelay,
      ItemExponentialFailureRateLimiter::kDefaultMaxDelay));
  limiters.push_back(std::make_unique<BucketRateLimiter>(clock, BucketRateLimiter::kDefaultQps,
                                                         BucketRateLimiter::kDefaultBurst));
  return std::make_unique<MaxOfRateLimiter>(std::move(limiters));
}

}  // namespace ck::client
