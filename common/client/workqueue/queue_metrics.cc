#include "common/client/workqueue/queue_metrics.h"

#include <algorithm>

namespace ck::client {

namespace {

double SecondsBetween(MonoTime from, MonoTime to) { return std::chrono::duration<double>(to - from).count(); }

}  // namespace

std::vector<double> WorkQueueDurationBuckets() { return metrics::ExponentialBuckets(1e-8, 10, 10); }

QueueMetrics::QueueMetrics(const std::string& name, metrics::Registry& registry, Clock& clock)
    : clock_(&clock) {
  const std::vector<std::string> label{"name"};
  const std::vector<std::string> value{name};
  depth_ = &registry.GaugeFamily("workqueue_depth", "Current depth of workqueue", label).With(value);
  adds_ = &registry.CounterFamily("workqueue_adds_total", "Total number of adds handled by workqueue", label)
               .With(value);
  queue_duration_ =
      &registry
           .HistogramFamily("workqueue_queue_duration_seconds",
                            "How long in seconds an item stays in workqueue before being requested.", label,
                            WorkQueueDurationBuckets())
           .With(value);
  work_duration_ = &registry
                        .HistogramFamily("workqueue_work_duration_seconds",
                                         "How long in seconds processing an item from workqueue takes.",
                                         label, WorkQueueDurationBuckets())
                        .With(value);
  unfinished_work_ =
      &registry
           .GaugeFamily("workqueue_unfinished_work_seconds",
                        "How many seconds of work has done that is in progress and hasn't been "
                        "observed by work_duration. Large values indicate stuck threads. One can "
                        "deduce the number of stuck threads by observing the rate at which this "
                        "increases.",
                        label)
           .With(value);
  longest_running_ =
      &registry
           .GaugeFamily("workqueue_longest_running_processor_seconds",
                        "How many seconds has the longest running processor for workqueue been "
                        "running.",
                        label)
           .With(value);
  retries_ =
      &registry
           .CounterFamily("workqueue_retries_total", "Total number of retries handled by workqueue", label)
           .With(value);
}

void QueueMetrics::Added(const std::string& key) {
  if (!enabled()) return;
  adds_->Inc();
  depth_->Inc();
  add_times_.try_emplace(key, clock_->Monotonic());
}

void QueueMetrics::Got(const std::string& key) {
  if (!enabled()) return;
  MonoTime now = clock_->Monotonic();
  depth_->Dec();
  processing_start_times_[key] = now;
  auto it = add_times_.find(key);
  if (it != add_times_.end()) {
    queue_duration_->Observe(SecondsBetween(it->second, now));
    add_times_.erase(it);
  }
}

void QueueMetrics::Finished(const std::string& key) {
  if (!enabled()) return;
  auto it = processing_start_times_.find(key);
  if (it == processing_start_times_.end()) return;
  work_duration_->Observe(SecondsBetween(it->second, clock_->Monotonic()));
  processing_start_times_.erase(it);
}

void QueueMetrics::UpdateUnfinishedWork() {
  if (!enabled()) return;
  MonoTime now = clock_->Monotonic();
  double total = 0;
  double oldest = 0;
  for (const auto& [key, start] : processing_start_times_) {
    double age = SecondsBetween(start, now);
    total += age;
    oldest = std::max(oldest, age);
  }
  unfinished_work_->Set(total);
  longest_running_->Set(oldest);
}

void QueueMetrics::Retried() {
  if (!enabled()) return;
  retries_->Inc();
}

}  // namespace ck::client
