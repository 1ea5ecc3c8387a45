// The in-memory Backend: commits are free and history never leaves the engine's cache.
#include "store/memory_store.h"

#include <utility>

#include "store/mvcc_store.h"

namespace ck::store {
namespace {

class MemoryBackend final : public Backend {
 public:
  Result<Loaded> Load(int64_t, int64_t) override { return Loaded{}; }
  Status Commit(const std::vector<RevisionEventsPtr>&) override { return Status::Ok(); }
  Status Compact(Revision) override { return Status::Ok(); }
  // The engine keeps every revision above the compacted one, so it never asks for these.
  Status ReadHistory(Revision from, Revision, int64_t, const std::atomic<Revision>&,
                     std::vector<RevisionEventsPtr>*) override {
    return Internal("memory store has no history below the cache (revision " +
                    std::to_string(from) + ")");
  }
  Result<RangeResult> ReadAt(const KeyRange&, Revision rev, int64_t,
                             const std::atomic<Revision>&) override {
    return Internal("memory store has no history below the cache (revision " +
                    std::to_string(rev) + ")");
  }
  int64_t SizeBytes() override { return 0; }
  uint64_t Fsyncs() override { return 0; }
  bool KeepsAllHistoryInMemory() const override { return true; }
};

}  // namespace

std::unique_ptr<Store> NewMemoryStore(StoreOptions options) {
  Result<std::unique_ptr<Store>> store =
      MvccStore::Create(std::make_unique<MemoryBackend>(), std::move(options));
  CK_CHECK(store.ok()) << store.status().ToString();  // loading nothing cannot fail
  return std::move(store).value();
}

}  // namespace ck::store
