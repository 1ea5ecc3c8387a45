// HttpServer implementation: per-reactor acceptors, one coroutine per connection.
//
// A connection reads a request with Beast's parser, calls the handler, then "pumps" whatever the
// ResponseWriter queues (a whole response, chunks of a stream, or a WebSocket's messages) until
// the response is complete. Writer calls from other threads are posted to the connection's
// reactor, so connection state is only ever touched by one thread.
#include "common/net/http_server.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "common/net/asio.h"
#include "common/net/tls_context.h"

namespace ck::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// Writes at least this large run under the connection's watchdog instead of the per-operation
// stream timeout (Connection::Pump).
constexpr size_t kWatchdogWriteBytes = 64 * 1024;

std::string SerializeHead(int status, const Headers& headers, bool chunked, size_t content_length,
                          bool close) {
  std::string out;
  out.reserve(128 + headers.entries().size() * 48);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += StatusText(status);
  out += "\r\n";
  for (const auto& [k, v] : headers.entries()) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else {
    out += "Content-Length: ";
    out += std::to_string(content_length);
    out += "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

std::string ChunkOf(std::string_view data) {
  char size[20];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out;
  out.reserve(n + data.size() + 2);
  out.append(size, n);
  out.append(data);
  out += "\r\n";
  return out;
}

PeerIdentity IdentityOf(SSL* ssl) {
  PeerIdentity id;
  id.tls = true;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return id;
  id.client_cert_presented = true;
  if (long rc = SSL_get_verify_result(ssl); rc != X509_V_OK) id.client_cert_error = X509_verify_cert_error_string(rc);
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    id.client_cert_verified = true;
    X509_NAME* subject = X509_get_subject_name(cert);
    for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
      X509_NAME_ENTRY* e = X509_NAME_get_entry(subject, i);
      int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
      if (nid != NID_commonName && nid != NID_organizationName) continue;
      unsigned char* utf8 = nullptr;
      int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
      if (len < 0) continue;
      std::string value(reinterpret_cast<char*>(utf8), len);
      OPENSSL_free(utf8);
      if (nid == NID_commonName) {
        id.cert_common_name = std::move(value);
      } else {
        id.cert_organizations.push_back(std::move(value));
      }
    }
  }
  X509_free(cert);
  return id;
}

}  // namespace

struct ServerState;

// The part of a connection the writers talk to; lives on one reactor thread.
class ConnBase : public std::enable_shared_from_this<ConnBase> {
 public:
  explicit ConnBase(ServerState* server, asio::io_context::executor_type ex) : server_(server), ex_(ex), wake_(ex) {}
  virtual ~ConnBase() = default;

  virtual void CloseSocket() = 0;
  // Server stop: drop the connection if it is idle, else let the current response finish.
  virtual void BeginStop() = 0;

  asio::io_context::executor_type executor() const { return ex_; }

  // --- called on the reactor thread by WriterImpl/WebSocketImpl ---
  void QueueOutput(std::string bytes) {
    if (closed_) return;
    buffered_ += bytes.size();
    out_.push_back(std::move(bytes));
    Wake();
  }
  void MarkResponseDone() {
    response_done_ = true;
    Wake();
  }
  void Wake() { wake_.cancel(); }
  void MarkClosed() {
    if (closed_.exchange(true)) return;
    RunCloseCallbacks();
    Wake();
  }
  void RunCloseCallbacks() {
    auto callbacks = std::move(close_callbacks_);
    close_callbacks_.clear();
    for (auto& cb : callbacks) cb();
  }
  void AddCloseCallback(std::function<void()> cb) {
    if (closed_) {
      cb();
    } else {
      close_callbacks_.push_back(std::move(cb));
    }
  }

  ServerState* server_;
  asio::io_context::executor_type ex_;
  asio::steady_timer wake_;
  std::vector<std::string> out_;
  std::atomic<size_t> buffered_{0};
  std::atomic<bool> closed_{false};
  bool response_done_ = false;
  bool streaming_ = false;
  bool responded_ = false;
  bool close_after_ = false;
  uint16_t ws_close_code_ = 1000;
  // WebSocket upgrade requested by the handler.
  std::string ws_subprotocol_;
  std::optional<WebSocketHandlers> ws_handlers_;
  // Raw upgrade (Upgrade) or relay (Proxy) requested by the handler.
  std::optional<RawStreamHandlers> raw_handlers_;
  std::optional<ProxyTarget> proxy_;
  bool raw_close_requested_ = false;
  std::vector<std::function<void()>> close_callbacks_;
};

// Runs `fn` on the connection's thread (inline when already there).
template <typename Fn>
void OnConnThread(const std::shared_ptr<ConnBase>& conn, Fn fn) {
  if (conn->executor().running_in_this_thread()) {
    fn();
  } else {
    asio::post(conn->executor(), [conn, fn = std::move(fn)]() mutable { fn(); });
  }
}

