#include "apiserver/registry.h"

#include <gtest/gtest.h>

#include <regex>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "store/memory_store.h"

namespace ck::apiserver {
namespace {

using namespace std::chrono_literals;
namespace corev1 = k8s::io::api::core::v1;
namespace appsv1 = k8s::io::api::apps::v1;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::NewMemoryStore();
    cache_ = std::make_unique<WatchCache>(store_.get());
    ASSERT_TRUE(cache_->Start().ok());
    registry_ = std::make_unique<Registry>(store_.get(), cache_.get(), &clock_, &random_);
  }
  const ResourceInfo& Pods() { return *FindResource("", "v1", "pods"); }
  const ResourceInfo& Deployments() { return *FindResource("apps", "v1", "deployments"); }

  std::unique_ptr<corev1::Pod> Pod(const std::string& name, const std::string& image = "nginx:1.27") {
    auto p = std::make_unique<corev1::Pod>();
    p->mutable_metadata()->set_name(name);
    auto* c = p->mutable_spec()->add_containers();
    c->set_name("main");
    c->set_image(image);
    return p;
  }
  std::unique_ptr<appsv1::Deployment> Deploy(const std::string& name, int replicas) {
    auto d = std::make_unique<appsv1::Deployment>();
    d->mutable_metadata()->set_name(name);
    d->mutable_spec()->set_replicas(replicas);
    (*d->mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = name;
    (*d->mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = name;
    auto* c = d->mutable_spec()->mutable_template_()->mutable_spec()->add_containers();
    c->set_name("main");
    c->set_image("nginx");
    return d;
  }

  FakeClock clock_;
  FakeRandom random_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WatchCache> cache_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, CreateFillsMetadataDefaultsAndStatus) {
  auto r = registry_->Create(Pods(), "default", Pod("web"), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& pod = static_cast<const corev1::Pod&>(**r);
  EXPECT_EQ(pod.metadata().namespace_(), "default");
  EXPECT_TRUE(std::regex_match(pod.metadata().uid(), std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
      << pod.metadata().uid();
  EXPECT_EQ(pod.metadata().creationtimestamp().seconds(), UnixSeconds(clock_.Now()));
  EXPECT_EQ(pod.metadata().resourceversion(), "1");
  EXPECT_EQ(pod.status().phase(), "Pending");
  EXPECT_EQ(pod.status().qosclass(), "BestEffort") << "fixed at creation; the kubelet's status updates keep it";
  EXPECT_EQ(pod.spec().restartpolicy(), "Always") << "defaults applied";
  auto got = registry_->Get(Pods(), "default", "web");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(MetaOf(**got).uid(), pod.metadata().uid());
}

TEST_F(RegistryTest, CreateTwiceIsAlreadyExists) {
  ASSERT_TRUE(registry_->Create(Pods(), "default", Pod("web"), {}).ok());
  ErrorDetails d;
  auto again = registry_->Create(Pods(), "default", Pod("web"), {}, &d);
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "pods \"web\" already exists");
  EXPECT_EQ(d.name, "web");
}

TEST_F(RegistryTest, GenerateNameUsesTheUpstreamAlphabet) {
  auto p = Pod("");
  p->mutable_metadata()->set_generatename("web-");
  auto r = registry_->Create(Pods(), "default", std::move(p), {});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(std::regex_match(MetaOf(**r).name(), std::regex("web-[bcdfghjklmnpqrstvwxz2456789]{5}"))) << MetaOf(**r).name();
}

TEST_F(RegistryTest, InvalidObjectIs422WithCauses) {
  ErrorDetails d;
  auto r = registry_->Create(Pods(), "default", Pod("web", ""), {}, &d);
  ASSERT_EQ(r.status().code(), Code::kInvalid);
  EXPECT_EQ(r.status().message(), "Pod \"web\" is invalid: spec.containers[0].image: Required value");
  ASSERT_EQ(d.causes.size(), 1u);
  EXPECT_EQ(d.causes[0].reason, "FieldValueRequired");
  EXPECT_EQ(d.causes[0].field, "spec.containers[0].image");
  EXPECT_EQ(d.kind, "Pod");
}

TEST_F(RegistryTest, StaleResourceVersionIsConflict) {
  auto created = registry_->Create(Deployments(), "default", Deploy("web", 1), {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  auto upd = Deploy("web", 2);
  upd->mutable_metadata()->set_resourceversion(MetaOf(**created).resourceversion());
  auto ok = registry_->Update(Deployments(), "default", "web", std::move(upd), {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto stale = Deploy("web", 3);
  stale->mutable_metadata()->set_resourceversion(MetaOf(**created).resourceversion());
  auto c = registry_->Update(Deployments(), "default", "web", std::move(stale), {});
  EXPECT_EQ(c.status().code(), Code::kConflict);
  EXPECT_EQ(c.status().message(),
            "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply "
            "your changes to the latest version and try again");
}

TEST_F(RegistryTest, GenerationMovesOnlyWithSpec) {
  auto created = registry_->Create(Deployments(), "default", Deploy("web", 1), {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(MetaOf(**created).generation(), 1);
  auto labels = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
    (*MutableMetaOf(m)->mutable_labels())["x"] = "y";
    return Status::Ok();
  }, {});
  ASSERT_TRUE(labels.ok()) << labels.status().ToString();
  EXPECT_EQ(MetaOf(**labels).generation(), 1);
  auto scaled = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
    static_cast<appsv1::Deployment*>(m)->mutable_spec()->set_replicas(5);
    return Status::Ok();
  }, {});
  ASSERT_TRUE(scaled.ok());
  EXPECT_EQ(MetaOf(**scaled).generation(), 2);
}

TEST_F(RegistryTest, StatusIsWrittenOnlyThroughStatus) {
  ASSERT_TRUE(registry_->Create(Deployments(), "default", Deploy("web", 1), {}).ok());
  auto main = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
    static_cast<appsv1::Deployment*>(m)->mutable_status()->set_replicas(9);
    return Status::Ok();
  }, {});
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(static_cast<const appsv1::Deployment&>(**main).status().replicas(), 0) << "status ignored on the main resource";
  WriteOptions status;
  status.subresource = "status";
  auto st = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
    auto* d = static_cast<appsv1::Deployment*>(m);
    d->mutable_status()->set_replicas(9);
    d->mutable_spec()->set_replicas(7);  // ignored through /status
    return Status::Ok();
  }, status);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const auto& d = static_cast<const appsv1::Deployment&>(**st);
  EXPECT_EQ(d.status().replicas(), 9);
  EXPECT_EQ(d.spec().replicas(), 1);
}

TEST_F(RegistryTest, UnchangedUpdateWritesNothing) {
  auto created = registry_->Create(Deployments(), "default", Deploy("web", 1), {});
  ASSERT_TRUE(created.ok());
  int64_t rev = store_->CurrentRevision();
  auto same = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message*) { return Status::Ok(); }, {});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(store_->CurrentRevision(), rev);
  EXPECT_EQ(MetaOf(**same).resourceversion(), MetaOf(**created).resourceversion());
}

