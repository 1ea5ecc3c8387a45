#include "common/client/testing/fake_api.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "common/api/object.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/autoscaling_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/meta_v1.pb.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/api/testing/builders.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using api::testing::MakeDeployment;
using api::testing::MakeNode;
using api::testing::MakePod;
using Type = WatchEvent::Type;

const ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }
const ResourceInfo& Nodes() { return *api::FindResource("", "v1", "nodes"); }
const ResourceInfo& Deployments() { return *api::FindResource("apps", "v1", "deployments"); }

const corev1::Pod& AsPod(const ObjectPtr& o) { return static_cast<const corev1::Pod&>(*o); }
const metav1::ObjectMeta& Meta(const ObjectPtr& o) {
  return static_cast<const metav1::ObjectMeta&>(
      o->GetReflection()->GetMessage(*o, o->GetDescriptor()->FindFieldByName("metadata")));
}

// Waits (with a deadline) until `cond` holds; for checks on other threads.
template <typename F>
bool WaitFor(F cond) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class FakeApiTest : public ::testing::Test {
 protected:
  ObjectPtr MustCreate(const ResourceInfo& r, const std::string& ns, const google::protobuf::Message& m) {
    Result<ObjectPtr> o = api_.Create(r, ns, m);
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? *o : nullptr;
  }
  std::unique_ptr<WatchStream> MustWatch(const ResourceInfo& r, const std::string& ns, ListOptions options) {
    auto w = api_.Watch(r, ns, options);
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    return w.ok() ? std::move(*w) : nullptr;
  }
  // The next event; fails the test when the stream reports an error or ends.
  WatchEvent NextEvent(WatchStream& w) {
    auto e = w.Next();
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    if (!e.ok() || !e->has_value()) {
      ADD_FAILURE() << "watch ended";
      return {};
    }
    return **e;
  }
  // Asserts that nothing is queued: a bookmark sent now must be the next event.
  void ExpectIdle(WatchStream& w) {
    api_.SendBookmarks();
    WatchEvent e = NextEvent(w);
    EXPECT_EQ(e.type, Type::kBookmark);
  }

  FakeClock clock_;
  FakeApi api_{clock_};
};

// The revision starts at 1, as etcd's does: the first write is revision 2.
TEST_F(FakeApiTest, CreateStampsMetadataAndSharesOneRevisionCounter) {
  ObjectPtr pod = MustCreate(Pods(), "shop", MakePod("web").Namespace("shop").Label("app", "web").Obj());
  const metav1::ObjectMeta& m = Meta(pod);
  EXPECT_EQ(m.resourceversion(), "2");
  EXPECT_EQ(m.namespace_(), "shop");
  EXPECT_EQ(m.generation(), 1);
  EXPECT_EQ(m.uid().size(), 36u);
  EXPECT_EQ(m.uid()[14], '4');
  EXPECT_EQ(api::WallTimeOf(m.creationtimestamp()), clock_.Now());

  clock_.Advance(std::chrono::seconds(7));
  ObjectPtr node = MustCreate(Nodes(), "", MakeNode("node-1").Obj());
  EXPECT_EQ(Meta(node).resourceversion(), "3");
  EXPECT_EQ(Meta(node).namespace_(), "");
  EXPECT_EQ(api::WallTimeOf(Meta(node).creationtimestamp()), clock_.Now());
  EXPECT_NE(Meta(node).uid(), m.uid());
  EXPECT_EQ(api_.revision(), 3);

  // Returned objects are the stored, shared, read-only copies.
  Result<ObjectPtr> again = api_.Get(Pods(), "shop", "web");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->get(), pod.get());
}

