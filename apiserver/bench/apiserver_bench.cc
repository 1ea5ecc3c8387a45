// apiserver_bench: ck-apiserver over HTTPS with keep-alive, as a client sees it. Starts its own
// ck-apiserver (from $CK_BIN_DIR) on a free loopback port with a temporary store, then measures:
//   1. pod creates/s with 16 concurrent clients;
//   2. create latency p50/p99 at a steady 100 creates/s;
//   3. LIST of 10,000 pods as JSON and as a Table (median of 5, after 2 unmeasured);
//   4. watch fan-out: 1,000 watchers on pods, the delay from sending a create to each
//      watcher's event (p50/p99 over all watchers and events). The watchers are read by one
//      event-loop thread, as a Go client multiplexes its watches on a few threads: a thread per
//      watcher would measure 1,000 context switches per event on the client side;
//   5. the apiserver's RSS holding 10,000 pods.
// Usage: apiserver_bench [--pods N] [--watchers N]   (CK_BIN_DIR=build/bin)
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/net/asio.h"
#include "common/base/check.h"
#include "common/pki/pki.h"
#include "tests/testutil/apiserver.h"

namespace ck {
namespace {

using Clock = std::chrono::steady_clock;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Watch streams read on one event loop. Each watcher is a TLS connection with the admin client
// certificate; an event ends at a '\n' that is not part of a "\r\n" (JSON lines of the
// chunked body have no raw newlines; the chunk framing and headers end in CRLF).
class WatchFanout {
 public:
  WatchFanout(const testutil::ApiServerProcess& server, int watchers, const std::string& target, int events)
      : ctx_(asio::ssl::context::tls_client), events_(events) {
    Result<pki::KubeconfigData> kc = pki::ParseKubeconfig(testutil::ReadFileOrDie(server.admin_kubeconfig()));
    CK_CHECK(kc.ok()) << kc.status().ToString();
    ctx_.add_certificate_authority(asio::buffer(kc->ca_pem));
    ctx_.use_certificate_chain(asio::buffer(kc->client.cert_pem));
    ctx_.use_private_key(asio::buffer(kc->client.key_pem), asio::ssl::context::pem);
    ctx_.set_verify_mode(asio::ssl::verify_peer);
    std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n";
    for (int i = 0; i < watchers; ++i) {
      auto w = std::make_unique<Watcher>(ioc_, ctx_);
      boost::system::error_code ec;
      w->s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()), ec);
      if (!ec) w->s.next_layer().set_option(tcp::no_delay(true), ec);
      if (!ec) w->s.handshake(asio::ssl::stream_base::client, ec);
      if (!ec) asio::write(w->s, asio::buffer(req), ec);
      CK_CHECK(!ec) << "watch " << i << ": " << ec.message();
      w->seen.reserve(events);
      watchers_.push_back(std::move(w));
    }
    // Every watch is registered once its response has started (the clock starts after this).
    for (size_t i = 0; i < watchers_.size(); ++i) {
      Watcher& w = *watchers_[i];
      std::string head;
      boost::system::error_code ec;
      size_t n = asio::read_until(w.s, asio::dynamic_buffer(head), "\r\n\r\n", ec);
      CK_CHECK(!ec && head.starts_with("HTTP/1.1 200")) << "watch " << i << ": " << (ec ? ec.message() : head);
      if (n > 0) w.last = head[n - 1];
      CK_CHECK(head.find("{\"type\"", n) == std::string::npos) << "watch " << i << ": an event before the first create";
    }
  }

  // Starts reading every stream on one thread; Wait() joins it once each stream has seen
  // `events` events (or failed, or 30 s passed).
  void Start(const std::vector<Clock::time_point>* sent, std::mutex* mu) {
    sent_ = sent;
    mu_ = mu;
    for (auto& w : watchers_) Read(*w);
    thread_ = std::thread([this] { ioc_.run_for(std::chrono::seconds(30)); });
  }
  void Wait() {
    thread_.join();
    for (auto& w : watchers_) {
      boost::system::error_code ec;
      w->s.next_layer().close(ec);
    }
  }
  std::vector<double> Delays() const {
    std::vector<double> all;
    for (const auto& w : watchers_) all.insert(all.end(), w->seen.begin(), w->seen.end());
    return all;
  }

