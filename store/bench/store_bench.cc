// store_bench: our store against etcd 3.4 on the same machine, same workload, same durability.
//
// Three columns: etcd over its v3 gRPC API; our RocksDbStore behind the same gRPC API (KvServer,
// loopback TCP, same client code); our store in-process, as ck-apiserver uses it. Workloads:
// sequential 256-byte puts from 1 client and from 64 concurrent clients, guarded updates (a
// lease heartbeat: compare mod_revision, put), ranges of 1,000 keys, and watch delivery latency
// with 100 watchers. Every write is durable in all columns (etcd fsyncs its WAL by default; our
// store syncs its WAL per group commit) and the table reports our fsyncs per acknowledged write.
//
// Usage: store_bench [--etcd 127.0.0.1:PORT] [--dir DIR] [--seconds S] [--rounds N]
//                    [--only etcd,grpc,inproc]
// Without --etcd it starts /usr/bin/etcd itself on free loopback ports with a temporary data dir
// (under DIR, default $TMPDIR or /var/tmp) and kills it by PID when done.
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "store/bench/etcd_rpc.grpc.pb.h"
#include "store/bench/kv_service.h"
#include "store/rocksdb_store.h"

namespace ck::store::bench {
namespace {

namespace pb = ::etcdserverpb;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr int kValueSize = 256;
constexpr int kRangeKeys = 1000;
constexpr int kWatchers = 100;
constexpr int kWatchPuts = 1000;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// One way to reach a store: etcd or ours over gRPC, or ours in-process.
class Target {
 public:
  virtual ~Target() = default;
  // `client` picks the connection (gRPC) so concurrent clients spread like separate processes.
  virtual bool Put(int client, const std::string& key, const std::string& value) = 0;
  virtual int64_t ModRevision(int client, const std::string& key) = 0;
  // Put only if the key's mod_revision is still `mod`; returns the new mod revision or 0.
  virtual int64_t GuardedPut(int client, const std::string& key, int64_t mod,
                             const std::string& value) = 0;
  virtual int64_t RangeCount(int client, const std::string& prefix) = 0;
  // Starts a watch on `prefix` from now; `on_value` gets each event's value. Returns once the
  // watch is established.
  virtual std::shared_ptr<void> Watch(const std::string& prefix,
                                      std::function<void(const std::string&)> on_value) = 0;
};

class GrpcTarget final : public Target {
 public:
  explicit GrpcTarget(const std::string& address, int channels = 8) {
    for (int i = 0; i < channels; ++i) {
      grpc::ChannelArguments args;
      args.SetInt("grpc.channel_id", i);  // distinct channels, not one shared subchannel
      args.SetMaxReceiveMessageSize(64 << 20);
      auto ch = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
      channels_.push_back(ch);
      kv_.push_back(pb::KV::NewStub(ch));
    }
  }
  bool Ready(std::chrono::seconds timeout) {
    auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + 1s);
      pb::RangeRequest req;
      req.set_key("/ready");
      pb::RangeResponse resp;
      if (kv_[0]->Range(&ctx, req, &resp).ok()) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
  pb::KV::Stub& kv(int client) { return *kv_[static_cast<size_t>(client) % kv_.size()]; }

  bool Put(int client, const std::string& key, const std::string& value) override {
    grpc::ClientContext ctx;
    pb::PutRequest req;
    req.set_key(key);
    req.set_value(value);
    pb::PutResponse resp;
    grpc::Status s = kv(client).Put(&ctx, req, &resp);
    if (!s.ok()) std::fprintf(stderr, "put failed: %s\n", s.error_message().c_str());
    return s.ok();
  }
  int64_t ModRevision(int client, const std::string& key) override {
    grpc::ClientContext ctx;
    pb::RangeRequest req;
    req.set_key(key);
    pb::RangeResponse resp;
    if (!kv(client).Range(&ctx, req, &resp).ok() || resp.kvs_size() == 0) return 0;
    return resp.kvs(0).mod_revision();
  }
  int64_t GuardedPut(int client, const std::string& key, int64_t mod,
                     const std::string& value) override {
    grpc::ClientContext ctx;
    pb::TxnRequest req;
    pb::Compare* c = req.add_compare();
    c->set_key(key);
    c->set_target(pb::Compare::MOD);
    c->set_result(pb::Compare::EQUAL);
    c->set_mod_revision(mod);
    pb::PutRequest* put = req.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(value);
    pb::TxnResponse resp;
    if (!kv(client).Txn(&ctx, req, &resp).ok() || !resp.succeeded()) return 0;
    return resp.header().revision();
  }
  int64_t RangeCount(int client, const std::string& prefix) override {
    grpc::ClientContext ctx;
    pb::RangeRequest req;
    req.set_key(prefix);
    req.set_range_end(PrefixEnd(prefix));
    pb::RangeResponse resp;
    grpc::Status s = kv(client).Range(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "range failed: %s\n", s.error_message().c_str());
      return -1;
    }
    return resp.kvs_size();
  }