TEST_F(FakeApiTest, GenerateNameAndCreateErrors) {
  corev1::Pod p;
  p.mutable_metadata()->set_generatename("web-");
  ObjectPtr a = MustCreate(Pods(), "shop", p);
  ObjectPtr b = MustCreate(Pods(), "shop", p);
  EXPECT_EQ(Meta(a).name().rfind("web-", 0), 0u);
  EXPECT_EQ(Meta(a).name().size(), 9u);
  EXPECT_NE(Meta(a).name(), Meta(b).name());

  MustCreate(Pods(), "shop", MakePod("web").Namespace("shop").Obj());
  Result<ObjectPtr> dup = api_.Create(Pods(), "shop", MakePod("web").Namespace("shop").Obj());
  EXPECT_EQ(dup.status(), AlreadyExists("pods \"web\" already exists"));
  Result<ObjectPtr> unnamed = api_.Create(Pods(), "shop", corev1::Pod());
  EXPECT_EQ(unnamed.status().code(), Code::kInvalid);
  Result<ObjectPtr> wrong_ns = api_.Create(Pods(), "shop", MakePod("x").Namespace("other").Obj());
  EXPECT_EQ(wrong_ns.status().code(), Code::kBadRequest);
  Result<ObjectPtr> missing = api_.Get(Pods(), "shop", "nope");
  EXPECT_EQ(missing.status(), NotFound("pods \"nope\" not found"));
  Result<ObjectPtr> dry =
      api_.Create(Pods(), "shop", MakePod("dry").Namespace("shop").Obj(), WriteOptions{.dry_run = true});
  ASSERT_TRUE(dry.ok());
  EXPECT_EQ(api_.Get(Pods(), "shop", "dry").status().code(), Code::kNotFound);
}

TEST_F(FakeApiTest, UpdateIsOptimisticallyConcurrent) {
  ObjectPtr v1 = MustCreate(Deployments(), "shop", MakeDeployment("web").Namespace("shop").Replicas(1).Obj());
  appsv1::Deployment change = static_cast<const appsv1::Deployment&>(*v1);
  change.mutable_spec()->set_replicas(3);
  Result<ObjectPtr> v2 = api_.Update(Deployments(), "shop", change);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_EQ(Meta(*v2).resourceversion(), "3");
  EXPECT_EQ(Meta(*v2).generation(), 2);  // spec changed
  EXPECT_EQ(Meta(*v2).uid(), Meta(v1).uid());

  // The same write again carries resourceVersion 1, which is stale now.
  change.mutable_spec()->set_replicas(4);
  Result<ObjectPtr> stale = api_.Update(Deployments(), "shop", change);
  EXPECT_EQ(stale.status(),
            Conflict("Operation cannot be fulfilled on deployments.apps \"web\": the object has been "
                     "modified; please apply your changes to the latest version and try again"));

  // Without a resourceVersion the update is unconditional.
  change.mutable_metadata()->clear_resourceversion();
  Result<ObjectPtr> v3 = api_.Update(Deployments(), "shop", change);
  ASSERT_TRUE(v3.ok());
  EXPECT_EQ(Meta(*v3).resourceversion(), "4");

  // A label change keeps the generation; an update that changes nothing writes nothing.
  appsv1::Deployment labelled = static_cast<const appsv1::Deployment&>(**v3);
  (*labelled.mutable_metadata()->mutable_labels())["tier"] = "front";
  Result<ObjectPtr> v4 = api_.Update(Deployments(), "shop", labelled);
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(Meta(*v4).generation(), 3);
  Result<ObjectPtr> same = api_.Update(Deployments(), "shop", static_cast<const appsv1::Deployment&>(**v4));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->get(), v4->get());
  EXPECT_EQ(api_.revision(), 5);

  appsv1::Deployment ghost = MakeDeployment("ghost").Namespace("shop").Obj();
  EXPECT_EQ(api_.Update(Deployments(), "shop", ghost).status().code(), Code::kNotFound);
}

