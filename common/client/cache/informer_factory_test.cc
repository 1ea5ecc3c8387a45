#include "common/client/cache/informer_factory.h"

#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/testing/fake_api.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakePod;
using std::chrono::seconds;
using testing::Resource;
using testing::WaitFor;

// Stops every informer before the test's locals that handlers use go away.
struct ShutdownOnExit {
  SharedInformerFactory& factory;
  ~ShutdownOnExit() { factory.Shutdown(); }
};

class FactoryTest : public ::testing::Test {
 protected:
  FactoryTest() : api_(clock_), factory_(api_, clock_, random_) {
    // Past revision 0, whose list resourceVersion "0" a watch would read as "from any point".
    corev1::Namespace ns;
    ns.mutable_metadata()->set_name("seed");
    CK_CHECK(api_.Create(Resource("", "Namespace"), "", ns).ok());
  }

  void CreatePod(const std::string& ns, const std::string& name, const std::string& app, const std::string& node = "") {
    auto builder = MakePod(name).Namespace(ns).Label("app", app);
    if (!node.empty()) builder.Node(node);
    Result<ObjectPtr> created = api_.Create(pods_, ns, builder.Obj());
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  bool Sync() { return factory_.WaitForCacheSync(RealClock::Get(), RealClock::Get().Monotonic() + seconds(20)); }

  static std::vector<std::string> Names(const std::vector<std::shared_ptr<const corev1::Pod>>& pods) {
    std::vector<std::string> names;
    for (const auto& p : pods) names.push_back(p->metadata().namespace_() + "/" + p->metadata().name());
    std::sort(names.begin(), names.end());
    return names;
  }

  const ResourceInfo& pods_ = Resource("", "Pod");
  const ResourceInfo& configmaps_ = Resource("", "ConfigMap");
  FakeClock clock_;
  testing::ZeroRandom random_;
  FakeApi api_;
  SharedInformerFactory factory_;
};

TEST_F(FactoryTest, TwoAsksForPodsShareOneWatch) {
  CreatePod("shop", "web-1", "web");
  TypedInformer<corev1::Pod> first = factory_.ForKind<corev1::Pod>();
  TypedInformer<corev1::Pod> second = factory_.ForKind<corev1::Pod>();
  EXPECT_EQ(&first.Informer(), &second.Informer());
  EXPECT_EQ(&factory_.InformerFor(pods_), &first.Informer());

  std::atomic<int> adds_first{0}, adds_second{0};
  ShutdownOnExit stop{factory_};  // the handlers below use this test's locals
  first.AddEventHandler({.on_add = [&](const std::shared_ptr<const corev1::Pod>&, bool) { ++adds_first; }});
  second.AddEventHandler({.on_add = [&](const std::shared_ptr<const corev1::Pod>&, bool) { ++adds_second; }});
  factory_.Start();
  ASSERT_TRUE(Sync());
  CreatePod("shop", "web-2", "web");
  ASSERT_TRUE(WaitFor([&] { return adds_first == 2 && adds_second == 2; }));
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kWatch, "pods"), 1);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kList, "pods"), 1);
  EXPECT_EQ(factory_.informer_count(), 1u);

  // Another namespace, selector or metadata-only view is another informer (and another watch).
  TypedInformer<corev1::Pod> shop = factory_.ForKind<corev1::Pod>({.ns = "shop"});
  EXPECT_NE(&shop.Informer(), &first.Informer());
  EXPECT_EQ(&factory_.ForKind<corev1::Pod>({.ns = "shop"}).Informer(), &shop.Informer());
  EXPECT_NE(&factory_.ForKind<corev1::Pod>({.label_selector = "app=web"}).Informer(), &first.Informer());
  EXPECT_NE(&factory_.MetadataInformerFor(pods_), &first.Informer());
  EXPECT_EQ(factory_.informer_count(), 4u);
  EXPECT_FALSE(shop.HasSynced());  // not started until Start() is called again
  factory_.Start();
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 4; }));
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kWatch, "pods"), 4);
}

