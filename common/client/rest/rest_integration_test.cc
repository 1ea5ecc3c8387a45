// RestApiClient, the typed client, discovery and the dynamic client against a real ck-apiserver
// (tests/testutil/apiserver.h), with the kubeconfigs its PKI writes: client certificate and
// bearer token.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/coordination_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/rest/config.h"
#include "common/client/rest/discovery.h"
#include "common/client/rest/dynamic_client.h"
#include "common/client/rest/rest_api_client.h"
#include "common/client/rest/typed_client.h"
#include "tests/testutil/apiserver.h"

namespace ck::client {
namespace {

using ::testing::HasSubstr;
namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace policyv1 = ::k8s::io::api::policy::v1;
using PodPtr = std::shared_ptr<const corev1::Pod>;

// One apiserver for the whole suite (start-up writes a PKI and opens a store).
class RestIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new testutil::ApiServerProcess({"--default-watch-cache-size=100"});
  }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static std::unique_ptr<RestApiClient> Connect(const std::string& kubeconfig) {
    Result<RestConfig> config = LoadKubeconfig(kubeconfig);
    CK_CHECK(config.ok()) << config.status().ToString();
    config->qps = 200;
    config->burst = 400;
    config->user_agent = MakeUserAgent("ck-client-test", "v1.32.0");
    Result<std::unique_ptr<RestApiClient>> client = RestApiClient::New(*config);
    CK_CHECK(client.ok()) << client.status().ToString();
    return std::move(client).value();
  }

  void SetUp() override { api_ = Connect(server_->admin_kubeconfig()); }

  // A fresh namespace per test.
  std::string MakeNamespace(const std::string& name) {
    corev1::Namespace ns;
    ns.mutable_metadata()->set_name(name);
    Result<std::shared_ptr<const corev1::Namespace>> created = Client<corev1::Namespace>(*api_).Create(ns);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return name;
  }

  static corev1::Pod Pod(const std::string& ns, const std::string& name) {
    return api::testing::PodBuilder(name).Namespace(ns).Label("app", "web").Container("app", "nginx:1");
  }

  static testutil::ApiServerProcess* server_;
  std::unique_ptr<RestApiClient> api_;
};

testutil::ApiServerProcess* RestIntegration::server_ = nullptr;

