// PodTopologySpread's cost per scheduling cycle at scheduler_perf scale: 5,000 nodes in 3 zones
// with 10,000 existing pods (2 per node, 50 apps). Each iteration is one pod's cycle:
//   PreFilterFilter_<key>  PreFilter + Filter on every node (DoNotSchedule on zone or hostname)
//   PreScoreScore_<kind>   PreScore + Score on every node + NormalizeScore (ScheduleAnyway zone +
//                          hostname, or the system defaults with a Service-derived selector)
//   FilterOnly_Zone        Filter on every node, PreFilter state reused (the per-node cost)
// Steady-state runs add one matching pod to one node per iteration, as the previous cycle's
// assumed pod does, so the plugin's node cache re-reads one node per cycle. *_Cold runs use a new
// plugin (an empty cache) per iteration: every node's pods are counted, as upstream does.
// items_per_second is cycles (pods) per second of this plugin alone, on a 2-thread Parallelizer.
// Run: build-disc/bin/podtopologyspread_bench
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "common/api/testing/builders.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/cache/indexer.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

namespace ck::scheduler::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakeNode;
using api::testing::MakePod;

constexpr int kNodes = 5000;
constexpr int kPods = 10000;
constexpr int kApps = 50;

class BenchHandle final : public Handle {
 public:
  const Snapshot& snapshot() const override { return snapshot_; }
  const Listers& listers() const override { return listers_; }
  client::ApiClient* api() override { return nullptr; }
  client::EventRecorder* events() override { return nullptr; }
  PodNominator* nominator() override { return nullptr; }
  Clock& clock() override { return clock_; }
  Random& random() override { return random_; }
  Parallelizer& parallelizer() override { return parallelizer_; }
  const std::string& profile_name() const override { return profile_; }
  Verdict RunPreFilterExtensionAddPod(CycleState&, const PodInfo&, const PodInfoPtr&,
                                      const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunPreFilterExtensionRemovePod(CycleState&, const PodInfo&, const PodInfoPtr&,
                                         const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunFilterPluginsWithNominatedPods(CycleState&, const PodInfo&, const NodeInfo&) override {
    return Verdict::Success();
  }

  Snapshot snapshot_;
  Listers listers_;
  client::Indexer services_;

 private:
  FakeClock clock_;
  FakeRandom random_;
  Parallelizer parallelizer_{2, "pts-bench"};
  std::string profile_ = "default-scheduler";
};

// One cluster for every benchmark (building it takes a moment).
BenchHandle& Cluster() {
  static BenchHandle* h = [] {
    auto* handle = new BenchHandle();
    std::vector<corev1::Node> nodes;
    nodes.reserve(kNodes);
    for (int i = 0; i < kNodes; ++i) {
      std::string name = "node-" + std::to_string(i);
      nodes.push_back(MakeNode(name)
                          .Label("kubernetes.io/hostname", name)
                          .Label("topology.kubernetes.io/zone", "zone-" + std::to_string(i % 3))
                          .Label("kubernetes.io/os", "linux")
                          .Capacity("32", "128Gi"));
    }
    std::vector<corev1::Pod> pods;
    pods.reserve(kPods);
    for (int i = 0; i < kPods; ++i) {
      std::string name = "pod-" + std::to_string(i);
      pods.push_back(MakePod(name)
                         .Uid(name)
                         .Label("app", "app-" + std::to_string(i % kApps))
                         .Label("pod-template-hash", "h" + std::to_string(i % kApps))
                         .Node("node-" + std::to_string((i * 7919) % kNodes))
                         .Cpu("100m"));
    }
    handle->snapshot_ = Snapshot::FromObjects(pods, nodes);
    auto svc = std::make_shared<corev1::Service>();
    svc->mutable_metadata()->set_name("app-0");
    svc->mutable_metadata()->set_namespace_("default");
    (*svc->mutable_spec()->mutable_selector())["app"] = "app-0";
    handle->services_.Add(svc);
    handle->listers_.services = &handle->services_;
    return handle;
  }();
  return *h;
}

PodInfoPtr IncomingPod(const std::vector<std::pair<std::string, std::string>>& constraints /* key, when */) {
  corev1::Pod pod =
      MakePod("incoming").Uid("incoming").Label("app", "app-0").Label("pod-template-hash", "h0");
  for (const auto& [key, when] : constraints) {
    auto* c = pod.mutable_spec()->add_topologyspreadconstraints();
    c->set_maxskew(key == "kubernetes.io/hostname" ? 1 : 5);
    c->set_topologykey(key);
    c->set_whenunsatisfiable(when);
    (*c->mutable_labelselector()->mutable_matchlabels())["app"] = "app-0";
  }
  return *PodInfo::Create(pod);
}

std::unique_ptr<PodTopologySpread> NewPlugin(BenchHandle& h) {
  auto p = NewPodTopologySpread(YAML::Node(), h);
  return std::unique_ptr<PodTopologySpread>(dynamic_cast<PodTopologySpread*>(p->release()));
}

// The previous cycle's pod, assumed on a node: that node's generation moves.
void AssumeOne(BenchHandle& h, const PodInfoPtr& pod, int64_t cycle) {
  const auto& nodes = h.snapshot_.List();
  nodes[static_cast<size_t>(cycle * 7919) % nodes.size()]->AddPod(pod);
}

void PreFilterFilter(benchmark::State& st, const std::string& key, bool cold) {
  BenchHandle& h = Cluster();
  auto pl = NewPlugin(h);
  PodInfoPtr pod = IncomingPod({{key, "DoNotSchedule"}});
  const auto& nodes = h.snapshot_.List();
  int64_t feasible = 0, cycle = 0;
  for (auto _ : st) {
    if (cold) pl = NewPlugin(h);
    AssumeOne(h, pod, cycle++);
    CycleState state;
    PreFilterResult r;
    if (!pl->PreFilter(state, *pod, h.snapshot_, &r).IsSuccess()) st.SkipWithError("PreFilter failed");
    for (const auto& n : nodes) feasible += pl->Filter(state, *pod, *n).IsSuccess() ? 1 : 0;
  }
  st.SetItemsProcessed(st.iterations());
  st.counters["feasible_nodes"] = static_cast<double>(feasible) / static_cast<double>(st.iterations());
}

void PreScoreScore(benchmark::State& st, const std::vector<std::pair<std::string, std::string>>& constraints,
                   bool cold) {
  BenchHandle& h = Cluster();
  auto pl = NewPlugin(h);
  PodInfoPtr pod = IncomingPod(constraints);
  std::vector<const NodeInfo*> feasible;
  for (const auto& n : h.snapshot_.List()) feasible.push_back(n.get());
  std::vector<NodeScore> scores(feasible.size());
  int64_t cycle = 0;
  for (auto _ : st) {
    if (cold) pl = NewPlugin(h);
    AssumeOne(h, pod, cycle++);
    CycleState state;
    if (!pl->PreScore(state, *pod, feasible).IsSuccess()) st.SkipWithError("PreScore did not run");
    for (size_t i = 0; i < feasible.size(); ++i) {
      scores[i].name = feasible[i]->name();
      (void)pl->Score(state, *pod, *feasible[i], &scores[i].score);
    }
    (void)pl->NormalizeScore(state, *pod, scores);
    benchmark::DoNotOptimize(scores.data());
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_PreFilterFilter_Zone(benchmark::State& st) {
  PreFilterFilter(st, "topology.kubernetes.io/zone", false);
}
void BM_PreFilterFilter_Hostname(benchmark::State& st) {
  PreFilterFilter(st, "kubernetes.io/hostname", false);
}
void BM_PreFilterFilter_Zone_Cold(benchmark::State& st) {
  PreFilterFilter(st, "topology.kubernetes.io/zone", true);
}

const std::vector<std::pair<std::string, std::string>> kSoftZoneAndHostname = {
    {"topology.kubernetes.io/zone", "ScheduleAnyway"}, {"kubernetes.io/hostname", "ScheduleAnyway"}};
void BM_PreScoreScore_ZoneAndHostname(benchmark::State& st) {
  PreScoreScore(st, kSoftZoneAndHostname, false);
}
void BM_PreScoreScore_ZoneAndHostname_Cold(benchmark::State& st) {
  PreScoreScore(st, kSoftZoneAndHostname, true);
}
// No constraints of its own: the system defaults with the selector from Service app-0.
void BM_PreScoreScore_SystemDefaults(benchmark::State& st) { PreScoreScore(st, {}, false); }

void BM_FilterOnly_Zone(benchmark::State& st) {
  BenchHandle& h = Cluster();
  auto pl = NewPlugin(h);
  PodInfoPtr pod = IncomingPod({{"topology.kubernetes.io/zone", "DoNotSchedule"}});
  CycleState state;
  PreFilterResult r;
  (void)pl->PreFilter(state, *pod, h.snapshot_, &r);
  const auto& nodes = h.snapshot_.List();
  for (auto _ : st) {
    for (const auto& n : nodes) benchmark::DoNotOptimize(pl->Filter(state, *pod, *n).IsSuccess());
  }
  st.SetItemsProcessed(st.iterations() * static_cast<int64_t>(nodes.size()));
  st.SetLabel("items = node Filter calls");
}

BENCHMARK(BM_PreFilterFilter_Zone)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PreFilterFilter_Hostname)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PreFilterFilter_Zone_Cold)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PreScoreScore_ZoneAndHostname)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PreScoreScore_ZoneAndHostname_Cold)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_PreScoreScore_SystemDefaults)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_FilterOnly_Zone)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace ck::scheduler::plugins

BENCHMARK_MAIN();
