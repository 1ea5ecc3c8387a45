#include "common/client/cache/shared_informer.h"

#include <condition_variable>
#include <future>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/meta.h"
#include "common/client/testing/fake_api.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Resource;
using testing::WaitFor;

// data.v of a configmap ("" for other kinds).
std::string Data(const ObjectPtr& o) {
  std::shared_ptr<const corev1::ConfigMap> cm = As<corev1::ConfigMap>(o);
  if (cm == nullptr) return "";
  auto it = cm->data().find("v");
  return it == cm->data().end() ? "" : it->second;
}

// Records every call of one handler as a line, e.g. "add ns/a v=1 initial", "update ns/a 1->2",
// "delete ns/a", "tombstone ns/a v=2".
class Recorder {
 public:
  EventHandler Handler() {
    EventHandler h;
    h.on_add = [this](const ObjectPtr& obj, bool initial) {
      Log("add " + KeyOf(obj) + " v=" + Data(obj) + (initial ? " initial" : ""), obj);
    };
    h.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
      if (old_obj == new_obj) {
        Log("resync " + KeyOf(new_obj), new_obj);
      } else {
        Log("update " + KeyOf(new_obj) + " " + Data(old_obj) + "->" + Data(new_obj), new_obj);
      }
    };
    h.on_delete = [this](const DeletedObject& deleted) {
      if (const auto* t = std::get_if<DeletedFinalStateUnknown>(&deleted)) {
        Log("tombstone " + t->key + " v=" + Data(t->obj), t->obj);
      } else {
        Log("delete " + KeyOf(StateOf(deleted)), StateOf(deleted));
      }
    };
    return h;
  }

  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  bool WaitForCount(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(20), [&] { return lines_.size() >= n; });
  }
  std::vector<std::string> Since(size_t from) {
    std::vector<std::string> all = lines();
    return std::vector<std::string>(all.begin() + std::min(from, all.size()), all.end());
  }

 private:
  void Log(std::string line, const ObjectPtr&) {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
    cv_.notify_all();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
};

// A fresh FakeApi is at revision 0, and a list at revision 0 says resourceVersion "0", which a
// watch reads as "from any point" (synthetic ADDED events). A real server never answers "0"
// (etcd starts at revision 1), so the tests begin with one unrelated write.
void SeedRevision(FakeApi& api) {
  k8s::io::api::core::v1::Namespace ns;
  ns.mutable_metadata()->set_name("seed");
  Result<ObjectPtr> r = api.Create(Resource("", "Namespace"), "", ns);
  CK_CHECK(r.ok()) << r.status().ToString();
}

