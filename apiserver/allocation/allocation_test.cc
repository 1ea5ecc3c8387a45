#include "apiserver/allocation/allocation.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

#include "apiserver/allocation/test_fixture.h"

namespace ck::apiserver::allocation {
namespace {

using AllocationTest = AllocationFixture;

bool InRange(const AllocationConfig& c, const std::string& ip) {
  auto a = ParseIpv4(ip);
  return a && c.cluster_ips.Offset(*a).has_value();
}

// ---- ClusterIPs -------------------------------------------------------------------------------

TEST_F(AllocationTest, ClusterIPServiceGetsAFreeAddress) {
  auto svc = Create(Svc("web").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  const auto& s = svc->spec();
  EXPECT_TRUE(InRange(config_, s.clusterip())) << s.clusterip();
  EXPECT_NE(s.clusterip(), "10.96.0.1") << "kept for the kubernetes Service";
  ASSERT_EQ(s.clusterips_size(), 1);
  EXPECT_EQ(s.clusterips(0), s.clusterip());
  ASSERT_EQ(s.ipfamilies_size(), 1);
  EXPECT_EQ(s.ipfamilies(0), "IPv4");
  EXPECT_EQ(s.ipfamilypolicy(), "SingleStack");
  EXPECT_EQ(IpHolder(s.clusterip()), Owner(*svc));
  EXPECT_EQ(Keys(kIpAllocationPrefix), std::vector<std::string>{s.clusterip()});
  EXPECT_TRUE(Keys(kNodePortAllocationPrefix).empty()) << "a ClusterIP Service holds no node port";

  // Readers see the allocated address; the watch cache holds the Service, not the keys.
  auto got = Get("web");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->spec().clusterip(), s.clusterip());
  EXPECT_EQ(cache_->size(), 1u);
}

TEST_F(AllocationTest, DynamicAddressesComeFromTheUpperBandFirst) {
  // A /24 keeps its first 16 addresses for requests by number (upstream's KEP-3070).
  Restart("10.0.0.0/24");
  for (int i = 0; i < 60; ++i) {
    auto svc = Create(Svc("s" + std::to_string(i)).Port(80));
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    EXPECT_GE(*ParseIpv4(svc->spec().clusterip()), *ParseIpv4("10.0.0.17")) << svc->spec().clusterip();
  }
}

TEST_F(AllocationTest, RequestedAddressIsKept) {
  auto svc = Create(Svc("web").ClusterIP("10.96.5.5").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  EXPECT_EQ(svc->spec().clusterip(), "10.96.5.5");
  EXPECT_EQ(IpHolder("10.96.5.5"), Owner(*svc));
}

TEST_F(AllocationTest, RequestedAddressWithLeadingZerosIsTheSameAddress) {
  ASSERT_TRUE(Create(Svc("a").ClusterIP("10.96.0.10").Port(80)).ok());
  auto b = Create(Svc("b").ClusterIP("10.96.000.010").Port(80));
  ASSERT_FALSE(b.ok()) << "validation accepts this spelling, so allocation must see the same address";
  EXPECT_EQ(b.status().message(),
            "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.000.010\"}: failed to allocate IP "
            "10.96.000.010: provided IP is already allocated");
}

TEST_F(AllocationTest, KubernetesServiceMayRequestTheFirstAddress) {
  auto k = Create(Svc("kubernetes").NoSelector().ClusterIP("10.96.0.1").Port(443));
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(IpHolder("10.96.0.1"), Owner(*k));
}

TEST_F(AllocationTest, RequestedAddressInUseIs422) {
  ASSERT_TRUE(Create(Svc("a").ClusterIP("10.96.5.5").Port(80)).ok());
  ErrorDetails d;
  auto b = Create(Svc("b").ClusterIP("10.96.5.5").Port(80), {}, &d);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Code::kInvalid);
  EXPECT_EQ(b.status().message(),
            "Service \"b\" is invalid: spec.clusterIPs: Invalid value: []string{\"10.96.5.5\"}: failed to allocate IP "
            "10.96.5.5: provided IP is already allocated");
  EXPECT_EQ(d.name, "b");
  EXPECT_EQ(d.kind, "Service");
  ASSERT_EQ(d.causes.size(), 1u);
  EXPECT_EQ(d.causes[0].reason, "FieldValueInvalid");
  EXPECT_EQ(d.causes[0].field, "spec.clusterIPs");
  EXPECT_EQ(Get("b").status().code(), Code::kNotFound) << "nothing written";
}

TEST_F(AllocationTest, RequestedAddressOutOfRangeIs422) {
  for (const char* ip : {"10.0.0.1", "10.96.0.0", "10.111.255.255", "10.112.0.1"}) {
    auto r = Create(Svc("web").ClusterIP(ip).Port(80));
    ASSERT_FALSE(r.ok()) << ip;
    EXPECT_EQ(r.status().code(), Code::kInvalid);
    EXPECT_EQ(r.status().message(), std::string("Service \"web\" is invalid: spec.clusterIPs: Invalid value: []string{\"") +
                                         ip + "\"}: failed to allocate IP " + ip +
                                         ": provided IP is not in the valid range. The range of valid IPs is 10.96.0.0/12");
  }
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
}

TEST_F(AllocationTest, HeadlessServiceGetsNoAddress) {
  auto svc = Create(Svc("db").ClusterIP("None").Port(5432));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  EXPECT_EQ(svc->spec().clusterip(), "None");
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
  EXPECT_EQ(svc->spec().ipfamilypolicy(), "SingleStack");
}

TEST_F(AllocationTest, HeadlessServiceWithoutSelectorGetsBothFamilies) {
  // Upstream gives these RequireDualStack and both families on any cluster.
  auto svc = Create(Svc("ext").NoSelector().ClusterIP("None").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  EXPECT_EQ(svc->spec().ipfamilypolicy(), "RequireDualStack");
  ASSERT_EQ(svc->spec().ipfamilies_size(), 2);
  EXPECT_EQ(svc->spec().ipfamilies(0), "IPv4");
  EXPECT_EQ(svc->spec().ipfamilies(1), "IPv6");
}

TEST_F(AllocationTest, ExternalNameServiceGetsNothing) {
  auto svc = Create(Svc("ext").ExternalName("example.com"));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  EXPECT_EQ(svc->spec().clusterip(), "");
  EXPECT_EQ(svc->spec().ipfamilies_size(), 0);
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
  EXPECT_TRUE(Keys(kNodePortAllocationPrefix).empty());
}

TEST_F(AllocationTest, FamiliesThisClusterLacksAre422) {
  auto v6 = Create(Svc("v6").Port(80).Edit([](corev1::Service* s) { s->mutable_spec()->add_ipfamilies("IPv6"); }));
  ASSERT_FALSE(v6.ok());
  EXPECT_EQ(v6.status().message(),
            "Service \"v6\" is invalid: spec.ipFamilies[0]: Invalid value: \"IPv6\": not configured on this cluster");
  auto dual = Create(Svc("dual").Port(80).Edit(
      [](corev1::Service* s) { s->mutable_spec()->set_ipfamilypolicy("RequireDualStack"); }));
  ASSERT_FALSE(dual.ok());
  EXPECT_EQ(dual.status().message(),
            "Service \"dual\" is invalid: spec.ipFamilyPolicy: Invalid value: \"RequireDualStack\": this cluster is not "
            "configured for dual-stack services");
  auto prefer = Create(Svc("prefer").Port(80).Edit(
      [](corev1::Service* s) { s->mutable_spec()->set_ipfamilypolicy("PreferDualStack"); }));
  ASSERT_TRUE(prefer.ok()) << prefer.status().ToString();
  EXPECT_EQ(prefer->spec().ipfamilies_size(), 1) << "PreferDualStack on a single-stack cluster gets one family";
  EXPECT_EQ(Keys(kIpAllocationPrefix).size(), 1u);
}

TEST_F(AllocationTest, FullRangeIsInternalErrorAndFreedAddressIsReused) {
  // A /29 has six usable addresses; the first is the kubernetes Service's.
  Restart("10.0.0.0/29");
  std::set<std::string> ips;
  for (int i = 0; i < 5; ++i) {
    auto svc = Create(Svc("s" + std::to_string(i)).Port(80));
    ASSERT_TRUE(svc.ok()) << svc.status().ToString();
    ips.insert(svc->spec().clusterip());
  }
  EXPECT_EQ(ips, (std::set<std::string>{"10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"}));
  ErrorDetails d;
  auto full = Create(Svc("s5").Port(80), {}, &d);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), Code::kInternal);
  EXPECT_EQ(full.status().message(), "Internal error occurred: failed to allocate a serviceIP: range is full");
  ASSERT_EQ(d.causes.size(), 1u);
  EXPECT_EQ(d.causes[0].message, "failed to allocate a serviceIP: range is full");

