#include "kubelet/server/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cerrno>
#include <filesystem>
#include <map>
#include <thread>

#include "common/api/codec.h"
#include "common/api/time_format.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "common/net/url.h"
#include "kubelet/logs/log_reader.h"
#include "kubelet/streaming/port_forward.h"
#include "kubelet/streaming/remote_command.h"
#include "kubelet/streaming/websocket.h"

namespace ck::kubelet {

namespace corev1 = k8s::io::api::core::v1;

namespace {

constexpr size_t kMaxBuffered = 4u << 20;  // bytes queued to a slow client before reading pauses
constexpr size_t kReadBlock = 64u << 10;

// Answers with a meta/v1 Status: kubectl prints "Error from server (<reason>): <message>".
void Fail(const std::shared_ptr<net::ResponseWriter>& w, const Status& s) {
  std::string body = R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)";
  AppendJsonString(body, s.message());
  body += R"(,"reason":)";
  AppendJsonString(body, s.reason());
  body += R"(,"code":)" + std::to_string(s.http_status()) + "}";
  w->Respond(s.http_status(), net::Headers{{"Content-Type", "application/json"}}, std::move(body));
}

bool Truthy(const net::Query& q, std::string_view key) {
  auto v = q.Get(key);
  return v && (*v == "true" || *v == "1" || v->empty());
}

std::vector<std::string> HeaderValues(const net::Headers& h, std::string_view name) {
  std::vector<std::string> out;
  for (std::string_view v : h.GetAll(name)) out.emplace_back(v);
  return out;
}

void SetNonBlocking(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// The wake-up a pump thread polls beside its fds (eventfd).
class Wake {
 public:
  Wake() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~Wake() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }
  void Signal() {
    uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }
  void Drain() {
    uint64_t v;
    (void)!read(fd_, &v, sizeof v);
  }

 private:
  int fd_;
};

// Bytes from the connection's I/O thread to a session's pump thread, and the transport the
// session's codec writes to. Codec output produced before the 101 went out is held back.
class Connection {
 public:
  // I/O thread.
  void OnData(std::string bytes) {
    std::lock_guard lock(mu_);
    inbox_ += bytes;
    wake_.Signal();
  }
  void OnClose() {
    std::lock_guard lock(mu_);
    closed_ = true;
    wake_.Signal();
  }
  // Pump thread.
  std::string TakeInbox(bool* closed) {
    std::lock_guard lock(mu_);
    *closed = closed_;
    return std::move(inbox_);
  }
  void Attach(std::shared_ptr<net::RawStream> raw) {
    std::lock_guard lock(mu_);
    raw_ = std::move(raw);
    if (!pending_.empty()) raw_->Send(std::move(pending_));
    pending_.clear();
    if (close_pending_) raw_->Close();
  }
  streaming::Transport transport() {
    return streaming::Transport{
        [this](std::string bytes) {
          std::lock_guard lock(mu_);
          if (!raw_) {
            pending_ += bytes;
            return true;
          }
          return raw_->Send(std::move(bytes));
        },
        [this] {
          std::lock_guard lock(mu_);
          if (raw_) {
            raw_->Close();
          } else {
            close_pending_ = true;
          }
        }};
  }
  size_t Buffered() {
    std::lock_guard lock(mu_);
    return raw_ ? raw_->BufferedBytes() : 0;
  }
  net::RawStreamHandlers Handlers(const std::shared_ptr<Connection>& self) {
    return net::RawStreamHandlers{[self](std::string b) { self->OnData(std::move(b)); }, [self] { self->OnClose(); }};
  }
  Wake& wake() { return wake_; }