TEST_F(FakeApiTest, StatusAndScaleSubresources) {
  ObjectPtr v1 = MustCreate(Deployments(), "shop",
                            MakeDeployment("web").Namespace("shop").Replicas(2).Label("app", "web").Obj());
  appsv1::Deployment with_status = static_cast<const appsv1::Deployment&>(*v1);
  with_status.mutable_status()->set_replicas(2);
  // The main resource ignores status ...
  Result<ObjectPtr> main = api_.Update(Deployments(), "shop", with_status);
  ASSERT_TRUE(main.ok());
  EXPECT_EQ(main->get(), v1.get());
  // ... and /status writes only status.
  with_status.mutable_spec()->set_replicas(9);
  Result<ObjectPtr> status = api_.Update(Deployments(), "shop", with_status, "status");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  const auto& d = static_cast<const appsv1::Deployment&>(**status);
  EXPECT_EQ(d.status().replicas(), 2);
  EXPECT_EQ(d.spec().replicas(), 2);
  EXPECT_EQ(d.metadata().generation(), 1);

  k8s::io::api::autoscaling::v1::Scale scale;
  scale.mutable_metadata()->set_name("web");
  scale.mutable_spec()->set_replicas(5);
  Result<ObjectPtr> scaled = api_.Update(Deployments(), "shop", scale, "scale");
  ASSERT_TRUE(scaled.ok()) << scaled.status().ToString();
  const auto& s = static_cast<const k8s::io::api::autoscaling::v1::Scale&>(**scaled);
  EXPECT_EQ(s.spec().replicas(), 5);
  EXPECT_EQ(s.status().replicas(), 2);
  Result<ObjectPtr> after = api_.Get(Deployments(), "shop", "web");
  EXPECT_EQ(static_cast<const appsv1::Deployment&>(**after).spec().replicas(), 5);
  EXPECT_EQ(s.metadata().resourceversion(), Meta(*after).resourceversion());
}

TEST_F(FakeApiTest, ListSelectsByLabelsFieldsAndNamespace) {
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Label("app", "web").Node("n1").Obj());
  MustCreate(Pods(), "shop", MakePod("b").Namespace("shop").Label("app", "db").Node("n2").Obj());
  MustCreate(Pods(), "shop", MakePod("c").Namespace("shop").Label("app", "web").Obj());
  MustCreate(Pods(), "blog", MakePod("d").Namespace("blog").Label("app", "web").Node("n1").Obj());

  auto names = [](const ObjectList& l) {
    std::vector<std::string> out;
    for (const ObjectPtr& o : l.items) out.push_back(Meta(o).namespace_() + "/" + Meta(o).name());
    return out;
  };
  Result<ObjectList> all = api_.List(Pods(), "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(names(*all), (std::vector<std::string>{"blog/d", "shop/a", "shop/b", "shop/c"}));
  EXPECT_EQ(all->resource_version, "5");
  EXPECT_TRUE(all->continue_token.empty());

  Result<ObjectList> web = api_.List(Pods(), "shop", ListOptions{.label_selector = "app=web"});
  EXPECT_EQ(names(*web), (std::vector<std::string>{"shop/a", "shop/c"}));
  Result<ObjectList> on_n1 = api_.List(Pods(), "", ListOptions{.field_selector = "spec.nodeName=n1"});
  EXPECT_EQ(names(*on_n1), (std::vector<std::string>{"blog/d", "shop/a"}));
  Result<ObjectList> unbound = api_.List(Pods(), "", ListOptions{.field_selector = "spec.nodeName="});
  EXPECT_EQ(names(*unbound), (std::vector<std::string>{"shop/c"}));
  Result<ObjectList> by_name =
      api_.List(Pods(), "", ListOptions{.field_selector = "metadata.name=b,metadata.namespace=shop"});
  EXPECT_EQ(names(*by_name), (std::vector<std::string>{"shop/b"}));

  EXPECT_EQ(api_.List(Pods(), "", ListOptions{.field_selector = "spec.bogus=1"}).status(),
            BadRequest("field label not supported: spec.bogus"));
  EXPECT_EQ(api_.List(Pods(), "", ListOptions{.label_selector = "app in ("}).status().code(),
            Code::kBadRequest);
  EXPECT_EQ(api_.List(Pods(), "", ListOptions{.resource_version = "99"}).status().code(), Code::kTimeout);

  Result<ObjectList> meta = api_.List(Pods(), "blog", ListOptions{.metadata_only = true});
  ASSERT_EQ(meta->items.size(), 1u);
  EXPECT_EQ(meta->items[0]->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  EXPECT_EQ(Meta(meta->items[0]).name(), "d");
}

TEST_F(FakeApiTest, PagesAreAConsistentSnapshotUntilCompaction) {
  for (const char* n : {"p1", "p2", "p3", "p4", "p5"})
    MustCreate(Pods(), "shop", MakePod(n).Namespace("shop").Obj());
  Result<ObjectList> page1 = api_.List(Pods(), "shop", ListOptions{.limit = 2});
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->items.size(), 2u);
  EXPECT_EQ(Meta(page1->items[1]).name(), "p2");
  ASSERT_FALSE(page1->continue_token.empty());

  // Writes after the first page do not show in the later pages.
  ASSERT_TRUE(api_.Delete(Pods(), "shop", "p3").ok());
  MustCreate(Pods(), "shop", MakePod("p6").Namespace("shop").Obj());
  Result<ObjectList> page2 =
      api_.List(Pods(), "shop", ListOptions{.limit = 2, .continue_token = page1->continue_token});
  ASSERT_TRUE(page2.ok()) << page2.status().ToString();
  ASSERT_EQ(page2->items.size(), 2u);
  EXPECT_EQ(Meta(page2->items[0]).name(), "p3");
  EXPECT_EQ(Meta(page2->items[1]).name(), "p4");
  EXPECT_EQ(page2->resource_version, page1->resource_version);
  Result<ObjectList> page3 =
      api_.List(Pods(), "shop", ListOptions{.limit = 2, .continue_token = page2->continue_token});
  ASSERT_EQ(page3->items.size(), 1u);
  EXPECT_EQ(Meta(page3->items[0]).name(), "p5");
  EXPECT_TRUE(page3->continue_token.empty());

  // Once the revision is compacted, the token expires with 410.
  Result<ObjectList> again = api_.List(Pods(), "shop", ListOptions{.limit = 2});
  api_.CompactHistory();
  Result<ObjectList> expired =
      api_.List(Pods(), "shop", ListOptions{.limit = 2, .continue_token = again->continue_token});
  EXPECT_EQ(expired.status().code(), Code::kGone);
  EXPECT_EQ(api_.List(Pods(), "shop", ListOptions{.continue_token = "!!"}).status().code(),
            Code::kBadRequest);
}

