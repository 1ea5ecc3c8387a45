#include <chrono>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/api/codec.h"
#include "common/api/conditions.h"
#include "common/api/field_selector.h"
#include "common/api/label_selector.h"
#include "common/api/object.h"
#include "common/api/pod.h"
#include "common/api/resources.h"
#include "common/api/testing/builders.h"
#include "common/api/testing/json_compare.h"

namespace ck::api {
namespace {

using ::testing::HasSubstr;
namespace appsv1 = ::k8s::io::api::apps::v1;
using testing::MakeDeployment;
using testing::MakeNode;
using testing::MakePod;
using testing::MakeReplicaSet;
using testing::MakeService;

std::map<std::string, std::string> Text(const ResourceList& l) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : l) out[k] = v.String();
  return out;
}

// ---- Keys ----------------------------------------------------------------------------------------

TEST(ObjectKey, NamespaceSlashName) {
  EXPECT_EQ(ObjectKey(MakePod("web").Namespace("shop").Obj().metadata()), "shop/web");
  EXPECT_EQ(ObjectKey(MakeNode("node-1").Obj().metadata()), "node-1");
  EXPECT_EQ(*SplitObjectKey("shop/web"), (std::pair<std::string, std::string>{"shop", "web"}));
  EXPECT_EQ(*SplitObjectKey("node-1"), (std::pair<std::string, std::string>{"", "node-1"}));
  EXPECT_EQ(SplitObjectKey("a/b/c").status().message(), "unexpected key format: \"a/b/c\"");
}

// ---- Owner references ------------------------------------------------------------------------------

TEST(OwnerReferences, ControllerRefs) {
  appsv1::ReplicaSet rs = MakeReplicaSet("web-abc").Namespace("shop").Uid("rs-uid");
  corev1::Pod pod = MakePod("web-abc-1").Namespace("shop");
  EXPECT_EQ(GetControllerOf(pod.metadata()), nullptr);
  ASSERT_TRUE(SetControllerReference(rs.metadata(), "apps/v1", "ReplicaSet", pod.mutable_metadata()).ok());
  ASSERT_NE(GetControllerOf(pod.metadata()), nullptr);
  EXPECT_EQ(GetControllerOf(pod.metadata())->name(), "web-abc");
  EXPECT_TRUE(GetControllerOf(pod.metadata())->blockownerdeletion());
  EXPECT_TRUE(IsControlledBy(pod.metadata(), "rs-uid"));
  // Setting the same owner again replaces the reference instead of adding one.
  ASSERT_TRUE(SetControllerReference(rs.metadata(), "apps/v1", "ReplicaSet", pod.mutable_metadata()).ok());
  EXPECT_EQ(pod.metadata().ownerreferences_size(), 1);

  appsv1::ReplicaSet other = MakeReplicaSet("web-def").Uid("other-uid");
  Status s = SetControllerReference(other.metadata(), "apps/v1", "ReplicaSet", pod.mutable_metadata());
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(s.message(), "Object shop/web-abc-1 is already owned by another ReplicaSet controller web-abc");

  EXPECT_TRUE(RemoveOwnerReference(pod.mutable_metadata(), "rs-uid"));
  EXPECT_FALSE(RemoveOwnerReference(pod.mutable_metadata(), "rs-uid"));
  EXPECT_FALSE(HasOwnerReference(pod.metadata(), "rs-uid"));
}

// ---- Conditions ------------------------------------------------------------------------------------

TEST(Conditions, TransitionTimeMovesOnlyWithStatus) {
  FakeClock clock;
  corev1::Pod pod = MakePod("p");
  auto* conds = pod.mutable_status()->mutable_conditions();
  corev1::PodCondition ready;
  ready.set_type("Ready");
  ready.set_status("False");
  ready.set_reason("ContainersNotReady");
  EXPECT_TRUE(SetCondition(conds, ready, clock));
  WallTime t0 = WallTimeOf(FindCondition(*conds, "Ready")->lasttransitiontime());
  EXPECT_EQ(t0, std::chrono::time_point_cast<WallTime::duration>(clock.Now()));

  clock.Advance(std::chrono::seconds(5));
  ready.set_reason("StillNotReady");
  EXPECT_TRUE(SetCondition(conds, ready, clock));  // reason changed, status did not
  EXPECT_EQ(WallTimeOf(FindCondition(*conds, "Ready")->lasttransitiontime()), t0);
  EXPECT_FALSE(SetCondition(conds, ready, clock));  // nothing changed

  ready.set_status("True");
  ready.clear_reason();
  EXPECT_TRUE(SetCondition(conds, ready, clock));
  EXPECT_EQ(WallTimeOf(FindCondition(*conds, "Ready")->lasttransitiontime()), t0 + std::chrono::seconds(5));
  EXPECT_TRUE(IsConditionTrue(*conds, "Ready"));
  EXPECT_FALSE(IsConditionFalse(*conds, "Ready"));
  EXPECT_TRUE(IsPodReady(pod));
  EXPECT_TRUE(RemoveCondition(conds, "Ready"));
  EXPECT_FALSE(IsPodReady(pod));
}