class WebSocketImpl final : public WebSocket {
 public:
  explicit WebSocketImpl(std::shared_ptr<ConnBase> conn) : conn_(std::move(conn)) {}
  bool Send(std::string message) override {
    if (conn_->closed_) return false;
    OnConnThread(conn_, [c = conn_, m = std::move(message)]() mutable { c->QueueOutput(std::move(m)); });
    return true;
  }
  void Close(uint16_t code) override {
    OnConnThread(conn_, [c = conn_, code] {
      c->ws_close_code_ = code;
      c->MarkResponseDone();
    });
  }

 private:
  std::shared_ptr<ConnBase> conn_;
};

class RawStreamImpl final : public RawStream {
 public:
  explicit RawStreamImpl(std::shared_ptr<ConnBase> conn) : conn_(std::move(conn)) {}
  bool Send(std::string bytes) override {
    if (conn_->closed_) return false;
    if (bytes.empty()) return true;
    OnConnThread(conn_, [c = conn_, b = std::move(bytes)]() mutable { c->QueueOutput(std::move(b)); });
    return true;
  }
  void Close() override {
    OnConnThread(conn_, [c = conn_] {
      c->raw_close_requested_ = true;
      c->Wake();
    });
  }
  size_t BufferedBytes() const override { return conn_->buffered_.load(); }

 private:
  std::shared_ptr<ConnBase> conn_;
};

class WriterImpl final : public ResponseWriter {
 public:
  WriterImpl(std::shared_ptr<ConnBase> conn, bool is_upgrade, bool is_raw_upgrade)
      : conn_(std::move(conn)), is_upgrade_(is_upgrade), is_raw_upgrade_(is_raw_upgrade) {}

  void Respond(int status, Headers headers, std::string body) override {
    OnConnThread(conn_, [c = conn_, status, h = std::move(headers), b = std::move(body)]() mutable {
      if (c->responded_) return;
      c->responded_ = true;
      std::string out = SerializeHead(status, h, false, b.size(), c->close_after_);
      if (out.size() + b.size() < 16384) {
        out += b;
        c->QueueOutput(std::move(out));
      } else {
        c->QueueOutput(std::move(out));
        c->QueueOutput(std::move(b));
      }
      c->MarkResponseDone();
    });
  }

  void StartStream(int status, Headers headers) override {
    OnConnThread(conn_, [c = conn_, status, h = std::move(headers)]() mutable {
      if (c->responded_) return;
      c->responded_ = true;
      c->streaming_ = true;
      c->QueueOutput(SerializeHead(status, h, true, 0, true));
    });
  }

  bool Write(std::string chunk) override {
    if (conn_->closed_) return false;
    if (chunk.empty()) return true;  // an empty chunk would end the stream
    OnConnThread(conn_, [c = conn_, ch = std::move(chunk)]() mutable { c->QueueOutput(ChunkOf(ch)); });
    return true;
  }

  void Finish() override {
    OnConnThread(conn_, [c = conn_] {
      if (!c->streaming_ || c->response_done_) return;
      c->QueueOutput("0\r\n\r\n");
      c->MarkResponseDone();
    });
  }

  size_t BufferedBytes() const override { return conn_->buffered_.load(); }
  bool Closed() const override { return conn_->closed_.load(); }
  void OnClose(std::function<void()> callback) override {
    OnConnThread(conn_, [c = conn_, cb = std::move(callback)]() mutable { c->AddCloseCallback(std::move(cb)); });
  }

  std::shared_ptr<WebSocket> AcceptWebSocket(const std::string& subprotocol, WebSocketHandlers handlers) override {
    if (!is_upgrade_) {
      Headers h{{"Content-Type", "text/plain"}};
      Respond(400, std::move(h), "expected a WebSocket upgrade request\n");
      return nullptr;
    }
    OnConnThread(conn_, [c = conn_, sp = subprotocol, hs = std::move(handlers)]() mutable {
      if (c->responded_) return;
      c->responded_ = true;
      c->ws_subprotocol_ = std::move(sp);
      c->ws_handlers_ = std::move(hs);
      c->MarkResponseDone();
    });
    return std::make_shared<WebSocketImpl>(conn_);
  }

