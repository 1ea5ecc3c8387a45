#include "common/base/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace ck {
namespace {

using namespace std::chrono_literals;

TEST(FakeClockTest, StartsAtFixedTimeAndAdvances) {
  FakeClock clock;
  auto t0 = clock.Now();
  auto m0 = clock.Monotonic();
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(t0.time_since_epoch()).count(), 1767225600);
  clock.Advance(1500ms);
  EXPECT_EQ(clock.Now() - t0, 1500ms);
  EXPECT_EQ(clock.Monotonic() - m0, 1500ms);
}

TEST(FakeClockTest, SleepUntilWakesOnlyWhenDeadlinePasses) {
  FakeClock clock;
  std::atomic<bool> woke{false};
  std::thread t([&] {
    clock.SleepFor(10s);
    woke = true;
  });
  while (clock.sleepers() == 0) std::this_thread::yield();
  clock.Advance(9s);
  // The sleeper is still blocked: it is counted and has not woken.
  EXPECT_EQ(clock.sleepers(), 1);
  EXPECT_FALSE(woke.load());
  clock.Advance(1s);
  t.join();
  EXPECT_TRUE(woke.load());
  EXPECT_EQ(clock.sleepers(), 0);
}

TEST(FakeClockTest, WaitUntilReturnsOnNotifyOrDeadline) {
  FakeClock clock;
  Wakeup wakeup;
  std::atomic<int> result{-1};
  std::thread t([&] { result = clock.WaitUntil(wakeup, clock.Monotonic() + 10s) ? 1 : 0; });
  while (clock.sleepers() == 0) std::this_thread::yield();
  clock.Advance(5s);
  EXPECT_EQ(result.load(), -1);
  wakeup.Notify();
  t.join();
  EXPECT_EQ(result.load(), 1);

  // The notification was consumed: the next wait runs to its deadline.
  std::thread t2([&] { result = clock.WaitUntil(wakeup, clock.Monotonic() + 10s) ? 1 : 0; });
  while (clock.sleepers() == 0) std::this_thread::yield();
  clock.Advance(10s);
  t2.join();
  EXPECT_EQ(result.load(), 0);
  EXPECT_EQ(clock.sleepers(), 0);
}

TEST(FakeClockTest, NotifyBeforeWaitIsRemembered) {
  FakeClock clock;
  Wakeup wakeup;
  wakeup.Notify();
  EXPECT_TRUE(clock.WaitUntil(wakeup, clock.Monotonic() + 1h));
}

TEST(RealClockTest, WaitUntilTimesOutAndWakes) {
  auto& c = RealClock::Get();
  Wakeup wakeup;
  EXPECT_FALSE(c.WaitUntil(wakeup, c.Monotonic() + 1ms));
  std::thread t([&] { wakeup.Notify(); });
  EXPECT_TRUE(c.WaitUntil(wakeup, c.Monotonic() + 60s));
  t.join();
}

TEST(RealClockTest, MonotonicMovesForward) {
  auto& c = RealClock::Get();
  auto a = c.Monotonic();
  c.SleepFor(1ms);
  EXPECT_GE(c.Monotonic() - a, 1ms);
}

}  // namespace
}  // namespace ck
