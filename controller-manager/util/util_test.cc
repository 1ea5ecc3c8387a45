// The controllers' shared pieces: expectations with their TTL, the pod deletion order, slow-start
// batching, template hashes, claiming by owner reference, pod creation events and revision history.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "common/api/codec.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/meta.h"
#include "controller-manager/testing/controller_test_env.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/expectations.h"
#include "controller-manager/util/hash.h"
#include "controller-manager/util/history.h"
#include "controller-manager/util/object_transform.h"
#include "controller-manager/util/pod_control.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager {
namespace {

using api::testing::MakePod;
using api::testing::ReplicaSetBuilder;
using namespace std::chrono_literals;
using testing::ControllerTestEnv;
using testing::ResourceOf;

TEST(ExpectationsTest, SatisfiedWhenObservedOrExpired) {
  FakeClock clock;
  ControllerExpectations e(clock);
  EXPECT_TRUE(e.SatisfiedExpectations("ns/rs"));  // no record: act
  e.ExpectCreations("ns/rs", 2);
  EXPECT_FALSE(e.SatisfiedExpectations("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_FALSE(e.SatisfiedExpectations("ns/rs"));
  e.CreationObserved("ns/rs");
  EXPECT_TRUE(e.SatisfiedExpectations("ns/rs"));

  e.ExpectDeletions("ns/rs", 1);
  clock.Advance(5min);
  EXPECT_FALSE(e.SatisfiedExpectations("ns/rs"));  // exactly the TTL: still waiting
  clock.Advance(1s);
  EXPECT_TRUE(e.SatisfiedExpectations("ns/rs"));  // expired: a lost event never blocks for good
  e.DeleteExpectations("ns/rs");
  EXPECT_EQ(e.Pending("ns/rs"), std::make_pair(0, 0));
}

TEST(ExpectationsTest, UidTrackingCountsEachDeletionOnce) {
  FakeClock clock;
  UidTrackingExpectations e(clock);
  e.ExpectDeletions("ns/rs", {"ns/a", "ns/b"});
  e.DeletionObserved("ns/rs", "ns/a");
  e.DeletionObserved("ns/rs", "ns/a");  // seen again (update with deletionTimestamp, then delete)
  e.DeletionObserved("ns/rs", "ns/x");  // not one we deleted
  EXPECT_FALSE(e.SatisfiedExpectations("ns/rs"));
  e.DeletionObserved("ns/rs", "ns/b");
  EXPECT_TRUE(e.SatisfiedExpectations("ns/rs"));
}

TEST(PodUtilTest, AvailableAfterMinReadySeconds) {
  WallTime t0 = WallTime{} + std::chrono::hours(24 * 365 * 50);
  corev1::Pod pod = MakePod("p").Phase("Running").Ready(t0);
  EXPECT_TRUE(IsPodReady(pod));
  EXPECT_TRUE(IsPodAvailable(pod, 0, t0));
  EXPECT_FALSE(IsPodAvailable(pod, 10, t0 + 9s));
  EXPECT_TRUE(IsPodAvailable(pod, 10, t0 + 10s));
  EXPECT_FALSE(IsPodAvailable(MakePod("q").Phase("Running"), 0, t0));
  EXPECT_FALSE(IsPodActive(MakePod("d").Phase("Succeeded")));
  EXPECT_FALSE(IsPodActive(MakePod("e").DeletionTimestamp(t0)));
  EXPECT_TRUE(IsPodActive(MakePod("f").Phase("Running")));
}

TEST(PodUtilTest, DeletionOrderFollowsUpstreamRanks) {
  WallTime t0 = WallTime{} + std::chrono::hours(24 * 365 * 50);
  struct Case {
    const char* name;
    corev1::Pod first;  // deleted first
    corev1::Pod second;
  };
  const Case cases[] = {
      {"unassigned before assigned", MakePod("a"), MakePod("b").Node("n1").Phase("Running")},
      {"pending before running", MakePod("a").Node("n1").Phase("Pending"), MakePod("b").Node("n1").Phase("Running")},
      {"unknown before running", MakePod("a").Node("n1").Phase("Unknown"), MakePod("b").Node("n1").Phase("Running")},
      {"not ready before ready", MakePod("a").Node("n1").Phase("Running"),
       MakePod("b").Node("n1").Phase("Running").Ready(t0)},
      {"lower deletion cost first",
       MakePod("a").Node("n1").Phase("Running").Annotation("controller.kubernetes.io/pod-deletion-cost", "-5"),
       MakePod("b").Node("n1").Phase("Running")},
      {"ready for less time first", MakePod("a").Node("n1").Phase("Running").Ready(t0 + 10s),
       MakePod("b").Node("n1").Phase("Running").Ready(t0)},
      {"newer first", MakePod("a").Node("n1").Phase("Running").CreationTimestamp(t0 + 5s),
       MakePod("b").Node("n1").Phase("Running").CreationTimestamp(t0)},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(DeleteBefore(c.first, 0, c.second, 0)) << c.name;
    EXPECT_FALSE(DeleteBefore(c.second, 0, c.first, 0)) << c.name;
  }
  // Rank: the pod sharing its node with more related pods goes first.
  corev1::Pod crowded = MakePod("a").Node("n1").Phase("Running");
  corev1::Pod alone = MakePod("b").Node("n2").Phase("Running");
  corev1::Pod sibling = MakePod("c").Node("n1").Phase("Running");
  std::vector<const corev1::Pod*> pods = {&alone, &crowded};
  std::vector<const corev1::Pod*> related = {&alone, &crowded, &sibling};
  std::vector<const corev1::Pod*> victims = PodsToDelete(pods, related, 1);
  ASSERT_EQ(victims.size(), 1u);
  EXPECT_EQ(victims[0]->metadata().name(), "a");
}

TEST(PodUtilTest, SlowStartBatchDoublesAndStopsAtTheFirstFailingBatch) {
  std::atomic<int> calls{0};
  auto [ok, status] = SlowStartBatch(10, 1, 4, [&] {
    ++calls;
    return Status::Ok();
  });
  EXPECT_EQ(ok, 10);
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(calls.load(), 10);

  // Batches 1, 2, 4: the 5th call fails, so the 4-batch finishes and nothing after it runs.
  calls = 0;
  auto [ok2, status2] = SlowStartBatch(20, 1, 1, [&] {
    int n = ++calls;
    return n == 5 ? Status(Code::kInternal, "boom") : Status::Ok();
  });
  EXPECT_EQ(calls.load(), 7);
  EXPECT_EQ(ok2, 6);
  EXPECT_EQ(status2.code(), Code::kInternal);
}

TEST(HashTest, StableSafeAndCollisionSensitive) {
  corev1::PodTemplateSpec a, b;
  a.mutable_spec()->add_containers()->set_image("web:1");
  b.mutable_spec()->add_containers()->set_image("web:2");
  std::string ha = ComputeHash(a);
  EXPECT_EQ(ha, ComputeHash(a));
  EXPECT_NE(ha, ComputeHash(b));
  EXPECT_NE(ha, ComputeHash(a, 1));
  EXPECT_EQ(ha.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos) << ha;
  EXPECT_EQ(Fnv32a(""), 2166136261u);
  EXPECT_EQ(Fnv32a("a"), 0xe40c292cu);  // the published FNV-1a test vector
}

TEST(ControllerRefTest, ClaimAdoptsOrphansReleasesStrangersAndLeavesOthersAlone) {
  ControllerTestEnv env;
  appsv1::ReplicaSet rs = env.Create(appsv1::ReplicaSet(ReplicaSetBuilder("web").Label("app", "web").Replicas(2)));
  env.Create(corev1::Pod(MakePod("orphan").Label("app", "web").Container("c")));
  env.Create(corev1::Pod(MakePod("other").Label("app", "web").Container("c").OwnerRef("ReplicaSet", "x", "uid-x")));
  env.Create(corev1::Pod(MakePod("strayed").Label("app", "db").Container("c").OwnerRef("ReplicaSet", "web",
                                                                                         rs.metadata().uid())));
  env.Create(corev1::Pod(MakePod("mine").Label("app", "web").Container("c").OwnerRef("ReplicaSet", "web",
                                                                                     rs.metadata().uid())));
  env.Create(corev1::Pod(MakePod("unrelated").Label("app", "db").Container("c")));
  Result<client::ObjectList> pods = env.api.List(ResourceOf(corev1::Pod::descriptor()), "default");
  ASSERT_TRUE(pods.ok());
  Result<api::LabelSelector> selector = api::LabelSelector::FromProto(&rs.spec().selector());
  ASSERT_TRUE(selector.ok());
  ControllerRefManager m(env.api, rs, *selector, ResourceOf(corev1::Pod::descriptor()),
                         RecheckDeletionTimestamp(env.api, ResourceOf(appsv1::ReplicaSet::descriptor()), "default",
                                                  "web", rs.metadata().uid()));
  Result<std::vector<client::ObjectPtr>> claimed = m.Claim(pods->items);
  ASSERT_TRUE(claimed.ok()) << claimed.status().message();
  std::vector<std::string> names;
  for (const auto& p : *claimed) names.push_back(MetaOf(*p).name());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"mine", "orphan"}));
  auto orphan = env.Get<corev1::Pod>("default", "orphan");
  ASSERT_TRUE(orphan.ok());
  ASSERT_NE(GetControllerOf(orphan->metadata()), nullptr);
  EXPECT_EQ(GetControllerOf(orphan->metadata())->uid(), rs.metadata().uid());
  EXPECT_TRUE(GetControllerOf(orphan->metadata())->blockownerdeletion());
  auto strayed = env.Get<corev1::Pod>("default", "strayed");
  ASSERT_TRUE(strayed.ok());
  EXPECT_EQ(strayed->metadata().ownerreferences_size(), 0);
  auto other = env.Get<corev1::Pod>("default", "other");
  EXPECT_EQ(GetControllerOf(other->metadata())->uid(), "uid-x");
}

