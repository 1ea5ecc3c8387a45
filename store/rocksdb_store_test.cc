// RocksDbStore specifics: durability, group commit, recovery, corruption, a full disk, and the
// history that lives on disk below the in-memory cache.
#include "store/rocksdb_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include "store/testutil.h"
#include "store/watch_queue.h"

namespace ck::store {
namespace {

using namespace std::chrono_literals;
using testing::TempDir;
using testing::WaitUntil;

// A file system that answers "no space left on device" while `full` is set.
class FullDiskFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit FullDiskFs(std::shared_ptr<rocksdb::FileSystem> base) : FileSystemWrapper(base) {}
  const char* Name() const override { return "FullDiskFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& opts,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (full.load()) return rocksdb::IOStatus::NoSpace("no space left on device (test)");
    std::unique_ptr<rocksdb::FSWritableFile> file;
    rocksdb::IOStatus s = target()->NewWritableFile(fname, opts, &file, dbg);
    if (s.ok()) result->reset(new File(std::move(file), this));
    return s;
  }

  std::atomic<bool> full{false};
  std::atomic<bool> sync_fails{false};  // appends land, syncs fail: the outcome is unknown

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, FullDiskFs* fs)
        : FSWritableFileOwnerWrapper(std::move(f)), full_(&fs->full), sync_fails_(&fs->sync_fails) {}
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (sync_fails_->load()) return rocksdb::IOStatus::IOError("sync failed (test)");
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (sync_fails_->load()) return rocksdb::IOStatus::IOError("sync failed (test)");
      return target()->Fsync(o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (full_->load()) return rocksdb::IOStatus::NoSpace("no space left on device (test)");
      return target()->Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (full_->load()) return rocksdb::IOStatus::NoSpace("no space left on device (test)");
      return target()->Append(data, o, v, dbg);
    }

   private:
    std::atomic<bool>* full_;
    std::atomic<bool>* sync_fails_;
  };
};

RocksDbStoreOptions Options() {
  RocksDbStoreOptions o;
  o.store.compaction_window = Duration::zero();
  return o;
}

std::unique_ptr<Store> MustOpen(const std::string& path, RocksDbStoreOptions o = Options()) {
  auto s = OpenRocksDbStore(path, std::move(o));
  CK_CHECK(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

// Every event from `from` to the current revision, through a watch.
std::vector<WatchResponse> Replay(Store& store, Revision from) {
  std::vector<WatchResponse> out;
  auto q = WatchQueue::Start(store, {KeyRange{"\x01", ""}, from});
  if (!q.ok()) return out;
  Revision current = store.CurrentRevision();
  while (out.empty() || out.back().revision < current) {
    auto r = (*q)->Next(10s);
    if (!r || r->type != WatchResponse::Type::kEvents) break;
    out.push_back(*r);
  }
  return out;
}

TEST(RocksDbStoreTest, ReopenRecoversRevisionHistoryAndCompaction) {
  TempDir dir;
  std::vector<WatchResponse> before;
  {
    auto store = MustOpen(dir.Sub("db"));
    for (int i = 1; i <= 30; ++i) ASSERT_TRUE(store->Put("/k/" + std::to_string(i % 6), std::to_string(i)).ok());
    ASSERT_TRUE(store->Delete("/k/0").ok());  // 31
    ASSERT_TRUE(store->Compact(10).ok());
    before = Replay(*store, 11);
    ASSERT_EQ(before.size(), 21u);
  }
  auto store = MustOpen(dir.Sub("db"));
  EXPECT_EQ(store->CurrentRevision(), 31);
  EXPECT_EQ(store->CompactedRevision(), 10);
  EXPECT_EQ(store->Get("/k/1")->value, "25");
  EXPECT_EQ(store->Get("/k/1")->version, 5);
  EXPECT_EQ(store->Get("/k/0").status().code(), Code::kNotFound);
  EXPECT_EQ(store->Get("/k/0", 30)->value, "30");
  EXPECT_TRUE(IsCompacted(store->Get("/k/1", 9).status()));
  std::vector<WatchResponse> after = Replay(*store, 11);
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].revision, before[i].revision);
    EXPECT_EQ(after[i].events, before[i].events);
  }
  EXPECT_EQ(*store->Put("/k/new", "x"), 32);  // the revision continues
}

