// Prometheus metrics: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4) for every daemon's /metrics.
//
// Metric names follow upstream Kubernetes (apiserver_request_total, workqueue_depth, ...), so
// community dashboards work. A family is created once (usually at start-up) and looked up by
// label values on the hot path:
//   auto& requests = registry.CounterFamily("apiserver_request_total", "Counter of apiserver requests",
//                                     {"verb", "resource", "code"});
//   requests.With({"GET", "pods", "200"}).Inc();
// Threading: everything is safe from any thread; updates are lock-free atomics, With() takes a
// short lock per family (cache the returned reference where it is hot).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ck::metrics {

class AtomicDouble {
 public:
  void Add(double d);
  void Set(double d) { bits_.store(Bits(d), std::memory_order_relaxed); }
  double Get() const;

 private:
  static uint64_t Bits(double d);
  std::atomic<uint64_t> bits_{0};
};

class Counter {
 public:
  void Inc(double d = 1) { v_.Add(d); }
  double Value() const { return v_.Get(); }

 private:
  AtomicDouble v_;
};

class Gauge {
 public:
  void Set(double d) { v_.Set(d); }
  void Inc(double d = 1) { v_.Add(d); }
  void Dec(double d = 1) { v_.Add(-d); }
  double Value() const { return v_.Get(); }

 private:
  AtomicDouble v_;
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound (the last entry is +Inf), total sum and count.
  std::vector<uint64_t> CumulativeCounts() const;
  double Sum() const { return sum_.Get(); }
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  AtomicDouble sum_;
  std::atomic<uint64_t> count_{0};
};

// Exponential bucket bounds: start, start*factor, ... (count bounds).
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// Upstream's default latency buckets for request durations (seconds).
std::vector<double> DefaultLatencyBuckets();

template <typename M>
class Family {
 public:
  using Factory = std::function<std::unique_ptr<M>()>;
  Family(std::vector<std::string> label_names, Factory factory)
      : label_names_(std::move(label_names)), factory_(std::move(factory)) {}

  // The child for these label values (created on first use). The number of values must match
  // the family's label names.
  M& With(const std::vector<std::string>& values);
  // Shorthand for a family without labels.
  M& Get() { return With({}); }

  const std::vector<std::string>& label_names() const { return label_names_; }
  // Snapshot of the children, for rendering.
  std::vector<std::pair<std::vector<std::string>, const M*>> Children() const;

 private:
  std::vector<std::string> label_names_;
  Factory factory_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_;  // guarded by mu_
};

class Registry {
 public:
  // The process-wide registry that /metrics serves.
  static Registry& Default();

  // Returns the family with this name, creating it the first time. Asking again with the same
  // name returns the same family (the label names must match).
  Family<metrics::Counter>& CounterFamily(const std::string& name, const std::string& help,
                           std::vector<std::string> labels = {});
  Family<metrics::Gauge>& GaugeFamily(const std::string& name, const std::string& help,
                       std::vector<std::string> labels = {});
  Family<metrics::Histogram>& HistogramFamily(const std::string& name, const std::string& help,
                               std::vector<std::string> labels = {},
                               std::vector<double> bounds = DefaultLatencyBuckets());
  // A gauge computed at scrape time (process_resident_memory_bytes, store sizes, ...).
  void GaugeFunc(const std::string& name, const std::string& help, std::function<double()> fn);
  void CounterFunc(const std::string& name, const std::string& help, std::function<double()> fn);

  // The whole registry in Prometheus text format, families sorted by name.
  std::string Render() const;

 private:
  struct Entry {
    std::string help;
    std::string type;
    std::unique_ptr<Family<metrics::Counter>> counter;
    std::unique_ptr<Family<metrics::Gauge>> gauge;
    std::unique_ptr<Family<metrics::Histogram>> histogram;
    std::function<double()> func;
  };
  Entry& Find(const std::string& name, const std::string& help, const char* type);
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;  // guarded by mu_
};

// Adds process_resident_memory_bytes, process_virtual_memory_bytes, process_cpu_seconds_total,
// process_start_time_seconds, process_open_fds and process_max_fds (read from /proc at scrape).
void RegisterProcessMetrics(Registry& registry);

// Resident set size of this process in bytes (from /proc/self/statm).
double ResidentMemoryBytes();
// User + system CPU seconds of this process.
double CpuSeconds();

}  // namespace ck::metrics