TEST_F(FakeApiTest, WatchFromZeroSendsStateThenLiveEvents) {
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Label("app", "web").Obj());
  auto w = MustWatch(Pods(), "shop", ListOptions{.label_selector = "app=web", .allow_watch_bookmarks = true});
  WatchEvent first = NextEvent(*w);
  EXPECT_EQ(first.type, Type::kAdded);
  EXPECT_EQ(Meta(first.object).name(), "a");

  MustCreate(Pods(), "shop", MakePod("b").Namespace("shop").Label("app", "db").Obj());     // not selected
  MustCreate(Pods(), "other", MakePod("c").Namespace("other").Label("app", "web").Obj());  // other namespace
  ObjectPtr b = *api_.Get(Pods(), "shop", "b");
  corev1::Pod moved = AsPod(b);
  (*moved.mutable_metadata()->mutable_labels())["app"] = "web";
  ASSERT_TRUE(api_.Update(Pods(), "shop", moved).ok());  // enters the selection: ADDED
  WatchEvent entered = NextEvent(*w);
  EXPECT_EQ(entered.type, Type::kAdded);
  EXPECT_EQ(Meta(entered.object).name(), "b");
  EXPECT_EQ(Meta(entered.object).resourceversion(), "5");

  corev1::Pod left = AsPod(entered.object);
  (*left.mutable_metadata()->mutable_labels())["app"] = "cache";
  ASSERT_TRUE(api_.Update(Pods(), "shop", left).ok());  // leaves it: DELETED of the previous state
  WatchEvent gone = NextEvent(*w);
  EXPECT_EQ(gone.type, Type::kDeleted);
  EXPECT_EQ(Meta(gone.object).labels().at("app"), "web");
  EXPECT_EQ(Meta(gone.object).resourceversion(), "6");
  ExpectIdle(*w);
}