TEST(RocksDbStoreTest, ConcurrentWritersShareSyncs) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  StoreStats start = store->Stats();
  constexpr int kThreads = 16, kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (!store->Put("/g/" + std::to_string(t), std::string(256, 'v')).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  StoreStats end = store->Stats();
  uint64_t txns = end.ck_store_write_txns_total - start.ck_store_write_txns_total;
  uint64_t batches = end.ck_store_write_batches_total - start.ck_store_write_batches_total;
  uint64_t fsyncs = end.ck_store_fsyncs_total - start.ck_store_fsyncs_total;
  EXPECT_EQ(txns, uint64_t{kThreads * kPerThread});
  EXPECT_GE(fsyncs, batches) << "every group commit is synced";
  EXPECT_LT(batches, txns) << "concurrent writers shared syncs";
  EXPECT_LT(fsyncs, txns);
}

TEST(RocksDbStoreTest, SequentialWritesEachSyncTheWal) {
  TempDir dir;
  auto store = MustOpen(dir.Sub("db"));
  StoreStats start = store->Stats();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Put("/seq", std::to_string(i)).ok());
  StoreStats end = store->Stats();
  EXPECT_EQ(end.ck_store_fsyncs_total - start.ck_store_fsyncs_total, 20u);
}

TEST(RocksDbStoreTest, OldRevisionsAndWatchesAreServedFromDiskBelowTheCache) {
  TempDir dir;
  RocksDbStoreOptions o = Options();
  o.store.history_cache_revisions = 5;
  auto store = MustOpen(dir.Sub("db"), o);
  for (int i = 1; i <= 40; ++i) ASSERT_TRUE(store->Put("/d/" + std::to_string(i % 4), std::to_string(i)).ok());
  ASSERT_TRUE(store->Delete("/d/1").ok());  // 41
  EXPECT_EQ(store->Stats().ck_store_history_revisions_in_memory, 5);
  EXPECT_EQ(store->Get("/d/1", 3)->value, "1");
  EXPECT_EQ(store->Get("/d/1", 3)->mod_revision, 1);
  EXPECT_EQ(store->Get("/d/0", 3).status().code(), Code::kNotFound);
  auto r = store->Range("/d/", PrefixEnd("/d/"), 10);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->count, 4);
  EXPECT_EQ(r->kvs[0].value, "8");
  EXPECT_EQ(r->kvs[1].value, "9");
  EXPECT_EQ(r->kvs[2].value, "10");
  EXPECT_EQ(r->kvs[3].value, "7");
  std::vector<WatchResponse> all = Replay(*store, 1);
  ASSERT_EQ(all.size(), 41u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].revision, static_cast<Revision>(i + 1));
  ASSERT_TRUE(store->Compact(20).ok());
  EXPECT_TRUE(IsCompacted(store->Get("/d/1", 19).status()));
  EXPECT_EQ(store->Get("/d/1", 20)->value, "17");
  EXPECT_EQ(Replay(*store, 21).size(), 21u);
  // Reopen loads only the cache's worth of history into memory.
  store.reset();
  store = MustOpen(dir.Sub("db"), o);
  EXPECT_EQ(store->Stats().ck_store_history_revisions_in_memory, 5);
  EXPECT_EQ(Replay(*store, 21).size(), 21u);
}

TEST(RocksDbStoreTest, LiveWatcherThatFallsOutOfTheCacheIsCanceledAsSlow) {
  TempDir dir;
  RocksDbStoreOptions o = Options();
  o.store.history_cache_revisions = 5;
  auto store = MustOpen(dir.Sub("db"), o);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::vector<WatchResponse> got;
  auto w = store->Watch({KeyRange::Prefix("/s/"), 0}, [&](const WatchResponse& r) {
    std::unique_lock<std::mutex> lock(mu);
    got.push_back(r);
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
  });
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(store->Put("/s/k", "1").ok());
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return !got.empty(); }));
  }
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->Put("/s/k", "x").ok());
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
  EXPECT_EQ(got[1].type, WatchResponse::Type::kCanceled);
  EXPECT_TRUE(IsSlowWatcher(got[1].status)) << got[1].status.ToString();
  EXPECT_EQ(got[1].revision, 1);
}

