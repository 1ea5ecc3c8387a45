// httpGet and tcpSocket probes over non-blocking sockets with one deadline (Go's Client.Timeout
// covers connect, TLS, request, headers and body). TLS through OpenSSL without verification, as
// upstream's probe transport (InsecureSkipVerify).
#include "kubelet/prober/probe_runners.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/base/strings.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;
using Clock = std::chrono::steady_clock;
using Deadline = Clock::time_point;

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr int kMaxRedirects = 10;

std::string JoinHostPort(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

// A resolved address; only literals are accepted (no DNS from the node agent's probes).
struct Address {
  sockaddr_storage storage{};
  socklen_t len = 0;
};

// Returns the error text ("" on success) in Go's words.
std::string ParseAddress(const std::string& host_in, int port, bool loopback_only, Address* out) {
  std::string host = host_in;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (EqualsIgnoreCase(host, "localhost")) host = "127.0.0.1";
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    if (loopback_only && (ntohl(v4.s_addr) >> 24) != 127) {
      return "dial tcp " + JoinHostPort(host, port) + ": address outside 127.0.0.0/8 (process mode probes stay on loopback)";
    }
    auto* sa = reinterpret_cast<sockaddr_in*>(&out->storage);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(static_cast<uint16_t>(port));
    sa->sin_addr = v4;
    out->len = sizeof(sockaddr_in);
    return "";
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    if (loopback_only && !IN6_IS_ADDR_LOOPBACK(&v6)) {
      return "dial tcp " + JoinHostPort(host, port) + ": address outside ::1 (process mode probes stay on loopback)";
    }
    auto* sa = reinterpret_cast<sockaddr_in6*>(&out->storage);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(static_cast<uint16_t>(port));
    sa->sin6_addr = v6;
    out->len = sizeof(sockaddr_in6);
    return "";
  }
  return "dial tcp: lookup " + host + ": no such host (probes take IP addresses)";
}

int RemainingMs(Deadline deadline) {
  // Rounded up, so that a wait never ends before the deadline.
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>((left + 999) / 1000, 1 << 30));
}

// Waits for `events` on fd; false on timeout.
bool WaitFd(int fd, short events, Deadline deadline) {
  for (;;) {
    int ms = RemainingMs(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return true;  // let the next call report the error
  }
}

SSL_CTX* SharedTlsContext() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    if (c != nullptr) SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    return c;
  }();
  return ctx;
}

