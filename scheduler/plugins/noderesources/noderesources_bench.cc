// Filter and Score cost per node for NodeResourcesFit and NodeResourcesBalancedAllocation on a
// 5,000-node cluster with 10 pods per node: what one scheduling cycle pays per node for these
// two plugins. Run: build/bin/noderesources_bench (or `make bench`). The "per_node" counter is
// seconds per node (e.g. 30n = 30 ns); items_per_second counts nodes.
#include <benchmark/benchmark.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/noderesources/balanced_allocation.h"
#include "scheduler/plugins/noderesources/fit.h"
#include "scheduler/plugins/noderesources/testing.h"

namespace ck::scheduler::plugins {
namespace {

using ::ck::api::testing::MakeNode;
using ::ck::api::testing::MakePod;

constexpr int kNodes = 5000;
constexpr int kPodsPerNode = 10;

struct Cluster {
  std::vector<std::shared_ptr<NodeInfo>> nodes;
  std::unique_ptr<NodeResourcesFit> fit;
  std::unique_ptr<NodeResourcesBalancedAllocation> balanced;
  PodInfoPtr fitting_pod;  // fits everywhere
  PodInfoPtr huge_pod;     // fits nowhere (cpu larger than any node)
  CycleState fitting_state;
  CycleState huge_state;

  Cluster() {
    const char* cpus[] = {"250m", "500m", "1", "2"};
    const char* mems[] = {"256Mi", "1Gi", "2Gi", "4Gi"};
    nodes.reserve(kNodes);
    for (int n = 0; n < kNodes; ++n) {
      const std::string name = "node-" + std::to_string(n);
      std::vector<corev1::Pod> pods;
      for (int p = 0; p < kPodsPerNode; ++p) {
        const std::string pod = name + "-pod-" + std::to_string(p);
        pods.push_back(MakePod(pod).Uid(pod).Node(name).Cpu(cpus[(n + p) % 4]).Memory(mems[(n * 7 + p) % 4]).Request(
            "ephemeral-storage", "1Gi"));
      }
      nodes.push_back(noderesources_testing::MakeNodeInfo(
          MakeNode(name).Capacity(n % 2 ? "32" : "64", n % 3 ? "128Gi" : "256Gi").Allocatable("ephemeral-storage", "500Gi"),
          pods));
    }
    fit = NodeResourcesFit::Create({}).value();
    balanced = NodeResourcesBalancedAllocation::Create({}).value();
    fitting_pod = noderesources_testing::Info(MakePod("web").Cpu("1").Memory("2Gi").Request("ephemeral-storage", "1Gi"));
    huge_pod = noderesources_testing::Info(MakePod("huge").Cpu("100").Memory("2Gi"));
    std::vector<const NodeInfo*> all;
    for (const auto& n : nodes) all.push_back(n.get());
    Prepare(fitting_state, *fitting_pod, all);
    Prepare(huge_state, *huge_pod, all);
  }

  void Prepare(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& all) {
    CK_CHECK(fit->PreFilter(state, pod, Snapshot(), nullptr).IsSuccess());
    CK_CHECK(fit->PreScore(state, pod, all).IsSuccess());
    CK_CHECK(balanced->PreScore(state, pod, all).IsSuccess());
  }
};

Cluster& TheCluster() {
  static Cluster* cluster = new Cluster();
  return *cluster;
}

// Each thread covers every `threads`-th node, so one iteration is one pass over the cluster.
template <typename PerNode>
void RunOverNodes(benchmark::State& state, PerNode per_node) {
  Cluster& c = TheCluster();
  const int threads = state.threads();
  for (auto _ : state) {
    for (int i = state.thread_index(); i < kNodes; i += threads) per_node(c, *c.nodes[i]);
  }
  state.SetItemsProcessed(state.iterations() * kNodes / threads);
  state.counters["per_node"] = benchmark::Counter(static_cast<double>(kNodes) / threads,
                                                  benchmark::Counter::kIsIterationInvariantRate |
                                                      benchmark::Counter::kInvert);
}

void BM_FitFilter(benchmark::State& state) {
  RunOverNodes(state, [](Cluster& c, const NodeInfo& n) {
    benchmark::DoNotOptimize(c.fit->Filter(c.fitting_state, *c.fitting_pod, n));
  });
}

void BM_FitFilterRejecting(benchmark::State& state) {
  RunOverNodes(state, [](Cluster& c, const NodeInfo& n) {
    benchmark::DoNotOptimize(c.fit->Filter(c.huge_state, *c.huge_pod, n));
  });
}

void BM_FitScore(benchmark::State& state) {
  RunOverNodes(state, [](Cluster& c, const NodeInfo& n) {
    int64_t score = 0;
    benchmark::DoNotOptimize(c.fit->Score(c.fitting_state, *c.fitting_pod, n, &score));
    benchmark::DoNotOptimize(score);
  });
}

void BM_BalancedScore(benchmark::State& state) {
  RunOverNodes(state, [](Cluster& c, const NodeInfo& n) {
    int64_t score = 0;
    benchmark::DoNotOptimize(c.balanced->Score(c.fitting_state, *c.fitting_pod, n, &score));
    benchmark::DoNotOptimize(score);
  });
}

// The headline: what both plugins cost per feasible node in one cycle.
void BM_FilterAndScore(benchmark::State& state) {
  RunOverNodes(state, [](Cluster& c, const NodeInfo& n) {
    int64_t fit_score = 0, balanced_score = 0;
    benchmark::DoNotOptimize(c.fit->Filter(c.fitting_state, *c.fitting_pod, n));
    benchmark::DoNotOptimize(c.fit->Score(c.fitting_state, *c.fitting_pod, n, &fit_score));
    benchmark::DoNotOptimize(c.balanced->Score(c.fitting_state, *c.fitting_pod, n, &balanced_score));
    benchmark::DoNotOptimize(fit_score + balanced_score);
  });
}

// One node over and over: the per-call cost with the node in cache (the CycleState lookup and
// the checks), against BM_FitFilter's walk over 5,000 NodeInfos.
void BM_FitFilterHotNode(benchmark::State& state) {
  Cluster& c = TheCluster();
  const NodeInfo& n = *c.nodes[0];
  for (auto _ : state) benchmark::DoNotOptimize(c.fit->Filter(c.fitting_state, *c.fitting_pod, n));
  state.SetItemsProcessed(state.iterations());
}

void BM_CycleStateRead(benchmark::State& state) {
  Cluster& c = TheCluster();
  static const std::string key = "PreFilterNodeResourcesFit";
  for (auto _ : state) benchmark::DoNotOptimize(c.fitting_state.Read(key));
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_FitFilterHotNode);
BENCHMARK(BM_CycleStateRead);
BENCHMARK(BM_FitFilter);
BENCHMARK(BM_FitFilterRejecting);
BENCHMARK(BM_FitScore);
BENCHMARK(BM_BalancedScore);
BENCHMARK(BM_FilterAndScore);
BENCHMARK(BM_FilterAndScore)->Threads(2)->UseRealTime();

}  // namespace
}  // namespace ck::scheduler::plugins

BENCHMARK_MAIN();
