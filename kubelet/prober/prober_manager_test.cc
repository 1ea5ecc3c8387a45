// Tests for the probe manager (FakeClock, a fake runtime for exec) and the network probes (real
// loopback HTTP/TCP servers on port 0 in the test).
#include "kubelet/prober/prober_manager.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "common/api/codec.h"
#include "common/api/api_resources.h"
#include "common/api/yaml.h"
#include "common/client/testing/fake_api.h"
#include "common/client/tools/event_recorder.h"
#include "kubelet/prober/probe_runners.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;
using namespace std::chrono_literals;

template <typename T>
T FromYaml(const std::string& yaml) {
  auto json = api::YamlToJson(yaml);
  CK_CHECK(json.ok()) << json.status().ToString();
  T out;
  Status s = api::FromJson(*json, &out);
  CK_CHECK(s.ok()) << s.ToString() << "\n" << yaml;
  return out;
}

// Waits (real time) for a condition; tests never sleep for a fixed time.
bool WaitFor(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::yield();
    std::this_thread::sleep_for(1ms);  // polling interval of the condition, not a wait for time
  }
  return cond();
}

// Only ExecSync is used by the prober.
class FakeExecRuntime final : public ContainerRuntime {
 public:
  using ExecFn = std::function<Result<ExecResult>(const std::string& id, const std::vector<std::string>& argv,
                                                  std::chrono::milliseconds timeout)>;
  void SetExec(ExecFn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    exec_ = std::move(fn);
  }
  int calls(const std::string& first_arg) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[first_arg];
  }
  std::string Name() const override { return "fake"; }
  std::string Version() const override { return "0.0.0"; }
  Status RunPodSandbox(const PodSandboxConfig&) override { return Unavailable("not used"); }
  Status RemovePodSandbox(const std::string&) override { return Unavailable("not used"); }
  Result<std::string> StartContainer(const PodSandboxConfig&, const ContainerConfig&) override {
    return Unavailable("not used");
  }
  Status StopContainer(const std::string&, std::chrono::seconds) override { return Unavailable("not used"); }
  Status RemoveContainer(const std::string&) override { return Unavailable("not used"); }
  Result<std::vector<ContainerStatus>> ListContainers() override { return Unavailable("not used"); }
  Result<ExecResult> ExecSync(const std::string& id, const std::vector<std::string>& argv,
                              std::chrono::milliseconds timeout) override {
    ExecFn fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_[argv.empty() ? "" : argv[0]];
      fn = exec_;
    }
    if (!fn) return ExecResult{};
    return fn(id, argv, timeout);
  }

 private:
  std::mutex mu_;
  ExecFn exec_;
  std::map<std::string, int> calls_;
};

