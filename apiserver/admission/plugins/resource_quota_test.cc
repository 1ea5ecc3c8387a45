#include "apiserver/admission/plugins/resource_quota.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "apiserver/admission/plugins/test_util.h"
#include "apiserver/admission/plugins/util.h"
#include "apiserver/object.h"
#include "store/rocksdb_store.h"
#include "store/testutil.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT

// The quota as the transaction would store it.
corev1::ResourceQuota Decoded(const store::Op& put) {
  corev1::ResourceQuota q;
  CK_CHECK(q.ParseFromString(put.value));
  return q;
}

std::string Used(const corev1::ResourceQuota& q, const std::string& r) {
  auto it = q.status().used().find(r);
  return it == q.status().used().end() ? "<none>" : it->second.string();
}

class ResourceQuotaTest : public ::testing::Test {
 protected:
  // Validate with a transaction to append to.
  Status Run(const Attributes& a) {
    compares_.clear();
    ops_.clear();
    ctx_ = Context();
    ctx_.compares = &compares_;
    ctx_.ops = &ops_;
    return plugin_.Validate(a, ctx_);
  }
  FakeObjectSource source_;
  ResourceQuota plugin_{source_};
  std::vector<store::Compare> compares_;
  std::vector<store::Op> ops_;
  Context ctx_;
};

TEST_F(ResourceQuotaTest, NoQuotaNoTransactionOps) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  ASSERT_TRUE(Run(PodCreate(&pod)).ok());
  EXPECT_TRUE(compares_.empty());
  EXPECT_TRUE(ops_.empty());
}

TEST_F(ResourceQuotaTest, AllowedCreateComparesAndIncreasesUsed) {
  int64_t rev = source_.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}, {"count/pods", "20"}},
                                                        {{"pods", "3"}, {"count/pods", "4"}}));
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  ASSERT_TRUE(Run(PodCreate(&pod)).ok());
  const std::string key = StorageKey(*Res("", "resourcequotas"), "shop", "pods");
  ASSERT_EQ(compares_.size(), 1u);
  EXPECT_EQ(compares_[0].key, key);
  EXPECT_EQ(compares_[0].target, store::Compare::Target::kModRevision);
  EXPECT_EQ(compares_[0].result, store::Compare::Result::kEqual);
  EXPECT_EQ(compares_[0].operand, rev);
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].type, store::Op::Type::kPut);
  EXPECT_EQ(ops_[0].key, key);
  corev1::ResourceQuota q = Decoded(ops_[0]);
  EXPECT_EQ(Used(q, "pods"), "4");
  EXPECT_EQ(Used(q, "count/pods"), "5");
  EXPECT_EQ(q.status().hard().at("pods").string(), "10");
  EXPECT_TRUE(q.metadata().resourceversion().empty());
  ASSERT_EQ(ctx_.trace.size(), 1u);
  EXPECT_EQ(ctx_.trace[0], "ResourceQuota: pods used count/pods=5,pods=4");
}

TEST_F(ResourceQuotaTest, ExceededQuotaIsForbiddenWithUpstreamMessage) {
  source_.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}}, {{"pods", "10"}}));
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  Status s = Run(PodCreate(&pod));
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=10, limited: pods=10");
  EXPECT_TRUE(ops_.empty());
}

TEST_F(ResourceQuotaTest, ComputeResourcesAndOnlyTheExceededOnesAreNamed) {
  source_.Put("resourcequotas", MakeQuota("shop", "compute",
                                          {{"requests.cpu", "1"}, {"requests.memory", "1Gi"}, {"pods", "5"}},
                                          {{"requests.cpu", "500m"}, {"requests.memory", "0"}, {"pods", "1"}}));
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app").Cpu("600m").Memory("128Mi");
  Status s = Run(PodCreate(&pod));
  EXPECT_EQ(s.message(),
            "pods \"web\" is forbidden: exceeded quota: compute, requested: requests.cpu=600m, used: "
            "requests.cpu=500m, limited: requests.cpu=1");
  corev1::Pod fits = MakePod("small").Namespace("shop").Container("app").Cpu("500m").Memory("128Mi");
  ASSERT_TRUE(Run(PodCreate(&fits)).ok());
  corev1::ResourceQuota q = Decoded(ops_.at(0));
  EXPECT_EQ(Used(q, "requests.cpu"), "1");
  EXPECT_EQ(Used(q, "requests.memory"), "128Mi");
  EXPECT_EQ(Used(q, "pods"), "2");
}

