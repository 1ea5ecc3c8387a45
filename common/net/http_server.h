// HttpServer: HTTP/1.1 over TLS (or plain TCP) on Boost.Asio + Beast, for every daemon's API,
// health and metrics endpoints.
//
// - Keep-alive; a request body larger than max_body_bytes gets 413, headers larger than
//   max_header_bytes get 431; a client that does not finish its headers within header_timeout or
//   stays idle longer than idle_timeout is dropped.
// - Client certificates are requested but not required (tls.h); the verified identity is in
//   Request::peer.
// - Responses are either whole (Respond) or chunked streams flushed per Write (watches, logs).
// - WebSocket upgrade (AcceptWebSocket), a raw upgrade (Upgrade: "101 Switching Protocols", then
//   the caller speaks SPDY or its own WebSocket framing on the bytes), and a relay (Proxy) that
//   hands the request to a backend server and splices the two connections, for the apiserver's
//   pods/log, exec, attach and portforward.
//
// Threading: `io_threads` reactors, each a single-threaded io_context with its own acceptor
// (SO_REUSEPORT), so a connection lives on one thread. The handler is called on that I/O thread
// and must not block: hand slow work to a worker pool and answer later. ResponseWriter and
// WebSocket methods are safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/base/status.h"
#include "common/net/http.h"
#include "common/net/tls.h"

namespace ck::net {

// One side of an accepted WebSocket. Binary messages only (the Kubernetes stream protocols).
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // Queues a binary message. Returns false once the socket is closed.
  virtual bool Send(std::string message) = 0;
  // Sends a close frame (1000 = normal) after the queued messages, then closes.
  virtual void Close(uint16_t code = 1000) = 0;
};

struct WebSocketHandlers {
  std::function<void(std::string message)> on_message;  // each received message, on the I/O thread
  std::function<void()> on_close;                         // once, when the socket is gone
};

// A connection taken over after "101 Switching Protocols": bytes in both directions.
class RawStream {
 public:
  virtual ~RawStream() = default;
  // Queues bytes. Returns false once the connection is closed.
  virtual bool Send(std::string bytes) = 0;
  // Closes after the queued bytes are written.
  virtual void Close() = 0;
  // Bytes queued but not yet handed to the kernel (a producer waits while this is large).
  virtual size_t BufferedBytes() const = 0;
};

struct RawStreamHandlers {
  std::function<void(std::string bytes)> on_data;  // bytes as they arrive, on the I/O thread
  std::function<void()> on_close;                   // once, when the connection is gone
};

// A backend the request is relayed to (ResponseWriter::Proxy).
class ClientTlsContext;  // a TLS client context built once (tls.h MakeClientTlsContextHandle)
struct ProxyTarget {
  std::string host;                         // an IP address or a name
  uint16_t port = 0;
  std::shared_ptr<ClientTlsContext> tls;    // nullptr = plain TCP
  std::string server_name;                  // hostname/IP checked against the certificate; "" = host
  // The request exactly as the backend receives it: request line, headers, blank line, body. The
  // caller adds "Connection: close" (or the upgrade headers) itself.
  std::string request;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds response_timeout{60'000};  // until the backend's response head
  // The answer to the client when the backend cannot be reached or answers garbage (status,
  // headers, body), given why.
  std::function<void(const Status& why, int* status, Headers* headers, std::string* body)> on_error;
  // Called once with the backend's status code (or the on_error status) when the head is known.
  std::function<void(int status)> on_response;
};

class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;

  // Sends a complete response (Content-Length is added). Exactly one of Respond / StartStream /
  // AcceptWebSocket may be called, once.
  virtual void Respond(int status, Headers headers, std::string body) = 0;

  // Starts a chunked response; each Write is sent as one chunk as soon as possible, Finish ends it.
  // After a stream the connection is closed rather than reused.
  virtual void StartStream(int status, Headers headers) = 0;
  // Queues a chunk. Returns false when the connection is gone (the caller should stop).
  virtual bool Write(std::string chunk) = 0;
  virtual void Finish() = 0;

  // Bytes queued but not yet handed to the kernel: lets a producer notice a slow reader.
  virtual size_t BufferedBytes() const = 0;
  // True once the peer disconnected or the server is stopping.
  virtual bool Closed() const = 0;
  // Called once when the connection ends (peer gone, Finish done, or server stop). If the
  // connection already ended, runs the callback right away.
  virtual void OnClose(std::function<void()> callback) = 0;

  // Completes a WebSocket handshake for this request (it must be a valid upgrade request) with
  // the chosen subprotocol ("" for none). Returns nullptr, after answering 400, when it is not.
  virtual std::shared_ptr<WebSocket> AcceptWebSocket(const std::string& subprotocol,
                                                     WebSocketHandlers handlers) = 0;

  // Answers "101 Switching Protocols" with `headers` (Upgrade, Connection and the protocol's own)
  // and hands the connection over as raw bytes. The request must ask for an upgrade
  // (Connection: Upgrade); otherwise answers 400 and returns nullptr. Bytes the client sent
  // after its request are delivered first.
  virtual std::shared_ptr<RawStream> Upgrade(Headers headers, RawStreamHandlers handlers) = 0;

  // Relays this request to `target` and the backend's answer, byte for byte, to the client. When
  // the client asked for an upgrade and the backend answers 101, both directions are spliced
  // until either side closes. Otherwise the client's connection only ever carries that one
  // response and nothing the client sends reaches the backend (a failed upgrade must not leave
  // an authenticated backend connection open to the client). The connection is closed after.
  virtual void Proxy(ProxyTarget target) = 0;
};

using HttpHandler = std::function<void(Request request, std::shared_ptr<ResponseWriter> writer)>;

struct HttpServerOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;                 // 0 = pick a free port (see HttpServer::port())
  bool tls = true;
  TlsServerConfig tls_config;
  int io_threads = 1;
  size_t max_body_bytes = 3 * 1024 * 1024;
  size_t max_header_bytes = 64 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{90'000};
  std::chrono::milliseconds write_timeout{60'000};
  std::string thread_name = "ck-io";
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads. Fails with a clear Status (bad address, port in use, bad
  // certificate or key).
  Status Start();
  uint16_t port() const;
  // Stops accepting, lets in-flight requests finish for up to `drain`, then closes everything
  // and joins the I/O threads. Idempotent.
  void Stop(std::chrono::milliseconds drain = std::chrono::milliseconds(5000));
  // Open connections right now (for tests and metrics).
  int connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ck::net
