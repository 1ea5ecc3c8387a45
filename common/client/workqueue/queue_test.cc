#include "common/client/workqueue/queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <random>
#include <thread>
#include <vector>

#include "common/client/workqueue/wait_for_testing.h"

namespace ck::client {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

TEST(WorkQueueTest, FifoAndDedupOfWaitingKeys) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("a");
  queue.Add("b");
  queue.Add("a");
  queue.Add("c");
  queue.Add("b");
  EXPECT_EQ(queue.Len(), 3u);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Get(), "c");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsQueuedAgainOnDone) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("a");
  queue.Add("b");
  ASSERT_EQ(queue.Get(), "a");
  // "a" is being processed: adding it must not hand it to a second worker.
  queue.Add("a");
  queue.Add("a");
  EXPECT_EQ(queue.Len(), 1u);  // only "b"
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Len(), 0u);
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 1u);  // dirty "a" queued again, once
  EXPECT_EQ(queue.Get(), "a");
  queue.Done("a");
  queue.Done("b");
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueueTest, DoneWithoutReAddDoesNotRequeue) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("a");
  ASSERT_EQ(queue.Get(), "a");
  queue.Done("a");
  EXPECT_EQ(queue.Len(), 0u);
  queue.Add("a");  // a fresh add after Done is queued normally
  EXPECT_EQ(queue.Len(), 1u);
}

TEST(WorkQueueTest, GetBlocksUntilAKeyArrives) {
  FakeClock clock;
  WorkQueue queue(clock);
  auto got = std::async(std::launch::async, [&] { return queue.Get(); });
  EXPECT_EQ(got.wait_for(0s), std::future_status::timeout);
  queue.Add("late");
  ASSERT_EQ(got.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(got.get(), "late");
}

TEST(WorkQueueTest, ShutDownWakesEveryBlockedGet) {
  FakeClock clock;
  WorkQueue queue(clock);
  std::vector<std::future<std::optional<std::string>>> getters;
  for (int i = 0; i < 4; ++i) getters.push_back(std::async(std::launch::async, [&] { return queue.Get(); }));
  queue.ShutDown();
  for (auto& g : getters) {
    ASSERT_EQ(g.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(g.get(), std::nullopt);
  }
  EXPECT_TRUE(queue.ShuttingDown());
}

TEST(WorkQueueTest, ShutDownHandsOutQueuedKeysThenReportsShutDown) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("a");
  queue.Add("b");
  queue.ShutDown();
  queue.Add("c");  // ignored
  EXPECT_EQ(queue.Len(), 2u);
  EXPECT_EQ(queue.Get(), "a");
  EXPECT_EQ(queue.Get(), "b");
  EXPECT_EQ(queue.Get(), std::nullopt);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownWithDrainWaitsForKeysInFlight) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("a");
  queue.Add("b");
  ASSERT_EQ(queue.Get(), "a");
  ASSERT_EQ(queue.Get(), "b");
  auto drained = std::async(std::launch::async, [&] { queue.ShutDownWithDrain(); });
  ASSERT_TRUE(WaitFor([&] { return queue.ShuttingDown(); }));
  // ShutDownWithDrain marks the queue and starts waiting in one critical section.
  EXPECT_EQ(drained.wait_for(0s), std::future_status::timeout);
  queue.Done("a");
  EXPECT_EQ(drained.wait_for(0s), std::future_status::timeout);  // "b" still in flight
  queue.Done("b");
  EXPECT_EQ(drained.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownWithDrainReturnsAtOnceWhenIdle) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.ShutDownWithDrain();
  EXPECT_TRUE(queue.ShuttingDown());
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueueTest, ShutDownReleasesAWaitingDrain) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("stuck");
  ASSERT_EQ(queue.Get(), "stuck");
  auto drained = std::async(std::launch::async, [&] { queue.ShutDownWithDrain(); });
  ASSERT_TRUE(WaitFor([&] { return queue.ShuttingDown(); }));
  EXPECT_EQ(drained.wait_for(0s), std::future_status::timeout);
  queue.ShutDown();  // gives up on the stuck worker
  EXPECT_EQ(drained.wait_for(10s), std::future_status::ready);
  queue.Done("stuck");
}