TEST_F(ResourceQuotaTest, QuotaOnCpuRequiresEveryContainerToSayIt) {
  source_.Put("resourcequotas", MakeQuota("shop", "compute", {{"limits.cpu", "4"}, {"requests.cpu", "2"}}));
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app").Cpu("100m").Container("side");
  Status s = Run(PodCreate(&pod));
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: failed quota: compute: must specify limits.cpu for: app,side; "
                         "requests.cpu for: side");
}

TEST_F(ResourceQuotaTest, StatusWithoutHardOrUsedUsesSpecHard) {
  corev1::ResourceQuota q = MakeQuota("shop", "fresh", {{"pods", "1"}});
  q.clear_status();
  source_.Put("resourcequotas", q);
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  ASSERT_TRUE(Run(PodCreate(&pod)).ok());
  corev1::ResourceQuota written = Decoded(ops_.at(0));
  EXPECT_EQ(Used(written, "pods"), "1");
  EXPECT_EQ(written.status().hard().at("pods").string(), "1");
  source_.Put("resourcequotas", written);
  corev1::Pod second = MakePod("web2").Namespace("shop").Container("app");
  EXPECT_EQ(Run(PodCreate(&second)).message(),
            "pods \"web2\" is forbidden: exceeded quota: fresh, requested: pods=1, used: pods=1, limited: pods=1");
}

TEST_F(ResourceQuotaTest, DryRunChecksButDoesNotWrite) {
  source_.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "2"}}, {{"pods", "1"}}));
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  Attributes a = PodCreate(&pod);
  a.dry_run = true;
  Context ctx;  // the registry passes no transaction for dry-run
  ASSERT_TRUE(plugin_.Validate(a, ctx).ok());
  ASSERT_EQ(ctx.trace.size(), 1u);
  EXPECT_EQ(ctx.trace[0], "ResourceQuota: pods used pods=2 (not written)");
}

TEST_F(ResourceQuotaTest, DeleteAndTerminalPhaseDecreaseUsage) {
  source_.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}, {"count/pods", "10"}, {"requests.cpu", "4"}},
                                          {{"pods", "3"}, {"count/pods", "3"}, {"requests.cpu", "1"}}));
  corev1::Pod running = MakePod("web").Namespace("shop").Container("app").Cpu("250m").Phase("Running");
  corev1::Pod done = running;
  done.mutable_status()->set_phase("Succeeded");
  // Running -> Succeeded (a status update): the pod stops counting as "pods" and cpu, not as count/pods.
  Attributes up = Attrs(Operation::kUpdate, Res("", "pods"), "shop", "web", &done, &running);
  up.subresource = "status";
  ASSERT_TRUE(Run(up).ok());
  corev1::ResourceQuota q = Decoded(ops_.at(0));
  EXPECT_EQ(Used(q, "pods"), "2");
  EXPECT_EQ(Used(q, "requests.cpu"), "750m");
  EXPECT_EQ(Used(q, "count/pods"), "3");
  source_.Put("resourcequotas", q);
  // Deleting the finished pod frees count/pods only.
  ASSERT_TRUE(Run(Attrs(Operation::kDelete, Res("", "pods"), "shop", "web", nullptr, &done)).ok());
  q = Decoded(ops_.at(0));
  EXPECT_EQ(Used(q, "pods"), "2");
  EXPECT_EQ(Used(q, "count/pods"), "2");
  // Deleting a running pod frees everything it used; usage never goes below zero.
  source_.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}}, {{"pods", "0"}}));
  ASSERT_TRUE(Run(Attrs(Operation::kDelete, Res("", "pods"), "shop", "web", nullptr, &running)).ok());
  EXPECT_EQ(Used(Decoded(ops_.at(0)), "pods"), "0");
  // An update that changes nothing writes nothing.
  ASSERT_TRUE(Run(Attrs(Operation::kUpdate, Res("", "pods"), "shop", "web", &running, &running)).ok());
  EXPECT_TRUE(ops_.empty());
}

// A source that answers from a cache behind the store until Sync: `stale` before, `fresh` after.
class LaggingSource final : public ObjectSource {
 public:
  LaggingSource(const ObjectSource& stale, const ObjectSource& fresh) : stale_(stale), fresh_(fresh) {}
  ObjectRef Get(std::string_view r, std::string_view ns, std::string_view name) const override {
    return Now().Get(r, ns, name);
  }
  std::vector<ObjectRef> List(std::string_view r, std::string_view ns) const override { return Now().List(r, ns); }
  int64_t ModRevision(std::string_view r, std::string_view ns, std::string_view name) const override {
    return Now().ModRevision(r, ns, name);
  }
  bool Sync() const override {
    ++syncs_;
    return true;
  }
  int syncs() const { return syncs_; }