std::vector<std::string> SortedOf(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class InformerTest : public ::testing::Test {
 protected:
  InformerTest() : api_(clock_) { SeedRevision(api_); }

  void Put(const std::string& name, const std::string& value) {
    corev1::ConfigMap cm;
    cm.mutable_metadata()->set_name(name);
    (*cm.mutable_data())["v"] = value;
    if (api_.Get(configmaps_, "ns", name).ok()) {
      ASSERT_TRUE(api_.Update(configmaps_, "ns", cm).ok());
    } else {
      ASSERT_TRUE(api_.Create(configmaps_, "ns", cm).ok());
    }
  }
  void Remove(const std::string& name) { ASSERT_TRUE(api_.Delete(configmaps_, "ns", name).ok()); }

  bool WaitSynced(SharedIndexInformer& informer) {
    return WaitForCacheSync({&informer}, RealClock::Get(), RealClock::Get().Monotonic() + seconds(20));
  }

  const ResourceInfo& configmaps_ = Resource("", "ConfigMap");
  FakeClock clock_;
  testing::ZeroRandom random_;
  FakeApi api_;
};

TEST_F(InformerTest, DeliversTheInitialListThenEveryChangeInOrder) {
  Put("a", "1");
  Put("b", "1");
  Put("c", "1");
  Recorder rec;
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  HandlerRegistration reg = informer.AddEventHandler(rec.Handler());
  EXPECT_FALSE(informer.HasSynced());
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  ASSERT_TRUE(rec.WaitForCount(3));
  ASSERT_TRUE(WaitFor([&] { return reg.HasSynced(); }));
  EXPECT_EQ(rec.lines(), (std::vector<std::string>{"add ns/a v=1 initial", "add ns/b v=1 initial",
                                                    "add ns/c v=1 initial"}));

  Put("d", "1");
  Put("a", "2");
  Remove("b");
  Put("a", "3");
  Put("b", "1");
  ASSERT_TRUE(rec.WaitForCount(8));
  EXPECT_EQ(rec.Since(3), (std::vector<std::string>{"add ns/d v=1", "update ns/a 1->2", "delete ns/b",
                                                     "update ns/a 2->3", "add ns/b v=1"}));
  EXPECT_EQ(informer.GetIndexer().size(), 4u);
  ASSERT_TRUE(WaitFor([&] { return informer.GetIndexer().resource_version() == std::to_string(api_.revision()); }));
}

TEST_F(InformerTest, LateHandlerGetsSyntheticAddsThenLiveEvents) {
  Put("a", "1");
  Put("b", "1");
  Recorder first;
  Recorder late;
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  informer.AddEventHandler(first.Handler());
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  Put("c", "1");
  ASSERT_TRUE(first.WaitForCount(3));

  HandlerRegistration reg = informer.AddEventHandler(late.Handler());
  ASSERT_TRUE(late.WaitForCount(3));
  ASSERT_TRUE(WaitFor([&] { return reg.HasSynced(); }));
  EXPECT_EQ(SortedOf(late.lines()), (std::vector<std::string>{"add ns/a v=1 initial", "add ns/b v=1 initial",
                                                             "add ns/c v=1 initial"}));
  Put("a", "2");
  ASSERT_TRUE(late.WaitForCount(4));
  EXPECT_EQ(late.lines()[3], "update ns/a 1->2");
}

TEST_F(InformerTest, SlowHandlerDoesNotHoldUpTheOthers) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Recorder slow_rec;
  EventHandler slow = slow_rec.Handler();
  auto record_add = slow.on_add;
  slow.on_add = [&, record_add](const ObjectPtr& obj, bool initial) {
    released.wait();  // stuck in its first call until the test lets go
    record_add(obj, initial);
  };
  Recorder fast;
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  informer.AddEventHandler(slow);
  informer.AddEventHandler(fast.Handler());
  // Lets the slow handler go on every way out of the test, so that the informer can stop.
  struct Releaser {
    std::promise<void>& p;
    bool done = false;
    void Release() {
      if (!done) p.set_value();
      done = true;
    }
    ~Releaser() { Release(); }
  } releaser{release};
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  for (int i = 0; i < 50; ++i) Put("k" + std::to_string(i), "1");
  Put("k0", "2");
  Remove("k1");
  ASSERT_TRUE(fast.WaitForCount(52)) << fast.lines().size() << " rev " << api_.revision() << " cache rv "
                                     << informer.GetIndexer().resource_version() << " reflector rv "
                                     << informer.LastSyncResourceVersion() << " events "
                                     << informer.reflector_stats().events << " watches "
                                     << informer.reflector_stats().watches << " lists "
                                     << informer.reflector_stats().lists << "\n"
                                     << ::testing::PrintToString(fast.lines());
  EXPECT_TRUE(slow_rec.lines().empty());
  releaser.Release();
  ASSERT_TRUE(slow_rec.WaitForCount(52)) << slow_rec.lines().size();
  EXPECT_EQ(slow_rec.lines(), fast.lines());  // same notifications, same order
}

