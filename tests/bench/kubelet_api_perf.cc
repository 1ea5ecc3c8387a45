// kubelet_api_perf: the kubelet API through the apiserver, on a running cluster (started by
// kubelet_api.bench.sh with `ck up`), with the admin kubeconfig.
//   --mode=exec  --pod P --runs N: N exec round trips of `true`, each as kubectl 1.30+ does it: a
//                new TLS connection to the apiserver, GET .../pods/P/exec upgraded to WebSocket
//                (v5.channel.k8s.io), relayed to the kubelet, which runs the command; done when
//                the Status (channel 3) and the close frame arrived. Prints p50/p99/max.
//   --mode=logs  --pod P: GET .../pods/P/log (the whole log, through the apiserver's relay from
//                the kubelet) and prints MB/s of body received.
// Usage: kubelet_api_perf --kubeconfig=F --mode=exec|logs --pod=P [--namespace=NS] [--runs=N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/client/rest/config.h"
#include "common/net/asio.h"
#include "common/net/http_client.h"
#include "common/net/url.h"
#include "kubelet/streaming/websocket.h"

namespace ck {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

struct Flags {
  std::string kubeconfig, mode = "exec", pod, ns = "default";
  int runs = 200;
};

bool Flag(const char* arg, const char* name, std::string* out) {
  size_t n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=') return false;
  *out = arg + n + 1;
  return true;
}

struct Endpoint {
  std::string host;
  uint16_t port = 443;
};

Endpoint ParseServer(const std::string& server) {
  Endpoint e;
  std::string rest = server.substr(server.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  e.host = rest.substr(0, colon);
  if (colon != std::string::npos) e.port = static_cast<uint16_t>(std::stoi(rest.substr(colon + 1)));
  return e;
}

// Milliseconds from the start of one exec to each phase.
struct Phases {
  double tls = 0, upgraded = 0, status = 0;
};

// One exec of `true` over WebSocket v5; returns false on any protocol surprise.
bool ExecOnce(asio::ssl::context& ctx, const Endpoint& ep, const std::string& target, std::string* error,
              Phases* phases) {
  const auto t0 = Steady::now();
  auto since = [&] { return std::chrono::duration<double, std::milli>(Steady::now() - t0).count(); };
  asio::io_context ioc;
  asio::ssl::stream<tcp::socket> s(ioc, ctx);
  boost::system::error_code ec;
  s.next_layer().connect(tcp::endpoint(asio::ip::make_address(ep.host), ep.port), ec);
  if (!ec) s.next_layer().set_option(tcp::no_delay(true));
  if (!ec) s.handshake(asio::ssl::stream_base::client, ec);
  if (ec) {
    *error = "connect: " + ec.message();
    return false;
  }
  phases->tls = since();
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: " + ep.host +
                    "\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n";
  asio::write(s, asio::buffer(req), ec);
  std::string in;
  char buf[16384];
  while (in.find("\r\n\r\n") == std::string::npos) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) {
      *error = "reading the 101: " + ec.message();
      return false;
    }
    in.append(buf, n);
  }
  if (!in.starts_with("HTTP/1.1 101")) {
    *error = "no upgrade: " + in.substr(0, in.find("\r\n"));
    return false;
  }
  phases->upgraded = since();
  std::string rest = in.substr(in.find("\r\n\r\n") + 4);
  bool status = false, closed = false;
  std::string status_json;
  kubelet::streaming::WebSocketConnection ws(
      kubelet::streaming::WebSocketConnection::Role::kClient,
      kubelet::streaming::Transport{[&](std::string bytes) {
                                      boost::system::error_code wec;
                                      asio::write(s, asio::buffer(bytes), wec);
                                      return !wec;
                                    },
                                    [] {}},
      kubelet::streaming::WebSocketConnection::Callbacks{
          [&](const std::string& payload, bool) {
            std::string_view p = payload;
            if (p.starts_with('\x03')) {
              status = true;
              phases->status = since();
              status_json = std::string(p.substr(1));
            }
          },
          [&](uint16_t, std::string) { closed = true; }});
  if (!rest.empty() && !ws.Feed(rest).ok()) return false;
  while (!closed) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    if (Status fs = ws.Feed(std::string_view(buf, n)); !fs.ok()) {
      *error = fs.message();
      return false;
    }
  }
  if (!status || status_json.find("\"Success\"") == std::string::npos) {
    *error = "no Success status: " + status_json;
    return false;
  }
  return true;
}

