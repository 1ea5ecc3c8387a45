#include "common/client/cache/backoff.h"

#include <gtest/gtest.h>

#include "common/client/cache/cache_test_util.h"

namespace ck::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BackoffTest, DoublesFromEightHundredMillisecondsUpToThirtySeconds) {
  FakeClock clock;
  testing::ZeroRandom no_jitter;
  Backoff backoff(clock, no_jitter);
  std::vector<Duration> got;
  for (int i = 0; i < 8; ++i) got.push_back(backoff.Next());
  std::vector<Duration> want = {milliseconds(800),   milliseconds(1600),  milliseconds(3200), milliseconds(6400),
                                milliseconds(12800), milliseconds(25600), seconds(30),        seconds(30)};
  EXPECT_EQ(got, want);
}

TEST(BackoffTest, JitterStaysWithinOneBaseAndTheCap) {
  FakeClock clock;
  FakeRandom random(7);
  Backoff backoff(clock, random);
  Duration base = milliseconds(800);
  bool saw_jitter = false;
  for (int i = 0; i < 12; ++i) {
    Duration d = backoff.Next();
    EXPECT_GE(d, std::min<Duration>(base, seconds(30))) << i;
    EXPECT_LT(d, std::min<Duration>(2 * base, seconds(30) + milliseconds(1))) << i;
    if (d != base && d != seconds(30)) saw_jitter = true;
    base = std::min<Duration>(2 * base, seconds(30));
  }
  EXPECT_TRUE(saw_jitter);
}

TEST(BackoffTest, ResetsAfterAQuietPeriod) {
  FakeClock clock;
  testing::ZeroRandom no_jitter;
  Backoff backoff(clock, no_jitter);
  EXPECT_EQ(backoff.Next(), milliseconds(800));
  EXPECT_EQ(backoff.Next(), milliseconds(1600));
  clock.Advance(seconds(119));
  EXPECT_EQ(backoff.Next(), milliseconds(3200));  // not quiet long enough
  clock.Advance(seconds(120));
  EXPECT_EQ(backoff.Next(), milliseconds(800));
  backoff.Next();
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), milliseconds(800));
}

}  // namespace
}  // namespace ck::client
