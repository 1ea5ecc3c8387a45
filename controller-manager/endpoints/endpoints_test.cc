// The EndpointSlice and Endpoints controllers on FakeApi: what a Sync writes for a given cluster
// state (conditions, ports, subsets, labels, annotations), that slices churn as little as
// upstream's reconciler lets them, and that an unchanged world is not written to (writes counted
// with FakeApi's request hook).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/api/object.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/testing/fake_api.h"
#include "controller-manager/endpoints/endpoints_controller.h"
#include "controller-manager/endpoints/endpoints_util.h"
#include "controller-manager/endpoints/endpointslice_controller.h"
#include "controller-manager/endpoints/endpointslice_tracker.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace cmt = ::ck::controller_manager::testing;
using api::testing::MakeNode;
using api::testing::MakePod;
using api::testing::MakeService;
using api::testing::PodBuilder;
using client::FakeApi;
using client::testing::WaitFor;
using namespace std::chrono_literals;

const char kSlices[] = "endpointslices.discovery.k8s.io";
const char kEndpointsResource[] = "endpoints";

// ---- Helpers ------------------------------------------------------------------------------------

// Writes per (GroupResource, verb), counted by FakeApi's request hook.
class WriteCounter {
 public:
  explicit WriteCounter(FakeApi& api) : api_(api) {
    api_.SetRequestHook([this](const FakeApi::Request& r) {
      if (r.verb == FakeApi::Verb::kCreate || r.verb == FakeApi::Verb::kUpdate || r.verb == FakeApi::Verb::kPatch ||
          r.verb == FakeApi::Verb::kDelete || r.verb == FakeApi::Verb::kDeleteCollection) {
        std::lock_guard<std::mutex> lock(mu_);
        ++counts_[{r.resource, r.verb}];
      }
      return Status::Ok();
    });
  }
  ~WriteCounter() { api_.SetRequestHook(nullptr); }

  int Count(const std::string& resource, FakeApi::Verb verb) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find({resource, verb});
    return it == counts_.end() ? 0 : it->second;
  }
  int Creates(const std::string& r) const { return Count(r, FakeApi::Verb::kCreate); }
  int Updates(const std::string& r) const { return Count(r, FakeApi::Verb::kUpdate); }
  int Deletes(const std::string& r) const { return Count(r, FakeApi::Verb::kDelete); }
  int Writes(const std::string& r) const {
    return Creates(r) + Updates(r) + Deletes(r) + Count(r, FakeApi::Verb::kPatch) +
           Count(r, FakeApi::Verb::kDeleteCollection);
  }
  void Reset() {
    std::lock_guard<std::mutex> lock(mu_);
    counts_.clear();
  }

 private:
  FakeApi& api_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, FakeApi::Verb>, int> counts_;  // guarded by mu_
};

// The informer holds exactly what the API holds (same keys, same resourceVersions).
bool CaughtUp(cmt::ControllerTestEnv& env, const client::SharedIndexInformer& informer) {
  std::map<std::string, std::string> want, have;
  for (const auto& o : env.api.Objects(informer.resource())) {
    want[api::ObjectKey(api::MetaOf(*o))] = api::MetaOf(*o).resourceversion();
  }
  for (const auto& o : informer.GetIndexer().List()) {
    have[api::ObjectKey(api::MetaOf(*o))] = api::MetaOf(*o).resourceversion();
  }
  return want == have;
}

// Waits until every informer of `c` has caught up with the API (after the test's own writes).
void WaitCaughtUp(cmt::ControllerTestEnv& env, const ManagedController& c) {
  ASSERT_TRUE(WaitFor([&] {
    for (const client::SharedIndexInformer* informer : c.Informers()) {
      if (!CaughtUp(env, *informer)) return false;
    }
    return true;
  })) << "informers did not catch up";
}

// A Running pod labelled app=web on node-1 with one IP and container port 8080.
PodBuilder WebPod(const std::string& name, const std::string& ip, bool ready = true) {
  PodBuilder b = MakePod(name).Label("app", "web").Node("node-1").Phase("Running").Port(8080);
  if (!ip.empty()) b.PodIP(ip);
  if (ready) {
    b.Ready();
  } else {
    b.Condition("Ready", "False");
  }
  return b;
}

// A pod whose only container port is `number` named `port_name`.
corev1::Pod NamedPortPod(const std::string& name, const std::string& ip, const std::string& port_name, int number) {
  corev1::Pod pod = MakePod(name).Label("app", "web").Node("node-1").Phase("Running").Port(number).PodIP(ip).Ready();
  pod.mutable_spec()->mutable_containers(0)->mutable_ports(0)->set_name(port_name);
  return pod;
}

// Service "web" (app=web) port 80 -> `target`, cluster IP 10.96.0.10, IPv4.
corev1::Service WebService(const std::string& target = "8080", bool publish_not_ready = false) {
  corev1::Service svc = MakeService("web").Selector("app", "web").Port(80, target).ClusterIP("10.96.0.10");
  svc.mutable_spec()->add_ipfamilies("IPv4");
  svc.mutable_spec()->set_publishnotreadyaddresses(publish_not_ready);
  return svc;
}

std::string Ip(int i) { return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1); }

void SetReady(cmt::ControllerTestEnv& env, const std::string& name, bool ready) {
  corev1::Pod pod = env.Get<corev1::Pod>("default", name).value();
  for (auto& c : *pod.mutable_status()->mutable_conditions()) {
    if (c.type() != "Ready") continue;
    c.set_status(ready ? "True" : "False");
    *c.mutable_lasttransitiontime() = api::Now(env.clock);
  }
  ASSERT_TRUE(env.api.Update(cmt::ResourceOf(corev1::Pod::descriptor()), "default", pod, "status").ok());
}

void RemovePod(cmt::ControllerTestEnv& env, const std::string& name) {
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(env.api.Delete(cmt::ResourceOf(corev1::Pod::descriptor()), "default", name, now).ok());
}

// Deletes the pod gracefully: it stays, terminating (deletionTimestamp set).
void TerminatePod(cmt::ControllerTestEnv& env, const std::string& name) {
  ASSERT_TRUE(env.api.Delete(cmt::ResourceOf(corev1::Pod::descriptor()), "default", name).ok());
}