TEST_F(RegistryTest, ScheduledPodDeletesGracefully) {
  auto p = Pod("web");
  p->mutable_spec()->set_nodename("node-1");
  ASSERT_TRUE(registry_->Create(Pods(), "default", std::move(p), {}).ok());
  auto d = registry_->Delete(Pods(), "default", "web", {});
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->deleted);
  EXPECT_EQ(MetaOf(*d->object).deletiongraceperiodseconds(), 30);
  EXPECT_EQ(MetaOf(*d->object).deletiontimestamp().seconds(), UnixSeconds(clock_.Now()) + 30);
  DeleteOptions now;
  now.grace_period_seconds = 0;
  auto gone = registry_->Delete(Pods(), "default", "web", now);
  ASSERT_TRUE(gone.ok());
  EXPECT_TRUE(gone->deleted);
  EXPECT_EQ(registry_->Get(Pods(), "default", "web").status().code(), Code::kNotFound);
}

TEST_F(RegistryTest, UnscheduledPodGoesAtOnce) {
  ASSERT_TRUE(registry_->Create(Pods(), "default", Pod("web"), {}).ok());
  auto d = registry_->Delete(Pods(), "default", "web", {});
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->deleted);
}

TEST_F(RegistryTest, FinalizersHoldDeletionUntilRemoved) {
  auto dep = Deploy("web", 1);
  dep->mutable_metadata()->add_finalizers("example.com/hold");
  ASSERT_TRUE(registry_->Create(Deployments(), "default", std::move(dep), {}).ok());
  auto d = registry_->Delete(Deployments(), "default", "web", {});
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->deleted);
  EXPECT_TRUE(MetaOf(*d->object).has_deletiontimestamp());
  auto released = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
    MutableMetaOf(m)->clear_finalizers();
    return Status::Ok();
  }, {});
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(registry_->Get(Deployments(), "default", "web").status().code(), Code::kNotFound);
}