TEST(ControllerRefTest, NoAdoptionByAReplacedOwner) {
  ControllerTestEnv env;
  appsv1::ReplicaSet rs = env.Create(appsv1::ReplicaSet(ReplicaSetBuilder("web").Label("app", "web")));
  env.Create(corev1::Pod(MakePod("orphan").Label("app", "web").Container("c")));
  Result<client::ObjectList> pods = env.api.List(ResourceOf(corev1::Pod::descriptor()), "default");
  ControllerRefManager m(env.api, rs, *api::LabelSelector::FromProto(&rs.spec().selector()),
                         ResourceOf(corev1::Pod::descriptor()),
                         RecheckDeletionTimestamp(env.api, ResourceOf(appsv1::ReplicaSet::descriptor()), "default",
                                                  "web", "some-older-uid"));
  Result<std::vector<client::ObjectPtr>> claimed = m.Claim(pods->items);
  EXPECT_EQ(claimed.status().code(), Code::kConflict);
  EXPECT_EQ(env.Get<corev1::Pod>("default", "orphan")->metadata().ownerreferences_size(), 0);
}

TEST(PodControlTest, CreatesFromTemplateAndRecordsEvents) {
  ControllerTestEnv env;
  appsv1::ReplicaSet rs = env.Create(appsv1::ReplicaSet(ReplicaSetBuilder("web").Label("app", "web")));
  PodControl control(env.api, env.context.Recorder("replicaset-controller"));
  auto pod = control.CreatePodFromTemplate("default", rs.spec().template_(), rs);
  ASSERT_TRUE(pod.ok()) << pod.status().message();
  EXPECT_EQ((*pod)->metadata().name().rfind("web-", 0), 0u);
  EXPECT_EQ((*pod)->metadata().labels().at("app"), "web");
  EXPECT_TRUE(IsControlledBy((*pod)->metadata(), rs.metadata().uid()));
  ASSERT_TRUE(control.DeletePod("default", (*pod)->metadata().name(), (*pod)->metadata().uid(), rs).ok());
  EXPECT_TRUE(control.DeletePod("default", "gone", "", rs).ok());  // already gone is fine
  ASSERT_TRUE(client::testing::WaitFor([&] {
    return env.Events("SuccessfulCreate").size() == 1 && env.Events("SuccessfulDelete").size() == 1;
  }));
  auto created = env.Events("SuccessfulCreate")[0];
  EXPECT_EQ(created.message(), "Created pod: " + (*pod)->metadata().name());
  EXPECT_EQ(created.involvedobject().kind(), "ReplicaSet");
  EXPECT_EQ(created.source().component(), "replicaset-controller");
}

