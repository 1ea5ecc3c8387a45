// The Store contract (store.h), run against MemoryStore and RocksDbStore alike.
#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "store/memory_store.h"
#include "store/rocksdb_store.h"
#include "store/testutil.h"
#include "store/watch_queue.h"

namespace ck::store {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::WaitUntil;

enum class Kind { kMemory, kRocksDb };

class StoreTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
    options_.clock = &clock_;
    options_.compaction_window = Duration::zero();
    options_.timer_tick = 2ms;
  }
  void TearDown() override { store_.reset(); }

  Store& store() {
    if (!store_) Open();
    return *store_;
  }
  void Open() {
    if (GetParam() == Kind::kMemory) {
      store_ = NewMemoryStore(options_);
    } else {
      auto s = OpenRocksDbStore(dir_.Sub("db"), {options_});
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      store_ = std::move(s).value();
    }
  }
  Revision Put(const std::string& k, const std::string& v) {
    auto r = store().Put(k, v);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : -1;
  }
  std::unique_ptr<WatchQueue> StartWatch(KeyRange range, Revision from, bool progress = false) {
    auto q = WatchQueue::Start(store(), WatchRequest{std::move(range), from, progress});
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    return q.ok() ? std::move(q).value() : nullptr;
  }
  // The next kEvents response (fails the test on timeout or another type).
  WatchResponse NextEvents(WatchQueue& q) {
    auto r = q.Next(10s);
    EXPECT_TRUE(r.has_value()) << "no watch response within 10s";
    if (!r) return {};
    EXPECT_EQ(r->type, WatchResponse::Type::kEvents) << r->status.ToString();
    return *r;
  }

  FakeClock clock_;
  StoreOptions options_;
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Impl, StoreTest, ::testing::Values(Kind::kMemory, Kind::kRocksDb),
                         [](const auto& info) {
                           return info.param == Kind::kMemory ? "Memory" : "RocksDb";
                         });

TEST_P(StoreTest, RevisionGrowsByExactlyOnePerWriteTxn) {
  EXPECT_EQ(store().CurrentRevision(), 0);
  EXPECT_EQ(Put("/a", "1"), 1);
  EXPECT_EQ(Put("/b", "1"), 2);
  // Several writes in one transaction: one revision.
  auto multi = store().Txn({}, {Op::Put("/c", "1"), Op::Put("/d", "1"), Op::Delete("/a")}, {});
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->revision, 3);
  // A failed compare with an empty failure branch: no revision.
  auto failed = store().Txn({Compare::ModRevisionIs("/b", 99)}, {Op::Put("/b", "2")}, {});
  ASSERT_TRUE(failed.ok());
  EXPECT_FALSE(failed->succeeded);
  EXPECT_EQ(failed->revision, 3);
  // Read-only and no-op transactions: no revision.
  auto read = store().Txn({}, {Op::Get("/b")}, {});
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->revision, 3);
  auto noop = store().Txn({}, {Op::Delete("/missing"), Op::DeleteRange(KeyRange::Prefix("/x/"))}, {});
  ASSERT_TRUE(noop.ok());
  EXPECT_EQ(noop->revision, 3);
  EXPECT_EQ(store().CurrentRevision(), 3);
  EXPECT_EQ(Put("/b", "3"), 4);
}

TEST_P(StoreTest, KeysCarryCreateModRevisionAndVersion) {
  Put("/k", "v1");  // rev 1
  Put("/other", "x");  // rev 2
  Put("/k", "v2");  // rev 3
  auto kv = store().Get("/k");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->value, "v2");
  EXPECT_EQ(kv->create_revision, 1);
  EXPECT_EQ(kv->mod_revision, 3);
  EXPECT_EQ(kv->version, 2);
  ASSERT_TRUE(store().Delete("/k").ok());  // rev 4
  EXPECT_EQ(store().Get("/k").status().code(), Code::kNotFound);
  EXPECT_EQ(store().Delete("/k").status().code(), Code::kNotFound);
  Put("/k", "v3");  // rev 5: a new life
  kv = store().Get("/k");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ(kv->create_revision, 5);
  EXPECT_EQ(kv->version, 1);
}

