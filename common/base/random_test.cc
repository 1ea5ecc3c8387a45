#include "common/base/random.h"

#include <gtest/gtest.h>

#include <array>

namespace ck {
namespace {

TEST(RandomTest, FakeIsDeterministic) {
  FakeRandom a(7), b(7);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(RandomTest, UniformStaysInRangeAndCoversIt) {
  FakeRandom r;
  std::array<int, 6> counts{};
  for (int i = 0; i < 60000; ++i) {
    auto x = r.Uniform(6);
    ASSERT_LT(x, 6u);
    counts[x]++;
  }
  for (int c : counts) {
    EXPECT_GT(c, 9000);
    EXPECT_LT(c, 11000);
  }
}

TEST(RandomTest, DoubleInUnitInterval) {
  RealRandom r(1);
  for (int i = 0; i < 1000; ++i) {
    double d = r.Double();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
  }
}

}  // namespace
}  // namespace ck
