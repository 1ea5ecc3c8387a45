// scheduler_queue_bench: what the queue costs per pod on the scheduler's hot paths (Add, Pop,
// AddUnschedulableIfNotPresent, a MoveAll over every parked pod), for N pods on a FakeClock,
// in thread CPU time.
//   scheduler_queue_bench [pods]   (default 10000)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/api/testing/builders.h"
#include "common/base/clock.h"
#include "common/metrics/metrics.h"
#include "scheduler/queue/scheduling_queue.h"

namespace {

using namespace ck;
using namespace ck::scheduler;
using namespace ck::scheduler::queue;

// CPU time of this thread in microseconds: steadier than wall time on a shared machine.
double CpuMicros() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  FakeClock clock;
  metrics::Registry registry;
  QueueOptions options;
  options.metrics = &registry;
  options.plugin_events = {{"NodeResourcesFit", {{EventResource::kNode, kActionAdd, "Node"}}}};
  PriorityQueue q(clock, options);

  std::vector<PodPtr> pods;
  pods.reserve(n);
  for (int i = 0; i < n; ++i) {
    pods.push_back(std::make_shared<const corev1::Pod>(api::testing::MakePod("p" + std::to_string(i))
                                                           .Uid("uid-" + std::to_string(i))
                                                           .Cpu("100m")
                                                           .Priority(i % 7)
                                                           .Obj()));
  }

  double t = CpuMicros();
  for (const PodPtr& p : pods) q.Add(p);
  double add = (CpuMicros() - t) / n;

  std::vector<QueuedPodInfoPtr> popped;
  popped.reserve(n);
  t = CpuMicros();
  while (auto p = q.TryPop()) popped.push_back(std::move(p));
  double pop = (CpuMicros() - t) / n;

  int64_t cycle = q.SchedulingCycle();
  t = CpuMicros();
  for (auto& p : popped) {
    p->unschedulable_plugins = {"NodeResourcesFit"};
    q.AddUnschedulableIfNotPresent(std::move(p), cycle).IgnoreError();
  }
  double fail = (CpuMicros() - t) / n;

  clock.Advance(std::chrono::seconds(2));
  t = CpuMicros();
  q.MoveAllToActiveOrBackoffQueue({EventResource::kNode, kActionAdd, "NodeAdd"});
  double move_all = (CpuMicros() - t);

  std::string title = "operation (pods=" + std::to_string(n) + ")";
  std::printf("%-36s %12s\n", title.c_str(), "cost");
  std::printf("%-36s %9.2f us/pod\n", "Add (incl. PodInfo parse)", add);
  std::printf("%-36s %9.2f us/pod\n", "Pop", pop);
  std::printf("%-36s %9.2f us/pod\n", "AddUnschedulableIfNotPresent", fail);
  std::printf("%-36s %9.2f ms (%zu moved to activeQ)\n", "MoveAllToActiveOrBackoffQueue", move_all / 1000,
              q.Sizes().active);
  return 0;
}
