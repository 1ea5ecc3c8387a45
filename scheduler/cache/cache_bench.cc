// scheduler_cache_bench: what the cache costs one scheduling cycle at 5,000 nodes (3 zones) and
// 10,000 assigned pods. A cycle assumes one pod and refreshes its snapshot, so one NodeInfo
// changes per cycle and UpdateSnapshot should copy just that one:
//   BM_AssumeAndUpdateSnapshot   AssumePod + UpdateSnapshot (timed); the pod is forgotten again
//                                outside the timing so every iteration starts from the same state
//   BM_UpdateSnapshotUnchanged   UpdateSnapshot when nothing changed
//   BM_PodLifeInCache            AssumePod, UpdateSnapshot, FinishBinding, AddPod (confirmation),
//                                RemovePod: a pod's whole life in the cache, all timed
//   BM_AssumeFirstAntiAffinity   AssumePod of a pod with required anti-affinity onto a node that
//                                had none + UpdateSnapshot: also rebuilds the affinity lists
//   BM_FullSnapshot              a snapshot built from scratch (every NodeInfo copied), for scale
// Usage: scheduler_cache_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <time.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/api/testing/builders.h"
#include "common/base/check.h"
#include "scheduler/cache/cache.h"

namespace ck::scheduler {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

constexpr int kNodes = 5000;
constexpr int kPods = 10000;

PodInfoPtr MustInfo(const corev1::Pod& pod) {
  auto info = PodInfo::Create(pod);
  CK_CHECK(info.ok()) << info.status().ToString();
  return *info;
}

std::string NodeName(int i) { return "node-" + std::to_string(i); }

corev1::Pod WorkloadPod(const std::string& name, const std::string& node) {
  return MakePod(name).Uid("uid-" + name).Label("app", "web").Cpu("100m").Memory("128Mi").Node(node);
}

// One cache with the cluster loaded and an up-to-date snapshot, shared by the benchmarks; each
// benchmark leaves it as it found it.
struct World {
  FakeClock clock;
  Cache cache{clock};
  Snapshot snapshot;
  std::vector<PodInfoPtr> assumable;       // one pod per node, not in the cache
  std::vector<PodPtr> confirmations;       // the informer's version of each assumable pod
  std::vector<PodInfoPtr> anti_affinity;   // one pod per node with required anti-affinity

  World() {
    const char* zones[] = {"zone-a", "zone-b", "zone-c"};
    for (int i = 0; i < kNodes; ++i) {
      cache.AddNode(std::make_shared<const corev1::Node>(MakeNode(NodeName(i))
                                                             .Capacity("32", "128Gi")
                                                             .Label("topology.kubernetes.io/zone", zones[i % 3])
                                                             .Label("kubernetes.io/hostname", NodeName(i))
                                                             .Obj()));
    }
    for (int i = 0; i < kPods; ++i) {
      Status s = cache.AddPod(std::make_shared<const corev1::Pod>(WorkloadPod("pod-" + std::to_string(i), NodeName(i % kNodes))));
      CK_CHECK(s.ok()) << s.ToString();
    }
    for (int i = 0; i < kNodes; ++i) {
      corev1::Pod pod = WorkloadPod("new-" + std::to_string(i), NodeName(i));
      assumable.push_back(MustInfo(pod));
      confirmations.push_back(std::make_shared<const corev1::Pod>(pod));
      corev1::Pod anti = WorkloadPod("anti-" + std::to_string(i), NodeName(i));
      auto* term = anti.mutable_spec()->mutable_affinity()->mutable_podantiaffinity()->add_requiredduringschedulingignoredduringexecution();
      term->set_topologykey("kubernetes.io/hostname");
      (*term->mutable_labelselector()->mutable_matchlabels())["app"] = "web";
      anti_affinity.push_back(MustInfo(anti));
    }
    Status s = cache.UpdateSnapshot(&snapshot);
    CK_CHECK(s.ok()) << s.ToString();
    CK_CHECK(snapshot.NumNodes() == static_cast<size_t>(kNodes));
  }

