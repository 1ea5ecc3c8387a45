// store_crash_writer: the child of the crash test (crash_test.cc). Opens the store in DIR and
// writes from several threads forever; after each acknowledged write transaction it prints one
// line on stdout so the parent, which SIGKILLs it at random moments, knows what must survive:
//   READY <revision>                            once the store is open
//   A <revision> P <key> <value> [D <key>] ...  an acknowledged write and its events, in order
// Usage: store_crash_writer DIR SEED THREADS
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/rocksdb_store.h"

namespace {

std::mutex out_mu;

void Report(const std::string& line) {
  std::lock_guard<std::mutex> lock(out_mu);
  std::string l = line + "\n";
  const char* p = l.data();
  size_t left = l.size();
  while (left > 0) {
    ssize_t n = write(1, p, left);
    if (n <= 0) _exit(3);
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void Writer(ck::store::Store& store, uint64_t seed, int id) {
  using ck::store::Compare;
  using ck::store::Op;
  std::mt19937_64 rng(seed * 1000 + static_cast<uint64_t>(id));
  auto key = [&] { return "/crash/k" + std::to_string(rng() % 32); };
  for (uint64_t seq = 0;; ++seq) {
    std::string value = "w" + std::to_string(id) + "-" + std::to_string(seq) + "-" +
                        std::to_string(seed);
    std::vector<Compare> cmps;
    std::vector<Op> ops;
    switch (rng() % 4) {
      case 0:
        ops.push_back(Op::Put(key(), value));
        break;
      case 1: {  // two keys at once
        std::string a = key(), b = key();
        ops.push_back(Op::Put(a, value));
        if (b != a) ops.push_back(Op::Put(b, value + "b"));
        break;
      }
      case 2:
        ops.push_back(Op::Delete(key()));
        break;
      default: {  // a guarded update, as the API server does
        std::string k = key();
        auto cur = store.Get(k);
        cmps.push_back(Compare::ModRevisionIs(k, cur.ok() ? cur->mod_revision : 0));
        ops.push_back(Op::Put(k, value));
        break;
      }
    }
    auto r = store.Txn(cmps, ops, {});
    if (!r.ok()) {
      std::fprintf(stderr, "txn failed: %s\n", r.status().ToString().c_str());
      _exit(2);
    }
    if (!r->succeeded) continue;
    std::string line = "A " + std::to_string(r->revision);
    bool wrote = false;
    for (size_t i = 0; i < ops.size(); ++i) {
      if (ops[i].type == Op::Type::kPut) {
        line += " P " + ops[i].key + " " + ops[i].value.str();
        wrote = true;
      } else if (r->results[i].deleted > 0) {
        line += " D " + ops[i].key;
        wrote = true;
      }
    }
    if (wrote) Report(line);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR SEED THREADS\n", argv[0]);
    return 1;
  }
  ck::store::RocksDbStoreOptions options;
  options.store.compaction_window = ck::Duration::zero();
  auto store = ck::store::OpenRocksDbStore(argv[1], options);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 1;
  }
  Report("READY " + std::to_string((*store)->CurrentRevision()));
  uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  int threads = std::atoi(argv[3]);
  std::vector<std::thread> writers;
  for (int i = 0; i < threads; ++i) writers.emplace_back(Writer, std::ref(**store), seed, i);
  for (auto& t : writers) t.join();  // never returns: the parent kills this process
  return 0;
}
