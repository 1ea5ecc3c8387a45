#include "controller-manager/nodelifecycle/rate_limited_queue.h"

#include <algorithm>

namespace ck::controller_manager {

namespace {
constexpr double kBurst = 1;  // upstream EvictionRateLimiterBurst
// Tokens are real numbers; this absorbs the rounding of qps * elapsed.
constexpr double kEpsilon = 1e-9;
}  // namespace

RateLimitedTimedQueue::RateLimitedTimedQueue(Clock& clock, double qps)
    : clock_(clock), qps_(qps), tokens_(qps > 0 ? kBurst : 0), last_refill_(clock.Monotonic()) {}

bool RateLimitedTimedQueue::Add(const std::string& node_name, const std::string& uid) {
  if (added_.contains(node_name)) return false;
  MonoTime now = clock_.Monotonic();
  Position position{now, next_sequence_++};
  queue_.emplace(position, Entry{node_name, uid, now, position.second});
  added_.emplace(node_name, position);
  return true;
}

bool RateLimitedTimedQueue::Remove(const std::string& node_name) {
  auto it = added_.find(node_name);
  if (it == added_.end()) return false;
  if (it->second.has_value()) queue_.erase(*it->second);
  added_.erase(it);
  return true;
}

void RateLimitedTimedQueue::Clear() {
  queue_.clear();
  added_.clear();
}

void RateLimitedTimedQueue::Refill() {
  MonoTime now = clock_.Monotonic();
  if (qps_ > 0 && now > last_refill_) {
    double elapsed = std::chrono::duration<double>(now - last_refill_).count();
    tokens_ = std::min(kBurst, tokens_ + elapsed * qps_);
  }
  last_refill_ = std::max(now, last_refill_);
}

bool RateLimitedTimedQueue::TryAccept() {
  if (qps_ <= 0) return false;
  Refill();
  if (tokens_ + kEpsilon < 1) return false;
  tokens_ = std::max(0.0, tokens_ - 1);
  return true;
}

void RateLimitedTimedQueue::Try(const Action& action) {
  while (!queue_.empty()) {
    if (!TryAccept()) return;
    auto head = queue_.begin();
    MonoTime now = clock_.Monotonic();
    if (now < head->second.process_at) return;
    Entry entry = head->second;
    queue_.erase(head);
    Outcome outcome = action(entry.name, entry.uid);
    auto added = added_.find(entry.name);
    if (added == added_.end()) continue;  // removed meanwhile: nothing to keep
    if (outcome.done) {
      added->second.reset();
      continue;
    }
    // Upstream: ProcessAt = now + wait + 1ns.
    entry.process_at = now + outcome.retry_after + Duration(1);
    Position position{entry.process_at, next_sequence_++};
    entry.sequence = position.second;
    queue_.emplace(position, entry);
    added->second = position;
  }
}

void RateLimitedTimedQueue::SwapLimiter(double qps) {
  if (qps == qps_) return;
  if (qps <= 0) {
    qps_ = 0;
    tokens_ = 0;
    return;
  }
  // A node waiting for a token of the old bucket keeps waiting in the new one (upstream drains
  // the new bucket when the old one had no token).
  bool had_token = TryAccept();
  qps_ = qps;
  tokens_ = had_token ? kBurst : 0;
  last_refill_ = clock_.Monotonic();
}

std::optional<Duration> RateLimitedTimedQueue::NextAttemptIn() const {
  if (queue_.empty() || qps_ <= 0) return std::nullopt;
  MonoTime now = clock_.Monotonic();
  double tokens = tokens_;
  if (now > last_refill_) tokens += std::chrono::duration<double>(now - last_refill_).count() * qps_;
  Duration token_wait{0};
  if (tokens + kEpsilon < 1) {
    token_wait = std::chrono::duration_cast<Duration>(std::chrono::duration<double>((1 - tokens) / qps_));
  }
  Duration due_wait = std::max(Duration(0), queue_.begin()->second.process_at - now);
  return std::max(token_wait, due_wait);
}

}  // namespace ck::controller_manager