TEST_P(StoreTest, GetAndRangeAtPastRevisions) {
  Put("/r/a", "a1");  // 1
  Put("/r/b", "b1");  // 2
  Put("/r/a", "a2");  // 3
  ASSERT_TRUE(store().Delete("/r/b").ok());  // 4
  Put("/r/c", "c1");  // 5
  EXPECT_EQ(store().Get("/r/a", 1)->value, "a1");
  EXPECT_EQ(store().Get("/r/a", 2)->value, "a1");
  EXPECT_EQ(store().Get("/r/a", 3)->value, "a2");
  EXPECT_EQ(store().Get("/r/b", 1).status().code(), Code::kNotFound);
  EXPECT_EQ(store().Get("/r/b", 3)->value, "b1");
  EXPECT_EQ(store().Get("/r/b", 4).status().code(), Code::kNotFound);
  auto at3 = store().Range("/r/", PrefixEnd("/r/"), 3);
  ASSERT_TRUE(at3.ok());
  ASSERT_EQ(at3->kvs.size(), 2u);
  EXPECT_EQ(at3->kvs[0].key, "/r/a");
  EXPECT_EQ(at3->kvs[0].value, "a2");
  EXPECT_EQ(at3->kvs[0].mod_revision, 3);
  EXPECT_EQ(at3->kvs[1].key, "/r/b");
  EXPECT_EQ(at3->revision, 3);
  auto now = store().Range("/r/", PrefixEnd("/r/"));
  ASSERT_TRUE(now.ok());
  ASSERT_EQ(now->kvs.size(), 2u);
  EXPECT_EQ(now->kvs[1].key, "/r/c");
  EXPECT_EQ(now->revision, 5);
}

TEST_P(StoreTest, RangeCountsAndLimits) {
  for (int i = 0; i < 10; ++i) Put("/l/" + std::to_string(i), "v");
  Put("/m/0", "v");
  auto r = store().Range("/l/", PrefixEnd("/l/"), 0, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count, 10);
  EXPECT_TRUE(r->more);
  ASSERT_EQ(r->kvs.size(), 3u);
  EXPECT_EQ(r->kvs[0].key, "/l/0");
  EXPECT_EQ(r->kvs[2].key, "/l/2");
  auto all = store().Range("/l/", PrefixEnd("/l/"));
  EXPECT_EQ(all->count, 10);
  EXPECT_FALSE(all->more);
  auto unbounded = store().Range("/l/5", "");
  EXPECT_EQ(unbounded->count, 6);  // /l/5../l/9 and /m/0
  auto empty = store().Range("/l/5", "/l/5");
  EXPECT_EQ(empty->count, 0);
  // Old revision with a limit.
  auto old = store().Range("/l/", PrefixEnd("/l/"), 5, 2);
  EXPECT_EQ(old->count, 5);
  EXPECT_TRUE(old->more);
  EXPECT_EQ(old->kvs.size(), 2u);
}