  struct WatchStream {
    grpc::ClientContext ctx;
    std::unique_ptr<pb::Watch::Stub> stub;
    std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream;
    std::thread reader;
    ~WatchStream() {
      ctx.TryCancel();
      if (reader.joinable()) reader.join();
    }
  };
  std::shared_ptr<void> Watch(const std::string& prefix,
                              std::function<void(const std::string&)> on_value) override {
    auto w = std::make_shared<WatchStream>();
    w->stub = pb::Watch::NewStub(channels_[next_watch_++ % channels_.size()]);
    w->stream = w->stub->Watch(&w->ctx);
    pb::WatchRequest req;
    req.mutable_create_request()->set_key(prefix);
    req.mutable_create_request()->set_range_end(PrefixEnd(prefix));
    if (!w->stream->Write(req)) return nullptr;
    pb::WatchResponse created;
    if (!w->stream->Read(&created) || !created.created()) return nullptr;
    WatchStream* raw = w.get();
    w->reader = std::thread([raw, on_value] {
      pb::WatchResponse r;
      while (raw->stream->Read(&r)) {
        for (const pb::Event& e : r.events()) on_value(e.kv().value());
      }
    });
    return w;
  }

 private:
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<pb::KV::Stub>> kv_;
  size_t next_watch_ = 0;
};

class InProcessTarget final : public Target {
 public:
  explicit InProcessTarget(Store& store) : store_(store) {}
  bool Put(int, const std::string& key, const std::string& value) override {
    auto r = store_.Put(key, value);
    if (!r.ok()) std::fprintf(stderr, "put failed: %s\n", r.status().ToString().c_str());
    return r.ok();
  }
  int64_t ModRevision(int, const std::string& key) override {
    auto r = store_.Get(key);
    return r.ok() ? r->mod_revision : 0;
  }
  int64_t GuardedPut(int, const std::string& key, int64_t mod, const std::string& value) override {
    auto r = store_.Txn({Compare::ModRevisionIs(key, mod)}, {Op::Put(key, value)}, {});
    return r.ok() && r->succeeded ? r->revision : 0;
  }
  int64_t RangeCount(int, const std::string& prefix) override {
    auto r = store_.Range(prefix, PrefixEnd(prefix));
    return r.ok() ? static_cast<int64_t>(r->kvs.size()) : -1;
  }
  std::shared_ptr<void> Watch(const std::string& prefix,
                              std::function<void(const std::string&)> on_value) override {
    auto w = store_.Watch({KeyRange::Prefix(prefix), 0}, [on_value](const WatchResponse& r) {
      for (const Event& e : r.events) on_value(e.kv.value);
    });
    if (!w.ok()) return nullptr;
    return std::shared_ptr<Watcher>(std::move(w).value());
  }

 private:
  Store& store_;
};

// Runs `clients` threads calling `op(client, i)` until `seconds` pass; returns ops per second.
double RunFor(int clients, double seconds, const std::function<bool(int, int64_t)>& op) {
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  auto start = Clock::now();
  auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int64_t i = 0; Clock::now() < end; ++i) {
        if (!op(c, i)) {
          failed = true;
          return;
        }
        done.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) return -1;
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(done.load()) / elapsed;
}

// One column of the table: a target and, for our store, the Store whose counters it reads.
struct Column {
  const char* name;
  Target* target;
  Store* stats;  // nullptr for etcd
  bool enabled;
  bool put1_only = false;  // the extra "sync spinners on" column runs only the 1-client puts
};