TEST_F(InformerTest, TombstonesForObjectsDeletedWhileDisconnected) {
  Put("a", "1");
  Put("b", "1");
  Put("c", "1");
  Recorder rec;
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  informer.AddEventHandler(rec.Handler());
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  ASSERT_TRUE(rec.WaitForCount(3));
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));

  api_.DropWatches();
  ASSERT_TRUE(WaitFor([&] { return informer.reflector_stats().backoffs == 1; }));
  // Meanwhile: b deleted, c changed, d created, and the history compacted so that the events
  // cannot be replayed.
  Remove("b");
  Put("c", "2");
  Put("d", "1");
  api_.CompactHistory();
  clock_.Advance(seconds(1));  // re-watch: 410
  ASSERT_TRUE(WaitFor([&] { return informer.reflector_stats().backoffs == 2; }));
  clock_.Advance(seconds(2));  // relist
  ASSERT_TRUE(rec.WaitForCount(6));
  // a did not change: not re-delivered. b's delete was missed: a tombstone with its last state.
  EXPECT_EQ(rec.Since(3), (std::vector<std::string>{"update ns/c 1->2", "add ns/d v=1", "tombstone ns/b v=1"}));
  EXPECT_EQ(SortedOf(informer.GetIndexer().ListKeys()), (std::vector<std::string>{"ns/a", "ns/c", "ns/d"}));
  EXPECT_EQ(informer.reflector_stats().gone, 1);

  // Live again.
  Remove("a");
  ASSERT_TRUE(rec.WaitForCount(7));
  EXPECT_EQ(rec.lines()[6], "delete ns/a");
}

TEST_F(InformerTest, TombstoneCarriesTheLastKnownObject) {
  Put("a", "1");
  std::mutex mu;
  ObjectPtr added;
  DeletedObject deleted;
  std::atomic<bool> got_delete{false};
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  EventHandler h;
  h.on_add = [&](const ObjectPtr& obj, bool) {
    std::lock_guard lock(mu);
    added = obj;
  };
  h.on_delete = [&](const DeletedObject& d) {
    std::lock_guard lock(mu);
    deleted = d;
    got_delete = true;
  };
  informer.AddEventHandler(h);
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  ASSERT_TRUE(WaitFor([&] { return api_.open_watches() == 1; }));
  api_.DropWatches();
  ASSERT_TRUE(WaitFor([&] { return informer.reflector_stats().backoffs == 1; }));
  Remove("a");
  api_.CompactHistory();
  clock_.Advance(seconds(1));
  ASSERT_TRUE(WaitFor([&] { return informer.reflector_stats().backoffs == 2; }));
  clock_.Advance(seconds(2));
  ASSERT_TRUE(WaitFor([&] { return got_delete.load(); }));
  std::lock_guard lock(mu);
  const auto* tombstone = std::get_if<DeletedFinalStateUnknown>(&deleted);
  ASSERT_NE(tombstone, nullptr);
  EXPECT_EQ(tombstone->key, "ns/a");
  EXPECT_EQ(tombstone->obj.get(), added.get());  // the very object the handler last saw
  EXPECT_EQ(StateOf(deleted).get(), added.get());
}