std::vector<discv1::EndpointSlice> SlicesOf(cmt::ControllerTestEnv& env, const std::string& service = "web") {
  return env.List<discv1::EndpointSlice>("default", "kubernetes.io/service-name=" + service);
}

// The endpoints of every slice, by target pod name.
std::map<std::string, discv1::Endpoint> EndpointsByPod(const std::vector<discv1::EndpointSlice>& slices) {
  std::map<std::string, discv1::Endpoint> out;
  for (const auto& slice : slices) {
    for (const auto& e : slice.endpoints()) out[e.targetref().name()] = e;
  }
  return out;
}

std::multiset<int> SliceSizes(const std::vector<discv1::EndpointSlice>& slices) {
  std::multiset<int> out;
  for (const auto& s : slices) out.insert(s.endpoints_size());
  return out;
}

std::set<std::string> SliceNames(const std::vector<discv1::EndpointSlice>& slices) {
  std::set<std::string> out;
  for (const auto& s : slices) out.insert(s.metadata().name());
  return out;
}

ControllerSettings WithMaxPerSlice(int max) {
  ControllerSettings s;
  s.max_endpoints_per_slice = max;
  return s;
}

// ---- EndpointSlice controller -------------------------------------------------------------------

TEST(EndpointSliceControllerTest, WritesOneSliceWithUpstreamShape) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Label("topology.kubernetes.io/zone", "zone-a").Obj());
  corev1::Service svc_in = WebService();
  (*svc_in.mutable_metadata()->mutable_labels())["team"] = "shop";
  corev1::Service svc = env.Create(svc_in);
  corev1::Pod web1 = env.Create(WebPod("web-1", "10.0.0.1").Obj());
  corev1::Pod named = WebPod("web-2", "10.0.0.2");
  named.mutable_spec()->set_hostname("web-2");
  named.mutable_spec()->set_subdomain("web");
  env.Create(named);
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  WriteCounter writes(env.api);

  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  std::vector<discv1::EndpointSlice> slices = SlicesOf(env);
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(writes.Creates(kSlices), 1);
  const discv1::EndpointSlice& s = slices[0];
  EXPECT_EQ(s.metadata().generatename(), "web-");
  EXPECT_TRUE(s.metadata().name().starts_with("web-"));
  EXPECT_EQ(s.metadata().labels().at("kubernetes.io/service-name"), "web");
  EXPECT_EQ(s.metadata().labels().at("endpointslice.kubernetes.io/managed-by"), "endpointslice-controller.k8s.io");
  EXPECT_EQ(s.metadata().labels().at("team"), "shop");
  EXPECT_FALSE(s.metadata().labels().contains("service.kubernetes.io/headless"));
  ASSERT_EQ(s.metadata().ownerreferences_size(), 1);
  const auto& ref = s.metadata().ownerreferences(0);
  EXPECT_EQ(ref.apiversion(), "v1");
  EXPECT_EQ(ref.kind(), "Service");
  EXPECT_EQ(ref.name(), "web");
  EXPECT_EQ(ref.uid(), svc.metadata().uid());
  EXPECT_TRUE(ref.controller());
  EXPECT_TRUE(ref.blockownerdeletion());
  EXPECT_EQ(s.addresstype(), "IPv4");
  ASSERT_EQ(s.ports_size(), 1);
  EXPECT_EQ(s.ports(0).port(), 8080);
  EXPECT_EQ(s.ports(0).protocol(), "TCP");
  EXPECT_EQ(s.ports(0).name(), "");
  EXPECT_EQ(s.metadata().annotations().at("endpoints.kubernetes.io/last-change-trigger-time"),
            api::FormatRfc3339(api::TimestampOf(svc.metadata().creationtimestamp())));

  std::map<std::string, discv1::Endpoint> eps = EndpointsByPod(slices);
  ASSERT_EQ(eps.size(), 2u);
  const discv1::Endpoint& e = eps.at("web-1");
  ASSERT_EQ(e.addresses_size(), 1);
  EXPECT_EQ(e.addresses(0), "10.0.0.1");
  EXPECT_TRUE(e.conditions().ready());
  EXPECT_TRUE(e.conditions().serving());
  EXPECT_TRUE(e.conditions().has_terminating());
  EXPECT_FALSE(e.conditions().terminating());
  EXPECT_EQ(e.nodename(), "node-1");
  EXPECT_EQ(e.zone(), "zone-a");
  EXPECT_EQ(e.targetref().kind(), "Pod");
  EXPECT_EQ(e.targetref().namespace_(), "default");
  EXPECT_EQ(e.targetref().uid(), web1.metadata().uid());
  EXPECT_FALSE(e.has_hostname());
  EXPECT_EQ(eps.at("web-2").hostname(), "web-2");
}

// Which pods are listed and with which conditions (upstream podToEndpoint).
TEST(EndpointSliceControllerTest, EndpointConditionsTable) {
  struct Case {
    std::string name;
    bool ready;
    bool terminating;
    std::string phase;
    bool has_ip;
    bool publish_not_ready;
    bool listed;
    bool want_ready, want_serving, want_terminating;
  };
  const std::vector<Case> cases = {
      {"ready", true, false, "Running", true, false, true, true, true, false},
      {"not ready", false, false, "Running", true, false, true, false, false, false},
      {"not ready, publishNotReadyAddresses", false, false, "Running", true, true, true, true, false, false},
      {"terminating, still ready", true, true, "Running", true, false, true, false, true, true},
      {"terminating, publishNotReadyAddresses", true, true, "Running", true, true, true, true, true, true},
      {"terminating, not ready", false, true, "Running", true, false, true, false, false, true},
      {"no IP yet", false, false, "Pending", false, false, false, false, false, false},
      {"succeeded", true, false, "Succeeded", true, false, false, false, false, false},
      {"failed, publishNotReadyAddresses", false, false, "Failed", true, true, false, false, false, false},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    cmt::ControllerTestEnv env;
    env.Create(MakeNode("node-1").Obj());
    env.Create(WebService("8080", tc.publish_not_ready));
    env.Create(WebPod("anchor", "10.0.9.9").Obj());  // keeps the slice non-empty in every case
    env.Create(WebPod("p", tc.has_ip ? "10.0.0.1" : "", tc.ready).Phase(tc.phase).Obj());
    if (tc.terminating) TerminatePod(env, "p");
    EndpointSliceController c(env.context);
    env.StartInformers(c.Informers());
    ASSERT_TRUE(c.SyncForTesting("default/web").ok());

    std::map<std::string, discv1::Endpoint> eps = EndpointsByPod(SlicesOf(env));
    ASSERT_TRUE(eps.contains("anchor"));
    ASSERT_EQ(eps.contains("p"), tc.listed);
    if (!tc.listed) continue;
    const auto& cond = eps.at("p").conditions();
    EXPECT_EQ(cond.ready(), tc.want_ready);
    EXPECT_EQ(cond.serving(), tc.want_serving);
    EXPECT_EQ(cond.terminating(), tc.want_terminating);
  }
}

