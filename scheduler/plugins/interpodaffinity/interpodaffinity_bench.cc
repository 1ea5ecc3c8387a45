// interpodaffinity_bench: InterPodAffinity's cost per scheduling cycle in the PodAntiAffinity
// case of the scheduler's targets (500 pods/s at 5,000 nodes on 2 cores): 5,000 nodes, 5,000
// existing pods that each carry required anti-affinity on kubernetes.io/hostname, and an incoming
// pod with the same kind of term. One iteration = PreFilter + Filter on every node, over a
// 2-thread Parallelizer, as the framework runs them.
//   BM_AntiAffinity/Disjoint  existing pods repel their own group; the incoming pod is another group
//                             (every node passes)
//   BM_AntiAffinity/SameGroup the incoming pod belongs to the existing pods' group on half of the
//                             nodes (those fail on both rules; the rest pass)
//   BM_AntiAffinity/Zones     the same with 3 zones as a second topology key in every term
//   BM_PreFilter/SameGroup    PreFilter alone
// The shape repeats every iteration, so after the first two cycles PreFilter is served by the
// memo (counts_memo.h) with nothing to recount: a scheduler binding one pod per cycle recounts one
// node. Counters: prefilter_us and filter_us per cycle (wall time), feasible nodes.
// Run: build/bin/interpodaffinity_bench [--benchmark_filter=...]
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/api/testing/builders.h"
#include "common/base/check.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/plugins/interpodaffinity/fake_handle.h"
#include "scheduler/plugins/interpodaffinity/plugin.h"

namespace ck::scheduler::plugins {
namespace {

constexpr int kNodes = 5000;
constexpr int kPods = 5000;
constexpr char kHostname[] = "kubernetes.io/hostname";
constexpr char kZone[] = "topology.kubernetes.io/zone";

void AddAntiTerm(corev1::Pod& pod, const std::string& group, const std::string& topology_key) {
  auto* term = pod.mutable_spec()
                   ->mutable_affinity()
                   ->mutable_podantiaffinity()
                   ->add_requiredduringschedulingignoredduringexecution();
  (*term->mutable_labelselector()->mutable_matchlabels())["group"] = group;
  term->set_topologykey(topology_key);
}

corev1::Pod GroupPod(const std::string& name, const std::string& group, const std::string& node, bool zones) {
  corev1::Pod pod = api::testing::MakePod(name).Uid("uid-" + name).Label("group", group).Label("app", "bench").Node(node);
  AddAntiTerm(pod, group, kHostname);
  if (zones) AddAntiTerm(pod, group, kZone);
  return pod;
}

enum class Shape { kDisjoint, kSameGroup, kZones };

// The cluster of one shape, built once and shared by the runs of every thread count.
struct Cluster {
  Snapshot snapshot;
  PodInfoPtr incoming;
};

const Cluster& ClusterOf(Shape shape) {
  static std::map<Shape, Cluster> clusters;
  auto it = clusters.find(shape);
  if (it != clusters.end()) return it->second;
  const bool zones = shape == Shape::kZones;
  std::vector<corev1::Node> nodes;
  nodes.reserve(kNodes);
  for (int i = 0; i < kNodes; ++i) {
    auto b = api::testing::MakeNode("node-" + std::to_string(i)).Label(kZone, "zone-" + std::to_string(i % 3));
    b.Label("node.kubernetes.io/instance-type", "m5.large").Label("kubernetes.io/os", "linux");
    nodes.push_back(b);
  }
  std::vector<corev1::Pod> pods;
  pods.reserve(kPods);
  for (int i = 0; i < kPods; ++i) {
    // Disjoint: every existing pod in group "existing"; SameGroup/Zones: every other node's pod is
    // in the incoming pod's group "web" (zones: so many that every zone holds one).
    std::string group = shape == Shape::kDisjoint || i % 2 == 1 ? "existing" : "web";
    pods.push_back(GroupPod("pod-" + std::to_string(i), group, nodes[i % kNodes].metadata().name(), zones));
  }
  auto incoming = PodInfo::Create(GroupPod("incoming", "web", "", zones));
  CK_CHECK(incoming.ok());
  return clusters[shape] = Cluster{Snapshot::FromObjects(pods, nodes), *incoming};
}

using Steady = std::chrono::steady_clock;

void BM_AntiAffinity(benchmark::State& bench, Shape shape) {
  const Cluster& cluster = ClusterOf(shape);
  testing::FakeHandle handle(static_cast<int>(bench.range(0)));
  handle.set_snapshot(cluster.snapshot);
  InterPodAffinity plugin({}, handle);
  const PodInfo& pod = *cluster.incoming;
  const auto& list = handle.snapshot().List();

  int64_t feasible = 0;
  Steady::duration prefilter{}, filter{};
  for (auto _ : bench) {
    CycleState state;
    auto t0 = Steady::now();
    Verdict pre = plugin.PreFilter(state, pod, handle.snapshot(), nullptr);
    CK_CHECK(pre.IsSuccess()) << pre.String();
    auto t1 = Steady::now();
    std::atomic<int64_t> passed{0};
    handle.parallelizer().Until(list.size(), [&](size_t i) {
      if (plugin.Filter(state, pod, *list[i]).IsSuccess()) passed.fetch_add(1, std::memory_order_relaxed);
    });
    prefilter += t1 - t0;
    filter += Steady::now() - t1;
    feasible = passed.load();
  }
  auto us = [&](Steady::duration d) {
    return std::chrono::duration<double, std::micro>(d).count() / static_cast<double>(bench.iterations());
  };
  bench.counters["prefilter_us"] = us(prefilter);
  bench.counters["filter_us"] = us(filter);
  bench.counters["feasible"] = static_cast<double>(feasible);
}

// PreFilter alone (warm memo), to see its share.
void BM_PreFilter(benchmark::State& bench, Shape shape) {
  const Cluster& cluster = ClusterOf(shape);
  testing::FakeHandle handle(static_cast<int>(bench.range(0)));
  handle.set_snapshot(cluster.snapshot);
  InterPodAffinity plugin({}, handle);
  for (auto _ : bench) {
    CycleState state;
    benchmark::DoNotOptimize(plugin.PreFilter(state, *cluster.incoming, handle.snapshot(), nullptr));
  }
}

// Arg: threads of the Parallelizer. CPU time counts every thread of the process, so on a loaded
// machine it is the figure to read; real time (and the phase counters) is what a cycle waits.
BENCHMARK_CAPTURE(BM_AntiAffinity, Disjoint, Shape::kDisjoint)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK_CAPTURE(BM_AntiAffinity, SameGroup, Shape::kSameGroup)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK_CAPTURE(BM_AntiAffinity, Zones, Shape::kZones)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();
BENCHMARK_CAPTURE(BM_PreFilter, SameGroup, Shape::kSameGroup)->Arg(1)->Unit(benchmark::kMicrosecond)->MeasureProcessCPUTime()->UseRealTime();

}  // namespace
}  // namespace ck::scheduler::plugins

BENCHMARK_MAIN();