TEST_F(RestIntegration, CreateGetListPaginateUpdateConflictPatchDelete) {
  std::string ns = MakeNamespace("crud");
  Client<corev1::Pod> pods(*api_);
  for (int i = 0; i < 5; ++i) {
    Result<PodPtr> p = pods.Create(Pod(ns, "web-" + std::to_string(i)), {.field_manager = "ck-client-test"});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_FALSE((*p)->metadata().uid().empty());
  }
  EXPECT_EQ(pods.Create(Pod(ns, "web-0")).status().code(), Code::kAlreadyExists);

  Result<PodPtr> got = pods.Get(ns, "web-3");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)->spec().containers(0).image(), "nginx:1");
  Result<PodPtr> missing = pods.Get(ns, "nope");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("\"nope\" not found"));

  // Pages of two: 2 + 2 + 1, each page continuing where the last stopped.
  std::vector<std::string> names;
  ListOptions o;
  o.limit = 2;
  int pages = 0;
  std::string first_rv;
  do {
    Result<TypedList<corev1::Pod>> page = pods.List(ns, o);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    if (pages == 0) first_rv = page->resource_version;
    EXPECT_LE(page->items.size(), 2u);
    for (const PodPtr& p : page->items) names.push_back(p->metadata().name());
    o.continue_token = page->continue_token;
    ++pages;
  } while (!o.continue_token.empty());
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(names, (std::vector<std::string>{"web-0", "web-1", "web-2", "web-3", "web-4"}));
  EXPECT_FALSE(first_rv.empty());

  ListOptions sel;
  sel.field_selector = "metadata.name=web-1";
  Result<TypedList<corev1::Pod>> one = pods.List(ns, sel);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->items.size(), 1u);

  // Update with the current resourceVersion, then again with the stale one: 409 Conflict.
  corev1::Pod changed = **got;
  (*changed.mutable_metadata()->mutable_labels())["tier"] = "front";
  Result<PodPtr> updated = pods.Update(changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_NE((*updated)->metadata().resourceversion(), (*got)->metadata().resourceversion());
  EXPECT_EQ((*updated)->metadata().labels().at("tier"), "front");
  Result<PodPtr> stale = pods.Update(changed);
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_THAT(stale.status().message(), HasSubstr("the object has been modified"));

  // Merge patch: a label; strategic merge patch: a container's image, matched by name.
  Result<PodPtr> merged =
      pods.Patch(ns, "web-3", PatchType::kMerge, R"({"metadata":{"labels":{"tier":null,"x":"y"}}})");
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ((*merged)->metadata().labels().count("tier"), 0u);
  EXPECT_EQ((*merged)->metadata().labels().at("x"), "y");
  Result<PodPtr> smp = pods.Patch(ns, "web-3", PatchType::kStrategicMerge,
                                  R"({"spec":{"containers":[{"name":"app","image":"nginx:2"}]}})");
  ASSERT_TRUE(smp.ok()) << smp.status().ToString();
  ASSERT_EQ((*smp)->spec().containers_size(), 1);
  EXPECT_EQ((*smp)->spec().containers(0).image(), "nginx:2");
  EXPECT_EQ(pods.Patch(ns, "web-3", PatchType::kMerge, "{not json").status().code(), Code::kBadRequest);

  // Status: only status changes through pods/status.
  corev1::Pod with_status = **smp;
  with_status.mutable_status()->set_phase("Running");
  with_status.mutable_spec()->mutable_containers(0)->set_image("ignored:9");
  Result<PodPtr> status = pods.UpdateStatus(with_status);
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ((*status)->status().phase(), "Running");
  EXPECT_EQ((*status)->spec().containers(0).image(), "nginx:2");
  Result<PodPtr> status_patch = pods.PatchStatus(
      ns, "web-3", PatchType::kMerge, R"({"status":{"message":"patched"},"spec":{"nodeName":"x"}})");
  ASSERT_TRUE(status_patch.ok()) << status_patch.status().ToString();
  EXPECT_EQ((*status_patch)->status().message(), "patched");
  EXPECT_EQ((*status_patch)->status().phase(), "Running");
  EXPECT_EQ((*status_patch)->spec().nodename(), "");  // spec is not written through status

  // Unbound pods go at once: Delete answers with nothing left, or with the object it removed.
  DeleteOptions del;
  del.propagation_policy = "Background";
  Result<PodPtr> deleted = pods.Delete(ns, "web-4", del);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(pods.Get(ns, "web-4").status().code(), Code::kNotFound);
  EXPECT_EQ(pods.Delete(ns, "web-4").status().code(), Code::kNotFound);
  DeleteOptions precondition;
  precondition.precondition_uid = "not-the-uid";
  EXPECT_EQ(pods.Delete(ns, "web-3", precondition).status().code(), Code::kConflict);

  ListOptions by_label;
  by_label.label_selector = "x=y";
  ASSERT_TRUE(pods.DeleteCollection(ns, by_label).ok());
  EXPECT_EQ(pods.Get(ns, "web-3").status().code(), Code::kNotFound);
  Result<TypedList<corev1::Pod>> rest = pods.List(ns);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->items.size(), 3u);
}

TEST_F(RestIntegration, BindingAssignsTheNode) {
  std::string ns = MakeNamespace("binding");
  Client<corev1::Pod> pods(*api_);
  ASSERT_TRUE(pods.Create(Pod(ns, "web")).ok());
  corev1::Binding binding;
  binding.mutable_metadata()->set_name("web");
  binding.mutable_metadata()->set_namespace_(ns);
  binding.mutable_target()->set_kind("Node");
  binding.mutable_target()->set_name("node-1");
  Status bound = pods.Bind(binding);
  ASSERT_TRUE(bound.ok()) << bound.ToString();
  Result<PodPtr> pod = pods.Get(ns, "web");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)->spec().nodename(), "node-1");
  EXPECT_EQ(pods.Bind(binding).code(), Code::kConflict);  // already bound

  // A bound pod is deleted gracefully: the answer carries deletionTimestamp.
  Result<PodPtr> graceful = pods.Delete(ns, "web");
  ASSERT_TRUE(graceful.ok()) << graceful.status().ToString();
  ASSERT_NE(*graceful, nullptr);
  EXPECT_TRUE((*graceful)->metadata().has_deletiontimestamp());
}

