// KubeletServer behind a real HttpServer (TLS, client CA set), as the apiserver reaches it:
// authentication (client certificate or TokenReview) and authorization (SubjectAccessReview,
// both answered by a stub ApiClient that counts its calls), /pods, /containerLogs from CRI log
// files the test writes, exec over WebSocket v5 and SPDY (real `sh -c` children behind a test
// ContainerRuntime) and port-forward over SPDY to a TCP echo listener on 127.0.0.1.
#include "kubelet/server/server.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/api/api_resources.h"
#include "common/api/codec.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/authorization_v1.pb.h"
#include "common/base/check.h"
#include "common/net/asio.h"
#include "common/net/http_client.h"
#include "common/net/http_server.h"
#include "common/net/url.h"
#include "kubelet/streaming/spdy_session.h"
#include "kubelet/streaming/websocket.h"
#include "tests/testutil/testutil.h"

namespace ck::kubelet {
namespace {

namespace asio = boost::asio;
namespace authnv1 = k8s::io::api::authentication::v1;
namespace authzv1 = k8s::io::api::authorization::v1;
namespace corev1 = k8s::io::api::core::v1;
namespace streaming = kubelet::streaming;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using tcp = asio::ip::tcp;
using Steady = std::chrono::steady_clock;

constexpr auto kWait = seconds(20);
constexpr char kNode[] = "node-1";

// ---- The apiserver as the kubelet sees it: TokenReview and SubjectAccessReview only. ----

class ReviewApi final : public client::ApiClient {
 public:
  struct Token {
    bool authenticated = false;
    std::string user;
    std::vector<std::string> groups;
  };
  struct Sar {
    std::string user, verb, resource, subresource, name;
    std::vector<std::string> groups;
  };

  void SetToken(const std::string& token, Token t) {
    std::lock_guard lock(mu_);
    tokens_[token] = std::move(t);
  }
  // Decides every SubjectAccessReview (default: deny).
  void SetPolicy(std::function<bool(const Sar&)> policy) {
    std::lock_guard lock(mu_);
    policy_ = std::move(policy);
  }
  int token_reviews() const { return token_reviews_; }
  int access_reviews() const { return access_reviews_; }
  std::vector<Sar> sars() const {
    std::lock_guard lock(mu_);
    return sars_;
  }

  Result<client::ObjectPtr> Create(const client::ResourceInfo& resource, const std::string&,
                                   const google::protobuf::Message& object, const client::WriteOptions&) override {
    if (resource.resource == "tokenreviews") {
      ++token_reviews_;
      auto review = std::make_shared<authnv1::TokenReview>(static_cast<const authnv1::TokenReview&>(object));
      std::lock_guard lock(mu_);
      if (auto it = tokens_.find(review->spec().token()); it != tokens_.end()) {
        review->mutable_status()->set_authenticated(it->second.authenticated);
        review->mutable_status()->mutable_user()->set_username(it->second.user);
        for (const std::string& g : it->second.groups) review->mutable_status()->mutable_user()->add_groups(g);
      }
      return client::ObjectPtr(review);
    }
    if (resource.resource == "subjectaccessreviews") {
      ++access_reviews_;
      auto review = std::make_shared<authzv1::SubjectAccessReview>(static_cast<const authzv1::SubjectAccessReview&>(object));
      const auto& ra = review->spec().resourceattributes();
      Sar sar{review->spec().user(), ra.verb(), ra.resource(), ra.subresource(), ra.name(),
              {review->spec().groups().begin(), review->spec().groups().end()}};
      std::lock_guard lock(mu_);
      sars_.push_back(sar);
      review->mutable_status()->set_allowed(policy_ && policy_(sar));
      return client::ObjectPtr(review);
    }
    return NotFound("the test apiserver serves only reviews, not " + resource.resource);
  }

