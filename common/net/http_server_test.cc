// The HTTP layer over real TLS on loopback: keep-alive, streaming, limits, timeouts, client
// certificates and WebSocket upgrade.
#include "common/net/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "common/net/http_client.h"
#include "tests/testutil/testutil.h"

namespace ck::net {
namespace {

using namespace std::chrono_literals;
using testutil::TestPki;

const TestPki& Pki() {
  static const TestPki pki = testutil::MakeTestPki();
  return pki;
}

HttpServerOptions TlsOptions() {
  HttpServerOptions o;
  o.tls_config.cert_pem = Pki().server.cert_pem;
  o.tls_config.key_pem = Pki().server.key_pem;
  o.tls_config.client_ca_pem = Pki().ca.cert_pem;
  return o;
}

HttpClientOptions ClientFor(const HttpServer& server, bool with_cert = true) {
  HttpClientOptions o;
  o.port = server.port();
  o.tls_config.ca_pem = Pki().ca.cert_pem;
  if (with_cert) {
    o.tls_config.cert_pem = Pki().client.cert_pem;
    o.tls_config.key_pem = Pki().client.key_pem;
  }
  return o;
}

void Echo(Request req, std::shared_ptr<ResponseWriter> w) {
  std::string body = req.method + " " + req.path + "?" + req.raw_query + " user=" + req.peer.cert_common_name +
                     " verified=" + (req.peer.client_cert_verified ? "1" : "0") + " groups=";
  for (const auto& g : req.peer.cert_organizations) body += g + ",";
  body += " body=" + std::to_string(req.body.size());
  w->Respond(200, Headers{{"Content-Type", "text/plain"}}, body);
}

TEST(HttpServerTest, KeepAliveReusesOneConnection) {
  HttpServer server(TlsOptions(), Echo);
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  for (int i = 0; i < 50; ++i) {
    auto r = client.Do({"GET", "/api/v1/pods?limit=" + std::to_string(i), {}, ""});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.rfind("GET /api/v1/pods?limit=" + std::to_string(i) + " user=jane", 0), 0u) << r->body;
  }
  EXPECT_EQ(client.connections_opened(), 1);
}

TEST(HttpServerTest, ClientCertificateIdentityReachesHandler) {
  HttpServer server(TlsOptions(), Echo);
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto r = client.Do({"POST", "/x", {{"Content-Type", "application/json"}}, "{\"a\":1}"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->body.find("user=jane verified=1 groups=dev,ops, body=7"), std::string::npos) << r->body;
}

TEST(HttpServerTest, NoClientCertificateStillConnects) {
  HttpServer server(TlsOptions(), Echo);
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server, /*with_cert=*/false));
  auto r = client.Do({"GET", "/", {{"Authorization", "Bearer abc"}}, ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->body.find("user= verified=0"), std::string::npos) << r->body;
}

TEST(HttpServerTest, CertificateFromAnotherCaIsMarkedUnverified) {
  // Like Go's RequestClientCert: the handshake completes and the handler learns that a
  // certificate was presented but did not verify (the apiserver answers 401 for it).
  HttpServer server(TlsOptions(), [](Request req, std::shared_ptr<ResponseWriter> w) {
    std::string body = std::string("presented=") + (req.peer.client_cert_presented ? "1" : "0") +
                       " verified=" + (req.peer.client_cert_verified ? "1" : "0") + " user=" +
                       req.peer.cert_common_name + " error=" + req.peer.client_cert_error;
    w->Respond(200, Headers{{"Content-Type", "text/plain"}}, body);
  });
  ASSERT_TRUE(server.Start().ok());
  TestPki other = testutil::MakeTestPki();
  auto opts = ClientFor(server, false);
  opts.tls_config.cert_pem = other.client.cert_pem;
  opts.tls_config.key_pem = other.client.key_pem;
  HttpClient client(opts);
  auto r = client.Do({"GET", "/", {}, ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body.rfind("presented=1 verified=0 user= error=", 0), 0u) << r->body;
  EXPECT_GT(r->body.size(), std::string("presented=1 verified=0 user= error=").size()) << "the error is named";
}

TEST(HttpServerTest, ClientRejectsServerFromUnknownCa) {
  HttpServer server(TlsOptions(), Echo);
  ASSERT_TRUE(server.Start().ok());
  TestPki other = testutil::MakeTestPki();
  auto opts = ClientFor(server, false);
  opts.tls_config.ca_pem = other.ca.cert_pem;
  HttpClient client(opts);
  auto r = client.Do({"GET", "/", {}, ""});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("TLS handshake"), std::string::npos) << r.status().ToString();
}

TEST(HttpServerTest, StreamIsReadIncrementally) {
  std::promise<void> first_seen;
  auto first_seen_future = first_seen.get_future().share();
  std::thread producer;
  HttpServer server(TlsOptions(), [&](Request, std::shared_ptr<ResponseWriter> w) {
    w->StartStream(200, Headers{{"Content-Type", "application/json"}});
    w->Write("{\"type\":\"ADDED\"}\n");
    // The second chunk is written only after the client has read the first: the client can
    // only see it if each Write is flushed on its own.
    producer = std::thread([w, f = first_seen_future] {
      f.wait();
      w->Write("{\"type\":\"DELETED\"}\n");
      w->Finish();
    });
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto stream = client.Open({"GET", "/watch", {}, ""});
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ((*stream)->status(), 200);
  EXPECT_EQ((*stream)->headers().Get("Transfer-Encoding"), "chunked");
  auto c1 = (*stream)->Next(5s);
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  ASSERT_TRUE(c1->has_value());
  EXPECT_EQ(**c1, "{\"type\":\"ADDED\"}\n");
  first_seen.set_value();
  std::string rest;
  while (true) {
    auto c = (*stream)->Next(5s);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (!c->has_value()) break;
    rest += **c;
  }
  EXPECT_EQ(rest, "{\"type\":\"DELETED\"}\n");
  producer.join();
}

// A watch start answered with a plain (Content-Length) error body, as a 410 or 403 is.
TEST(HttpServerTest, OpenReadsAPlainResponseBody) {
  HttpServer server(TlsOptions(), [](Request, std::shared_ptr<ResponseWriter> w) {
    w->Respond(410, Headers{{"Content-Type", "application/json"}}, R"({"kind":"Status","code":410})");
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto stream = client.Open({"GET", "/watch", {}, ""});
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ((*stream)->status(), 410);
  std::string body;
  while (true) {
    auto c = (*stream)->Next(5s);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (!c->has_value()) break;
    body += **c;
  }
  EXPECT_EQ(body, R"({"kind":"Status","code":410})");
}

TEST(HttpServerTest, StreamProducerLearnsWhenClientGoesAway) {
  std::promise<std::shared_ptr<ResponseWriter>> writer;
  HttpServer server(TlsOptions(), [&](Request, std::shared_ptr<ResponseWriter> w) {
    w->StartStream(200, {});
    w->Write("hello\n");
    writer.set_value(w);
  });
  ASSERT_TRUE(server.Start().ok());
  std::atomic<bool> closed{false};
  {
    HttpClient client(ClientFor(server));
    auto stream = client.Open({"GET", "/watch", {}, ""});
    ASSERT_TRUE(stream.ok());
    auto w = writer.get_future().get();
    w->OnClose([&] { closed = true; });
    EXPECT_FALSE(closed.load());
    auto c = (*stream)->Next(5s);
    ASSERT_TRUE(c.ok());
  }  // the client drops the connection
  EXPECT_TRUE(testutil::WaitUntil([&] { return closed.load(); }, 5s));
}

TEST(HttpServerTest, StreamToAReaderThatStoppedIsClosedAfterWriteTimeout) {
  std::promise<std::shared_ptr<ResponseWriter>> writer;
  HttpServerOptions o = TlsOptions();
  o.write_timeout = 400ms;
  HttpServer server(o, [&](Request, std::shared_ptr<ResponseWriter> w) {
    w->StartStream(200, {});
    w->Write("first\n");
    writer.set_value(w);
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto stream = client.Open({"GET", "/watch", {}, ""});
  ASSERT_TRUE(stream.ok());
  ASSERT_TRUE((*stream)->Next(5s).ok());
  auto w = writer.get_future().get();
  std::atomic<bool> closed{false};
  w->OnClose([&] { closed = true; });
  // The client reads nothing more: once the socket buffers are full a write stalls, and the
  // watchdog closes the connection within about write_timeout.
  const std::string chunk(1 << 20, 'x');
  bool stopped = testutil::WaitUntil(
      [&] {
        if (!w->Closed() && w->BufferedBytes() < (64u << 20)) w->Write(chunk);
        return closed.load();
      },
      10s, 20ms);
  EXPECT_TRUE(stopped);
  EXPECT_TRUE(w->Closed());
}

TEST(HttpServerTest, ClientDoTimesOutOnAServerThatDoesNotAnswer) {
  std::mutex mu;
  std::vector<std::shared_ptr<ResponseWriter>> held;
  HttpServer server(TlsOptions(), [&](Request req, std::shared_ptr<ResponseWriter> w) {
    if (req.path == "/hang") {
      std::lock_guard<std::mutex> l(mu);
      held.push_back(w);  // answered only at the end of the test
      return;
    }
    w->Respond(200, {}, "ok");
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClientOptions o = ClientFor(server);
  o.timeout = 300ms;
  HttpClient client(o);
  auto start = std::chrono::steady_clock::now();
  auto r = client.Do({"GET", "/hang", {}, ""});
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kTimeout) << r.status().ToString();
  EXPECT_LT(took, 3s);
  // The client is still usable: the next request opens a fresh connection.
  auto ok = client.Do({"GET", "/fine", {}, ""});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body, "ok");
  std::lock_guard<std::mutex> l(mu);
  for (auto& w : held) w->Respond(200, {}, "late");
}

TEST(HttpServerTest, SlowButSteadyStreamIsNotTimedOut) {
  std::promise<std::shared_ptr<ResponseWriter>> writer;
  HttpServerOptions o = TlsOptions();
  o.write_timeout = 300ms;
  HttpServer server(o, [&](Request, std::shared_ptr<ResponseWriter> w) {
    w->StartStream(200, {});
    writer.set_value(w);
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto stream = client.Open({"GET", "/watch", {}, ""});
  ASSERT_TRUE(stream.ok());
  auto w = writer.get_future().get();
  // Events arrive every 100 ms for 1.5 s (longer than several write timeouts): each is read.
  std::string got;
  std::thread producer([&] {
    for (int i = 0; i < 15; ++i) {
      w->Write("event " + std::to_string(i) + "\n");
      std::this_thread::sleep_for(100ms);
    }
    w->Finish();
  });
  while (true) {
    auto c = (*stream)->Next(5s);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (!c->has_value()) break;
    got += **c;
  }
  producer.join();
  EXPECT_NE(got.find("event 14\n"), std::string::npos) << got;
}

TEST(HttpServerTest, NextTimesOutWithoutBreakingTheStream) {
  std::promise<std::shared_ptr<ResponseWriter>> writer;
  HttpServer server(TlsOptions(), [&](Request, std::shared_ptr<ResponseWriter> w) {
    w->StartStream(200, {});
    writer.set_value(w);
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto stream = client.Open({"GET", "/watch", {}, ""});
  ASSERT_TRUE(stream.ok());
  auto w = writer.get_future().get();
  auto t = (*stream)->Next(50ms);
  EXPECT_EQ(t.status().code(), Code::kTimeout);
  w->Write("late\n");
  auto c = (*stream)->Next(5s);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->value_or(""), "late\n");
}

TEST(HttpServerTest, BodyOverLimitGets413) {
  std::atomic<int> handled{0};
  HttpServer server(TlsOptions(), [&](Request r, std::shared_ptr<ResponseWriter> w) {
    handled++;
    Echo(std::move(r), w);
  });
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto r = client.Do({"POST", "/api/v1/namespaces/default/configmaps", {}, std::string(4 * 1024 * 1024, 'x')});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 413);
  EXPECT_NE(r->body.find("too large"), std::string::npos);
  EXPECT_EQ(handled.load(), 0) << "the handler must never see an over-limit body";
  // A body just under the limit is served.
  HttpClient client2(ClientFor(server));
  auto ok = client2.Do({"POST", "/", {}, std::string(3 * 1024 * 1024 - 10, 'x')});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->status, 200);
}

TEST(HttpServerTest, HugeHeadersGet431) {
  HttpServer server(TlsOptions(), Echo);
  ASSERT_TRUE(server.Start().ok());
  HttpClient client(ClientFor(server));
  auto r = client.Do({"GET", "/", {{"X-Big", std::string(100 * 1024, 'a')}}, ""});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 431);
}

// A raw TCP client for the plain-text server, to send exactly the bytes a test wants.
int ConnectRaw(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  return fd;
}

TEST(HttpServerTest, SlowHeaderClientIsDropped) {
  HttpServerOptions o;
  o.tls = false;
  o.header_timeout = 300ms;
  HttpServer server(o, Echo);
  ASSERT_TRUE(server.Start().ok());
  int fd = ConnectRaw(server.port());
  const char partial[] = "GET / HTTP/1.1\r\nHost: x\r\n";  // never finished
  ASSERT_GT(write(fd, partial, sizeof partial - 1), 0);
  auto start = std::chrono::steady_clock::now();
  char buf[64];
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ssize_t n = read(fd, buf, sizeof buf);  // returns 0 when the server closes
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(n, 0) << "the server should close the connection";
  EXPECT_LT(waited, 5s);
  close(fd);
  EXPECT_TRUE(testutil::WaitUntil([&] { return server.connections() == 0; }, 5s));
}

TEST(HttpServerTest, SlowTlsHandshakeIsDropped) {
  HttpServerOptions o = TlsOptions();
  o.header_timeout = 300ms;
  HttpServer server(o, Echo);
  ASSERT_TRUE(server.Start().ok());
  int fd = ConnectRaw(server.port());  // connects, never says hello
  char buf[64];
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  EXPECT_EQ(read(fd, buf, sizeof buf), 0);
  close(fd);
}

TEST(HttpServerTest, MalformedRequestGets400) {
  HttpServerOptions o;
  o.tls = false;
  HttpServer server(o, Echo);
  ASSERT_TRUE(server.Start().ok());
  int fd = ConnectRaw(server.port());
  const char bad[] = "GET / HTTP/1.1\r\nBad Header Without Colon\r\n\r\n";
  ASSERT_GT(write(fd, bad, sizeof bad - 1), 0);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, n);
  close(fd);
  EXPECT_EQ(got.substr(0, 24), "HTTP/1.1 400 Bad Request");
}

TEST(HttpServerTest, PlainHttpAndHttp10) {
  HttpServerOptions o;
  o.tls = false;
  HttpServer server(o, Echo);
  ASSERT_TRUE(server.Start().ok());
  int fd = ConnectRaw(server.port());
  const char req[] = "GET /ping HTTP/1.0\r\n\r\n";
  ASSERT_GT(write(fd, req, sizeof req - 1), 0);
  std::string got;
  char buf[512];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) got.append(buf, n);  // HTTP/1.0: server closes
  close(fd);
  EXPECT_NE(got.find("200 OK"), std::string::npos);
  EXPECT_NE(got.find("GET /ping?"), std::string::npos) << got;
}

TEST(HttpServerTest, StopLetsInFlightRequestFinish) {
  std::promise<void> entered;
  std::thread worker;
  HttpServer server(TlsOptions(), [&](Request, std::shared_ptr<ResponseWriter> w) {
    entered.set_value();
    worker = std::thread([w] {
      std::this_thread::sleep_for(200ms);  // a slow handler on a worker thread
      w->Respond(200, {}, "done");
    });
  });
  ASSERT_TRUE(server.Start().ok());
  std::future<Result<Response>> result = std::async(std::launch::async, [&] {
    HttpClient client(ClientFor(server));
    return client.Do({"GET", "/slow", {}, ""});
  });
  entered.get_future().wait();
  server.Stop(5s);
  auto r = result.get();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "done");
  worker.join();
}

TEST(HttpServerTest, PortInUseIsAClearError) {
  HttpServer a(TlsOptions(), Echo);
  ASSERT_TRUE(a.Start().ok());
  auto o = TlsOptions();
  o.port = a.port();
  HttpServer b(o, Echo);
  Status s = b.Start();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("cannot listen on 127.0.0.1:" + std::to_string(a.port())), std::string::npos) << s.message();
}

TEST(HttpServerTest, BadServingKeyIsAClearError) {
  auto o = TlsOptions();
  o.tls_config.key_pem = testutil::MakeTestPki().server.key_pem;  // another key
  HttpServer server(o, Echo);
  Status s = server.Start();
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("does not match"), std::string::npos) << s.message();
}

TEST(HttpServerTest, ManyThreadsManyClients) {
  auto o = TlsOptions();
  o.io_threads = 2;
  HttpServer server(o, Echo);
  ASSERT_TRUE(server.Start().ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      HttpClient client(ClientFor(server));
      for (int i = 0; i < 25; ++i) {
        auto r = client.Do({"GET", "/", {}, ""});
        if (r.ok() && r->status == 200) ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

}  // namespace
}  // namespace ck::net
