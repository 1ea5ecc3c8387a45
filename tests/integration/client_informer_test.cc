// The client stack against a real ck-apiserver: three informers (each with its own client, as
// three components would have) follow 10,000 pods through 20,000 updates while the apiserver is
// killed with SIGKILL and restarted half-way; every cache must end identical to a final LIST
// without restarting the informers.
#include <atomic>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/base/random.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/rest/config.h"
#include "common/client/rest/rest_api_client.h"
#include "tests/testutil/apiserver.h"

namespace ck {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using namespace std::chrono_literals;
using client::ObjectPtr;

constexpr int kPods = 10'000;
constexpr int kUpdates = 20'000;
constexpr int kWriters = 8;

std::unique_ptr<client::RestApiClient> NewClient(const testutil::ApiServerProcess& server, const std::string& agent) {
  Result<client::RestConfig> config = client::LoadKubeconfig(server.admin_kubeconfig());
  CK_CHECK(config.ok()) << config.status().message();
  config->qps = 0;  // unlimited: the test measures convergence, not politeness
  config->user_agent = agent;
  Result<std::unique_ptr<client::RestApiClient>> c = client::RestApiClient::New(*config);
  CK_CHECK(c.ok()) << c.status().message();
  return std::move(*c);
}

// key -> resourceVersion of every pod in `objects`.
std::map<std::string, std::string> Versions(const std::vector<ObjectPtr>& objects) {
  std::map<std::string, std::string> out;
  for (const ObjectPtr& o : objects) {
    const auto& meta = api::MetaOf(*o);
    out[api::ObjectKey(meta)] = meta.resourceversion();
  }
  return out;
}

// Retries a write until the apiserver accepts it: writers keep going across the crash.
template <typename F>
void UntilOk(F write) {
  for (int attempt = 0;; ++attempt) {
    Status s = write();
    if (s.ok() || s.code() == Code::kAlreadyExists) return;
    CK_CHECK(attempt < 2000) << "write kept failing: " << s.message();
    std::this_thread::sleep_for(10ms);
  }
}

TEST(ClientInformerTest, ThreeInformersConvergeAcrossAnApiserverCrash) {
  testutil::ApiServerProcess server;
  const api::ResourceInfo& pods = *api::FindResourceByKind("", "v1", "Pod");
  auto writer = NewClient(server, "writer");

  // Half the pods exist before the informers start (their initial list), half arrive by watch.
  auto create_range = [&](int from, int to) {
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
      threads.emplace_back([&, w] {
        for (int i = from + w; i < to; i += kWriters) {
          corev1::Pod pod = api::testing::MakePod("pod-" + std::to_string(i)).Namespace("default").Container("app");
          UntilOk([&] { return writer->Create(pods, "default", pod).status(); });
        }
      });
    }
    for (auto& t : threads) t.join();
  };
  create_range(0, kPods / 2);

  struct Watcher {
    std::unique_ptr<client::RestApiClient> api;
    std::unique_ptr<client::SharedInformerFactory> factory;
    client::SharedIndexInformer* informer = nullptr;
  };
  std::vector<Watcher> watchers(3);
  for (int i = 0; i < 3; ++i) {
    watchers[i].api = NewClient(server, "informer-" + std::to_string(i));
    watchers[i].factory = std::make_unique<client::SharedInformerFactory>(*watchers[i].api, RealClock::Get(),
                                                                          RealRandom::Get());
    watchers[i].informer = &watchers[i].factory->InformerFor(pods);
    watchers[i].factory->Start();
  }
  for (auto& w : watchers) {
    ASSERT_TRUE(w.factory->WaitForCacheSync(RealClock::Get(), RealClock::Get().Monotonic() + 60s));
    EXPECT_EQ(w.informer->GetIndexer().size(), static_cast<size_t>(kPods / 2));
  }

  create_range(kPods / 2, kPods);

  // 20,000 label patches spread over the pods; the apiserver dies with SIGKILL half-way.
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      for (int u = w; u < kUpdates; u += kWriters) {
        std::string name = "pod-" + std::to_string((u * 7919) % kPods);
        std::string body = R"({"metadata":{"labels":{"gen":")" + std::to_string(u) + R"("}}})";
        UntilOk([&] { return writer->Patch(pods, "default", name, client::PatchType::kMerge, body).status(); });
        ++done;
      }
    });
  }
  while (done.load() < kUpdates / 2) std::this_thread::sleep_for(5ms);
  server.Kill();
  server.Start();
  for (auto& t : threads) t.join();

  Result<client::ObjectList> final_list = writer->List(pods, "");
  ASSERT_TRUE(final_list.ok()) << final_list.status().message();
  std::map<std::string, std::string> want = Versions(final_list->items);
  ASSERT_EQ(want.size(), static_cast<size_t>(kPods));

  for (int i = 0; i < 3; ++i) {
    const client::Indexer& cache = watchers[i].informer->GetIndexer();
    bool converged = testutil::WaitUntil([&] { return Versions(cache.List()) == want; }, 60s);
    std::map<std::string, std::string> got = Versions(cache.List());
    size_t differ = 0;
    std::string examples;
    for (const auto& [key, rv] : want) {
      if (got.count(key) && got[key] == rv) continue;
      if (++differ <= 3) examples += " " + key + " has " + got[key] + ", LIST " + rv + ";";
    }
    client::Reflector::Stats stats = watchers[i].informer->reflector_stats();
    EXPECT_TRUE(converged) << "informer " << i << ": " << got.size() << " objects, " << differ
                           << " differ from the final LIST (e.g." << examples << ") at cache resourceVersion "
                           << cache.resource_version() << ", final LIST " << final_list->resource_version
                           << "; reflector lists " << stats.lists << " watches " << stats.watches << " gone "
                           << stats.gone << " broken " << stats.broken;
    // The reflector re-watched or relisted after the crash; the informer itself never restarted.
    EXPECT_GE(stats.watches, 2) << "informer " << i;
  }
  for (auto& w : watchers) w.factory->Shutdown();
}

}  // namespace
}  // namespace ck