TEST_P(StoreTest, TxnComparesGuardBranchesAtomically) {
  Revision r1 = Put("/cas", "v1");
  // Optimistic concurrency: update only if unchanged since r1.
  auto ok = store().Txn({Compare::ModRevisionIs("/cas", r1)}, {Op::Put("/cas", "v2")},
                        {Op::Get("/cas")});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE(ok->succeeded);
  ASSERT_EQ(ok->results[0].kvs.size(), 1u);  // the previous value
  EXPECT_EQ(ok->results[0].kvs[0].value, "v1");
  auto stale = store().Txn({Compare::ModRevisionIs("/cas", r1)}, {Op::Put("/cas", "v3")},
                           {Op::Get("/cas")});
  ASSERT_TRUE(stale.ok());
  EXPECT_FALSE(stale->succeeded);
  ASSERT_EQ(stale->results[0].kvs.size(), 1u);
  EXPECT_EQ(stale->results[0].kvs[0].value, "v2");  // the failure branch reads the current value
  // Create-only-if-absent, then existence and version checks.
  auto create = store().Txn({Compare::NotExists("/new")}, {Op::Put("/new", "n")}, {});
  EXPECT_TRUE(create->succeeded);
  auto again = store().Txn({Compare::NotExists("/new")}, {Op::Put("/new", "n2")}, {});
  EXPECT_FALSE(again->succeeded);
  EXPECT_TRUE(store().Txn({Compare::Exists("/new")}, {}, {})->succeeded);
  EXPECT_TRUE(store().Txn({Compare::VersionIs("/cas", 2)}, {}, {})->succeeded);
  EXPECT_FALSE(store().Txn({Compare::VersionIs("/cas", 1)}, {}, {})->succeeded);
  Compare created{"/cas", Compare::Target::kCreateRevision, Compare::Result::kEqual, r1};
  EXPECT_TRUE(store().Txn({created}, {}, {})->succeeded);
  Compare newer{"/cas", Compare::Target::kModRevision, Compare::Result::kGreater, r1};
  Compare older{"/cas", Compare::Target::kModRevision, Compare::Result::kLess, r1};
  Compare not_equal{"/cas", Compare::Target::kModRevision, Compare::Result::kNotEqual, r1};
  EXPECT_TRUE(store().Txn({newer, not_equal}, {}, {})->succeeded);
  EXPECT_FALSE(store().Txn({newer, older}, {}, {})->succeeded);  // all compares must hold
  // All ops of a branch land in one revision or none.
  Put("/d/1", "x");
  Put("/d/2", "x");
  auto multi = store().Txn({}, {Op::Put("/m1", "a"), Op::DeleteRange(KeyRange::Prefix("/d/")),
                                Op::Range(KeyRange::Prefix("/d/"))},
                           {});
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->results[1].deleted, 2);
  EXPECT_TRUE(multi->results[2].kvs.empty());  // later ops see earlier ones
  EXPECT_EQ(store().Get("/m1")->mod_revision, multi->revision);
}

TEST_P(StoreTest, BadInputGetsClearErrors) {
  Put("/a", "1");
  auto empty_get = store().Get("");
  EXPECT_EQ(empty_get.status().code(), Code::kBadRequest);
  EXPECT_NE(empty_get.status().message().find("key must not be empty"), std::string::npos);
  EXPECT_EQ(store().Put("", "x").status().code(), Code::kBadRequest);
  EXPECT_EQ(store().Txn({Compare::Exists("")}, {}, {}).status().code(), Code::kBadRequest);
  auto backwards = store().Range("/b", "/a");
  EXPECT_EQ(backwards.status().code(), Code::kBadRequest);
  EXPECT_NE(backwards.status().message().find("before range start"), std::string::npos);
  EXPECT_EQ(store().Range("", "/a").status().code(), Code::kBadRequest);
  EXPECT_EQ(store().Range("/a", "/b", 0, -1).status().code(), Code::kBadRequest);
  auto future_get = store().Get("/a", 5);
  EXPECT_EQ(future_get.status().code(), Code::kBadRequest);
  EXPECT_NE(future_get.status().message().find("future revision"), std::string::npos);
  auto future_watch = store().Watch({KeyRange::Prefix("/"), 3}, [](const WatchResponse&) {});
  EXPECT_EQ(future_watch.status().code(), Code::kBadRequest);
  EXPECT_NE(future_watch.status().message().find("required revision 3 is a future revision"),
            std::string::npos);
  EXPECT_EQ(store().Watch({{"/b", "/a"}, 0}, [](const WatchResponse&) {}).status().code(),
            Code::kBadRequest);
  EXPECT_EQ(store().Compact(7).code(), Code::kBadRequest);
  auto dup = store().Txn({}, {Op::Put("/x", "1"), Op::Put("/x", "2")}, {});
  EXPECT_EQ(dup.status().code(), Code::kBadRequest);
  EXPECT_NE(dup.status().message().find("duplicate key"), std::string::npos);
  EXPECT_EQ(store().Txn({}, {Op::Put("/p/x", "1"), Op::DeleteRange(KeyRange::Prefix("/p/"))}, {})
                .status()
                .code(),
            Code::kBadRequest);
  EXPECT_EQ(store().CurrentRevision(), 1);  // nothing above was written
}