  Result<client::ObjectPtr> Get(const client::ResourceInfo&, const std::string&, const std::string&,
                                const client::GetOptions&) override {
    return Unavailable("not served");
  }
  Result<client::ObjectList> List(const client::ResourceInfo&, const std::string&, const client::ListOptions&) override {
    return Unavailable("not served");
  }
  Result<std::unique_ptr<client::WatchStream>> Watch(const client::ResourceInfo&, const std::string&,
                                                     const client::ListOptions&) override {
    return Unavailable("not served");
  }
  Result<client::ObjectPtr> Update(const client::ResourceInfo&, const std::string&, const google::protobuf::Message&,
                                   const std::string&, const client::WriteOptions&) override {
    return Unavailable("not served");
  }
  Result<client::ObjectPtr> Patch(const client::ResourceInfo&, const std::string&, const std::string&, client::PatchType,
                                  const std::string&, const std::string&, const client::WriteOptions&) override {
    return Unavailable("not served");
  }
  Result<client::ObjectPtr> CreateSubresource(const client::ResourceInfo&, const std::string&, const std::string&,
                                              const std::string&, const google::protobuf::Message&,
                                              const client::WriteOptions&) override {
    return Unavailable("not served");
  }
  Result<client::ObjectPtr> Delete(const client::ResourceInfo&, const std::string&, const std::string&,
                                   const client::DeleteOptions&) override {
    return Unavailable("not served");
  }
  Status DeleteCollection(const client::ResourceInfo&, const std::string&, const client::ListOptions&,
                          const client::DeleteOptions&) override {
    return Unavailable("not served");
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Token> tokens_;   // guarded by mu_
  std::function<bool(const Sar&)> policy_;  // guarded by mu_
  std::vector<Sar> sars_;                 // guarded by mu_
  std::atomic<int> token_reviews_{0};
  std::atomic<int> access_reviews_{0};
};

// ---- A runtime whose containers the test lists, and whose Exec runs a real child. ----

// The command's stdio over pipes; exit_fd is a pidfd.
class PipeProcess final : public StreamingProcess {
 public:
  static Result<std::unique_ptr<StreamingProcess>> Start(const std::vector<std::string>& argv, bool with_stdin) {
    int in[2] = {-1, -1}, out[2], err[2];
    if ((with_stdin && pipe2(in, O_CLOEXEC) != 0) || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      return Internal("pipe2 failed");
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(with_stdin ? in[0] : null_fd, 0);
      dup2(out[1], 1);
      dup2(err[1], 2);
      setpgid(0, 0);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(null_fd);
    if (with_stdin) close(in[0]);
    close(out[1]);
    close(err[1]);
    auto p = std::unique_ptr<PipeProcess>(new PipeProcess());
    p->pid_ = pid;
    p->in_ = in[1];
    p->out_ = out[0];
    p->err_ = err[0];
    p->exit_ = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    for (int fd : {p->in_, p->out_, p->err_}) {
      if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    if (pid < 0 || p->exit_ < 0) return Internal("fork or pidfd_open failed");
    return std::unique_ptr<StreamingProcess>(std::move(p));
  }
  ~PipeProcess() override {
    std::lock_guard lock(mu_);
    if (pid_ > 0 && !code_) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      int st;
      waitpid(pid_, &st, 0);
    }
    for (int fd : {in_, out_, err_, exit_}) {
      if (fd >= 0) close(fd);
    }
  }
  int stdin_fd() const override {
    std::lock_guard lock(mu_);
    return in_;
  }
  void CloseStdin() override {
    std::lock_guard lock(mu_);
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  int stdout_fd() const override { return out_; }
  int stderr_fd() const override { return err_; }
  Status Resize(uint16_t, uint16_t) override { return Status::Ok(); }
  int exit_fd() const override { return exit_; }
  Result<int> ExitCode() override {
    std::lock_guard lock(mu_);
    if (!code_) {
      int st = 0;
      if (waitpid(pid_, &st, WNOHANG) != pid_) return Unavailable("still running");
      code_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return *code_;
  }

 private:
  PipeProcess() = default;
  mutable std::mutex mu_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1, exit_ = -1;
  std::optional<int> code_;  // guarded by mu_
};

class TestRuntime final : public ContainerRuntime {
 public:
  void Set(std::vector<ContainerStatus> containers) {
    std::lock_guard lock(mu_);
    containers_ = std::move(containers);
  }
  void SetState(const std::string& id, ContainerState state) {
    std::lock_guard lock(mu_);
    for (ContainerStatus& c : containers_) {
      if (c.id == id) c.state = state;
    }
  }
  std::vector<ExecRequest> execs() const {
    std::lock_guard lock(mu_);
    return execs_;
  }

  std::string Name() const override { return "test"; }
  std::string Version() const override { return "0.0.1"; }
  Status RunPodSandbox(const PodSandboxConfig&) override { return Status::Ok(); }
  Status RemovePodSandbox(const std::string&) override { return Status::Ok(); }
  Result<std::string> StartContainer(const PodSandboxConfig&, const ContainerConfig&) override {
    return Unavailable("the test runtime starts nothing");
  }
  Status StopContainer(const std::string&, std::chrono::seconds) override { return Status::Ok(); }
  Status RemoveContainer(const std::string&) override { return Status::Ok(); }
  Result<std::vector<ContainerStatus>> ListContainers() override {
    std::lock_guard lock(mu_);
    return containers_;
  }
  Result<std::vector<ContainerStatus>> ListPodContainers(const std::string& pod_uid) override {
    std::lock_guard lock(mu_);
    std::vector<ContainerStatus> out;
    for (const ContainerStatus& c : containers_) {
      if (c.pod_uid == pod_uid) out.push_back(c);
    }
    return out;
  }
  Result<ExecResult> ExecSync(const std::string&, const std::vector<std::string>&, std::chrono::milliseconds) override {
    return Unavailable("not used");
  }
  Result<std::unique_ptr<StreamingProcess>> Exec(const std::string& id, const ExecRequest& req) override {
    {
      std::lock_guard lock(mu_);
      bool running = false;
      for (const ContainerStatus& c : containers_) {
        if (c.id == id) running = c.state == ContainerState::kRunning;
      }
      if (!running) return Conflict("container " + id + " is not running");
      execs_.push_back(req);
    }
    return PipeProcess::Start(req.argv, req.stdin);
  }

 private:
  mutable std::mutex mu_;
  std::vector<ContainerStatus> containers_;  // guarded by mu_
  std::vector<ExecRequest> execs_;           // guarded by mu_
};

// ---- A TLS client speaking raw bytes, every read bounded by a deadline. ----

class TlsConn {
 public:
  TlsConn(const testutil::TestPki& pki, uint16_t port) : ctx_(asio::ssl::context::tls_client), s_(ioc_, ctx_) {
    ctx_.add_certificate_authority(asio::buffer(pki.ca.cert_pem));
    s_.set_verify_mode(asio::ssl::verify_peer);
    boost::system::error_code ec;
    s_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    if (!ec) s_.handshake(asio::ssl::stream_base::client, ec);
    ok_ = !ec;
  }
  bool ok() const { return ok_; }
  bool Write(std::string_view bytes) {
    boost::system::error_code ec;
    asio::write(s_, asio::buffer(bytes.data(), bytes.size()), ec);
    return !ec;
  }
  // The bytes that arrive before `deadline`: nullopt at EOF, on an error or at the deadline.
  std::optional<std::string> Read(Steady::time_point deadline) {
    if (!ok_) return std::nullopt;
    bool done = false;
    boost::system::error_code result;
    size_t got = 0;
    s_.async_read_some(asio::buffer(buf_, sizeof buf_), [&](boost::system::error_code ec, size_t n) {
      result = ec;
      got = n;
      done = true;
    });
    ioc_.restart();
    ioc_.run_until(deadline);
    if (!done) {
      s_.next_layer().cancel();
      ioc_.restart();
      ioc_.run();
      ok_ = false;
      return std::nullopt;
    }
    if (result) {
      ok_ = false;
      return std::nullopt;
    }
    return std::string(buf_, got);
  }
  // Reads a response head; returns it and leaves the bytes after it in *rest.
  std::string ReadHead(std::string* rest, Steady::time_point deadline) {
    std::string in;
    while (in.find("\r\n\r\n") == std::string::npos) {
      std::optional<std::string> piece = Read(deadline);
      if (!piece) return in;
      in += *piece;
    }
    const size_t end = in.find("\r\n\r\n") + 4;
    *rest = in.substr(end);
    return in.substr(0, end);
  }

 private:
  asio::io_context ioc_;
  asio::ssl::context ctx_;
  asio::ssl::stream<tcp::socket> s_;
  char buf_[16384];
  bool ok_ = false;
};

// ---- A TCP echo listener on 127.0.0.1, one connection at a time. ----

class EchoListener {
 public:
  EchoListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CK_CHECK(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    CK_CHECK(listen(fd_, 8) == 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Run(); });
  }
  ~EchoListener() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }
  bool saw_eof() const { return saw_eof_; }

 private:
  // Polls in short slices only to notice stop_; every wait is for an event.
  bool WaitReadable(int fd) {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 50) > 0) return true;
    }
    return false;
  }
  void Run() {
    while (WaitReadable(fd_)) {
      int c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++accepted_;
      char buf[4096];
      while (WaitReadable(c)) {
        ssize_t n = read(c, buf, sizeof buf);
        if (n <= 0) {
          saw_eof_ = n == 0;
          break;
        }
        (void)!write(c, buf, n);
      }
      close(c);
    }
  }
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::atomic<bool> saw_eof_{false};
  std::thread thread_;
};

uint16_t ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CK_CHECK(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// ---- The fixture: a node with pod default/web (containers app, side, done). ----

class KubeletServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = testutil::MakeTestPki();
    logs_ = dir_.path() + "/pods/uid-web";
    std::filesystem::create_directories(logs_ + "/app");
    std::filesystem::create_directories(logs_ + "/side");
    WriteLog(logs_ + "/app/1.log",
             "2025-12-31T23:59:50.000000000Z stdout F line1\n"
             "2025-12-31T23:59:55.000000000Z stderr F line2\n"
             "2025-12-31T23:59:58.000000000Z stdout P par\n"
             "2025-12-31T23:59:58.500000000Z stdout F tial3\n");
    WriteLog(logs_ + "/app/0.log", "2025-12-31T23:00:00.000000000Z stdout F from the first attempt\n");
    WriteLog(logs_ + "/side/0.log", "2025-12-31T23:59:50.000000000Z stdout F side says hi\n");

    pod_ = std::make_shared<corev1::Pod>();
    pod_->mutable_metadata()->set_name("web");
    pod_->mutable_metadata()->set_namespace_("default");
    pod_->mutable_metadata()->set_uid("uid-web");
    pod_->mutable_spec()->set_nodename(kNode);
    for (const char* c : {"app", "side", "done"}) pod_->mutable_spec()->add_containers()->set_name(c);
    pod_->mutable_status()->set_podip("127.0.0.1");
    pod_->mutable_status()->set_phase("Running");

    runtime_.Set({Container("c-app-0", "app", 0, ContainerState::kExited, ""),
                  Container("c-app-1", "app", 1, ContainerState::kRunning, logs_ + "/app/1.log"),
                  Container("c-side-0", "side", 0, ContainerState::kRunning, logs_ + "/side/0.log"),
                  Container("c-done-0", "done", 0, ContainerState::kExited, logs_ + "/done/0.log")});

    api_.SetToken("good", {true, "alice", {"system:authenticated"}});
    api_.SetToken("bad", {false, "", {}});
    api_.SetToken("mallory-token", {true, "mallory", {"system:authenticated"}});
    api_.SetPolicy([](const ReviewApi::Sar& s) { return s.user == "alice" || s.user == "jane"; });

    KubeletServerDeps deps;
    deps.runtime = &runtime_;
    deps.api = &api_;
    deps.node_name = kNode;
    deps.clock = &clock_;
    deps.pods = [this] {
      std::lock_guard lock(pods_mu_);
      return std::vector<std::shared_ptr<const corev1::Pod>>{pod_};
    };
    kubelet_ = std::make_unique<KubeletServer>(std::move(deps));

    net::HttpServerOptions o;
    o.tls_config.cert_pem = pki_.server.cert_pem;
    o.tls_config.key_pem = pki_.server.key_pem;
    o.tls_config.client_ca_pem = pki_.ca.cert_pem;
    http_ = std::make_unique<net::HttpServer>(
        o, [this](net::Request r, std::shared_ptr<net::ResponseWriter> w) { kubelet_->Handle(std::move(r), std::move(w)); });
    ASSERT_TRUE(http_->Start().ok());
  }