TEST(Conditions, MetaConditionTracksObservedGeneration) {
  FakeClock clock;
  google::protobuf::RepeatedPtrField<metav1::Condition> conds;
  metav1::Condition c;
  c.set_type("Available");
  c.set_status("True");
  c.set_observedgeneration(1);
  EXPECT_TRUE(SetCondition(&conds, c, clock));
  c.set_observedgeneration(2);
  EXPECT_TRUE(SetCondition(&conds, c, clock));
  EXPECT_EQ(FindCondition(conds, "Available")->observedgeneration(), 2);
}

// ---- Resources ---------------------------------------------------------------------------------------

TEST(Resources, SumsContainers) {
  corev1::Pod pod = MakePod("p").Container("a").Cpu("250m").Memory("64Mi").Container("b").Cpu("0.5").Memory("1Gi");
  EXPECT_EQ(Text(*PodRequests(pod)), (std::map<std::string, std::string>{{"cpu", "750m"}, {"memory", "1088Mi"}}));
  EXPECT_TRUE(PodLimits(pod)->empty());
}

TEST(Resources, InitContainersSetTheFloor) {
  // A plain init container runs alone: the pod needs max(sum of containers, largest init).
  corev1::Pod pod = MakePod("p").InitContainer("migrate").Cpu("2").Memory("16Mi").Container("app").Cpu("500m").Memory("128Mi");
  EXPECT_EQ(Text(*PodRequests(pod)), (std::map<std::string, std::string>{{"cpu", "2"}, {"memory", "128Mi"}}));
}

TEST(Resources, SidecarsAddToEverythingAfterThem) {
  // log (sidecar) starts first and keeps running; migrate then needs its own cpu plus log's.
  corev1::Pod pod = MakePod("p")
                        .Sidecar("log").Cpu("100m").Memory("32Mi")
                        .InitContainer("migrate").Cpu("1")
                        .Container("app").Cpu("500m").Memory("128Mi");
  EXPECT_EQ(Text(*PodRequests(pod)), (std::map<std::string, std::string>{{"cpu", "1100m"}, {"memory", "160Mi"}}));
}

TEST(Resources, OverheadAndLimits) {
  corev1::Pod pod = MakePod("p").Cpu("100m").CpuLimit("1").Overhead("cpu", "50m").Overhead("memory", "10Mi");
  EXPECT_EQ(Text(*PodRequests(pod)), (std::map<std::string, std::string>{{"cpu", "150m"}, {"memory", "10Mi"}}));
  // Overhead is added only to limited resources.
  EXPECT_EQ(Text(*PodLimits(pod)), (std::map<std::string, std::string>{{"cpu", "1050m"}}));
  PodResourcesOptions o;
  o.exclude_overhead = true;
  EXPECT_EQ(Text(*PodRequests(pod, o)), (std::map<std::string, std::string>{{"cpu", "100m"}}));
}

TEST(Resources, NonMissingDefaults) {
  corev1::Pod pod = MakePod("p").Container("a").Cpu("300m").Container("b");
  PodResourcesOptions o;
  o.non_missing_container_requests = {{"cpu", *Quantity::Parse("100m")}, {"memory", *Quantity::Parse("200Mi")}};
  EXPECT_EQ(Text(*PodRequests(pod, o)), (std::map<std::string, std::string>{{"cpu", "400m"}, {"memory", "400Mi"}}));
}

TEST(Resources, BadQuantityNamesTheResource) {
  corev1::Pod pod = MakePod("p").Container("c");
  (*pod.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests())["cpu"].set_string("lots");
  EXPECT_THAT(PodRequests(pod).status().message(), HasSubstr("cpu: quantity \"lots\""));
}

// ---- Phase, readiness, QoS ----------------------------------------------------------------------------

TEST(PodState, Phases) {
  EXPECT_TRUE(IsPodActive(MakePod("p").Phase("Running")));
  EXPECT_FALSE(IsPodActive(MakePod("p").Phase("Succeeded")));
  EXPECT_TRUE(IsPodTerminal(MakePod("p").Phase("Failed")));
  EXPECT_FALSE(IsPodActive(MakePod("p").Phase("Running").DeletionTimestamp(FakeClock().Now())));
  EXPECT_TRUE(IsPodScheduled(MakePod("p").Node("node-1")));
}

