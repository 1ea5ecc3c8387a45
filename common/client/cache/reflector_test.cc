#include "common/client/cache/reflector.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/indexer.h"
#include "common/client/cache/meta.h"
#include "common/client/testing/fake_api.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Resource;
using testing::WaitFor;

ObjectPtr ConfigMap(const std::string& name, int64_t rv) {
  auto cm = std::make_shared<corev1::ConfigMap>();
  cm->mutable_metadata()->set_namespace_("ns");
  cm->mutable_metadata()->set_name(name);
  cm->mutable_metadata()->set_resourceversion(std::to_string(rv));
  return cm;
}

WatchEvent Event(WatchEvent::Type type, const std::string& name, int64_t rv) {
  return WatchEvent{type, ConfigMap(name, rv)};
}

WatchEvent Bookmark(int64_t rv) {
  auto cm = std::make_shared<corev1::ConfigMap>();
  cm->mutable_metadata()->set_resourceversion(std::to_string(rv));
  return WatchEvent{WatchEvent::Type::kBookmark, cm};
}

// ---- A scripted ApiClient: exact list and watch sequences for the reflector ----

// The server side of one scripted watch: steps are handed out in order; with none left, Next()
// blocks until more are pushed or the stream is stopped.
class StreamScript {
 public:
  void PushEvent(WatchEvent e) { Push(Result<std::optional<WatchEvent>>(std::optional<WatchEvent>(std::move(e)))); }
  void PushError(Status s) { Push(Result<std::optional<WatchEvent>>(std::move(s))); }
  void PushEnd() { Push(Result<std::optional<WatchEvent>>(std::optional<WatchEvent>())); }

  Result<std::optional<WatchEvent>> Next() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return stopped_ || !steps_.empty(); });
    if (stopped_) return Unavailable("stopped");
    Result<std::optional<WatchEvent>> step = std::move(steps_.front());
    steps_.pop_front();
    return step;
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stopped_ = true;
    cv_.notify_all();
  }
  bool stopped() {
    std::lock_guard lock(mu_);
    return stopped_;
  }

 private:
  void Push(Result<std::optional<WatchEvent>> step) {
    std::lock_guard lock(mu_);
    steps_.push_back(std::move(step));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<std::optional<WatchEvent>>> steps_;
  bool stopped_ = false;
};

class ScriptedStream final : public WatchStream {
 public:
  explicit ScriptedStream(std::shared_ptr<StreamScript> script) : script_(std::move(script)) {}
  Result<std::optional<WatchEvent>> Next() override { return script_->Next(); }
  void Stop() override { script_->Stop(); }

 private:
  std::shared_ptr<StreamScript> script_;
};

class ScriptedApi final : public ApiClient {
 public:
  // Replies are used in order; an unscripted List fails with Unavailable, an unscripted Watch
  // gets a stream that stays open (and silent) until stopped.
  void ReplyList(Result<ObjectList> reply) {
    std::lock_guard lock(mu_);
    list_replies_.push_back(std::move(reply));
  }
  std::shared_ptr<StreamScript> ReplyWatch() {
    auto script = std::make_shared<StreamScript>();
    std::lock_guard lock(mu_);
    watch_replies_.push_back(script);
    return script;
  }
  void ReplyWatchError(Status s) {
    std::lock_guard lock(mu_);
    watch_replies_.push_back(std::move(s));
  }

  std::vector<ListOptions> lists() {
    std::lock_guard lock(mu_);
    return lists_;
  }
  std::vector<ListOptions> watches() {
    std::lock_guard lock(mu_);
    return watches_;
  }
  size_t list_count() { return lists().size(); }
  size_t watch_count() { return watches().size(); }