 private:
  const ObjectSource& Now() const { return syncs_ > 0 ? fresh_ : stale_; }
  const ObjectSource& stale_;
  const ObjectSource& fresh_;
  mutable int syncs_ = 0;
};

TEST(ResourceQuotaLag, ARefusalFromAStaleCacheIsCheckedAgainstTheStore) {
  // The cache still shows the quota full; the store already holds the delete that freed a place.
  FakeObjectSource stale, fresh;
  stale.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}}, {{"pods", "10"}}));
  fresh.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}}, {{"pods", "9"}}));
  LaggingSource source(stale, fresh);
  ResourceQuota plugin(source);
  std::vector<store::Compare> compares;
  std::vector<store::Op> ops;
  Context ctx;
  ctx.compares = &compares;
  ctx.ops = &ops;
  corev1::Pod pod = MakePod("again").Namespace("shop").Container("app");
  ASSERT_TRUE(plugin.Validate(PodCreate(&pod), ctx).ok());
  EXPECT_EQ(source.syncs(), 1);
  ASSERT_EQ(ops.size(), 1u);
  EXPECT_EQ(Used(Decoded(ops[0]), "pods"), "10");
  // Full in the store too: still refused, after one consistent look; an admit needs none.
  FakeObjectSource full;
  full.Put("resourcequotas", MakeQuota("shop", "pods", {{"pods", "10"}}, {{"pods", "10"}}));
  LaggingSource both_full(stale, full);
  ResourceQuota refusing(both_full);
  EXPECT_EQ(refusing.Validate(PodCreate(&pod), ctx).code(), Code::kForbidden);
  EXPECT_EQ(both_full.syncs(), 1);
  LaggingSource roomy(fresh, fresh);
  ResourceQuota admitting(roomy);
  ASSERT_TRUE(admitting.Validate(PodCreate(&pod), ctx).ok());
  EXPECT_EQ(roomy.syncs(), 0);
}

TEST_F(ResourceQuotaTest, ObjectCountsServicesAndClaims) {
  source_.Put("resourcequotas",
              MakeQuota("shop", "objects",
                        {{"configmaps", "1"}, {"count/deployments.apps", "1"}, {"services.nodeports", "2"},
                         {"services.loadbalancers", "0"}, {"requests.storage", "10Gi"},
                         {"gold.storageclass.storage.k8s.io/persistentvolumeclaims", "1"}},
                        {{"configmaps", "1"}}));
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("cfg");
  EXPECT_EQ(Run(Attrs(Operation::kCreate, Res("", "configmaps"), "shop", "cfg", &cm)).message(),
            "configmaps \"cfg\" is forbidden: exceeded quota: objects, requested: configmaps=1, used: configmaps=1, "
            "limited: configmaps=1");
  ::k8s::io::api::apps::v1::Deployment d = api::testing::MakeDeployment("web").Namespace("shop");
  ASSERT_TRUE(Run(Attrs(Operation::kCreate, Res("apps", "deployments"), "shop", "web", &d)).ok());
  EXPECT_EQ(Used(Decoded(ops_.at(0)), "count/deployments.apps"), "1");

  corev1::Service np = api::testing::MakeService("np").Namespace("shop").Type("NodePort").Port(80).Port(443);
  ASSERT_TRUE(Run(Attrs(Operation::kCreate, Res("", "services"), "shop", "np", &np)).ok());
  EXPECT_EQ(Used(Decoded(ops_.at(0)), "services.nodeports"), "2");
  corev1::Service lb = api::testing::MakeService("lb").Namespace("shop").Type("LoadBalancer").Port(80);
  EXPECT_EQ(Run(Attrs(Operation::kCreate, Res("", "services"), "shop", "lb", &lb)).message(),
            "services \"lb\" is forbidden: exceeded quota: objects, requested: services.loadbalancers=1, used: "
            "services.loadbalancers=0, limited: services.loadbalancers=0");

  corev1::PersistentVolumeClaim pvc;
  pvc.mutable_metadata()->set_name("data");
  pvc.mutable_spec()->set_storageclassname("gold");
  SetList(pvc.mutable_spec()->mutable_resources()->mutable_requests(), {{"storage", "4Gi"}});
  ASSERT_TRUE(Run(Attrs(Operation::kCreate, Res("", "persistentvolumeclaims"), "shop", "data", &pvc)).ok());
  corev1::ResourceQuota q = Decoded(ops_.at(0));
  EXPECT_EQ(Used(q, "requests.storage"), "4Gi");
  EXPECT_EQ(Used(q, "gold.storageclass.storage.k8s.io/persistentvolumeclaims"), "1");
  EXPECT_EQ(Used(q, "configmaps"), "1");  // untouched entries are kept
}