 private:
  struct Watcher {
    Watcher(asio::io_context& ioc, asio::ssl::context& ctx) : s(ioc, ctx) {}
    asio::ssl::stream<tcp::socket> s;
    char buf[16384];
    char last = 0;
    std::vector<double> seen;
  };

  void Read(Watcher& w) {
    w.s.async_read_some(asio::buffer(w.buf), [this, &w](boost::system::error_code ec, size_t n) {
      if (ec) return;
      auto now = Clock::now();
      for (size_t i = 0; i < n; ++i) {
        char c = w.buf[i];
        if (c == '\n' && w.last != '\r' && int(w.seen.size()) < events_) {
          std::lock_guard<std::mutex> l(*mu_);
          w.seen.push_back(std::chrono::duration<double, std::milli>(now - (*sent_)[w.seen.size()]).count());
        }
        w.last = c;
      }
      if (int(w.seen.size()) < events_) {
        Read(w);
      } else if (++finished_ == watchers_.size()) {
        ioc_.stop();
      }
    });
  }

  asio::io_context ioc_;
  asio::ssl::context ctx_;
  int events_;
  std::vector<std::unique_ptr<Watcher>> watchers_;
  size_t finished_ = 0;
  const std::vector<Clock::time_point>* sent_ = nullptr;
  std::mutex* mu_ = nullptr;
  std::thread thread_;
};

std::string PodJson(const std::string& name) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","labels":{"app":"bench","tier":"web"}},"spec":{"containers":[{"name":"app","image":"registry.example/app:1.2.3",)"
         R"("ports":[{"containerPort":8080,"name":"http"}],"resources":{"requests":{"cpu":"100m","memory":"128Mi"},)"
         R"("limits":{"cpu":"500m","memory":"256Mi"}},"env":[{"name":"MODE","value":"production"}]}]}})";
}

net::ClientRequest Req(std::string method, std::string target, std::string body = "", std::string accept = "") {
  net::ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.Add("Content-Type", "application/json");
  if (!accept.empty()) r.headers.Add("Accept", accept);
  return r;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[i];
}

long RssKb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