TEST(PodState, Availability) {
  FakeClock clock;
  corev1::Pod pod = MakePod("p").Ready(clock.Now());
  EXPECT_TRUE(IsPodAvailable(pod, 0, clock.Now()));
  EXPECT_FALSE(IsPodAvailable(pod, 10, clock.Now() + std::chrono::seconds(9)));
  EXPECT_TRUE(IsPodAvailable(pod, 10, clock.Now() + std::chrono::seconds(10)));
  EXPECT_FALSE(IsPodAvailable(MakePod("q").Phase("Running"), 0, clock.Now()));
}

TEST(PodState, QosClass) {
  EXPECT_EQ(PodQOSClass(MakePod("p")), "BestEffort");
  EXPECT_EQ(PodQOSClass(MakePod("p").Cpu("100m")), "Burstable");
  EXPECT_EQ(PodQOSClass(MakePod("p").Cpu("1").Memory("1Gi").CpuLimit("1").MemoryLimit("1Gi")), "Guaranteed");
  EXPECT_EQ(PodQOSClass(MakePod("p").Cpu("1000m").Memory("1024Mi").CpuLimit("1").MemoryLimit("1Gi")), "Guaranteed");
  EXPECT_EQ(PodQOSClass(MakePod("p").Cpu("500m").Memory("1Gi").CpuLimit("1").MemoryLimit("1Gi")), "Burstable");
  // Every container needs both limits, init containers included.
  EXPECT_EQ(PodQOSClass(MakePod("p").Cpu("1").Memory("1Gi").CpuLimit("1").MemoryLimit("1Gi").InitContainer("i").Cpu("1").CpuLimit("1")),
            "Burstable");
  // Extended resources do not count; zero requests count as none.
  EXPECT_EQ(PodQOSClass(MakePod("p").Request("example.com/gpu", "1").Cpu("0")), "BestEffort");
  corev1::Pod reported = MakePod("p");
  reported.mutable_status()->set_qosclass("Guaranteed");
  EXPECT_EQ(PodQOSClass(reported), "Guaranteed");
}

TEST(PodState, FieldSetWorksWithFieldSelectors) {
  corev1::Pod pod = MakePod("web-1").Namespace("shop").Node("node-2").Phase("Running");
  Result<FieldSelector> s = FieldSelector::Parse("spec.nodeName=node-2,status.phase!=Failed,metadata.namespace=shop");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Matches(PodFieldSet(pod)));
  EXPECT_FALSE(FieldSelector::Parse("spec.nodeName=")->Matches(PodFieldSet(pod)));
}

// ---- Builders ----------------------------------------------------------------------------------------

TEST(Builders, MakePodReadsLikeTheObject) {
  corev1::Pod pod = MakePod("web").Cpu("500m").Label("app", "web");
  Result<std::string> json = ToJson(pod, {.kind = "Pod", .api_version = "v1"});
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(testing::JsonDiff(R"({"kind":"Pod","apiVersion":"v1",
      "metadata":{"name":"web","namespace":"default","creationTimestamp":null,"labels":{"app":"web"}},
      "spec":{"containers":[{"name":"main","image":"registry.example.com/app:1","resources":{"requests":{"cpu":"500m"}}}],
              "restartPolicy":"Always","schedulerName":"default-scheduler"},
      "status":{}})",
                                *json),
            "");
  EXPECT_TRUE(LabelSelector::Parse("app=web")->Matches(pod.metadata().labels()));
}

TEST(Builders, OtherKinds) {
  corev1::Node node = MakeNode("node-1").Capacity("4", "8Gi").Taint("dedicated", "web", "NoSchedule").Ready().PodCIDR("10.244.1.0/24");
  EXPECT_EQ(node.status().allocatable().at("memory").string(), "8Gi");
  EXPECT_TRUE(IsConditionTrue(node.status().conditions(), "Ready"));
  EXPECT_TRUE(MakeNode("n").Ready(false).Obj().status().conditions(0).status() == "False");

  appsv1::Deployment d = MakeDeployment("web").Label("app", "web").Replicas(3).MaxSurge("25%").MaxUnavailable("1");
  Result<LabelSelector> sel = LabelSelector::FromProto(&d.spec().selector());
  ASSERT_TRUE(sel.ok());
  EXPECT_TRUE(sel->Matches(d.spec().template_().metadata().labels()));
  Result<std::string> json = ToJson(d, {.kind = "Deployment", .api_version = "apps/v1"});
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr(R"("rollingUpdate":{"maxUnavailable":1,"maxSurge":"25%"})"));

  corev1::Service svc = MakeService("web").Selector("app", "web").Port(80, "http").Port(443);
  Result<std::string> sjson = ToJson(svc);
  ASSERT_TRUE(sjson.ok());
  EXPECT_THAT(*sjson, HasSubstr(R"("ports":[{"protocol":"TCP","port":80,"targetPort":"http"},{"protocol":"TCP","port":443,"targetPort":443}])"));
}

}  // namespace
}  // namespace ck::api