// The seed's "readiness probe passes -> registered": the same slice is updated in place.
TEST(EndpointSliceControllerTest, ReadinessTransitionsUpdateTheSliceInPlace) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1", /*ready=*/false).Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  std::string name = SlicesOf(env).at(0).metadata().name();
  EXPECT_FALSE(EndpointsByPod(SlicesOf(env)).at("web-1").conditions().ready());

  WriteCounter writes(env.api);
  for (bool ready : {true, false, true}) {
    SCOPED_TRACE(ready ? "turned ready" : "turned unready");
    writes.Reset();
    SetReady(env, "web-1", ready);
    WaitCaughtUp(env, c);
    ASSERT_TRUE(c.SyncForTesting("default/web").ok());
    std::vector<discv1::EndpointSlice> slices = SlicesOf(env);
    ASSERT_EQ(slices.size(), 1u);
    EXPECT_EQ(slices[0].metadata().name(), name);
    const auto& cond = EndpointsByPod(slices).at("web-1").conditions();
    EXPECT_EQ(cond.ready(), ready);
    EXPECT_EQ(cond.serving(), ready);
    EXPECT_EQ(writes.Updates(kSlices), 1);
    EXPECT_EQ(writes.Creates(kSlices), 0);
    EXPECT_EQ(writes.Deletes(kSlices), 0);
  }
}

// A named targetPort resolves per pod: pods with different numbers land in different slices.
TEST(EndpointSliceControllerTest, NamedPortsWithDifferentNumbersSplitSlices) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService("http"));
  env.Create(NamedPortPod("a", "10.0.0.1", "http", 8080));
  env.Create(NamedPortPod("b", "10.0.0.2", "http", 8080));
  env.Create(NamedPortPod("c", "10.0.0.3", "http", 9090));
  env.Create(NamedPortPod("d", "10.0.0.4", "metrics", 9100));  // no "http" port at all
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  std::map<std::string, std::set<std::string>> pods_by_port;  // "8080" / "9090" / "none"
  for (const auto& s : SlicesOf(env)) {
    std::string port = s.ports_size() == 0 ? "none" : std::to_string(s.ports(0).port());
    EXPECT_LE(s.ports_size(), 1);
    for (const auto& e : s.endpoints()) pods_by_port[port].insert(e.targetref().name());
  }
  std::map<std::string, std::set<std::string>> want = {
      {"8080", {"a", "b"}}, {"9090", {"c"}}, {"none", {"d"}}};
  EXPECT_EQ(pods_by_port, want);
  EXPECT_EQ(SlicesOf(env).size(), 3u);
}

TEST(EndpointSliceControllerTest, TwoHundredFiftyPodsMakeThreeSlices) {
  cmt::ControllerTestEnv env(WithMaxPerSlice(100));
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  for (int i = 0; i < 250; ++i) env.Create(WebPod("web-" + std::to_string(i), Ip(i)).Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  std::vector<discv1::EndpointSlice> slices = SlicesOf(env);
  EXPECT_EQ(SliceSizes(slices), (std::multiset<int>{50, 100, 100}));
  EXPECT_EQ(writes.Creates(kSlices), 3);
  std::set<std::string> addresses;
  for (const auto& s : slices) {
    for (const auto& e : s.endpoints()) addresses.insert(e.addresses(0));
  }
  EXPECT_EQ(addresses.size(), 250u);
}

// Upstream's minimal churn: one new pod goes into the one slice with room; nothing is created.
TEST(EndpointSliceControllerTest, AddingOnePodUpdatesExactlyOneSlice) {
  cmt::ControllerTestEnv env(WithMaxPerSlice(100));
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  for (int i = 0; i < 250; ++i) env.Create(WebPod("web-" + std::to_string(i), Ip(i)).Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  std::set<std::string> names = SliceNames(SlicesOf(env));

  env.Create(WebPod("web-250", Ip(250)).Obj());
  WaitCaughtUp(env, c);
  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  EXPECT_EQ(writes.Updates(kSlices), 1);
  EXPECT_EQ(writes.Creates(kSlices), 0);
  EXPECT_EQ(writes.Deletes(kSlices), 0);
  std::vector<discv1::EndpointSlice> slices = SlicesOf(env);
  EXPECT_EQ(SliceNames(slices), names);
  EXPECT_EQ(SliceSizes(slices), (std::multiset<int>{51, 100, 100}));
}

// Removing pods shrinks slices in place; a slice left empty is deleted; nothing is recreated; a
// Service left with no pods keeps one placeholder slice (one of the old ones, updated).
TEST(EndpointSliceControllerTest, RemovingPodsNeverRecreatesSlices) {
  cmt::ControllerTestEnv env(WithMaxPerSlice(100));
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  for (int i = 0; i < 250; ++i) env.Create(WebPod("web-" + std::to_string(i), Ip(i)).Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  std::set<std::string> names = SliceNames(SlicesOf(env));
  WriteCounter writes(env.api);

  // 30 pods out of one full slice.
  const discv1::EndpointSlice full = [&] {
    for (const auto& s : SlicesOf(env)) {
      if (s.endpoints_size() == 100) return s;
    }
    return discv1::EndpointSlice();
  }();
  ASSERT_EQ(full.endpoints_size(), 100);
  for (int i = 0; i < 30; ++i) RemovePod(env, full.endpoints(i).targetref().name());
  WaitCaughtUp(env, c);
  writes.Reset();
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Updates(kSlices), 1);
  EXPECT_EQ(writes.Creates(kSlices), 0);
  EXPECT_EQ(writes.Deletes(kSlices), 0);
  EXPECT_EQ(SliceNames(SlicesOf(env)), names);
  EXPECT_EQ(SliceSizes(SlicesOf(env)), (std::multiset<int>{50, 70, 100}));

  // Every pod of the smallest slice: that slice goes, the others stay untouched.
  const discv1::EndpointSlice small = [&] {
    for (const auto& s : SlicesOf(env)) {
      if (s.endpoints_size() == 50) return s;
    }
    return discv1::EndpointSlice();
  }();
  for (const auto& e : small.endpoints()) RemovePod(env, e.targetref().name());
  WaitCaughtUp(env, c);
  writes.Reset();
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Deletes(kSlices), 1);
  EXPECT_EQ(writes.Updates(kSlices), 0);
  EXPECT_EQ(writes.Creates(kSlices), 0);
  EXPECT_EQ(SliceSizes(SlicesOf(env)), (std::multiset<int>{70, 100}));

  // All pods gone: one old slice becomes the empty placeholder, the other is deleted.
  for (const auto& pod : env.List<corev1::Pod>("default")) RemovePod(env, pod.metadata().name());
  WaitCaughtUp(env, c);
  writes.Reset();
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Creates(kSlices), 0);
  EXPECT_EQ(writes.Updates(kSlices), 1);
  EXPECT_EQ(writes.Deletes(kSlices), 1);
  std::vector<discv1::EndpointSlice> slices = SlicesOf(env);
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_TRUE(names.contains(slices[0].metadata().name()));
  EXPECT_EQ(slices[0].endpoints_size(), 0);
  EXPECT_EQ(slices[0].ports_size(), 0);

  // The placeholder is stable.
  WaitCaughtUp(env, c);
  writes.Reset();
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Writes(kSlices), 0);
}