// One connection: plain TCP or TLS, every call bounded by the deadline. Errors are Go-like texts.
class Conn {
 public:
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
  }

  // "" on success, else e.g. "dial tcp 127.0.0.1:1: connect: connection refused".
  std::string Dial(const std::string& host, int port, bool loopback_only, Deadline deadline) {
    Address addr;
    std::string err = ParseAddress(host, port, loopback_only, &addr);
    if (!err.empty()) return err;
    const std::string prefix = "dial tcp " + JoinHostPort(host, port) + ": ";
    fd_ = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return prefix + "socket: " + std::strerror(errno);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr.storage), addr.len) != 0) {
      if (errno != EINPROGRESS) return prefix + "connect: " + ErrText(errno);
      if (!WaitFd(fd_, POLLOUT, deadline)) return prefix + "i/o timeout";
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (so_error != 0) return prefix + "connect: " + ErrText(so_error);
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return "";
  }

  std::string StartTls(const std::string& server_name, Deadline deadline) {
    SSL_CTX* ctx = SharedTlsContext();
    if (ctx == nullptr) return "tls: no context";
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr) return "tls: SSL_new failed";
    SSL_set_fd(ssl_, fd_);
    in_addr v4{};
    in6_addr v6{};
    if (inet_pton(AF_INET, server_name.c_str(), &v4) != 1 && inet_pton(AF_INET6, server_name.c_str(), &v6) != 1) {
      SSL_set_tlsext_host_name(ssl_, server_name.c_str());
    }
    for (;;) {
      ERR_clear_error();
      int r = SSL_connect(ssl_);
      if (r == 1) return "";
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        if (!WaitFd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return "net/http: TLS handshake timeout";
        continue;
      }
      char buf[256];
      ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
      return std::string("tls: handshake failed: ") + buf;
    }
  }

  // "" on success; "timeout" when the deadline passed.
  std::string WriteAll(const std::string& data, Deadline deadline) {
    size_t off = 0;
    while (off < data.size()) {
      if (ssl_ != nullptr) {
        ERR_clear_error();
        int r = SSL_write(ssl_, data.data() + off, static_cast<int>(data.size() - off));
        if (r > 0) {
          off += static_cast<size_t>(r);
          continue;
        }
        int e = SSL_get_error(ssl_, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return "write: tls error";
        if (!WaitFd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return "timeout";
        continue;
      }
      ssize_t n = ::send(fd_, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) {
        off += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        if (!WaitFd(fd_, POLLOUT, deadline)) return "timeout";
      } else {
        return std::string("write: ") + ErrText(errno);
      }
    }
    return "";
  }

  // >0 bytes read, 0 at EOF, -1 on error (*err set; "timeout" when the deadline passed).
  ssize_t Read(char* buf, size_t n, Deadline deadline, std::string* err) {
    for (;;) {
      if (ssl_ != nullptr) {
        ERR_clear_error();
        int r = SSL_read(ssl_, buf, static_cast<int>(n));
        if (r > 0) return r;
        int e = SSL_get_error(ssl_, r);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e == SSL_ERROR_SYSCALL && r == 0) return 0;  // closed without close_notify
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
          *err = "read: tls error";
          return -1;
        }
        if (!WaitFd(fd_, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
          *err = "timeout";
          return -1;
        }
        continue;
      }
      ssize_t r = ::recv(fd_, buf, n, 0);
      if (r >= 0) return r;
      if (errno == EAGAIN || errno == EINTR) {
        if (!WaitFd(fd_, POLLIN, deadline)) {
          *err = "timeout";
          return -1;
        }
        continue;
      }
      *err = std::string("read: ") + ErrText(errno);
      return -1;
    }
  }

 private:
  static std::string ErrText(int e) {
    // Go prints syscall errors in lower case ("connection refused").
    return ToLower(std::strerror(e));
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
};

struct Url {
  std::string scheme, host;
  int port = 0;
  std::string path;  // request target, "/" at least

  std::string String() const {
    bool default_port = (scheme == "http" && port == 80) || (scheme == "https" && port == 443);
    std::string authority = default_port ? (host.find(':') != std::string::npos ? "[" + host + "]" : host)
                                         : JoinHostPort(host, port);
    return scheme + "://" + authority + path;
  }
};

int DefaultPort(const std::string& scheme) { return scheme == "https" ? 443 : 80; }

// Resolves a Location header against the URL it came from.
std::optional<Url> ResolveLocation(const Url& base, const std::string& location) {
  Url out = base;
  std::string rest = location;
  size_t scheme_end = rest.find("://");
  if (scheme_end != std::string::npos && rest.find('/') > scheme_end) {
    out.scheme = ToLower(rest.substr(0, scheme_end));
    if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
    rest = rest.substr(scheme_end + 1);  // keeps the leading "//"
  }
  if (rest.rfind("//", 0) == 0) {
    rest = rest.substr(2);
    size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    rest = slash == std::string::npos ? "/" : rest.substr(slash);
    std::string host = authority;
    int port = DefaultPort(out.scheme);
    size_t colon = authority.rfind(':');
    if (!authority.empty() && authority[0] == '[') {
      size_t close = authority.find(']');
      if (close == std::string::npos) return std::nullopt;
      host = authority.substr(1, close - 1);
      if (close + 1 < authority.size() && authority[close + 1] == ':') {
        auto p = ParseInt(authority.substr(close + 2));
        if (!p) return std::nullopt;
        port = static_cast<int>(*p);
      }
    } else if (colon != std::string::npos) {
      host = authority.substr(0, colon);
      auto p = ParseInt(authority.substr(colon + 1));
      if (!p) return std::nullopt;
      port = static_cast<int>(*p);
    }
    out.host = host;
    out.port = port;
    out.path = rest;
    return out;
  }
  if (!rest.empty() && rest[0] == '/') {
    out.path = rest;
  } else {
    std::string dir = base.path.substr(0, base.path.rfind('/') + 1);
    out.path = dir + rest;
  }
  return out;
}

// http.CanonicalHeaderKey: "x-custom-header" -> "X-Custom-Header".
std::string CanonicalHeaderKey(const std::string& key) {
  std::string out = key;
  bool upper = true;
  for (char& c : out) {
    if (c == ' ' || c == '\t') return key;  // not a token: Go leaves it alone
    c = upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    upper = c == '-';
  }
  return out;
}

struct Response {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // at most kMaxProbeBodyBytes

  const std::string* Header(const std::string& lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return &v;
    }
    return nullptr;
  }
};

