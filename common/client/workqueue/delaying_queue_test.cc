#include "common/client/workqueue/delaying_queue.h"

#include <gtest/gtest.h>

#include "common/client/workqueue/wait_for_testing.h"

namespace ck::client {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

TEST(DelayingQueueTest, KeysComeOutWhenDueEarliestFirst) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("c", 30ms);
  queue.AddAfter("a", 10ms);
  queue.AddAfter("b", 20ms);
  queue.AddAfter("b2", 20ms);
  EXPECT_EQ(queue.PendingLen(), 4u);
  clock.Advance(9ms);
  EXPECT_EQ(queue.Len(), 0u);  // nothing is due before 10 ms
  clock.Advance(1ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
  EXPECT_EQ(queue.Get(), "a");
  clock.Advance(10ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 2; }));
  EXPECT_EQ(queue.Get(), "b");  // same time: AddAfter order
  EXPECT_EQ(queue.Get(), "b2");
  EXPECT_EQ(queue.PendingLen(), 1u);
  clock.Advance(10ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
  EXPECT_EQ(queue.Get(), "c");
  EXPECT_EQ(queue.PendingLen(), 0u);
}

TEST(DelayingQueueTest, KeysDueTogetherAreAddedInTimeOrder) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("third", 3s);
  queue.AddAfter("first", 1s);
  queue.AddAfter("second", 2s);
  clock.Advance(1h);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 3; }));
  EXPECT_EQ(queue.Get(), "first");
  EXPECT_EQ(queue.Get(), "second");
  EXPECT_EQ(queue.Get(), "third");
}

TEST(DelayingQueueTest, AddingAgainEarlierMovesTheKeyEarlier) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("k", 1s);
  queue.AddAfter("k", 10ms);
  EXPECT_EQ(queue.PendingLen(), 1u);
  clock.Advance(10ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
  // The 1 s entry was replaced, not kept alongside: nothing is left pending.
  EXPECT_EQ(queue.PendingLen(), 0u);
  EXPECT_EQ(queue.Get(), "k");
}

TEST(DelayingQueueTest, AddingAgainLaterKeepsTheEarlierTime) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("k", 10ms);
  queue.AddAfter("k", 1s);
  EXPECT_EQ(queue.PendingLen(), 1u);
  clock.Advance(10ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
  EXPECT_EQ(queue.PendingLen(), 0u);
}

TEST(DelayingQueueTest, NoDelayAddsAtOnce) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("now", 0ms);
  queue.AddAfter("past", -5s);
  EXPECT_EQ(queue.Len(), 2u);
  EXPECT_EQ(queue.PendingLen(), 0u);
}

TEST(DelayingQueueTest, DueKeyIsDedupedWithTheSameKeyWaiting) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.Add("k");
  queue.AddAfter("k", 10ms);
  clock.Advance(10ms);
  ASSERT_TRUE(WaitFor([&] { return queue.PendingLen() == 0; }));
  EXPECT_EQ(queue.Len(), 1u);
}

// The waiting thread sleeps until its earliest key (or the 10 s heartbeat); a new, earlier key
// must wake it, or that key would be late.
TEST(DelayingQueueTest, NewEarliestKeyWakesTheWaitingThread) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("later", 1h);
  ASSERT_TRUE(WaitFor([&] { return clock.sleepers() == 1; }));
  queue.AddAfter("sooner", 10ms);
  clock.Advance(10ms);
  ASSERT_TRUE(WaitFor([&] { return queue.Len() == 1; }));
  EXPECT_EQ(queue.Get(), "sooner");
  EXPECT_EQ(queue.PendingLen(), 1u);
}

TEST(DelayingQueueTest, ShutDownDropsPendingKeysAndIgnoresNewOnes) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.AddAfter("pending", 10ms);
  queue.ShutDown();
  EXPECT_EQ(queue.PendingLen(), 0u);
  queue.AddAfter("late", 1ms);
  queue.AddAfter("now", 0ms);
  clock.Advance(1s);
  EXPECT_EQ(queue.PendingLen(), 0u);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(DelayingQueueTest, ShutDownWithDrainStopsTheWaitingThread) {
  FakeClock clock;
  DelayingQueue queue(clock);
  queue.Add("a");
  queue.AddAfter("b", 1s);
  ASSERT_EQ(queue.Get(), "a");
  queue.Done("a");
  queue.ShutDownWithDrain();
  EXPECT_EQ(queue.PendingLen(), 0u);
  EXPECT_TRUE(WaitFor([&] { return clock.sleepers() == 0; }));  // the waiting thread has left
  EXPECT_EQ(queue.Get(), std::nullopt);
}

}  // namespace
}  // namespace ck::client