TEST(EndpointSliceControllerTest, NothingWrittenWhenNothingChanged) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  env.Create(WebPod("web-2", "10.0.0.2", false).Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  WaitCaughtUp(env, c);

  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  // A pod change that does not move its endpoint (an annotation) changes nothing either.
  corev1::Pod pod = env.Get<corev1::Pod>("default", "web-1").value();
  (*pod.mutable_metadata()->mutable_annotations())["note"] = "x";
  ASSERT_TRUE(env.api.Update(cmt::ResourceOf(corev1::Pod::descriptor()), "default", pod).ok());
  WaitCaughtUp(env, c);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Writes(kSlices), 0);
}

TEST(EndpointSliceControllerTest, ServiceLabelChangeUpdatesSlicesInPlace) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  corev1::Service svc = env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  (*svc.mutable_metadata()->mutable_labels())["tier"] = "front";
  ASSERT_TRUE(env.api.Update(cmt::ResourceOf(corev1::Service::descriptor()), "default", svc).ok());
  WaitCaughtUp(env, c);
  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Updates(kSlices), 1);
  EXPECT_EQ(writes.Creates(kSlices), 0);
  EXPECT_EQ(SlicesOf(env).at(0).metadata().labels().at("tier"), "front");
}

// Upstream relies on the garbage collector: slices are owned by the Service (controller,
// blockOwnerDeletion), and the controller writes nothing when the Service is gone. A new Service
// of the same name does not adopt the old slices: it gets its own and the old ones are deleted.
TEST(EndpointSliceControllerTest, DeletedServiceLeavesSlicesToTheGarbageCollector) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  corev1::Service old_svc = env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  std::string old_slice = SlicesOf(env).at(0).metadata().name();

  ASSERT_TRUE(env.api.Delete(cmt::ResourceOf(corev1::Service::descriptor()), "default", "web").ok());
  WaitCaughtUp(env, c);
  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Writes(kSlices), 0);
  ASSERT_EQ(SlicesOf(env).size(), 1u);
  EXPECT_EQ(SlicesOf(env)[0].metadata().ownerreferences(0).uid(), old_svc.metadata().uid());

  corev1::Service new_svc = env.Create(WebService());
  WaitCaughtUp(env, c);
  writes.Reset();
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Creates(kSlices), 1);
  EXPECT_EQ(writes.Deletes(kSlices), 1);
  std::vector<discv1::EndpointSlice> slices = SlicesOf(env);
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_NE(slices[0].metadata().name(), old_slice);
  EXPECT_EQ(slices[0].metadata().ownerreferences(0).uid(), new_svc.metadata().uid());
}

TEST(EndpointSliceControllerTest, AddressTypesFollowTheServiceFamilies) {
  struct Case {
    std::string name;
    std::vector<std::string> families;
    std::map<std::string, std::string> want;  // addressType -> address
  };
  const std::vector<Case> cases = {
      {"IPv4 only: the IPv6 address is skipped", {"IPv4"}, {{"IPv4", "10.0.0.1"}}},
      {"IPv6 only", {"IPv6"}, {{"IPv6", "fd00::1"}}},
      {"dual stack: one slice per family", {"IPv4", "IPv6"}, {{"IPv4", "10.0.0.1"}, {"IPv6", "fd00::1"}}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    cmt::ControllerTestEnv env;
    env.Create(MakeNode("node-1").Obj());
    corev1::Service svc = WebService();
    svc.mutable_spec()->clear_ipfamilies();
    for (const auto& f : tc.families) svc.mutable_spec()->add_ipfamilies(f);
    env.Create(svc);
    corev1::Pod pod = WebPod("web-1", "10.0.0.1");
    pod.mutable_status()->add_podips()->set_ip("fd00::1");
    env.Create(pod);
    EndpointSliceController c(env.context);
    env.StartInformers(c.Informers());
    ASSERT_TRUE(c.SyncForTesting("default/web").ok());
    std::map<std::string, std::string> got;
    for (const auto& s : SlicesOf(env)) {
      ASSERT_EQ(s.endpoints_size(), 1);
      ASSERT_EQ(s.endpoints(0).addresses_size(), 1);
      got[s.addresstype()] = s.endpoints(0).addresses(0);
    }
    EXPECT_EQ(got, tc.want);
  }
}

TEST(EndpointSliceControllerTest, LeavesSelectorlessServicesAndForeignSlicesAlone) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  corev1::Service manual = MakeService("manual").Port(80).ClusterIP("10.96.0.11");
  env.Create(manual);
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  // A slice for "web" written by someone else.
  discv1::EndpointSlice foreign;
  foreign.mutable_metadata()->set_name("web-by-hand");
  (*foreign.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "web";
  (*foreign.mutable_metadata()->mutable_labels())["endpointslice.kubernetes.io/managed-by"] = "someone-else";
  foreign.set_addresstype("IPv4");
  foreign.add_endpoints()->add_addresses("192.168.1.1");
  env.Create(foreign);
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  WriteCounter writes(env.api);

  ASSERT_TRUE(c.SyncForTesting("default/manual").ok());
  EXPECT_EQ(writes.Writes(kSlices), 0);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Creates(kSlices), 1);
  EXPECT_EQ(writes.Deletes(kSlices), 0);
  EXPECT_EQ(writes.Updates(kSlices), 0);
  EXPECT_TRUE(env.Get<discv1::EndpointSlice>("default", "web-by-hand").ok());
}

