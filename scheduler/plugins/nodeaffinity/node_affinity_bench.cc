// NodeAffinity's per-node cost at 5,000 nodes: Filter with a nodeSelector plus a two-term required
// affinity (labels and Gt), and Score with three preferred terms — the calls a cycle makes per node.
//   build/bin/scheduler_nodeaffinity_bench
#include <benchmark/benchmark.h>

#include "common/api/testing/builders.h"
#include "scheduler/plugins/nodeaffinity/node_affinity.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakeNode;
using api::testing::MakePod;

corev1::NodeSelectorTerm Term(std::vector<std::tuple<std::string, std::string, std::vector<std::string>>> exprs) {
  corev1::NodeSelectorTerm t;
  for (auto& [k, op, vals] : exprs) {
    auto* r = t.add_matchexpressions();
    r->set_key(k);
    r->set_operator_(op);
    for (auto& v : vals) r->add_values(v);
  }
  return t;
}

struct Fixture {
  Fixture() {
    std::vector<corev1::Node> nodes;
    for (int i = 0; i < 5000; ++i) {
      nodes.push_back(MakeNode("node-" + std::to_string(i))
                          .Label("topology.kubernetes.io/zone", "zone-" + std::to_string(i % 3))
                          .Label("kubernetes.io/hostname", "node-" + std::to_string(i))
                          .Label("node.kubernetes.io/instance-type", i % 2 ? "m5.large" : "c5.xlarge")
                          .Label("example.com/kernel", std::to_string(400 + i % 20)));
    }
    snapshot = Snapshot::FromObjects({}, nodes);
    corev1::Pod p = MakePod("p").NodeSelector("node.kubernetes.io/instance-type", "m5.large");
    auto* na = p.mutable_spec()->mutable_affinity()->mutable_nodeaffinity();
    auto* req = na->mutable_requiredduringschedulingignoredduringexecution();
    *req->add_nodeselectorterms() = Term({{"topology.kubernetes.io/zone", "In", {"zone-0", "zone-1"}},
                                          {"example.com/kernel", "Gt", {"405"}}});
    *req->add_nodeselectorterms() = Term({{"topology.kubernetes.io/zone", "In", {"zone-2"}}});
    for (int w = 1; w <= 3; ++w) {
      auto* pref = na->add_preferredduringschedulingignoredduringexecution();
      pref->set_weight(w * 10);
      *pref->mutable_preference() = Term({{"topology.kubernetes.io/zone", "In", {"zone-" + std::to_string(w - 1)}}});
    }
    pod = *PodInfo::Create(p);
    plugin = std::move(NodeAffinity::Create(NodeAffinityArgs{})).value();
    PreFilterResult r;
    (void)plugin->PreFilter(state, *pod, snapshot, &r);
    (void)plugin->PreScore(state, *pod, {});
  }
  Snapshot snapshot;
  PodInfoPtr pod;
  std::unique_ptr<NodeAffinity> plugin;
  CycleState state;
};

void BM_FilterPerNode(benchmark::State& st) {
  Fixture f;
  size_t i = 0, passed = 0;
  const auto& list = f.snapshot.List();
  for (auto _ : st) {
    passed += f.plugin->Filter(f.state, *f.pod, *list[i++ % list.size()]).IsSuccess();
  }
  benchmark::DoNotOptimize(passed);
}
BENCHMARK(BM_FilterPerNode);

void BM_ScorePerNode(benchmark::State& st) {
  Fixture f;
  size_t i = 0;
  int64_t sum = 0;
  const auto& list = f.snapshot.List();
  for (auto _ : st) {
    int64_t s = 0;
    (void)f.plugin->Score(f.state, *f.pod, *list[i++ % list.size()], &s);
    sum += s;
  }
  benchmark::DoNotOptimize(sum);
}
BENCHMARK(BM_ScorePerNode);

}  // namespace
}  // namespace ck::scheduler::plugins

BENCHMARK_MAIN();
