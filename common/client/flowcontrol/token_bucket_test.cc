#include "common/client/flowcontrol/token_bucket.h"

#include <gtest/gtest.h>

namespace ck::client {
namespace {

using namespace std::chrono_literals;

TEST(TokenBucketTest, BurstThenRate) {
  FakeClock clock;
  TokenBucket bucket(10, 3, clock);  // a token every 100 ms
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_TRUE(bucket.TryAccept());
  EXPECT_FALSE(bucket.TryAccept());
  clock.Advance(99ms);
  EXPECT_FALSE(bucket.TryAccept());
  clock.Advance(1ms);
  EXPECT_TRUE(bucket.TryAccept());
  clock.Advance(10s);  // saves up no more than the burst
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryAccept());
  EXPECT_FALSE(bucket.TryAccept());
}

TEST(TokenBucketTest, ReservationsQueueInOrder) {
  FakeClock clock;
  TokenBucket bucket(10, 1, clock);
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(bucket.Reserve()), 100ms);
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::milliseconds>(bucket.Reserve()), 200ms);
  clock.Advance(300ms);
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
}

TEST(TokenBucketTest, ZeroQpsIsUnlimited) {
  FakeClock clock;
  TokenBucket bucket(0, 1, clock);
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(bucket.TryAccept());
  EXPECT_EQ(bucket.Reserve(), Duration::zero());
}

}  // namespace
}  // namespace ck::client