TEST_P(StoreTest, WatchDeliversOneTransactionTogetherWithPreviousValues) {
  Put("/w/a", "a0");
  Put("/w/b", "b0");
  auto q = StartWatch(KeyRange::Prefix("/w/"), 0);
  auto txn = store().Txn({}, {Op::Put("/w/a", "a1"), Op::Put("/w/c", "c1"), Op::Delete("/w/b")}, {});
  ASSERT_TRUE(txn.ok());
  WatchResponse r = NextEvents(*q);
  EXPECT_EQ(r.revision, 3);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].type, Event::Type::kPut);
  EXPECT_EQ(r.events[0].kv.value, "a1");
  EXPECT_EQ(r.events[0].kv.mod_revision, 3);
  ASSERT_TRUE(r.events[0].prev_kv.has_value());
  EXPECT_EQ(r.events[0].prev_kv->value, "a0");
  EXPECT_EQ(r.events[1].kv.key, "/w/c");
  EXPECT_FALSE(r.events[1].prev_kv.has_value());  // a create
  EXPECT_EQ(r.events[2].type, Event::Type::kDelete);
  EXPECT_EQ(r.events[2].kv.key, "/w/b");
  EXPECT_EQ(r.events[2].kv.mod_revision, 3);
  EXPECT_EQ(r.events[2].prev_kv->value, "b0");
  // A DeleteRange is one transaction too.
  ASSERT_TRUE(store().Txn({}, {Op::DeleteRange(KeyRange::Prefix("/w/"))}, {}).ok());
  r = NextEvents(*q);
  EXPECT_EQ(r.revision, 4);
  EXPECT_EQ(r.events.size(), 2u);
}

// A value is copied once, when it is written: reads, watch events, the next write's previous
// value and transaction results all share those bytes.
TEST_P(StoreTest, AWrittenValueIsSharedNotCopied) {
  auto q = StartWatch(KeyRange::Prefix("/s/"), 0);
  Put("/s/a", std::string(4096, 'x'));
  auto got = store().Get("/s/a");
  ASSERT_TRUE(got.ok());
  const std::string* bytes = got->value.shared().get();
  EXPECT_EQ(store().Get("/s/a")->value.shared().get(), bytes);
  auto range = store().Range("/s/", PrefixEnd("/s/"));
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->kvs.size(), 1u);
  EXPECT_EQ(range->kvs[0].value.shared().get(), bytes);
  WatchResponse put = NextEvents(*q);
  ASSERT_EQ(put.events.size(), 1u);
  EXPECT_EQ(put.events[0].kv.value.shared().get(), bytes);

  auto next = store().Txn({}, {Op::Put("/s/a", "y")}, {});
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->results[0].kvs.size(), 1u);
  EXPECT_EQ(next->results[0].kvs[0].value.shared().get(), bytes);
  WatchResponse update = NextEvents(*q);
  ASSERT_EQ(update.events.size(), 1u);
  ASSERT_TRUE(update.events[0].prev_kv.has_value());
  EXPECT_EQ(update.events[0].prev_kv->value.shared().get(), bytes);
}

TEST_P(StoreTest, WatchReplaysFromPastRevisionInOrderWithoutGaps) {
  for (int i = 1; i <= 50; ++i) Put("/h/" + std::to_string(i % 7), std::to_string(i));
  auto q = StartWatch(KeyRange::Prefix("/h/"), 10);
  for (int i = 51; i <= 60; ++i) Put("/h/" + std::to_string(i % 7), std::to_string(i));
  for (Revision want = 10; want <= 60; ++want) {
    WatchResponse r = NextEvents(*q);
    ASSERT_EQ(r.revision, want);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].kv.value, std::to_string(want));
  }
  EXPECT_FALSE(q->Next(20ms).has_value());  // no duplicates after the end
}

