// HttpClient implementation: each connection owns a private io_context; connecting, the TLS
// handshake and writing a request start the async operation and run that context until it
// completes. Responses (Do() and streams) are read differently: synchronous reads on the socket
// in non-blocking mode, waiting in poll() up to the deadline. Running the io_context for each
// TLS record cost about 30 epoll_wait calls per 16 KiB record (a 10,000-pod list took 3.5x as
// long, and small responses paid the same per-record toll).
#include "common/net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <limits>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "common/net/asio.h"
#include "common/net/tls_context.h"

namespace ck::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

struct HttpClient::TlsState {
  std::optional<ssl::context> ctx;
};

struct HttpClient::Conn {
  asio::io_context ioc{1};
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::optional<beast::tcp_stream> plain;
  beast::flat_buffer buffer;
  bool reused = false;

  beast::tcp_stream& Lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }

  template <typename F>
  auto With(F&& f) {
    if (tls) return f(*tls);
    return f(*plain);
  }

  // Runs the context until the started operation completes.
  void RunToCompletion() {
    ioc.restart();
    ioc.run();
  }

  // One synchronous read into `parser` by `deadline`. The socket is in non-blocking mode (set
  // once, by Connect(); async operations ignore it): a read that would wait returns at once and
  // poll() does the waiting, then the read is tried again. Timeouts are beast::error::timeout.
  // (A TLS read that must also write, as a TLS 1.3 KeyUpdate asks, does so on the same
  // non-blocking socket: a full send buffer then fails the request.)
  template <typename Parser>
  beast::error_code ReadSome(Parser& parser, std::chrono::steady_clock::time_point deadline) {
    while (true) {
      beast::error_code ec;
      With([&](auto& s) {
        http::read_some(s, buffer, parser, ec);
        return 0;
      });
      if (ec != asio::error::would_block && ec != asio::error::try_again) return ec;
      if (beast::error_code waited = WaitReadable(deadline)) return waited;
    }
  }

  // Reads a whole response into `parser` by `deadline`.
  template <typename Parser>
  beast::error_code ReadResponse(Parser& parser, std::chrono::steady_clock::time_point deadline) {
    beast::error_code ec;
    while (!ec && !parser.is_done()) ec = ReadSome(parser, deadline);
    return ec;
  }

  // Waits in poll() until the socket has input (or is shut down), or `deadline` (time_point::max()
  // = forever) passes: beast::error::timeout.
  beast::error_code WaitReadable(std::chrono::steady_clock::time_point deadline) {
    while (true) {
      int wait_ms = -1;
      if (deadline != std::chrono::steady_clock::time_point::max()) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return beast::error::timeout;
        wait_ms = static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX));
      }
      pollfd p{Lowest().socket().native_handle(), POLLIN, 0};
      int n = ::poll(&p, 1, wait_ms);
      if (n > 0) return {};
      if (n == 0) return beast::error::timeout;
      if (errno != EINTR) return beast::error_code(errno, boost::system::system_category());
    }
  }
};

namespace {

std::string SerializeRequest(const ClientRequest& r, const HttpClientOptions& o) {
  std::string out;
  out.reserve(256 + r.body.size());
  out += r.method;
  out += ' ';
  out += r.target;
  out += " HTTP/1.1\r\n";
  if (!r.headers.Has("Host")) {
    out += "Host: ";
    out += o.host;
    out += ':';
    out += std::to_string(o.port);
    out += "\r\n";
  }
  for (const auto& [k, v] : r.headers.entries()) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    out += "Content-Length: ";
    out += std::to_string(r.body.size());
    out += "\r\n";
  }
  out += "\r\n";
  out += r.body;
  return out;
}

Status NetError(const beast::error_code& ec, std::string_view what) {
  if (ec == beast::error::timeout) return Timeout(std::string(what) + ": timed out");
  return Unavailable(std::string(what) + ": " + ec.message());
}

template <typename Body>
Headers HeadersOf(const http::response<Body>& res) {
  Headers h;
  for (const auto& f : res) h.Add(std::string(f.name_string()), std::string(f.value()));
  return h;
}