TEST(HistoryTest, CreateReusesEqualRevisionsAndBumpsCollisionCount) {
  ControllerTestEnv env;
  appsv1::ReplicaSet owner = env.Create(appsv1::ReplicaSet(ReplicaSetBuilder("db").Label("app", "db")));
  History history(env.api);
  appsv1::ControllerRevision r1 = NewControllerRevision(owner, R"({"spec":1})", {{"app", "db"}}, 1, 0);
  EXPECT_EQ(r1.metadata().name(), "db-" + r1.metadata().labels().at(kControllerRevisionHashLabel));
  int32_t collisions = 0;
  auto created = history.Create(owner, r1, &collisions);
  ASSERT_TRUE(created.ok()) << created.status().message();
  auto again = history.Create(owner, r1, &collisions);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->metadata().uid(), (*created)->metadata().uid());
  EXPECT_EQ(collisions, 0);

  // Another revision whose name is taken by different data: the collision count moves on.
  appsv1::ControllerRevision clash = r1;
  clash.mutable_data()->set_raw(R"({"spec":2})");
  // Force the clash: the data hashes differently, so plant an object under the hash of `clash`.
  appsv1::ControllerRevision squatter = clash;
  squatter.mutable_metadata()->set_name("db-" + HashControllerRevision(clash, 0));
  squatter.mutable_data()->set_raw(R"({"spec":"other"})");
  squatter.mutable_metadata()->clear_ownerreferences();
  env.Create(squatter);
  auto bumped = history.Create(owner, clash, &collisions);
  ASSERT_TRUE(bumped.ok());
  EXPECT_EQ(collisions, 1);
  EXPECT_EQ((*bumped)->metadata().name(), "db-" + HashControllerRevision(clash, 1));

  auto updated = history.UpdateRevision(**created, 5);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ((*updated)->revision(), 5);
  std::vector<std::shared_ptr<const appsv1::ControllerRevision>> all = {*bumped, *updated};
  SortControllerRevisions(all);
  EXPECT_EQ(all.back()->revision(), 5);
  EXPECT_EQ(NextRevision(all), 6);
  EXPECT_EQ(FindEqualRevisions(all, r1).size(), 1u);
  EXPECT_TRUE(history.Delete(**updated).ok());
  EXPECT_TRUE(history.Delete(**updated).ok());
}

