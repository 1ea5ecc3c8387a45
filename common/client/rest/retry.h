// When the REST client sends a request again, and after how long (client-go's rest.WithRetry):
//  - any request answered 429 or 5xx *with* a Retry-After header is retried after that many
//    seconds, up to policy.max_retry_after_retries times (upstream retries these for every verb:
//    the server asked for it, and did not act on the request);
//  - an idempotent request (GET, list, watch start) is retried after a jittered exponential
//    backoff on a connection failure or a 429/5xx answer without Retry-After, up to
//    policy.max_retries times;
//  - anything else (a POST whose connection broke, any 4xx) is returned to the caller: a write
//    may have been applied, and only the caller knows whether repeating it is safe.
// Pure functions over the outcome of one attempt; RetryState belongs to one request.
#pragma once

#include <optional>
#include <string_view>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/rest/config.h"

namespace ck::client {

// What one attempt produced.
struct AttemptOutcome {
  bool connection_failed = false;      // no HTTP answer (refused, reset, closed, TLS failure)
  int http_status = 0;                 // the answer's status when there was one
  std::optional<int64_t> retry_after;  // its Retry-After header, in seconds
};

// Retries made so far by one request.
struct RetryState {
  int backoff_retries = 0;
  int retry_after_retries = 0;
};

struct RetryDecision {
  bool retry = false;
  Duration delay{0};
};

// Decides and, when retrying, counts the retry in *state.
RetryDecision DecideRetry(const RetryPolicy& policy, bool idempotent, const AttemptOutcome& outcome,
                          RetryState* state, Random& random);

// The n-th (0-based) backoff delay: min(initial * 2^n, max) * (1 + jitter * uniform[0,1)).
Duration BackoffDelay(const RetryPolicy& policy, int n, Random& random);

// Retry-After as delay-seconds (a non-negative integer, as upstream sends and reads it); nullopt
// for anything else, including the HTTP-date form.
std::optional<int64_t> ParseRetryAfter(std::string_view header);

}  // namespace ck::client
