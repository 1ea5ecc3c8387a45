// ResponseWriter::Upgrade and ResponseWriter::Proxy: a raw 101 upgrade echoing bytes, a relay to a
// TLS backend that authenticates the relay by its client certificate (upgrade spliced both ways,
// a chunked stream relayed as it is written), a failed upgrade that must not let the client's
// next bytes reach the backend, and an unreachable backend answered by on_error.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <mutex>
#include <thread>

#include "common/net/asio.h"
#include "common/net/http_client.h"
#include "common/net/http_server.h"
#include "tests/testutil/testutil.h"

namespace ck::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// A blocking TLS client speaking raw bytes.
class RawClient {
 public:
  RawClient(const testutil::TestPki& pki, uint16_t port) : ctx_(asio::ssl::context::tls_client), s_(ioc_, ctx_) {
    ctx_.add_certificate_authority(asio::buffer(pki.ca.cert_pem));
    s_.set_verify_mode(asio::ssl::verify_peer);
    s_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    s_.handshake(asio::ssl::stream_base::client);
  }
  void Write(std::string_view bytes) { asio::write(s_, asio::buffer(bytes)); }
  // Reads until `want` has been seen (or EOF); returns everything read.
  std::string ReadUntil(std::string_view want) { return Read(&want); }
  std::string ReadToEof() { return Read(nullptr); }

 private:
  asio::io_context ioc_;
  asio::ssl::context ctx_;
  asio::ssl::stream<tcp::socket> s_;
  std::string in_;

  std::string Read(const std::string_view* want) {
    while (want == nullptr || in_.find(*want) == std::string::npos) {
      char buf[4096];
      beast::error_code ec;
      size_t n = s_.read_some(asio::buffer(buf), ec);
      if (ec) break;
      in_.append(buf, n);
    }
    return in_;
  }
};

struct Backend {
  std::mutex mu;
  std::vector<std::string> targets;     // every request seen
  std::vector<std::string> identities;  // the client certificate's CN per request
  std::unique_ptr<HttpServer> server;
};