  // The first address is still there for the kubernetes Service.
  ASSERT_TRUE(Create(Svc("kubernetes").NoSelector().ClusterIP("10.0.0.1").Port(443)).ok());

  auto s3 = Get("s3");
  ASSERT_TRUE(s3.ok());
  std::string freed = s3->spec().clusterip();
  ASSERT_TRUE(Delete("s3").ok());
  EXPECT_EQ(IpHolder(freed), "");
  auto again = Create(Svc("s5").Port(80));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->spec().clusterip(), freed) << "the only free address";
  EXPECT_EQ(IpHolder(freed), Owner(*again));
}

TEST_F(AllocationTest, DryRunAllocatesNothing) {
  WriteOptions dry;
  dry.dry_run = true;
  auto preview = Create(Svc("web").Type("NodePort").ClusterIP("10.96.7.7").Port(80, "TCP", 30080), dry);
  ASSERT_TRUE(preview.ok()) << preview.status().ToString();
  EXPECT_EQ(preview->spec().clusterip(), "10.96.7.7");
  EXPECT_EQ(preview->spec().ports(0).nodeport(), 30080);
  auto dynamic = Create(Svc("dyn").Type("NodePort").Port(80), dry);
  ASSERT_TRUE(dynamic.ok()) << dynamic.status().ToString();
  EXPECT_TRUE(InRange(config_, dynamic->spec().clusterip())) << "the preview shows an address";
  EXPECT_NE(dynamic->spec().ports(0).nodeport(), 0);
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
  EXPECT_TRUE(Keys(kNodePortAllocationPrefix).empty());
  EXPECT_EQ(Get("web").status().code(), Code::kNotFound);

  // The real create can take what the dry run showed.
  auto real = Create(Svc("web").Type("NodePort").ClusterIP("10.96.7.7").Port(80, "TCP", 30080));
  ASSERT_TRUE(real.ok()) << real.status().ToString();

  // Neither a dry-run type change nor a dry-run delete frees anything.
  corev1::Service to_cluster_ip = *real;
  to_cluster_ip.mutable_spec()->set_type("ClusterIP");
  ASSERT_TRUE(Put(to_cluster_ip, dry).ok());
  EXPECT_EQ(PortHolder(30080), Owner(*real));
  DeleteOptions dry_delete;
  dry_delete.dry_run = true;
  ASSERT_TRUE(Delete("web", dry_delete).ok());
  EXPECT_EQ(IpHolder("10.96.7.7"), Owner(*real));
  EXPECT_EQ(PortHolder(30080), Owner(*real));
}

