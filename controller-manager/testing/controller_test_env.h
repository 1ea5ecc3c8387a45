// ControllerTestEnv: what a controller unit test needs to build a controller the way the manager
// does, on fakes (STYLE.md #10-11): a FakeApi on a FakeClock, one SharedInformerFactory over it,
// an EventBroadcaster, settings and the ControllerContext tying them together.
//   ControllerTestEnv env;
//   env.Create(MakePod("web-1").Label("app", "web"));   // straight into the fake API
//   ReplicaSetController c(env.context);
//   env.StartInformers(c.Informers());                   // informers synced, no workers
//   ASSERT_TRUE(c.SyncForTesting("default/web").ok());   // or env.Start(c): workers do it
// After a write, a test waits (WaitFor) until the informer has seen it before the next Sync.
// The broadcaster is started, so recorded Events reach the FakeApi (see Events()).
// Threading: a test fixture; the fakes are thread-safe, the env itself is used from the test thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/check.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"
#include "common/client/tools/event_recorder.h"
#include "common/metrics/metrics.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/settings.h"

namespace ck::controller_manager::testing {

inline const client::ResourceInfo& ResourceOf(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

class ControllerTestEnv {
 public:
  explicit ControllerTestEnv(ControllerSettings s = {}, std::string root_ca = "-----BEGIN CERTIFICATE-----\nroot\n")
      : settings(std::move(s)),
        api(clock, random),
        factory(api, clock, random),
        events(api, clock, client::EventBroadcasterOptions{}, random),
        context{api, factory, clock, random, registry, events, settings, std::move(root_ca)} {
    events.Start();
  }
  ~ControllerTestEnv() {
    events.Shutdown();
    factory.Shutdown();
  }

  // Creates `object` (namespace from its metadata, else "default" for namespaced kinds) in the
  // fake API and returns what the API stored. Stops the test (CK_CHECK) when the create fails.
  template <typename T>
  T Create(const T& object) {
    const client::ResourceInfo& r = ResourceOf(T::descriptor());
    std::string ns = object.metadata().namespace_();
    if (ns.empty() && r.namespaced) ns = "default";
    Result<client::ObjectPtr> created = api.Create(r, ns, object);
    CK_CHECK(created.ok()) << created.status().message();
    return static_cast<const T&>(**created);
  }
  template <typename T>
  Result<T> Get(const std::string& ns, const std::string& name) {
    Result<client::ObjectPtr> got = api.Get(ResourceOf(T::descriptor()), ns, name);
    if (!got.ok()) return got.status();
    return static_cast<const T&>(**got);
  }
  template <typename T>
  std::vector<T> List(const std::string& ns = "", const std::string& label_selector = "") {
    client::ListOptions o;
    o.label_selector = label_selector;
    Result<client::ObjectList> list = api.List(ResourceOf(T::descriptor()), ns, o);
    CK_CHECK(list.ok()) << list.status().message();
    std::vector<T> out;
    for (const auto& item : list->items) out.push_back(static_cast<const T&>(*item));
    return out;
  }
  // The Events written so far (the broadcaster writes in the background: wait with WaitFor).
  std::vector<k8s::io::api::core::v1::Event> Events(const std::string& reason = "") {
    std::vector<k8s::io::api::core::v1::Event> out;
    for (auto& e : List<k8s::io::api::core::v1::Event>()) {
      if (reason.empty() || e.reason() == reason) out.push_back(e);
    }
    return out;
  }

  // Starts the factory and `controller` (its informers synced, its workers running).
  void Start(ManagedController& controller) {
    factory.Start();
    Status s = controller.Start(controller.Informers(), std::chrono::seconds(20));
    CK_CHECK(s.ok()) << s.message();
  }
  // Starts only the factory and waits for `informers` to sync; for tests that call
  // SyncForTesting themselves with no workers running.
  void StartInformers(const std::vector<client::SharedIndexInformer*>& informers) {
    factory.Start();
    for (auto* informer : informers) {
      CK_CHECK(client::testing::WaitFor([&] { return informer->HasSynced(); })) << "informer did not sync";
    }
  }

  ControllerSettings settings;
  FakeClock clock;
  FakeRandom random{7};
  metrics::Registry registry;
  client::FakeApi api;
  client::SharedInformerFactory factory;
  client::EventBroadcaster events;
  ControllerContext context;
};

}  // namespace ck::controller_manager::testing
