// What one Sync of the StatefulSet controller costs on FakeApi, by set size:
//   BM_SteadySync/N   N Running and Ready pods, nothing to do (revision lookup, claim, status
//                     compare: the cost every pod event pays)
//   BM_ParallelCreate/N  a Parallel set of N replicas from nothing: one Sync creating N pods
// Run: build-disc/bin/cm_statefulset_bench (target cm_statefulset_bench, `make bench`).
#include <benchmark/benchmark.h>

#include <string>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/statefulset/statefulset_controller.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using testing::ControllerTestEnv;
using testing::ResourceOf;

appsv1::StatefulSet MakeSet(int replicas) {
  appsv1::StatefulSet s;
  s.mutable_metadata()->set_name("web");
  s.mutable_metadata()->set_namespace_("default");
  s.mutable_spec()->set_replicas(replicas);
  s.mutable_spec()->set_podmanagementpolicy("Parallel");
  s.mutable_spec()->set_servicename("nginx");
  (*s.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  (*s.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "web";
  auto* c = s.mutable_spec()->mutable_template_()->mutable_spec()->add_containers();
  c->set_name("nginx");
  c->set_image("nginx:1");
  return s;
}

// Waits until the pod informer holds `n` pods, all at the API's resourceVersions.
void WaitForPods(ControllerTestEnv& env, size_t n) {
  auto lister = env.factory.ForKind<corev1::Pod>().Lister();
  CK_CHECK(client::testing::WaitFor([&] {
    auto cached = lister.List();
    if (cached.size() != n) return false;
    for (const auto& p : cached) {
      auto stored = env.api.Get(ResourceOf(corev1::Pod::descriptor()), "default", p->metadata().name());
      if (!stored.ok() || client::ResourceVersionOf(**stored) != p->metadata().resourceversion()) return false;
    }
    return true;
  }));
}

void BM_SteadySync(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  ControllerTestEnv env;
  StatefulSetController c(env.context);
  env.StartInformers(c.Informers());
  env.Create(MakeSet(n));
  CK_CHECK(client::testing::WaitFor(
      [&] { return env.factory.ForKind<appsv1::StatefulSet>().Lister().Get("default", "web").ok(); }));
  CK_CHECK(c.SyncForTesting("default/web").ok());
  WaitForPods(env, n);
  for (corev1::Pod pod : env.List<corev1::Pod>("default")) {
    pod.mutable_status()->set_phase("Running");
    auto* cond = pod.mutable_status()->add_conditions();
    cond->set_type("Ready");
    cond->set_status("True");
    *cond->mutable_lasttransitiontime() = api::MakeTime(env.clock.Now());
    CK_CHECK(env.api.Update(ResourceOf(corev1::Pod::descriptor()), "default", pod, "status").ok());
  }
  WaitForPods(env, n);
  // One sync writes the status; the following ones find nothing to do.
  CK_CHECK(c.SyncForTesting("default/web").ok());
  CK_CHECK(client::testing::WaitFor([&] {
    auto set = env.factory.ForKind<appsv1::StatefulSet>().Lister().Get("default", "web");
    return set.ok() && (*set)->status().readyreplicas() == n;
  }));
  const int64_t writes_before = env.api.Calls(client::FakeApi::Verb::kUpdate);
  for (auto _ : state) {
    Status s = c.SyncForTesting("default/web");
    benchmark::DoNotOptimize(s);
  }
  state.counters["writes"] = static_cast<double>(env.api.Calls(client::FakeApi::Verb::kUpdate) - writes_before);
}
BENCHMARK(BM_SteadySync)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

void BM_ParallelCreate(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    {
      ControllerTestEnv env;
      StatefulSetController c(env.context);
      env.StartInformers(c.Informers());
      env.Create(MakeSet(n));
      CK_CHECK(client::testing::WaitFor(
          [&] { return env.factory.ForKind<appsv1::StatefulSet>().Lister().Get("default", "web").ok(); }));
      state.ResumeTiming();
      CK_CHECK(c.SyncForTesting("default/web").ok());
      state.PauseTiming();
      CK_CHECK(env.List<corev1::Pod>("default").size() == static_cast<size_t>(n));
    }
    state.ResumeTiming();
  }
}
BENCHMARK(BM_ParallelCreate)->Arg(10)->Arg(100)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ck::controller_manager

BENCHMARK_MAIN();
