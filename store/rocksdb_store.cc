// The RocksDB Backend: synced group commits, history by revision, compaction by DeleteRange.
#include "store/rocksdb_store.h"

#include <filesystem>
#include <map>
#include <optional>
#include <shared_mutex>
#include <thread>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/write_batch.h>

#include "common/base/log.h"
#include "store/codec.h"
#include "store/mvcc_store.h"
#include "store/sync_spinner.h"

namespace ck::store {
namespace {

constexpr char kFormatKey[] = "format";
constexpr char kFormat[] = "clearkube-store-v1";
constexpr char kCompactedKey[] = "compacted_revision";

class RocksDbBackend final : public Backend {
 public:
  static Result<std::unique_ptr<RocksDbBackend>> Open(const std::string& path, rocksdb::Env* env,
                                                      int sync_spinners);
  ~RocksDbBackend() override;

  Result<Loaded> Load(int64_t max_revisions, int64_t max_bytes) override;
  Status Commit(const std::vector<RevisionEventsPtr>& revisions) override;
  Status Compact(Revision revision) override;
  Status ReadHistory(Revision from, Revision to, int64_t max_bytes,
                     const std::atomic<Revision>& compacted,
                     std::vector<RevisionEventsPtr>* out) override;
  Result<RangeResult> ReadAt(const KeyRange& range, Revision rev, int64_t limit,
                             const std::atomic<Revision>& compacted) override;
  int64_t SizeBytes() override;
  uint64_t Fsyncs() override;
  bool KeepsAllHistoryInMemory() const override { return false; }

 private:
  RocksDbBackend(std::string path, rocksdb::Env* env, int sync_spinners)
      : path_(std::move(path)), env_(env), spinner_(sync_spinners) {}
  Status OpenDbLocked();
  void CloseDbLocked();
  Status ReopenAfterWriteError();
  Status RollBackAbove(Revision committed);
  Status Unopened() const {
    return Unavailable("store: database at " + path_ + " is not open after an IO error");
  }
  Status Error(const rocksdb::Status& s, std::string_view what) const;
  Status Corrupt(std::string_view what) const {
    return Internal("store: corrupt database at " + path_ + ": " + std::string(what));
  }
  Status CheckFormat();

  // A snapshot that is released when it goes out of scope.
  class Snapshot {
   public:
    explicit Snapshot(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {}
    ~Snapshot() { db_->ReleaseSnapshot(snap_); }
    rocksdb::ReadOptions Options() const {
      rocksdb::ReadOptions ro;
      ro.snapshot = snap_;
      return ro;
    }

   private:
    rocksdb::DB* db_;
    const rocksdb::Snapshot* snap_;
  };