// ---- NodePorts --------------------------------------------------------------------------------

TEST_F(AllocationTest, NodePortServiceGetsAPortPerServicePort) {
  auto svc = Create(Svc("web").Type("NodePort").Port(80).Port(443));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  int32_t a = svc->spec().ports(0).nodeport(), b = svc->spec().ports(1).nodeport();
  EXPECT_NE(a, b);
  for (int32_t p : {a, b}) {
    EXPECT_GE(p, 30000 + 86) << "dynamic ports come from the upper band (KEP-3668)";
    EXPECT_LE(p, 32767);
    EXPECT_EQ(PortHolder(p), Owner(*svc));
  }
  EXPECT_EQ(Keys(kNodePortAllocationPrefix).size(), 2u);
  EXPECT_EQ(IpHolder(svc->spec().clusterip()), Owner(*svc)) << "and a ClusterIP";
}

TEST_F(AllocationTest, SamePortNumberWithTwoProtocolsSharesOneNodePort) {
  auto dns = Create(Svc("dns").Type("NodePort").Port(53, "TCP").Port(53, "UDP"));
  ASSERT_TRUE(dns.ok()) << dns.status().ToString();
  EXPECT_EQ(dns->spec().ports(0).nodeport(), dns->spec().ports(1).nodeport());
  EXPECT_EQ(Keys(kNodePortAllocationPrefix).size(), 1u);

  auto requested = Create(Svc("dns2").Type("NodePort").Port(53, "TCP", 30053).Port(53, "UDP", 30053));
  ASSERT_TRUE(requested.ok()) << requested.status().ToString();
  EXPECT_EQ(PortHolder(30053), Owner(*requested));
  ASSERT_TRUE(Delete("dns2").ok());
  EXPECT_EQ(PortHolder(30053), "");
}