TEST_F(RestIntegration, EvictionAndScale) {
  std::string ns = MakeNamespace("subresources");
  Client<corev1::Pod> pods(*api_);
  ASSERT_TRUE(pods.Create(Pod(ns, "evictee")).ok());
  policyv1::Eviction eviction;
  eviction.mutable_metadata()->set_name("evictee");
  eviction.mutable_metadata()->set_namespace_(ns);
  Status evicted = pods.Evict(eviction);
  ASSERT_TRUE(evicted.ok()) << evicted.ToString();
  EXPECT_EQ(pods.Get(ns, "evictee").status().code(), Code::kNotFound);

  Client<appsv1::Deployment> deployments(*api_);
  appsv1::Deployment d;
  d.mutable_metadata()->set_name("web");
  d.mutable_metadata()->set_namespace_(ns);
  d.mutable_spec()->set_replicas(2);
  (*d.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  *d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels() =
      d.spec().selector().matchlabels();
  *d.mutable_spec()->mutable_template_()->mutable_spec() = Pod(ns, "x").spec();
  Result<std::shared_ptr<const appsv1::Deployment>> created = deployments.Create(d);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto scale = deployments.GetScale(ns, "web");
  ASSERT_TRUE(scale.ok()) << scale.status().ToString();
  EXPECT_EQ((*scale)->spec().replicas(), 2);
  ::k8s::io::api::autoscaling::v1::Scale more = **scale;
  more.mutable_spec()->set_replicas(5);
  auto scaled = deployments.UpdateScale(ns, more);
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  EXPECT_EQ((*scaled)->spec().replicas(), 5);
  Result<std::shared_ptr<const appsv1::Deployment>> after = deployments.Get(ns, "web");
  ASSERT_TRUE(after.ok());
  EXPECT_EQ((*after)->spec().replicas(), 5);
  auto patched = deployments.PatchScale(ns, "web", PatchType::kMerge, R"({"spec":{"replicas":1}})");
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)->spec().replicas(), 1);
  EXPECT_EQ(deployments.Get(ns, "web").value()->spec().replicas(), 1);
}

TEST_F(RestIntegration, WatchSeesAddedModifiedDeletedInOrder) {
  std::string ns = MakeNamespace("watch");
  Client<corev1::ConfigMap> configmaps(*api_);
  Result<TypedList<corev1::ConfigMap>> list = configmaps.List(ns);
  ASSERT_TRUE(list.ok());
  ListOptions o;
  o.resource_version = list->resource_version;
  o.allow_watch_bookmarks = true;
  o.timeout_seconds = 60;
  auto watch = configmaps.Watch(ns, o);
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();

  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("settings");
  cm.mutable_metadata()->set_namespace_(ns);
  (*cm.mutable_data())["a"] = "1";
  auto created = configmaps.Create(cm);
  ASSERT_TRUE(created.ok());
  corev1::ConfigMap next = **created;
  (*next.mutable_data())["a"] = "2";
  auto updated = configmaps.Update(next);
  ASSERT_TRUE(updated.ok());
  ASSERT_TRUE(configmaps.Delete(ns, "settings").ok());

  std::vector<std::pair<WatchEvent::Type, std::string>> got;
  while (got.size() < 3) {
    auto e = (*watch)->Next();
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    ASSERT_TRUE(e->has_value()) << "watch ended early";
    if ((*e)->type == WatchEvent::Type::kBookmark) continue;
    EXPECT_EQ((*e)->object->metadata().name(), "settings");
    got.emplace_back((*e)->type, (*e)->object->data().at("a"));
  }
  std::vector<std::pair<WatchEvent::Type, std::string>> want = {
      {WatchEvent::Type::kAdded, "1"}, {WatchEvent::Type::kModified, "2"}, {WatchEvent::Type::kDeleted, "2"}};
  EXPECT_EQ(got, want);
  (*watch)->Stop();
  EXPECT_EQ((*watch)->Next().status().code(), Code::kUnavailable);
}