  void TearDown() override {
    kubelet_->Stop();
    http_->Stop(milliseconds(100));
  }

  static void WriteLog(const std::string& path, const std::string& content) { testutil::WriteFileOrDie(path, content); }
  static void AppendLog(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << content;
  }

  ContainerStatus Container(std::string id, std::string name, int attempt, ContainerState state, std::string log) {
    ContainerStatus c;
    c.id = std::move(id);
    c.pod_uid = "uid-web";
    c.pod_name = "web";
    c.pod_namespace = "default";
    c.name = std::move(name);
    c.attempt = attempt;
    c.state = state;
    c.log_path = std::move(log);
    return c;
  }

  std::unique_ptr<net::HttpClient> Client(bool with_cert = false) {
    net::HttpClientOptions o;
    o.port = http_->port();
    o.tls_config.ca_pem = pki_.ca.cert_pem;
    if (with_cert) {
      o.tls_config.cert_pem = pki_.client.cert_pem;
      o.tls_config.key_pem = pki_.client.key_pem;
    }
    o.timeout = kWait;
    return std::make_unique<net::HttpClient>(o);
  }

  net::Response Get(const std::string& target, const std::string& token = "good", const std::string& method = "GET") {
    net::ClientRequest r;
    r.method = method;
    r.target = target;
    if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
    Result<net::Response> resp = Client()->Do(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : net::Response{0, {}, ""};
  }

  static std::string Q(std::string_view s) { return net::PercentEncode(s); }

  testutil::TempDir dir_;
  testutil::TestPki pki_;
  std::string logs_;
  FakeClock clock_;
  ReviewApi api_;
  TestRuntime runtime_;
  std::mutex pods_mu_;
  std::shared_ptr<corev1::Pod> pod_;  // guarded by pods_mu_ once the server runs
  std::unique_ptr<KubeletServer> kubelet_;
  std::unique_ptr<net::HttpServer> http_;  // after kubelet_: stopped and destroyed first
};

// ---- Authentication and authorization ----

TEST_F(KubeletServerTest, NoCredentialsIsUnauthorizedStatus) {
  net::Response r = Get("/pods", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_NE(r.body.find(R"("kind":"Status")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("reason":"Unauthorized")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("code":401)"), std::string::npos) << r.body;
  EXPECT_EQ(api_.token_reviews(), 0);
  EXPECT_EQ(api_.access_reviews(), 0);
}

TEST_F(KubeletServerTest, RejectedTokenIsUnauthorized) {
  EXPECT_EQ(Get("/pods", "bad").status, 401);
  EXPECT_EQ(Get("/pods", "unknown-to-the-apiserver").status, 401);
  EXPECT_EQ(api_.token_reviews(), 2);
  EXPECT_EQ(api_.access_reviews(), 0);
  // A rejected token is cached too.
  EXPECT_EQ(Get("/pods", "bad").status, 401);
  EXPECT_EQ(api_.token_reviews(), 2);
}

TEST_F(KubeletServerTest, DeniedAccessReviewIsForbiddenWithUpstreamText) {
  net::Response r = Get("/pods", "mallory-token");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("Forbidden (user=mallory, verb=get, resource=nodes, subresource=proxy)"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"("reason":"Forbidden")"), std::string::npos) << r.body;
  std::vector<ReviewApi::Sar> sars = api_.sars();
  ASSERT_EQ(sars.size(), 1u);
  EXPECT_EQ(sars[0].user, "mallory");
  EXPECT_EQ(sars[0].verb, "get");
  EXPECT_EQ(sars[0].resource, "nodes");
  EXPECT_EQ(sars[0].subresource, "proxy");
  EXPECT_EQ(sars[0].name, kNode);
  EXPECT_EQ(sars[0].groups, std::vector<std::string>{"system:authenticated"});
}

TEST_F(KubeletServerTest, VerbFollowsTheMethodAndMetricsIsItsOwnSubresource) {
  net::Response post = Get("/exec/default/web/app?command=true&stdout=true", "mallory-token", "POST");
  EXPECT_EQ(post.status, 403);
  EXPECT_NE(post.body.find("Forbidden (user=mallory, verb=create, resource=nodes, subresource=proxy)"),
            std::string::npos)
      << post.body;
  net::Response metrics = Get("/metrics", "mallory-token");
  EXPECT_EQ(metrics.status, 403);
  EXPECT_NE(metrics.body.find("Forbidden (user=mallory, verb=get, resource=nodes, subresource=metrics)"),
            std::string::npos)
      << metrics.body;
  std::vector<ReviewApi::Sar> sars = api_.sars();
  ASSERT_EQ(sars.size(), 2u);
  EXPECT_EQ(sars[0].verb, "create");
  EXPECT_EQ(sars[1].subresource, "metrics");

  EXPECT_EQ(KubeletAuth::SubresourceOf("/stats/summary"), "stats");
  EXPECT_EQ(KubeletAuth::SubresourceOf("/logs/"), "log");
  EXPECT_EQ(KubeletAuth::SubresourceOf("/metricsx"), "proxy");
  EXPECT_EQ(KubeletAuth::VerbOf("PUT"), "update");
  EXPECT_EQ(KubeletAuth::VerbOf("DELETE"), "delete");
}

TEST_F(KubeletServerTest, TokenResultsAndDecisionsAreCachedUntilTheirTtl) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get("/pods").status, 200);
  EXPECT_EQ(api_.token_reviews(), 1);
  EXPECT_EQ(api_.access_reviews(), 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Get("/pods", "mallory-token").status, 403);
  EXPECT_EQ(api_.token_reviews(), 2);
  EXPECT_EQ(api_.access_reviews(), 2);
  // Another verb is another decision.
  EXPECT_EQ(Get("/pods", "good", "POST").status, 200);
  EXPECT_EQ(api_.access_reviews(), 3);

  // Denials live 30 s, tokens 2 min, allowed decisions 5 min.
  clock_.Advance(seconds(31));
  EXPECT_EQ(Get("/pods", "mallory-token").status, 403);
  EXPECT_EQ(api_.token_reviews(), 2);
  EXPECT_EQ(api_.access_reviews(), 4);
  EXPECT_EQ(Get("/pods").status, 200);
  EXPECT_EQ(api_.access_reviews(), 4);
  clock_.Advance(seconds(90));
  EXPECT_EQ(Get("/pods").status, 200);
  EXPECT_EQ(api_.token_reviews(), 3);
  EXPECT_EQ(api_.access_reviews(), 4);
  clock_.Advance(minutes(4));
  EXPECT_EQ(Get("/pods").status, 200);
  EXPECT_EQ(api_.token_reviews(), 4);
  EXPECT_EQ(api_.access_reviews(), 5);
}