TEST_F(FakeApiTest, WatchFromResourceVersionReplaysHistory) {
  ObjectPtr a = MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Obj());
  std::string rv = Meta(a).resourceversion();
  corev1::Pod changed = AsPod(a);
  changed.mutable_spec()->set_nodename("n1");
  ASSERT_TRUE(api_.Update(Pods(), "shop", changed).ok());
  MustCreate(Nodes(), "", MakeNode("n1").Obj());  // another resource: not in this watch
  ASSERT_TRUE(api_.Delete(Pods(), "shop", "a", DeleteOptions{.grace_period_seconds = 0}).ok());

  auto w = MustWatch(Pods(), "", ListOptions{.resource_version = rv, .allow_watch_bookmarks = true});
  WatchEvent e1 = NextEvent(*w);
  EXPECT_EQ(e1.type, Type::kModified);
  EXPECT_EQ(Meta(e1.object).resourceversion(), "3");
  WatchEvent e2 = NextEvent(*w);
  EXPECT_EQ(e2.type, Type::kDeleted);
  EXPECT_EQ(Meta(e2.object).resourceversion(), "5");
  ExpectIdle(*w);

  // Live events follow the replay.
  MustCreate(Pods(), "shop", MakePod("b").Namespace("shop").Obj());
  EXPECT_EQ(NextEvent(*w).type, Type::kAdded);
}

TEST_F(FakeApiTest, WatchOlderThanTheHistoryWindowIsGone) {
  api_.SetHistoryWindow(2);
  for (const char* n : {"a", "b", "c", "d"}) MustCreate(Pods(), "shop", MakePod(n).Namespace("shop").Obj());
  // Revisions 4 and 5 are kept: a watch from 3 still works, from 2 it does not.
  auto ok = MustWatch(Pods(), "", ListOptions{.resource_version = "3"});
  EXPECT_EQ(Meta(NextEvent(*ok).object).name(), "c");
  auto old = MustWatch(Pods(), "", ListOptions{.resource_version = "2"});
  auto e = old->Next();
  EXPECT_EQ(e.status(), Gone("too old resource version: 2 (4)"));

  api_.CompactHistory();
  auto compacted = MustWatch(Pods(), "", ListOptions{.resource_version = "4"});
  EXPECT_EQ(compacted->Next().status().code(), Code::kGone);
  auto current = MustWatch(Pods(), "", ListOptions{.resource_version = "5", .allow_watch_bookmarks = true});
  ExpectIdle(*current);
}

TEST_F(FakeApiTest, BookmarksOnlyForWatchesThatAskForThem) {
  auto with = MustWatch(Nodes(), "", ListOptions{.resource_version = "0", .allow_watch_bookmarks = true});
  auto without = MustWatch(Nodes(), "", ListOptions{.resource_version = "0"});
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Obj());
  api_.SendBookmarks();
  WatchEvent b = NextEvent(*with);
  EXPECT_EQ(b.type, Type::kBookmark);
  EXPECT_EQ(b.object->GetDescriptor(), corev1::Node::descriptor());
  EXPECT_EQ(Meta(b.object).resourceversion(), "2");
  MustCreate(Nodes(), "", MakeNode("n1").Obj());
  EXPECT_EQ(NextEvent(*without).type, Type::kAdded);  // no bookmark queued before it
}

TEST_F(FakeApiTest, DropWatchesBreaksEveryOpenWatch) {
  auto w1 = MustWatch(Pods(), "", ListOptions{});
  auto w2 = MustWatch(Nodes(), "", ListOptions{});
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Obj());
  EXPECT_EQ(api_.open_watches(), 2);
  api_.DropWatches();
  EXPECT_EQ(api_.open_watches(), 0);
  EXPECT_EQ(w1->Next().status().code(), Code::kUnavailable);  // the queued ADDED is lost
  EXPECT_EQ(w2->Next().status().code(), Code::kUnavailable);
}