  const std::string path_;
  rocksdb::Env* const env_;
  SyncSpinner spinner_;
  std::shared_ptr<rocksdb::Statistics> statistics_ = rocksdb::CreateDBStatistics();
  // db_ and the handles are replaced only when the database is reopened after a failed write;
  // every use holds db_mu_ (shared), the reopen holds it exclusively.
  mutable std::shared_mutex db_mu_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* kv_ = nullptr;
  rocksdb::ColumnFamilyHandle* history_ = nullptr;
  // Commit leader only: the last revision known durable, and whether a write failed since.
  Revision committed_ = 0;
  bool needs_reopen_ = false;
};

Status RocksDbBackend::Error(const rocksdb::Status& s, std::string_view what) const {
  std::string msg = "store: " + std::string(what) + " " + path_ + ": " + s.ToString();
  if (s.IsCorruption()) return Internal(msg);
  if (s.IsNoSpace()) return Unavailable(msg + " (disk full)");
  if (s.IsIOError()) return Unavailable(msg);
  return Internal(msg);
}

Result<std::unique_ptr<RocksDbBackend>> RocksDbBackend::Open(const std::string& path,
                                                             rocksdb::Env* env,
                                                             int sync_spinners) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !std::filesystem::is_directory(path, ec)) {
    return Unavailable("store: cannot open database at " + path + ": not a directory");
  }
  std::unique_ptr<RocksDbBackend> b(new RocksDbBackend(path, env, sync_spinners));
  std::unique_lock<std::shared_mutex> lock(b->db_mu_);
  CK_RETURN_IF_ERROR(b->OpenDbLocked());
  CK_RETURN_IF_ERROR(b->CheckFormat());
  return b;
}

Status RocksDbBackend::OpenDbLocked() {
  rocksdb::Options opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.paranoid_checks = true;
  // A torn last record can only be a write that was never acknowledged; anything else that
  // does not read back is corruption and must stop start-up.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  opts.IncreaseParallelism(2);
  opts.max_background_jobs = 2;
  opts.keep_log_file_num = 3;
  opts.max_log_file_size = 1 << 20;
  opts.max_total_wal_size = 256 << 20;
  statistics_->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
  opts.statistics = statistics_;
  if (env_ != nullptr) opts.env = env_;

  // Memtables are the store's largest memory cost after the values it indexes: 64 MiB per column
  // family by default. 16 MiB each (and 48 MiB for all) costs a few more flushes.
  opts.db_write_buffer_size = 48 << 20;
  rocksdb::ColumnFamilyOptions cf_opts(opts);
  cf_opts.write_buffer_size = 16 << 20;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
      {rocksdb::kDefaultColumnFamilyName, cf_opts},
      {"kv", cf_opts},
      {"history", cf_opts},
  };
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(opts, path_, cfs, &handles, &db_);
  if (!s.ok()) {
    db_ = nullptr;
    std::string msg = "store: cannot open database at " + path_ + ": " + s.ToString();
    if (s.IsCorruption()) return Internal(msg);
    return Unavailable(msg);
  }
  meta_ = handles[0];
  kv_ = handles[1];
  history_ = handles[2];
  return Status::Ok();
}

void RocksDbBackend::CloseDbLocked() {
  if (db_ == nullptr) return;
  for (rocksdb::ColumnFamilyHandle* h : {meta_, kv_, history_}) {
    if (h != nullptr) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
  delete db_;
  db_ = nullptr;
  meta_ = kv_ = history_ = nullptr;
}

// RocksDB stops accepting writes after a failed WAL write (a full disk is a fatal background
// error), so the store reopens the database. The failed batch may still have reached the WAL
// (say the append worked and the sync did not); its revisions were reported as failed and never
// published, so they are rolled back from their own events' previous values.
Status RocksDbBackend::ReopenAfterWriteError() {
  {
    std::unique_lock<std::shared_mutex> lock(db_mu_);
    CloseDbLocked();
    CK_RETURN_IF_ERROR(OpenDbLocked());
  }
  CK_RETURN_IF_ERROR(RollBackAbove(committed_));
  CK_LOG_WARNING("Store reopened after a write error", "path", path_, "revision", committed_);
  return Status::Ok();
}

Status RocksDbBackend::RollBackAbove(Revision committed) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  std::vector<std::pair<Revision, std::vector<Event>>> extra;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), history_));
    for (it->Seek(codec::RevisionKey(committed + 1)); it->Valid(); it->Next()) {
      Revision rev = 0;
      std::vector<Event> events;
      if (!codec::DecodeRevisionKey(it->key().ToStringView(), &rev) ||
          !codec::DecodeEvents(it->value().ToStringView(), &events)) {
        return Corrupt("bad history record above revision " + std::to_string(committed));
      }
      extra.emplace_back(rev, std::move(events));
    }
    if (!it->status().ok()) return Error(it->status(), "cannot read");
  }
  if (extra.empty()) return Status::Ok();
  rocksdb::WriteBatch batch;
  for (auto r = extra.rbegin(); r != extra.rend(); ++r) {
    for (auto e = r->second.rbegin(); e != r->second.rend(); ++e) {
      if (e->prev_kv) {
        batch.Put(kv_, e->kv.key, codec::EncodeEntry(*e->prev_kv)).PermitUncheckedError();
      } else {
        batch.Delete(kv_, e->kv.key).PermitUncheckedError();
      }
    }
    batch.Delete(history_, codec::RevisionKey(r->first)).PermitUncheckedError();
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return Error(s, "cannot roll back failed write in");
  CK_LOG_WARNING("Store rolled back revisions whose write had failed", "path", path_, "from",
                 committed + 1, "to", extra.back().first);
  return Status::Ok();
}

