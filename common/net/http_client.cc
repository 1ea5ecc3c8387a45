// HttpClient implementation: each connection owns a private io_context; a blocking call starts
// the async operation and runs that context until it completes (Beast's stream timeouts apply).
#include "common/net/http_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>
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
  }
  ~StreamImpl() override {
    beast::error_code ec;
    conn_->Lowest().socket().close(ec);
  }

  int status() const override { return status_; }
  const Headers& headers() const override { return headers_; }

  Result<std::optional<std::string>> Next(std::chrono::milliseconds timeout) override {
    if (cancelled_) return Unavailable("cancelled");
    while (true) {
      if (parser_->is_done()) return std::optional<std::string>();
      if (!pending_) {
        parser_->get().body().data = scratch_;
        parser_->get().body().size = sizeof scratch_;
        pending_ = true;
        done_ = false;
        conn_->Lowest().expires_never();
        conn_->With([&](auto& s) {
          http::async_read_some(s, conn_->buffer, *parser_, [this](beast::error_code ec, size_t) {
            ec_ = ec;
            done_ = true;
          });
          return 0;
        });
      }
      conn_->ioc.restart();
      if (timeout.count() > 0) {
        conn_->ioc.run_for(timeout);
      } else {
        conn_->ioc.run();
      }
      if (!done_) return Timeout("no data within " + std::to_string(timeout.count()) + "ms");
      pending_ = false;
      if (cancelled_) return Unavailable("cancelled");
      size_t got = sizeof scratch_ - parser_->get().body().size;
      if (ec_ && ec_ != http::error::need_buffer) {
        if (ec_ == http::error::end_of_stream && parser_->is_done()) return std::optional<std::string>();
        return NetError(ec_, "reading response stream");
      }
      if (got > 0) return std::optional<std::string>(std::string(scratch_, got));
    }
  }

  void Cancel() override {
    cancelled_ = true;
    asio::post(conn_->ioc, [c = conn_.get()] {
      beast::error_code ec;
      c->Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
      c->Lowest().socket().close(ec);
    });
  }

 private:
  std::unique_ptr<HttpClient::Conn> conn_;
  std::unique_ptr<http::response_parser<http::buffer_body>> parser_;
  int status_ = 0;
  Headers headers_;
  char scratch_[64 * 1024];
  bool pending_ = false;
  bool done_ = false;
  beast::error_code ec_;
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
    // One deadline timer for the write and one for the read, instead of the stream's per-operation
    // timeout: a large body arrives as hundreds of ~16 KiB TLS records, and re-arming a timer for
    // each costs a timerfd_settime system call per record.
    conn->Lowest().expires_never();
    asio::steady_timer deadline(conn->ioc);
    bool timed_out = false;
    auto arm = [&] {
      deadline.expires_after(options_.timeout);
      deadline.async_wait([&](beast::error_code e) {
        if (e) return;  // cancelled: the operation finished first
        timed_out = true;
        beast::error_code ignored;
        conn->Lowest().socket().cancel(ignored);
      });
    };
    arm();
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
    if (!ec) {
      arm();
      conn->With([&](auto& s) {
        http::async_read(s, conn->buffer, parser, [&](beast::error_code e, size_t) {
          ec = e;
          deadline.cancel();
        });
        return 0;
      });
      conn->RunToCompletion();
    }
    if (timed_out) ec = beast::error::timeout;
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