TEST_P(StoreTest, WatchSeesOnlyItsRange) {
  auto q = StartWatch(KeyRange::Prefix("/registry/pods/"), 1);
  Put("/registry/nodes/n1", "n");
  Put("/registry/pods/default/web-1", "p");
  auto both = store().Txn({}, {Op::Put("/registry/pods/default/web-2", "p"),
                               Op::Put("/registry/services/s", "s")},
                          {});
  ASSERT_TRUE(both.ok());
  WatchResponse r = NextEvents(*q);
  EXPECT_EQ(r.revision, 2);
  r = NextEvents(*q);
  EXPECT_EQ(r.revision, 3);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].kv.key, "/registry/pods/default/web-2");
  auto single = StartWatch(KeyRange::Single("/registry/nodes/n1"), 1);
  r = NextEvents(*single);
  EXPECT_EQ(r.revision, 1);
  EXPECT_FALSE(single->Next(20ms).has_value());
}

TEST_P(StoreTest, WatchResumesFromEveryRevision) {
  for (int i = 1; i <= 20; ++i) Put("/res/" + std::to_string(i % 3), std::to_string(i));
  for (Revision from = 1; from <= 21; ++from) {
    auto q = StartWatch(KeyRange::Prefix("/res/"), from);
    if (from == 21) {
      Put("/res/x", "21");
    }
    WatchResponse r = NextEvents(*q);
    EXPECT_EQ(r.revision, from);
  }
}

TEST_P(StoreTest, CompactedRevisionsAreGone) {
  for (int i = 1; i <= 10; ++i) Put("/c/" + std::to_string(i % 4), std::to_string(i));
  ASSERT_TRUE(store().Compact(5).ok());
  EXPECT_EQ(store().CompactedRevision(), 5);
  auto w = store().Watch({KeyRange::Prefix("/c/"), 5}, [](const WatchResponse&) {});
  EXPECT_TRUE(IsCompacted(w.status())) << w.status().ToString();
  EXPECT_EQ(w.status().code(), Code::kGone);
  EXPECT_NE(w.status().message().find("required revision 5 has been compacted; compacted revision is 5"),
            std::string::npos)
      << w.status().message();
  EXPECT_TRUE(IsCompacted(store().Get("/c/1", 4).status()));
  EXPECT_TRUE(IsCompacted(store().Range("/c/", PrefixEnd("/c/"), 4).status()));
  // At the compacted revision itself reads still work; watches start just above it.
  auto at5 = store().Range("/c/", PrefixEnd("/c/"), 5);
  ASSERT_TRUE(at5.ok()) << at5.status().ToString();
  EXPECT_EQ(at5->count, 4);
  EXPECT_EQ(store().Get("/c/1", 5)->value, "5");
  auto q = StartWatch(KeyRange::Prefix("/c/"), 6);
  EXPECT_EQ(NextEvents(*q).revision, 6);
  EXPECT_TRUE(IsCompacted(store().Compact(5)));
  EXPECT_TRUE(IsCompacted(store().Compact(3)));
  EXPECT_TRUE(store().Compact(10).ok());
  EXPECT_EQ(store().Stats().ck_store_compactions_total, 2u);
}

TEST_P(StoreTest, LaggingWatcherIsCanceledWhenItsNextRevisionIsCompacted) {
  Put("/lag/k", "1");
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<WatchResponse> got;
  auto w = store().Watch({KeyRange::Prefix("/lag/"), 1}, [&](const WatchResponse& r) {
    std::unique_lock<std::mutex> lock(mu);
    got.push_back(r);
    cv.notify_all();
    cv.wait(lock, [&] { return release; });  // the consumer stalls on its first response
  });
  ASSERT_TRUE(w.ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return !got.empty(); }));
  }
  // While it stalls, history moves on and is compacted past its next revision (2).
  for (int i = 2; i <= 5; ++i) Put("/lag/k", std::to_string(i));
  ASSERT_TRUE(store().Compact(4).ok());
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(mu);
    return got.size() >= 2;
  }));
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(got[0].revision, 1);
  EXPECT_EQ(got[1].type, WatchResponse::Type::kCanceled);
  EXPECT_TRUE(IsCompacted(got[1].status)) << got[1].status.ToString();
  EXPECT_EQ(got[1].revision, 1);  // last delivered
  EXPECT_EQ(got[1].compact_revision, 4);
}