TEST_F(InformerTest, IndexesFollowUpdatesThatChangeTheIndexedValue) {
  const ResourceInfo& pods = Resource("", "Pod");
  InformerOptions options;
  options.indexers[kNodeNameIndex] = FieldIndexFunc("spec.nodeName");
  Recorder rec;
  SharedIndexInformer informer(api_, pods, clock_, random_, options);
  informer.AddEventHandler(rec.Handler());
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  const Indexer& indexer = informer.GetIndexer();

  corev1::Pod pod = api::testing::MakePod("web").Namespace("shop").Label("app", "web");
  Result<ObjectPtr> created = api_.Create(pods, "shop", pod);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  ASSERT_TRUE(rec.WaitForCount(1));
  EXPECT_TRUE(indexer.IndexValues(kNodeNameIndex)->empty());
  EXPECT_EQ(indexer.ByIndex(kLabelsIndex, "app=web")->size(), 1u);

  corev1::Binding binding;
  binding.mutable_metadata()->set_name("web");
  binding.mutable_target()->set_kind("Node");
  binding.mutable_target()->set_name("node-1");
  ASSERT_TRUE(api_.CreateSubresource(pods, "shop", "web", "binding", binding).ok());
  ASSERT_TRUE(rec.WaitForCount(2));
  EXPECT_EQ(*indexer.IndexKeys(kNodeNameIndex, "node-1"), (std::vector<std::string>{"shop/web"}));

  Result<ObjectPtr> current = api_.Get(pods, "shop", "web");
  ASSERT_TRUE(current.ok());
  corev1::Pod relabeled = static_cast<const corev1::Pod&>(**current);
  (*relabeled.mutable_metadata()->mutable_labels())["app"] = "api";
  ASSERT_TRUE(api_.Update(pods, "shop", relabeled).ok());
  ASSERT_TRUE(rec.WaitForCount(3));
  EXPECT_TRUE(indexer.ByIndex(kLabelsIndex, "app=web")->empty());
  EXPECT_EQ(*indexer.IndexKeys(kLabelsIndex, "app=api"), (std::vector<std::string>{"shop/web"}));

  DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(api_.Delete(pods, "shop", "web", now).ok());
  ASSERT_TRUE(rec.WaitForCount(4));
  EXPECT_TRUE(indexer.IndexValues(kNodeNameIndex)->empty());
  EXPECT_TRUE(indexer.IndexValues(kLabelsIndex)->empty());
  EXPECT_TRUE(indexer.IndexValues(kNamespaceIndex)->empty());
}

TEST_F(InformerTest, PeriodicResyncRedeliversEveryObjectOnTheClock) {
  Put("a", "1");
  Put("b", "1");
  InformerOptions options;
  options.resync_period = seconds(30);
  Recorder resyncing;
  Recorder quiet;
  SharedIndexInformer informer(api_, configmaps_, clock_, random_, options);
  informer.AddEventHandler(resyncing.Handler());
  informer.AddEventHandler(quiet.Handler(), Duration::zero());
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  ASSERT_TRUE(resyncing.WaitForCount(2));

  clock_.Advance(seconds(29));
  Put("c", "1");  // a live event in between still arrives at once
  ASSERT_TRUE(resyncing.WaitForCount(3));
  EXPECT_EQ(resyncing.lines().size(), 3u);
  clock_.Advance(seconds(1));
  ASSERT_TRUE(resyncing.WaitForCount(6));
  EXPECT_EQ(SortedOf(resyncing.Since(3)), (std::vector<std::string>{"resync ns/a", "resync ns/b", "resync ns/c"}));
  clock_.Advance(seconds(30));
  ASSERT_TRUE(resyncing.WaitForCount(9));
  EXPECT_EQ(SortedOf(resyncing.Since(6)), (std::vector<std::string>{"resync ns/a", "resync ns/b", "resync ns/c"}));

  // The handler without resync saw only the real changes.
  Put("a", "2");
  ASSERT_TRUE(quiet.WaitForCount(4));
  EXPECT_EQ(quiet.lines(), (std::vector<std::string>{"add ns/a v=1 initial", "add ns/b v=1 initial", "add ns/c v=1",
                                                      "update ns/a 1->2"}));
}

TEST_F(InformerTest, RemovedHandlerIsNoLongerCalled) {
  Recorder kept;
  Recorder removed;
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  informer.AddEventHandler(kept.Handler());
  HandlerRegistration reg = informer.AddEventHandler(removed.Handler());
  informer.Start();
  ASSERT_TRUE(WaitSynced(informer));
  Put("a", "1");
  ASSERT_TRUE(removed.WaitForCount(1));
  informer.RemoveEventHandler(reg);
  Put("b", "1");
  ASSERT_TRUE(kept.WaitForCount(2));
  EXPECT_EQ(removed.lines().size(), 1u);
}

