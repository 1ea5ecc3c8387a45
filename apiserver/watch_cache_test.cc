#include "apiserver/watch_cache.h"

#include <gtest/gtest.h>

#include <mutex>

#include "common/api/proto/core_v1.pb.h"
#include "store/memory_store.h"
#include "tests/testutil/testutil.h"

namespace ck::apiserver {
namespace {

using namespace std::chrono_literals;
namespace corev1 = k8s::io::api::core::v1;

const ResourceInfo& Pods() { return *FindResource("", "v1", "pods"); }
const ResourceInfo& ConfigMaps() { return *FindResource("", "v1", "configmaps"); }

std::string PodBytes(const std::string& ns, const std::string& name, const std::string& app) {
  corev1::Pod pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_(ns);
  (*pod.mutable_metadata()->mutable_labels())["app"] = app;
  return EncodeForStorage(pod);
}

int64_t PutPod(store::Store& s, const std::string& ns, const std::string& name, const std::string& app = "web") {
  return *s.Put(StorageKey(Pods(), ns, name), PodBytes(ns, name, app));
}

struct Recorder {
  std::mutex mu;
  std::vector<std::string> events;  // "ADDED ns/name@rev"
  WatchSink Sink() {
    return [this](const CacheEvent& e) {
      std::lock_guard lock(mu);
      if (e.type == WatchEventType::kBookmark) {
        events.push_back("BOOKMARK@" + std::to_string(e.revision));
      } else {
        auto obj = e.object->object();
        events.push_back(std::string(WatchEventTypeName(e.type)) + " " + MetaOf(*obj).namespace_() + "/" +
                         MetaOf(*obj).name() + "@" + MetaOf(*obj).resourceversion());
      }
      return true;
    };
  }
  std::vector<std::string> Get() {
    std::lock_guard lock(mu);
    return events;
  }
};

TEST(WatchCacheTest, StartLoadsExistingObjectsAndFollowsWrites) {
  auto s = store::NewMemoryStore();
  PutPod(*s, "default", "a");
  PutPod(*s, "kube-system", "b");
  ASSERT_TRUE(s->Put(StorageKey(ConfigMaps(), "default", "c"), corev1::ConfigMap().SerializeAsString()).ok());
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.revision(), 3);
  int64_t rev = PutPod(*s, "default", "d");
  ASSERT_TRUE(cache.WaitFor(rev, 5s).ok());
  auto all = cache.List("/registry/pods/", nullptr);
  ASSERT_EQ(all.objects.size(), 3u);
  EXPECT_EQ(MetaOf(*all.objects[0]->object()).name(), "a");
  EXPECT_EQ(MetaOf(*all.objects[1]->object()).name(), "d");
  EXPECT_EQ(MetaOf(*all.objects[2]->object()).namespace_(), "kube-system");
  EXPECT_EQ(MetaOf(*all.objects[1]->object()).resourceversion(), std::to_string(rev));
  auto ns = cache.List("/registry/pods/default/", nullptr);
  EXPECT_EQ(ns.objects.size(), 2u);
  EXPECT_NE(cache.Get("/registry/pods/default/a"), nullptr);
  EXPECT_EQ(cache.Get("/registry/pods/default/zz"), nullptr);
}

// The cache holds the store's own bytes of each object, loaded or written, not a copy.
TEST(WatchCacheTest, ObjectsShareTheStoresBytes) {
  auto s = store::NewMemoryStore();
  PutPod(*s, "default", "loaded");
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  int64_t rev = PutPod(*s, "default", "written");
  ASSERT_TRUE(cache.WaitFor(rev, 5s).ok());
  for (const char* key : {"/registry/pods/default/loaded", "/registry/pods/default/written"}) {
    auto kv = s->Get(key);
    ASSERT_TRUE(kv.ok()) << key;
    ASSERT_NE(cache.Get(key), nullptr) << key;
    EXPECT_EQ(cache.Get(key)->stored().get(), kv->value.shared().get()) << key;
  }
}

TEST(WatchCacheTest, ListPagination) {
  auto s = store::NewMemoryStore();
  for (int i = 0; i < 10; ++i) PutPod(*s, "default", "p" + std::to_string(i));
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  auto page1 = cache.List("/registry/pods/", nullptr, 4);
  ASSERT_EQ(page1.objects.size(), 4u);
  EXPECT_TRUE(page1.more);
  EXPECT_EQ(page1.remaining, 6);
  auto page2 = cache.List("/registry/pods/", nullptr, 4, page1.objects.back()->key());
  ASSERT_EQ(page2.objects.size(), 4u);
  EXPECT_EQ(MetaOf(*page2.objects.front()->object()).name(), "p4");
  auto page3 = cache.List("/registry/pods/", nullptr, 4, page2.objects.back()->key());
  EXPECT_EQ(page3.objects.size(), 2u);
  EXPECT_FALSE(page3.more);
}

TEST(WatchCacheTest, WatchResumesFromRevisionWithoutGapsOrDuplicates) {
  auto s = store::NewMemoryStore();
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  int64_t r1 = PutPod(*s, "default", "a");
  int64_t r2 = PutPod(*s, "default", "b");
  ASSERT_TRUE(cache.WaitFor(r2, 5s).ok());
  Recorder rec;
  CacheWatchOptions o;
  o.prefix = "/registry/pods/";
  o.from_revision = r1;
  auto w = cache.Watch(o, rec.Sink());
  ASSERT_TRUE(w.ok());
  int64_t r3 = PutPod(*s, "default", "a", "api");
  auto r4 = *s->Delete(StorageKey(Pods(), "default", "b"));
  ASSERT_TRUE(cache.WaitFor(r4, 5s).ok());
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"ADDED default/b@" + std::to_string(r2),
                                                 "MODIFIED default/a@" + std::to_string(r3),
                                                 "DELETED default/b@" + std::to_string(r4)}));
}