 private:
  std::mutex mu_;
  std::string inbox_;
  bool closed_ = false;
  std::shared_ptr<net::RawStream> raw_;
  std::string pending_;
  bool close_pending_ = false;
  Wake wake_;
};

// The 101 answer for a WebSocket (Sec-WebSocket-Accept) or SPDY upgrade with `protocol`.
net::Headers UpgradeHeaders(const net::Request& r, bool websocket, const std::string& protocol) {
  net::Headers h{{"Connection", "Upgrade"}};
  if (websocket) {
    h.Add("Upgrade", "websocket");
    h.Add("Sec-WebSocket-Accept", streaming::WebSocketAccept(r.headers.Get("Sec-WebSocket-Key")));
    h.Add("Sec-WebSocket-Protocol", protocol);
  } else {
    h.Add("Upgrade", "SPDY/3.1");
    h.Add("X-Stream-Protocol-Version", protocol);
  }
  return h;
}

bool IsWebSocket(const net::Request& r) { return EqualsIgnoreCase(r.headers.Get("Upgrade"), "websocket"); }
bool IsSpdy(const net::Request& r) { return EqualsIgnoreCase(r.headers.Get("Upgrade"), "SPDY/3.1"); }

}  // namespace

// What a request names: /<kind>/{ns}/{pod}[/{uid}][/{container}].
struct KubeletServer::Target {
  std::string kind;  // containerLogs, exec, attach, portForward
  std::string ns, pod_name, uid, container;
  std::shared_ptr<const corev1::Pod> pod;
};

KubeletServer::KubeletServer(KubeletServerDeps deps)
    : deps_(std::move(deps)), auth_(deps_.api, deps_.node_name, deps_.clock) {}

KubeletServer::~KubeletServer() { Stop(); }

void KubeletServer::Register(daemon::Context& context) {
  metrics::Registry& m = context.metrics();
  requests_ = &m.CounterFamily("kubelet_http_requests_total", "Number of the http requests received since the server started",
                               {"method", "path", "server_type", "long_running"});
  m.GaugeFamily("kubelet_node_name", "The node's name. The count is always 1.", {"node"}).With({deps_.node_name}).Set(1);
  m.GaugeFunc("kubelet_running_pods", "Number of pods that have a running pod sandbox",
              [this] { return static_cast<double>(Pods().size()); });
  m.GaugeFunc("kubelet_running_containers", "Number of containers currently running", [this] {
    Result<std::vector<ContainerStatus>> all = deps_.runtime->ListContainers();
    if (!all.ok()) return 0.0;
    return static_cast<double>(std::count_if(all->begin(), all->end(), [](const ContainerStatus& c) {
      return c.state == ContainerState::kRunning;
    }));
  });
  for (const char* prefix : {"/containerLogs/", "/exec/", "/attach/", "/portForward/", "/pods", "/metrics"}) {
    context.Handle(prefix, [this](net::Request r, std::shared_ptr<net::ResponseWriter> w) { Handle(std::move(r), std::move(w)); });
  }
  metrics_ = &m;
}

uint64_t KubeletServer::AddWaker(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wakers_[++next_waker_] = std::move(wake);
  return next_waker_;
}

void KubeletServer::RemoveWaker(uint64_t id) {
  std::lock_guard lock(mu_);
  wakers_.erase(id);
}

std::vector<std::shared_ptr<const corev1::Pod>> KubeletServer::Pods() const {
  return deps_.pods ? deps_.pods() : std::vector<std::shared_ptr<const corev1::Pod>>{};
}

void KubeletServer::Stop() {
  stopping_ = true;
  std::unique_lock lock(mu_);
  for (auto& [id, wake] : wakers_) wake();
  idle_.wait_for(lock, std::chrono::seconds(10), [&] { return active_ == 0; });
}

void KubeletServer::Handle(net::Request request, std::shared_ptr<net::ResponseWriter> writer) {
  if (stopping_) {
    Fail(writer, Unavailable("the kubelet is shutting down"));
    return;
  }
  {
    std::lock_guard lock(mu_);
    ++active_;
  }
  std::thread([this, request = std::move(request), writer = std::move(writer)] {
    SetCurrentThreadName("kubelet-api");
    Serve(request, writer);
    std::lock_guard lock(mu_);
    if (--active_ == 0) idle_.notify_all();
  }).detach();
}