  Result<ObjectList> List(const ResourceInfo&, const std::string&, const ListOptions& options) override {
    std::lock_guard lock(mu_);
    lists_.push_back(options);
    if (list_replies_.empty()) return Unavailable("no scripted list reply");
    Result<ObjectList> reply = std::move(list_replies_.front());
    list_replies_.pop_front();
    return reply;
  }
  Result<std::unique_ptr<WatchStream>> Watch(const ResourceInfo&, const std::string&,
                                             const ListOptions& options) override {
    std::lock_guard lock(mu_);
    watches_.push_back(options);
    std::shared_ptr<StreamScript> script;
    if (watch_replies_.empty()) {
      script = std::make_shared<StreamScript>();
      unscripted_.push_back(script);
    } else {
      Result<std::shared_ptr<StreamScript>> reply = std::move(watch_replies_.front());
      watch_replies_.pop_front();
      if (!reply.ok()) return reply.status();
      script = *reply;
    }
    return std::unique_ptr<WatchStream>(std::make_unique<ScriptedStream>(script));
  }

  Result<ObjectPtr> Get(const ResourceInfo&, const std::string&, const std::string&, const GetOptions&) override {
    return Internal("not scripted");
  }
  Result<ObjectPtr> Create(const ResourceInfo&, const std::string&, const google::protobuf::Message&,
                           const WriteOptions&) override {
    return Internal("not scripted");
  }
  Result<ObjectPtr> Update(const ResourceInfo&, const std::string&, const google::protobuf::Message&,
                           const std::string&, const WriteOptions&) override {
    return Internal("not scripted");
  }
  Result<ObjectPtr> Patch(const ResourceInfo&, const std::string&, const std::string&, PatchType, const std::string&,
                          const std::string&, const WriteOptions&) override {
    return Internal("not scripted");
  }
  Result<ObjectPtr> CreateSubresource(const ResourceInfo&, const std::string&, const std::string&,
                                      const std::string&, const google::protobuf::Message&,
                                      const WriteOptions&) override {
    return Internal("not scripted");
  }
  Result<ObjectPtr> Delete(const ResourceInfo&, const std::string&, const std::string&,
                           const DeleteOptions&) override {
    return Internal("not scripted");
  }
  Status DeleteCollection(const ResourceInfo&, const std::string&, const ListOptions&, const DeleteOptions&) override {
    return Internal("not scripted");
  }

 private:
  std::mutex mu_;
  std::deque<Result<ObjectList>> list_replies_;
  std::deque<Result<std::shared_ptr<StreamScript>>> watch_replies_;
  std::vector<std::shared_ptr<StreamScript>> unscripted_;
  std::vector<ListOptions> lists_;
  std::vector<ListOptions> watches_;
};

// Writes down every store call as one line.
class RecordingStore final : public ReflectorStore {
 public:
  void Add(ObjectPtr o) override { Log("add " + KeyOf(o) + " " + ResourceVersionOf(*o)); }
  void Update(ObjectPtr o) override { Log("update " + KeyOf(o) + " " + ResourceVersionOf(*o)); }
  void Delete(ObjectPtr o) override { Log("delete " + KeyOf(o) + " " + ResourceVersionOf(*o)); }
  void Replace(std::vector<ObjectPtr> objects, std::string rv) override {
    std::string line = "replace " + rv + " [";
    for (size_t i = 0; i < objects.size(); ++i) line += (i ? "," : "") + KeyOf(objects[i]);
    Log(line + "]");
  }
  void Bookmark(std::string rv) override { Log("bookmark " + rv); }

  std::vector<std::string> log() {
    std::lock_guard lock(mu_);
    return log_;
  }
  bool WaitForSize(size_t n) {
    return WaitFor([&] { return log().size() >= n; });
  }

 private:
  void Log(std::string line) {
    std::lock_guard lock(mu_);
    log_.push_back(std::move(line));
  }
  std::mutex mu_;
  std::vector<std::string> log_;
};

ObjectList Page(std::vector<ObjectPtr> items, std::string rv, std::string continue_token = "") {
  return ObjectList{std::move(items), std::move(rv), std::move(continue_token)};
}

class ReflectorTest : public ::testing::Test {
 protected:
  const ResourceInfo& configmaps_ = Resource("", "ConfigMap");
  FakeClock clock_;
  testing::ZeroRandom random_;  // backoff without jitter; watch timeout exactly 5 minutes
  ScriptedApi api_;
  RecordingStore store_;
};