TEST_F(ResourceQuotaTest, ScopesSelectWhichPodsAQuotaTracks) {
  corev1::ResourceQuota be = MakeQuota("shop", "besteffort", {{"pods", "1"}}, {{"pods", "1"}});
  be.mutable_spec()->add_scopes("BestEffort");
  source_.Put("resourcequotas", be);
  corev1::Pod burstable = MakePod("b").Namespace("shop").Container("app").Cpu("100m");
  ASSERT_TRUE(Run(PodCreate(&burstable)).ok());
  EXPECT_TRUE(ops_.empty());
  corev1::Pod best_effort = MakePod("e").Namespace("shop").Container("app");
  EXPECT_EQ(Run(PodCreate(&best_effort)).code(), Code::kForbidden);

  corev1::ResourceQuota term = MakeQuota("shop", "terminating", {{"pods", "0"}});
  term.mutable_spec()->add_scopes("Terminating");
  source_.Put("resourcequotas", term);
  corev1::Pod job = MakePod("job").Namespace("shop").Container("app").Cpu("100m");
  job.mutable_spec()->set_activedeadlineseconds(60);
  EXPECT_EQ(Run(PodCreate(&job)).message(),
            "pods \"job\" is forbidden: exceeded quota: terminating, requested: pods=1, used: pods=0, limited: pods=0");

  corev1::ResourceQuota pc = MakeQuota("shop", "high", {{"pods", "0"}});
  auto* expr = pc.mutable_spec()->mutable_scopeselector()->add_matchexpressions();
  expr->set_scopename("PriorityClass");
  expr->set_operator_("In");
  expr->add_values("high");
  source_.Put("resourcequotas", pc);
  corev1::Pod high = MakePod("h").Namespace("shop").Container("app").Cpu("100m");
  high.mutable_spec()->set_priorityclassname("high");
  EXPECT_EQ(Run(PodCreate(&high)).message(),
            "pods \"h\" is forbidden: exceeded quota: high, requested: pods=1, used: pods=0, limited: pods=0");
  // A scoped quota never tracks other kinds.
  corev1::ResourceQuota scoped_cm = MakeQuota("shop", "scoped-cm", {{"count/configmaps", "0"}});
  scoped_cm.mutable_spec()->add_scopes("NotTerminating");
  source_.Put("resourcequotas", scoped_cm);
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("cfg");
  EXPECT_TRUE(Run(Attrs(Operation::kCreate, Res("", "configmaps"), "shop", "cfg", &cm)).ok());
}

TEST_F(ResourceQuotaTest, DeletingAQuotaDoesNotWriteItBack) {
  corev1::ResourceQuota a = MakeQuota("shop", "a", {{"resourcequotas", "5"}}, {{"resourcequotas", "2"}});
  corev1::ResourceQuota b = MakeQuota("shop", "b", {{"resourcequotas", "5"}}, {{"resourcequotas", "2"}});
  source_.Put("resourcequotas", a);
  source_.Put("resourcequotas", b);
  ASSERT_TRUE(Run(Attrs(Operation::kDelete, Res("", "resourcequotas"), "shop", "a", nullptr, &a)).ok());
  ASSERT_EQ(ops_.size(), 1u);
  EXPECT_EQ(ops_[0].key, StorageKey(*Res("", "resourcequotas"), "shop", "b"));
  EXPECT_EQ(Used(Decoded(ops_[0]), "resourcequotas"), "1");
}