TEST_F(FakeApiTest, WatchTimesOutOnTheClockAndStopUnblocks) {
  auto timed = MustWatch(Pods(), "", ListOptions{.timeout_seconds = 5});
  auto ended = std::async(std::launch::async, [&] { return timed->Next(); });
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  clock_.Advance(std::chrono::seconds(4));
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Obj());
  auto first = ended.get();
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->has_value());  // the event arrives before the timeout
  auto rest = std::async(std::launch::async, [&] { return timed->Next(); });
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  clock_.Advance(std::chrono::seconds(1));
  auto end = rest.get();
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());

  auto forever = MustWatch(Pods(), "", ListOptions{.resource_version = std::to_string(api_.revision())});
  auto stopped = std::async(std::launch::async, [&] { return forever->Next(); });
  ASSERT_TRUE(WaitFor([&] { return clock_.sleepers() == 1; }));
  forever->Stop();
  EXPECT_EQ(stopped.get().status(), Unavailable("stopped"));
}

TEST_F(FakeApiTest, FinalizersKeepADeletedObjectUntilRemoved) {
  corev1::Pod p = MakePod("a").Namespace("shop").Obj();
  p.mutable_metadata()->add_finalizers("example.com/hold");
  MustCreate(Pods(), "shop", p);
  auto w = MustWatch(Pods(), "", ListOptions{.resource_version = std::to_string(api_.revision()), .allow_watch_bookmarks = true});
  clock_.Advance(std::chrono::seconds(3));
  Result<ObjectPtr> terminating = api_.Delete(Pods(), "shop", "a");
  ASSERT_TRUE(terminating.ok());
  EXPECT_TRUE(Meta(*terminating).has_deletiontimestamp());
  EXPECT_EQ(api::WallTimeOf(Meta(*terminating).deletiontimestamp()), clock_.Now());
  WatchEvent modified = NextEvent(*w);
  EXPECT_EQ(modified.type, Type::kModified);
  // Deleting again changes nothing.
  Result<ObjectPtr> again = api_.Delete(Pods(), "shop", "a");
  EXPECT_EQ(again->get(), terminating->get());

  corev1::Pod release = AsPod(*terminating);
  release.mutable_metadata()->clear_finalizers();
  ASSERT_TRUE(api_.Update(Pods(), "shop", release).ok());
  EXPECT_EQ(NextEvent(*w).type, Type::kDeleted);
  EXPECT_EQ(api_.Get(Pods(), "shop", "a").status().code(), Code::kNotFound);
  ExpectIdle(*w);
}

TEST_F(FakeApiTest, BoundPodsDeleteGracefully) {
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Node("n1").Obj());
  Result<ObjectPtr> graceful = api_.Delete(Pods(), "shop", "a");
  ASSERT_TRUE(graceful.ok());
  EXPECT_EQ(Meta(*graceful).deletiongraceperiodseconds(), 30);
  EXPECT_EQ(api::WallTimeOf(Meta(*graceful).deletiontimestamp()), clock_.Now() + std::chrono::seconds(30));
  ASSERT_TRUE(api_.Get(Pods(), "shop", "a").ok());
  // The kubelet's final delete.
  ASSERT_TRUE(api_.Delete(Pods(), "shop", "a", DeleteOptions{.grace_period_seconds = 0}).ok());
  EXPECT_EQ(api_.Get(Pods(), "shop", "a").status().code(), Code::kNotFound);

  MustCreate(Pods(), "shop", MakePod("b").Namespace("shop").Obj());  // unscheduled: goes at once
  ASSERT_TRUE(api_.Delete(Pods(), "shop", "b").ok());
  EXPECT_EQ(api_.Get(Pods(), "shop", "b").status().code(), Code::kNotFound);

  ObjectPtr c = MustCreate(Pods(), "shop", MakePod("c").Namespace("shop").Obj());
  EXPECT_EQ(api_.Delete(Pods(), "shop", "c", DeleteOptions{.precondition_uid = "other"}).status().code(),
            Code::kConflict);
  EXPECT_EQ(
      api_.Delete(Pods(), "shop", "c", DeleteOptions{.precondition_resource_version = "1"}).status().code(),
      Code::kConflict);
  EXPECT_TRUE(api_.Delete(Pods(), "shop", "c", DeleteOptions{.precondition_uid = Meta(c).uid()}).ok());
  EXPECT_EQ(api_.Delete(Pods(), "shop", "c").status(), NotFound("pods \"c\" not found"));
}