TEST_F(KubeletServerTest, ClientCertificateUserNeedsNoTokenReview) {
  net::ClientRequest r;
  r.target = "/pods";
  Result<net::Response> resp = Client(/*with_cert=*/true)->Do(r);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(api_.token_reviews(), 0);
  std::vector<ReviewApi::Sar> sars = api_.sars();
  ASSERT_EQ(sars.size(), 1u);
  EXPECT_EQ(sars[0].user, "jane");
  EXPECT_EQ(sars[0].groups, (std::vector<std::string>{"dev", "ops"}));
}

// ---- /pods ----

TEST_F(KubeletServerTest, PodsIsAPodListOfTheNodesPods) {
  net::Response r = Get("/pods");
  ASSERT_EQ(r.status, 200) << r.body;
  corev1::PodList list;
  ASSERT_TRUE(api::FromJson(r.body, &list).ok()) << r.body;
  ASSERT_EQ(list.items_size(), 1);
  EXPECT_EQ(list.items(0).metadata().name(), "web");
  EXPECT_EQ(list.items(0).metadata().uid(), "uid-web");
  EXPECT_EQ(list.items(0).spec().containers_size(), 3);
  EXPECT_NE(r.body.find(R"("kind":"PodList")"), std::string::npos);
}

TEST_F(KubeletServerTest, UnknownPodAndPathAreNotFound) {
  net::Response r = Get("/containerLogs/default/nope/app");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find(R"(pod \"nope\" not found in namespace \"default\" on node node-1)"), std::string::npos)
      << r.body;
  EXPECT_EQ(Get("/containerLogs/default/web/app/extra/parts").status, 404);
  // A uid that is not the pod's is another pod.
  EXPECT_EQ(Get("/exec/default/web/other-uid/app?command=true&stdout=true").status, 404);
}