// A pod on a Node the cache does not know is left out and the Service retried (upstream), unless
// publishNotReadyAddresses publishes it anyway.
TEST(EndpointSliceControllerTest, PodOnMissingNodeIsSkippedAndRetried) {
  for (bool publish : {false, true}) {
    SCOPED_TRACE(publish ? "publishNotReadyAddresses" : "default");
    cmt::ControllerTestEnv env;
    env.Create(MakeNode("node-1").Obj());
    env.Create(WebService("8080", publish));
    env.Create(WebPod("web-1", "10.0.0.1").Obj());
    env.Create(WebPod("lost", "10.0.0.2").Node("node-gone").Obj());
    EndpointSliceController c(env.context);
    env.StartInformers(c.Informers());
    Status s = c.SyncForTesting("default/web");
    std::map<std::string, discv1::Endpoint> eps = EndpointsByPod(SlicesOf(env));
    EXPECT_TRUE(eps.contains("web-1"));
    if (publish) {
      EXPECT_TRUE(s.ok()) << s.ToString();
      EXPECT_TRUE(eps.contains("lost"));
      EXPECT_FALSE(eps.at("lost").has_zone());
    } else {
      EXPECT_FALSE(s.ok());
      EXPECT_NE(s.message().find("Node node-gone Not Found"), std::string::npos) << s.message();
      EXPECT_FALSE(eps.contains("lost"));
      EXPECT_TRUE(WaitFor([&] { return !env.Events("FailedToUpdateEndpointSlices").empty(); }));
      EXPECT_EQ(env.Events("FailedToUpdateEndpointSlices")[0].source().component(), "endpoint-slice-controller");
    }
  }
}

TEST(EndpointSliceControllerTest, ApiFailureIsReturnedForRetry) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  EndpointSliceController c(env.context);
  env.StartInformers(c.Informers());
  env.api.FailNext(FakeApi::Verb::kCreate, Unavailable("etcd is down"), 1, kSlices);
  Status s = c.SyncForTesting("default/web");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_TRUE(SlicesOf(env).empty());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(SlicesOf(env).size(), 1u);
}

TEST(EndpointSliceTrackerTest, StaleAndExpectedDeletions) {
  corev1::Service svc;
  svc.mutable_metadata()->set_name("web");
  svc.mutable_metadata()->set_namespace_("default");
  auto slice = [](const std::string& uid, const std::string& rv) {
    discv1::EndpointSlice s;
    s.mutable_metadata()->set_namespace_("default");
    s.mutable_metadata()->set_uid(uid);
    s.mutable_metadata()->set_resourceversion(rv);
    (*s.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "web";
    return std::make_shared<const discv1::EndpointSlice>(s);
  };
  endpoints::EndpointSliceTracker t;
  EXPECT_FALSE(t.StaleSlices(svc, {}));
  EXPECT_TRUE(t.ShouldSync(*slice("a", "5")));

  t.Update(*slice("a", "5"));
  EXPECT_TRUE(t.Has(*slice("a", "5")));
  EXPECT_FALSE(t.ShouldSync(*slice("a", "5")));   // the echo of our own write
  EXPECT_TRUE(t.ShouldSync(*slice("a", "6")));    // someone else changed it
  EXPECT_TRUE(t.StaleSlices(svc, {slice("a", "4")}));  // cache older than our write
  EXPECT_TRUE(t.StaleSlices(svc, {}));                 // our create not seen yet
  EXPECT_FALSE(t.StaleSlices(svc, {slice("a", "5")}));

  t.ExpectDeletion(*slice("a", "5"));
  EXPECT_TRUE(t.StaleSlices(svc, {slice("a", "5")}));  // still listed after we deleted it
  EXPECT_FALSE(t.StaleSlices(svc, {}));
  EXPECT_TRUE(t.HandleDeletion(*slice("a", "5")));     // expected
  EXPECT_FALSE(t.Has(*slice("a", "5")));

  t.Update(*slice("b", "7"));
  EXPECT_FALSE(t.HandleDeletion(*slice("b", "7")));    // someone else deleted our slice
  t.Update(*slice("c", "8"));
  t.DeleteService("default", "web");
  EXPECT_FALSE(t.StaleSlices(svc, {}));
}

// The controller with its workers and handlers: a pod turning ready reaches its slice.
TEST(EndpointSliceControllerTest, HandlersCarryReadinessToTheSlice) {
  cmt::ControllerTestEnv env;
  env.Create(MakeNode("node-1").Obj());
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1", false).Obj());
  client::testing::ClockPump pump(env.clock, 1s);  // retry backoff and slice-event delays pass
  EndpointSliceController c(env.context);
  env.Start(c);
  auto ready_is = [&](bool want) {
    std::map<std::string, discv1::Endpoint> eps = EndpointsByPod(SlicesOf(env));
    return eps.contains("web-1") && eps.at("web-1").conditions().ready() == want;
  };
  ASSERT_TRUE(WaitFor([&] { return ready_is(false); }));
  SetReady(env, "web-1", true);
  EXPECT_TRUE(WaitFor([&] { return ready_is(true); }));
  SetReady(env, "web-1", false);
  EXPECT_TRUE(WaitFor([&] { return ready_is(false); }));
  c.Stop();
  EXPECT_EQ(SlicesOf(env).size(), 1u);
}

// ---- Endpoints controller -----------------------------------------------------------------------

const corev1::EndpointSubset* SubsetWithPort(const corev1::Endpoints& e, int port) {
  for (const auto& s : e.subsets()) {
    for (const auto& p : s.ports()) {
      if (p.port() == port) return &s;
    }
  }
  return nullptr;
}

std::vector<std::string> Names(const google::protobuf::RepeatedPtrField<corev1::EndpointAddress>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.targetref().name());
  return out;
}

