// rest_client_bench: what the REST client costs an informer, against a real ck-apiserver.
//   CK_BIN_DIR=build/bin build/bin/rest_client_bench [pods]
// Prints the time to list N pods (the first list after the writes, then one request, pages of
// 500 and metadata-only, each the median of 5; the one-request list once more at the end, when
// the server has settled), the bare GET and the decode of its body apart, and the latency from a
// write's request to its watch event (p50/p99 of 1000 updates).
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "common/api/testing/builders.h"
#include "common/client/rest/dynamic_client.h"
#include "common/client/rest/object_decoder.h"
#include "common/client/rest/rest_api_client.h"
#include "common/client/rest/typed_client.h"
#include "tests/testutil/apiserver.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

template <typename F>
double MedianMs(int runs, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f();
    t.push_back(Ms(Clock::now() - start));
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

std::unique_ptr<RestApiClient> Connect(const testutil::ApiServerProcess& server) {
  Result<RestConfig> config = LoadKubeconfig(server.admin_kubeconfig());
  CK_CHECK(config.ok()) << config.status().ToString();
  config->qps = 0;
  return RestApiClient::New(*config).value();
}

int Run(int n) {
  testutil::ApiServerProcess server;
  auto api = Connect(server);
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name("bench");
  CK_CHECK(Client<corev1::Namespace>(*api).Create(ns).ok());
  Client<corev1::Pod> pods(*api);
  std::atomic<int> next{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      for (int i = next++; i < n; i = next++) {
        corev1::Pod p = api::testing::PodBuilder("pod-" + std::to_string(i))
                            .Namespace("bench")
                            .Label("app", "bench")
                            .Container("app", "registry.example.com/app:1")
                            .Cpu("100m")
                            .Memory("64Mi")
                            .Node("node-" + std::to_string(i % 50));
        Result<std::shared_ptr<const corev1::Pod>> r = pods.Create(p);
        CK_CHECK(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : writers) t.join();

  const ResourceInfo& resource = pods.resource();
  size_t count = 0;
  // The first list after the writes also makes the server encode every object once.
  double cold = MedianMs(1, [&] { count = api->List(resource, "").value().items.size(); });
  CK_CHECK(count == static_cast<size_t>(n));
  double full = MedianMs(5, [&] { count = api->List(resource, "").value().items.size(); });
  DynamicClient dynamic(*api);
  double paged = MedianMs(5, [&] { count = dynamic.ListAll(resource, "", {}, 500).value().items.size(); });
  ListOptions meta;
  meta.metadata_only = true;
  double metadata = MedianMs(5, [&] { count = api->List(resource, "", meta).value().items.size(); });
  std::printf("list %d pods, first list:         %8.1f ms\n", n, cold);
  std::printf("list %d pods, one request:        %8.1f ms\n", n, full);
  std::printf("list %d pods, pages of 500:       %8.1f ms\n", n, paged);
  std::printf("list %d pods, metadata-only:      %8.1f ms\n", n, metadata);

  RawRequest raw;
  raw.path = "/api/v1/pods";
  std::string body;
  double transfer = MedianMs(5, [&] { body = api->DoRaw(raw).value().body; });
  std::printf("GET /api/v1/pods, no decoding:    %8.1f ms\n", transfer);
  const auto* list_type = FindMessageType(resource.list_proto_type);
  double decode = MedianMs(5, [&] { count = DecodeList(body, list_type).value().items.size(); });
  std::printf("decode PodList body (%zu KiB):     %8.1f ms  (%.0f pods/s)\n", body.size() / 1024, decode,
              n / (decode / 1000));

  // Write-to-event latency: patch one pod at a time and wait for its MODIFIED event.
  Result<TypedList<corev1::Pod>> list = pods.List("bench", {.limit = 1});
  ListOptions wo;
  wo.resource_version = list.value().resource_version;
  auto watch = api->Watch(resource, "bench", wo).value();
  std::vector<double> latency;
  for (int i = 0; i < 1000; ++i) {
    std::string name = "pod-" + std::to_string(i % n);
    auto written = Clock::now();
    CK_CHECK(pods.Patch("bench", name, PatchType::kMerge,
                        R"({"metadata":{"annotations":{"i":")" + std::to_string(i) + "\"}}}")
                 .ok());
    while (true) {
      auto e = watch->Next();
      CK_CHECK(e.ok() && e->has_value()) << e.status().ToString();
      const auto& pod = static_cast<const corev1::Pod&>(*(*e)->object);
      if (pod.metadata().name() == name && pod.metadata().annotations().count("i") &&
          pod.metadata().annotations().at("i") == std::to_string(i)) {
        break;
      }
    }
    latency.push_back(Ms(Clock::now() - written));
  }
  std::sort(latency.begin(), latency.end());
  std::printf("write sent -> watch event:        p50 %.2f ms  p99 %.2f ms\n", latency[500], latency[990]);
  double settled = MedianMs(5, [&] { count = api->List(resource, "").value().items.size(); });
  std::printf("list %d pods, one request, settled: %6.1f ms\n", n, settled);
  std::printf("requests sent: %lld, connections opened: %d\n", static_cast<long long>(api->attempts()),
              api->connections_opened());
  return 0;
}

}  // namespace
}  // namespace ck::client

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 10000;
  return ck::client::Run(n);
}