TEST(WatchCacheTest, InitialStateThenLiveEvents) {
  auto s = store::NewMemoryStore();
  PutPod(*s, "default", "a");
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  Recorder rec;
  CacheWatchOptions o;
  o.prefix = "/registry/pods/default/";
  o.send_initial = true;
  auto w = cache.Watch(o, rec.Sink());
  ASSERT_TRUE(w.ok());
  int64_t r = PutPod(*s, "default", "b");
  PutPod(*s, "other", "c");  // outside the prefix
  ASSERT_TRUE(cache.WaitFor(r + 1, 5s).ok());
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"ADDED default/a@1", "ADDED default/b@2"}));
}

TEST(WatchCacheTest, FilterTurnsSelectorChangesIntoAddedAndDeleted) {
  auto s = store::NewMemoryStore();
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  Recorder rec;
  CacheWatchOptions o;
  o.prefix = "/registry/pods/";
  o.filter = [](const CachedObject& obj) {
    return obj.labels() == CachedObject::Labels{{"app", "web"}};
  };
  auto w = cache.Watch(o, rec.Sink());
  ASSERT_TRUE(w.ok());
  PutPod(*s, "default", "a", "db");   // never matches: nothing
  PutPod(*s, "default", "a", "web");  // starts matching: ADDED
  PutPod(*s, "default", "a", "web");  // still matches: MODIFIED
  int64_t r = PutPod(*s, "default", "a", "db");  // stops matching: DELETED
  ASSERT_TRUE(cache.WaitFor(r, 5s).ok());
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"ADDED default/a@2", "MODIFIED default/a@3", "DELETED default/a@4"}));
}