Status RocksDbBackend::CheckFormat() {
  std::string format;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_, kFormatKey, &format);
  if (s.ok()) {
    if (format != kFormat) return Corrupt("unknown format \"" + format + "\"");
    return Status::Ok();
  }
  if (!s.IsNotFound()) return Error(s, "cannot read");
  // A fresh database: it must hold nothing yet.
  for (rocksdb::ColumnFamilyHandle* cf : {meta_, kv_, history_}) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf));
    it->SeekToFirst();
    if (it->Valid()) return Corrupt("data without a format marker (not a Clearkube store?)");
    if (!it->status().ok()) return Error(it->status(), "cannot read");
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = db_->Put(wo, meta_, kFormatKey, kFormat);
  if (!s.ok()) return Error(s, "cannot initialize");
  return Status::Ok();
}

RocksDbBackend::~RocksDbBackend() {
  std::unique_lock<std::shared_mutex> lock(db_mu_);
  CloseDbLocked();
}

Result<Backend::Loaded> RocksDbBackend::Load(int64_t max_revisions, int64_t max_bytes) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  Loaded loaded;
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  std::string value;
  rocksdb::Status s = db_->Get(ro, meta_, kCompactedKey, &value);
  if (s.ok()) {
    if (!codec::DecodeRevisionKey(value, &loaded.compacted)) return Corrupt("bad compacted revision");
  } else if (!s.IsNotFound()) {
    return Error(s, "cannot read");
  }

  Revision max_mod = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, kv_));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      KeyValue kv;
      if (!codec::DecodeEntry(it->key().ToStringView(), it->value().ToStringView(), &kv)) {
        return Corrupt("bad entry for key \"" + it->key().ToString() + "\"");
      }
      max_mod = std::max(max_mod, kv.mod_revision);
      loaded.kvs.push_back(std::move(kv));
    }
    if (!it->status().ok()) return Error(it->status(), "cannot read");
  }

  Revision last_history = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, history_));
    int64_t bytes = 0;
    Revision expected = 0;
    for (it->SeekToLast(); it->Valid(); it->Prev()) {
      Revision rev = 0;
      if (!codec::DecodeRevisionKey(it->key().ToStringView(), &rev)) {
        return Corrupt("bad history key");
      }
      if (last_history == 0) {
        last_history = rev;
      } else if (rev != expected) {
        return Corrupt("history gap before revision " + std::to_string(expected + 1));
      }
      expected = rev - 1;
      if (static_cast<int64_t>(loaded.recent.size()) >= max_revisions || bytes >= max_bytes) break;
      auto re = std::make_shared<RevisionEvents>();
      re->revision = rev;
      if (!codec::DecodeEvents(it->value().ToStringView(), &re->events)) {
        return Corrupt("bad history record at revision " + std::to_string(rev));
      }
      for (const Event& e : re->events) re->bytes += static_cast<int64_t>(codec::EventBytes(e));
      bytes += re->bytes;
      loaded.recent.push_back(std::move(re));
    }
    if (!it->status().ok()) return Error(it->status(), "cannot read");
  }
  std::reverse(loaded.recent.begin(), loaded.recent.end());
  loaded.current = std::max(loaded.compacted, last_history);
  if (max_mod > loaded.current) {
    return Corrupt("key revision " + std::to_string(max_mod) + " is above the history's " +
                   std::to_string(loaded.current));
  }
  if (last_history != 0 && last_history <= loaded.compacted) {
    return Corrupt("history at revision " + std::to_string(last_history) +
                   " survived compaction at " + std::to_string(loaded.compacted));
  }
  committed_ = loaded.current;
  CK_LOG_INFO("Store opened", "path", path_, "revision", loaded.current, "compacted",
              loaded.compacted, "keys", static_cast<int64_t>(loaded.kvs.size()));
  return loaded;
}

