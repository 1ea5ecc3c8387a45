#include <gtest/gtest.h>

#include <set>

#include "apiserver/allocation/allocation.h"
#include "apiserver/allocation/test_fixture.h"
#include "apiserver/object.h"
#include "store/rocksdb_store.h"
#include "tests/testutil/testutil.h"

namespace ck::apiserver::allocation {
namespace {

class RepairTest : public AllocationFixture {
 protected:
  // Writes a Service straight into the store, as an older version (or a bug) would have left it:
  // no allocation keys.
  void PlantService(const std::string& name, const std::string& ip, std::vector<int32_t> node_ports = {},
                    const std::string& uid = "") {
    corev1::Service svc;
    svc.mutable_metadata()->set_name(name);
    svc.mutable_metadata()->set_namespace_("default");
    svc.mutable_metadata()->set_uid(uid.empty() ? "uid-" + name : uid);
    auto* s = svc.mutable_spec();
    s->set_type(node_ports.empty() ? "ClusterIP" : "NodePort");
    s->set_clusterip(ip);
    s->add_clusterips(ip);
    for (size_t i = 0; i < std::max<size_t>(node_ports.size(), 1); ++i) {
      auto* p = s->add_ports();
      p->set_name("p" + std::to_string(i));
      p->set_port(80 + static_cast<int32_t>(i));
      p->set_protocol("TCP");
      if (i < node_ports.size()) p->set_nodeport(node_ports[i]);
    }
    ASSERT_TRUE(store_->Put(StorageKey(Services(), "default", name), EncodeForStorage(svc)).ok());
  }
  RepairReport Repair() {
    auto r = RepairAllocations(store_.get(), config_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RepairReport{};
  }
};

TEST_F(RepairTest, ConsistentDataIsLeftAlone) {
  ASSERT_TRUE(Create(Svc("web").Type("NodePort").Port(80)).ok());
  ASSERT_TRUE(Create(Svc("db").ClusterIP("None").Port(5432)).ok());
  ASSERT_TRUE(Create(Svc("ext").ExternalName("example.com")).ok());
  int64_t before = store_->CurrentRevision();
  RepairReport r = Repair();
  EXPECT_EQ(r.services, 3);
  EXPECT_EQ(r.allocations, 2);
  EXPECT_EQ(r.created + r.deleted + r.reassigned + r.duplicates + r.out_of_range + r.skipped, 0);
  EXPECT_EQ(store_->CurrentRevision(), before) << "nothing written";
}

TEST_F(RepairTest, LeakedKeysAreDeleted) {
  auto web = Create(Svc("web").Type("NodePort").Port(80));
  ASSERT_TRUE(web.ok());
  ASSERT_TRUE(store_->Put(IpAllocationKey("10.96.1.1"), "default/gone/uid-gone").ok());
  ASSERT_TRUE(store_->Put(NodePortAllocationKey(30999), "default/gone/uid-gone").ok());
  ASSERT_TRUE(store_->Put(IpAllocationKey("192.168.0.1"), "default/old-range").ok()) << "outside today's range";
  RepairReport r = Repair();
  EXPECT_EQ(r.deleted, 3);
  EXPECT_EQ(r.created, 0);
  EXPECT_EQ(IpHolder("10.96.1.1"), "");
  EXPECT_EQ(PortHolder(30999), "");
  EXPECT_EQ(IpHolder("192.168.0.1"), "");
  EXPECT_EQ(IpHolder(web->spec().clusterip()), Owner(*web)) << "live allocations stay";
  EXPECT_EQ(PortHolder(web->spec().ports(0).nodeport()), Owner(*web));

  // The freed values can be requested again.
  EXPECT_TRUE(Create(Svc("new").Type("NodePort").ClusterIP("10.96.1.1").Port(80, "TCP", 30999)).ok());
}

TEST_F(RepairTest, MissingKeysAreRecreated) {
  auto web = Create(Svc("web").Type("NodePort").Port(80));
  ASSERT_TRUE(web.ok());
  std::string ip = web->spec().clusterip();
  int32_t port = web->spec().ports(0).nodeport();
  ASSERT_TRUE(store_->Delete(IpAllocationKey(ip)).ok());
  ASSERT_TRUE(store_->Delete(NodePortAllocationKey(port)).ok());
  PlantService("legacy", "10.96.2.2", {31500});

  RepairReport r = Repair();
  EXPECT_EQ(r.created, 4);
  EXPECT_EQ(r.deleted, 0);
  EXPECT_EQ(IpHolder(ip), Owner(*web));
  EXPECT_EQ(PortHolder(port), Owner(*web));
  EXPECT_EQ(IpHolder("10.96.2.2"), "default/legacy/uid-legacy");
  EXPECT_EQ(PortHolder(31500), "default/legacy/uid-legacy");

  // Now they protect the values.
  auto clash = Create(Svc("clash").ClusterIP("10.96.2.2").Port(80));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kInvalid);
  EXPECT_EQ(Repair().created, 0) << "a second pass finds nothing to do";
}

TEST_F(RepairTest, KeyNamingAnotherOwnerIsPointedAtItsService) {
  auto web = Create(Svc("web").Port(80));
  ASSERT_TRUE(web.ok());
  std::string ip = web->spec().clusterip();
  ASSERT_TRUE(store_->Put(IpAllocationKey(ip), "default/someone-else/x").ok());
  RepairReport r = Repair();
  EXPECT_EQ(r.reassigned, 1);
  EXPECT_EQ(IpHolder(ip), Owner(*web));
  // Deleting the Service now frees the address (a key is only freed by its owner).
  ASSERT_TRUE(Delete("web").ok());
  EXPECT_EQ(IpHolder(ip), "");
}

TEST_F(RepairTest, DuplicatesAndOutOfRangeValuesAreReported) {
  PlantService("a", "10.96.3.3");
  PlantService("b", "10.96.3.3");
  PlantService("c", "10.0.0.9");  // a range that is no longer configured
  RepairReport r = Repair();
  EXPECT_EQ(r.duplicates, 1);
  EXPECT_EQ(r.out_of_range, 1);
  std::string holder = IpHolder("10.96.3.3");
  EXPECT_TRUE(holder == "default/a/uid-a" || holder == "default/b/uid-b") << holder;
  EXPECT_EQ(IpHolder("10.0.0.9"), "default/c/uid-c") << "kept, so the address is not handed out twice";
}

TEST_F(RepairTest, OnlyTheOwnerFreesAKey) {
  // A Service whose address key names another Service (data from a bug) does not free it.
  PlantService("legacy", "10.96.4.4");
  ASSERT_TRUE(store_->Put(IpAllocationKey("10.96.4.4"), "default/other/uid-other").ok());
  ASSERT_TRUE(Delete("legacy").ok());
  EXPECT_EQ(IpHolder("10.96.4.4"), "default/other/uid-other");
  EXPECT_EQ(Repair().deleted, 1) << "the repair then finds it leaked";
}

TEST(RepairRocksDbTest, RepairAfterRestartOnDisk) {
  testutil::TempDir dir;
  const std::string path = dir.File("db");
  auto config = ParseAllocationOptions({"10.0.0.0/26", "30000-30063"});
  ASSERT_TRUE(config.ok());
  std::set<std::string> live_ips;
  std::string doomed_ip;
  {
    auto opened = store::OpenRocksDbStore(path);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    auto store = std::move(opened).value();
    WatchCache cache(store.get());
    ASSERT_TRUE(cache.Start().ok());
    FakeClock clock;
    FakeRandom random;
    Registry registry(store.get(), &cache, &clock, &random);
    ServiceAllocator allocator(store.get(), *config, &random);
    registry.SetAllocationHook(allocator.Hook());
    const ResourceInfo& services = *FindResource("", "v1", "services");
    for (int i = 0; i < 10; ++i) {
      auto r = registry.Create(services, "default", Svc("s" + std::to_string(i)).Type("NodePort").Port(80).Build(), {});
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      live_ips.insert(static_cast<const corev1::Service&>(**r).spec().clusterip());
    }
    // What a crash in the middle of an older, non-transactional write could leave behind: a
    // Service without its keys and keys without their Service.
    auto s0 = registry.Get(services, "default", "s0");
    ASSERT_TRUE(s0.ok());
    doomed_ip = static_cast<const corev1::Service&>(**s0).spec().clusterip();
    ASSERT_TRUE(store->Delete(IpAllocationKey(doomed_ip)).ok());
    // (Values from the lower bands, which dynamic allocation leaves alone while the upper ones
    // have room, so no live Service holds them.)
    ASSERT_TRUE(store->Put(IpAllocationKey("10.0.0.5"), "default/ghost/uid").ok());
    ASSERT_TRUE(store->Put(NodePortAllocationKey(30005), "default/ghost/uid").ok());
    // The store closes here; the damage stays on disk.
  }
  auto reopened = store::OpenRocksDbStore(path);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  auto store = std::move(reopened).value();
  auto report = RepairAllocations(store.get(), *config);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->services, 10);
  EXPECT_EQ(report->created, 1);
  EXPECT_EQ(report->deleted, 2);
  auto kv = store->Get(IpAllocationKey(doomed_ip));
  ASSERT_TRUE(kv.ok());
  EXPECT_TRUE(kv->value.str().starts_with("default/s0/"));
  EXPECT_EQ(store->Get(IpAllocationKey("10.0.0.5")).status().code(), Code::kNotFound);
  EXPECT_EQ(store->Get(NodePortAllocationKey(30005)).status().code(), Code::kNotFound);

  // Serving again: new Services never get an address already in use.
  WatchCache cache(store.get());
  ASSERT_TRUE(cache.Start().ok());
  FakeClock clock;
  FakeRandom random(7);
  Registry registry(store.get(), &cache, &clock, &random);
  ServiceAllocator allocator(store.get(), *config, &random);
  registry.SetAllocationHook(allocator.Hook());
  const ResourceInfo& services = *FindResource("", "v1", "services");
  for (int i = 10; i < 40; ++i) {
    auto r = registry.Create(services, "default", Svc("s" + std::to_string(i)).Port(80).Build(), {});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(live_ips.insert(static_cast<const corev1::Service&>(**r).spec().clusterip()).second)
        << "address handed out twice";
  }
}

}  // namespace
}  // namespace ck::apiserver::allocation