int Exec(const Flags& f, const client::RestConfig& rc) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(rc.ca_pem));
  ctx.use_certificate_chain(asio::buffer(rc.cert_pem));
  ctx.use_private_key(asio::buffer(rc.key_pem), asio::ssl::context::pem);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  Endpoint ep = ParseServer(rc.server);
  std::string target = "/api/v1/namespaces/" + f.ns + "/pods/" + f.pod + "/exec?command=true&stdout=true&stderr=true";
  std::vector<double> ms, tls, upgraded, status;
  std::string error;
  for (int i = 0; i < f.runs + 5; ++i) {
    auto t0 = Steady::now();
    Phases ph;
    if (!ExecOnce(ctx, ep, target, &error, &ph)) {
      std::fprintf(stderr, "kubelet_api_perf: exec failed: %s\n", error.c_str());
      return 1;
    }
    if (i < 5) continue;
    ms.push_back(std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
    tls.push_back(ph.tls);
    upgraded.push_back(ph.upgraded);
    status.push_back(ph.status);
  }
  auto pct = [](std::vector<double> v, double p) {
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
  };
  std::printf("%-52s p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms  (%d runs; target p99 <= 50 ms)\n",
              "exec round trip (WebSocket v5, apiserver -> kubelet)", pct(ms, 0.5), pct(ms, 0.99), pct(ms, 1.0), f.runs);
  std::printf("%-52s TLS %.1f ms, 101 %.1f ms, Status %.1f ms\n", "  its phases (p50, from the start)", pct(tls, 0.5),
              pct(upgraded, 0.5), pct(status, 0.5));
  return 0;
}

int Logs(const Flags& f, const client::RestConfig& rc) {
  Endpoint ep = ParseServer(rc.server);
  net::HttpClientOptions o;
  o.host = ep.host;
  o.port = ep.port;
  o.tls_config.ca_pem = rc.ca_pem;
  o.tls_config.cert_pem = rc.cert_pem;
  o.tls_config.key_pem = rc.key_pem;
  o.timeout = std::chrono::seconds(120);
  net::HttpClient client(o);
  double best = 0;
  size_t bytes = 0;
  for (int run = 0; run < 3; ++run) {
    auto t0 = Steady::now();
    auto stream = client.Open({"GET", "/api/v1/namespaces/" + f.ns + "/pods/" + f.pod + "/log", {}, ""});
    if (!stream.ok() || (*stream)->status() != 200) {
      std::fprintf(stderr, "kubelet_api_perf: log request failed: %s\n",
                   stream.ok() ? std::to_string((*stream)->status()).c_str() : stream.status().message().c_str());
      return 1;
    }
    bytes = 0;
    while (true) {
      auto piece = (*stream)->Next(std::chrono::seconds(60));
      if (!piece.ok()) {
        std::fprintf(stderr, "kubelet_api_perf: log stream: %s\n", piece.status().message().c_str());
        return 1;
      }
      if (!*piece) break;
      bytes += (*piece)->size();
    }
    double secs = std::chrono::duration<double>(Steady::now() - t0).count();
    best = std::max(best, bytes / 1e6 / secs);
  }
  std::printf("%-52s %8.1f MB/s  (%.0f MB of log; best of 3; target >= 50 MB/s)\n",
              "log streaming through the apiserver relay", best, bytes / 1e6);
  return 0;
}

}  // namespace
}  // namespace ck

int main(int argc, char** argv) {
  ck::Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string runs;
    if (ck::Flag(argv[i], "--kubeconfig", &f.kubeconfig) || ck::Flag(argv[i], "--mode", &f.mode) ||
        ck::Flag(argv[i], "--pod", &f.pod) || ck::Flag(argv[i], "--namespace", &f.ns)) {
      continue;
    }
    if (ck::Flag(argv[i], "--runs", &runs)) {
      f.runs = std::max(1, std::atoi(runs.c_str()));
      continue;
    }
    std::fprintf(stderr, "kubelet_api_perf: unknown flag %s\n", argv[i]);
    return 2;
  }
  if (f.kubeconfig.empty() || f.pod.empty()) {
    std::fprintf(stderr, "kubelet_api_perf: --kubeconfig and --pod are required\n");
    return 2;
  }
  ck::Result<ck::client::RestConfig> rc = ck::client::LoadKubeconfig(f.kubeconfig);
  if (!rc.ok()) {
    std::fprintf(stderr, "kubelet_api_perf: %s\n", rc.status().message().c_str());
    return 2;
  }
  if (f.mode == "exec") return ck::Exec(f, *rc);
  if (f.mode == "logs") return ck::Logs(f, *rc);
  std::fprintf(stderr, "kubelet_api_perf: --mode must be exec or logs\n");
  return 2;
}