TEST(EndpointsControllerTest, SubsetsGroupAddressesByPortSet) {
  cmt::ControllerTestEnv env;
  corev1::Service svc_in = WebService("http");
  (*svc_in.mutable_metadata()->mutable_labels())["team"] = "shop";
  corev1::Service svc = env.Create(svc_in);
  corev1::Pod a = env.Create(NamedPortPod("a", "10.0.0.1", "http", 8080));
  corev1::Pod b = NamedPortPod("b", "10.0.0.2", "http", 8080);
  b.mutable_status()->mutable_conditions(0)->set_status("False");
  env.Create(b);
  env.Create(NamedPortPod("c", "10.0.0.3", "http", 9090));
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  corev1::Endpoints e = env.Get<corev1::Endpoints>("default", "web").value();
  ASSERT_EQ(e.subsets_size(), 2);
  const corev1::EndpointSubset* s8080 = SubsetWithPort(e, 8080);
  const corev1::EndpointSubset* s9090 = SubsetWithPort(e, 9090);
  ASSERT_NE(s8080, nullptr);
  ASSERT_NE(s9090, nullptr);
  EXPECT_EQ(Names(s8080->addresses()), std::vector<std::string>{"a"});
  EXPECT_EQ(Names(s8080->notreadyaddresses()), std::vector<std::string>{"b"});
  EXPECT_EQ(Names(s9090->addresses()), std::vector<std::string>{"c"});
  EXPECT_EQ(s9090->notreadyaddresses_size(), 0);
  ASSERT_EQ(s8080->ports_size(), 1);
  EXPECT_EQ(s8080->ports(0).protocol(), "TCP");
  const corev1::EndpointAddress& addr = s8080->addresses(0);
  EXPECT_EQ(addr.ip(), "10.0.0.1");
  EXPECT_EQ(addr.nodename(), "node-1");
  EXPECT_EQ(addr.targetref().kind(), "Pod");
  EXPECT_EQ(addr.targetref().namespace_(), "default");
  EXPECT_EQ(addr.targetref().uid(), a.metadata().uid());
  EXPECT_EQ(e.metadata().labels().at("team"), "shop");
  EXPECT_FALSE(e.metadata().labels().contains("service.kubernetes.io/headless"));
  EXPECT_EQ(e.metadata().annotations().at("endpoints.kubernetes.io/last-change-trigger-time"),
            api::FormatRfc3339(api::TimestampOf(svc.metadata().creationtimestamp())));
  EXPECT_FALSE(e.metadata().annotations().contains("endpoints.kubernetes.io/over-capacity"));
}

// Where each pod lands: addresses, notReadyAddresses or nowhere.
TEST(EndpointsControllerTest, AddressPlacementTable) {
  enum Where { kReady, kNotReady, kAbsent };
  struct Case {
    std::string name;
    bool ready;
    bool terminating;
    std::string phase;
    bool has_ip;
    bool publish_not_ready;
    Where want;
  };
  const std::vector<Case> cases = {
      {"ready", true, false, "Running", true, false, kReady},
      {"not ready", false, false, "Running", true, false, kNotReady},
      {"not ready, publishNotReadyAddresses", false, false, "Running", true, true, kReady},
      {"terminating", true, true, "Running", true, false, kAbsent},
      {"terminating, publishNotReadyAddresses", true, true, "Running", true, true, kReady},
      {"no IP", false, false, "Pending", false, false, kAbsent},
      {"failed", false, false, "Failed", true, true, kAbsent},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    cmt::ControllerTestEnv env;
    env.Create(WebService("8080", tc.publish_not_ready));
    env.Create(WebPod("p", tc.has_ip ? "10.0.0.1" : "", tc.ready).Phase(tc.phase).Obj());
    if (tc.terminating) TerminatePod(env, "p");
    EndpointsController c(env.context);
    env.StartInformers(c.Informers());
    ASSERT_TRUE(c.SyncForTesting("default/web").ok());
    corev1::Endpoints e = env.Get<corev1::Endpoints>("default", "web").value();
    int ready = 0, not_ready = 0;
    for (const auto& s : e.subsets()) {
      ready += s.addresses_size();
      not_ready += s.notreadyaddresses_size();
    }
    EXPECT_EQ(ready, tc.want == kReady ? 1 : 0);
    EXPECT_EQ(not_ready, tc.want == kNotReady ? 1 : 0);
  }
}

TEST(EndpointsControllerTest, HeadlessServiceWithoutPorts) {
  cmt::ControllerTestEnv env;
  corev1::Service svc = MakeService("web").Selector("app", "web").ClusterIP("None");
  env.Create(svc);
  corev1::Pod pod = WebPod("web-1", "10.0.0.1");
  pod.mutable_spec()->set_hostname("web-1");
  pod.mutable_spec()->set_subdomain("web");
  env.Create(pod);
  env.Create(WebPod("web-2", "10.0.0.2").Obj());
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());

  corev1::Endpoints e = env.Get<corev1::Endpoints>("default", "web").value();
  EXPECT_EQ(e.metadata().labels().at("service.kubernetes.io/headless"), "");
  ASSERT_EQ(e.subsets_size(), 1);
  EXPECT_EQ(e.subsets(0).ports_size(), 0);
  ASSERT_EQ(e.subsets(0).addresses_size(), 2);
  EXPECT_EQ(e.subsets(0).addresses(0).hostname(), "web-1");
  EXPECT_EQ(e.subsets(0).addresses(1).hostname(), "");
}