TEST_F(InformerTest, WaitForCacheSyncGivesUpAtTheDeadlineOrOnStop) {
  api_.FailNext(FakeApi::Verb::kList, Unavailable("etcd is down"), 1000);
  SharedIndexInformer informer(api_, configmaps_, clock_, random_);
  informer.Start();
  ASSERT_TRUE(WaitFor([&] { return informer.reflector_stats().backoffs >= 1; }));
  FakeClock wait_clock;
  EXPECT_FALSE(WaitForCacheSync({&informer}, wait_clock, wait_clock.Monotonic()));  // deadline already here

  std::atomic<bool> result{true};
  std::thread waiter([&] {
    result = WaitForCacheSync({&informer}, RealClock::Get(), RealClock::Get().Monotonic() + std::chrono::hours(1));
  });
  informer.Stop();  // the waiter must not wait for its hour
  waiter.join();
  EXPECT_FALSE(result.load());
}

// ---- No event lost, duplicated or reordered across disconnects ----

struct Op {
  std::string type;  // add, update, delete, tombstone
  int64_t rv = 0;
  friend bool operator==(const Op&, const Op&) = default;
};

std::ostream& operator<<(std::ostream& os, const Op& op) { return os << op.type << "@" << op.rv; }

int64_t Rv(const ObjectPtr& o) { return std::stoll(ResourceVersionOf(*o)); }

// The handler's view: per key, every call in order, plus the state rebuilt from the calls alone.
class Mirror {
 public:
  EventHandler Handler() {
    EventHandler h;
    h.on_add = [this](const ObjectPtr& obj, bool initial) {
      std::lock_guard lock(mu_);
      std::string key = KeyOf(obj);
      EXPECT_EQ(state_.count(key), 0u) << "add of a key already present: " << key;
      state_[key] = obj;
      Record(key, {"add", Rv(obj)}, !initial);  // the initial list comes in key order
    };
    h.on_update = [this](const ObjectPtr& old_obj, const ObjectPtr& new_obj) {
      std::lock_guard lock(mu_);
      std::string key = KeyOf(new_obj);
      // `old` is exactly what this handler was last given for the key.
      EXPECT_EQ(state_[key].get(), old_obj.get()) << "update with a stale old object: " << key;
      state_[key] = new_obj;
      Record(key, {"update", Rv(new_obj)}, true);
    };
    h.on_delete = [this](const DeletedObject& deleted) {
      std::lock_guard lock(mu_);
      const ObjectPtr& obj = StateOf(deleted);
      std::string key = KeyOf(obj);
      bool tombstone = std::holds_alternative<DeletedFinalStateUnknown>(deleted);
      if (tombstone) {
        EXPECT_EQ(state_[key].get(), obj.get()) << "tombstone without the last known state: " << key;
      }
      EXPECT_EQ(state_.erase(key), 1u) << "delete of an absent key: " << key;
      // A tombstone carries the last state seen, older than the events before it.
      Record(key, {tombstone ? "tombstone" : "delete", Rv(obj)}, !tombstone);
    };
    return h;
  }

  int64_t last_rv() {
    std::lock_guard lock(mu_);
    return last_rv_;
  }
  std::map<std::string, std::vector<Op>> ops() {
    std::lock_guard lock(mu_);
    return ops_;
  }
  std::map<std::string, int64_t> state() {
    std::lock_guard lock(mu_);
    std::map<std::string, int64_t> out;
    for (const auto& [key, obj] : state_) out[key] = Rv(obj);
    return out;
  }
  bool in_global_order() {
    std::lock_guard lock(mu_);
    return in_order_;
  }