TEST_F(AllocationTest, RequestedNodePortConflictsAndRangeAre422) {
  auto a = Create(Svc("a").Type("NodePort").Port(80, "TCP", 30080));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->spec().ports(0).nodeport(), 30080);
  EXPECT_EQ(PortHolder(30080), Owner(*a));

  ErrorDetails d;
  auto b = Create(Svc("b").Type("NodePort").Port(80, "TCP", 30080), {}, &d);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), Code::kInvalid);
  EXPECT_EQ(b.status().message(),
            "Service \"b\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
  ASSERT_EQ(d.causes.size(), 1u);
  EXPECT_EQ(d.causes[0].field, "spec.ports[0].nodePort");

  auto c = Create(Svc("c").Type("NodePort").Port(80, "TCP", 20000));
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "Service \"c\" is invalid: spec.ports[0].nodePort: Invalid value: 20000: provided port is not in the valid "
            "range. The range of valid ports is 30000-32767");
  EXPECT_EQ(Keys(kIpAllocationPrefix).size(), 1u) << "failed creates hold no address";
}

TEST_F(AllocationTest, DeleteFreesAddressAndPorts) {
  auto svc = Create(Svc("web").Type("NodePort").ClusterIP("10.96.9.9").Port(80, "TCP", 30080).Port(81));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  ASSERT_EQ(Keys(kNodePortAllocationPrefix).size(), 2u);
  ASSERT_TRUE(Delete("web").ok());
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
  EXPECT_TRUE(Keys(kNodePortAllocationPrefix).empty());
  auto reuse = Create(Svc("other").Type("NodePort").ClusterIP("10.96.9.9").Port(80, "TCP", 30080));
  ASSERT_TRUE(reuse.ok()) << reuse.status().ToString();
  EXPECT_EQ(PortHolder(30080), Owner(*reuse));
}

TEST_F(AllocationTest, FinalizerKeepsAllocationsUntilTheServiceIsGone) {
  auto svc = Create(Svc("lb").Type("LoadBalancer").Port(80).Finalizer("service.kubernetes.io/load-balancer-cleanup"));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  int32_t port = svc->spec().ports(0).nodeport();
  ASSERT_TRUE(Delete("lb").ok());
  ASSERT_TRUE(Get("lb").ok()) << "terminating, held by its finalizer";
  EXPECT_EQ(PortHolder(port), Owner(*svc));
  ASSERT_TRUE(Change("lb", [](corev1::Service* s) { s->mutable_metadata()->clear_finalizers(); }).ok());
  EXPECT_EQ(Get("lb").status().code(), Code::kNotFound);
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
  EXPECT_TRUE(Keys(kNodePortAllocationPrefix).empty());
}

TEST_F(AllocationTest, TypeChangeToClusterIPFreesNodePorts) {
  auto svc = Create(Svc("web").Type("NodePort").Port(80, "TCP", 30080).Port(81));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  std::string ip = svc->spec().clusterip();

  // A PUT of the whole object with only the type changed (kubectl edit): upstream wipes the
  // nodePorts the user left as they were, and frees them.
  corev1::Service edited = *svc;
  edited.mutable_spec()->set_type("ClusterIP");
  auto updated = Put(edited);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(updated->spec().ports(0).nodeport(), 0);
  EXPECT_EQ(updated->spec().ports(1).nodeport(), 0);
  EXPECT_EQ(updated->spec().externaltrafficpolicy(), "") << "wiped with the type";
  EXPECT_EQ(updated->spec().clusterip(), ip) << "the address stays";
  EXPECT_TRUE(Keys(kNodePortAllocationPrefix).empty());
  EXPECT_EQ(IpHolder(ip), Owner(*svc));

  // And back: new ports are allocated.
  auto back = Change("web", [](corev1::Service* s) { s->mutable_spec()->set_type("NodePort"); });
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_NE(back->spec().ports(0).nodeport(), 0);
  EXPECT_EQ(Keys(kNodePortAllocationPrefix).size(), 2u);
}