// Best of the rounds for each figure (rates: highest; latencies: lowest), the same rule for every
// column, so a load spike from other processes on the machine hurts nobody twice.
struct Figures {
  double put1 = -1, put64 = -1, guarded = -1, range = -1;
  double fsync_put1 = -1, fsync_put64 = -1;
  double watch_issue_p50 = -1, watch_issue_p99 = -1, watch_ack_p50 = -1, watch_ack_p99 = -1;
  double put_p50 = -1, put_p99 = -1;
  static void Max(double* into, double v) { *into = std::max(*into, v); }
  static void Min(double* into, double v) {
    if (v >= 0 && (*into < 0 || v < *into)) *into = v;
  }
};

double FsyncsPerWrite(const StoreStats& a, const StoreStats& b) {
  uint64_t writes = b.ck_store_write_txns_total - a.ck_store_write_txns_total;
  return writes == 0 ? -1.0
                     : static_cast<double>(b.ck_store_fsyncs_total - a.ck_store_fsyncs_total) /
                           static_cast<double>(writes);
}

double PutRate(Column& c, int clients, double seconds, double* fsyncs, int round) {
  std::string value(kValueSize, 'v');
  StoreStats before = c.stats != nullptr ? c.stats->Stats() : StoreStats{};
  double rate = RunFor(clients, seconds, [&](int client, int64_t i) {
    return c.target->Put(client, "/bench/put" + std::to_string(clients) + "/" +
                                     std::to_string(round) + "/" + std::to_string(client) + "/" +
                                     std::to_string(i % 100),
                         value);
  });
  if (c.stats != nullptr) *fsyncs = FsyncsPerWrite(before, c.stats->Stats());
  return rate;
}

double GuardedRate(Column& c, double seconds) {
  std::string lease = "/bench/leases/node-1";
  std::string value(300, 'l');
  if (!c.target->Put(0, lease, value)) return -1;
  int64_t mod = c.target->ModRevision(0, lease);
  return RunFor(1, seconds, [&](int client, int64_t) {
    mod = c.target->GuardedPut(client, lease, mod, value);
    return mod != 0;
  });
}

double RangeRate(Column& c, double seconds) {
  std::string value(kValueSize, 'v');
  for (int i = 0; i < kRangeKeys; ++i) {
    char key[64];
    std::snprintf(key, sizeof(key), "/bench/range/%04d", i);
    if (!c.target->Put(i % 8, key, value)) return -1;
  }
  return RunFor(1, seconds, [&](int client, int64_t) {
    return c.target->RangeCount(client, "/bench/range/") == kRangeKeys;
  });
}

double Percentile(std::vector<int64_t>& v, int pct) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[std::min(v.size() - 1, v.size() * pct / 100)]) / 1e6;
}