 private:
  void Record(const std::string& key, Op op, bool ordered) {
    if (ordered) {
      if (op.rv <= last_rv_) in_order_ = false;
      last_rv_ = std::max(last_rv_, op.rv);
    }
    ops_[key].push_back(op);
  }
  std::mutex mu_;
  std::map<std::string, ObjectPtr> state_;
  std::map<std::string, std::vector<Op>> ops_;
  int64_t last_rv_ = 0;
  bool in_order_ = true;
};

// Advances the fake clock past each reflector backoff as soon as it begins (no sleeping).
class BackoffPump {
 public:
  BackoffPump(FakeClock& clock, SharedIndexInformer& informer)
      : clock_(clock), informer_(informer), thread_([this] { Run(); }) {}
  ~BackoffPump() {
    done_ = true;
    thread_.join();
  }

  // While held, backoffs are left waiting (the test changes the server meanwhile).
  void Hold() { held_ = true; }
  void Release() { held_ = false; }

 private:
  void Run() {
    int64_t seen = 0;
    while (!done_) {
      int64_t backoffs = informer_.reflector_stats().backoffs;
      if (!held_ && backoffs > seen) {
        seen = backoffs;
        clock_.Advance(seconds(31));
      }
      std::this_thread::yield();
    }
  }
  FakeClock& clock_;
  SharedIndexInformer& informer_;
  std::atomic<bool> done_{false};
  std::atomic<bool> held_{false};
  std::thread thread_;
};

std::map<std::string, int64_t> ServerState(FakeApi& api) {
  std::map<std::string, int64_t> out;
  for (const ObjectPtr& o : api.Objects(Resource("", "ConfigMap"))) out[KeyOf(o)] = Rv(o);
  return out;
}

struct StressResult {
  std::map<std::string, std::vector<Op>> written;
  Reflector::Stats stats;
};

// Runs `ops` random creates/updates/deletes over 40 configmaps, dropping the watch every 30
// changes, 100 times. Every `compact_every`-th drop (0: never) also changes objects while the
// reflector is away, deletes one, and compacts the history, so the reflector must relist.
StressResult RunStress(FakeClock& clock, FakeApi& api, SharedIndexInformer& informer, Mirror& mirror, int ops,
                       int compact_every) {
  const ResourceInfo& configmaps = Resource("", "ConfigMap");
  StressResult result;
  FakeRandom pick(99);
  std::map<std::string, bool> exists;
  auto write = [&](int i) {
    std::string name = "cm-" + std::to_string(pick.Uniform(40));
    std::string key = "ns/" + name;
    corev1::ConfigMap cm;
    cm.mutable_metadata()->set_name(name);
    (*cm.mutable_data())["v"] = std::to_string(i);
    if (!exists[name]) {
      Result<ObjectPtr> r = api.Create(configmaps, "ns", cm);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      result.written[key].push_back({"add", Rv(*r)});
      exists[name] = true;
    } else if (pick.Uniform(5) == 0) {
      Result<ObjectPtr> r = api.Delete(configmaps, "ns", name);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      result.written[key].push_back({"delete", Rv(*r)});
      exists[name] = false;
    } else {
      Result<ObjectPtr> r = api.Update(configmaps, "ns", cm);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      result.written[key].push_back({"update", Rv(*r)});
    }
  };
  // Content before the informer starts: created once each, so the initial list shows exactly
  // these versions.
  for (int i = 0; i < 20; ++i) {
    corev1::ConfigMap cm;
    cm.mutable_metadata()->set_name("cm-" + std::to_string(i));
    Result<ObjectPtr> r = api.Create(configmaps, "ns", cm);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    result.written["ns/cm-" + std::to_string(i)].push_back({"add", Rv(*r)});
    exists["cm-" + std::to_string(i)] = true;
  }
  informer.AddEventHandler(mirror.Handler());
  informer.Start();
  BackoffPump pump(clock, informer);
  EXPECT_TRUE(WaitForCacheSync({&informer}, RealClock::Get(), RealClock::Get().Monotonic() + seconds(20)));
  auto remove_one = [&] {
    for (auto& [name, present] : exists) {
      if (!present) continue;
      Result<ObjectPtr> r = api.Delete(configmaps, "ns", name);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      result.written["ns/" + name].push_back({"delete", Rv(*r)});
      present = false;
      return;
    }
  };
  int drops = 0;
  for (int i = 20; i < ops; ++i) {
    write(i);
    if (i % 30 != 0 || drops == 100) continue;
    // Drop a live watch (never one already gone), with events possibly still in flight.
    EXPECT_TRUE(WaitFor([&] { return api.open_watches() == 1; }));
    ++drops;
    if (compact_every == 0 || drops % compact_every != 0) {
      api.DropWatches();
      continue;
    }
    pump.Hold();
    int64_t backoffs = informer.reflector_stats().backoffs;
    api.DropWatches();
    EXPECT_TRUE(WaitFor([&] { return informer.reflector_stats().backoffs > backoffs; }));
    remove_one();
    write(i);
    api.CompactHistory();
    pump.Release();
  }
  EXPECT_EQ(drops, 100);
  // Caught up: the handler's rebuilt state is the server's, and the cache is at the last revision.
  EXPECT_TRUE(WaitFor([&] { return mirror.state() == ServerState(api); }));
  EXPECT_TRUE(WaitFor([&] { return informer.GetIndexer().resource_version() == std::to_string(api.revision()); }));
  result.stats = informer.reflector_stats();
  return result;
}