TEST(TransformForControllersTest, PodsKeepWhatControllersReadAndLoseTheKubeletsFields) {
  auto pod = std::make_shared<corev1::Pod>();
  Status s = api::FromJson(R"({
    "metadata": {"name": "web-1", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
      "labels": {"app": "web"}, "annotations": {"controller.kubernetes.io/pod-deletion-cost": "5"},
      "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web", "uid": "rs-1"}],
      "finalizers": ["batch.kubernetes.io/job-tracking"],
      "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
    "spec": {"nodeName": "node-1", "hostname": "web-1", "subdomain": "web", "restartPolicy": "OnFailure",
      "tolerations": [{"key": "gpu", "operator": "Exists"}],
      "containers": [{"name": "app", "image": "app:1", "command": ["/app"], "env": [{"name": "A", "value": "b"}],
        "ports": [{"name": "http", "containerPort": 80}], "resources": {"requests": {"cpu": "100m"}},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}], "readinessProbe": {"tcpSocket": {"port": 80}}}],
      "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-1"}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}]},
    "status": {"phase": "Failed", "podIP": "10.244.0.5", "hostIP": "10.0.0.1",
      "conditions": [{"type": "Ready", "status": "False"}],
      "containerStatuses": [{"name": "app", "image": "app:1", "imageID": "sha256:abc", "containerID": "ck://1",
        "restartCount": 3, "ready": false,
        "state": {"terminated": {"exitCode": 42, "finishedAt": "2026-01-01T00:00:00Z"}}}]}
  })",
                           pod.get());
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto out = client::As<corev1::Pod>(TransformForControllers(pod));
  ASSERT_NE(out, nullptr);
  EXPECT_NE(out.get(), pod.get());
  EXPECT_EQ(out->metadata().name(), "web-1");
  EXPECT_EQ(out->metadata().labels().at("app"), "web");
  EXPECT_EQ(out->metadata().annotations().at("controller.kubernetes.io/pod-deletion-cost"), "5");
  EXPECT_EQ(out->metadata().ownerreferences(0).uid(), "rs-1");
  EXPECT_EQ(out->metadata().finalizers_size(), 1);
  EXPECT_EQ(out->metadata().managedfields_size(), 0);
  EXPECT_EQ(out->spec().nodename(), "node-1");
  EXPECT_EQ(out->spec().hostname(), "web-1");
  EXPECT_EQ(out->spec().subdomain(), "web");
  EXPECT_EQ(out->spec().restartpolicy(), "OnFailure");
  EXPECT_EQ(out->spec().tolerations_size(), 1);
  const corev1::Container& c = out->spec().containers(0);
  EXPECT_EQ(c.name(), "app");
  EXPECT_EQ(c.ports(0).name(), "http");
  EXPECT_EQ(c.resources().requests().count("cpu"), 1u);
  EXPECT_FALSE(c.has_image());
  EXPECT_EQ(c.command_size(), 0);
  EXPECT_EQ(c.env_size(), 0);
  EXPECT_EQ(c.volumemounts_size(), 0);
  EXPECT_FALSE(c.has_readinessprobe());
  ASSERT_EQ(out->spec().volumes_size(), 1);
  EXPECT_EQ(out->spec().volumes(0).volumesource().persistentvolumeclaim().claimname(), "data-web-1");
  EXPECT_EQ(out->status().phase(), "Failed");
  EXPECT_EQ(out->status().podip(), "10.244.0.5");
  EXPECT_EQ(out->status().conditions_size(), 1);
  const corev1::ContainerStatus& cs = out->status().containerstatuses(0);
  EXPECT_EQ(cs.name(), "app");
  EXPECT_EQ(cs.restartcount(), 3);
  EXPECT_EQ(cs.state().terminated().exitcode(), 42);
  EXPECT_TRUE(cs.state().terminated().has_finishedat());
  EXPECT_FALSE(cs.has_image());
  EXPECT_FALSE(cs.has_imageid());
  EXPECT_FALSE(cs.has_containerid());
  // The informer's input is untouched; a second pass changes nothing.
  EXPECT_EQ(pod->spec().containers(0).image(), "app:1");
  auto again = client::As<corev1::Pod>(TransformForControllers(out));
  EXPECT_EQ(again->ShortDebugString(), out->ShortDebugString());
}

