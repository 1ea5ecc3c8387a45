#include "common/client/rest/retry.h"

#include <algorithm>
#include <cmath>

#include "common/base/strings.h"

namespace ck::client {

RetryDecision DecideRetry(const RetryPolicy& policy, bool idempotent, const AttemptOutcome& outcome,
                          RetryState* state, Random& random) {
  bool server_busy = outcome.http_status == 429 || outcome.http_status >= 500;
  if (!outcome.connection_failed && server_busy && outcome.retry_after) {
    if (state->retry_after_retries >= policy.max_retry_after_retries) return {};
    ++state->retry_after_retries;
    return {true, std::chrono::seconds(*outcome.retry_after)};
  }
  if (idempotent && (outcome.connection_failed || server_busy)) {
    if (state->backoff_retries >= policy.max_retries) return {};
    Duration delay = BackoffDelay(policy, state->backoff_retries, random);
    ++state->backoff_retries;
    return {true, delay};
  }
  return {};
}

Duration BackoffDelay(const RetryPolicy& policy, int n, Random& random) {
  double base =
      std::chrono::duration<double>(policy.initial_backoff).count() * std::ldexp(1.0, std::min(n, 30));
  base = std::min(base, std::chrono::duration<double>(policy.max_backoff).count());
  double jittered = base * (1 + policy.jitter * random.Double());
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(jittered));
}

std::optional<int64_t> ParseRetryAfter(std::string_view header) {
  std::optional<int64_t> v = ParseInt(TrimSpace(header));
  if (!v || *v < 0) return std::nullopt;
  return v;
}

}  // namespace ck::client