class StreamImpl final : public ResponseStream {
 public:
  StreamImpl(std::unique_ptr<HttpClient::Conn> conn, std::unique_ptr<http::response_parser<http::buffer_body>> parser)
      : conn_(std::move(conn)), parser_(std::move(parser)) {
    status_ = parser_->get().result_int();
    headers_ = HeadersOf(parser_->get());
    fd_ = conn_->Lowest().socket().native_handle();  // non-blocking since Connect()
  }
  ~StreamImpl() override {
    beast::error_code ec;
    conn_->Lowest().socket().close(ec);
  }

  int status() const override { return status_; }
  const Headers& headers() const override { return headers_; }

  // Synchronous reads on the socket in non-blocking mode, waiting in poll() (Conn::ReadSome);
  // Cancel() shuts the socket down, which wakes that poll.
  Result<std::optional<std::string>> Next(std::chrono::milliseconds timeout) override {
    if (cancelled_) return Unavailable("cancelled");
    const auto deadline = timeout.count() > 0 ? std::chrono::steady_clock::now() + timeout
                                              : std::chrono::steady_clock::time_point::max();
    while (true) {
      if (parser_->is_done()) return std::optional<std::string>();
      parser_->get().body().data = scratch_;
      parser_->get().body().size = sizeof scratch_;
      beast::error_code ec = conn_->ReadSome(*parser_, deadline);
      if (cancelled_) return Unavailable("cancelled");
      size_t got = sizeof scratch_ - parser_->get().body().size;
      if (got > 0) return std::optional<std::string>(std::string(scratch_, got));
      if (ec == beast::error::timeout) return Timeout("no data within " + std::to_string(timeout.count()) + "ms");
      if (!ec || ec == http::error::need_buffer) continue;
      if (ec == http::error::end_of_stream && parser_->is_done()) return std::optional<std::string>();
      return NetError(ec, "reading response stream");
    }
  }

  void Cancel() override {
    cancelled_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // the fd stays open until the destructor; a blocked poll() wakes
  }

 private:
  std::unique_ptr<HttpClient::Conn> conn_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  int status_ = 0;
  Headers headers_;
  char scratch_[64 * 1024];
  int fd_ = -1;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)), tls_(std::make_unique<TlsState>()) {}
HttpClient::~HttpClient() = default;

int HttpClient::connections_opened() const {
  std::lock_guard lock(mu_);
  return opened_;
}

Result<std::unique_ptr<HttpClient::Conn>> HttpClient::Connect() {
  if (options_.tls) {
    std::lock_guard lock(mu_);
    if (!tls_->ctx) {
      auto ctx = MakeClientTlsContext(options_.tls_config);
      if (!ctx.ok()) return ctx.status();
      tls_->ctx.emplace(std::move(ctx).value());
    }
  }
  auto conn = std::make_unique<Conn>();
  if (options_.tls) {
    conn->tls.emplace(conn->ioc, *tls_->ctx);
  } else {
    conn->plain.emplace(conn->ioc);
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  std::vector<tcp::endpoint> endpoints;
  if (!ec) {
    endpoints.emplace_back(address, options_.port);
  } else {
    tcp::resolver resolver(conn->ioc);
    auto results = resolver.resolve(options_.host, std::to_string(options_.port), ec);
    if (ec) return Unavailable("cannot resolve " + options_.host + ": " + ec.message());
    for (const auto& r : results) endpoints.push_back(r.endpoint());
  }
  conn->Lowest().expires_after(options_.timeout);
  conn->Lowest().async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  conn->RunToCompletion();
  std::string where = options_.host + ":" + std::to_string(options_.port);
  if (ec) return NetError(ec, "connect to " + where);
  conn->Lowest().socket().set_option(tcp::no_delay(true), ec);
  if (conn->tls) {
    SSL* ssl = conn->tls->native_handle();
    const std::string& name = options_.tls_config.server_name.empty() ? options_.host : options_.tls_config.server_name;
    if (!options_.tls_config.insecure_skip_verify) {
      beast::error_code aec;
      asio::ip::make_address(name, aec);
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
      if (!aec) {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
      } else {
        SSL_set_tlsext_host_name(ssl, name.c_str());
        X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
      }
    }
    conn->Lowest().expires_after(options_.timeout);
    conn->tls->async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
    conn->RunToCompletion();
    if (ec) return NetError(ec, "TLS handshake with " + where);
  }
  conn->Lowest().socket().non_blocking(true, ec);  // for the synchronous reads (Conn::ReadSome)
  if (ec) return NetError(ec, "connect to " + where);
  std::lock_guard lock(mu_);
  ++opened_;
  return conn;
}

std::unique_ptr<HttpClient::Conn> HttpClient::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  auto c = std::move(idle_.back());
  idle_.pop_back();
  c->reused = true;
  return c;
}