  std::shared_ptr<RawStream> Upgrade(Headers headers, RawStreamHandlers handlers) override {
    if (!is_raw_upgrade_) {
      Respond(400, Headers{{"Content-Type", "text/plain"}}, "expected an upgrade request (Connection: Upgrade)\n");
      return nullptr;
    }
    OnConnThread(conn_, [c = conn_, h = std::move(headers), hs = std::move(handlers)]() mutable {
      if (c->responded_) return;
      c->responded_ = true;
      std::string head = "HTTP/1.1 101 Switching Protocols\r\n";
      for (const auto& [k, v] : h.entries()) head += k + ": " + v + "\r\n";
      head += "\r\n";
      c->QueueOutput(std::move(head));
      c->raw_handlers_ = std::move(hs);
      c->MarkResponseDone();
    });
    return std::make_shared<RawStreamImpl>(conn_);
  }

  void Proxy(ProxyTarget target) override {
    OnConnThread(conn_, [c = conn_, t = std::move(target)]() mutable {
      if (c->responded_) return;
      c->responded_ = true;
      c->proxy_ = std::move(t);
      c->MarkResponseDone();
    });
  }

 private:
  std::shared_ptr<ConnBase> conn_;
  bool is_upgrade_;
  bool is_raw_upgrade_;
};

// "Connection: keep-alive, Upgrade" asks for an upgrade to the protocol named by Upgrade.
bool AsksForUpgrade(const Headers& headers) {
  if (headers.Get("Upgrade").empty()) return false;
  for (std::string_view v : headers.GetAll("Connection")) {
    for (std::string_view token : Split(v, ',')) {
      if (EqualsIgnoreCase(TrimSpace(token), "upgrade")) return true;
    }
  }
  return false;
}

// Where a relayed response ends: Beast's parser follows the bytes as they are relayed (head,
// then Content-Length or chunked framing). A response delimited by EOF never completes here.
class ResponseEnd {
 public:
  ResponseEnd() {
    parser_.eager(true);
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_.header_limit(64 * 1024);
  }
  // Consumes relayed bytes; true once the whole response went by (or it cannot be parsed, when
  // the relay stops too).
  bool Feed(std::string_view data) {
    // The parser asks for more (need_more) without taking bytes it cannot finish with yet (a
    // chunk's trailing CRLF): those are kept and offered again with the next ones.
    pending_.append(data);
    while (!parser_.is_done() && !pending_.empty()) {
      auto& body = parser_.get().body();
      body.data = scratch_;
      body.size = sizeof scratch_;
      beast::error_code ec;
      size_t n = parser_.put(asio::buffer(pending_), ec);
      pending_.erase(0, n);
      if (ec == http::error::need_buffer) continue;  // the scratch body buffer was filled
      if (ec == http::error::need_more) return false;
      if (ec) return true;
    }
    return parser_.is_done();
  }

 private:
  http::response_parser<http::buffer_body> parser_;
  std::string pending_;
  char scratch_[16384];
};

// The status code of an HTTP/1.x response head, or 0.
int StatusOfHead(std::string_view head) {
  if (!head.starts_with("HTTP/1.") || head.size() < 12 || head[8] != ' ') return 0;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return 0;
    code = code * 10 + (head[i] - '0');
  }
  return code;
}

struct Reactor {
  asio::io_context ioc{1};
  std::optional<tcp::acceptor> acceptor;
  std::thread thread;
  std::unordered_set<std::shared_ptr<ConnBase>> conns;  // touched only on this reactor's thread
};

struct ServerState {
  HttpServerOptions options;
  HttpHandler handler;
  std::optional<ssl::context> tls;
  std::atomic<bool> stopping{false};
  std::atomic<int> connections{0};
  std::mutex mu;
  std::condition_variable drained;  // notified when `connections` drops

  void ConnectionEnded() {
    std::lock_guard lock(mu);
    connections--;
    drained.notify_all();
  }
  // Waits until no connection is open or the deadline passes.
  void WaitDrained(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mu);
    drained.wait_until(lock, deadline, [&] { return connections.load() == 0; });
  }
};

template <typename Stream>
class Connection final : public ConnBase {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Connection(ServerState* server, Reactor* reactor, tcp::socket socket)
      : ConnBase(server, reactor->ioc.get_executor()),
        reactor_(reactor),
        stream_(MakeStream(server, std::move(socket))),
        watchdog_(ex_) {}

