// cache_bench: the cost of the informer pipeline itself (reflector -> delta queue -> indexer ->
// handler), against the in-memory FakeApi so that no network or apiserver time is counted:
//   - initial sync of N pods (default 10,000) through a SharedInformerFactory (median of 5);
//   - event delivery: FakeApi write -> update handler, p50/p99 over 2,000 sequential writes;
//   - cache memory per pod: heap growth of a synced informer (its own structures; the pod
//     objects themselves are shared with the fake server, their size is printed separately).
// Usage: client_cache_bench [--pods N]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using Steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

size_t HeapInUse() {
  malloc_trim(0);
  return mallinfo2().uordblks;
}

int Run(int pods) {
  RealClock& clock = RealClock::Get();
  FakeApi api(clock);
  const ResourceInfo& resource = *api::FindResourceByKind("", "v1", "Pod");
  size_t pod_bytes = 0;
  for (int i = 0; i < pods; ++i) {
    corev1::Pod pod = api::testing::MakePod("pod-" + std::to_string(i))
                          .Namespace("default")
                          .Label("app", "bench")
                          .Container("app")
                          .Cpu("100m")
                          .Memory("64Mi");
    Result<ObjectPtr> r = api.Create(resource, "default", pod);
    CK_CHECK(r.ok()) << r.status().ToString();
    if (i == 0) pod_bytes = (*r)->SpaceUsedLong();
  }

  std::vector<double> syncs;
  double bytes_per_pod = 0;
  for (int round = 0; round < 5; ++round) {
    size_t heap_before = HeapInUse();
    auto start = Steady::now();
    SharedInformerFactory factory(api, clock, RealRandom::Get());
    SharedIndexInformer& informer = factory.InformerFor(resource);
    factory.Start();
    CK_CHECK(factory.WaitForCacheSync(clock, clock.Monotonic() + 60s));
    syncs.push_back(Ms(Steady::now() - start));
    CK_CHECK(informer.GetIndexer().size() == static_cast<size_t>(pods));
    if (round == 0) bytes_per_pod = double(HeapInUse() - heap_before) / pods;
    factory.Shutdown();
  }

  SharedInformerFactory factory(api, clock, RealRandom::Get());
  SharedIndexInformer& informer = factory.InformerFor(resource);
  std::mutex mu;
  std::condition_variable cv;
  std::string last_seen;  // guarded by mu: resourceVersion of the last update delivered
  Steady::time_point arrival;
  informer.AddEventHandler({.on_update = [&](const ObjectPtr&, const ObjectPtr& obj) {
    auto now = Steady::now();
    std::lock_guard lock(mu);
    last_seen = ResourceVersionOf(*obj);
    arrival = now;
    cv.notify_all();
  }});
  factory.Start();
  CK_CHECK(factory.WaitForCacheSync(clock, clock.Monotonic() + 60s));
  std::vector<double> delivery;
  for (int i = 0; i < 2000; ++i) {
    Result<ObjectPtr> current = api.Get(resource, "default", "pod-" + std::to_string(i % pods));
    CK_CHECK(current.ok());
    corev1::Pod pod = static_cast<const corev1::Pod&>(**current);
    (*pod.mutable_metadata()->mutable_labels())["gen"] = std::to_string(i);
    auto start = Steady::now();
    Result<ObjectPtr> written = api.Update(resource, "default", pod);
    CK_CHECK(written.ok()) << written.status().ToString();
    const std::string& rv = ResourceVersionOf(**written);
    std::unique_lock lock(mu);
    CK_CHECK(cv.wait_for(lock, 10s, [&] { return last_seen == rv; })) << "update " << rv << " never arrived";
    delivery.push_back(Ms(arrival - start));
  }
  factory.Shutdown();

  std::printf("| measurement (FakeApi, in process) | value |\n|---|---|\n");
  std::printf("| informer initial sync, %d pods (median of 5) | %.1f ms |\n", pods, Percentile(syncs, 0.5));
  std::printf("| event delivery write -> handler, p50 | %.3f ms |\n", Percentile(delivery, 0.5));
  std::printf("| event delivery write -> handler, p99 | %.3f ms |\n", Percentile(delivery, 0.99));
  std::printf("| cache structures per pod (heap growth) | %.0f bytes |\n", bytes_per_pod);
  std::printf("| one pod object (SpaceUsedLong) | %zu bytes |\n", pod_bytes);
  return 0;
}

}  // namespace
}  // namespace ck::client

int main(int argc, char** argv) {
  int pods = 10'000;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--pods" && i + 1 < argc) {
      std::optional<int64_t> n = ck::ParseInt(argv[++i]);
      if (!n || *n <= 0) {
        std::fprintf(stderr, "client_cache_bench: --pods wants a positive number\n");
        return 2;
      }
      pods = static_cast<int>(*n);
    } else {
      std::fprintf(stderr, "client_cache_bench: unknown argument %s (usage: client_cache_bench [--pods N])\n", argv[i]);
      return 2;
    }
  }
  return ck::client::Run(pods);
}
