// Scheduler: ck-scheduler's main loop (upstream pkg/scheduler Scheduler + schedule_one.go). It
// ties the informers, the queue, the cache and one Framework per profile together:
//   informers -> handlers: unscheduled pods -> queue; assigned pods and nodes -> cache (+ queue
//   moves on cluster events)
//   loop: Pop -> snapshot -> ScheduleAlgorithm -> (no fit: PostFilter/preemption, FailedScheduling,
//   back to the queue) -> assume in the cache -> Reserve -> Permit -> hand to a binding thread
//   binding thread: WaitOnPermit -> PreBind -> Bind (pods/binding) -> FinishBinding -> Scheduled
// Every decision is kept in the ExplainStore (/debug/explain).
// Threading: one scheduling loop thread; `binding_threads` binding workers (binding is an API
// round trip, so several run at once); informer handler threads feed the cache and the queue;
// one timer thread expires assumed pods. Start/Stop from the owner's thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/tools/event_recorder.h"
#include "common/daemon/profile.h"
#include "common/metrics/metrics.h"
#include "scheduler/cache/cache.h"
#include "scheduler/core/algorithm.h"
#include "scheduler/core/config.h"
#include "scheduler/core/explain.h"
#include "scheduler/framework/framework.h"
#include "scheduler/queue/scheduling_queue.h"

namespace ck::scheduler {

struct SchedulerDeps {
  client::ApiClient* api = nullptr;
  client::SharedInformerFactory* informers = nullptr;
  Clock* clock = nullptr;
  Random* random = nullptr;
  metrics::Registry* metrics = nullptr;
  client::EventRecorder* events = nullptr;  // may be null (no events)
};

struct SchedulerOptions {
  int binding_threads = 64;
  // Recent decisions kept for /debug/explain; one record at 1,000 nodes holds every feasible
  // node's scores (~60 KB), so 200 keep it near 12 MB.
  size_t explain_capacity = 200;
  Duration assumed_pod_ttl = std::chrono::minutes(15);
};

class Scheduler {
 public:
  // Builds one Framework per profile from `registry`, the queue and the cache. Invalid when a
  // profile is bad or the profiles disagree on queueSort (upstream requires one).
  static Result<std::unique_ptr<Scheduler>> Create(const Registry& registry, const SchedulerConfig& config,
                                                   const daemon::Profile& profile, SchedulerDeps deps,
                                                   SchedulerOptions options = {});
  ~Scheduler();  // Stop()

  // Registers the informers and their handlers; call before the factory starts.
  void AddEventHandlers();
  // Starts the scheduling loop, the binding workers and the timer (after the caches synced).
  void Run();
  // Closes the queue, joins every thread. Idempotent.
  void Stop();

  // One scheduling cycle (the loop's body); false once the queue is closed.
  bool ScheduleOne();

  ExplainStore& explain_store() { return explain_; }
  Cache& cache() { return *cache_; }
  queue::PriorityQueue& queue() { return *queue_; }
  Framework* FrameworkFor(const std::string& scheduler_name) const;
  // The /debug/explain handler's body: JSON or text for `pod` ("ns/name"); NotFound when unknown.
  Result<std::string> Explain(const std::string& pod, bool text) const;

 private:
  Scheduler(SchedulerDeps deps, SchedulerOptions options, std::optional<int32_t> percentage);

  struct Binding;
  void RunLoop();
  void BindingLoop();
  void Submit(std::function<void()> task);
  void BindingCycle(std::shared_ptr<Binding> b);
  // The attempt failed: FailedScheduling event, PodScheduled=False on the pod, back to the queue.
  void HandleFailure(Framework& fwk, std::unique_ptr<QueuedPodInfo> qpi, int64_t cycle, bool is_error,
                     const std::string& message, const Diagnosis* diagnosis, const std::string& nominated_node,
                     MonoTime start);
  void PatchPodStatus(PodPtr pod, std::string reason, std::string message, std::string nominated_node);
  void RecordAttempt(const std::string& result, const std::string& profile, MonoTime start);
  bool Responsible(const corev1::Pod& pod) const;
  PodPtr CurrentPod(const corev1::Pod& pod) const;

  // Informer handlers.
  void OnPodAdd(const PodPtr& pod);
  void OnPodUpdate(const PodPtr& old_pod, const PodPtr& new_pod);
  void OnPodDelete(const PodPtr& pod);
  void OnNodeAdd(const NodePtr& node);
  void OnNodeUpdate(const NodePtr& old_node, const NodePtr& new_node);
  void OnNodeDelete(const NodePtr& node);

  SchedulerDeps deps_;
  const SchedulerOptions options_;
  std::unique_ptr<Parallelizer> parallelizer_;

  // Frameworks reach the queue's nominator through this (the queue is built after them).
  class NominatorProxy;
  std::unique_ptr<NominatorProxy> nominator_;
  std::map<std::string, std::unique_ptr<Framework>> frameworks_;  // by schedulerName
  std::unique_ptr<queue::PriorityQueue> queue_;
  std::unique_ptr<Cache> cache_;
  ScheduleAlgorithm algorithm_;
  Snapshot snapshot_;  // the scheduling loop's only
  ExplainStore explain_;
  Listers listers_;
  const client::Indexer* pods_ = nullptr;

  metrics::Family<metrics::Counter>* attempts_ = nullptr;
  metrics::Family<metrics::Histogram>* attempt_duration_ = nullptr;
  metrics::Family<metrics::Histogram>* sli_duration_ = nullptr;
  metrics::Histogram* pod_attempts_ = nullptr;
  metrics::Family<metrics::Counter>* preemption_attempts_ = nullptr;

  std::atomic<bool> stopping_{false};
  std::thread loop_;
  std::thread timer_;
  Wakeup timer_wakeup_;
  std::vector<std::thread> binders_;
  std::mutex bind_mu_;
  std::condition_variable bind_cv_;
  std::deque<std::function<void()>> bind_tasks_;  // guarded by bind_mu_
  bool bind_closed_ = false;                       // guarded by bind_mu_
};

}  // namespace ck::scheduler