TEST_F(AllocationTest, UpdateKeepsAllocatesAndFreesPorts) {
  auto svc = Create(Svc("web").Type("NodePort").Port(80).Port(81));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  int32_t kept = svc->spec().ports(0).nodeport(), dropped = svc->spec().ports(1).nodeport();
  auto updated = Change("web", [](corev1::Service* s) {
    s->mutable_spec()->mutable_ports()->DeleteSubrange(1, 1);
    auto* p = s->mutable_spec()->add_ports();
    p->set_name("tcp-82");
    p->set_port(82);
    p->set_protocol("TCP");
    auto* q = s->mutable_spec()->add_ports();
    q->set_name("tcp-83");
    q->set_port(83);
    q->set_protocol("TCP");
    q->set_nodeport(31000);
  });
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  ASSERT_EQ(updated->spec().ports_size(), 3);
  EXPECT_EQ(updated->spec().ports(0).nodeport(), kept);
  int32_t added = updated->spec().ports(1).nodeport();
  EXPECT_NE(added, 0);
  EXPECT_EQ(updated->spec().ports(2).nodeport(), 31000);
  EXPECT_EQ(PortHolder(kept), Owner(*svc));
  EXPECT_EQ(PortHolder(added), Owner(*svc));
  EXPECT_EQ(PortHolder(31000), Owner(*svc));
  EXPECT_EQ(PortHolder(dropped), "") << "the dropped port is free";
  EXPECT_EQ(Keys(kNodePortAllocationPrefix).size(), 3u);

  // A port another Service holds cannot be taken by an update either.
  ASSERT_TRUE(Create(Svc("other").Type("NodePort").Port(80, "TCP", 32000)).ok());
  auto steal = Change("web", [](corev1::Service* s) { s->mutable_spec()->mutable_ports(0)->set_nodeport(32000); });
  ASSERT_FALSE(steal.ok());
  EXPECT_EQ(steal.status().message(),
            "Service \"web\" is invalid: spec.ports[0].nodePort: Invalid value: 32000: provided port is already allocated");
  EXPECT_EQ(PortHolder(kept), Owner(*svc)) << "unchanged after the failed update";
}

TEST_F(AllocationTest, PutWithoutAllocatedValuesKeepsThem) {
  // kubectl replace of the original manifest: no clusterIP, no nodePort.
  auto svc = Create(Svc("web").Type("NodePort").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  auto again = Put(*Svc("web").Type("NodePort").Port(80).Build());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->spec().clusterip(), svc->spec().clusterip());
  EXPECT_EQ(again->spec().ports(0).nodeport(), svc->spec().ports(0).nodeport());
  EXPECT_EQ(again->metadata().resourceversion(), svc->metadata().resourceversion()) << "nothing changed, nothing written";
  EXPECT_EQ(Keys(kIpAllocationPrefix).size(), 1u);
  EXPECT_EQ(Keys(kNodePortAllocationPrefix).size(), 1u);
}

TEST_F(AllocationTest, ExternalNameSwitchFreesAndAllocatesTheAddress) {
  auto svc = Create(Svc("web").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  corev1::Service to_ext = *svc;
  to_ext.mutable_spec()->set_type("ExternalName");
  to_ext.mutable_spec()->set_externalname("example.com");
  auto ext = Put(to_ext);
  ASSERT_TRUE(ext.ok()) << ext.status().ToString();
  EXPECT_EQ(ext->spec().clusterip(), "");
  EXPECT_EQ(ext->spec().ipfamilies_size(), 0);
  EXPECT_FALSE(ext->spec().has_ipfamilypolicy());
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());

  auto back = Change("web", [](corev1::Service* s) {
    s->mutable_spec()->set_type("ClusterIP");
    s->mutable_spec()->clear_externalname();
  });
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(InRange(config_, back->spec().clusterip()));
  EXPECT_EQ(IpHolder(back->spec().clusterip()), Owner(*svc));
}

TEST_F(AllocationTest, ExternalNameToNodePortClaimsStrayNodePorts) {
  // Validation lets an ExternalName carry a nodePort; it was never allocated, so becoming a
  // NodePort Service must claim it like a new request.
  ASSERT_TRUE(Create(Svc("holder").Type("NodePort").Port(80, "TCP", 30080)).ok());
  auto ext = Create(Svc("ext").ExternalName("example.com").Port(80, "TCP", 30080));
  ASSERT_TRUE(ext.ok()) << ext.status().ToString();
  auto clash = Change("ext", [](corev1::Service* s) {
    s->mutable_spec()->set_type("NodePort");
    s->mutable_spec()->clear_externalname();
  });
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "Service \"ext\" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated");
  ASSERT_TRUE(Delete("ext").ok());
  EXPECT_NE(PortHolder(30080), "") << "deleting the ExternalName did not free the other Service's port";
}