TEST_P(StoreTest, ProgressNotificationCarriesCurrentRevision) {
  Put("/p/a", "1");
  Put("/other", "1");
  auto q = StartWatch(KeyRange::Prefix("/p/"), 0);
  q->RequestProgress();
  auto r = q->Next(10s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, WatchResponse::Type::kProgress);
  EXPECT_EQ(r->revision, 2);
  Put("/other", "2");  // outside the watched range: still moves progress
  q->RequestProgress();
  r = q->Next(10s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, WatchResponse::Type::kProgress);
  EXPECT_EQ(r->revision, 3);
}

TEST_P(StoreTest, PeriodicProgressNotificationsFollowTheClock) {
  options_.progress_notify_interval = 10s;
  Put("/pp/a", "1");
  auto quiet = StartWatch(KeyRange::Prefix("/pp/"), 0, /*progress=*/false);
  auto q = StartWatch(KeyRange::Prefix("/pp/"), 0, /*progress=*/true);
  EXPECT_FALSE(q->Next(30ms).has_value());  // the fake clock has not moved
  clock_.Advance(11s);
  auto r = q->Next(10s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, WatchResponse::Type::kProgress);
  EXPECT_EQ(r->revision, 1);
  EXPECT_FALSE(quiet->Next(30ms).has_value());  // only watchers that asked get them
}

TEST_P(StoreTest, SlowWatcherIsCanceledAndWritesNeverWait) {
  options_.watcher_max_lag = 10;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<WatchResponse> got;
  auto w = store().Watch({KeyRange::Prefix("/s/"), 0}, [&](const WatchResponse& r) {
    std::unique_lock<std::mutex> lock(mu);
    got.push_back(r);
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  ASSERT_TRUE(w.ok());
  Put("/s/k", "1");
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return !got.empty(); }));
  }
  // The watcher is stuck in its callback; 50 more writes must still complete.
  for (int i = 2; i <= 51; ++i) ASSERT_EQ(Put("/s/k", std::to_string(i)), i);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitUntil([&] {
    std::lock_guard<std::mutex> lock(mu);
    return got.size() >= 2;
  }));
  Revision resume_from = 0;
  {
    std::lock_guard<std::mutex> lock(mu);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[1].type, WatchResponse::Type::kCanceled);
    EXPECT_TRUE(IsSlowWatcher(got[1].status)) << got[1].status.ToString();
    EXPECT_EQ(got[1].status.code(), Code::kUnavailable);
    EXPECT_EQ(got[1].revision, 1);
    resume_from = got[1].revision + 1;
  }
  EXPECT_EQ(store().Stats().ck_store_slow_watchers_canceled_total, 1u);
  // It resumes where it stopped and loses nothing.
  auto q = StartWatch(KeyRange::Prefix("/s/"), resume_from);
  for (Revision want = 2; want <= 51; ++want) ASSERT_EQ(NextEvents(*q).revision, want);
}

TEST_P(StoreTest, WatcherStartingFarBackCatchesUpWithoutBeingCalledSlow) {
  options_.watcher_max_lag = 10;
  for (int i = 1; i <= 50; ++i) Put("/far/k", std::to_string(i));
  auto q = StartWatch(KeyRange::Prefix("/far/"), 1);
  for (Revision want = 1; want <= 50; ++want) ASSERT_EQ(NextEvents(*q).revision, want);
  EXPECT_EQ(store().Stats().ck_store_slow_watchers_canceled_total, 0u);
}