TEST(WorkQueueDeathTest, DoneForAKeyNotBeingProcessedIsABug) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add("a");
  EXPECT_DEATH(queue.Done("a"), "not being processed");
}

// The core promise under load: 8 workers, 100,000 adds over 1,000 keys from 4 producers. A key is
// never held by two workers at once, and every add is followed by a Get that saw it.
TEST(WorkQueueTest, NoKeyIsProcessedByTwoWorkersAtOnce) {
  constexpr int kWorkers = 8;
  constexpr int kProducers = 4;
  constexpr int kKeys = 1000;
  constexpr int kAdds = 100000;
  FakeClock clock;
  metrics::Registry registry;
  WorkQueue queue(clock, {.name = "stress", .registry = &registry});
  auto key_name = [](int k) { return "ns/key-" + std::to_string(k); };

  std::vector<std::atomic<int>> holders(kKeys);
  std::vector<std::atomic<uint64_t>> added(kKeys);      // adds of each key so far
  std::vector<std::atomic<uint64_t>> processed(kKeys);  // `added` as seen by the key's last Get
  std::atomic<int> max_holders{0};
  std::atomic<uint64_t> gets{0};
  std::atomic<uint64_t> adds_while_held{0};  // adds that took the dirty-while-processing path

  auto started = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      while (auto key = queue.Get()) {
        int k = std::stoi(key->substr(key->rfind('-') + 1));
        int now_holding = holders[k].fetch_add(1) + 1;
        int seen_max = max_holders.load();
        while (now_holding > seen_max && !max_holders.compare_exchange_weak(seen_max, now_holding)) {
        }
        uint64_t seen = added[k].load();
        // Widen the window in which a second worker could wrongly get the same key.
        if ((gets.fetch_add(1) & 3) == 0) std::this_thread::yield();
        processed[k].store(seen);
        holders[k].fetch_sub(1);
        queue.Done(*key);
      }
    });
  }
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 rng(1234 + p);
      for (int i = 0; i < kAdds / kProducers; ++i) {
        // Keep the queue short so that most adds are handed out rather than merged, and many land
        // on a key a worker holds.
        while (queue.Len() > 64) std::this_thread::yield();
        int k = static_cast<int>(rng() % kKeys);
        if (holders[k].load() > 0) adds_while_held.fetch_add(1);
        added[k].fetch_add(1);  // before Add: a Get that follows this Add sees it
        queue.Add(key_name(k));
      }
    });
  }
  for (auto& t : producers) t.join();
  bool all_processed = WaitFor(
      [&] {
        for (int k = 0; k < kKeys; ++k) {
          if (processed[k].load() != added[k].load()) return false;
        }
        return true;
      },
      60s);
  auto elapsed = std::chrono::steady_clock::now() - started;
  queue.ShutDownWithDrain();
  for (auto& t : workers) t.join();

  EXPECT_TRUE(all_processed) << "an add after a key's last Get was never processed";
  EXPECT_EQ(max_holders.load(), 1);
  EXPECT_EQ(queue.Len(), 0u);
  uint64_t total_gets = gets.load();
  EXPECT_LE(total_gets, static_cast<uint64_t>(kAdds));
  EXPECT_GE(total_gets, static_cast<uint64_t>(kKeys));
  EXPECT_GT(adds_while_held.load(), 0u);
  // Every add that entered the dirty set was handed out exactly once.
  auto& adds = registry.CounterFamily("workqueue_adds_total", "", {"name"}).With({"stress"});
  auto& depth = registry.GaugeFamily("workqueue_depth", "", {"name"}).With({"stress"});
  auto& work = registry.HistogramFamily("workqueue_work_duration_seconds", "", {"name"}).With({"stress"});
  EXPECT_EQ(adds.Value(), static_cast<double>(total_gets));
  EXPECT_EQ(work.Count(), total_gets);
  EXPECT_EQ(depth.Value(), 0);
  double seconds = std::chrono::duration<double>(elapsed).count();
  std::printf(
      "workqueue stress: %d adds, %llu gets, %llu adds to a held key, %d workers, %.3f s "
      "(%.0f gets/s)\n",
      kAdds, static_cast<unsigned long long>(total_gets),
      static_cast<unsigned long long>(adds_while_held.load()), kWorkers, seconds, total_gets / seconds);
}

}  // namespace
}  // namespace ck::client