TEST_F(ReflectorTest, ListsInPagesThenWatchesFromTheListVersion) {
  api_.ReplyList(Page({ConfigMap("a", 3), ConfigMap("b", 5)}, "10", "token-1"));
  api_.ReplyList(Page({ConfigMap("c", 7)}, "10"));
  auto watch = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();

  ASSERT_TRUE(store_.WaitForSize(1));
  EXPECT_EQ(store_.log()[0], "replace 10 [ns/a,ns/b,ns/c]");
  EXPECT_TRUE(WaitFor([&] { return reflector.HasSynced(); }));
  std::vector<ListOptions> lists = api_.lists();
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(lists[0].limit, 500);
  EXPECT_EQ(lists[0].continue_token, "");
  EXPECT_EQ(lists[0].resource_version, "");  // a consistent read
  EXPECT_EQ(lists[1].continue_token, "token-1");

  watch->PushEvent(Event(WatchEvent::Type::kAdded, "d", 11));
  watch->PushEvent(Event(WatchEvent::Type::kModified, "a", 12));
  watch->PushEvent(Bookmark(15));
  watch->PushEvent(Event(WatchEvent::Type::kDeleted, "b", 16));
  ASSERT_TRUE(store_.WaitForSize(5));
  EXPECT_EQ(store_.log(), (std::vector<std::string>{"replace 10 [ns/a,ns/b,ns/c]", "add ns/d 11", "update ns/a 12",
                                                     "bookmark 15", "delete ns/b 16"}));
  EXPECT_TRUE(WaitFor([&] { return reflector.LastSyncResourceVersion() == "16"; }));

  std::vector<ListOptions> watches = api_.watches();
  ASSERT_EQ(watches.size(), 1u);
  EXPECT_EQ(watches[0].resource_version, "10");
  EXPECT_TRUE(watches[0].allow_watch_bookmarks);
  EXPECT_EQ(watches[0].timeout_seconds, 300);  // [300, 600) with a zero draw
  reflector.Stop();
  EXPECT_TRUE(watch->stopped());
}

TEST_F(ReflectorTest, WatchTimeoutIsRandomizedBetweenFiveAndTenMinutes) {
  FakeRandom random(3);
  std::set<int64_t> timeouts;
  api_.ReplyList(Page({}, "1"));
  for (int i = 0; i < 20; ++i) {
    auto watch = api_.ReplyWatch();
    watch->PushEvent(Bookmark(2 + i));
    watch->PushEnd();  // a normal end after an event: the reflector watches again right away
  }
  Reflector reflector(api_, configmaps_, store_, clock_, random);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() >= 20; }));
  reflector.Stop();
  for (const ListOptions& w : api_.watches()) {
    EXPECT_GE(w.timeout_seconds, 300);
    EXPECT_LT(w.timeout_seconds, 600);
    timeouts.insert(w.timeout_seconds);
  }
  EXPECT_GT(timeouts.size(), 5u);
}

TEST_F(ReflectorTest, ExpiredContinueTokenRestartsTheList) {
  api_.ReplyList(Page({ConfigMap("a", 3)}, "10", "t1"));
  api_.ReplyList(Gone("The provided continue parameter is too old"));
  api_.ReplyList(Page({ConfigMap("a", 3)}, "20", "t2"));
  api_.ReplyList(Gone("The provided continue parameter is too old"));
  api_.ReplyList(Page({ConfigMap("a", 3), ConfigMap("b", 18)}, "20"));  // unpaginated
  api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(store_.WaitForSize(1));
  // Pages of an expired snapshot are thrown away; only a complete list reaches the store.
  EXPECT_EQ(store_.log(), (std::vector<std::string>{"replace 20 [ns/a,ns/b]"}));
  std::vector<ListOptions> lists = api_.lists();
  ASSERT_EQ(lists.size(), 5u);
  EXPECT_EQ(lists[2].continue_token, "");
  EXPECT_EQ(lists[2].limit, 500);
  EXPECT_EQ(lists[4].continue_token, "");
  EXPECT_EQ(lists[4].limit, 0);  // second expiry in a row: one full list
  EXPECT_EQ(reflector.stats().expired_continues, 2);
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 1; }));
  EXPECT_EQ(api_.watches()[0].resource_version, "20");
}