void KubeletServer::Serve(const net::Request& request, const std::shared_ptr<net::ResponseWriter>& writer) {
  Result<KubeletUser> user = auth_.Authenticate(request);
  if (!user.ok()) return Fail(writer, user.status());
  if (Status s = auth_.Authorize(*user, request); !s.ok()) return Fail(writer, s);

  std::vector<std::string_view> parts = Split(request.path, '/', true);
  Target t;
  if (!parts.empty()) t.kind = std::string(parts[0]);
  if (requests_) {
    const bool long_running = t.kind != "pods" && t.kind != "metrics";
    requests_->With({request.method, t.kind, "readwrite", long_running ? "true" : "false"}).Inc();
  }
  if (t.kind == "pods" && parts.size() == 1) return ServePods(writer);
  if (t.kind == "metrics" && parts.size() == 1 && metrics_) {
    // Unlike the other daemons, the kubelet's metrics need nodes/metrics (upstream).
    return writer->Respond(200, net::Headers{{"Content-Type", "text/plain; version=0.0.4"}}, metrics_->Render());
  }
  const bool pod_level = t.kind == "portForward";
  const size_t want_min = pod_level ? 3 : 4, want_max = pod_level ? 4 : 5;
  if (parts.size() < want_min || parts.size() > want_max ||
      (t.kind != "containerLogs" && t.kind != "exec" && t.kind != "attach" && t.kind != "portForward")) {
    return Fail(writer, NotFound("the kubelet has no such path: " + request.path));
  }
  t.ns = net::PercentDecode(parts[1]).value_or(std::string(parts[1]));
  t.pod_name = net::PercentDecode(parts[2]).value_or(std::string(parts[2]));
  if (!pod_level) t.container = net::PercentDecode(parts.back()).value_or(std::string(parts.back()));
  if (parts.size() == want_max) t.uid = std::string(parts[3]);
  for (const auto& p : Pods()) {
    if (p->metadata().namespace_() == t.ns && p->metadata().name() == t.pod_name &&
        (t.uid.empty() || p->metadata().uid() == t.uid)) {
      t.pod = p;
      break;
    }
  }
  if (!t.pod) return Fail(writer, NotFound("pod \"" + t.pod_name + "\" not found in namespace \"" + t.ns + "\" on node " + deps_.node_name));
  if (t.kind == "containerLogs") return ServeLogs(t, request, writer);
  if (t.kind == "portForward") return ServePortForward(t, request, writer);
  ServeRemoteCommand(t, request, writer);
}

void KubeletServer::ServePods(const std::shared_ptr<net::ResponseWriter>& writer) {
  std::string out = R"({"kind":"PodList","apiVersion":"v1","metadata":{},"items":[)";
  bool first = true;
  for (const auto& p : Pods()) {
    if (!first) out += ',';
    first = false;
    (void)api::AppendJson(*p, &out);
  }
  out += "]}";
  writer->Respond(200, net::Headers{{"Content-Type", "application/json"}}, std::move(out));
}

namespace {

// The containers named `name` of a pod, newest attempt first.
std::vector<ContainerStatus> AttemptsOf(ContainerRuntime& runtime, const std::string& pod_uid, const std::string& name) {
  std::vector<ContainerStatus> out;
  Result<std::vector<ContainerStatus>> all = runtime.ListPodContainers(pod_uid);
  if (!all.ok()) return out;
  for (ContainerStatus& c : *all) {
    if (c.name == name) out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), [](const ContainerStatus& a, const ContainerStatus& b) { return a.attempt > b.attempt; });
  return out;
}

bool InSpec(const corev1::Pod& pod, const std::string& name) {
  for (const auto& c : pod.spec().containers()) {
    if (c.name() == name) return true;
  }
  for (const auto& c : pod.spec().initcontainers()) {
    if (c.name() == name) return true;
  }
  return false;
}