// ---- /containerLogs ----

TEST_F(KubeletServerTest, LogsPlainTailTimestampsSinceAndLimit) {
  net::Response plain = Get("/containerLogs/default/web/app");
  EXPECT_EQ(plain.status, 200);
  EXPECT_EQ(plain.body, "line1\nline2\npartial3\n");

  EXPECT_EQ(Get("/containerLogs/default/web/app?tailLines=2").body, "line2\npartial3\n");
  net::Response ts = Get("/containerLogs/default/web/app?timestamps=true&tailLines=2");
  EXPECT_EQ(ts.body.rfind("2025-12-31T23:59:55.000000000Z line2\n2025-12-31T23:59:58.000000000Z par", 0), 0u) << ts.body;
  EXPECT_NE(ts.body.find("tial3\n"), std::string::npos) << ts.body;
  EXPECT_EQ(Get("/containerLogs/default/web/app?limitBytes=8").body, "line1\nli");
  EXPECT_EQ(Get("/containerLogs/default/web/app?sinceTime=" + Q("2025-12-31T23:59:54Z")).body, "line2\npartial3\n");
  // The fake clock reads 2026-01-01T00:00:00Z: the last 4 seconds hold only the third line.
  EXPECT_EQ(Get("/containerLogs/default/web/app?sinceSeconds=4").body, "partial3\n");

  net::Response bad = Get("/containerLogs/default/web/app?tailLines=-1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("tailLines: must be a non-negative integer"), std::string::npos) << bad.body;
}

TEST_F(KubeletServerTest, LogsPreviousAttemptAndItsErrors) {
  net::Response prev = Get("/containerLogs/default/web/app?previous=true");
  EXPECT_EQ(prev.status, 200);
  EXPECT_EQ(prev.body, "from the first attempt\n");

  net::Response none = Get("/containerLogs/default/web/side?previous=true");
  EXPECT_EQ(none.status, 400);
  EXPECT_NE(none.body.find(R"(previous terminated container \"side\" in pod \"web\" not found)"), std::string::npos)
      << none.body;
  EXPECT_NE(none.body.find(R"("reason":"BadRequest")"), std::string::npos) << none.body;

  // Attempt 1 whose 0.log is gone: also not found.
  std::filesystem::remove(logs_ + "/app/0.log");
  EXPECT_EQ(Get("/containerLogs/default/web/app?previous=true").status, 400);

  net::Response unknown = Get("/containerLogs/default/web/nope");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("container nope is not valid for pod web"), std::string::npos) << unknown.body;
}