TEST_F(FactoryTest, TypedListerListsGetsAndNarrowsByNamespace) {
  CreatePod("shop", "web-1", "web", "node-1");
  CreatePod("shop", "db-1", "db", "node-2");
  CreatePod("blog", "web-1", "web", "node-1");
  auto pods = factory_.ForKind<corev1::Pod>();
  ASSERT_TRUE(pods.Informer().AddIndexers({{kNodeNameIndex, FieldIndexFunc("spec.nodeName")}}).ok());
  factory_.Start();
  ASSERT_TRUE(Sync());
  Lister<corev1::Pod> lister = pods.Lister();

  EXPECT_EQ(Names(lister.List()), (std::vector<std::string>{"blog/web-1", "shop/db-1", "shop/web-1"}));
  auto web = api::LabelSelector::Parse("app=web");
  ASSERT_TRUE(web.ok());
  EXPECT_EQ(Names(lister.List(*web)), (std::vector<std::string>{"blog/web-1", "shop/web-1"}));
  auto not_web = api::LabelSelector::Parse("app!=web");
  ASSERT_TRUE(not_web.ok());
  EXPECT_EQ(Names(lister.List(*not_web)), (std::vector<std::string>{"shop/db-1"}));
  EXPECT_TRUE(lister.List(api::LabelSelector::Nothing()).empty());

  Result<std::shared_ptr<const corev1::Pod>> got = lister.Get("shop", "db-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->spec().nodename(), "node-2");
  // The lister hands out the cached object itself, shared.
  EXPECT_EQ(static_cast<const void*>(got->get()),
            static_cast<const void*>(pods.Informer().GetIndexer().Get("shop/db-1").get()));
  Result<std::shared_ptr<const corev1::Pod>> missing = lister.Get("shop", "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "pod \"nope\" not found");

  NamespaceLister<corev1::Pod> shop = lister.Namespace("shop");
  EXPECT_EQ(Names(shop.List()), (std::vector<std::string>{"shop/db-1", "shop/web-1"}));
  EXPECT_EQ(Names(shop.List(*web)), (std::vector<std::string>{"shop/web-1"}));
  EXPECT_TRUE(shop.Get("web-1").ok());
  EXPECT_FALSE(lister.Namespace("other").Get("web-1").ok());

  auto on_node_1 = lister.ByIndex(kNodeNameIndex, "node-1");
  ASSERT_TRUE(on_node_1.ok());
  EXPECT_EQ(Names(*on_node_1), (std::vector<std::string>{"blog/web-1", "shop/web-1"}));
}

TEST_F(FactoryTest, ClusterScopedListerAndGroupedNotFound) {
  const ResourceInfo& nodes = Resource("", "Node");
  ASSERT_TRUE(api_.Create(nodes, "", corev1::Node(api::testing::MakeNode("node-1"))).ok());
  auto node_informer = factory_.ForKind<corev1::Node>({.ns = "ignored-for-cluster-scope"});
  factory_.Start();
  ASSERT_TRUE(Sync());
  Result<std::shared_ptr<const corev1::Node>> node = node_informer.Lister().Get("node-1");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ((*node)->metadata().name(), "node-1");

  auto deployments = factory_.ForKind<k8s::io::api::apps::v1::Deployment>();
  factory_.Start();
  ASSERT_TRUE(Sync());
  EXPECT_EQ(deployments.Lister().Get("shop", "web").status().message(), "deployment.apps \"web\" not found");
}

TEST_F(FactoryTest, InitialListIsPaginated) {
  corev1::ConfigMap cm;
  for (int i = 0; i < 1200; ++i) {
    cm.mutable_metadata()->set_name("cm-" + std::to_string(i));
    ASSERT_TRUE(api_.Create(configmaps_, "ns", cm).ok());
  }
  auto informer = factory_.ForKind<corev1::ConfigMap>();
  factory_.Start();
  ASSERT_TRUE(Sync());
  EXPECT_EQ(informer.Lister().List().size(), 1200u);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kList, "configmaps"), 3);  // 500 + 500 + 200
}

TEST_F(FactoryTest, MetadataOnlyInformerForAnyResource) {
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("settings");
  (*cm.mutable_metadata()->mutable_labels())["team"] = "a";
  (*cm.mutable_data())["big"] = std::string(1000, 'x');
  ASSERT_TRUE(api_.Create(configmaps_, "ns", cm).ok());
  TypedInformer<metav1::PartialObjectMetadata> meta = factory_.MetadataFor(configmaps_);
  std::atomic<int> deletes{0};
  std::atomic<bool> final_known{false};
  ShutdownOnExit stop{factory_};  // the handler below uses this test's locals
  meta.AddEventHandler({.on_delete = [&](const std::shared_ptr<const metav1::PartialObjectMetadata>& obj,
                                         bool final_state_unknown) {
    if (obj->metadata().name() == "settings") final_known = !final_state_unknown;
    ++deletes;
  }});
  factory_.Start();
  ASSERT_TRUE(Sync());
  auto got = meta.Lister().Namespace("ns").Get("settings");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)->metadata().labels().at("team"), "a");
  EXPECT_EQ(meta.Lister().List(*api::LabelSelector::Parse("team=a")).size(), 1u);
  EXPECT_EQ(meta.Informer().GetIndexer().List()[0]->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());

  ASSERT_TRUE(api_.Delete(configmaps_, "ns", "settings").ok());
  ASSERT_TRUE(WaitFor([&] { return deletes == 1; }));
  EXPECT_TRUE(final_known.load());
}

TEST_F(FactoryTest, ShutdownStopsEveryInformer) {
  auto pods = factory_.ForKind<corev1::Pod>();
  auto cms = factory_.ForKind<corev1::ConfigMap>();
  factory_.Start();
  ASSERT_TRUE(Sync());
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 2; }));
  factory_.Shutdown();
  EXPECT_TRUE(pods.Informer().IsStopped());
  EXPECT_TRUE(cms.Informer().IsStopped());
  EXPECT_EQ(api_.open_watches(), 0);
}

}  // namespace
}  // namespace ck::client
