#include "common/metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace ck::metrics {
namespace {

TEST(MetricsTest, CounterWithLabelsRenders) {
  Registry r;
  auto& req = r.CounterFamily("apiserver_request_total", "Counter of apiserver requests", {"verb", "code"});
  req.With({"GET", "200"}).Inc();
  req.With({"GET", "200"}).Inc(2);
  req.With({"POST", "201"}).Inc();
  std::string out = r.Render();
  EXPECT_NE(out.find("# HELP apiserver_request_total Counter of apiserver requests\n"
                     "# TYPE apiserver_request_total counter\n"
                     "apiserver_request_total{verb=\"GET\",code=\"200\"} 3\n"
                     "apiserver_request_total{verb=\"POST\",code=\"201\"} 1\n"),
            std::string::npos)
      << out;
}

TEST(MetricsTest, GaugeAndFunc) {
  Registry r;
  auto& g = r.GaugeFamily("workqueue_depth", "Current depth", {"name"}).With({"deployment"});
  g.Inc(5);
  g.Dec(2);
  EXPECT_EQ(g.Value(), 3);
  r.GaugeFunc("ck_answer", "x", [] { return 42.5; });
  std::string out = r.Render();
  EXPECT_NE(out.find("workqueue_depth{name=\"deployment\"} 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("ck_answer 42.5\n"), std::string::npos) << out;
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.HistogramFamily("d_seconds", "d", {}, {0.1, 1}).Get();
  h.Observe(0.05);
  h.Observe(0.1);  // a value equal to a bound falls in that bucket (le)
  h.Observe(0.5);
  h.Observe(7);
  std::string out = r.Render();
  EXPECT_NE(out.find("d_seconds_bucket{le=\"0.1\"} 2\n"
                     "d_seconds_bucket{le=\"1\"} 3\n"
                     "d_seconds_bucket{le=\"+Inf\"} 4\n"
                     "d_seconds_sum 7.65\n"
                     "d_seconds_count 4\n"),
            std::string::npos)
      << out;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  r.CounterFamily("c", "h", {"path"}).With({"a\"b\\c\n"}).Inc();
  EXPECT_NE(r.Render().find("c{path=\"a\\\"b\\\\c\\n\"} 1"), std::string::npos) << r.Render();
}

TEST(MetricsTest, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = r.CounterFamily("n", "h").Get();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) ts.emplace_back([&] { for (int i = 0; i < 10000; ++i) c.Inc(); });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.Value(), 40000);
}

TEST(MetricsTest, ProcessMetrics) {
  Registry r;
  RegisterProcessMetrics(r);
  std::string out = r.Render();
  for (const char* name : {"process_resident_memory_bytes", "process_cpu_seconds_total", "process_start_time_seconds",
                           "process_open_fds", "process_max_fds", "process_virtual_memory_bytes"}) {
    EXPECT_NE(out.find(std::string("\n") + name + " "), std::string::npos) << name;
  }
  EXPECT_GT(ResidentMemoryBytes(), 1e6);
}

TEST(MetricsDeathTest, WrongLabelCountIsABug) {
  Registry r;
  auto& f = r.CounterFamily("x", "h", {"a"});
  EXPECT_DEATH(f.With({"1", "2"}), "label values");
}

}  // namespace
}  // namespace ck::metrics