// Why a container has no log yet, as upstream words it.
std::string WaitingReason(const corev1::Pod& pod, const std::string& name) {
  for (const auto* list : {&pod.status().containerstatuses(), &pod.status().initcontainerstatuses()}) {
    for (const auto& s : *list) {
      if (s.name() == name && s.state().has_waiting() && !s.state().waiting().reason().empty()) {
        return s.state().waiting().reason();
      }
    }
  }
  return "ContainerCreating";
}

}  // namespace

void KubeletServer::ServeLogs(const Target& t, const net::Request& request, const std::shared_ptr<net::ResponseWriter>& writer) {
  std::optional<net::Query> q = net::Query::Parse(request.raw_query);
  if (!q) return Fail(writer, BadRequest("malformed query"));
  if (!InSpec(*t.pod, t.container)) {
    return Fail(writer, BadRequest("container " + t.container + " is not valid for pod " + t.pod_name));
  }
  logs::LogOptions o;
  o.follow = Truthy(*q, "follow");
  o.timestamps = Truthy(*q, "timestamps");
  auto number = [&](std::string_view key, std::optional<int64_t>* out) -> Status {
    if (auto v = q->Get(key); v && !v->empty()) {
      std::optional<int64_t> n = ParseInt(*v);
      if (!n || *n < 0) return BadRequest(std::string(key) + ": must be a non-negative integer, got \"" + std::string(*v) + "\"");
      *out = *n;
    }
    return Status::Ok();
  };
  std::optional<int64_t> since_seconds;
  for (Status s : {number("tailLines", &o.tail_lines), number("limitBytes", &o.limit_bytes), number("sinceSeconds", &since_seconds)}) {
    if (!s.ok()) return Fail(writer, s);
  }
  if (since_seconds) o.since_time = deps_.clock->Now() - std::chrono::seconds(*since_seconds);
  if (auto v = q->Get("sinceTime"); v && !v->empty()) {
    Result<api::Timestamp> when = api::ParseRfc3339(*v);
    if (!when.ok()) return Fail(writer, BadRequest("sinceTime: " + when.status().message()));
    o.since_time = api::FromTimestamp(*when);
  }
  if (o.limit_bytes && *o.limit_bytes == 0) o.limit_bytes.reset();

  std::vector<ContainerStatus> attempts = AttemptsOf(*deps_.runtime, t.pod->metadata().uid(), t.container);
  if (attempts.empty()) {
    return Fail(writer, BadRequest("container \"" + t.container + "\" in pod \"" + t.pod_name + "\" is waiting to start: " +
                                   WaitingReason(*t.pod, t.container)));
  }
  const ContainerStatus& current = attempts.front();
  std::string path = current.log_path;
  bool follow_current = true;
  if (Truthy(*q, "previous")) {
    // Older attempts may be removed from the runtime; their log files stay beside the current one.
    std::string previous = (std::filesystem::path(current.log_path).parent_path() /
                            (std::to_string(current.attempt - 1) + ".log")).string();
    if (current.attempt == 0 || !std::filesystem::exists(previous)) {
      return Fail(writer, BadRequest("previous terminated container \"" + t.container + "\" in pod \"" + t.pod_name +
                                     "\" not found"));
    }
    path = previous;
    follow_current = false;
  }
  writer->StartStream(200, net::Headers{{"Content-Type", "text/plain"}});
  const std::string id = current.id;
  const std::string uid = t.pod->metadata().uid();
  MonoTime next_check{};
  bool running = true;
  auto keep_following = [&] {
    if (writer->Closed() || stopping_) return false;
    if (!follow_current) return false;
    MonoTime now = deps_.clock->Monotonic();
    if (now >= next_check) {
      next_check = now + std::chrono::milliseconds(500);
      running = false;
      for (const ContainerStatus& c : AttemptsOf(*deps_.runtime, uid, t.container)) {
        if (c.id == id && c.state == ContainerState::kRunning) running = true;
      }
    }
    return running;
  };
  auto sink = [&](std::string_view data) {
    while (writer->BufferedBytes() > kMaxBuffered && !writer->Closed() && !stopping_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return writer->Write(std::string(data));
  };
  Status s = logs::ReadContainerLog(path, o, sink, keep_following);
  if (!s.ok()) CK_VLOG(2, "Log stream ended", "pod", t.ns + "/" + t.pod_name, "err", s.message());
  writer->Finish();
}

void KubeletServer::ServeRemoteCommand(const Target& t, const net::Request& request,
                                       const std::shared_ptr<net::ResponseWriter>& writer) {
  std::optional<net::Query> q = net::Query::Parse(request.raw_query);
  if (!q) return Fail(writer, BadRequest("malformed query"));
  const bool exec = t.kind == "exec";
  streaming::RemoteCommandOptions o;
  o.stdin = Truthy(*q, "stdin") || Truthy(*q, "input");
  o.stdout = Truthy(*q, "stdout") || Truthy(*q, "output");
  o.tty = Truthy(*q, "tty");
  o.stderr = (Truthy(*q, "stderr") || Truthy(*q, "error")) && !o.tty;
  if (exec) {
    for (std::string_view c : q->GetAll("command")) o.command.emplace_back(c);
    if (o.command.empty()) return Fail(writer, BadRequest("you must specify at least one command for the container"));
  }
  if (!o.stdin && !o.stdout && !o.stderr) return Fail(writer, BadRequest("you must specify at least 1 of stdin, stdout, stderr"));
  std::vector<ContainerStatus> attempts = AttemptsOf(*deps_.runtime, t.pod->metadata().uid(), t.container);
  if (attempts.empty() || attempts.front().state != ContainerState::kRunning) {
    return Fail(writer, NotFound("container not found (\"" + t.container + "\")"));
  }
  const std::string container_id = attempts.front().id;

  const bool websocket = IsWebSocket(request);
  if (!websocket && !IsSpdy(request)) return Fail(writer, BadRequest("Upgrade request required"));
  std::string protocol =
      websocket ? streaming::NegotiateProtocol(HeaderValues(request.headers, "Sec-WebSocket-Protocol"),
                                               streaming::kWebSocketRemoteCommandProtocols)
                : streaming::NegotiateProtocol(HeaderValues(request.headers, "X-Stream-Protocol-Version"),
                                               streaming::kSpdyRemoteCommandProtocols);
  if (protocol.empty()) {
    return Fail(writer, Status(Code::kForbidden, "unable to upgrade: no common protocol; the client offered \"" +
                                                     std::string(request.headers.Get(websocket ? "Sec-WebSocket-Protocol"
                                                                                               : "X-Stream-Protocol-Version")) +
                                                     "\""));
  }

  // Pump state, touched by the session's callbacks (which run on this thread, inside Feed).
  std::string stdin_pending;
  bool stdin_closed = false, ready = false, peer_closed = false;
  // Terminal size: the last one asked for, and the one applied (0x0 = none yet).
  std::pair<uint16_t, uint16_t> size{0, 0}, applied{0, 0};
  streaming::RemoteCommandCallbacks cb;
  cb.on_stdin = [&](std::string b) { stdin_pending += b; };
  cb.on_stdin_closed = [&] { stdin_closed = true; };
  cb.on_resize = [&](uint16_t w, uint16_t h) { size = {w, h}; };
  cb.on_ready = [&] { ready = true; };
  cb.on_closed = [&] { peer_closed = true; };

  auto conn = std::make_shared<Connection>();
  Result<std::unique_ptr<streaming::RemoteCommandSession>> session =
      websocket ? streaming::NewWebSocketRemoteCommand(protocol, o, conn->transport(), cb)
                : streaming::NewSpdyRemoteCommand(protocol, o, conn->transport(), cb);
  if (!session.ok()) return Fail(writer, session.status());
  std::shared_ptr<net::RawStream> raw = writer->Upgrade(UpgradeHeaders(request, websocket, protocol), conn->Handlers(conn));
  if (!raw) return;
  conn->Attach(raw);
  const uint64_t waker = AddWaker([conn] { conn->wake().Signal(); });
  (*session)->Start();

  std::unique_ptr<StreamingProcess> proc;
  bool out_eof = true, err_eof = true;
  std::optional<MonoTime> exited_at;
  std::string buf(kReadBlock, '\0');
  while (!stopping_) {
    bool closed = false;
    std::string in = conn->TakeInbox(&closed);
    if (!in.empty()) {
      if (Status s = (*session)->Feed(in); !s.ok()) {
        CK_VLOG(2, "Stream protocol error", "pod", t.ns + "/" + t.pod_name, "err", s.message());
        break;
      }
    }
    if (closed || peer_closed) break;
    if (ready && !proc) {
      Result<std::unique_ptr<StreamingProcess>> p =
          exec ? deps_.runtime->Exec(container_id, ExecRequest{o.command, o.stdin, o.tty})
               : deps_.runtime->Attach(container_id, o.stdin, o.tty);
      if (!p.ok()) {
        (*session)->Finish(-1, p.status().message());
        break;
      }
      proc = std::move(*p);
      SetNonBlocking(proc->stdin_fd());
      out_eof = proc->stdout_fd() < 0;
      err_eof = proc->stderr_fd() < 0;
    }
    if (proc && size != applied) {
      (void)proc->Resize(size.first, size.second);
      applied = size;
    }
    // Stdin: write what is pending; close once the client closed it and all is written.
    if (proc && proc->stdin_fd() >= 0 && !stdin_pending.empty()) {
      ssize_t n = write(proc->stdin_fd(), stdin_pending.data(), stdin_pending.size());
      if (n > 0) stdin_pending.erase(0, n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) stdin_pending.clear();
    }
    if (proc && stdin_closed && stdin_pending.empty() && proc->stdin_fd() >= 0) proc->CloseStdin();

    if (proc && exited_at && ((out_eof && err_eof) || deps_.clock->Monotonic() - *exited_at > std::chrono::seconds(2))) {
      if (exec) {
        Result<int> code = proc->ExitCode();
        (*session)->Finish(code.ok() ? *code : -1, code.ok() ? "" : code.status().message());
      } else {
        (*session)->Finish(0, "");
      }
      break;
    }

    struct pollfd fds[5];
    int n = 0;
    fds[n++] = {conn->wake().fd(), POLLIN, 0};
    int out_slot = -1, err_slot = -1, exit_slot = -1;
    const bool can_send = conn->Buffered() < kMaxBuffered;
    if (proc) {
      if (!out_eof && can_send) {
        out_slot = n;
        fds[n++] = {proc->stdout_fd(), POLLIN, 0};
      }
      if (!err_eof && can_send) {
        err_slot = n;
        fds[n++] = {proc->stderr_fd(), POLLIN, 0};
      }
      if (!exited_at && proc->exit_fd() >= 0) {
        exit_slot = n;
        fds[n++] = {proc->exit_fd(), POLLIN, 0};
      }
      if (!stdin_pending.empty() && proc->stdin_fd() >= 0) fds[n++] = {proc->stdin_fd(), POLLOUT, 0};
    }
    int timeout = can_send ? (exited_at ? 50 : 1000) : 5;
    if (poll(fds, n, timeout) < 0 && errno != EINTR) break;
    if (fds[0].revents) conn->wake().Drain();
    auto pump = [&](int slot, bool* eof, bool is_stdout) {
      if (slot < 0 || !fds[slot].revents) return;
      ssize_t r = read(fds[slot].fd, buf.data(), buf.size());
      if (r > 0) {
        std::string_view data(buf.data(), r);
        if (is_stdout) {
          (*session)->WriteStdout(data);
        } else {
          (*session)->WriteStderr(data);
        }
      } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
        *eof = true;  // EOF, or EIO from a pty master once the command is gone
      }
    };
    pump(out_slot, &out_eof, true);
    pump(err_slot, &err_eof, false);
    if (exit_slot >= 0 && fds[exit_slot].revents) exited_at = deps_.clock->Monotonic();
  }
  if (stopping_) (*session)->Finish(-1, "the kubelet is shutting down");
  // Destroying the process kills an exec that still runs (the client went away).
  proc.reset();
  raw->Close();
  RemoveWaker(waker);
}

