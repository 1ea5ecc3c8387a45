#include "common/client/workqueue/rate_limiter.h"

#include <gtest/gtest.h>

namespace ck::client {
namespace {

using namespace std::chrono_literals;

TEST(ItemExponentialFailureRateLimiterTest, DoublesPerFailureUpToTheCap) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1s);
  const std::vector<Duration> expected = {5ms, 10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 640ms, 1s, 1s};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(limiter.When("k"), expected[i]) << "failure " << i;
    EXPECT_EQ(limiter.NumRequeues("k"), static_cast<int>(i + 1));
  }
}

TEST(ItemExponentialFailureRateLimiterTest, KeysBackOffIndependentlyAndForgetStartsOver) {
  ItemExponentialFailureRateLimiter limiter(5ms, 1s);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.When("a"), 10ms);
  EXPECT_EQ(limiter.When("b"), 5ms);
  EXPECT_EQ(limiter.NumRequeues("a"), 2);
  EXPECT_EQ(limiter.NumRequeues("b"), 1);
  EXPECT_EQ(limiter.NumRequeues("never"), 0);
  limiter.Forget("a");
  EXPECT_EQ(limiter.NumRequeues("a"), 0);
  EXPECT_EQ(limiter.When("a"), 5ms);
  EXPECT_EQ(limiter.When("b"), 10ms);
}

TEST(ItemExponentialFailureRateLimiterTest, DefaultsAre5msTo1000sAndNeverOverflow) {
  ItemExponentialFailureRateLimiter limiter;
  EXPECT_EQ(limiter.When("k"), 5ms);
  EXPECT_EQ(limiter.When("k"), 10ms);
  Duration last{};
  for (int i = 2; i < 200; ++i) {
    Duration d = limiter.When("k");
    EXPECT_GE(d, last);
    EXPECT_LE(d, 1000s);
    last = d;
  }
  EXPECT_EQ(last, 1000s);
  // 5 ms * 2^17 = 655.36 s is the last step below the cap; 2^18 would be 1310.72 s.
  limiter.Forget("k");
  for (int i = 0; i < 17; ++i) (void)limiter.When("k");
  EXPECT_EQ(limiter.When("k"), 655360ms);
  EXPECT_EQ(limiter.When("k"), 1000s);
}

TEST(ItemFastSlowRateLimiterTest, FastAttemptsThenSlow) {
  ItemFastSlowRateLimiter limiter(5ms, 10s, 3);
  EXPECT_EQ(limiter.When("k"), 5ms);
  EXPECT_EQ(limiter.When("k"), 5ms);
  EXPECT_EQ(limiter.When("k"), 5ms);
  EXPECT_EQ(limiter.When("k"), 10s);
  EXPECT_EQ(limiter.When("k"), 10s);
  EXPECT_EQ(limiter.NumRequeues("k"), 5);
  EXPECT_EQ(limiter.When("other"), 5ms);
  limiter.Forget("k");
  EXPECT_EQ(limiter.NumRequeues("k"), 0);
  EXPECT_EQ(limiter.When("k"), 5ms);
}

TEST(BucketRateLimiterTest, BurstThenQps) {
  FakeClock clock;
  BucketRateLimiter limiter(clock);  // 10 qps, burst 100
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.When("k" + std::to_string(i)), Duration::zero()) << i;
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.When("x")), 100ms);
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.When("y")), 200ms);
  clock.Advance(200ms);  // pays for the two reservations
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter.When("z")), 100ms);
  clock.Advance(1h);  // refills to the burst, no more
  for (int i = 0; i < 100; ++i) EXPECT_EQ(limiter.When("k"), Duration::zero());
  EXPECT_GT(limiter.When("k"), Duration::zero());
  EXPECT_EQ(limiter.NumRequeues("k"), 0);  // tracks no keys
  limiter.Forget("k");
}

TEST(MaxOfRateLimiterTest, TakesTheLongestDelayAndForwardsForget) {
  FakeClock clock;
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ItemExponentialFailureRateLimiter>(1ms, 1s));
  limiters.push_back(std::make_unique<ItemFastSlowRateLimiter>(3ms, 30ms, 2));
  MaxOfRateLimiter limiter(std::move(limiters));
  EXPECT_EQ(limiter.When("k"), 3ms);   // max(1, 3)
  EXPECT_EQ(limiter.When("k"), 3ms);   // max(2, 3)
  EXPECT_EQ(limiter.When("k"), 30ms);  // max(4, 30)
  EXPECT_EQ(limiter.When("k"), 30ms);  // max(8, 30)
  EXPECT_EQ(limiter.When("k"), 30ms);  // max(16, 30)
  EXPECT_EQ(limiter.When("k"), 32ms);  // max(32, 30)
  EXPECT_EQ(limiter.NumRequeues("k"), 6);
  limiter.Forget("k");
  EXPECT_EQ(limiter.NumRequeues("k"), 0);
  EXPECT_EQ(limiter.When("k"), 3ms);
}

TEST(DefaultControllerRateLimiterTest, PerKeyBackoffAndOverallBucket) {
  FakeClock clock;
  auto limiter = DefaultControllerRateLimiter(clock);
  // Within the burst, a key's own backoff decides.
  EXPECT_EQ(limiter->When("a"), 5ms);
  EXPECT_EQ(limiter->When("a"), 10ms);
  EXPECT_EQ(limiter->When("a"), 20ms);
  EXPECT_EQ(limiter->NumRequeues("a"), 3);
  for (int i = 3; i < 100; ++i) EXPECT_EQ(limiter->When("key-" + std::to_string(i)), 5ms);
  // The bucket is empty: 10 per second overall, whatever the key.
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter->When("fresh")), 100ms);
  EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(limiter->When("fresh2")), 200ms);
  limiter->Forget("a");
  EXPECT_EQ(limiter->NumRequeues("a"), 0);
}

}  // namespace
}  // namespace ck::client