TEST(RocksDbStoreTest, DiskFullFailsWritesAsUnavailableWithoutCorruption) {
  TempDir dir;
  auto fs = std::make_shared<FullDiskFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  {
    RocksDbStoreOptions o = Options();
    o.env = env.get();
    auto store = MustOpen(dir.Sub("db"), o);
    ASSERT_EQ(*store->Put("/f", "1"), 1);
    auto q = WatchQueue::Start(*store, {KeyRange::Prefix("/f"), 0});
    ASSERT_TRUE(q.ok());
    fs->full = true;
    for (int i = 0; i < 3; ++i) {
      auto r = store->Put("/f", "2");
      EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
      EXPECT_NE(r.status().message().find(dir.Sub("db")), std::string::npos);
    }
    EXPECT_EQ(store->CurrentRevision(), 1);
    EXPECT_EQ(store->Get("/f")->value, "1");
    EXPECT_FALSE((*q)->Next(50ms).has_value()) << "a failed write produced an event";
    EXPECT_GE(store->Stats().ck_store_txn_failures_total, 3u);
    fs->full = false;
    // Once space is back, writes succeed again (RocksDB may need a moment to recover).
    Result<Revision> ok = Unavailable("not tried");
    ASSERT_TRUE(WaitUntil([&] {
      ok = store->Put("/f", "3");
      EXPECT_TRUE(ok.ok() || ok.status().code() == Code::kUnavailable) << ok.status().ToString();
      return ok.ok();
    })) << ok.status().ToString();
    EXPECT_EQ(*ok, 2);
    auto ev = (*q)->Next(10s);
    ASSERT_TRUE(ev.has_value());
    EXPECT_EQ(ev->revision, 2);
    EXPECT_EQ(ev->events[0].kv.value, "3");
  }
  auto store = MustOpen(dir.Sub("db"));
  EXPECT_EQ(store->CurrentRevision(), 2);
  EXPECT_EQ(store->Get("/f")->value, "3");
  EXPECT_EQ(store->Get("/f", 1)->value, "1");
  std::vector<WatchResponse> all = Replay(*store, 1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].events[0].prev_kv->value, "1");
}

TEST(RocksDbStoreTest, AWriteWhoseSyncFailedIsRolledBackNotResurrected) {
  TempDir dir;
  auto fs = std::make_shared<FullDiskFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  {
    RocksDbStoreOptions o = Options();
    o.env = env.get();
    auto store = MustOpen(dir.Sub("db"), o);
    ASSERT_EQ(*store->Put("/s", "1"), 1);
    fs->sync_fails = true;
    auto failed = store->Put("/s", "lost");  // reaches the WAL, but its sync fails
    EXPECT_EQ(failed.status().code(), Code::kUnavailable) << failed.status().ToString();
    fs->sync_fails = false;
    Result<Revision> ok = Unavailable("not tried");
    ASSERT_TRUE(WaitUntil([&] {
      ok = store->Put("/s", "2");
      return ok.ok();
    })) << ok.status().ToString();
    EXPECT_EQ(*ok, 2);  // the failed write did not take revision 2
    EXPECT_EQ(store->Get("/s")->value, "2");
  }
  auto store = MustOpen(dir.Sub("db"));
  EXPECT_EQ(store->CurrentRevision(), 2);
  std::vector<WatchResponse> all = Replay(*store, 1);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].events[0].kv.value, "2");
  EXPECT_EQ(all[1].events[0].prev_kv->value, "1");
}

TEST(RocksDbStoreTest, CorruptOrUnreadableDirectoryStopsStartUpNamingThePath) {
  TempDir dir;
  // A path that is a regular file.
  std::string file = dir.Sub("file");
  std::ofstream(file) << "not a database";
  auto r = OpenRocksDbStore(file, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(file), std::string::npos) << r.status().message();

  // A garbled CURRENT file.
  std::string db = dir.Sub("db");
  { ASSERT_TRUE(MustOpen(db)->Put("/a", "1").ok()); }
  std::ofstream(db + "/CURRENT", std::ios::trunc) << "MANIFEST-999999\n";
  r = OpenRocksDbStore(db, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(db), std::string::npos) << r.status().message();

  // A garbled MANIFEST.
  std::string db2 = dir.Sub("db2");
  { ASSERT_TRUE(MustOpen(db2)->Put("/a", "1").ok()); }
  for (const auto& entry : std::filesystem::directory_iterator(db2)) {
    if (entry.path().filename().string().rfind("MANIFEST-", 0) == 0) {
      std::ofstream(entry.path(), std::ios::trunc) << std::string(200, '\x5a');
    }
  }
  r = OpenRocksDbStore(db2, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal) << r.status().ToString();
  EXPECT_NE(r.status().message().find(db2), std::string::npos) << r.status().message();

  // Someone else's RocksDB database.
  std::string foreign = dir.Sub("foreign");
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, foreign, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), "hello", "world").ok());
    delete raw;
  }
  r = OpenRocksDbStore(foreign, Options());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(foreign), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("format marker"), std::string::npos);
}

}  // namespace
}  // namespace ck::store