TEST_F(AllocationTest, LoadBalancerWithLocalTrafficGetsAHealthCheckNodePort) {
  auto lb = Create(Svc("lb").Type("LoadBalancer").LocalTraffic().Port(80));
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  int32_t hc = lb->spec().healthchecknodeport();
  ASSERT_NE(hc, 0);
  EXPECT_NE(hc, lb->spec().ports(0).nodeport());
  EXPECT_EQ(PortHolder(hc), Owner(*lb));

  // Cluster traffic policy needs no health check port: it is wiped and freed.
  auto cluster = Change("lb", [](corev1::Service* s) { s->mutable_spec()->set_externaltrafficpolicy("Cluster"); });
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  EXPECT_EQ(cluster->spec().healthchecknodeport(), 0);
  EXPECT_EQ(PortHolder(hc), "");

  // Requesting one that is taken is upstream's 500.
  auto taken = Create(Svc("lb2").Type("LoadBalancer").LocalTraffic().Port(80).Edit(
      [&](corev1::Service* s) { s->mutable_spec()->set_healthchecknodeport(lb->spec().ports(0).nodeport()); }));
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().code(), Code::kInternal);
  EXPECT_EQ(taken.status().message(), "Internal error occurred: failed to allocate requested HealthCheck NodePort " +
                                          std::to_string(lb->spec().ports(0).nodeport()) +
                                          ": provided port is already allocated");
}

TEST_F(AllocationTest, LoadBalancerWithoutNodePortsOnlyTakesRequestedOnes) {
  auto lb = Create(Svc("lb").Type("LoadBalancer").Port(80).Port(81, "TCP", 30081).Edit(
      [](corev1::Service* s) { s->mutable_spec()->set_allocateloadbalancernodeports(false); }));
  ASSERT_TRUE(lb.ok()) << lb.status().ToString();
  EXPECT_EQ(lb->spec().ports(0).nodeport(), 0);
  EXPECT_EQ(lb->spec().ports(1).nodeport(), 30081);
  EXPECT_EQ(Keys(kNodePortAllocationPrefix), std::vector<std::string>{"30081"});
}

TEST_F(AllocationTest, NodePortRangeExhaustion) {
  Restart("10.96.0.0/12", "30000-30002");
  auto svc = Create(Svc("a").Type("NodePort").Port(80).Port(81).Port(82));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  auto full = Create(Svc("b").Type("NodePort").Port(80));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.status().code(), Code::kInternal);
  EXPECT_EQ(full.status().message(), "Internal error occurred: failed to allocate a nodePort: range is full");
  ASSERT_TRUE(Change("a", [](corev1::Service* s) { s->mutable_spec()->mutable_ports()->RemoveLast(); }).ok());
  EXPECT_TRUE(Create(Svc("b").Type("NodePort").Port(80)).ok()) << "the freed port is reused";
}

TEST_F(AllocationTest, OtherKindsPassThrough) {
  auto cm = std::make_unique<corev1::ConfigMap>();
  cm->mutable_metadata()->set_name("cfg");
  ASSERT_TRUE(registry_->Create(*FindResource("", "v1", "configmaps"), "default", std::move(cm), {}).ok());
  EXPECT_TRUE(Keys(kIpAllocationPrefix).empty());
}

// ---- concurrency ------------------------------------------------------------------------------

// Installs a hook that lets `steal` take a value right after the allocator picked it, as a
// concurrent writer would between the hook and the transaction.
void StealAfterFirstPick(Registry* registry, ServiceAllocator* allocator, int* calls,
                         std::function<void(const corev1::Service&)> steal) {
  registry->SetAllocationHook([=](const ResourceInfo& r, const Message* old_object, Message* new_object,
                                  std::vector<store::Compare>* compares, std::vector<store::Op>* ops,
                                  ErrorDetails* details) {
    Status s = allocator->Allocate(r, old_object, new_object, compares, ops, details);
    if (s.ok() && new_object && ++*calls == 1) steal(static_cast<const corev1::Service&>(*new_object));
    return s;
  });
}