int Main(int argc, char** argv) {
  // The client keeps freed memory, as a long-running client's heap does: otherwise every 8 MB
  // list body is a fresh mapping and its first touch costs a page fault per 4 KiB, which on
  // this VM doubles the measured LIST time.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  int pods = 10'000, watchers = 1'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--pods") pods = std::stoi(argv[i + 1]);
    if (f == "--watchers") watchers = std::stoi(argv[i + 1]);
  }
  testutil::ApiServerProcess server({"--max-requests-inflight=4000"});
  auto admin = server.Client();
  auto ns = admin->Do(Req("POST", "/api/v1/namespaces", R"({"metadata":{"name":"bench"}})"));
  if (!ns.ok() || ns->status != 201) {
    std::fprintf(stderr, "cannot create namespace: %s\n", ns.ok() ? ns->body.c_str() : ns.status().ToString().c_str());
    return 1;
  }
  // The ServiceAccount admission plugin (on by default) wants the namespace's `default`
  // ServiceAccount, which the controller-manager would create.
  auto sa = admin->Do(Req("POST", "/api/v1/namespaces/bench/serviceaccounts", R"({"metadata":{"name":"default"}})"));
  if (!sa.ok() || sa->status != 201) {
    std::fprintf(stderr, "cannot create the default ServiceAccount: %s\n",
                 sa.ok() ? sa->body.c_str() : sa.status().ToString().c_str());
    return 1;
  }
  // One create first: a failure here says why (every later failure would only be counted).
  {
    auto r = admin->Do(Req("POST", "/api/v1/namespaces/bench/pods", PodJson("p-probe")));
    if (!r.ok() || r->status != 201) {
      std::fprintf(stderr, "cannot create a pod: %s\n", r.ok() ? r->body.c_str() : r.status().ToString().c_str());
      return 1;
    }
  }
  std::printf("ck-apiserver over HTTPS, keep-alive, on 127.0.0.1 (one machine, client and server share the CPUs)\n\n");
  std::printf("%-52s %14s %s\n", "measure", "value", "target");

  // 1. Throughput: 16 clients create pods as fast as they can.
  {
    std::atomic<int> next{0}, errors{0};
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int c = 0; c < 16; ++c) {
      ts.emplace_back([&] {
        auto client = server.Client();
        for (int k; (k = next.fetch_add(1)) < pods;) {
          auto r = client->Do(Req("POST", "/api/v1/namespaces/bench/pods", PodJson("p-" + std::to_string(k))));
          if (!r.ok() || r->status != 201) ++errors;
        }
      });
    }
    for (auto& t : ts) t.join();
    double s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::printf("%-52s %11.0f/s %s\n", "pod creates, 16 concurrent clients", pods / s, ">= 5000/s");
    if (errors) std::printf("  (%d creates failed)\n", errors.load());
  }
  // 5. Memory with that many pods.
  {
    // Let the watch cache settle, then read the RSS.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    long kb = RssKb(server.pid());
    std::printf("%-52s %11.1f MB %s\n", ("apiserver RSS holding " + std::to_string(pods) + " pods").c_str(), kb / 1024.0,
                "<= 150 MB");
  }
  // 3. LIST latency.
  for (auto [label, accept] : {std::pair<std::string, std::string>{"LIST all pods as JSON (median of 5, warm)", ""},
                               {"LIST all pods as a Table (median of 5, warm)",
                                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"}}) {
    std::vector<double> ms;
    size_t bytes = 0;
    // Two lists first: the first encodes each pod's JSON once (then cached), and the server's
    // heaps get their pages; a long-running server is in that state.
    for (int i = 0; i < 2; ++i) (void)admin->Do(Req("GET", "/api/v1/namespaces/bench/pods", "", accept));
    for (int i = 0; i < 5; ++i) {
      auto t0 = Clock::now();
      auto r = admin->Do(Req("GET", "/api/v1/namespaces/bench/pods", "", accept));
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      if (r.ok()) bytes = r->body.size();
    }
    std::printf("%-52s %11.1f ms %s (%.1f MB)\n", label.c_str(), Percentile(ms, 0.5), accept.empty() ? "<= 50 ms" : "",
                bytes / 1e6);
  }
  // 2. Latency at a steady 100 creates/s for 5 s.
  {
    std::vector<double> ms;
    auto client = server.Client();
    auto start = Clock::now();
    for (int k = 0; k < 500; ++k) {
      std::this_thread::sleep_until(start + std::chrono::milliseconds(10 * k));
      auto t0 = Clock::now();
      auto r = client->Do(Req("POST", "/api/v1/namespaces/bench/pods", PodJson("steady-" + std::to_string(k))));
      if (r.ok() && r->status == 201) ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::printf("%-52s %8.2f ms p50 %s\n", "create latency at a steady 100/s", Percentile(ms, 0.5), "");
    std::printf("%-52s %8.2f ms p99 %s\n", "", Percentile(ms, 0.99), "p99 <= 10 ms");
  }
  // 4. Watch fan-out.
  {
    auto list = admin->Do(Req("GET", "/api/v1/namespaces/bench/pods?limit=1"));
    std::string rv;
    if (list.ok()) {
      size_t p = list->body.find("\"resourceVersion\":\"");
      if (p != std::string::npos) rv = list->body.substr(p + 19, list->body.find('"', p + 19) - p - 19);
    }
    constexpr int kEvents = 20;
    WatchFanout fan(server, watchers,
                    "/api/v1/namespaces/bench/pods?watch=true&labelSelector=fan%3Dout&resourceVersion=" + rv, kEvents);
    std::vector<Clock::time_point> sent(kEvents);
    std::mutex mu;
    fan.Start(&sent, &mu);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int e = 0; e < kEvents; ++e) {
      {
        std::lock_guard<std::mutex> l(mu);
        sent[e] = Clock::now();
      }
      auto r = admin->Do(Req("POST", "/api/v1/namespaces/bench/pods",
                             R"({"metadata":{"name":"fan-)" + std::to_string(e) +
                                 R"(","labels":{"fan":"out"}},"spec":{"containers":[{"name":"c","image":"x"}]}})"));
      if (!r.ok() || r->status != 201) std::fprintf(stderr, "fan-out create failed\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    fan.Wait();
    std::vector<double> delays = fan.Delays();
    std::printf("%-52s %8.2f ms p50 (%zu deliveries)\n",
                ("watch event delay, " + std::to_string(watchers) + " watchers").c_str(), Percentile(delays, 0.5),
                delays.size());
    std::printf("%-52s %8.2f ms p99 %s\n", "", Percentile(delays, 0.99), "p99 <= 50 ms");
  }
  return 0;
}

}  // namespace
}  // namespace ck

int main(int argc, char** argv) { return ck::Main(argc, argv); }