// One GET; "" on success, else the error in Go's words after `Get "<url>": `.
std::string DoGet(const Url& url, const std::vector<std::pair<std::string, std::string>>& headers,
                  bool loopback_only, Deadline deadline, Response* resp) {
  Conn conn;
  std::string err = conn.Dial(url.host, url.port, loopback_only, deadline);
  if (!err.empty()) return err;
  if (url.scheme == "https") {
    err = conn.StartTls(url.host, deadline);
    if (!err.empty()) return err;
  }
  std::string host_header = url.String().substr(url.scheme.size() + 3);
  host_header = host_header.substr(0, host_header.find('/'));
  bool has_agent = false, has_accept = false;
  std::string accept;
  std::string extra;
  for (const auto& [name, value] : headers) {
    std::string key = CanonicalHeaderKey(name);
    if (key == "Host") {
      host_header = value;
      continue;
    }
    if (key == "User-Agent") has_agent = true;
    if (key == "Accept") {
      has_accept = true;
      if (value.empty()) continue;  // an empty Accept removes the header, as upstream
    }
    extra += key + ": " + value + "\r\n";
  }
  std::string req = "GET " + url.path + " HTTP/1.1\r\nHost: " + host_header + "\r\n";
  if (!has_agent) req += std::string("User-Agent: ") + kProbeUserAgent + "\r\n";
  if (!has_accept) req += "Accept: */*\r\n";
  req += extra;
  req += "Connection: close\r\n\r\n";
  err = conn.WriteAll(req, deadline);
  if (err == "timeout") return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
  if (!err.empty()) return err;

  std::string buf;
  size_t header_end = std::string::npos;
  char chunk[16384];
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHeaderBytes) return "net/http: server response headers exceeded 65536 bytes";
    ssize_t n = conn.Read(chunk, sizeof(chunk), deadline, &err);
    if (n < 0) {
      if (err == "timeout") return "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";
      return err;
    }
    if (n == 0) return buf.empty() ? "EOF" : "unexpected EOF";
    buf.append(chunk, static_cast<size_t>(n));
  }
  std::string head = buf.substr(0, header_end);
  std::string body = buf.substr(header_end + 4);
  std::vector<std::string_view> lines = Split(head, '\n');
  std::string_view status_line = TrimSpace(lines[0]);
  if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) {
    return "net/http: malformed HTTP response \"" + std::string(status_line) + "\"";
  }
  auto code = ParseInt(status_line.substr(9, 3));
  if (!code) return "malformed HTTP status code \"" + std::string(status_line.substr(9, 3)) + "\"";
  resp->status = static_cast<int>(*code);
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = TrimSpace(lines[i]);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    resp->headers.emplace_back(ToLower(TrimSpace(line.substr(0, colon))),
                               std::string(TrimSpace(line.substr(colon + 1))));
  }

  // The body, at most kMaxProbeBodyBytes of it (ReadAtMost); a truncated body is not an error.
  const std::string* te = resp->Header("transfer-encoding");
  const std::string* cl = resp->Header("content-length");
  bool chunked = te != nullptr && ToLower(*te).find("chunked") != std::string::npos;
  std::optional<int64_t> length;
  if (!chunked && cl != nullptr) length = ParseInt(*cl);
  auto read_more = [&]() -> ssize_t {
    ssize_t n = conn.Read(chunk, sizeof(chunk), deadline, &err);
    if (n > 0) body.append(chunk, static_cast<size_t>(n));
    return n;
  };
  if (chunked) {
    std::string decoded;
    size_t pos = 0;
    for (;;) {
      size_t eol;
      bool eof = false;
      while ((eol = body.find("\r\n", pos)) == std::string::npos) {
        if (read_more() <= 0) {
          eof = true;
          break;
        }
      }
      if (eof) break;
      size_t size = std::strtoull(body.c_str() + pos, nullptr, 16);  // stops at ';' extensions
      if (size == 0) break;
      size_t start = eol + 2;
      size_t take = std::min(size, kMaxProbeBodyBytes - decoded.size());
      while (body.size() < start + take && read_more() > 0) {
      }
      decoded.append(body, start, std::min(take, body.size() - start));
      if (decoded.size() >= kMaxProbeBodyBytes || body.size() < start + take) break;
      while (body.size() < start + size + 2 && read_more() > 0) {
      }
      if (body.size() < start + size + 2) break;
      pos = start + size + 2;
    }
    resp->body = std::move(decoded);
  } else {
    size_t want = kMaxProbeBodyBytes;
    if (length) want = std::min<size_t>(want, static_cast<size_t>(std::max<int64_t>(*length, 0)));
    while (body.size() < want) {
      if (read_more() <= 0) break;
    }
    if (body.size() > want) body.resize(want);
    resp->body = std::move(body);
  }
  return "";
}

}  // namespace