TEST_F(AllocationTest, CreateThatLosesTheRaceForAnAddressAllocatesAgain) {
  int calls = 0;
  std::string stolen;
  StealAfterFirstPick(registry_.get(), allocator_.get(), &calls, [&](const corev1::Service& svc) {
    stolen = svc.spec().clusterip();
    ASSERT_TRUE(store_->Put(IpAllocationKey(stolen), "default/winner/uid-w").ok());
  });
  auto svc = Create(Svc("web").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString() << " (a lost race is not the client's problem)";
  EXPECT_EQ(calls, 2);
  EXPECT_NE(svc->spec().clusterip(), stolen);
  EXPECT_EQ(IpHolder(stolen), "default/winner/uid-w");
  EXPECT_EQ(IpHolder(svc->spec().clusterip()), Owner(*svc));
}

TEST_F(AllocationTest, UpdateThatLosesTheRaceForANodePortAllocatesAgain) {
  auto svc = Create(Svc("web").Type("NodePort").Port(80));
  ASSERT_TRUE(svc.ok()) << svc.status().ToString();
  int calls = 0;
  int32_t stolen = 0;
  StealAfterFirstPick(registry_.get(), allocator_.get(), &calls, [&](const corev1::Service& s) {
    stolen = s.spec().ports(1).nodeport();
    ASSERT_TRUE(store_->Put(NodePortAllocationKey(stolen), "default/winner/uid-w").ok());
  });
  // A PUT with resourceVersion: the object did not change, so this is no 409 either.
  corev1::Service more = *svc;
  auto* p = more.mutable_spec()->add_ports();
  p->set_name("tcp-81");
  p->set_port(81);
  p->set_protocol("TCP");
  auto updated = Put(more);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_EQ(calls, 2);
  EXPECT_NE(updated->spec().ports(1).nodeport(), stolen);
  EXPECT_EQ(PortHolder(updated->spec().ports(1).nodeport()), Owner(*svc));
  EXPECT_EQ(PortHolder(stolen), "default/winner/uid-w");
}

TEST_F(AllocationTest, ConcurrentCreatesGetDistinctAddresses) {
  // 200 Services from 8 threads into a /24 (238 dynamic addresses in the upper band): threads
  // pick the same free address often, and the losers' transactions fail and allocate again.
  Restart("10.0.0.0/24");
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> failures{0}, hook_calls{0};
  registry_->SetAllocationHook([&](const ResourceInfo& r, const Message* old_object, Message* new_object,
                                   std::vector<store::Compare>* compares, std::vector<store::Op>* ops,
                                   ErrorDetails* details) {
    ++hook_calls;
    return allocator_->Allocate(r, old_object, new_object, compares, ops, details);
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = Create(Svc("s-" + std::to_string(t) + "-" + std::to_string(i)).Type("NodePort").Port(80));
        if (!r.ok()) {
          ADD_FAILURE() << r.status().ToString();
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(failures.load(), 0);

  ASSERT_TRUE(cache_->Sync().ok());
  auto list = cache_->List(Services().storage_prefix, nullptr);
  ASSERT_EQ(list.objects.size(), static_cast<size_t>(kThreads * kPerThread));
  std::set<std::string> ips;
  std::set<int32_t> ports;
  for (const auto& o : list.objects) {
    std::shared_ptr<const google::protobuf::Message> held = o->object();
    const auto& svc = static_cast<const corev1::Service&>(*held);
    ips.insert(svc.spec().clusterip());
    ports.insert(svc.spec().ports(0).nodeport());
    EXPECT_EQ(IpHolder(svc.spec().clusterip()), Owner(svc));
    EXPECT_EQ(PortHolder(svc.spec().ports(0).nodeport()), Owner(svc));
  }
  EXPECT_EQ(ips.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(ports.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(Keys(kIpAllocationPrefix).size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(Keys(kNodePortAllocationPrefix).size(), static_cast<size_t>(kThreads * kPerThread));
  std::printf("concurrent creates: %d Services, %d allocation attempts (%d lost races retried)\n",
              kThreads * kPerThread, hook_calls.load(), hook_calls.load() - kThreads * kPerThread);
}

}  // namespace
}  // namespace ck::apiserver::allocation
