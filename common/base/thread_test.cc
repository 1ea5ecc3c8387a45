#include "common/base/thread.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

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

TEST(ThreadPoolTest, IdleWorkersRunTasksPostedFromTasksAndStopWhenDestroyed) {
  std::atomic<int> ran{0};
  {
    ThreadPool pool("test-pool", 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // every worker asleep
    for (int i = 0; i < 50; ++i) {
      pool.Post([&] {
        ++ran;
        pool.Post([&] { ++ran; });
      });
    }
    while (ran.load() < 100) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // joins workers that are asleep again
  EXPECT_EQ(ran.load(), 100);
}

}  // namespace
}  // namespace ck