TEST_F(RegistryTest, NamespaceTerminatesUntilFinalized) {
  const ResourceInfo& nss = *FindResource("", "v1", "namespaces");
  auto ns = std::make_unique<corev1::Namespace>();
  ns->mutable_metadata()->set_name("shop");
  auto created = registry_->Create(nss, "", std::move(ns), {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(static_cast<const corev1::Namespace&>(**created).spec().finalizers(0), "kubernetes");

  auto del = registry_->Delete(nss, "", "shop", {});
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_FALSE(del->deleted);
  auto got = registry_->Get(nss, "", "shop");
  ASSERT_TRUE(got.ok());
  const auto& terminating = static_cast<const corev1::Namespace&>(**got);
  EXPECT_EQ(terminating.status().phase(), "Terminating");
  EXPECT_TRUE(terminating.metadata().has_deletiontimestamp());

  // A plain update cannot drop spec.finalizers; only /finalize can, and that removes it.
  auto cleared = std::make_unique<corev1::Namespace>(terminating);
  cleared->mutable_spec()->clear_finalizers();
  ASSERT_TRUE(registry_->Update(nss, "", "shop", std::make_unique<corev1::Namespace>(*cleared), {}).ok());
  got = registry_->Get(nss, "", "shop");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(static_cast<const corev1::Namespace&>(**got).spec().finalizers_size(), 1);
  cleared->mutable_metadata()->set_resourceversion(MetaOf(**got).resourceversion());
  WriteOptions finalize;
  finalize.subresource = "finalize";
  ASSERT_TRUE(registry_->Update(nss, "", "shop", std::move(cleared), finalize).ok());
  EXPECT_EQ(registry_->Get(nss, "", "shop").status().code(), Code::kNotFound);
}

TEST_F(RegistryTest, ForegroundAddsItsFinalizer) {
  ASSERT_TRUE(registry_->Create(Deployments(), "default", Deploy("web", 1), {}).ok());
  DeleteOptions o;
  o.propagation_policy = "Foreground";
  auto d = registry_->Delete(Deployments(), "default", "web", o);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->deleted);
  EXPECT_EQ(MetaOf(*d->object).finalizers(0), "foregroundDeletion");
}

TEST_F(RegistryTest, PreconditionsAndNotFound) {
  ASSERT_TRUE(registry_->Create(Pods(), "default", Pod("web"), {}).ok());
  DeleteOptions o;
  o.precondition_uid = "nope";
  EXPECT_EQ(registry_->Delete(Pods(), "default", "web", o).status().code(), Code::kConflict);
  auto missing = registry_->Delete(Pods(), "default", "nope", {});
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "pods \"nope\" not found");
}

TEST_F(RegistryTest, DryRunWritesNothing) {
  WriteOptions dry;
  dry.dry_run = true;
  auto r = registry_->Create(Pods(), "default", Pod("web"), dry);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(store_->CurrentRevision(), 0);
  EXPECT_EQ(registry_->Get(Pods(), "default", "web").status().code(), Code::kNotFound);
}

TEST_F(RegistryTest, ConcurrentGuaranteedUpdatesAllLand) {
  ASSERT_TRUE(registry_->Create(Deployments(), "default", Deploy("web", 0), {}).ok());
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        auto r = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
          auto* d = static_cast<appsv1::Deployment*>(m);
          d->mutable_spec()->set_replicas(d->spec().replicas() + 1);
          return Status::Ok();
        }, {});
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  for (auto& t : ts) t.join();
  auto final = registry_->Get(Deployments(), "default", "web");
  EXPECT_EQ(static_cast<const appsv1::Deployment&>(**final).spec().replicas(), 40);
}

// Updates start from the cached object without waiting for the cache: right after another
// writer's change (written to the store directly, so the cache may not have it yet) an update
// still applies to the newest object, and a caller's resourceVersion from that write is current.
TEST_F(RegistryTest, UpdatesRightAfterAnotherWriterSeeItsChange) {
  ASSERT_TRUE(registry_->Create(Deployments(), "default", Deploy("web", 0), {}).ok());
  const std::string key = StorageKey(Deployments(), "default", "web");
  for (int i = 1; i <= 50; ++i) {
    auto now = registry_->Get(Deployments(), "default", "web");
    ASSERT_TRUE(now.ok());
    appsv1::Deployment other = static_cast<const appsv1::Deployment&>(**now);
    (*other.mutable_metadata()->mutable_labels())["writer"] = std::to_string(i);
    Result<int64_t> rev = store_->Put(key, EncodeForStorage(other));
    ASSERT_TRUE(rev.ok());
    auto bumped = registry_->GuaranteedUpdate(Deployments(), "default", "web", [](Message* m) {
      auto* d = static_cast<appsv1::Deployment*>(m);
      d->mutable_spec()->set_replicas(d->spec().replicas() + 1);
      return Status::Ok();
    }, {});
    ASSERT_TRUE(bumped.ok()) << bumped.status().ToString();
    const auto& b = static_cast<const appsv1::Deployment&>(**bumped);
    EXPECT_EQ(b.metadata().labels().at("writer"), std::to_string(i)) << "the update lost the other writer's change";
    EXPECT_EQ(b.spec().replicas(), 2 * i - 1);
    // A caller that saw the newest version (the update's answer) is not refused as stale.
    auto upd = std::make_unique<appsv1::Deployment>(b);
    upd->mutable_spec()->set_replicas(b.spec().replicas() + 1);
    auto replaced = registry_->Update(Deployments(), "default", "web", std::move(upd), {});
    ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
    // The next round's direct write must come after the update, as another writer's would.
    ASSERT_TRUE(cache_->Sync().ok());
  }
}

}  // namespace
}  // namespace ck::apiserver