// A loopback HTTP/1.1 server on 127.0.0.1:0; `handler` maps the request head to a raw response
// ("" = never answer). One connection at a time; Stop() (or the destructor) joins.
class TestHttpServer {
 public:
  using Handler = std::function<std::string(const std::string& request_head)>;
  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CK_CHECK(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CK_CHECK(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    CK_CHECK(::listen(fd_, 16) == 0);
    CK_CHECK(::pipe(stop_) == 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TestHttpServer() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    char c = 'x';
    (void)!::write(stop_[1], &c, 1);
    thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }
  int port() const { return port_; }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  // Waits for fd readable or stop; false on stop.
  bool WaitReadable(int fd) {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    for (;;) {
      if (::poll(p, 2, -1) < 0) continue;
      if (p[1].revents) return false;
      if (p[0].revents) return true;
    }
  }
  void Serve() {
    for (;;) {
      if (!WaitReadable(fd_)) return;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        if (!WaitReadable(c)) {
          ::close(c);
          return;
        }
        ssize_t n = ::recv(c, buf, sizeof(buf), 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(head);
      }
      std::string response = handler_(head);
      if (response.empty()) {
        // Never answer: hold the connection until the client gives up (EOF) or Stop().
        while (WaitReadable(c) && ::recv(c, buf, sizeof(buf), 0) > 0) {
        }
      } else {
        size_t off = 0;
        while (off < response.size()) {
          ssize_t n = ::send(c, response.data() + off, response.size() - off, MSG_NOSIGNAL);
          if (n <= 0) break;  // the client may close after reading enough
          off += static_cast<size_t>(n);
        }
      }
      ::close(c);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  int port_ = 0;
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string Reply(int code, const std::string& body, const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(code) + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

std::string PathOf(const std::string& head) {
  size_t a = head.find(' ');
  size_t b = head.find(' ', a + 1);
  return head.substr(a + 1, b - a - 1);
}

// ---- Network probes, directly ----------------------------------------------------------------

TEST(HttpProbe, StatusCodesHeadersAndBodyCap) {
  TestHttpServer server([](const std::string& head) {
    std::string path = PathOf(head);
    if (path == "/ok") return Reply(200, "fine");
    if (path == "/created") return Reply(201, "");
    if (path == "/bad") return Reply(503, "down");
    if (path == "/big") return Reply(200, std::string(1 << 20, 'b'));
    if (path == "/chunked") {
      return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
    }
    return Reply(404, "");
  });
  HttpProbeTarget t;
  t.host = "127.0.0.1";
  t.port = server.port();
  t.path = "/ok";
  t.headers = {{"x-custom-header", "v1"}, {"Host", "example.test"}};
  ProbeOutcome ok = DoHttpProbe(t, 2s);
  EXPECT_EQ(ok.verdict, ProbeOutcome::kSuccess);
  EXPECT_EQ(ok.output, "fine");
  std::string head = server.requests().back();
  EXPECT_NE(head.find("GET /ok HTTP/1.1\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("User-Agent: kube-probe/1.32\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Accept: */*\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("X-Custom-Header: v1\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: example.test\r\n"), std::string::npos) << head;

  t.headers = {{"User-Agent", "mine"}, {"Accept", ""}};
  EXPECT_EQ(DoHttpProbe(t, 2s).verdict, ProbeOutcome::kSuccess);
  head = server.requests().back();
  EXPECT_NE(head.find("User-Agent: mine\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Accept:"), std::string::npos) << head;
  EXPECT_NE(head.find("Host: 127.0.0.1:" + std::to_string(server.port()) + "\r\n"), std::string::npos) << head;
  t.headers.clear();

  t.path = "/created";
  EXPECT_EQ(DoHttpProbe(t, 2s).verdict, ProbeOutcome::kSuccess);
  t.path = "/bad";
  ProbeOutcome bad = DoHttpProbe(t, 2s);
  EXPECT_EQ(bad.verdict, ProbeOutcome::kFailure);
  EXPECT_EQ(bad.output, "HTTP probe failed with statuscode: 503");
  t.path = "/missing";
  EXPECT_EQ(DoHttpProbe(t, 2s).output, "HTTP probe failed with statuscode: 404");
  t.path = "/big";
  ProbeOutcome big = DoHttpProbe(t, 5s);
  EXPECT_EQ(big.verdict, ProbeOutcome::kSuccess);
  EXPECT_EQ(big.output.size(), kMaxProbeBodyBytes);
  t.path = "/chunked";
  ProbeOutcome chunked = DoHttpProbe(t, 2s);
  EXPECT_EQ(chunked.verdict, ProbeOutcome::kSuccess);
  EXPECT_EQ(chunked.output, "hello world");
  t.path = "healthz";  // a path without '/' gets one
  DoHttpProbe(t, 2s);
  EXPECT_EQ(PathOf(server.requests().back()), "/healthz");
}

TEST(HttpProbe, Redirects) {
  int port = 0;
  TestHttpServer server([&port](const std::string& head) {
    std::string path = PathOf(head);
    if (path == "/start") return Reply(302, "", "Location: /middle\r\n");
    if (path == "/middle") return Reply(301, "", "Location: http://127.0.0.1:" + std::to_string(port) + "/end\r\n");
    if (path == "/end") return Reply(200, "arrived");
    if (path == "/away") return Reply(302, "gone elsewhere", "Location: http://127.0.0.2:1/x\r\n");
    if (path == "/loop") return Reply(307, "", "Location: /loop\r\n");
    return Reply(404, "");
  });
  port = server.port();
  HttpProbeTarget t;
  t.host = "127.0.0.1";
  t.port = server.port();
  t.path = "/start";
  ProbeOutcome followed = DoHttpProbe(t, 2s);
  EXPECT_EQ(followed.verdict, ProbeOutcome::kSuccess);
  EXPECT_EQ(followed.output, "arrived");

  t.path = "/away";
  ProbeOutcome away = DoHttpProbe(t, 2s);
  EXPECT_EQ(away.verdict, ProbeOutcome::kWarning);
  EXPECT_EQ(away.output, "Probe terminated redirects, Response body: gone elsewhere");

  t.path = "/loop";
  ProbeOutcome loop = DoHttpProbe(t, 2s);
  EXPECT_EQ(loop.verdict, ProbeOutcome::kFailure);
  EXPECT_EQ(loop.output, "Get \"http://127.0.0.1:" + std::to_string(port) + "/loop\": stopped after 10 redirects");
}

TEST(HttpProbe, TimeoutAndRefused) {
  TestHttpServer silent([](const std::string&) { return std::string(); });
  HttpProbeTarget t;
  t.host = "127.0.0.1";
  t.port = silent.port();
  t.path = "/slow";
  auto start = std::chrono::steady_clock::now();
  ProbeOutcome slow = DoHttpProbe(t, 300ms);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(slow.verdict, ProbeOutcome::kFailure);
  EXPECT_EQ(slow.output, "Get \"http://127.0.0.1:" + std::to_string(silent.port()) +
                             "/slow\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 5s);

  int closed_port;
  {
    TestHttpServer gone([](const std::string&) { return Reply(200, ""); });
    closed_port = gone.port();
  }
  t.port = closed_port;
  t.path = "/";
  ProbeOutcome refused = DoHttpProbe(t, 1s);
  EXPECT_EQ(refused.verdict, ProbeOutcome::kFailure);
  std::string addr = "127.0.0.1:" + std::to_string(closed_port);
  EXPECT_EQ(refused.output, "Get \"http://" + addr + "/\": dial tcp " + addr + ": connect: connection refused");
}

TEST(HttpProbe, OnlyLoopbackTargets) {
  HttpProbeTarget t;
  t.host = "10.1.2.3";
  t.port = 80;
  ProbeOutcome out = DoHttpProbe(t, 1s);
  EXPECT_EQ(out.verdict, ProbeOutcome::kFailure);
  EXPECT_NE(out.output.find("outside 127.0.0.0/8"), std::string::npos) << out.output;
  EXPECT_NE(DoTcpProbe("example.com", 80, 1s).output.find("no such host"), std::string::npos);
}

TEST(TcpProbe, ConnectsOrFails) {
  TestHttpServer server([](const std::string&) { return Reply(200, ""); });
  EXPECT_EQ(DoTcpProbe("127.0.0.1", server.port(), 1s).verdict, ProbeOutcome::kSuccess);
  EXPECT_EQ(DoTcpProbe("localhost", server.port(), 1s).verdict, ProbeOutcome::kSuccess);
  int port = server.port();
  server.Stop();
  ProbeOutcome refused = DoTcpProbe("127.0.0.1", port, 1s);
  EXPECT_EQ(refused.verdict, ProbeOutcome::kFailure);
  EXPECT_EQ(refused.output, "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
}

TEST(ResolveContainerPort, NumbersAndNames) {
  corev1::Container c = FromYaml<corev1::Container>(
      "name: app\nports: [{name: http, containerPort: 8080}, {name: metrics, containerPort: 9090}]\n");
  struct Case {
    std::string port_yaml;  // an IntOrString
    int want;
    std::string error;
  };
  const Case cases[] = {
      {"8081", 8081, ""},       {"http", 8080, ""},   {"metrics", 9090, ""},
      {"\"7070\"", 7070, ""},   {"nope", 0, "port nope not found"},
      {"0", 0, "invalid port number: 0"}, {"70000", 0, "invalid port number: 70000"},
  };
  for (const auto& tc : cases) {
    auto probe = FromYaml<corev1::TCPSocketAction>("port: " + tc.port_yaml + "\n");
    Result<int> r = ResolveContainerPort(probe.port(), c);
    if (tc.error.empty()) {
      ASSERT_TRUE(r.ok()) << tc.port_yaml << ": " << r.status().ToString();
      EXPECT_EQ(*r, tc.want) << tc.port_yaml;
    } else {
      ASSERT_FALSE(r.ok()) << tc.port_yaml;
      EXPECT_EQ(r.status().message(), tc.error);
    }
  }
}

// ---- The manager ------------------------------------------------------------------------------

class ProberTest : public ::testing::Test {
 protected:
  ProberTest() : api_(clock_), broadcaster_(api_, clock_), recorder_(broadcaster_.NewRecorder({"kubelet", "node-1"})) {
    broadcaster_.Start();
  }
  ~ProberTest() override {
    manager_.reset();
    broadcaster_.Shutdown();
  }

  void Start() {
    ProbeManager::Deps deps;
    deps.runtime = &runtime_;
    deps.clock = &clock_;
    deps.events = &recorder_;
    deps.on_change = [this](const std::string& uid) {
      std::lock_guard<std::mutex> lock(mu_);
      changes_[uid]++;
    };
    deps.on_probe_done = [this] {
      std::lock_guard<std::mutex> lock(mu_);
      ++done_;
    };
    manager_ = NewProbeManager(std::move(deps));
  }
  int done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  int changes(const std::string& uid) {
    std::lock_guard<std::mutex> lock(mu_);
    return changes_[uid];
  }
  // Waits until `n` probes have completed in total.
  void WaitDone(int n) { ASSERT_TRUE(WaitFor([&] { return done() >= n; })) << "done=" << done() << " want " << n; }
  // Advances the clock by `d` and waits until `n` probes completed in total.
  void Step(Duration d, int n) {
    clock_.Advance(d);
    WaitDone(n);
  }

  corev1::Pod Pod(const std::string& containers) {
    return FromYaml<corev1::Pod>("apiVersion: v1\nkind: Pod\nmetadata: {name: web-1, namespace: shop, uid: uid-1}\n"
                                 "spec:\n  containers:\n" + containers);
  }
  std::vector<std::string> EventMessages(const std::string& reason) {
    std::vector<std::string> out;
    auto list = api_.List(*api::FindResource("", "v1", "events"), "shop");
    if (!list.ok()) return out;
    for (const auto& obj : list->items) {
      const auto& e = static_cast<const corev1::Event&>(*obj);
      if (e.reason() == reason) out.push_back(e.message());
    }
    return out;
  }
  bool WaitEvent(const std::string& reason, const std::string& message) {
    return WaitFor([&] {
      for (const auto& m : EventMessages(reason)) {
        if (m == message) return true;
      }
      return false;
    });
  }

  FakeClock clock_;
  client::FakeApi api_;
  client::EventBroadcaster broadcaster_;
  client::EventRecorder recorder_;
  FakeExecRuntime runtime_;
  std::mutex mu_;
  int done_ = 0;
  std::map<std::string, int> changes_;
  std::unique_ptr<ProbeManager> manager_;
};

TEST_F(ProberTest, LivenessFailureThresholdHoldAndResetOnNewContainer) {
  // Exit codes the liveness command returns, in order; then 0.
  auto codes = std::make_shared<std::deque<int>>(std::deque<int>{0, 1, 1, 1});
  // Probes of the second container wait for `release`, so the test can look at the reset result.
  auto gate = std::make_shared<std::pair<std::mutex, std::condition_variable>>();
  auto release = std::make_shared<bool>(false);
  runtime_.SetExec([codes, gate, release](const std::string& id, const std::vector<std::string>& argv,
                                          std::chrono::milliseconds t) {
    EXPECT_EQ(t, 2s);
    if (id == "c2") {
      std::unique_lock<std::mutex> lock(gate->first);
      gate->second.wait(lock, [&] { return *release; });
    }
    EXPECT_EQ(argv, (std::vector<std::string>{"check", "--port=8080", "$(FROM_CM)"}));
    int code = 0;
    if (!codes->empty()) {
      code = codes->front();
      codes->pop_front();
    }
    return Result<ExecResult>(ExecResult{code, code == 0 ? "ok" : "boom", false});
  });
  Start();
  corev1::Pod pod = Pod("  - name: app\n"
                        "    env: [{name: PORT, value: \"8080\"}, {name: FROM_CM, valueFrom: {configMapKeyRef: {name: c, key: k}}}]\n"
                        "    livenessProbe:\n"
                        "      exec: {command: [check, \"--port=$(PORT)\", \"$(FROM_CM)\"]}\n"
                        "      periodSeconds: 10\n      timeoutSeconds: 2\n      failureThreshold: 3\n");
  manager_->AddPod(pod);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kUnknown);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kSuccess) << "no readiness probe";
  EXPECT_EQ(manager_->Startup("uid-1", "app"), ProbeResult::kSuccess) << "no startup probe";
  EXPECT_EQ(done(), 0) << "nothing runs before the container does";

  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c1", clock_.Now()}});
  WaitDone(1);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kSuccess);
  EXPECT_EQ(changes("uid-1"), 1);
  Step(10s, 2);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kSuccess) << "1 failure of 3";
  Step(10s, 3);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kSuccess) << "2 failures of 3";
  Step(10s, 4);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kFailure);
  EXPECT_EQ(changes("uid-1"), 2);
  EXPECT_TRUE(WaitEvent("Unhealthy", "Liveness probe failed: boom"));

  // On hold until the container is replaced: time passes, nothing runs.
  clock_.Advance(60s);
  EXPECT_EQ(runtime_.calls("check"), 4);
  EXPECT_EQ(done(), 4);

  // The restarted container (new id) starts from Unknown and is probed again.
  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c2", clock_.Now()}});
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kUnknown);
  {
    std::lock_guard<std::mutex> lock(gate->first);
    *release = true;
  }
  gate->second.notify_all();
  WaitDone(5);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kSuccess);
}

TEST_F(ProberTest, InitialDelayCountsFromContainerStart) {
  Start();
  manager_->AddPod(Pod("  - name: app\n    readinessProbe:\n      exec: {command: [ready]}\n"
                       "      initialDelaySeconds: 15\n      periodSeconds: 5\n"));
  // The container started 5 s ago: the first probe is due in 10 s.
  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c1", clock_.Now() - 5s}});
  clock_.Advance(9s);
  EXPECT_EQ(runtime_.calls("ready"), 0);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kUnknown) << "not ready before the first probe";
  Step(1s, 1);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kSuccess);
  Step(5s, 2);
  EXPECT_EQ(runtime_.calls("ready"), 2);
}

TEST_F(ProberTest, StartupGatesLivenessAndReadiness) {
  auto startup_codes = std::make_shared<std::deque<int>>(std::deque<int>{1, 1, 0});
  runtime_.SetExec([startup_codes](const std::string&, const std::vector<std::string>& argv, std::chrono::milliseconds) {
    int code = 0;
    if (argv[0] == "started" && !startup_codes->empty()) {
      code = startup_codes->front();
      startup_codes->pop_front();
    }
    return Result<ExecResult>(ExecResult{code, "", false});
  });
  Start();
  manager_->AddPod(Pod("  - name: app\n"
                       "    startupProbe: {exec: {command: [started]}, periodSeconds: 1, failureThreshold: 30}\n"
                       "    livenessProbe: {exec: {command: [alive]}, periodSeconds: 10}\n"
                       "    readinessProbe: {exec: {command: [ready]}, periodSeconds: 10}\n"));
  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c1", clock_.Now()}});
  WaitDone(1);
  Step(1s, 2);
  EXPECT_EQ(manager_->Startup("uid-1", "app"), ProbeResult::kUnknown) << "2 failures of 30";
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kUnknown);
  EXPECT_EQ(runtime_.calls("alive"), 0);
  EXPECT_EQ(runtime_.calls("ready"), 0);
  // The third startup probe succeeds; liveness and readiness run right away.
  Step(1s, 5);
  EXPECT_EQ(manager_->Startup("uid-1", "app"), ProbeResult::kSuccess);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kSuccess);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kSuccess);
  // The startup probe stops once it succeeded.
  Step(10s, 7);
  EXPECT_EQ(runtime_.calls("started"), 3);
  EXPECT_EQ(runtime_.calls("alive"), 2);
}

TEST_F(ProberTest, ReadinessSuccessThresholdAndNotRunning) {
  auto codes = std::make_shared<std::deque<int>>(std::deque<int>{1, 0, 0});
  runtime_.SetExec([codes](const std::string&, const std::vector<std::string>&, std::chrono::milliseconds) {
    int code = 0;
    if (!codes->empty()) {
      code = codes->front();
      codes->pop_front();
    }
    return Result<ExecResult>(ExecResult{code, "not yet", false});
  });
  Start();
  manager_->AddPod(Pod("  - name: app\n    readinessProbe:\n      exec: {command: [ready]}\n"
                       "      periodSeconds: 3\n      successThreshold: 2\n      failureThreshold: 1\n"));
  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c1", clock_.Now()}});
  WaitDone(1);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kFailure) << "failureThreshold 1";
  EXPECT_TRUE(WaitEvent("Unhealthy", "Readiness probe failed: not yet"));
  Step(3s, 2);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kFailure) << "1 success of 2";
  Step(3s, 3);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kSuccess);
  int before = changes("uid-1");
  // The container stopped: not ready at once, without waiting for a probe.
  manager_->UpdatePod("uid-1", "127.0.0.1", {});
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kFailure);
  EXPECT_EQ(changes("uid-1"), before + 1);
  clock_.Advance(30s);
  EXPECT_EQ(runtime_.calls("ready"), 3) << "a stopped container is not probed";
}

TEST_F(ProberTest, ExecTimeoutAndGrpc) {
  runtime_.SetExec([](const std::string&, const std::vector<std::string>&, std::chrono::milliseconds) {
    return Result<ExecResult>(ExecResult{-1, "", true});
  });
  Start();
  manager_->AddPod(Pod("  - name: app\n    livenessProbe: {exec: {command: [sh, -c, sleep 5]}, failureThreshold: 1}\n"
                       "  - name: rpc\n    readinessProbe: {grpc: {port: 9000}, periodSeconds: 1}\n"));
  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c1", clock_.Now()}, {"rpc", "c2", clock_.Now()}});
  WaitDone(2);
  EXPECT_EQ(manager_->Liveness("uid-1", "app"), ProbeResult::kFailure);
  EXPECT_TRUE(WaitEvent("Unhealthy", "Liveness probe failed: command \"sh -c sleep 5\" timed out"));
  Step(1s, 3);
  Step(1s, 4);
  EXPECT_EQ(manager_->Readiness("uid-1", "rpc"), ProbeResult::kFailure);
  EXPECT_TRUE(WaitEvent("Unhealthy", "Readiness probe failed: grpc probes are not supported"));
  // Reported once, however often the probe runs (the event's count would say otherwise).
  auto list = api_.List(*api::FindResource("", "v1", "events"), "shop");
  ASSERT_TRUE(list.ok());
  for (const auto& obj : list->items) {
    const auto& e = static_cast<const corev1::Event&>(*obj);
    if (e.message().find("grpc") != std::string::npos) {
      EXPECT_EQ(e.count(), 1);
    }
  }
}

TEST_F(ProberTest, HttpGetAndTcpSocketThroughTheManager) {
  std::atomic<int> status{200};
  TestHttpServer server([&status](const std::string& head) {
    if (PathOf(head) == "/away") return Reply(302, "", "Location: http://127.0.0.2:9/\r\n");
    return Reply(status.load(), "body");
  });
  Start();
  std::string port = std::to_string(server.port());
  manager_->AddPod(Pod("  - name: web\n    ports: [{name: http, containerPort: " + port + "}]\n"
                       "    readinessProbe:\n      httpGet: {path: /healthz, port: http, httpHeaders: [{name: X-Probe, value: \"yes\"}]}\n"
                       "      periodSeconds: 2\n      failureThreshold: 2\n"
                       "    livenessProbe: {tcpSocket: {port: " + port + "}, periodSeconds: 2}\n"
                       "  - name: side\n    startupProbe: {httpGet: {path: /away, port: " + port + "}, periodSeconds: 2}\n"));
  manager_->UpdatePod("uid-1", "127.0.0.1",
                      {{"web", "c1", clock_.Now()}, {"side", "c2", clock_.Now()}});
  WaitDone(3);
  EXPECT_EQ(manager_->Readiness("uid-1", "web"), ProbeResult::kSuccess);
  EXPECT_EQ(manager_->Liveness("uid-1", "web"), ProbeResult::kSuccess);
  EXPECT_EQ(manager_->Startup("uid-1", "side"), ProbeResult::kSuccess) << "a redirect elsewhere is a warning";
  EXPECT_TRUE(WaitEvent("ProbeWarning", "Startup probe warning: Probe terminated redirects, Response body: "));
  bool saw_header = false;
  for (const auto& r : server.requests()) saw_header |= r.find("X-Probe: yes\r\n") != std::string::npos;
  EXPECT_TRUE(saw_header);

  status = 503;
  Step(2s, 5);
  EXPECT_EQ(manager_->Readiness("uid-1", "web"), ProbeResult::kSuccess) << "1 failure of 2";
  Step(2s, 7);
  EXPECT_EQ(manager_->Readiness("uid-1", "web"), ProbeResult::kFailure);
  EXPECT_TRUE(WaitEvent("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"));

  // The server goes away: the tcpSocket liveness probe fails (failureThreshold 3 by default).
  server.Stop();
  Step(2s, 9);
  Step(2s, 11);
  Step(2s, 13);
  EXPECT_EQ(manager_->Liveness("uid-1", "web"), ProbeResult::kFailure);
  EXPECT_TRUE(WaitEvent("Unhealthy", "Liveness probe failed: dial tcp 127.0.0.1:" + port + ": connect: connection refused"));
}

TEST_F(ProberTest, RemovePodForgetsResults) {
  Start();
  manager_->AddPod(Pod("  - name: app\n    readinessProbe: {exec: {command: [ready]}}\n"));
  manager_->UpdatePod("uid-1", "127.0.0.1", {{"app", "c1", clock_.Now()}});
  WaitDone(1);
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kSuccess);
  manager_->RemovePod("uid-1");
  clock_.Advance(60s);
  EXPECT_EQ(runtime_.calls("ready"), 1);
  manager_->AddPod(Pod("  - name: app\n    readinessProbe: {exec: {command: [ready]}}\n"));
  EXPECT_EQ(manager_->Readiness("uid-1", "app"), ProbeResult::kUnknown);
}

int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

TEST_F(ProberTest, HundredPodsTwoProbesEachUseFiveThreads) {
  int before = ThreadCount();
  Start();
  for (int i = 0; i < 100; ++i) {
    corev1::Pod pod = Pod("  - name: app\n    readinessProbe: {exec: {command: [ready]}, periodSeconds: 1}\n"
                          "    livenessProbe: {exec: {command: [alive]}, periodSeconds: 1}\n");
    pod.mutable_metadata()->set_uid("uid-" + std::to_string(i));
    manager_->AddPod(pod);
    manager_->UpdatePod(pod.metadata().uid(), "127.0.0.1", {{"app", "c" + std::to_string(i), clock_.Now()}});
  }
  WaitDone(200);
  Step(1s, 400);
  int threads = ThreadCount() - before;
  std::printf("probe manager threads for 100 pods x 2 probes: %d\n", threads);
  EXPECT_EQ(threads, 5);
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(manager_->Readiness("uid-" + std::to_string(i), "app"), ProbeResult::kSuccess);
  }
}

}  // namespace
}  // namespace ck::kubelet
