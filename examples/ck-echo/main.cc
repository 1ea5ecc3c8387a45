// ck-echo: the test and demo workload (README.md). A tiny HTTP/1.1 server on $POD_IP:$PORT that
// answers GET / with its pod name, serves /healthz and /ready, can switch its readiness off and on,
// logs every request to stdout, and on SIGTERM logs it and exits 0 (after --shutdown-delay).
// --exit-after and --exit-code make it crash on purpose. One thread accepts; each connection gets
// a short-lived thread of its own.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

std::atomic<bool> g_ready{true};
std::mutex g_log_mu;
std::string g_pod_name;
int g_signal_pipe[2] = {-1, -1};

// One line to stdout, flushed at once (stdout is a pipe or file under ck-shim).
void Log(const std::string& msg) {
  char ts[32];
  time_t now = time(nullptr);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> lock(g_log_mu);
  std::fprintf(stdout, "%s %s\n", ts, msg.c_str());
  std::fflush(stdout);
}

void OnSignal(int sig) {
  char c = static_cast<char>(sig);
  (void)!write(g_signal_pipe[1], &c, 1);
}

struct Response {
  int code;
  std::string body;
};

Response Route(const std::string& method, const std::string& path) {
  if (path == "/" && method == "GET") return {200, g_pod_name + "\n"};
  if (path == "/healthz") return {200, "ok\n"};
  if (path == "/ready") return g_ready ? Response{200, "ready\n"} : Response{503, "not ready\n"};
  if (path == "/fail-readiness" && (method == "GET" || method == "POST")) {
    g_ready = false;
    return {200, "readiness off\n"};
  }
  if (path == "/pass-readiness" && (method == "GET" || method == "POST")) {
    g_ready = true;
    return {200, "readiness on\n"};
  }
  return {404, "not found\n"};
}

const char* StatusText(int code) {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 503: return "Service Unavailable";
  }
  return "Unknown";
}

void Serve(int fd, std::string peer) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    req.append(buf, n);
  }
  std::string line = req.substr(0, req.find("\r\n"));
  std::string method = line.substr(0, line.find(' '));
  size_t p1 = line.find(' '), p2 = line.rfind(' ');
  Response r{400, "bad request\n"};
  std::string path;
  if (p1 != std::string::npos && p2 > p1) {
    path = line.substr(p1 + 1, p2 - p1 - 1);
    path = path.substr(0, path.find('?'));
    r = Route(method, path);
  }
  std::string out = "HTTP/1.1 " + std::to_string(r.code) + " " + StatusText(r.code) +
                    "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(r.body.size()) +
                    "\r\nConnection: close\r\n\r\n" + (method == "HEAD" ? "" : r.body);
  (void)!send(fd, out.data(), out.size(), MSG_NOSIGNAL);
  close(fd);
  Log(peer + " \"" + method + " " + path + "\" " + std::to_string(r.code));
}

std::string Secs(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

bool ParseSeconds(const char* arg, const char* flag, double* out) {
  size_t n = std::strlen(flag);
  if (std::strncmp(arg, flag, n) != 0) return false;
  char* end = nullptr;
  *out = std::strtod(arg + n, &end);
  if (end == arg + n || *end != '\0' || *out < 0) {
    std::fprintf(stderr, "ck-echo: bad value in %s\n", arg);
    std::exit(2);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double exit_after = -1, shutdown_delay = 0, exit_code = 1;
  for (int i = 1; i < argc; ++i) {
    if (!ParseSeconds(argv[i], "--exit-after=", &exit_after) && !ParseSeconds(argv[i], "--exit-code=", &exit_code) &&
        !ParseSeconds(argv[i], "--shutdown-delay=", &shutdown_delay)) {
      std::fprintf(stderr,
                   "ck-echo: unknown flag %s (usage: ck-echo [--exit-after=SECONDS] [--exit-code=N] "
                   "[--shutdown-delay=SECONDS])\n",
                   argv[i]);
      return 2;
    }
  }
  const char* ip = getenv("POD_IP");
  const char* port_env = getenv("PORT");
  const char* name = getenv("POD_NAME");
  std::string host = ip && *ip ? ip : "127.0.0.1";
  int port = port_env && *port_env ? std::atoi(port_env) : 8080;
  char hostname[256] = "ck-echo";
  if (!name || !*name) gethostname(hostname, sizeof hostname);
  g_pod_name = name && *name ? name : hostname;

  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    std::fprintf(stderr, "ck-echo: POD_IP %s is not an IPv4 address\n", host.c_str());
    return 2;
  }
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(lfd, 128) != 0) {
    std::fprintf(stderr, "ck-echo: cannot listen on %s:%d: %s\n", host.c_str(), port, std::strerror(errno));
    return 1;
  }
  socklen_t len = sizeof addr;
  getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len);

  if (pipe2(g_signal_pipe, O_CLOEXEC) != 0) return 1;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Log("listening on " + host + ":" + std::to_string(ntohs(addr.sin_port)) + " as " + g_pod_name);

  const auto start = Clock::now();
  Clock::time_point stop_at = Clock::time_point::max();
  auto exit_at = exit_after >= 0 ? start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(exit_after))
                                 : Clock::time_point::max();
  while (true) {
    auto now = Clock::now();
    if (now >= stop_at) {
      Log("exiting 0");
      std::fflush(stdout);
      _exit(0);
    }
    if (now >= exit_at) {
      Log("exiting with code " + std::to_string(static_cast<int>(exit_code)) + " after " + Secs(exit_after) + " (--exit-after)");
      std::fflush(stdout);
      _exit(static_cast<int>(exit_code));
    }
    auto next = std::min(stop_at, exit_at);
    int timeout_ms = next == Clock::time_point::max()
                         ? -1
                         : static_cast<int>(std::ceil(std::chrono::duration<double, std::milli>(next - now).count()));
    pollfd p[2] = {{lfd, POLLIN, 0}, {g_signal_pipe[0], POLLIN, 0}};
    if (poll(p, 2, timeout_ms) <= 0) continue;
    if (p[1].revents & POLLIN) {
      char sig = 0;
      (void)!read(g_signal_pipe[0], &sig, 1);
      if (stop_at == Clock::time_point::max()) {
        Log(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down" +
            (shutdown_delay > 0 ? " in " + Secs(shutdown_delay) : ""));
        stop_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(shutdown_delay));
      }
    }
    if (p[0].revents & POLLIN) {
      sockaddr_in peer{};
      socklen_t plen = sizeof peer;
      int fd = accept4(lfd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
      if (fd < 0) continue;
      char pbuf[INET_ADDRSTRLEN] = "?";
      inet_ntop(AF_INET, &peer.sin_addr, pbuf, sizeof pbuf);
      std::thread(Serve, fd, std::string(pbuf) + ":" + std::to_string(ntohs(peer.sin_port))).detach();
    }
  }
}