TEST_P(StoreTest, AutomaticCompactionKeepsTheWindow) {
  options_.compaction_window = 80s;
  for (int i = 1; i <= 5; ++i) Put("/ac/k", std::to_string(i));
  clock_.Advance(40s);
  for (int i = 6; i <= 8; ++i) Put("/ac/k", std::to_string(i));
  clock_.Advance(41s);  // revisions 1-5 are now older than the window; 6-8 are not
  ASSERT_TRUE(WaitUntil([&] { return store().Stats().ck_store_compactions_total == 1; }));
  EXPECT_EQ(store().CompactedRevision(), 5);
  EXPECT_TRUE(IsCompacted(store().Get("/ac/k", 4).status()));
  EXPECT_TRUE(store().Get("/ac/k", 6).ok());
  StoreStats stats = store().Stats();
  EXPECT_EQ(stats.ck_store_compacted_revision, 5);
  clock_.Advance(81s);
  ASSERT_TRUE(WaitUntil([&] { return store().CompactedRevision() == 8; }))
      << store().CompactedRevision();
}

TEST_P(StoreTest, StatsDescribeTheStore) {
  Put("/st/a", "1");
  Put("/st/b", "1");
  ASSERT_TRUE(store().Delete("/st/a").ok());
  auto q = StartWatch(KeyRange::Prefix("/st/"), 0);
  StoreStats s = store().Stats();
  EXPECT_EQ(s.apiserver_storage_objects, 1);
  EXPECT_EQ(s.ck_store_revision, 3);
  EXPECT_EQ(s.ck_store_watchers, 1);
  EXPECT_EQ(s.ck_store_write_txns_total, 3u);
  EXPECT_EQ(s.ck_store_history_revisions_in_memory, 3);
  if (GetParam() == Kind::kRocksDb) {
    EXPECT_GT(s.apiserver_storage_db_total_size_in_bytes, 0);
    EXPECT_GE(s.ck_store_fsyncs_total, 3u);
  }
  q.reset();
  EXPECT_TRUE(WaitUntil([&] { return store().Stats().ck_store_watchers == 0; }));
}

TEST_P(StoreTest, WatcherMayBeDestroyedFromItsOwnCallback) {
  std::unique_ptr<Watcher> w;
  std::atomic<int> calls{0};
  std::mutex mu;
  std::unique_lock<std::mutex> hold(mu);  // the callback waits until `w` is assigned
  auto started = store().Watch({KeyRange::Prefix("/self/"), 0}, [&](const WatchResponse&) {
    std::lock_guard<std::mutex> lock(mu);
    ++calls;
    w.reset();
  });
  ASSERT_TRUE(started.ok());
  w = std::move(started).value();
  hold.unlock();
  Put("/self/a", "1");
  ASSERT_TRUE(WaitUntil([&] { return calls.load() == 1; }));
  Put("/self/a", "2");
  ASSERT_TRUE(WaitUntil([&] { return store().Stats().ck_store_watchers == 0; }));
  EXPECT_EQ(calls.load(), 1);
}

TEST_P(StoreTest, ClosingTheStoreCancelsWatchers) {
  auto q = StartWatch(KeyRange::Prefix("/z/"), 0);
  store_.reset();
  auto r = q->Next(10s);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, WatchResponse::Type::kCanceled);
  EXPECT_EQ(r->status.code(), Code::kUnavailable);
  q.reset();  // the watcher outlives the store safely
}

TEST_P(StoreTest, ConcurrentWritersGetDenseRevisions) {
  constexpr int kThreads = 8, kPerThread = 100;
  auto q = StartWatch(KeyRange::Prefix("/cw/"), 1);
  std::vector<std::thread> threads;
  std::vector<std::vector<Revision>> revs(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = store().Put("/cw/" + std::to_string(t), std::to_string(i));
        revs[t].push_back(r.ok() ? *r : -1);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Revision> all;
  for (auto& v : revs) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<Revision>(i + 1));
  for (Revision want = 1; want <= kThreads * kPerThread; ++want) {
    ASSERT_EQ(NextEvents(*q).revision, want);
  }
}

}  // namespace
}  // namespace ck::store