// The seed's "readiness probe passes -> registered in Endpoints" and back.
TEST(EndpointsControllerTest, ReadinessMovesTheAddress) {
  cmt::ControllerTestEnv env;
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1", false).Obj());
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  WriteCounter writes(env.api);
  for (bool ready : {true, false}) {
    SCOPED_TRACE(ready ? "turned ready" : "turned unready");
    env.clock.Advance(5s);
    SetReady(env, "web-1", ready);
    WaitCaughtUp(env, c);
    writes.Reset();
    ASSERT_TRUE(c.SyncForTesting("default/web").ok());
    EXPECT_EQ(writes.Updates(kEndpointsResource), 1);
    corev1::Endpoints e = env.Get<corev1::Endpoints>("default", "web").value();
    ASSERT_EQ(e.subsets_size(), 1);
    EXPECT_EQ(e.subsets(0).addresses_size(), ready ? 1 : 0);
    EXPECT_EQ(e.subsets(0).notreadyaddresses_size(), ready ? 0 : 1);
    // The trigger time is the pod's Ready transition.
    corev1::Pod pod = env.Get<corev1::Pod>("default", "web-1").value();
    ASSERT_EQ(pod.status().conditions(0).type(), "Ready");
    EXPECT_EQ(e.metadata().annotations().at("endpoints.kubernetes.io/last-change-trigger-time"),
              endpoints::FormatRfc3339Nano(api::TimestampOf(pod.status().conditions(0).lasttransitiontime())));
  }
}

TEST(EndpointsControllerTest, NothingWrittenWhenNothingChanged) {
  cmt::ControllerTestEnv env;
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  env.Create(WebPod("web-2", "10.0.0.2", false).Obj());
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Creates(kEndpointsResource), 1);
  WaitCaughtUp(env, c);
  writes.Reset();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(writes.Writes(kEndpointsResource), 0);
}

TEST(EndpointsControllerTest, EndpointsOfADeletedServiceAreDeleted) {
  cmt::ControllerTestEnv env;
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  ASSERT_TRUE(env.Get<corev1::Endpoints>("default", "web").ok());

  ASSERT_TRUE(env.api.Delete(cmt::ResourceOf(corev1::Service::descriptor()), "default", "web").ok());
  WaitCaughtUp(env, c);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  EXPECT_EQ(env.Get<corev1::Endpoints>("default", "web").status().code(), Code::kNotFound);
  // Again: already gone is fine.
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
}

// The apiserver's own `kubernetes` Endpoints (a Service without selector) and ExternalName
// Services are never written.
TEST(EndpointsControllerTest, LeavesEndpointsOfSelectorlessServicesAlone) {
  cmt::ControllerTestEnv env;
  corev1::Service kubernetes = MakeService("kubernetes").Port(443, "6443").ClusterIP("10.96.0.1");
  env.Create(kubernetes);
  corev1::Endpoints apiserver;
  apiserver.mutable_metadata()->set_name("kubernetes");
  auto* subset = apiserver.add_subsets();
  subset->add_addresses()->set_ip("127.0.0.1");
  subset->add_ports()->set_port(6443);
  apiserver = env.Create(apiserver);
  corev1::Service external = MakeService("db").Selector("app", "web").Type("ExternalName");
  env.Create(external);
  env.Create(WebPod("web-1", "10.0.0.1").Obj());
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  WriteCounter writes(env.api);
  ASSERT_TRUE(c.SyncForTesting("default/kubernetes").ok());
  ASSERT_TRUE(c.SyncForTesting("default/db").ok());
  EXPECT_EQ(writes.Writes(kEndpointsResource), 0);
  EXPECT_EQ(env.Get<corev1::Endpoints>("default", "kubernetes").value().metadata().resourceversion(),
            apiserver.metadata().resourceversion());
  EXPECT_FALSE(env.Get<corev1::Endpoints>("default", "db").ok());
}

// At start every Endpoints is looked at once (upstream checkLeftoverEndpoints): one whose Service
// is gone is deleted; a leader-election record is skipped.
TEST(EndpointsControllerTest, LeftoverEndpointsAreDeletedAtStart) {
  ControllerSettings one_worker;
  one_worker.concurrent_endpoint_syncs = 1;  // keys are synced in the order they were queued
  cmt::ControllerTestEnv env(one_worker);
  corev1::Endpoints lock;
  lock.mutable_metadata()->set_name("a-lock");
  (*lock.mutable_metadata()->mutable_annotations())["control-plane.alpha.kubernetes.io/leader"] = "{}";
  env.Create(lock);
  corev1::Endpoints orphan;
  orphan.mutable_metadata()->set_name("orphan");
  env.Create(orphan);
  client::testing::ClockPump pump(env.clock, 1s);
  EndpointsController c(env.context);
  env.Start(c);
  ASSERT_TRUE(WaitFor([&] { return !env.Get<corev1::Endpoints>("default", "orphan").ok(); }));
  c.Stop();
  EXPECT_TRUE(env.Get<corev1::Endpoints>("default", "a-lock").ok());
}

