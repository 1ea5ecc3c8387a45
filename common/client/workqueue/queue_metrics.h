// QueueMetrics: the workqueue_* metrics of one named queue, with client-go's names, help texts,
// buckets and the single label {name}, so community dashboards for controllers work unchanged.
// A queue built without a name holds a disabled QueueMetrics whose calls do nothing.
//
// Threading: the owning queue calls Added/Got/Finished/UpdateUnfinishedWork under its own mutex
// (the time maps here are not locked); Retried is a lock-free counter, safe from any thread.
#pragma once

#include <string>
#include <unordered_map>

#include "common/base/clock.h"
#include "common/metrics/metrics.h"

namespace ck::client {

class QueueMetrics {
 public:
  // Disabled: reports nothing.
  QueueMetrics() = default;
  // Registers (or finds) the seven workqueue_* families in `registry` and takes the children
  // labelled {name}. Two queues with the same name share the children.
  QueueMetrics(const std::string& name, metrics::Registry& registry, Clock& clock);

  bool enabled() const { return clock_ != nullptr; }

  // A key entered the dirty set (workqueue_adds_total, workqueue_depth).
  void Added(const std::string& key);
  // A worker took the key (workqueue_depth, workqueue_queue_duration_seconds).
  void Got(const std::string& key);
  // A worker finished the key (workqueue_work_duration_seconds).
  void Finished(const std::string& key);
  // Recomputes workqueue_unfinished_work_seconds and workqueue_longest_running_processor_seconds
  // from the keys being processed now.
  void UpdateUnfinishedWork();
  // A delayed or rate-limited add (workqueue_retries_total).
  void Retried();

 private:
  Clock* clock_ = nullptr;
  metrics::Gauge* depth_ = nullptr;
  metrics::Counter* adds_ = nullptr;
  metrics::Histogram* queue_duration_ = nullptr;
  metrics::Histogram* work_duration_ = nullptr;
  metrics::Gauge* unfinished_work_ = nullptr;
  metrics::Gauge* longest_running_ = nullptr;
  metrics::Counter* retries_ = nullptr;
  // When each dirty key was first added, and when each processed key was taken.
  std::unordered_map<std::string, MonoTime> add_times_;
  std::unordered_map<std::string, MonoTime> processing_start_times_;
};

// client-go's workqueue histogram buckets: 1e-8 s to 10 s, a factor of 10 apart.
std::vector<double> WorkQueueDurationBuckets();

}  // namespace ck::client
