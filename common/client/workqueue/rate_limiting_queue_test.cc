#include "common/client/workqueue/rate_limiting_queue.h"

#include <gtest/gtest.h>

#include "common/client/workqueue/wait_for_testing.h"

namespace ck::client {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

TEST(RateLimitingQueueTest, FailuresBackOffAndForgetStartsOver) {
  FakeClock clock;
  RateLimitingQueue queue(clock, std::make_unique<ItemExponentialFailureRateLimiter>(5ms, 1s));
  // First failure: back after 5 ms.
  queue.AddRateLimited("k");
  EXPECT_EQ(queue.NumRequeues("k"), 1);
  EXPECT_EQ(queue.PendingLen(), 1u);
  clock.Advance(4ms);
  EXPECT_EQ(queue.Len(), 0u);
  clock.Advance(1ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
  ASSERT_EQ(queue.Get(), "k");
  // Second failure while the key is processed: back after 10 ms, and only after Done.
  queue.AddRateLimited("k");
  EXPECT_EQ(queue.NumRequeues("k"), 2);
  clock.Advance(9ms);
  EXPECT_EQ(queue.PendingLen(), 1u);
  clock.Advance(1ms);
  ASSERT_TRUE(WaitFor([&] { return queue.PendingLen() == 0; }));
  EXPECT_EQ(queue.Len(), 0u);  // dirty, but still held by its worker
  queue.Done("k");
  EXPECT_EQ(queue.Len(), 1u);
  ASSERT_EQ(queue.Get(), "k");
  // Success: the next failure starts from 5 ms again.
  queue.Forget("k");
  queue.Done("k");
  EXPECT_EQ(queue.NumRequeues("k"), 0);
  queue.AddRateLimited("k");
  clock.Advance(5ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
}

TEST(RateLimitingQueueTest, DefaultLimiterSpreadsAStormOfFailures) {
  FakeClock clock;
  RateLimitingQueue queue(clock, DefaultControllerRateLimiter(clock));
  for (int i = 0; i < 110; ++i) queue.AddRateLimited("key-" + std::to_string(i));
  clock.Advance(5ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 100; }));  // the burst
  clock.Advance(95ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 101; }));  // then one per 100 ms
  clock.Advance(100ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 102; }));
  EXPECT_EQ(queue.PendingLen(), 8u);
  EXPECT_EQ(queue.Get(), "key-0");
}

TEST(RateLimitingQueueTest, AddRateLimitedAfterShutDownIsIgnored) {
  FakeClock clock;
  RateLimitingQueue queue(clock, DefaultControllerRateLimiter(clock));
  queue.ShutDown();
  queue.AddRateLimited("k");
  EXPECT_EQ(queue.PendingLen(), 0u);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

}  // namespace
}  // namespace ck::client