TEST_F(KubeletServerTest, LogsOfAContainerNotStartedSayWhy) {
  {
    std::lock_guard lock(pods_mu_);
    auto pod = std::make_shared<corev1::Pod>(*pod_);
    pod->mutable_spec()->add_containers()->set_name("later");
    auto* s = pod->mutable_status()->add_containerstatuses();
    s->set_name("later");
    s->mutable_state()->mutable_waiting()->set_reason("ImagePullBackOff");
    pod_ = pod;
  }
  net::Response r = Get("/containerLogs/default/web/later");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find(R"(container \"later\" in pod \"web\" is waiting to start: ImagePullBackOff)"),
            std::string::npos)
      << r.body;
}

TEST_F(KubeletServerTest, FollowStreamsNewLinesAndEndsWhenTheContainerStops) {
  auto client = Client();
  net::ClientRequest req;
  req.target = "/containerLogs/default/web/app?follow=true";
  req.headers.Add("Authorization", "Bearer good");
  Result<std::unique_ptr<net::ResponseStream>> stream = client->Open(req);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  ASSERT_EQ((*stream)->status(), 200);
  std::string got;
  auto read_until = [&](std::string_view want) {
    const auto deadline = Steady::now() + kWait;
    while (got.find(want) == std::string::npos && Steady::now() < deadline) {
      Result<std::optional<std::string>> piece = (*stream)->Next(seconds(1));
      if (!piece.ok() && piece.status().code() == Code::kTimeout) continue;
      if (!piece.ok() || !*piece) return false;
      got += **piece;
    }
    return got.find(want) != std::string::npos;
  };
  ASSERT_TRUE(read_until("partial3\n")) << got;
  AppendLog(logs_ + "/app/1.log", "2026-01-01T00:00:01.000000000Z stdout F line4\n");
  ASSERT_TRUE(read_until("line4\n")) << got;

  runtime_.SetState("c-app-1", ContainerState::kExited);
  AppendLog(logs_ + "/app/1.log", "2026-01-01T00:00:02.000000000Z stdout F last words\n");
  clock_.Advance(seconds(1));  // the server rechecks the container's state every 500 ms of its clock
  bool ended = false;
  const auto deadline = Steady::now() + kWait;
  while (!ended && Steady::now() < deadline) {
    Result<std::optional<std::string>> piece = (*stream)->Next(seconds(1));
    if (!piece.ok() && piece.status().code() == Code::kTimeout) continue;
    ASSERT_TRUE(piece.ok()) << piece.status().ToString();
    if (!*piece) {
      ended = true;
    } else {
      got += **piece;
    }
  }
  EXPECT_TRUE(ended) << "the follow did not end after the container stopped";
  EXPECT_EQ(got, "line1\nline2\npartial3\nline4\nlast words\n");
}

// ---- exec ----