TEST(EndpointsControllerTest, OverCapacityIsTruncatedAndAnnotated) {
  cmt::ControllerTestEnv env;
  env.Create(WebService());
  for (int i = 0; i < 990; ++i) env.Create(WebPod("r-" + std::to_string(i), Ip(i)).Obj());
  for (int i = 990; i < 1010; ++i) env.Create(WebPod("n-" + std::to_string(i), Ip(i), false).Obj());
  EndpointsController c(env.context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  corev1::Endpoints e = env.Get<corev1::Endpoints>("default", "web").value();
  ASSERT_EQ(e.subsets_size(), 1);
  EXPECT_EQ(e.subsets(0).addresses_size(), 990);
  EXPECT_EQ(e.subsets(0).notreadyaddresses_size(), 10);
  EXPECT_EQ(e.metadata().annotations().at("endpoints.kubernetes.io/over-capacity"), "truncated");
  // Truncated Endpoints that are as they should be are not written again.
  WaitCaughtUp(env, c);
  {
    WriteCounter writes(env.api);
    ASSERT_TRUE(c.SyncForTesting("default/web").ok());
    EXPECT_EQ(writes.Writes(kEndpointsResource), 0);
  }

  // Back under capacity: the annotation goes.
  for (int i = 990; i < 1010; ++i) RemovePod(env, "n-" + std::to_string(i));
  WaitCaughtUp(env, c);
  ASSERT_TRUE(c.SyncForTesting("default/web").ok());
  e = env.Get<corev1::Endpoints>("default", "web").value();
  EXPECT_EQ(e.subsets(0).addresses_size(), 990);
  EXPECT_EQ(e.subsets(0).notreadyaddresses_size(), 0);
  EXPECT_FALSE(e.metadata().annotations().contains("endpoints.kubernetes.io/over-capacity"));
}

TEST(EndpointsControllerTest, TruncateEndpointsTable) {
  struct Case {
    std::string name;
    std::vector<std::pair<int, int>> subsets;  // {ready, not ready} per subset
    bool truncated;
    std::vector<std::pair<int, int>> want;
  };
  const std::vector<Case> cases = {
      {"under capacity", {{600, 0}, {400, 0}}, false, {{600, 0}, {400, 0}}},
      {"ready over capacity: shared in proportion", {{600, 0}, {600, 10}}, true, {{500, 0}, {500, 0}}},
      {"not ready cut first", {{900, 50}, {0, 100}}, true, {{900, 34}, {0, 66}}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    corev1::Endpoints e;
    int ip = 0;
    for (auto [ready, not_ready] : tc.subsets) {
      auto* s = e.add_subsets();
      for (int i = 0; i < ready; ++i) s->add_addresses()->set_ip(Ip(ip++));
      for (int i = 0; i < not_ready; ++i) s->add_notreadyaddresses()->set_ip(Ip(ip++));
    }
    EXPECT_EQ(endpoints::TruncateEndpoints(&e), tc.truncated);
    std::vector<std::pair<int, int>> got;
    for (const auto& s : e.subsets()) got.emplace_back(s.addresses_size(), s.notreadyaddresses_size());
    EXPECT_EQ(got, tc.want);
  }
}

TEST(EndpointsControllerTest, RepackSubsetsCanonicalForm) {
  auto address = [](const std::string& ip, const std::string& uid) {
    corev1::EndpointAddress a;
    a.set_ip(ip);
    a.mutable_targetref()->set_uid(uid);
    return a;
  };
  auto port = [](int n) {
    corev1::EndpointPort p;
    p.set_port(n);
    p.set_protocol("TCP");
    return p;
  };
  std::vector<corev1::EndpointSubset> in(4);
  // 10.0.0.2 offers 80 and 443, ready on both; 10.0.0.1 offers 80 ready and 80 not ready (not
  // ready wins) and 443 ready.
  *in[0].add_addresses() = address("10.0.0.2", "b");
  *in[0].add_ports() = port(80);
  *in[1].add_addresses() = address("10.0.0.2", "b");
  *in[1].add_ports() = port(443);
  *in[2].add_addresses() = address("10.0.0.1", "a");
  *in[2].add_ports() = port(80);
  *in[2].add_ports() = port(443);
  *in[3].add_notreadyaddresses() = address("10.0.0.1", "a");
  *in[3].add_ports() = port(80);

  std::vector<corev1::EndpointSubset> out = endpoints::RepackSubsets(in);
  ASSERT_EQ(out.size(), 2u);
  std::map<int, std::pair<std::vector<std::string>, std::vector<std::string>>> by_port;
  for (const auto& s : out) {
    ASSERT_EQ(s.ports_size(), 1);
    std::vector<std::string> ready, not_ready;
    for (const auto& a : s.addresses()) ready.push_back(a.ip());
    for (const auto& a : s.notreadyaddresses()) not_ready.push_back(a.ip());
    by_port[s.ports(0).port()] = {ready, not_ready};
  }
  EXPECT_EQ(by_port[80].first, std::vector<std::string>{"10.0.0.2"});
  EXPECT_EQ(by_port[80].second, std::vector<std::string>{"10.0.0.1"});
  EXPECT_EQ(by_port[443].first, (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  EXPECT_TRUE(by_port[443].second.empty());

  // Input order does not matter.
  std::reverse(in.begin(), in.end());
  std::vector<corev1::EndpointSubset> again = endpoints::RepackSubsets(in);
  ASSERT_EQ(again.size(), out.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(again[i].SerializeAsString(), out[i].SerializeAsString());
}

// The controller with its workers and handlers: readiness moves the address back and forth.
TEST(EndpointsControllerTest, HandlersCarryReadinessToEndpoints) {
  cmt::ControllerTestEnv env;
  env.Create(WebService());
  env.Create(WebPod("web-1", "10.0.0.1", false).Obj());
  client::testing::ClockPump pump(env.clock, 1s);
  EndpointsController c(env.context);
  env.Start(c);
  auto ready_count = [&](int want) {
    Result<corev1::Endpoints> e = env.Get<corev1::Endpoints>("default", "web");
    if (!e.ok() || e->subsets_size() != 1) return false;
    return e->subsets(0).addresses_size() == want && e->subsets(0).notreadyaddresses_size() == 1 - want;
  };
  ASSERT_TRUE(WaitFor([&] { return ready_count(0); }));
  SetReady(env, "web-1", true);
  EXPECT_TRUE(WaitFor([&] { return ready_count(1); }));
  SetReady(env, "web-1", false);
  EXPECT_TRUE(WaitFor([&] { return ready_count(0); }));
  // Deleting the Endpoints of a live Service brings them back.
  ASSERT_TRUE(env.api.Delete(cmt::ResourceOf(corev1::Endpoints::descriptor()), "default", "web").ok());
  EXPECT_TRUE(WaitFor([&] { return ready_count(0); }));
}

TEST(EndpointsUtilTest, TriggerTimeFormatsLikeGo) {
  EXPECT_EQ(endpoints::FormatRfc3339Nano({1714564800, 0}), "2024-05-01T12:00:00Z");
  EXPECT_EQ(endpoints::FormatRfc3339Nano({1714564800, 500000000}), "2024-05-01T12:00:00.5Z");
  EXPECT_EQ(endpoints::FormatRfc3339Nano({1714564800, 123456789}), "2024-05-01T12:00:00.123456789Z");
}

}  // namespace
}  // namespace ck::controller_manager