TEST(TransformForControllersTest, EventsKeepOnlyWhatTheTtlIsCountedFrom) {
  auto core = std::make_shared<corev1::Event>();
  ASSERT_TRUE(api::FromJson(R"({"metadata": {"name": "e1", "namespace": "shop", "uid": "u", "resourceVersion": "7",
      "creationTimestamp": "2026-01-01T00:00:00Z"},
    "involvedObject": {"kind": "Pod", "name": "web-1"}, "reason": "Pulled", "message": "Container image pulled",
    "source": {"component": "kubelet"}, "lastTimestamp": "2026-01-01T00:05:00Z",
    "series": {"count": 3, "lastObservedTime": "2026-01-01T00:06:00.000000Z"}})",
                            core.get())
                  .ok());
  auto out = client::As<corev1::Event>(TransformForControllers(core));
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out->metadata().name(), "e1");
  EXPECT_EQ(out->metadata().uid(), "u");
  EXPECT_EQ(out->metadata().resourceversion(), "7");
  EXPECT_TRUE(out->metadata().has_creationtimestamp());
  EXPECT_TRUE(out->has_lasttimestamp());
  EXPECT_TRUE(out->series().has_lastobservedtime());
  EXPECT_FALSE(out->has_message());
  EXPECT_FALSE(out->has_involvedobject());
  EXPECT_FALSE(out->has_source());

  auto v1 = std::make_shared<::k8s::io::api::events::v1::Event>();
  ASSERT_TRUE(api::FromJson(R"({"metadata": {"name": "e2", "namespace": "shop", "uid": "u2", "resourceVersion": "8"},
    "eventTime": "2026-01-01T00:00:00.000000Z", "note": "long text", "reason": "Scheduled",
    "regarding": {"kind": "Pod", "name": "web-1"}})",
                            v1.get())
                  .ok());
  auto out2 = client::As<::k8s::io::api::events::v1::Event>(TransformForControllers(v1));
  ASSERT_NE(out2, nullptr);
  EXPECT_EQ(out2->metadata().name(), "e2");
  EXPECT_TRUE(out2->has_eventtime());
  EXPECT_FALSE(out2->has_note());
  EXPECT_FALSE(out2->has_regarding());

  // Metadata-only objects keep identity, owners, finalizers and deletion state.
  auto meta = std::make_shared<::k8s::io::apimachinery::pkg::apis::meta::v1::PartialObjectMetadata>();
  meta->mutable_metadata()->set_name("web-1");
  meta->mutable_metadata()->set_uid("u-1");
  meta->mutable_metadata()->add_finalizers("foregroundDeletion");
  meta->mutable_metadata()->add_ownerreferences()->set_uid("rs-1");
  meta->mutable_metadata()->mutable_deletiontimestamp()->set_seconds(5);
  (*meta->mutable_metadata()->mutable_labels())["app"] = "web";
  (*meta->mutable_metadata()->mutable_annotations())["note"] = std::string(500, 'x');
  auto slim = client::As<::k8s::io::apimachinery::pkg::apis::meta::v1::PartialObjectMetadata>(
      TransformForControllers(meta));
  ASSERT_NE(slim, nullptr);
  EXPECT_EQ(slim->metadata().uid(), "u-1");
  EXPECT_EQ(slim->metadata().finalizers_size(), 1);
  EXPECT_EQ(slim->metadata().ownerreferences(0).uid(), "rs-1");
  EXPECT_TRUE(slim->metadata().has_deletiontimestamp());
  EXPECT_TRUE(slim->metadata().labels().empty());
  EXPECT_TRUE(slim->metadata().annotations().empty());

  // Other kinds pass through as they are.
  client::ObjectPtr cm = std::make_shared<corev1::ConfigMap>();
  EXPECT_EQ(TransformForControllers(cm).get(), cm.get());
}

}  // namespace
}  // namespace ck::controller_manager