// 100 watchers on one prefix; one client puts kWatchPuts values. Latency of every delivery to
// every watcher, measured from the put being issued (includes its durable commit, as etcd's own
// benchmark does) and from the put being acknowledged (pure delivery; 0 if it arrived earlier).
void WatchLatency(Column& c, Figures* f) {
  struct Delivery {
    int index;
    int64_t at;
  };
  std::vector<std::vector<Delivery>> got(kWatchers);
  std::atomic<int64_t> received{0};
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::shared_ptr<void>> watches;
  for (int w = 0; w < kWatchers; ++w) {
    auto* mine = &got[w];
    mine->reserve(kWatchPuts);
    auto h = c.target->Watch("/bench/watch/", [mine, &received, &cv, &mu](const std::string& v) {
      mine->push_back({std::atoi(v.c_str()), NowNs()});
      if (received.fetch_add(1) + 1 == int64_t{kWatchers} * kWatchPuts) {
        std::lock_guard<std::mutex> lock(mu);
        cv.notify_all();
      }
    });
    if (!h) {
      std::fprintf(stderr, "[%s] watch failed\n", c.name);
      return;
    }
    watches.push_back(std::move(h));
  }
  std::vector<int64_t> issued(kWatchPuts), acked(kWatchPuts), put_ns;
  for (int i = 0; i < kWatchPuts; ++i) {
    std::string value = std::to_string(i) + " ";
    value.resize(kValueSize, 'x');
    issued[i] = NowNs();
    if (!c.target->Put(0, "/bench/watch/" + std::to_string(i % 10), value)) return;
    acked[i] = NowNs();
    put_ns.push_back(acked[i] - issued[i]);
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait_for(lock, 60s, [&] { return received.load() == int64_t{kWatchers} * kWatchPuts; });
  }
  watches.clear();
  std::vector<int64_t> from_issue, from_ack;
  for (auto& deliveries : got) {
    for (const Delivery& d : deliveries) {
      if (d.index < 0 || d.index >= kWatchPuts) continue;
      from_issue.push_back(d.at - issued[d.index]);
      from_ack.push_back(std::max<int64_t>(0, d.at - acked[d.index]));
    }
  }
  if (static_cast<int64_t>(from_issue.size()) != int64_t{kWatchers} * kWatchPuts) {
    std::fprintf(stderr, "[%s] only %zu of %d watch events arrived\n", c.name, from_issue.size(),
                 kWatchers * kWatchPuts);
    return;
  }
  Figures::Min(&f->watch_issue_p50, Percentile(from_issue, 50));
  Figures::Min(&f->watch_issue_p99, Percentile(from_issue, 99));
  Figures::Min(&f->watch_ack_p50, Percentile(from_ack, 50));
  Figures::Min(&f->watch_ack_p99, Percentile(from_ack, 99));
  Figures::Min(&f->put_p50, Percentile(put_ns, 50));
  Figures::Min(&f->put_p99, Percentile(put_ns, 99));
}

// Each workload runs on every column back to back (the order alternates between rounds), so the
// columns of one row are measured under the same conditions.
std::vector<Figures> RunAll(std::vector<Column>& cols, double seconds, int rounds) {
  std::vector<Figures> f(cols.size());
  for (int round = 0; round < rounds; ++round) {
    std::vector<size_t> order;
    for (size_t i = 0; i < cols.size(); ++i) order.push_back(round % 2 == 0 ? i : cols.size() - 1 - i);
    auto each = [&](const char* what, const std::function<void(Column&, Figures&)>& fn) {
      for (size_t i : order) {
        if (!cols[i].enabled) continue;
        if (cols[i].put1_only && std::string(what) != "put, 1 client") continue;
        std::fprintf(stderr, "round %d: %-28s %s\n", round + 1, what, cols[i].name);
        fn(cols[i], f[i]);
      }
    };
    each("put, 1 client", [&](Column& c, Figures& x) {
      double fs = -1;
      Figures::Max(&x.put1, PutRate(c, 1, seconds, &fs, round));
      if (fs >= 0) x.fsync_put1 = std::max(x.fsync_put1, fs);
    });
    each("put, 64 clients", [&](Column& c, Figures& x) {
      double fs = -1;
      Figures::Max(&x.put64, PutRate(c, 64, seconds, &fs, round));
      if (fs >= 0) x.fsync_put64 = std::max(x.fsync_put64, fs);
    });
    each("lease heartbeat txn", [&](Column& c, Figures& x) { Figures::Max(&x.guarded, GuardedRate(c, seconds)); });
    each("range of 1000 keys", [&](Column& c, Figures& x) { Figures::Max(&x.range, RangeRate(c, seconds)); });
    each("watch latency", [&](Column& c, Figures& x) { WatchLatency(c, &x); });
  }
  return f;
}