ProbeOutcome DoHttpProbe(const HttpProbeTarget& target, std::chrono::milliseconds timeout) {
  Deadline deadline = Clock::now() + timeout;
  Url url;
  url.scheme = ToLower(target.scheme.empty() ? "http" : target.scheme);
  url.host = target.host;
  url.port = target.port;
  url.path = target.path.empty() ? "/" : (target.path[0] == '/' ? target.path : "/" + target.path);
  const std::string first_host = ToLower(url.host);
  for (int redirects = 0;; ++redirects) {
    Response resp;
    std::string err = DoGet(url, target.headers, target.loopback_only, deadline, &resp);
    if (!err.empty()) return {ProbeOutcome::kFailure, "Get \"" + url.String() + "\": " + err};
    bool follow = resp.status == 301 || resp.status == 302 || resp.status == 303 || resp.status == 307 ||
                  resp.status == 308;
    const std::string* location = resp.Header("location");
    if (follow && location != nullptr && !location->empty()) {
      std::optional<Url> next = ResolveLocation(url, *location);
      // RedirectChecker(followNonLocalRedirects=false): another host ends with the 3xx itself.
      if (next && ToLower(next->host) == first_host) {
        if (redirects + 1 >= kMaxRedirects) {
          return {ProbeOutcome::kFailure, "Get \"" + next->String() + "\": stopped after 10 redirects"};
        }
        url = *next;
        continue;
      }
    }
    if (resp.status >= 200 && resp.status < 400) {
      if (resp.status >= 300) {
        return {ProbeOutcome::kWarning, "Probe terminated redirects, Response body: " + resp.body};
      }
      return {ProbeOutcome::kSuccess, resp.body};
    }
    return {ProbeOutcome::kFailure, "HTTP probe failed with statuscode: " + std::to_string(resp.status)};
  }
}

ProbeOutcome DoTcpProbe(const std::string& host, int port, std::chrono::milliseconds timeout, bool loopback_only) {
  Conn conn;
  std::string err = conn.Dial(host, port, loopback_only, Clock::now() + timeout);
  if (!err.empty()) return {ProbeOutcome::kFailure, err};
  return {ProbeOutcome::kSuccess, ""};
}

Result<int> ResolveContainerPort(const k8s::io::apimachinery::pkg::util::intstr::IntOrString& port,
                                 const corev1::Container& container) {
  int64_t value = -1;
  if (port.type() == 0) {
    value = port.intval();
  } else {
    const std::string& name = port.strval();
    bool found = false;
    for (const auto& p : container.ports()) {
      if (p.name() == name) {
        value = p.containerport();
        found = true;
        break;
      }
    }
    if (!found) {
      // Last ditch effort, as upstream: maybe it was an int stored as a string.
      auto n = ParseInt(name);
      if (!n) return BadRequest("port " + name + " not found");
      value = *n;
    }
  }
  if (value > 0 && value < 65536) return static_cast<int>(value);
  return BadRequest("invalid port number: " + std::to_string(value));
}

}  // namespace ck::kubelet