std::string ExecTarget(const std::string& path, const std::string& script) {
  return path + "?command=sh&command=-c&command=" + net::PercentEncode(script) + "&stdout=true&stderr=true";
}

TEST_F(KubeletServerTest, ExecOverWebSocketV5StreamsOutputAndExitCode) {
  TlsConn conn(pki_, http_->port());
  ASSERT_TRUE(conn.ok());
  const std::string target = ExecTarget("/exec/default/web/app", "echo out; echo err >&2; exit 3");
  ASSERT_TRUE(conn.Write("GET " + target +
                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer good\r\nConnection: Upgrade\r\n"
                         "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n\r\n"));
  const auto deadline = Steady::now() + kWait;
  std::string rest;
  std::string head = conn.ReadHead(&rest, deadline);
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Protocol: v5.channel.k8s.io"), std::string::npos) << head;
  EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << head;

  std::map<int, std::string> channels;
  bool closed = false;
  streaming::WebSocketConnection ws(
      streaming::WebSocketConnection::Role::kClient,
      streaming::Transport{[&](std::string bytes) { return conn.Write(bytes); }, [] {}},
      streaming::WebSocketConnection::Callbacks{
          [&](std::string payload, bool) {
            if (!payload.empty()) channels[static_cast<uint8_t>(payload[0])] += payload.substr(1);
          },
          [&](uint16_t, std::string) { closed = true; }});
  ASSERT_TRUE(ws.Feed(rest).ok());
  while (!closed) {
    std::optional<std::string> in = conn.Read(deadline);
    if (!in) break;
    ASSERT_TRUE(ws.Feed(*in).ok());
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(channels[1], "out\n");
  EXPECT_EQ(channels[2], "err\n");
  EXPECT_NE(channels[3].find(R"("status":"Failure")"), std::string::npos) << channels[3];
  EXPECT_NE(channels[3].find(R"("reason":"NonZeroExitCode")"), std::string::npos) << channels[3];
  EXPECT_NE(channels[3].find(R"("reason":"ExitCode","message":"3")"), std::string::npos) << channels[3];

  std::vector<ExecRequest> execs = runtime_.execs();
  ASSERT_EQ(execs.size(), 1u);
  EXPECT_EQ(execs[0].argv, (std::vector<std::string>{"sh", "-c", "echo out; echo err >&2; exit 3"}));
  EXPECT_FALSE(execs[0].stdin);
  EXPECT_FALSE(execs[0].tty);
}

TEST_F(KubeletServerTest, ExecOverSpdyV4StreamsOutputAndStatus) {
  TlsConn conn(pki_, http_->port());
  ASSERT_TRUE(conn.ok());
  const std::string target = ExecTarget("/exec/default/web/uid-web/app", "echo spdy-out; echo spdy-err >&2; exit 0");
  ASSERT_TRUE(conn.Write("POST " + target +
                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer good\r\nContent-Length: 0\r\n"
                         "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n"
                         "X-Stream-Protocol-Version: v3.channel.k8s.io\r\n\r\n"));
  const auto deadline = Steady::now() + kWait;
  std::string rest;
  std::string head = conn.ReadHead(&rest, deadline);
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(head.find("X-Stream-Protocol-Version: v4.channel.k8s.io"), std::string::npos) << head;

  std::map<uint32_t, std::string> data;
  std::map<uint32_t, bool> fin;
  int replies = 0;
  bool goaway = false;
  streaming::SpdySession spdy(
      streaming::SpdySession::Role::kClient,
      streaming::Transport{[&](std::string bytes) { return conn.Write(bytes); }, [] {}},
      streaming::SpdySession::Callbacks{nullptr, [&](uint32_t, const streaming::SpdyHeaders&) { ++replies; },
                                        [&](uint32_t id, std::string d, bool f) {
                                          data[id] += d;
                                          if (f) fin[id] = true;
                                        },
                                        nullptr, [&](uint32_t) { goaway = true; }});
  Result<uint32_t> error_id = spdy.OpenStream({{"streamtype", "error"}});
  Result<uint32_t> out_id = spdy.OpenStream({{"streamtype", "stdout"}});
  Result<uint32_t> err_id = spdy.OpenStream({{"streamtype", "stderr"}});
  ASSERT_TRUE(error_id.ok() && out_id.ok() && err_id.ok());
  ASSERT_TRUE(spdy.Feed(rest).ok());
  while (!(fin[*error_id] && fin[*out_id] && fin[*err_id])) {
    std::optional<std::string> in = conn.Read(deadline);
    if (!in) break;
    ASSERT_TRUE(spdy.Feed(*in).ok());
  }
  EXPECT_EQ(replies, 3);
  EXPECT_EQ(data[*out_id], "spdy-out\n");
  EXPECT_EQ(data[*err_id], "spdy-err\n");
  EXPECT_NE(data[*error_id].find(R"("status":"Success")"), std::string::npos) << data[*error_id];
  EXPECT_TRUE(fin[*error_id]);
  // Then the server closes the session.
  while (!goaway) {
    std::optional<std::string> in = conn.Read(deadline);
    if (!in) break;
    ASSERT_TRUE(spdy.Feed(*in).ok());
  }
  EXPECT_TRUE(goaway);
}

TEST_F(KubeletServerTest, ExecIntoAContainerNotRunningIsNotFoundBeforeAnyUpgrade) {
  TlsConn conn(pki_, http_->port());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Write("GET " + ExecTarget("/exec/default/web/done", "true") +
                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer good\r\nConnection: Upgrade\r\n"
                         "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                         "Sec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n"));
  std::string rest;
  std::string head = conn.ReadHead(&rest, Steady::now() + kWait);
  EXPECT_EQ(head.rfind("HTTP/1.1 404", 0), 0u) << head;
  std::string body = rest;
  while (body.find('}') == std::string::npos) {
    std::optional<std::string> in = conn.Read(Steady::now() + kWait);
    if (!in) break;
    body += *in;
  }
  EXPECT_NE(body.find(R"(container not found (\"done\"))"), std::string::npos) << body;
  EXPECT_TRUE(runtime_.execs().empty());

  // Without an upgrade the request is refused, and nothing runs either.
  net::Response plain = Get(ExecTarget("/exec/default/web/app", "true"));
  EXPECT_EQ(plain.status, 400);
  EXPECT_NE(plain.body.find("Upgrade request required"), std::string::npos) << plain.body;
  EXPECT_TRUE(runtime_.execs().empty());
}

// ---- port-forward ----

TEST_F(KubeletServerTest, PortForwardOverSpdyCopiesBothWaysAndReportsAClosedPort) {
  EchoListener echo;
  const uint16_t closed_port = ClosedPort();
  TlsConn conn(pki_, http_->port());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.Write("POST /portForward/default/web?port=" + std::to_string(echo.port()) +
                         " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer good\r\nContent-Length: 0\r\n"
                         "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n"));
  const auto deadline = Steady::now() + kWait;
  std::string rest;
  std::string head = conn.ReadHead(&rest, deadline);
  ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
  EXPECT_NE(head.find("X-Stream-Protocol-Version: portforward.k8s.io"), std::string::npos) << head;

  std::map<uint32_t, std::string> data;
  std::map<uint32_t, bool> fin;
  streaming::SpdySession spdy(
      streaming::SpdySession::Role::kClient,
      streaming::Transport{[&](std::string bytes) { return conn.Write(bytes); }, [] {}},
      streaming::SpdySession::Callbacks{nullptr, nullptr,
                                        [&](uint32_t id, std::string d, bool f) {
                                          data[id] += d;
                                          if (f) fin[id] = true;
                                        },
                                        nullptr, nullptr});
  ASSERT_TRUE(spdy.Feed(rest).ok());
  auto pump_until = [&](const std::function<bool()>& done) {
    while (!done()) {
      std::optional<std::string> in = conn.Read(deadline);
      if (!in) return false;
      if (!spdy.Feed(*in).ok()) return false;
    }
    return true;
  };

  const std::string port = std::to_string(echo.port());
  Result<uint32_t> error_id = spdy.OpenStream({{"streamtype", "error"}, {"port", port}, {"requestid", "0"}});
  Result<uint32_t> data_id = spdy.OpenStream({{"streamtype", "data"}, {"port", port}, {"requestid", "0"}});
  ASSERT_TRUE(error_id.ok() && data_id.ok());
  ASSERT_TRUE(spdy.SendData(*data_id, "hello pod").ok());
  ASSERT_TRUE(pump_until([&] { return data[*data_id] == "hello pod"; })) << data[*data_id];
  ASSERT_TRUE(spdy.SendData(*data_id, " and more").ok());
  ASSERT_TRUE(pump_until([&] { return data[*data_id] == "hello pod and more"; })) << data[*data_id];
  // The client's FIN reaches the pod as EOF; the pod's close comes back as FIN.
  ASSERT_TRUE(spdy.SendData(*data_id, "", /*fin=*/true).ok());
  ASSERT_TRUE(pump_until([&] { return fin[*data_id]; }));
  EXPECT_TRUE(echo.saw_eof());
  EXPECT_EQ(echo.accepted(), 1);
  EXPECT_EQ(data[*error_id], "");

  const std::string closed = std::to_string(closed_port);
  Result<uint32_t> error2 = spdy.OpenStream({{"streamtype", "error"}, {"port", closed}, {"requestid", "1"}});
  Result<uint32_t> data2 = spdy.OpenStream({{"streamtype", "data"}, {"port", closed}, {"requestid", "1"}});
  ASSERT_TRUE(error2.ok() && data2.ok());
  ASSERT_TRUE(pump_until([&] { return fin[*error2]; }));
  EXPECT_NE(data[*error2].find("error forwarding port " + closed + " to pod web_default, uid uid-web"),
            std::string::npos)
      << data[*error2];
  EXPECT_NE(data[*error2].find("refused"), std::string::npos) << data[*error2];
}

TEST_F(KubeletServerTest, PortForwardWithoutAnUpgradeIsBadRequest) {
  net::Response r = Get("/portForward/default/web?port=80");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Upgrade request required"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace ck::kubelet