// etcd started by this process, on free loopback ports, killed by PID at the end.
class EtcdProcess {
 public:
  static std::unique_ptr<EtcdProcess> Start(const std::string& root) {
    auto owned = std::make_unique<EtcdProcess>();
    EtcdProcess& e = *owned;
    e.dir_ = root + "/etcd-XXXXXX";
    if (mkdtemp(e.dir_.data()) == nullptr) return nullptr;
    int client_port = FreePort(), peer_port = FreePort();
    std::string client = "http://127.0.0.1:" + std::to_string(client_port);
    std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
    std::vector<std::string> args = {"/usr/bin/etcd", "--name", "bench", "--data-dir",
                                     e.dir_ + "/data", "--listen-client-urls", client,
                                     "--advertise-client-urls", client, "--listen-peer-urls", peer,
                                     "--initial-advertise-peer-urls", peer, "--initial-cluster",
                                     "bench=" + peer, "--logger", "zap", "--log-level", "error",
                                     "--log-outputs", e.dir_ + "/etcd.log"};
    e.pid_ = fork();
    if (e.pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    e.address_ = "127.0.0.1:" + std::to_string(client_port);
    return owned;
  }
  ~EtcdProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  const std::string& address() const { return address_; }

 private:
  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    close(fd);
    return ntohs(addr.sin_port);
  }
  pid_t pid_ = -1;
  std::string dir_;
  std::string address_;
};

std::string Rate(double v) {
  char buf[32];
  if (v == -2) return "-";
  if (v < 0) return "failed";
  std::snprintf(buf, sizeof(buf), "%.0f", v);
  return buf;
}
std::string Fixed(double v, int digits) {
  char buf[32];
  if (v < 0) return "-";
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}
std::string Ratio(double ours, double theirs) {
  if (ours <= 0 || theirs <= 0) return "-";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1fx", ours / theirs);
  return buf;
}

