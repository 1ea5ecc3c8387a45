// KvService: our Store behind etcd's v3 gRPC API (the KV and Watch services of etcd_rpc.proto),
// so the benchmark drives etcd and our store with the same client over loopback. It is a
// benchmark harness, not a product API: it serves the subset the benchmark uses (Range, Put,
// DeleteRange, Txn with MOD/VERSION/CREATE compares, and Watch with create/cancel/progress).
// Threading: gRPC's synchronous server threads call into the (thread-safe) Store.
#pragma once

#include <memory>
#include <string>

#include "store/store.h"

namespace ck::store::bench {

class KvServer {
 public:
  // Serves `store` on 127.0.0.1 on a free port.
  static std::unique_ptr<KvServer> Start(Store& store);
  virtual ~KvServer() = default;
  virtual std::string address() const = 0;  // "127.0.0.1:PORT"
};

}  // namespace ck::store::bench