void HttpClient::ReturnIdle(std::unique_ptr<Conn> conn) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}

Result<Response> HttpClient::Do(const ClientRequest& request) {
  const std::string wire = SerializeRequest(request, options_);
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto conn = TakeIdle();
    if (!conn) {
      auto c = Connect();
      if (!c.ok()) return c.status();
      conn = std::move(c).value();
    }
    beast::error_code ec;
    // One deadline timer for the write, instead of the stream's per-operation timeout (a
    // timerfd_settime system call per TLS record); the read has its own deadline.
    conn->Lowest().expires_never();
    asio::steady_timer deadline(conn->ioc);
    bool timed_out = false;
    deadline.expires_after(options_.timeout);
    deadline.async_wait([&](beast::error_code e) {
      if (e) return;  // cancelled: the write finished first
      timed_out = true;
      beast::error_code ignored;
      conn->Lowest().socket().cancel(ignored);
    });
    conn->With([&](auto& s) {
      asio::async_write(s, asio::buffer(wire), [&](beast::error_code e, size_t) {
        ec = e;
        deadline.cancel();
      });
      return 0;
    });
    conn->RunToCompletion();
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.max_response_bytes);
    if (request.method == "HEAD") parser.skip(true);
    if (timed_out) ec = beast::error::timeout;
    if (!ec) ec = conn->ReadResponse(parser, std::chrono::steady_clock::now() + options_.timeout);
    if (ec) {
      // A pooled connection the server already closed: try once more on a fresh one.
      if (conn->reused && attempt == 0 && ec != beast::error::timeout) continue;
      return NetError(ec, request.method + " " + request.target);
    }
    auto res = parser.release();
    Response out;
    out.status = res.result_int();
    out.headers = HeadersOf(res);
    out.body = std::move(res.body());
    if (res.keep_alive()) ReturnIdle(std::move(conn));
    return out;
  }
  return Unavailable(request.method + " " + request.target + ": connection closed");
}

Result<std::unique_ptr<ResponseStream>> HttpClient::Open(const ClientRequest& request) {
  auto c = Connect();
  if (!c.ok()) return c.status();
  auto conn = std::move(c).value();
  const std::string wire = SerializeRequest(request, options_);
  beast::error_code ec;
  conn->Lowest().expires_after(options_.timeout);
  conn->With([&](auto& s) {
    asio::async_write(s, asio::buffer(wire), [&](beast::error_code e, size_t) { ec = e; });
    return 0;
  });
  conn->RunToCompletion();
  if (ec) return NetError(ec, request.method + " " + request.target);
  auto parser = std::make_unique<http::response_parser<http::buffer_body>>();
  // No limit for a stream (boost::none would make Beast 1.74 reject any Content-Length body).
  parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  conn->Lowest().expires_after(options_.timeout);
  conn->With([&](auto& s) {
    http::async_read_header(s, conn->buffer, *parser, [&](beast::error_code e, size_t) { ec = e; });
    return 0;
  });
  conn->RunToCompletion();
  if (ec) return NetError(ec, "reading response header");
  return std::unique_ptr<ResponseStream>(std::make_unique<StreamImpl>(std::move(conn), std::move(parser)));
}

}  // namespace ck::net