// The history keeps the store's bytes only: a watch that resumes from it sees the same events,
// selector transitions included, as a watch that was open while they happened.
TEST(WatchCacheTest, ResumedFilteredWatchReplaysTransitionsFromTheHistory) {
  auto s = store::NewMemoryStore();
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  int64_t r0 = PutPod(*s, "default", "b", "web");  // before the resume point
  PutPod(*s, "default", "a", "db");
  PutPod(*s, "default", "a", "web");
  PutPod(*s, "other", "c", "web");  // outside the prefix
  PutPod(*s, "default", "a", "web");
  PutPod(*s, "default", "a", "db");
  PutPod(*s, "default", "b", "web");
  int64_t last = *s->Delete(StorageKey(Pods(), "default", "b"));
  ASSERT_TRUE(cache.WaitFor(last, 5s).ok());
  Recorder rec;
  std::vector<std::string> deleted_labels;
  CacheWatchOptions o;
  o.prefix = "/registry/pods/default/";
  o.from_revision = r0;
  o.filter = [](const CachedObject& obj) {
    return obj.labels() == CachedObject::Labels{{"app", "web"}};
  };
  WatchSink record = rec.Sink();
  auto w = cache.Watch(o, [&](const CacheEvent& e) {
    if (e.type == WatchEventType::kDeleted) deleted_labels.push_back(MetaOf(*e.object->object()).labels().at("app"));
    return record(e);
  });
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(rec.Get(), (std::vector<std::string>{"ADDED default/a@3", "MODIFIED default/a@5", "DELETED default/a@6",
                                                 "MODIFIED default/b@7", "DELETED default/b@8"}));
  // A deleted object is its last state, at the deleting revision.
  EXPECT_EQ(deleted_labels, (std::vector<std::string>{"db", "web"}));
}

TEST(WatchCacheTest, TooOldRevisionIsGone) {
  auto s = store::NewMemoryStore();
  WatchCacheOptions opts;
  opts.history_events = 5;
  WatchCache cache(s.get(), opts);
  ASSERT_TRUE(cache.Start().ok());
  int64_t last = 0;
  for (int i = 0; i < 20; ++i) last = PutPod(*s, "default", "p" + std::to_string(i));
  ASSERT_TRUE(cache.WaitFor(last, 5s).ok());
  CacheWatchOptions o;
  o.prefix = "/registry/pods/";
  o.from_revision = 3;
  auto w = cache.Watch(o, [](const CacheEvent&) { return true; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), Code::kGone);
  EXPECT_EQ(w.status().message(), "too old resource version: 3 (16)");
  o.from_revision = last - 2;
  Recorder rec;
  auto ok = cache.Watch(o, rec.Sink());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(rec.Get().size(), 2u);
}

TEST(WatchCacheTest, HistoryKeepsOnlyFreshEventsAboveItsMinimum) {
  auto s = store::NewMemoryStore();
  FakeClock clock;
  WatchCacheOptions opts;
  opts.clock = &clock;
  opts.min_history_events = 3;
  opts.event_fresh_duration = 75s;
  WatchCache cache(s.get(), opts);
  ASSERT_TRUE(cache.Start().ok());
  std::vector<int64_t> revs;
  for (int i = 0; i < 5; ++i) revs.push_back(PutPod(*s, "default", "p" + std::to_string(i)));
  ASSERT_TRUE(cache.WaitFor(revs.back(), 5s).ok());
  // Within the fresh duration nothing is dropped.
  EXPECT_LT(cache.oldest_resumable_revision(), revs.front());
  clock.Advance(76s);
  revs.push_back(PutPod(*s, "default", "p5"));
  ASSERT_TRUE(cache.WaitFor(revs.back(), 5s).ok());
  // Stale events went, down to the minimum of 3 (p3, p4 and the fresh p5).
  EXPECT_EQ(cache.oldest_resumable_revision(), revs[2]);
  CacheWatchOptions o;
  o.prefix = "/registry/pods/";
  o.from_revision = revs[1];
  auto gone = cache.Watch(o, [](const CacheEvent&) { return true; });
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), Code::kGone);
  o.from_revision = revs[2];
  Recorder rec;
  auto ok = cache.Watch(o, rec.Sink());
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(rec.Get().size(), 3u);
}