TEST(InformerStressTest, NoEventLostDuplicatedOrReorderedAcross100Disconnects) {
  FakeClock clock;
  FakeRandom random(5);
  FakeApi api(clock);
  api.SetHistoryWindow(1'000'000);  // every re-watch can resume: no relist may be needed
  Mirror mirror;
  SharedIndexInformer informer(api, Resource("", "ConfigMap"), clock, random);
  StressResult result = RunStress(clock, api, informer, mirror, 3200, 0);
  informer.Stop();

  // Exactly the server's history, key by key: nothing lost, doubled or swapped.
  std::map<std::string, std::vector<Op>> seen = mirror.ops();
  EXPECT_EQ(seen.size(), result.written.size());
  for (const auto& [key, written] : result.written) EXPECT_EQ(seen[key], written) << key;
  EXPECT_EQ(mirror.state(), ServerState(api));
  EXPECT_TRUE(mirror.in_global_order());
  EXPECT_EQ(result.stats.broken, 100);
  EXPECT_EQ(result.stats.lists, 1);
  EXPECT_EQ(result.stats.gone, 0);
}

TEST(InformerStressTest, RelistsAfterCompactionConvergeWithoutReordering) {
  FakeClock clock;
  FakeRandom random(6);
  FakeApi api(clock);
  Mirror mirror;
  SharedIndexInformer informer(api, Resource("", "ConfigMap"), clock, random);
  StressResult result = RunStress(clock, api, informer, mirror, 3200, 4);
  informer.Stop();

  EXPECT_EQ(mirror.state(), ServerState(api));
  EXPECT_GE(result.stats.gone, 1);
  EXPECT_GE(result.stats.lists, 2);
  int tombstones = 0;
  for (const auto& [key, ops] : mirror.ops()) {
    std::set<int64_t> written_rvs;
    for (const Op& op : result.written[key]) written_rvs.insert(op.rv);
    int64_t last = 0;
    for (const Op& op : ops) {
      if (op.type == "tombstone") {
        ++tombstones;
        EXPECT_EQ(op.rv, last) << key << ": a tombstone carries the last state delivered";
        continue;
      }
      // Per object: strictly newer each time (no duplicate, no reordering), and a real version.
      EXPECT_GT(op.rv, last) << key;
      EXPECT_EQ(written_rvs.count(op.rv), 1u) << key << " " << op;
      last = op.rv;
    }
  }
  EXPECT_GT(tombstones, 0);
}

}  // namespace
}  // namespace ck::client