// The backend: /up upgrades and echoes, /stream writes three chunks, anything else is 403.
std::unique_ptr<Backend> StartBackend(const testutil::TestPki& pki) {
  auto b = std::make_unique<Backend>();
  HttpServerOptions o;
  o.tls_config = {pki.server.cert_pem, pki.server.key_pem, pki.ca.cert_pem};
  Backend* raw = b.get();
  b->server = std::make_unique<HttpServer>(o, [raw](Request req, std::shared_ptr<ResponseWriter> w) {
    {
      std::lock_guard lock(raw->mu);
      raw->targets.push_back(req.target);
      raw->identities.push_back(req.peer.client_cert_verified ? req.peer.cert_common_name : "");
    }
    if (req.path == "/up") {
      auto holder = std::make_shared<std::shared_ptr<RawStream>>();
      *holder = w->Upgrade(Headers{{"Connection", "Upgrade"}, {"Upgrade", "test"}},
                           RawStreamHandlers{[holder](std::string bytes) {
                                               if (bytes.find("quit") != std::string::npos) {
                                                 (*holder)->Send("bye");
                                                 (*holder)->Close();
                                                 return;
                                               }
                                               (*holder)->Send("echo:" + bytes);
                                             },
                                             [holder] { holder->reset(); }});
      return;
    }
    if (req.path == "/stream") {
      w->StartStream(200, Headers{{"Content-Type", "text/plain"}});
      std::thread([w] {
        for (int i = 0; i < 3; ++i) {
          w->Write("line " + std::to_string(i) + "\n");
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        w->Finish();
      }).detach();
      return;
    }
    if (req.path == "/big") {
      w->Respond(200, Headers{{"Content-Type", "text/plain"}}, std::string(100000, 'b'));
      return;
    }
    w->Respond(403, Headers{{"Content-Type", "text/plain"}}, "forbidden\n");
  });
  EXPECT_TRUE(b->server->Start().ok());
  return b;
}

// The relay: every request goes to the backend with the relay's client certificate.
std::unique_ptr<HttpServer> StartRelay(const testutil::TestPki& pki, uint16_t backend_port) {
  TlsClientConfig tc;
  tc.ca_pem = pki.ca.cert_pem;
  tc.cert_pem = pki.client.cert_pem;
  tc.key_pem = pki.client.key_pem;
  auto tls = MakeClientTlsContextHandle(tc);
  EXPECT_TRUE(tls.ok());
  HttpServerOptions o;
  o.tls_config = {pki.server.cert_pem, pki.server.key_pem, ""};
  auto relay = std::make_unique<HttpServer>(o, [tls = *tls, backend_port](Request req, std::shared_ptr<ResponseWriter> w) {
    ProxyTarget t;
    t.host = "127.0.0.1";
    t.port = backend_port;
    t.tls = tls;
    t.request = req.method + " " + req.target + " HTTP/1.1\r\nHost: backend\r\n";
    if (!req.headers.Get("Upgrade").empty()) {
      t.request += "Connection: Upgrade\r\nUpgrade: " + std::string(req.headers.Get("Upgrade")) + "\r\n\r\n";
    } else {
      t.request += "Connection: close\r\n\r\n";
    }
    t.on_error = [](const Status& why, int* status, Headers* headers, std::string* body) {
      *status = 503;
      *headers = Headers{{"Content-Type", "text/plain"}};
      *body = "no backend: " + why.message();
    };
    w->Proxy(std::move(t));
  });
  EXPECT_TRUE(relay->Start().ok());
  return relay;
}

// An HttpClient of the relay, trusting the test CA.
std::unique_ptr<HttpClient> RelayClient(const testutil::TestPki& pki, const HttpServer& relay) {
  HttpClientOptions co;
  co.port = relay.port();
  co.tls_config.ca_pem = pki.ca.cert_pem;
  return std::make_unique<HttpClient>(co);
}

TEST(ProxyTest, RawUpgradeEchoesBytes) {
  auto pki = testutil::MakeTestPki();
  auto backend = StartBackend(pki);
  RawClient c(pki, backend->server->port());
  c.Write("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nearly");
  std::string got = c.ReadUntil("echo:early");
  EXPECT_TRUE(got.starts_with("HTTP/1.1 101 Switching Protocols\r\n")) << got;
  c.Write("quit");
  EXPECT_TRUE(c.ReadToEof().ends_with("bye"));
}

TEST(ProxyTest, UpgradeIsSplicedThroughTheRelayWithItsClientCertificate) {
  auto pki = testutil::MakeTestPki();
  auto backend = StartBackend(pki);
  auto relay = StartRelay(pki, backend->server->port());
  RawClient c(pki, relay->port());
  c.Write("GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n");
  std::string head = c.ReadUntil("\r\n\r\n");
  EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
  c.Write("ping-1");
  EXPECT_NE(c.ReadUntil("echo:ping-1").find("echo:ping-1"), std::string::npos);
  std::string big(300000, 'x');
  c.Write(big);
  std::string all = c.ReadUntil(std::string(1000, 'x'));
  c.Write("quit");
  all = c.ReadToEof();
  EXPECT_TRUE(all.ends_with("bye"));
  EXPECT_EQ(std::count(all.begin(), all.end(), 'x'), 300000);
  std::lock_guard lock(backend->mu);
  ASSERT_EQ(backend->identities.size(), 1u);
  EXPECT_EQ(backend->identities[0], "jane");
}

TEST(ProxyTest, ChunkedStreamIsRelayed) {
  auto pki = testutil::MakeTestPki();
  auto backend = StartBackend(pki);
  auto relay = StartRelay(pki, backend->server->port());
  auto client = RelayClient(pki, *relay);
  auto stream = client->Open({"GET", "/stream", {}, ""});
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ((*stream)->status(), 200);
  std::string body;
  while (true) {
    auto piece = (*stream)->Next(std::chrono::seconds(5));
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    if (!*piece) break;
    body += **piece;
  }
  EXPECT_EQ(body, "line 0\nline 1\nline 2\n");
}

TEST(ProxyTest, ALargeBodyIsRelayedWhole) {
  auto pki = testutil::MakeTestPki();
  auto backend = StartBackend(pki);
  auto relay = StartRelay(pki, backend->server->port());
  auto client = RelayClient(pki, *relay);
  auto r = client->Do({"GET", "/big", {}, ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, std::string(100000, 'b'));
}

TEST(ProxyTest, FailedUpgradeNeverForwardsTheClientsNextBytes) {
  auto pki = testutil::MakeTestPki();
  auto backend = StartBackend(pki);
  auto relay = StartRelay(pki, backend->server->port());
  RawClient c(pki, relay->port());
  // The upgrade is refused (403); a second request sent on the same connection must not reach
  // the backend through the relay's authenticated connection.
  c.Write("GET /deny HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n"
          "GET /secret HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string all = c.ReadToEof();
  EXPECT_TRUE(all.starts_with("HTTP/1.1 403 ")) << all;
  EXPECT_EQ(all.find("HTTP/1.1", 5), std::string::npos) << all;
  std::lock_guard lock(backend->mu);
  EXPECT_EQ(backend->targets, std::vector<std::string>{"/deny"});
}

TEST(ProxyTest, UnreachableBackendIsAnsweredByOnError) {
  auto pki = testutil::MakeTestPki();
  uint16_t dead_port;
  {
    auto backend = StartBackend(pki);
    dead_port = backend->server->port();
  }
  auto relay = StartRelay(pki, dead_port);
  auto client = RelayClient(pki, *relay);
  auto r = client->Do({"GET", "/stream", {}, ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_NE(r->body.find("no backend: cannot connect to 127.0.0.1:"), std::string::npos) << r->body;
}

}  // namespace
}  // namespace ck::net
