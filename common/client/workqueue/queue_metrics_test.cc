#include "common/client/workqueue/queue_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/client/workqueue/rate_limiting_queue.h"
#include "common/client/workqueue/wait_for_testing.h"

namespace ck::client {
namespace {

using namespace std::chrono_literals;
using testing::WaitFor;

class QueueMetricsTest : public ::testing::Test {
 protected:
  double GaugeValue(const std::string& name) {
    return registry_.GaugeFamily(name, "", {"name"}).With({"test"}).Value();
  }
  double CounterValue(const std::string& name) {
    return registry_.CounterFamily(name, "", {"name"}).With({"test"}).Value();
  }
  metrics::Histogram& Hist(const std::string& name) {
    return registry_.HistogramFamily(name, "", {"name"}).With({"test"});
  }
  bool GaugesAre(double unfinished, double longest) {
    return std::abs(GaugeValue("workqueue_unfinished_work_seconds") - unfinished) < 1e-9 &&
           std::abs(GaugeValue("workqueue_longest_running_processor_seconds") - longest) < 1e-9;
  }

  FakeClock clock_;
  metrics::Registry registry_;
};

TEST_F(QueueMetricsTest, ValuesAfterAKnownSequence) {
  RateLimitingQueue queue(clock_, std::make_unique<ItemExponentialFailureRateLimiter>(),
                          {.name = "test", .registry = &registry_});
  auto& queue_duration = Hist("workqueue_queue_duration_seconds");
  auto& work_duration = Hist("workqueue_work_duration_seconds");

  queue.Add("a");  // t = 0
  queue.Add("b");
  queue.Add("a");  // deduped: not an add
  EXPECT_EQ(CounterValue("workqueue_adds_total"), 2);
  EXPECT_EQ(GaugeValue("workqueue_depth"), 2);

  clock_.Advance(1s);  // t = 1
  ASSERT_EQ(queue.Get(), "a");
  EXPECT_EQ(GaugeValue("workqueue_depth"), 1);
  EXPECT_EQ(queue_duration.Count(), 1u);
  EXPECT_DOUBLE_EQ(queue_duration.Sum(), 1.0);

  clock_.Advance(2s);  // t = 3
  queue.Done("a");
  EXPECT_EQ(work_duration.Count(), 1u);
  EXPECT_DOUBLE_EQ(work_duration.Sum(), 2.0);

  ASSERT_EQ(queue.Get(), "b");  // waited 3 s
  EXPECT_EQ(queue_duration.Count(), 2u);
  EXPECT_DOUBLE_EQ(queue_duration.Sum(), 4.0);
  queue.Add("b");  // dirty while processed: counts as an add and in the depth
  EXPECT_EQ(CounterValue("workqueue_adds_total"), 3);
  EXPECT_EQ(GaugeValue("workqueue_depth"), 1);

  clock_.Advance(4s);  // t = 7: "b" has been processed for 4 s
  EXPECT_TRUE(WaitFor([&] { return GaugesAre(4.0, 4.0); }));
  queue.Done("b");
  EXPECT_EQ(work_duration.Count(), 2u);
  EXPECT_DOUBLE_EQ(work_duration.Sum(), 6.0);
  ASSERT_EQ(queue.Get(), "b");  // the re-add at t = 3 waited 4 s
  EXPECT_EQ(queue_duration.Count(), 3u);
  EXPECT_DOUBLE_EQ(queue_duration.Sum(), 8.0);
  EXPECT_EQ(GaugeValue("workqueue_depth"), 0);

  queue.Add("c");
  clock_.Advance(1s);           // t = 8
  ASSERT_EQ(queue.Get(), "c");  // waited 1 s
  EXPECT_EQ(queue_duration.Count(), 4u);
  EXPECT_DOUBLE_EQ(queue_duration.Sum(), 9.0);
  clock_.Advance(2s);  // t = 10: "b" for 3 s, "c" for 2 s
  EXPECT_TRUE(WaitFor([&] { return GaugesAre(5.0, 3.0); }));
  queue.Done("b");
  queue.Done("c");
  EXPECT_EQ(work_duration.Count(), 4u);
  EXPECT_DOUBLE_EQ(work_duration.Sum(), 11.0);
  clock_.Advance(1s);
  EXPECT_TRUE(WaitFor([&] { return GaugesAre(0, 0); }));

  queue.AddRateLimited("d");  // pending for 5 ms: a retry, not yet an add
  queue.AddAfter("e", 0s);    // a retry and an add
  EXPECT_EQ(CounterValue("workqueue_retries_total"), 2);
  EXPECT_EQ(CounterValue("workqueue_adds_total"), 5);
  EXPECT_EQ(GaugeValue("workqueue_depth"), 1);

  // Upstream buckets: 1e-8 s * 10^i for i in 0..9.
  const auto& bounds = queue_duration.bounds();
  ASSERT_EQ(bounds.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(bounds[i], 1e-8 * std::pow(10, i), 1e-8 * std::pow(10, i) * 1e-9);
  EXPECT_EQ(work_duration.bounds(), bounds);
  // Waits of 1 s, 3 s, 4 s and 1 s: two in the (0.1, 1] bucket, two in (1, 10].
  EXPECT_EQ(queue_duration.CumulativeCounts()[7], 0u);
  EXPECT_EQ(queue_duration.CumulativeCounts()[8], 2u);
  EXPECT_EQ(queue_duration.CumulativeCounts()[9], 4u);

  std::string text = registry_.Render();
  for (const char* line : {"workqueue_depth{name=\"test\"} 1\n", "workqueue_adds_total{name=\"test\"} 5\n",
                           "workqueue_retries_total{name=\"test\"} 2\n",
                           "workqueue_queue_duration_seconds_count{name=\"test\"} 4\n",
                           "workqueue_work_duration_seconds_count{name=\"test\"} 4\n",
                           "workqueue_unfinished_work_seconds{name=\"test\"} 0\n",
                           "workqueue_longest_running_processor_seconds{name=\"test\"} 0\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << line << " missing from\n" << text;
  }
}

TEST_F(QueueMetricsTest, UnnamedQueueReportsNothing) {
  {
    RateLimitingQueue queue(clock_, DefaultControllerRateLimiter(clock_), {.registry = &registry_});
    queue.Add("a");
    ASSERT_EQ(queue.Get(), "a");
    queue.Done("a");
    queue.AddRateLimited("a");
  }
  EXPECT_EQ(registry_.Render(), "");
}

TEST_F(QueueMetricsTest, NamedQueueRefreshesUnfinishedWorkOnTheClock) {
  WorkQueue queue(clock_, {.name = "test", .registry = &registry_});
  queue.Add("slow");
  ASSERT_EQ(queue.Get(), "slow");
  // The refresh thread sleeps on the fake clock between updates of every 500 ms.
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  clock_.Advance(WorkQueue::kUnfinishedWorkUpdatePeriod);
  EXPECT_TRUE(WaitFor([&] { return GaugesAre(0.5, 0.5); }));
  clock_.Advance(WorkQueue::kUnfinishedWorkUpdatePeriod);
  EXPECT_TRUE(WaitFor([&] { return GaugesAre(1.0, 1.0); }));
  queue.Done("slow");
}

}  // namespace
}  // namespace ck::client