TEST_F(RestIntegration, WatchFromACompactedResourceVersionIsGone) {
  std::string ns = MakeNamespace("compacted");
  Client<corev1::ConfigMap> configmaps(*api_);
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("churn");
  cm.mutable_metadata()->set_namespace_(ns);
  auto created = configmaps.Create(cm);
  ASSERT_TRUE(created.ok());
  std::string old_rv = (*created)->metadata().resourceversion();
  // More writes than the watch cache keeps (--default-watch-cache-size=100).
  for (int i = 0; i < 150; ++i) {
    auto r =
        configmaps.Patch(ns, "churn", PatchType::kMerge, R"({"data":{"i":")" + std::to_string(i) + "\"}}");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ListOptions o;
  o.resource_version = old_rv;
  auto watch = configmaps.Watch(ns, o);
  Status gone = watch.ok() ? (*watch)->Next().status() : watch.status();
  EXPECT_EQ(gone.code(), Code::kGone) << gone.ToString();
  EXPECT_THAT(gone.message(), HasSubstr("too old resource version"));
}

TEST_F(RestIntegration, MetadataOnlyListAndWatch) {
  std::string ns = MakeNamespace("metadata");
  Client<corev1::Pod> pods(*api_);
  for (const char* name : {"m-1", "m-2"}) ASSERT_TRUE(pods.Create(Pod(ns, name)).ok());
  const ResourceInfo& resource = pods.resource();
  ListOptions o;
  o.metadata_only = true;
  Result<ObjectList> list = api_->List(resource, ns, o);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 2u);
  for (const ObjectPtr& item : list->items) {
    ASSERT_EQ(item->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
    const auto& m = static_cast<const metav1::PartialObjectMetadata&>(*item);
    EXPECT_EQ(m.metadata().labels().at("app"), "web");
    EXPECT_FALSE(m.metadata().uid().empty());
  }
  o.resource_version = list->resource_version;
  auto watch = api_->Watch(resource, ns, o);
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  ASSERT_TRUE(pods.Create(Pod(ns, "m-3")).ok());
  auto e = (*watch)->Next();
  ASSERT_TRUE(e.ok() && e->has_value()) << e.status().ToString();
  EXPECT_EQ((*e)->type, WatchEvent::Type::kAdded);
  ASSERT_EQ((*e)->object->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  EXPECT_EQ(static_cast<const metav1::PartialObjectMetadata&>(*(*e)->object).metadata().name(), "m-3");
  GetOptions g;
  g.metadata_only = true;
  Result<ObjectPtr> one = api_->Get(resource, ns, "m-1", g);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
}

TEST_F(RestIntegration, DiscoveryFindsServedResourcesAggregatedAndLegacy) {
  DiscoveryClient discovery(*api_);
  Result<std::vector<ResourceInfo>> aggregated = discovery.ServerResources();
  ASSERT_TRUE(aggregated.ok()) << aggregated.status().ToString();
  Result<std::vector<ResourceInfo>> legacy = discovery.LegacyServerResources();
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  for (const auto* all : {&*aggregated, &*legacy}) {
    const ResourceInfo* pods = FindDiscovered(*all, "", "pods");
    ASSERT_NE(pods, nullptr);
    EXPECT_TRUE(pods->namespaced);
    EXPECT_EQ(pods->kind, "Pod");
    EXPECT_TRUE(pods->HasVerb("watch"));
    EXPECT_NE(pods->FindSubresource("binding"), nullptr);
    EXPECT_EQ(pods->proto_type, "k8s.io.api.core.v1.Pod");
    const ResourceInfo* deployments = FindDiscovered(*all, "apps", "deployments");
    ASSERT_NE(deployments, nullptr);
    ASSERT_NE(deployments->FindSubresource("scale"), nullptr);
    EXPECT_EQ(deployments->FindSubresource("scale")->kind, "Scale");
    EXPECT_EQ(deployments->short_names, std::vector<std::string>{"deploy"});
    const ResourceInfo* leases = FindDiscovered(*all, "coordination.k8s.io", "leases");
    ASSERT_NE(leases, nullptr);
    EXPECT_EQ(leases->kind, "Lease");
    const ResourceInfo* nodes = FindDiscovered(*all, "", "nodes");
    ASSERT_NE(nodes, nullptr);
    EXPECT_FALSE(nodes->namespaced);
  }
  std::set<std::string> a, l;
  for (const ResourceInfo& r : *aggregated) a.insert(r.GroupResource());
  for (const ResourceInfo& r : *legacy) l.insert(r.GroupResource());
  EXPECT_EQ(a, l);
  // The garbage collector's view: everything it can list and watch, read metadata-only.
  std::vector<ResourceInfo> watchable = FilterByVerbs(*aggregated, {"list", "watch"});
  EXPECT_GT(watchable.size(), 10u);
  DynamicClient dynamic(*api_);
  for (const ResourceInfo& r : watchable) {
    ListOptions o;
    o.metadata_only = true;
    Result<ObjectList> list = dynamic.ListAll(r, "", o);
    EXPECT_TRUE(list.ok()) << r.GroupResource() << ": " << list.status().ToString();
  }
}

TEST_F(RestIntegration, DynamicClientReadsADiscoveredResourceByKind) {
  std::string ns = MakeNamespace("dynamic");
  Client<corev1::ConfigMap> configmaps(*api_);
  for (int i = 0; i < 7; ++i) {
    corev1::ConfigMap cm;
    cm.mutable_metadata()->set_name("cm-" + std::to_string(i));
    cm.mutable_metadata()->set_namespace_(ns);
    ASSERT_TRUE(configmaps.Create(cm).ok());
  }
  DiscoveryClient discovery(*api_);
  auto all = discovery.ServerResources();
  ASSERT_TRUE(all.ok());
  ResourceInfo discovered = *FindDiscovered(*all, "", "configmaps");
  discovered.proto_type.clear();  // as for a kind without a table row
  discovered.list_proto_type.clear();
  Result<ObjectList> list = DynamicClient(*api_).ListAll(discovered, ns, {}, 3);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 7u);
  EXPECT_EQ(list->items[0]->GetDescriptor(), corev1::ConfigMap::descriptor());
}