namespace {

// One port-forward stream pair and its TCP connection to the pod.
struct ForwardPair {
  std::shared_ptr<streaming::PortForwardStream> stream;
  int fd = -1;
  bool connecting = true;
  std::string to_pod;        // client bytes not yet written to the socket
  bool client_fin = false;   // the client half-closed its data stream
  bool wrote_fin = false;    // shutdown(SHUT_WR) done
  bool pod_eof = false;      // the pod closed its side (the stream got FIN)
  ~ForwardPair() {
    if (fd >= 0) close(fd);
  }
};

int ConnectNonBlocking(const std::string& ip, uint16_t port, std::string* error) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) != 1) {
    *error = "the pod has no IPv4 address (\"" + ip + "\")";
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + strerror(errno);
    return -1;
  }
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    *error = strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void KubeletServer::ServePortForward(const Target& t, const net::Request& request,
                                     const std::shared_ptr<net::ResponseWriter>& writer) {
  const bool websocket = IsWebSocket(request);
  if (!websocket && !IsSpdy(request)) return Fail(writer, BadRequest("Upgrade request required"));
  std::string protocol =
      websocket ? streaming::NegotiateProtocol(HeaderValues(request.headers, "Sec-WebSocket-Protocol"),
                                               {std::string(streaming::kPortForwardTunnelProtocol)})
                : streaming::NegotiateProtocol(HeaderValues(request.headers, "X-Stream-Protocol-Version"),
                                               {std::string(streaming::kPortForwardProtocol)});
  if (protocol.empty()) {
    return Fail(writer, Status(Code::kForbidden, "unable to upgrade: no common protocol for port forwarding"));
  }
  const std::string pod_ip = t.pod->status().podip();
  const std::string pod_desc = t.pod_name + "_" + t.ns;
  const std::string uid = t.pod->metadata().uid();

  std::vector<std::shared_ptr<ForwardPair>> pairs;
  std::map<const streaming::PortForwardStream*, std::shared_ptr<ForwardPair>> by_stream;
  bool peer_closed = false;
  streaming::PortForwardCallbacks cb;
  cb.on_stream_pair = [&](std::shared_ptr<streaming::PortForwardStream> s) {
    auto p = std::make_shared<ForwardPair>();
    p->stream = s;
    std::string error;
    p->fd = ConnectNonBlocking(pod_ip, s->port(), &error);
    if (p->fd < 0) {
      s->WriteError("error forwarding port " + std::to_string(s->port()) + " to pod " + pod_desc + ", uid " + uid + ": " + error);
      s->CloseWrite();
      return;
    }
    pairs.push_back(p);
    by_stream[s.get()] = p;
  };
  cb.on_data = [&](const std::shared_ptr<streaming::PortForwardStream>& s, std::string bytes) {
    if (auto it = by_stream.find(s.get()); it != by_stream.end()) it->second->to_pod += bytes;
  };
  cb.on_remote_fin = [&](const std::shared_ptr<streaming::PortForwardStream>& s) {
    if (auto it = by_stream.find(s.get()); it != by_stream.end()) it->second->client_fin = true;
  };
  cb.on_closed = [&] { peer_closed = true; };

  auto conn = std::make_shared<Connection>();
  std::unique_ptr<streaming::SpdyPortForwardSession> spdy;
  std::unique_ptr<streaming::WebSocketPortForwardTunnel> tunnel;
  if (websocket) {
    tunnel = std::make_unique<streaming::WebSocketPortForwardTunnel>(conn->transport(), cb);
  } else {
    spdy = std::make_unique<streaming::SpdyPortForwardSession>(conn->transport(), cb);
  }
  std::shared_ptr<net::RawStream> raw = writer->Upgrade(UpgradeHeaders(request, websocket, protocol), conn->Handlers(conn));
  if (!raw) return;
  conn->Attach(raw);
  const uint64_t waker = AddWaker([conn] { conn->wake().Signal(); });

  std::string buf(kReadBlock, '\0');
  std::vector<struct pollfd> fds;
  while (!stopping_) {
    bool closed = false;
    std::string in = conn->TakeInbox(&closed);
    if (!in.empty()) {
      Status s = websocket ? tunnel->Feed(in) : spdy->Feed(in);
      if (!s.ok()) {
        CK_VLOG(2, "Port-forward protocol error", "pod", t.ns + "/" + t.pod_name, "err", s.message());
        break;
      }
    }
    if (closed || peer_closed) break;
    // Retire finished pairs.
    for (auto it = pairs.begin(); it != pairs.end();) {
      ForwardPair& p = **it;
      if (p.pod_eof && p.wrote_fin) {
        by_stream.erase(p.stream.get());
        it = pairs.erase(it);
      } else {
        ++it;
      }
    }
    fds.clear();
    fds.push_back({conn->wake().fd(), POLLIN, 0});
    const bool can_send = conn->Buffered() < kMaxBuffered;
    for (auto& p : pairs) {
      short events = 0;
      if (p->connecting) {
        events = POLLOUT;
      } else {
        if (!p->pod_eof && can_send) events |= POLLIN;
        // A client FIN set by this round's Feed is written after the poll: do not wait for it.
        if (!p->to_pod.empty() || (p->client_fin && !p->wrote_fin)) events |= POLLOUT;
      }
      fds.push_back({p->fd, events, 0});
    }
    if (poll(fds.data(), fds.size(), can_send ? 1000 : 5) < 0 && errno != EINTR) break;
    if (fds[0].revents) conn->wake().Drain();
    for (size_t i = 0; i < pairs.size(); ++i) {
      ForwardPair& p = *pairs[i];
      short re = fds[i + 1].revents;
      if (p.connecting) {
        if (!re) continue;
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          p.stream->WriteError("error forwarding port " + std::to_string(p.stream->port()) + " to pod " + pod_desc +
                               ", uid " + uid + ": failed to connect to " + pod_ip + ":" +
                               std::to_string(p.stream->port()) + ": " + strerror(err));
          p.stream->CloseWrite();
          p.pod_eof = p.wrote_fin = true;
          continue;
        }
        p.connecting = false;
        re = 0;
      }
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t r = read(p.fd, buf.data(), buf.size());
        if (r > 0) {
          p.stream->Write(std::string_view(buf.data(), r));
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          p.pod_eof = true;
          p.stream->CloseWrite();
          if (r < 0) p.wrote_fin = true;
        }
      }
    }
    // Client bytes to the pods, and half-closes once written.
    for (auto& p : pairs) {
      if (p->connecting) continue;
      if (!p->to_pod.empty()) {
        ssize_t w = send(p->fd, p->to_pod.data(), p->to_pod.size(), MSG_NOSIGNAL);
        if (w > 0) p->to_pod.erase(0, w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) p->to_pod.clear();
      }
      if (p->client_fin && p->to_pod.empty() && !p->wrote_fin) {
        shutdown(p->fd, SHUT_WR);
        p->wrote_fin = true;
      }
    }
  }
  if (websocket) {
    tunnel->Close();
  } else {
    spdy->Close();
  }
  raw->Close();
  RemoveWaker(waker);
}

}  // namespace ck::kubelet
