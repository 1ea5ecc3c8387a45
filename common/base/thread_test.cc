#include "common/base/thread.h"

#include <gtest/gtest.h>

#include <atomic>

namespace ck {
namespace {

TEST(ThreadPoolTest, RunsEveryPostedTaskBeforeItIsDestroyed) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool("test-pool", 2);
    for (int i = 0; i < 100; ++i) pool.Post([&] { ++ran; });
  }
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace ck