TEST_F(ReflectorTest, RelistsOnGoneErrorEvent) {
  api_.ReplyList(Page({ConfigMap("a", 3), ConfigMap("b", 5)}, "10"));
  auto first = api_.ReplyWatch();
  api_.ReplyList(Page({ConfigMap("a", 30)}, "40"));
  auto second = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(store_.WaitForSize(1));

  first->PushEvent(Event(WatchEvent::Type::kModified, "a", 12));
  first->PushError(Gone("too old resource version: 12 (20)"));
  // The relist waits for the backoff (800 ms without jitter) on the clock.
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));
  EXPECT_EQ(reflector.stats().last_backoff, milliseconds(800));
  clock_.Advance(milliseconds(799));
  EXPECT_EQ(api_.list_count(), 1u);
  clock_.Advance(milliseconds(1));
  ASSERT_TRUE(store_.WaitForSize(3));
  EXPECT_EQ(store_.log(), (std::vector<std::string>{"replace 10 [ns/a,ns/b]", "update ns/a 12", "replace 40 [ns/a]"}));
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 2; }));
  EXPECT_EQ(api_.watches()[1].resource_version, "40");
  Reflector::Stats stats = reflector.stats();
  EXPECT_EQ(stats.gone, 1);
  EXPECT_EQ(stats.lists, 2);
  EXPECT_EQ(stats.broken, 0);
}

TEST_F(ReflectorTest, RelistsOnGoneResponse) {
  api_.ReplyList(Page({ConfigMap("a", 3)}, "10"));
  auto first = api_.ReplyWatch();
  api_.ReplyWatchError(Gone("too old resource version: 11 (20)"));
  api_.ReplyList(Page({ConfigMap("a", 25)}, "30"));
  auto third = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(store_.WaitForSize(1));
  first->PushEvent(Event(WatchEvent::Type::kModified, "a", 11));
  first->PushEnd();  // the server ended the watch normally: watch again from 11
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));  // the 410 answer
  EXPECT_EQ(api_.watches()[1].resource_version, "11");
  EXPECT_EQ(api_.list_count(), 1u);
  clock_.Advance(milliseconds(800));
  ASSERT_TRUE(store_.WaitForSize(3));
  EXPECT_EQ(store_.log()[2], "replace 30 [ns/a]");
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 3; }));
  EXPECT_EQ(api_.watches()[2].resource_version, "30");
  EXPECT_EQ(reflector.stats().gone, 1);
}

TEST_F(ReflectorTest, RewatchesWithoutRelistOnBrokenStream) {
  api_.ReplyList(Page({ConfigMap("a", 3)}, "10"));
  auto first = api_.ReplyWatch();
  api_.ReplyWatchError(Unavailable("connection refused"));
  auto third = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(store_.WaitForSize(1));

  first->PushEvent(Event(WatchEvent::Type::kAdded, "b", 11));
  first->PushEvent(Bookmark(14));
  first->PushError(Unavailable("connection reset by peer"));
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));
  EXPECT_EQ(reflector.stats().last_backoff, milliseconds(800));
  clock_.Advance(milliseconds(800));
  // The re-watch is refused too: a longer wait, then again from the same version.
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 2; }));
  EXPECT_EQ(reflector.stats().last_backoff, milliseconds(1600));
  clock_.Advance(milliseconds(1599));
  EXPECT_EQ(api_.watch_count(), 2u);
  clock_.Advance(milliseconds(1));
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 3; }));
  third->PushEvent(Event(WatchEvent::Type::kModified, "b", 15));
  ASSERT_TRUE(store_.WaitForSize(4));

  std::vector<ListOptions> watches = api_.watches();
  EXPECT_EQ(watches[1].resource_version, "14");  // the bookmark's version
  EXPECT_EQ(watches[2].resource_version, "14");
  EXPECT_EQ(api_.list_count(), 1u);  // never relisted
  EXPECT_EQ(store_.log(),
            (std::vector<std::string>{"replace 10 [ns/a]", "add ns/b 11", "bookmark 14", "update ns/b 15"}));
  EXPECT_EQ(reflector.stats().broken, 2);
}

