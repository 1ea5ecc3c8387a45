#include "common/client/workqueue/rate_limiting_queue.h"

#include "common/base/check.h"

namespace ck::client {

RateLimitingQueue::RateLimitingQueue(Clock& clock, std::unique_ptr<RateLimiter> limiter, QueueOptions options)
    : DelayingQueue(clock, std::move(options)), limiter_(std::move(limiter)) {
  CK_CHECK(limiter_ != nullptr) << "RateLimitingQueue needs a RateLimiter";
}

void RateLimitingQueue::AddRateLimited(const std::string& key) { AddAfter(key, limiter_->When(key)); }

void RateLimitingQueue::Forget(const std::string& key) { limiter_->Forget(key); }

int RateLimitingQueue::NumRequeues(const std::string& key) { return limiter_->NumRequeues(key); }

}  // namespace ck::client