TEST_F(FakeApiTest, PatchAppliesAsTheServerDoes) {
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Label("app", "web").Obj());
  Result<ObjectPtr> merged = api_.Patch(Pods(), "shop", "a", PatchType::kMerge,
                                        R"({"metadata":{"labels":{"tier":"front","app":null}}})");
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_EQ(Meta(*merged).labels().size(), 1u);
  EXPECT_EQ(Meta(*merged).labels().at("tier"), "front");
  EXPECT_EQ(Meta(*merged).resourceversion(), "3");

  Result<ObjectPtr> strategic = api_.Patch(Pods(), "shop", "a", PatchType::kStrategicMerge,
                                           R"({"spec":{"containers":[{"name":"main","image":"img:2"}]}})");
  ASSERT_TRUE(strategic.ok()) << strategic.status().ToString();
  EXPECT_EQ(AsPod(*strategic).spec().containers(0).image(), "img:2");

  Result<ObjectPtr> json = api_.Patch(Pods(), "shop", "a", PatchType::kJson,
                                      R"([{"op":"replace","path":"/spec/nodeName","value":"n1"}])");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ(AsPod(*json).spec().nodename(), "n1");

  // A resourceVersion in the body is a precondition.
  Result<ObjectPtr> stale = api_.Patch(Pods(), "shop", "a", PatchType::kMerge,
                                       R"({"metadata":{"resourceVersion":"1","labels":{"x":"y"}}})");
  EXPECT_EQ(stale.status().code(), Code::kConflict);
  EXPECT_EQ(api_.Patch(Pods(), "shop", "zz", PatchType::kMerge, "{}").status().code(), Code::kNotFound);

  Result<ObjectPtr> status =
      api_.Patch(Pods(), "shop", "a", PatchType::kMerge, R"({"status":{"phase":"Running"}})", "status");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(AsPod(*status).status().phase(), "Running");

  Result<ObjectPtr> applied =
      api_.Patch(Pods(), "shop", "new", PatchType::kApply, R"({"metadata":{"labels":{"a":"b"}}})");
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(Meta(*applied).name(), "new");
}

TEST_F(FakeApiTest, BindingAndEviction) {
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Obj());
  // A kubelet's watch: pods bound to its node.
  auto kubelet =
      MustWatch(Pods(), "", ListOptions{.field_selector = "spec.nodeName=n1", .resource_version = "0"});
  corev1::Binding binding;
  binding.mutable_metadata()->set_name("a");
  binding.mutable_target()->set_name("n1");
  Result<ObjectPtr> bound = api_.CreateSubresource(Pods(), "shop", "a", "binding", binding);
  ASSERT_TRUE(bound.ok()) << bound.status().ToString();
  EXPECT_EQ(static_cast<const metav1::Status&>(**bound).status(), "Success");
  ObjectPtr pod = *api_.Get(Pods(), "shop", "a");
  EXPECT_EQ(AsPod(pod).spec().nodename(), "n1");
  EXPECT_EQ(AsPod(pod).status().conditions(0).type(), "PodScheduled");
  WatchEvent bound_event = NextEvent(*kubelet);
  EXPECT_EQ(bound_event.type, Type::kAdded);
  EXPECT_EQ(bound_event.object.get(), pod.get());
  binding.mutable_target()->set_name("n2");
  EXPECT_EQ(api_.CreateSubresource(Pods(), "shop", "a", "binding", binding).status(),
            Conflict("pod a is already assigned to node \"n1\""));

  ASSERT_TRUE(
      api_.CreateSubresource(Pods(), "shop", "a", "eviction", k8s::io::api::policy::v1::Eviction()).ok());
  EXPECT_TRUE(Meta(*api_.Get(Pods(), "shop", "a")).has_deletiontimestamp());
}