TEST_F(ReflectorTest, RewatchesRightAwayWhenTheServerEndsAWatch) {
  api_.ReplyList(Page({}, "10"));
  auto first = api_.ReplyWatch();
  auto second = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 1; }));
  first->PushEvent(Event(WatchEvent::Type::kAdded, "a", 11));
  first->PushEnd();
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 2; }));
  EXPECT_EQ(api_.watches()[1].resource_version, "11");
  EXPECT_EQ(reflector.stats().backoffs, 0);
}

TEST_F(ReflectorTest, ImmediatelyClosedWatchesBackOff) {
  api_.ReplyList(Page({}, "10"));
  auto first = api_.ReplyWatch();
  first->PushEnd();  // no event, no time: a server closing watches at once is not hammered
  auto second = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));
  EXPECT_EQ(api_.watch_count(), 1u);
  clock_.Advance(milliseconds(800));
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 2; }));
  EXPECT_EQ(api_.watches()[1].resource_version, "10");
}

TEST_F(ReflectorTest, ListFailuresBackOffExponentially) {
  api_.ReplyList(Unavailable("connection refused"));
  api_.ReplyList(TooManyRequests("slow down"));
  api_.ReplyList(Page({ConfigMap("a", 3)}, "10"));
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));
  clock_.Advance(milliseconds(800));
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 2; }));
  EXPECT_EQ(reflector.stats().last_backoff, milliseconds(1600));
  EXPECT_FALSE(reflector.HasSynced());
  clock_.Advance(milliseconds(1600));
  ASSERT_TRUE(store_.WaitForSize(1));
  EXPECT_TRUE(WaitFor([&] { return reflector.HasSynced(); }));
  EXPECT_EQ(api_.list_count(), 3u);
}

TEST_F(ReflectorTest, EventsOfAnotherTypeAreSkipped) {
  api_.ReplyList(Page({}, "10"));
  auto watch = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(store_.WaitForSize(1));
  auto pod = std::make_shared<corev1::Pod>();
  pod->mutable_metadata()->set_name("p");
  pod->mutable_metadata()->set_resourceversion("11");
  watch->PushEvent(WatchEvent{WatchEvent::Type::kAdded, pod});
  watch->PushEvent(Event(WatchEvent::Type::kAdded, "a", 12));
  ASSERT_TRUE(store_.WaitForSize(2));
  EXPECT_EQ(store_.log()[1], "add ns/a 12");
}

TEST_F(ReflectorTest, TransformRunsOnListedAndWatchedObjectsBeforeTheStore) {
  auto with_data = [](const std::string& name, int64_t rv) {
    auto cm = std::make_shared<corev1::ConfigMap>();
    cm->mutable_metadata()->set_namespace_("ns");
    cm->mutable_metadata()->set_name(name);
    cm->mutable_metadata()->set_resourceversion(std::to_string(rv));
    (*cm->mutable_data())["big"] = std::string(1000, 'x');
    (*cm->mutable_data())["small"] = "y";
    return cm;
  };
  api_.ReplyList(Page({with_data("a", 3)}, "10"));
  auto watch = api_.ReplyWatch();
  std::atomic<int> calls{0};
  ReflectorOptions options;
  options.transform = [&](ObjectPtr obj) -> ObjectPtr {
    ++calls;
    auto cm = As<corev1::ConfigMap>(obj);
    if (cm == nullptr) return obj;
    auto slim = std::make_shared<corev1::ConfigMap>();
    *slim->mutable_metadata() = cm->metadata();
    for (const auto& [k, v] : cm->data()) {
      if (v.size() < 100) (*slim->mutable_data())[k] = v;
    }
    return slim;
  };
  Indexer indexer;
  Reflector reflector(api_, configmaps_, indexer, clock_, random_, options);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return reflector.HasSynced(); }));
  watch->PushEvent(WatchEvent{WatchEvent::Type::kAdded, with_data("b", 11)});
  watch->PushEvent(Bookmark(12));
  ASSERT_TRUE(WaitFor([&] { return reflector.LastSyncResourceVersion() == "12"; }));
  for (const char* key : {"ns/a", "ns/b"}) {
    auto cm = As<corev1::ConfigMap>(indexer.Get(key));
    ASSERT_NE(cm, nullptr) << key;
    EXPECT_EQ(cm->data().count("big"), 0u) << key;
    EXPECT_EQ(cm->data().at("small"), "y") << key;
  }
  EXPECT_EQ(calls.load(), 2);  // not for the bookmark
  reflector.Stop();
}