Status RocksDbBackend::Commit(const std::vector<RevisionEventsPtr>& revisions) {
  if (needs_reopen_) {
    CK_RETURN_IF_ERROR(ReopenAfterWriteError());
    needs_reopen_ = false;
  }
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr) return Unopened();
  rocksdb::WriteBatch batch;
  for (const RevisionEventsPtr& r : revisions) {
    for (const Event& e : r->events) {
      if (e.type == Event::Type::kPut) {
        batch.Put(kv_, e.kv.key, codec::EncodeEntry(e.kv)).PermitUncheckedError();
      } else {
        batch.Delete(kv_, e.kv.key).PermitUncheckedError();
      }
    }
    batch.Put(history_, codec::RevisionKey(r->revision), codec::EncodeEvents(r->events))
        .PermitUncheckedError();
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s;
  {
    // Only a lone write spins: a batch of several transactions means several writers are
    // waiting on this sync, and their threads keep the CPUs busy anyway. Spinning then only takes
    // CPU time from the request path (pod creates with 16 clients: ~4,200/s spinning on every
    // sync, ~4,700/s spinning on lone writes only or not at all).
    SyncSpinner::Scope spin(spinner_, revisions.size() == 1);
    s = db_->Write(wo, &batch);
  }
  if (!s.ok()) {
    needs_reopen_ = true;
    return Error(s, "cannot write to");
  }
  committed_ = revisions.back()->revision;
  return Status::Ok();
}

Status RocksDbBackend::Compact(Revision revision) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr) return Unopened();
  rocksdb::WriteBatch batch;
  std::string end = codec::RevisionKey(revision + 1);
  batch.Put(meta_, kCompactedKey, codec::RevisionKey(revision)).PermitUncheckedError();
  batch.DeleteRange(history_, codec::RevisionKey(0), end).PermitUncheckedError();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) return Error(s, "cannot compact");
  // Reclaim the space now rather than whenever RocksDB gets to the range tombstone.
  rocksdb::Slice end_slice(end);
  rocksdb::CompactRangeOptions cro;
  s = db_->CompactRange(cro, history_, nullptr, &end_slice);
  if (!s.ok()) CK_LOG_WARNING("Store space reclaim failed", "path", path_, "err", s.ToString());
  return Status::Ok();
}

Status RocksDbBackend::ReadHistory(Revision from, Revision to, int64_t max_bytes,
                                   const std::atomic<Revision>& compacted,
                                   std::vector<RevisionEventsPtr>* out) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr) return Unopened();
  Snapshot snap(db_);
  if (from <= compacted.load()) {
    return Gone("required revision " + std::to_string(from) +
                " has been compacted; compacted revision is " + std::to_string(compacted.load()));
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(snap.Options(), history_));
  int64_t bytes = 0;
  Revision expected = from;
  for (it->Seek(codec::RevisionKey(from)); it->Valid() && expected <= to; it->Next()) {
    Revision rev = 0;
    if (!codec::DecodeRevisionKey(it->key().ToStringView(), &rev)) return Corrupt("bad history key");
    if (rev != expected) return Corrupt("history gap at revision " + std::to_string(expected));
    auto re = std::make_shared<RevisionEvents>();
    re->revision = rev;
    if (!codec::DecodeEvents(it->value().ToStringView(), &re->events)) {
      return Corrupt("bad history record at revision " + std::to_string(rev));
    }
    for (const Event& e : re->events) re->bytes += static_cast<int64_t>(codec::EventBytes(e));
    bytes += re->bytes;
    out->push_back(std::move(re));
    ++expected;
    if (bytes >= max_bytes) break;
  }
  if (!it->status().ok()) return Error(it->status(), "cannot read");
  if (expected == from) return Corrupt("history missing at revision " + std::to_string(from));
  return Status::Ok();
}

