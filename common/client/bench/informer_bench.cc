// Informer benchmark against a real ck-apiserver over TLS (started from CK_BIN_DIR on a free
// loopback port, stopped by PID at the end):
//   - initial sync: a new informer lists 10,000 pods into its cache (median of 5);
//   - event delivery: write (merge patch) -> the informer's update handler, p50/p99 over 1,000
//     writes at a steady 200/s;
//   - cache memory per pod: heap in use before and after an informer's sync, per pod.
// Usage: informer_bench [--pods N]
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "common/api/object.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/base/random.h"
#include "common/base/strings.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/rest/config.h"
#include "common/client/rest/rest_api_client.h"
#include "tests/testutil/apiserver.h"

namespace ck {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

size_t HeapInUse() { return mallinfo2().uordblks; }

std::unique_ptr<client::RestApiClient> NewClient(const testutil::ApiServerProcess& server) {
  Result<client::RestConfig> config = client::LoadKubeconfig(server.admin_kubeconfig());
  CK_CHECK(config.ok()) << config.status().message();
  config->qps = 0;
  config->user_agent = "informer-bench";
  auto c = client::RestApiClient::New(*config);
  CK_CHECK(c.ok()) << c.status().message();
  return std::move(*c);
}

int Run(int pods) {
  testutil::ApiServerProcess server;
  const api::ResourceInfo& resource = *api::FindResourceByKind("", "v1", "Pod");
  auto writer = NewClient(server);
  {
    std::vector<std::thread> threads;
    for (int w = 0; w < 8; ++w) {
      threads.emplace_back([&, w] {
        for (int i = w; i < pods; i += 8) {
          corev1::Pod pod = api::testing::MakePod("pod-" + std::to_string(i))
                                .Namespace("default")
                                .Label("app", "bench")
                                .Container("app")
                                .Cpu("100m")
                                .Memory("64Mi");
          auto r = writer->Create(resource, "default", pod);
          CK_CHECK(r.ok()) << r.status().message();
        }
      });
    }
    for (auto& t : threads) t.join();
  }

  // Initial sync, and the heap a synced cache holds.
  std::vector<double> syncs;
  double bytes_per_pod = 0;
  for (int round = 0; round < 5; ++round) {
    auto api = NewClient(server);
    size_t heap_before = HeapInUse();
    auto start = Clock::now();
    client::SharedInformerFactory factory(*api, RealClock::Get(), RealRandom::Get());
    client::SharedIndexInformer& informer = factory.InformerFor(resource);
    factory.Start();
    CK_CHECK(factory.WaitForCacheSync(RealClock::Get(), RealClock::Get().Monotonic() + 60s));
    syncs.push_back(Ms(Clock::now() - start));
    CK_CHECK(informer.GetIndexer().size() == static_cast<size_t>(pods));
    if (round == 0) bytes_per_pod = double(HeapInUse() - heap_before) / pods;
    factory.Shutdown();
  }

  // Event delivery: write -> handler.
  auto api = NewClient(server);
  client::SharedInformerFactory factory(*api, RealClock::Get(), RealRandom::Get());
  client::SharedIndexInformer& informer = factory.InformerFor(resource);
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Clock::time_point> seen;  // guarded by mu: generation label -> arrival
  informer.AddEventHandler(client::EventHandler{
      .on_update =
          [&](const client::ObjectPtr&, const client::ObjectPtr& obj) {
            auto now = Clock::now();
            const auto& labels = api::MetaOf(*obj).labels();
            auto it = labels.find("gen");
            if (it == labels.end()) return;
            std::lock_guard lock(mu);
            seen.emplace(it->second, now);
            cv.notify_all();
          },
  });
  factory.Start();
  CK_CHECK(factory.WaitForCacheSync(RealClock::Get(), RealClock::Get().Monotonic() + 60s));
  std::vector<double> delivery;
  const int kWrites = 1000;
  auto next = Clock::now();
  for (int i = 0; i < kWrites; ++i) {
    std::this_thread::sleep_until(next);
    next += 5ms;
    std::string gen = std::to_string(i);
    std::string body = R"({"metadata":{"labels":{"gen":")" + gen + R"("}}})";
    auto start = Clock::now();
    auto r = writer->Patch(resource, "default", "pod-" + std::to_string(i % pods), client::PatchType::kMerge, body);
    CK_CHECK(r.ok()) << r.status().message();
    std::unique_lock lock(mu);
    CK_CHECK(cv.wait_for(lock, 10s, [&] { return seen.count(gen) > 0; })) << "event " << gen << " never arrived";
    delivery.push_back(Ms(seen[gen] - start));
  }
  factory.Shutdown();

  std::printf("| measurement | value | target |\n|---|---|---|\n");
  std::printf("| informer initial sync, %d pods (median of 5) | %.0f ms | <= 300 ms |\n", pods,
              Percentile(syncs, 0.5));
  std::printf("| event delivery write -> handler, p50 | %.2f ms | |\n", Percentile(delivery, 0.5));
  std::printf("| event delivery write -> handler, p99 | %.2f ms | <= 10 ms |\n", Percentile(delivery, 0.99));
  std::printf("| cache memory per pod (heap in use) | %.0f bytes | |\n", bytes_per_pod);
  return 0;
}

}  // namespace
}  // namespace ck

int main(int argc, char** argv) {
  // The process keeps freed memory, as a long-running component's heap does (ck-apiserver's main
  // tunes malloc the same way): otherwise every list body is a fresh mapping whose first touch
  // costs a page fault per 4 KiB.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  int pods = 10'000;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--pods" && i + 1 < argc) {
      std::optional<int64_t> n = ck::ParseInt(argv[++i]);
      if (!n || *n <= 0) {
        std::fprintf(stderr, "informer_bench: --pods wants a positive number\n");
        return 2;
      }
      pods = static_cast<int>(*n);
    } else {
      std::fprintf(stderr, "informer_bench: unknown argument %s (usage: informer_bench [--pods N])\n", argv[i]);
      return 2;
    }
  }
  return ck::Run(pods);
}