TEST_F(FakeApiTest, FailuresCountersAndHook) {
  std::vector<FakeApi::Request> seen;
  api_.SetRequestHook([&](const FakeApi::Request& r) {
    seen.push_back(r);
    return r.name == "blocked" ? Status(Forbidden("no")) : Status::Ok();
  });
  api_.FailNext(FakeApi::Verb::kCreate, Unavailable("etcd down"), 2);
  api_.FailNext(FakeApi::Verb::kGet, TooManyRequests("slow down"), 1, "nodes");
  EXPECT_EQ(api_.Create(Pods(), "shop", MakePod("a").Namespace("shop").Obj()).status(),
            Unavailable("etcd down"));
  EXPECT_EQ(api_.Create(Pods(), "shop", MakePod("a").Namespace("shop").Obj()).status(),
            Unavailable("etcd down"));
  ASSERT_TRUE(api_.Create(Pods(), "shop", MakePod("a").Namespace("shop").Obj()).ok());
  EXPECT_EQ(api_.Get(Pods(), "shop", "a").status().code(), Code::kOk);  // the failure is for nodes
  EXPECT_EQ(api_.Get(Nodes(), "", "n").status().code(), Code::kTooManyRequests);
  EXPECT_EQ(api_.Get(Nodes(), "", "n").status().code(), Code::kNotFound);
  EXPECT_EQ(api_.Get(Pods(), "shop", "blocked").status(), Forbidden("no"));

  EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreate), 3);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kGet), 4);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kGet, "nodes"), 2);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kList), 0);
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[0].verb, FakeApi::Verb::kCreate);
  EXPECT_EQ(seen[0].resource, "pods");
  EXPECT_EQ(seen[0].ns, "shop");
  EXPECT_EQ(seen[0].name, "a");
  api_.ResetCalls();
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreate), 0);
  api_.SetRequestHook(nullptr);

  api_.FailNext(FakeApi::Verb::kWatch, Gone("too old"));
  EXPECT_EQ(api_.Watch(Pods(), "", ListOptions{}).status().code(), Code::kGone);
}

TEST_F(FakeApiTest, MetadataOnlyAndDeleteCollection) {
  MustCreate(Pods(), "shop", MakePod("a").Namespace("shop").Label("app", "web").Obj());
  MustCreate(Pods(), "shop", MakePod("b").Namespace("shop").Label("app", "db").Obj());
  Result<ObjectPtr> partial = api_.Get(Pods(), "shop", "a", GetOptions{.metadata_only = true});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ((*partial)->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  EXPECT_EQ(Meta(*partial).labels().at("app"), "web");

  auto w = MustWatch(Pods(), "shop", ListOptions{.resource_version = "3", .metadata_only = true});
  ASSERT_TRUE(api_.DeleteCollection(Pods(), "shop", ListOptions{.label_selector = "app=web"}).ok());
  WatchEvent e = NextEvent(*w);
  EXPECT_EQ(e.type, Type::kDeleted);
  EXPECT_EQ(e.object->GetDescriptor(), metav1::PartialObjectMetadata::descriptor());
  EXPECT_EQ(Meta(e.object).name(), "a");
  EXPECT_EQ(api_.Objects(Pods()).size(), 1u);
}

TEST_F(FakeApiTest, ConcurrentWritersGetDistinctRevisionsAndWatchSeesAll) {
  auto w = MustWatch(Pods(), "", ListOptions{.resource_version = "0"});
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        EXPECT_TRUE(
            api_.Create(Pods(), "ns",
                        MakePod("p" + std::to_string(t) + "-" + std::to_string(i)).Namespace("ns").Obj())
                .ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  int64_t last = 1;  // the revision before the first write
  for (int i = 0; i < kThreads * kEach; ++i) {
    WatchEvent e = NextEvent(*w);
    int64_t rv = std::stoll(Meta(e.object).resourceversion());
    EXPECT_EQ(rv, last + 1);  // in revision order, none missing
    last = rv;
  }
  EXPECT_EQ(api_.revision(), 1 + kThreads * kEach);
}

}  // namespace
}  // namespace ck::client