TEST_F(RestIntegration, TokenKubeconfigAndBadCredentials) {
  std::unique_ptr<RestApiClient> token_client = Connect(server_->token_kubeconfig());
  EXPECT_FALSE(token_client->config().bearer_token.empty());
  EXPECT_TRUE(token_client->config().cert_pem.empty());
  Client<corev1::Namespace> namespaces(*token_client);
  Result<TypedList<corev1::Namespace>> list = namespaces.List("");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::set<std::string> names;
  for (const auto& n : list->items) names.insert(n->metadata().name());
  EXPECT_TRUE(names.count("default")) << "namespaces: " << names.size();

  Result<RestConfig> bad = LoadKubeconfig(server_->token_kubeconfig());
  ASSERT_TRUE(bad.ok());
  bad->bearer_token = "wrong";
  auto bad_client = RestApiClient::New(*bad);
  ASSERT_TRUE(bad_client.ok());
  Status s = Client<corev1::Namespace>(**bad_client).List("").status();
  EXPECT_EQ(s.code(), Code::kUnauthorized) << s.ToString();
}

TEST_F(RestIntegration, KeepAliveReusesConnections) {
  Client<corev1::Namespace> namespaces(*api_);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(namespaces.Get("", "default").ok());
  EXPECT_EQ(api_->connections_opened(), 1);
}

}  // namespace
}  // namespace ck::client
