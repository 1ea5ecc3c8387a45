#include "common/client/rest/retry.h"

#include <gtest/gtest.h>

namespace ck::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

AttemptOutcome Answer(int status, std::optional<int64_t> retry_after = std::nullopt) {
  AttemptOutcome o;
  o.http_status = status;
  o.retry_after = retry_after;
  return o;
}

AttemptOutcome Broken() {
  AttemptOutcome o;
  o.connection_failed = true;
  return o;
}

TEST(DecideRetry, RetryAfterOn429And5xxForEveryVerbUpToTenTimes) {
  RetryPolicy p;
  FakeRandom random;
  for (bool idempotent : {true, false}) {
    for (int status : {429, 500, 503, 504}) {
      RetryState state;
      for (int i = 0; i < 10; ++i) {
        RetryDecision d = DecideRetry(p, idempotent, Answer(status, 3), &state, random);
        ASSERT_TRUE(d.retry) << status << " retry " << i;
        EXPECT_EQ(d.delay, seconds(3));
      }
      EXPECT_FALSE(DecideRetry(p, idempotent, Answer(status, 3), &state, random).retry);
    }
  }
}

TEST(DecideRetry, RetryAfterZeroRetriesAtOnce) {
  RetryPolicy p;
  FakeRandom random;
  RetryState state;
  RetryDecision d = DecideRetry(p, false, Answer(503, 0), &state, random);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay, Duration::zero());
}

TEST(DecideRetry, RetryAfterOnA4xxOtherThan429IsIgnored) {
  RetryPolicy p;
  FakeRandom random;
  RetryState state;
  EXPECT_FALSE(DecideRetry(p, true, Answer(409, 1), &state, random).retry);
  EXPECT_FALSE(DecideRetry(p, true, Answer(404, 1), &state, random).retry);
  EXPECT_FALSE(DecideRetry(p, true, Answer(410, 1), &state, random).retry);
}

TEST(DecideRetry, IdempotentRequestsBackOffOnConnectionFailuresAnd5xx) {
  RetryPolicy p;
  p.max_retries = 3;
  p.initial_backoff = milliseconds(100);
  p.max_backoff = milliseconds(250);
  p.jitter = 0.5;
  FakeRandom random;
  RetryState state;
  Duration lo[] = {milliseconds(100), milliseconds(200), milliseconds(250)};
  AttemptOutcome outcomes[] = {Broken(), Answer(500), Answer(429)};
  for (int i = 0; i < 3; ++i) {
    RetryDecision d = DecideRetry(p, true, outcomes[i], &state, random);
    ASSERT_TRUE(d.retry) << i;
    EXPECT_GE(d.delay, lo[i]) << i;
    EXPECT_LT(d.delay, lo[i] + lo[i] / 2) << i;  // jitter adds at most 50 %
  }
  EXPECT_FALSE(DecideRetry(p, true, Broken(), &state, random).retry);
}

TEST(DecideRetry, WritesAreNotRepeatedWithoutRetryAfter) {
  RetryPolicy p;
  FakeRandom random;
  RetryState state;
  EXPECT_FALSE(DecideRetry(p, false, Broken(), &state, random).retry);
  EXPECT_FALSE(DecideRetry(p, false, Answer(500), &state, random).retry);
  EXPECT_FALSE(DecideRetry(p, false, Answer(429), &state, random).retry);
}

TEST(DecideRetry, SuccessAndClientErrorsAreFinal) {
  RetryPolicy p;
  FakeRandom random;
  RetryState state;
  EXPECT_FALSE(DecideRetry(p, true, Answer(200), &state, random).retry);
  EXPECT_FALSE(DecideRetry(p, true, Answer(404), &state, random).retry);
  EXPECT_FALSE(DecideRetry(p, true, Answer(410), &state, random).retry);
}

TEST(BackoffDelay, DoublesUpToTheCapWithJitter) {
  RetryPolicy p;
  p.initial_backoff = milliseconds(200);
  p.max_backoff = milliseconds(5000);
  p.jitter = 0;
  FakeRandom random;
  EXPECT_EQ(BackoffDelay(p, 0, random), milliseconds(200));
  EXPECT_EQ(BackoffDelay(p, 1, random), milliseconds(400));
  EXPECT_EQ(BackoffDelay(p, 4, random), milliseconds(3200));
  EXPECT_EQ(BackoffDelay(p, 5, random), milliseconds(5000));
  EXPECT_EQ(BackoffDelay(p, 60, random), milliseconds(5000));
}

TEST(ParseRetryAfter, DelaySecondsOnly) {
  EXPECT_EQ(ParseRetryAfter("1"), 1);
  EXPECT_EQ(ParseRetryAfter(" 120 "), 120);
  EXPECT_EQ(ParseRetryAfter("0"), 0);
  EXPECT_EQ(ParseRetryAfter("-1"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT"), std::nullopt);
  EXPECT_EQ(ParseRetryAfter(""), std::nullopt);
}

}  // namespace
}  // namespace ck::client
