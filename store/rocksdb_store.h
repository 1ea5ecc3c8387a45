// RocksDbStore: the durable Store (store.h) that ck-apiserver runs in-process, on RocksDB.
//
// Column families: "kv" (current value of each key), "history" (all events of one revision per
// record, keyed by big-endian revision) and "default" (meta: format marker, compacted revision).
// Every group commit is one RocksDB WriteBatch written with sync=true, so an acknowledged
// transaction is in the synced WAL. Start-up reloads the index and recent history and recovers
// the revision from the data itself; a corrupt or unreadable directory fails with a message that
// names the path. README.md has the full layout.
// Threading: as store.h. One process at a time may open a directory (RocksDB's LOCK file).
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace rocksdb {
class Env;
}

namespace ck::store {

struct RocksDbStoreOptions {
  StoreOptions store;
  // Tests inject IO faults (a full disk) through a custom Env; nullptr means the default Env.
  rocksdb::Env* env = nullptr;
  // SCHED_IDLE threads that poll while a WAL sync is in flight, so an idle vCPU does not delay
  // its completion (sync_spinner.h). -1: one per CPU (at most 4); 0: none. Off by default: on
  // this project's current machines the polling vCPU is the slower one (a lone synced put
  // measured ~3,600/s without them, ~2,000/s with them; store/README.md).
  int sync_spinners = 0;
};

// Opens (creating if missing) the store in directory `path`.
// Errors: kInternal for a corrupt or foreign database, kUnavailable for an unreadable directory
// or IO failure; both messages name `path`.
Result<std::unique_ptr<Store>> OpenRocksDbStore(const std::string& path,
                                                RocksDbStoreOptions options = {});

}  // namespace ck::store