TEST_F(ReflectorTest, StopReturnsPromptlyWhileWatching) {
  api_.ReplyList(Page({}, "10"));
  auto watch = api_.ReplyWatch();
  Reflector reflector(api_, configmaps_, store_, clock_, random_);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return api_.watch_count() == 1; }));
  reflector.Stop();  // the watch is open and silent: Stop must interrupt it
  EXPECT_TRUE(watch->stopped());
  reflector.Stop();  // idempotent
}

TEST_F(ReflectorTest, StopReturnsPromptlyWhileBackingOff) {
  Reflector reflector(api_, configmaps_, store_, clock_, random_);  // every list fails
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));
  reflector.Stop();  // the fake clock never reaches the backoff's end
  EXPECT_EQ(api_.list_count(), 1u);
}

// ---- Against the in-memory API server ----

TEST(ReflectorFakeApiTest, RelistsAfterCompactionAndConverges) {
  FakeClock clock;
  testing::ZeroRandom random;
  FakeApi api(clock);
  const ResourceInfo& configmaps = Resource("", "ConfigMap");
  corev1::ConfigMap cm;
  for (const char* name : {"a", "b", "c"}) {
    cm.mutable_metadata()->set_name(name);
    ASSERT_TRUE(api.Create(configmaps, "ns", cm).ok());
  }
  Indexer indexer;
  Reflector reflector(api, configmaps, indexer, clock, random);
  reflector.Start();
  ASSERT_TRUE(WaitFor([&] { return api.open_watches() == 1; }));
  EXPECT_EQ(indexer.size(), 3u);

  api.DropWatches();
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 1; }));
  // While the reflector is away: a delete, an update and a create, then the history is compacted.
  ASSERT_TRUE(api.Delete(configmaps, "ns", "a").ok());
  (*cm.mutable_data())["k"] = "v";
  cm.mutable_metadata()->set_name("b");
  ASSERT_TRUE(api.Update(configmaps, "ns", cm).ok());
  cm.mutable_metadata()->set_name("d");
  ASSERT_TRUE(api.Create(configmaps, "ns", cm).ok());
  api.CompactHistory();
  clock.Advance(seconds(1));  // re-watch from the old version: the stream's first answer is 410
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().backoffs == 2; }));
  clock.Advance(seconds(2));
  ASSERT_TRUE(WaitFor([&] { return reflector.stats().lists == 2 && api.open_watches() == 1; }));

  Reflector::Stats stats = reflector.stats();
  EXPECT_EQ(stats.gone, 1);
  EXPECT_EQ(stats.broken, 1);
  EXPECT_EQ(indexer.resource_version(), std::to_string(api.revision()));
  std::vector<std::string> keys = indexer.ListKeys();
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"ns/b", "ns/c", "ns/d"}));
  EXPECT_EQ(static_cast<const corev1::ConfigMap&>(*indexer.Get("ns/b")).data().at("k"), "v");
  reflector.Stop();
}

}  // namespace
}  // namespace ck::client