TEST(WatchCacheTest, SinkReturningFalseEndsTheWatch) {
  auto s = store::NewMemoryStore();
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  int calls = 0;
  CacheWatchOptions o;
  o.prefix = "/registry/";
  auto w = cache.Watch(o, [&](const CacheEvent&) {
    ++calls;
    return false;
  });
  ASSERT_TRUE(w.ok());
  PutPod(*s, "default", "a");
  int64_t r = PutPod(*s, "default", "b");
  ASSERT_TRUE(cache.WaitFor(r, 5s).ok());
  EXPECT_EQ(calls, 1);
}

TEST(WatchCacheTest, BookmarksCarryTheCurrentRevision) {
  auto s = store::NewMemoryStore();
  WatchCacheOptions opts;
  opts.bookmark_interval = 20ms;
  WatchCache cache(s.get(), opts);
  ASSERT_TRUE(cache.Start().ok());
  int64_t r = PutPod(*s, "default", "a");
  ASSERT_TRUE(cache.WaitFor(r, 5s).ok());
  Recorder rec;
  CacheWatchOptions o;
  o.prefix = "/registry/configmaps/";
  o.from_revision = r;
  o.bookmarks = true;
  auto w = cache.Watch(o, rec.Sink());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(testutil::WaitUntil([&] { return !rec.Get().empty(); }, 5s));
  EXPECT_EQ(rec.Get().front(), "BOOKMARK@" + std::to_string(r));
}

TEST(WatchCacheTest, JsonIsKubernetesJsonWithKind) {
  auto s = store::NewMemoryStore();
  PutPod(*s, "default", "a");
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  auto obj = cache.Get("/registry/pods/default/a");
  ASSERT_NE(obj, nullptr);
  const std::string& json = obj->Json();
  EXPECT_EQ(json.rfind("{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"a\"", 0), 0u) << json;
  EXPECT_NE(json.find("\"resourceVersion\":\"1\""), std::string::npos) << json;
  EXPECT_EQ(&obj->Json(), &json) << "encoded once";
}

// Objects every write reads (namespaces for NamespaceLifecycle, ...) stay decoded; others keep
// only their bytes once nobody holds the decoded object.
TEST(WatchCacheTest, NamespacesStayDecodedWhilePodsKeepOnlyTheirBytes) {
  auto s = store::NewMemoryStore();
  const ResourceInfo& namespaces = *FindResource("", "v1", "namespaces");
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name("team");
  ASSERT_TRUE(s->Put(StorageKey(namespaces, "", "team"), EncodeForStorage(ns)).ok());
  PutPod(*s, "team", "loaded");
  WatchCache cache(s.get());
  ASSERT_TRUE(cache.Start().ok());
  corev1::Namespace other;
  other.mutable_metadata()->set_name("written");
  ASSERT_TRUE(s->Put(StorageKey(namespaces, "", "written"), EncodeForStorage(other)).ok());
  ASSERT_TRUE(cache.WaitFor(PutPod(*s, "team", "written"), 5s).ok());

  for (const char* name : {"team", "written"}) {
    ObjectPtr cached = cache.Get(StorageKey(namespaces, "", name));
    ASSERT_NE(cached, nullptr);
    std::weak_ptr<const Message> decoded = cached->object();  // nobody else holds it
    EXPECT_FALSE(decoded.expired()) << name << ": a namespace stays decoded in the cache";
  }
  for (const char* name : {"loaded", "written"}) {
    ObjectPtr cached = cache.Get(StorageKey(Pods(), "team", name));
    ASSERT_NE(cached, nullptr);
    std::weak_ptr<const Message> decoded = cached->object();
    EXPECT_TRUE(decoded.expired()) << name << ": a pod's decoded copy lives only while someone holds it";
    EXPECT_EQ(MetaOf(*cached->object()).name(), name);
  }
}

}  // namespace
}  // namespace ck::apiserver