int Main(int argc, char** argv) {
  std::string etcd_address;
  std::string root = std::getenv("TMPDIR") != nullptr ? std::getenv("TMPDIR") : "/var/tmp";
  double seconds = 3;
  int rounds = 2;
  std::string only = "etcd,grpc,inproc";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--etcd") etcd_address = argv[i + 1];
    else if (flag == "--only") only = argv[i + 1];
    else if (flag == "--dir") root = argv[i + 1];
    else if (flag == "--seconds") seconds = std::atof(argv[i + 1]);
    else if (flag == "--rounds") rounds = std::max(1, std::atoi(argv[i + 1]));
    else {
      std::fprintf(stderr, "usage: %s [--etcd HOST:PORT] [--dir DIR] [--seconds S] [--rounds N] [--only etcd,grpc,inproc]\n", argv[0]);
      return 2;
    }
  }
  auto wanted = [&](const char* what) { return only.find(what) != std::string::npos; };
  std::unique_ptr<EtcdProcess> etcd;
  if (etcd_address.empty() && wanted("etcd")) {
    etcd = EtcdProcess::Start(root);
    if (!etcd) {
      std::fprintf(stderr, "cannot start /usr/bin/etcd\n");
      return 1;
    }
    etcd_address = etcd->address();
  }
  GrpcTarget etcd_target(etcd_address.empty() ? "127.0.0.1:1" : etcd_address);
  if (wanted("etcd") && !etcd_target.Ready(30s)) {
    std::fprintf(stderr, "etcd at %s is not answering\n", etcd_address.c_str());
    return 1;
  }

  std::string dir = root + "/ck-store-bench-XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{dir};
  RocksDbStoreOptions options;
  auto in_process = OpenRocksDbStore(dir + "/in-process", options);
  auto served = OpenRocksDbStore(dir + "/grpc", options);
  if (!in_process.ok() || !served.ok()) {
    std::fprintf(stderr, "cannot open the store: %s %s\n", in_process.status().ToString().c_str(),
                 served.status().ToString().c_str());
    return 1;
  }
  RocksDbStoreOptions spin = options;
  spin.sync_spinners = -1;
  auto spinning = OpenRocksDbStore(dir + "/in-process-spinners", spin);
  if (!spinning.ok()) {
    std::fprintf(stderr, "cannot open the store: %s\n", spinning.status().ToString().c_str());
    return 1;
  }
  InProcessTarget ours_spinning(**spinning);
  auto server = KvServer::Start(**served);
  GrpcTarget ours_grpc(server->address());
  if (!ours_grpc.Ready(10s)) return 1;
  InProcessTarget ours_local(**in_process);

  std::vector<Column> cols = {
      {"etcd gRPC", &etcd_target, nullptr, wanted("etcd")},
      {"ck gRPC", &ours_grpc, served->get(), wanted("grpc")},
      {"ck in-process", &ours_local, in_process->get(), wanted("inproc")},
      {"ck in-process, sync spinners", &ours_spinning, spinning->get(), wanted("inproc"), true},
  };
  std::vector<Figures> f = RunAll(cols, seconds, rounds);
  const Figures& e = f[0];
  const Figures& g = f[1];
  const Figures& l = f[2];

  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 0) load[0] = -1;
  std::printf("\nStore benchmark: etcd 3.4 (gRPC, WAL fsync per commit) vs Clearkube store (RocksDB, synced WAL, group commit)\n");
  std::printf("same machine (%u CPUs, load average %.1f at the end), loopback, %d-byte values, data dirs under %s;\n",
              std::thread::hardware_concurrency(), load[0], kValueSize, root.c_str());
  std::printf("%d round(s) of %.0f s per workload, columns interleaved; best round per figure for every column\n\n",
              rounds, seconds);
  std::printf("%-38s %10s %10s %14s %10s %12s %13s\n", "workload", "etcd gRPC", "ck gRPC",
              "ck in-process", "gRPC/etcd", "in-proc/etcd", "ck fsync/ack");
  auto row = [](const char* name, double ev, double gv, double lv, const std::string& fs) {
    std::printf("%-38s %10s %10s %14s %10s %12s %13s\n", name, Rate(ev).c_str(), Rate(gv).c_str(),
                Rate(lv).c_str(), Ratio(gv, ev).c_str(), Ratio(lv, ev).c_str(), fs.c_str());
  };
  auto fs = [](double a, double b) { return Fixed(a, 3) + " / " + Fixed(b, 3); };
  row("put 256 B, 1 client (ops/s)", e.put1, g.put1, l.put1, fs(g.fsync_put1, l.fsync_put1));
  row("  same, sync spinners on (ops/s)", e.put1, -2, f[3].put1, fs(-1, f[3].fsync_put1));
  row("put 256 B, 64 clients (ops/s)", e.put64, g.put64, l.put64, fs(g.fsync_put64, l.fsync_put64));
  row("lease heartbeat txn, 1 client (ops/s)", e.guarded, g.guarded, l.guarded, "");
  row("range of 1,000 keys, 1 client (ops/s)", e.range, g.range, l.range, "");
  auto lat_row = [](const char* name, double ev, double gv, double lv) {
    std::printf("%-38s %10s %10s %14s %10s %12s\n", name, Fixed(ev, 3).c_str(), Fixed(gv, 3).c_str(),
                Fixed(lv, 3).c_str(), Ratio(ev, gv).c_str(), Ratio(ev, lv).c_str());
  };
  lat_row("watch p50, 100 watchers, from put (ms)", e.watch_issue_p50, g.watch_issue_p50, l.watch_issue_p50);
  lat_row("watch p99, 100 watchers, from put (ms)", e.watch_issue_p99, g.watch_issue_p99, l.watch_issue_p99);
  lat_row("watch p50, 100 watchers, from ack (ms)", e.watch_ack_p50, g.watch_ack_p50, l.watch_ack_p50);
  lat_row("watch p99, 100 watchers, from ack (ms)", e.watch_ack_p99, g.watch_ack_p99, l.watch_ack_p99);
  lat_row("  (those puts: latency p50, ms)", e.put_p50, g.put_p50, l.put_p50);
  lat_row("  (those puts: latency p99, ms)", e.put_p99, g.put_p99, l.put_p99);
  std::printf("\nRates: ck/etcd. Latencies: etcd/ck. Higher is better for ck in both.\n");
  std::printf("Sync spinners (off by default): SCHED_IDLE threads polling while a WAL sync is in flight; they help\n");
  std::printf("where an idle vCPU delays a sync's completion, and cost where the host deschedules a polling vCPU.\n");
  std::printf("ck fsync/ack: WAL syncs (RocksDB WAL_FILE_SYNCED) per acknowledged write, ck gRPC / ck in-process.\n");
  std::printf("Watch 'from put': put issued -> event at each watcher (includes the durable commit, as etcd's\n");
  std::printf("benchmark measures); 'from ack': put acknowledged -> event at each watcher (0 if earlier).\n");
  return 0;
}

}  // namespace
}  // namespace ck::store::bench

int main(int argc, char** argv) { return ck::store::bench::Main(argc, argv); }