  void MustOk(const Status& s) { CK_CHECK(s.ok()) << s.ToString(); }
};

World& GetWorld() {
  static World* world = new World();
  return *world;
}

using Clock = std::chrono::steady_clock;

// CPU time of the calling thread: the timed part's cost without the wait for a core on a busy
// machine (reported as the timed_cpu_us counter beside the wall time).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void BM_AssumeAndUpdateSnapshot(benchmark::State& state) {
  World& w = GetWorld();
  size_t i = 0;
  double timed_cpu = 0;
  for (auto _ : state) {
    const PodInfoPtr& pod = w.assumable[i++ % w.assumable.size()];
    const double cpu_start = ThreadCpuSeconds();
    auto start = Clock::now();
    Status assumed = w.cache.AssumePod(pod);
    Status updated = w.cache.UpdateSnapshot(&w.snapshot);
    auto end = Clock::now();
    timed_cpu += ThreadCpuSeconds() - cpu_start;
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    w.MustOk(assumed);
    w.MustOk(updated);
    w.MustOk(w.cache.ForgetPod(*pod->pod));
    w.MustOk(w.cache.UpdateSnapshot(&w.snapshot));
  }
  state.counters["timed_cpu_us"] = benchmark::Counter(timed_cpu * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["nodes"] = kNodes;
  state.counters["pods"] = static_cast<double>(w.cache.PodCount());
}
BENCHMARK(BM_AssumeAndUpdateSnapshot)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_UpdateSnapshotUnchanged(benchmark::State& state) {
  World& w = GetWorld();
  for (auto _ : state) w.MustOk(w.cache.UpdateSnapshot(&w.snapshot));
}
BENCHMARK(BM_UpdateSnapshotUnchanged)->Unit(benchmark::kMicrosecond);

void BM_PodLifeInCache(benchmark::State& state) {
  World& w = GetWorld();
  size_t i = 0;
  for (auto _ : state) {
    const size_t k = i++ % w.assumable.size();
    const PodInfoPtr& pod = w.assumable[k];
    w.MustOk(w.cache.AssumePod(pod));
    w.MustOk(w.cache.UpdateSnapshot(&w.snapshot));
    w.cache.FinishBinding(*pod->pod);
    w.MustOk(w.cache.AddPod(w.confirmations[k]));
    w.MustOk(w.cache.RemovePod(*w.confirmations[k]));
  }
  w.MustOk(w.cache.UpdateSnapshot(&w.snapshot));
}
BENCHMARK(BM_PodLifeInCache)->Unit(benchmark::kMicrosecond);

void BM_AssumeFirstAntiAffinity(benchmark::State& state) {
  World& w = GetWorld();
  size_t i = 0;
  double timed_cpu = 0;
  for (auto _ : state) {
    const PodInfoPtr& pod = w.anti_affinity[i++ % w.anti_affinity.size()];
    const double cpu_start = ThreadCpuSeconds();
    auto start = Clock::now();
    Status assumed = w.cache.AssumePod(pod);
    Status updated = w.cache.UpdateSnapshot(&w.snapshot);
    auto end = Clock::now();
    timed_cpu += ThreadCpuSeconds() - cpu_start;
    state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    w.MustOk(assumed);
    w.MustOk(updated);
    CK_CHECK(w.snapshot.HavePodsWithRequiredAntiAffinity().size() == 1);
    w.MustOk(w.cache.ForgetPod(*pod->pod));
    w.MustOk(w.cache.UpdateSnapshot(&w.snapshot));
  }
  state.counters["timed_cpu_us"] = benchmark::Counter(timed_cpu * 1e6, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_AssumeFirstAntiAffinity)->UseManualTime()->Unit(benchmark::kMicrosecond);

void BM_FullSnapshot(benchmark::State& state) {
  World& w = GetWorld();
  for (auto _ : state) {
    Snapshot fresh;
    w.MustOk(w.cache.UpdateSnapshot(&fresh));
    benchmark::DoNotOptimize(fresh.NumNodes());
  }
}
BENCHMARK(BM_FullSnapshot)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ck::scheduler

BENCHMARK_MAIN();