Result<RangeResult> RocksDbBackend::ReadAt(const KeyRange& range, Revision rev, int64_t limit,
                                           const std::atomic<Revision>& compacted) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr) return Unopened();
  Snapshot snap(db_);
  if (rev < compacted.load()) {
    return Gone("required revision " + std::to_string(rev) +
                " has been compacted; compacted revision is " + std::to_string(compacted.load()));
  }
  rocksdb::ReadOptions ro = snap.Options();
  // Undo, per key, the first event after `rev`: its previous value is the value at `rev`.
  std::map<std::string, std::optional<KeyValue>, std::less<>> undo;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, history_));
    std::vector<Event> events;
    for (it->Seek(codec::RevisionKey(rev + 1)); it->Valid(); it->Next()) {
      if (!codec::DecodeEvents(it->value().ToStringView(), &events)) {
        return Corrupt("bad history record");
      }
      for (Event& e : events) {
        if (range.Contains(e.kv.key)) undo.try_emplace(e.kv.key, std::move(e.prev_kv));
      }
    }
    if (!it->status().ok()) return Error(it->status(), "cannot read");
  }
  std::map<std::string, KeyValue> at;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, kv_));
    for (it->Seek(range.start); it->Valid(); it->Next()) {
      std::string_view key = it->key().ToStringView();
      if (!range.end.empty() && key >= std::string_view(range.end)) break;
      if (undo.count(key) > 0) continue;
      KeyValue kv;
      if (!codec::DecodeEntry(key, it->value().ToStringView(), &kv)) {
        return Corrupt("bad entry for key \"" + std::string(key) + "\"");
      }
      at.emplace(kv.key, std::move(kv));
    }
    if (!it->status().ok()) return Error(it->status(), "cannot read");
  }
  for (auto& [key, kv] : undo) {
    if (kv) at.emplace(key, std::move(*kv));
  }
  RangeResult r;
  r.revision = rev;
  r.count = static_cast<int64_t>(at.size());
  for (auto& [key, kv] : at) {
    if (limit != 0 && static_cast<int64_t>(r.kvs.size()) >= limit) break;
    r.kvs.push_back(std::move(kv));
  }
  r.more = r.count > static_cast<int64_t>(r.kvs.size());
  return r;
}

int64_t RocksDbBackend::SizeBytes() {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr) return 0;
  uint64_t total = 0;
  for (rocksdb::ColumnFamilyHandle* cf : {meta_, kv_, history_}) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kTotalSstFilesSize, &v)) total += v;
  }
  rocksdb::VectorLogPtr wal_files;
  if (db_->GetSortedWalFiles(wal_files).ok()) {
    for (const auto& f : wal_files) total += f->SizeFileBytes();
  }
  return static_cast<int64_t>(total);
}

uint64_t RocksDbBackend::Fsyncs() { return statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED); }

}  // namespace

Result<std::unique_ptr<Store>> OpenRocksDbStore(const std::string& path,
                                                RocksDbStoreOptions options) {
  int spinners = options.sync_spinners;
  if (spinners < 0) spinners = static_cast<int>(std::min(4u, std::thread::hardware_concurrency()));
  CK_ASSIGN_OR_RETURN(std::unique_ptr<RocksDbBackend> backend,
                      RocksDbBackend::Open(path, options.env, spinners));
  return MvccStore::Create(std::move(backend), std::move(options.store));
}

}  // namespace ck::store
