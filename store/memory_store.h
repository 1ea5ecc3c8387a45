// MemoryStore: the Store contract (store.h) held entirely in memory, for fast unit tests of code
// above the store (API server handlers, watch cache, controllers through the API server).
//
// Same engine as RocksDbStore (mvcc_store.h) with persistence left out: every revision above the
// compacted one stays in memory, nothing survives the process, and fsync counters stay at zero.
// Threading: as store.h.
#pragma once

#include <memory>

#include "store/store.h"

namespace ck::store {

std::unique_ptr<Store> NewMemoryStore(StoreOptions options = {});

}  // namespace ck::store
