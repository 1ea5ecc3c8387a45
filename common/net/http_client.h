// HttpClient: a blocking HTTP/1.1 client over TLS (or plain TCP) with keep-alive reuse, for tests,
// benchmarks and the components' API client (common/client builds on it).
//
// Do() sends one request and reads the whole response; Open() starts a request whose response
// body is read piece by piece as it arrives (watches, log streams).
// Threading: an HttpClient may be used from many threads at once (each call takes its own pooled
// connection). A ResponseStream belongs to one reader thread; Cancel() may be called from any.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/net/http.h"
#include "common/net/tls.h"

namespace ck::net {

struct HttpClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  bool tls = true;
  TlsClientConfig tls_config;
  std::chrono::milliseconds timeout{30'000};  // connect, sending a request, and reading its response (each)
  size_t max_idle_connections = 8;
  size_t max_response_bytes = 512 * 1024 * 1024;
};

struct ClientRequest {
  std::string method = "GET";
  std::string target = "/";
  Headers headers;
  std::string body;
};

class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual int status() const = 0;
  virtual const Headers& headers() const = 0;
  // The next piece of the body as it arrives (a chunk or less). nullopt at the end of the body.
  // Fails on a broken connection, on Cancel(), or when nothing arrives within `timeout`
  // (Code::kTimeout; the stream stays usable) — zero means wait forever.
  virtual Result<std::optional<std::string>> Next(std::chrono::milliseconds timeout = {}) = 0;
  // Makes a blocked Next() return (kUnavailable "cancelled") and closes the connection.
  virtual void Cancel() = 0;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Connection and TLS failures are kUnavailable with the cause; timeouts are kTimeout.
  // A request that fails on a reused idle connection before any response byte is retried once
  // on a fresh connection.
  Result<Response> Do(const ClientRequest& request);
  Result<std::unique_ptr<ResponseStream>> Open(const ClientRequest& request);

  // Connections opened so far (tests check keep-alive reuse with it).
  int connections_opened() const;

  struct Conn;

 private:
  Result<std::unique_ptr<Conn>> Connect();
  std::unique_ptr<Conn> TakeIdle();
  void ReturnIdle(std::unique_ptr<Conn> conn);

  HttpClientOptions options_;
  struct TlsState;
  std::unique_ptr<TlsState> tls_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> idle_;  // guarded by mu_
  int opened_ = 0;                           // guarded by mu_
};

}  // namespace ck::net