// An ObjectSource reading the store directly, as a perfectly fresh cache would. With
// `strip_resource_version` its objects carry no resourceVersion, so the plugin takes the compare
// operand from ModRevision instead.
class StoreSource final : public ObjectSource {
 public:
  StoreSource(store::Store& s, bool strip_resource_version) : store_(s), strip_(strip_resource_version) {}
  ObjectRef Get(std::string_view resource, std::string_view ns, std::string_view name) const override {
    const ResourceInfo& info = Info(resource);
    std::string key = StorageKey(info, ns, name);
    auto kv = store_.Get(key);
    if (!kv.ok()) return nullptr;
    return Decode(info, key, *kv);
  }
  std::vector<ObjectRef> List(std::string_view resource, std::string_view ns) const override {
    const ResourceInfo& info = Info(resource);
    std::string prefix = StoragePrefix(info, ns);
    auto r = store_.Range(prefix, store::PrefixEnd(prefix));
    CK_CHECK(r.ok()) << r.status().ToString();
    std::vector<ObjectRef> out;
    for (const auto& kv : r->kvs) out.push_back(Decode(info, kv.key, kv));
    return out;
  }
  int64_t ModRevision(std::string_view resource, std::string_view ns, std::string_view name) const override {
    auto kv = store_.Get(StorageKey(Info(resource), ns, name));
    return kv.ok() ? kv->mod_revision : 0;
  }

 private:
  static const ResourceInfo& Info(std::string_view resource) { return *Res("", resource); }
  ObjectRef Decode(const ResourceInfo& info, const std::string& key, const store::KeyValue& kv) const {
    std::shared_ptr<Message> obj = DecodeStored(info, key, kv.value, kv.mod_revision).value();
    if (strip_) api::MutableMetaOf(obj.get())->clear_resourceversion();
    return obj;
  }
  store::Store& store_;
  bool strip_;
};

// The quota race: 50 concurrent pod creates against a quota of 10, each running the
// registry's loop (validate on current state, commit object + quota in one transaction, on a
// failed compare validate again). Exactly 10 succeed and status.used ends at 10.
class ResourceQuotaRaceTest : public ::testing::TestWithParam<bool> {};

TEST_P(ResourceQuotaRaceTest, FiftyConcurrentCreatesAgainstAQuotaOfTenAdmitExactlyTen) {
  store::testing::TempDir dir;
  auto opened = store::OpenRocksDbStore(dir.Sub("db"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<store::Store> db = std::move(opened).value();
  const ResourceInfo& quotas = *Res("", "resourcequotas");
  const ResourceInfo& pods = *Res("", "pods");
  ASSERT_TRUE(db->Put(StorageKey(quotas, "shop", "pods"),
                      EncodeForStorage(MakeQuota("shop", "pods", {{"pods", "10"}, {"count/pods", "100"}})))
                  .ok());

  StoreSource source(*db, /*strip_resource_version=*/GetParam());
  ResourceQuota plugin(source);
  std::atomic<int> admitted{0}, refused{0}, conflicts{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      corev1::Pod pod = MakePod("p-" + std::to_string(i)).Namespace("shop").Container("app");
      const std::string key = StorageKey(pods, "shop", pod.metadata().name());
      for (;;) {
        std::vector<store::Compare> compares;
        std::vector<store::Op> ops;
        Context ctx;
        ctx.compares = &compares;
        ctx.ops = &ops;
        Status s = plugin.Validate(PodCreate(&pod), ctx);
        if (s.code() == Code::kForbidden) {
          refused++;
          return;
        }
        if (!s.ok()) {
          other++;
          return;
        }
        compares.push_back(store::Compare::NotExists(key));
        ops.push_back(store::Op::Put(key, EncodeForStorage(pod)));
        auto txn = db->Txn(std::move(compares), std::move(ops), {});
        if (!txn.ok()) {
          other++;
          return;
        }
        if (txn->succeeded) {
          admitted++;
          return;
        }
        conflicts++;  // someone else changed the quota first: validate again on fresh state
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 10);
  EXPECT_EQ(refused.load(), 40);
  EXPECT_EQ(other.load(), 0);
  auto stored = db->Range(StoragePrefix(pods, "shop"), store::PrefixEnd(StoragePrefix(pods, "shop")));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->count, 10);
  ObjectRef q = source.Get("resourcequotas", "shop", "pods");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(Used(*As<corev1::ResourceQuota>(q.get()), "pods"), "10");
  EXPECT_EQ(Used(*As<corev1::ResourceQuota>(q.get()), "count/pods"), "10");
  std::printf("quota race: %d admitted, %d refused, %d transaction conflicts retried\n", admitted.load(), refused.load(),
              conflicts.load());
}

INSTANTIATE_TEST_SUITE_P(RevisionFrom, ResourceQuotaRaceTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "ModRevision" : "ResourceVersion"; });

}  // namespace
}  // namespace ck::apiserver::admission::plugins