  static Stream MakeStream(ServerState* server, tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *server->tls);
    } else {
      (void)server;
      return Stream(std::move(socket));
    }
  }

  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void CloseSocket() override {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

  void BeginStop() override {
    close_after_ = true;
    if (idle_) {
      CloseSocket();
    } else if (streaming_ || ws_active_) {
      MarkClosed();
    } else if (raw_active_ || relay_active_) {
      MarkClosed();
      CloseSocket();
      if (abort_backend_) abort_backend_();
    }
  }

  asio::awaitable<void> Run() {
    auto self = shared_from_this();
    beast::error_code ec;
    auto tok = asio::redirect_error(asio::use_awaitable, ec);
    const auto& opt = server_->options;
    {
      beast::error_code rec;
      auto ep = Lowest().socket().remote_endpoint(rec);
      if (!rec) remote_ = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    PeerIdentity peer;
    if constexpr (kTls) {
      Lowest().expires_after(opt.header_timeout);
      co_await stream_.async_handshake(ssl::stream_base::server, tok);
      if (ec) {
        CK_VLOG(4, "TLS handshake failed", "remote", remote_, "err", ec.message());
        co_return Done();
      }
      peer = IdentityOf(stream_.native_handle());
    }
    peer.remote_address = remote_;

    while (!server_->stopping && !closed_) {
      if (buffer_.size() == 0) {
        idle_ = true;
        Lowest().expires_after(opt.idle_timeout);
        size_t n = co_await stream_.async_read_some(buffer_.prepare(16384), tok);
        idle_ = false;
        if (ec) break;
        buffer_.commit(n);
      }
      Lowest().expires_after(opt.header_timeout);
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(opt.max_header_bytes));
      parser.body_limit(opt.max_body_bytes);
      co_await http::async_read_header(stream_, buffer_, parser, tok);
      if (ec == http::error::header_limit) {
        co_await SendError(431, "request header fields too large");
        break;
      }
      if (ec == http::error::body_limit) {  // Content-Length over the limit, seen with the headers
        co_await SendError(413, "request body too large: the limit is " + std::to_string(opt.max_body_bytes) + " bytes");
        break;
      }
      if (ec == beast::error::timeout) {
        CK_VLOG(3, "Dropping connection: request headers too slow", "remote", remote_);
        break;
      }
      if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == ssl::error::stream_truncated) break;
      if (ec) {
        co_await SendError(400, "malformed HTTP request: " + ec.message());
        break;
      }
      auto length = parser.content_length();
      if (length && *length > opt.max_body_bytes) {
        co_await SendError(413, "request body too large: " + std::to_string(*length) + " bytes, the limit is " +
                                    std::to_string(opt.max_body_bytes));
        break;
      }
      if (!parser.is_done()) {
        Lowest().expires_after(opt.write_timeout);
        co_await http::async_read(stream_, buffer_, parser, tok);
        if (ec == http::error::body_limit) {
          co_await SendError(413, "request body too large: the limit is " + std::to_string(opt.max_body_bytes) + " bytes");
          break;
        }
        if (ec) break;
      }
      Lowest().expires_never();

      auto msg = parser.release();
      bool keep_alive = msg.keep_alive();
      bool upgrade = websocket::is_upgrade(msg);
      std::optional<http::request<http::empty_body>> ws_request;
      if (upgrade) ws_request.emplace(msg.base());
      Request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      auto q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.raw_query = req.target.substr(q + 1);
      req.version = msg.version();
      for (const auto& field : msg) req.headers.Add(std::string(field.name_string()), std::string(field.value()));
      req.body = std::move(msg.body());
      req.peer = peer;
      const bool raw_upgrade = AsksForUpgrade(req.headers);

      ResetResponse();
      if (!keep_alive || server_->stopping) close_after_ = true;
      server_->handler(std::move(req), std::make_shared<WriterImpl>(self, upgrade, raw_upgrade));
      co_await Pump();
      if (ws_handlers_ && ws_request) {
        co_await RunWebSocket(std::move(*ws_request));
        break;
      }
      if (raw_handlers_) {
        co_await RunRaw();
        break;
      }
      if (proxy_) {
        co_await RunProxy(raw_upgrade);
        break;
      }
      if (closed_ || close_after_ || streaming_) break;
    }
    co_await Shutdown();
    Done();
  }

 private:
  void ResetResponse() {
    response_done_ = false;
    responded_ = false;
    streaming_ = false;
    close_after_ = false;
  }

  void Done() {
    MarkClosed();
    CloseSocket();
    server_->ConnectionEnded();
    auto self = shared_from_this();
    reactor_->conns.erase(self);
  }

  asio::awaitable<void> SendError(int status, std::string message) {
    CK_VLOG(2, "Rejecting request", "remote", remote_, "code", status, "reason", message);
    ResetResponse();
    close_after_ = true;
    std::string body = message + "\n";
    QueueOutput(SerializeHead(status, Headers{{"Content-Type", "text/plain; charset=utf-8"}}, false, body.size(), true) + body);
    response_done_ = true;
    co_await Pump();
    co_await LingeringDrain();
  }

  // After rejecting a request whose body was not read, read and discard what the client is still
  // sending (bounded in bytes and time) so that closing does not reset the connection before the
  // client has read the answer.
  asio::awaitable<void> LingeringDrain() {
    beast::error_code ec;
    Lowest().expires_after(std::chrono::seconds(2));
    size_t drained = 0;
    char scratch[16384];
    while (drained < 16 * 1024 * 1024) {
      size_t n = co_await stream_.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      drained += n;
    }
  }

  // Watches for the peer going away while a stream is open (we are not reading otherwise).
  asio::awaitable<void> DetectClose() {
    auto self = shared_from_this();
    beast::error_code ec;
    char scratch[512];
    while (!closed_) {
      co_await stream_.async_read_some(asio::buffer(scratch), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    MarkClosed();
  }

  // Writes queued output until the response is complete or the connection dies.
  asio::awaitable<void> Pump() {
    beast::error_code ec;
    bool watching = false;
    std::vector<std::string> batch;
    std::vector<asio::const_buffer> bufs;
    while (true) {
      if (streaming_ && !watching) {
        watching = true;
        Lowest().expires_never();
        asio::co_spawn(ex_, DetectClose(), asio::detached);
      }
      if (!out_.empty() && !closed_) {
        batch.clear();
        std::swap(batch, out_);
        bufs.clear();
        size_t total = 0;
        for (const auto& s : batch) {
          bufs.emplace_back(s.data(), s.size());
          total += s.size();
        }
        // A stream, and a large body, are written under a watchdog that wakes a few times per
        // write_timeout and closes the connection if one write takes longer: the stream's reader
        // must not be timed out, and the stream's own timeout is armed once per TLS record (a
        // timerfd_settime per event per watcher, or per 16 KiB of a 10 MB list).
        if (streaming_ || total >= kWatchdogWriteBytes) {
          if (!streaming_) Lowest().expires_never();
          write_started_ = std::chrono::steady_clock::now();
          writing_ = true;
          if (!stream_watchdog_) {
            stream_watchdog_ = true;
            asio::co_spawn(ex_, StreamWatchdog(), asio::detached);
          }
          co_await asio::async_write(stream_, bufs, asio::redirect_error(asio::use_awaitable, ec));
          writing_ = false;
        } else {
          Lowest().expires_after(server_->options.write_timeout);
          co_await asio::async_write(stream_, bufs, asio::redirect_error(asio::use_awaitable, ec));
        }
        buffered_ -= total;
        if (ec) {
          MarkClosed();
          watchdog_.cancel();
          co_return;
        }
        continue;
      }
      if (response_done_ || closed_) {
        watchdog_.cancel();  // ends StreamWatchdog now rather than at its next tick
        co_return;
      }
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  asio::awaitable<void> StreamWatchdog() {
    auto self = shared_from_this();
    beast::error_code ec;
    const auto limit = server_->options.write_timeout;
    const auto period = std::max<std::chrono::milliseconds>(limit / 4, std::chrono::milliseconds(50));
    while (!closed_ && !response_done_) {
      watchdog_.expires_after(period);
      co_await watchdog_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (closed_ || response_done_) break;
      if (writing_ && std::chrono::steady_clock::now() - write_started_ > limit) {
        CloseSocket();
        break;
      }
    }
    stream_watchdog_ = false;  // the next large response on this connection starts a new one
  }

  asio::awaitable<void> RunWebSocket(http::request<http::empty_body> request) {
    auto self = shared_from_this();
    beast::error_code ec;
    auto tok = asio::redirect_error(asio::use_awaitable, ec);
    Lowest().expires_never();
    websocket::stream<Stream&> ws(stream_);
    ws.set_option(websocket::stream_base::timeout{std::chrono::seconds(30), websocket::stream_base::none(), false});
    std::string proto = ws_subprotocol_;
    ws.set_option(websocket::stream_base::decorator([proto](websocket::response_type& res) {
      if (!proto.empty()) res.set(http::field::sec_websocket_protocol, proto);
    }));
    ws.binary(true);
    ws.read_message_max(16 * 1024 * 1024);
    // Any bytes already read past the request belong to the WebSocket.
    co_await ws.async_accept(request, tok);
    if (ec) {
      MarkClosed();
      co_return;
    }
    ws_active_ = true;
    response_done_ = false;
    auto handlers = std::move(*ws_handlers_);
    // Writer: sends queued messages; a Close() marks response_done_.
    asio::co_spawn(ex_, WsWriter(ws), asio::detached);
    beast::flat_buffer in;
    while (true) {
      co_await ws.async_read(in, tok);
      if (ec) break;
      if (handlers.on_message) handlers.on_message(beast::buffers_to_string(in.data()));
      in.consume(in.size());
    }
    ws_active_ = false;
    MarkClosed();
    // Let the writer finish before `ws` goes out of scope.
    while (ws_writer_running_) {
      wake_.expires_after(std::chrono::milliseconds(1));
      co_await wake_.async_wait(tok);
    }
    if (handlers.on_close) handlers.on_close();
  }

  asio::awaitable<void> WsWriter(websocket::stream<Stream&>& ws) {
    auto self = shared_from_this();
    ws_writer_running_ = true;
    beast::error_code ec;
    while (!closed_) {
      if (!out_.empty()) {
        auto batch = std::move(out_);
        out_.clear();
        for (auto& m : batch) {
          co_await ws.async_write(asio::buffer(m), asio::redirect_error(asio::use_awaitable, ec));
          buffered_ -= m.size();
          if (ec) break;
        }
        if (ec) break;
        continue;
      }
      if (response_done_) {
        co_await ws.async_close(websocket::close_reason(ws_close_code_), asio::redirect_error(asio::use_awaitable, ec));
        break;
      }
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    ws_writer_running_ = false;
  }

  // Waits (polling the reactor) until `flag` is false: a detached coroutine that borrows this
  // frame's locals must end before they go out of scope.
  asio::awaitable<void> WaitFor(const bool& flag) {
    asio::steady_timer t(ex_);
    beast::error_code ec;
    while (flag) {
      t.expires_after(std::chrono::milliseconds(1));
      co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // After Upgrade(): queued bytes go out, received bytes go to the handler, until either side
  // closes.
  asio::awaitable<void> RunRaw() {
    auto self = shared_from_this();
    Lowest().expires_never();
    raw_active_ = true;
    response_done_ = false;
    RawStreamHandlers handlers = std::move(*raw_handlers_);
    raw_handlers_.reset();
    bool writing = true;
    asio::co_spawn(ex_, RawWriter(writing), asio::detached);
    if (buffer_.size() > 0 && handlers.on_data) {
      handlers.on_data(beast::buffers_to_string(buffer_.data()));
      buffer_.consume(buffer_.size());
    }
    beast::error_code ec;
    std::string buf(65536, '\0');
    while (!closed_) {
      size_t n = co_await stream_.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      if (handlers.on_data) handlers.on_data(buf.substr(0, n));
    }
    raw_active_ = false;
    MarkClosed();
    CloseSocket();
    co_await WaitFor(writing);
    if (handlers.on_close) handlers.on_close();
  }

  asio::awaitable<void> RawWriter(bool& running) {
    auto self = shared_from_this();
    beast::error_code ec;
    std::vector<asio::const_buffer> bufs;
    while (!closed_) {
      if (!out_.empty()) {
        auto batch = std::move(out_);
        out_.clear();
        bufs.clear();
        size_t total = 0;
        for (const auto& m : batch) {
          bufs.emplace_back(m.data(), m.size());
          total += m.size();
        }
        co_await asio::async_write(stream_, bufs, asio::redirect_error(asio::use_awaitable, ec));
        buffered_ -= total;
        if (ec) break;
        continue;
      }
      if (raw_close_requested_) break;
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // Ends the reader too.
    CloseSocket();
    running = false;
  }

  asio::awaitable<void> ProxyFail(ProxyTarget& t, const Status& why) {
    int status = 502;
    Headers headers{{"Content-Type", "text/plain; charset=utf-8"}};
    std::string body = why.message() + "\n";
    if (t.on_error) t.on_error(why, &status, &headers, &body);
    if (t.on_response) t.on_response(status);
    CK_VLOG(2, "Proxy failed", "remote", remote_, "backend", t.host + ":" + std::to_string(t.port), "err", why.message());
    ResetResponse();
    close_after_ = true;
    QueueOutput(SerializeHead(status, headers, false, body.size(), true) + body);
    response_done_ = true;
    co_await Pump();
  }

  // After Proxy(): connects to the backend, sends the request and relays the answer.
  asio::awaitable<void> RunProxy(bool client_upgrade) {
    auto self = shared_from_this();
    ProxyTarget t = std::move(*proxy_);
    proxy_.reset();
    Lowest().expires_never();
    beast::error_code ec;
    auto tok = asio::redirect_error(asio::use_awaitable, ec);
    const std::string where = t.host + ":" + std::to_string(t.port);
    std::vector<tcp::endpoint> endpoints;
    auto address = asio::ip::make_address(t.host, ec);
    if (!ec) {
      endpoints.emplace_back(address, t.port);
    } else {
      tcp::resolver resolver(ex_);
      auto results = co_await resolver.async_resolve(t.host, std::to_string(t.port), tok);
      if (ec) co_return co_await ProxyFail(t, Unavailable("cannot resolve " + t.host + ": " + ec.message()));
      for (const auto& r : results) endpoints.push_back(r.endpoint());
    }
    beast::tcp_stream backend(ex_);
    backend.expires_after(t.connect_timeout);
    co_await backend.async_connect(endpoints, tok);
    if (ec) co_return co_await ProxyFail(t, Unavailable("cannot connect to " + where + ": " + ec.message()));
    backend.socket().set_option(tcp::no_delay(true), ec);
    relay_active_ = true;
    if (!t.tls) {
      abort_backend_ = [&backend] { backend.close(); };
      co_await Relay(backend, t, client_upgrade);
    } else {
      beast::ssl_stream<beast::tcp_stream> tls(std::move(backend), t.tls->native());
      const std::string& name = t.server_name.empty() ? t.host : t.server_name;
      X509_VERIFY_PARAM* param = SSL_get0_param(tls.native_handle());
      beast::error_code aec;
      asio::ip::make_address(name, aec);
      if (!aec) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        SSL_set_tlsext_host_name(tls.native_handle(), name.c_str());
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
      abort_backend_ = [&tls] { beast::get_lowest_layer(tls).close(); };
      beast::get_lowest_layer(tls).expires_after(t.connect_timeout);
      co_await tls.async_handshake(ssl::stream_base::client, tok);
      if (ec) {
        abort_backend_ = nullptr;
        relay_active_ = false;
        co_return co_await ProxyFail(t, Unavailable("TLS handshake with " + where + " failed: " + ec.message()));
      }
      co_await Relay(tls, t, client_upgrade);
    }
    abort_backend_ = nullptr;
    relay_active_ = false;
  }

  template <typename Backend>
  asio::awaitable<void> Relay(Backend& backend, ProxyTarget& t, bool client_upgrade) {
    beast::error_code ec;
    auto tok = asio::redirect_error(asio::use_awaitable, ec);
    auto& backend_tcp = beast::get_lowest_layer(backend);
    backend_tcp.expires_after(t.response_timeout);
    co_await asio::async_write(backend, asio::buffer(t.request), tok);
    if (ec) co_return co_await ProxyFail(t, Unavailable("sending the request to " + t.host + " failed: " + ec.message()));
    std::string head;
    std::string buf(65536, '\0');
    while (head.find("\r\n\r\n") == std::string::npos) {
      if (head.size() > 64 * 1024) co_return co_await ProxyFail(t, Unavailable("the backend's response head is too large"));
      size_t n = co_await backend.async_read_some(asio::buffer(buf), tok);
      if (ec) {
        co_return co_await ProxyFail(t, Unavailable("the backend " + t.host + " closed the connection before answering: " + ec.message()));
      }
      head.append(buf.data(), n);
    }
    const int status = StatusOfHead(head);
    if (status == 0) co_return co_await ProxyFail(t, Unavailable("the backend " + t.host + " answered with a malformed response"));
    if (t.on_response) t.on_response(status);
    backend_tcp.expires_never();
    responded_ = true;
    co_await asio::async_write(stream_, asio::buffer(head), tok);
    if (ec) co_return;
    const bool upgraded = client_upgrade && status == 101;
    std::optional<ResponseEnd> response_end;
    if (!upgraded) {
      response_end.emplace();
      if (response_end->Feed(head)) {
        MarkClosed();
        CloseSocket();
        backend_tcp.close();
        co_return;
      }
    }
    // The other direction runs beside: for an upgrade it carries the client's bytes; otherwise it
    // only notices the client going away (what it sends is dropped).
    bool other_running = true;
    auto other = [&]() -> asio::awaitable<void> {
      auto self = shared_from_this();
      beast::error_code oec;
      auto otok = asio::redirect_error(asio::use_awaitable, oec);
      if (upgraded && buffer_.size() > 0) {
        co_await asio::async_write(backend, buffer_.data(), otok);
        buffer_.consume(buffer_.size());
      }
      std::string in(65536, '\0');
      while (!oec) {
        size_t n = co_await stream_.async_read_some(asio::buffer(in), otok);
        if (oec) break;
        if (upgraded) co_await asio::async_write(backend, asio::buffer(in.data(), n), otok);
      }
      backend_tcp.close();
      other_running = false;
    };
    asio::co_spawn(ex_, other(), asio::detached);
    while (true) {
      size_t n = co_await backend.async_read_some(asio::buffer(buf), tok);
      if (ec) break;
      co_await asio::async_write(stream_, asio::buffer(buf.data(), n), tok);
      if (ec) break;
      if (response_end && response_end->Feed(std::string_view(buf.data(), n))) break;
    }
    MarkClosed();
    CloseSocket();
    backend_tcp.close();
    co_await WaitFor(other_running);
  }

  asio::awaitable<void> Shutdown() {
    if constexpr (kTls) {
      if (!Lowest().socket().is_open()) co_return;
      beast::error_code ec;
      Lowest().expires_after(std::chrono::milliseconds(500));
      co_await stream_.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
    }
    co_return;
  }

 public:
  Reactor* reactor_;
  Stream stream_;
  asio::steady_timer watchdog_;
  bool stream_watchdog_ = false;  // StreamWatchdog is running (I/O thread only)
  bool writing_ = false;          // a stream write is in flight (I/O thread only)
  std::chrono::steady_clock::time_point write_started_;
  beast::flat_buffer buffer_;
  std::string remote_;
  bool idle_ = false;
  bool ws_active_ = false;
  bool ws_writer_running_ = false;
  bool raw_active_ = false;
  bool relay_active_ = false;
  std::function<void()> abort_backend_;  // closes the relay's backend socket (I/O thread only)
};

struct HttpServer::Impl {
  ServerState state;
  std::vector<std::unique_ptr<Reactor>> reactors;
  uint16_t port = 0;
  bool started = false;
  bool stopped = false;

  void Accept(Reactor* r) {
    r->acceptor->async_accept([this, r](beast::error_code ec, tcp::socket socket) {
                                if (ec) {
                                  if (ec == asio::error::operation_aborted || state.stopping) return;
                                  CK_LOG_WARNING("Accept failed", "err", ec.message());
                                } else {
                                  socket.set_option(tcp::no_delay(true), ec);
                                  StartConnection(r, std::move(socket));
                                }
                                if (!state.stopping) Accept(r);
                              });
  }

  void StartConnection(Reactor* r, tcp::socket socket) {
    state.connections++;
    if (state.tls) {
      auto conn = std::make_shared<Connection<beast::ssl_stream<beast::tcp_stream>>>(&state, r, std::move(socket));
      r->conns.insert(conn);
      asio::co_spawn(r->ioc, conn->Run(), asio::detached);
    } else {
      auto conn = std::make_shared<Connection<beast::tcp_stream>>(&state, r, std::move(socket));
      r->conns.insert(conn);
      asio::co_spawn(r->ioc, conn->Run(), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->state.options = std::move(options);
  impl_->state.handler = std::move(handler);
}

HttpServer::~HttpServer() { Stop(std::chrono::milliseconds(0)); }

Status HttpServer::Start() {
  auto& st = impl_->state;
  if (st.options.tls) {
    auto ctx = MakeServerTlsContext(st.options.tls_config);
    if (!ctx.ok()) return ctx.status();
    st.tls.emplace(std::move(ctx).value());
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(st.options.bind_address, ec);
  if (ec) return BadRequest("invalid bind address \"" + st.options.bind_address + "\"");
  int n = std::max(1, st.options.io_threads);
  uint16_t port = st.options.port;
  for (int i = 0; i < n; ++i) {
    auto r = std::make_unique<Reactor>();
    r->acceptor.emplace(r->ioc);
    tcp::endpoint ep(address, port);
    r->acceptor->open(ep.protocol(), ec);
    if (!ec) r->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec && n > 1) {
      int one = 1;
      ::setsockopt(r->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    }
    if (!ec) r->acceptor->bind(ep, ec);
    if (!ec) r->acceptor->listen(1024, ec);
    if (ec) {
      return Unavailable("cannot listen on " + st.options.bind_address + ":" + std::to_string(port) + ": " + ec.message());
    }
    port = r->acceptor->local_endpoint().port();
    impl_->reactors.push_back(std::move(r));
  }
  impl_->port = port;
  for (size_t i = 0; i < impl_->reactors.size(); ++i) {
    Reactor* r = impl_->reactors[i].get();
    impl_->Accept(r);
    std::string name = st.options.thread_name + (n > 1 ? "-" + std::to_string(i) : "");
    r->thread = std::thread([r, name] {
      SetCurrentThreadName(name);
      r->ioc.run();
    });
  }
  impl_->started = true;
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->port; }
int HttpServer::connections() const { return impl_->state.connections.load(); }

void HttpServer::Stop(std::chrono::milliseconds drain) {
  if (!impl_->started || impl_->stopped) return;
  impl_->stopped = true;
  auto& st = impl_->state;
  st.stopping = true;
  for (auto& r : impl_->reactors) {
    asio::post(r->ioc, [r = r.get()] {
      beast::error_code ec;
      r->acceptor->close(ec);
      auto conns = r->conns;
      for (auto& c : conns) c->BeginStop();
    });
  }
  st.WaitDrained(std::chrono::steady_clock::now() + drain);
  for (auto& r : impl_->reactors) {
    asio::post(r->ioc, [r = r.get()] {
      auto conns = r->conns;
      for (auto& c : conns) {
        c->MarkClosed();
        c->CloseSocket();
      }
    });
  }
  st.WaitDrained(std::chrono::steady_clock::now() + std::chrono::milliseconds(1000));
  for (auto& r : impl_->reactors) r->ioc.stop();
  for (auto& r : impl_->reactors) {
    if (r->thread.joinable()) r->thread.join();
  }
  for (auto& r : impl_->reactors) r->conns.clear();
}

}  // namespace ck::net
