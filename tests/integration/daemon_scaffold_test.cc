// The daemon scaffold as a process: flags, TLS health and metrics endpoints, logging formats,
// graceful shutdown on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <regex>

#include "common/net/http_client.h"
#include "tests/testutil/testutil.h"

namespace ck {
namespace {

using namespace std::chrono_literals;
using testutil::Subprocess;

std::string Testd() { return testutil::BinDir() + "/ck-testd"; }

// Starts ck-testd on a free port and returns the port it logged.
struct RunningTestd {
  std::unique_ptr<Subprocess> proc;
  uint16_t port = 0;
};

RunningTestd StartTestd(std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {Testd(), "--secure-port=0", "--bind-address=127.0.0.1"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  RunningTestd t;
  t.proc = std::make_unique<Subprocess>(argv);
  std::regex re(R"(address"?[=:]"?127\.0\.0\.1:(\d+))");
  std::smatch m;
  bool up = testutil::WaitUntil([&] {
    std::string err = t.proc->Stderr();
    if (std::regex_search(err, m, re)) {
      t.port = static_cast<uint16_t>(std::stoi(m[1]));
      return true;
    }
    return !t.proc->running();
  }, 10s);
  EXPECT_TRUE(up && t.port) << t.proc->Stderr();
  return t;
}

net::HttpClient ClientTo(uint16_t port) {
  net::HttpClientOptions o;
  o.port = port;
  o.tls_config.insecure_skip_verify = true;  // the daemon's self-signed serving certificate
  return net::HttpClient(o);
}

TEST(DaemonScaffoldTest, BadFlagExitsWithOneReadableLine) {
  Subprocess p({Testd(), "--secure-port=abc"});
  auto rc = p.Wait(10s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 2);
  std::string err = p.Stderr();
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_NE(err.find("ck-testd: "), std::string::npos) << err;
  EXPECT_NE(err.find("--secure-port"), std::string::npos) << err;

  Subprocess unknown({Testd(), "--no-such-flag"});
  EXPECT_EQ(unknown.Wait(10s).value_or(-1), 2);
  EXPECT_NE(unknown.Stderr().find("--no-such-flag"), std::string::npos) << unknown.Stderr();

  Subprocess profile({Testd(), "--profile=fast"});
  EXPECT_EQ(profile.Wait(10s).value_or(-1), 2);
  EXPECT_NE(profile.Stderr().find("--profile"), std::string::npos) << profile.Stderr();
}

TEST(DaemonScaffoldTest, HelpExitsZero) {
  Subprocess p({Testd(), "--help"});
  EXPECT_EQ(p.Wait(10s).value_or(-1), 0);
  EXPECT_NE(p.Stdout().find("--secure-port"), std::string::npos);
  EXPECT_NE(p.Stdout().find("--profile"), std::string::npos);
}

TEST(DaemonScaffoldTest, HealthEndpointsOverTls) {
  auto t = StartTestd();
  auto client = ClientTo(t.port);
  for (const char* path : {"/healthz", "/livez", "/readyz"}) {
    auto r = client.Do({"GET", path, {}, ""});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, "ok") << path;
  }
  auto verbose = client.Do({"GET", "/readyz?verbose", {}, ""});
  ASSERT_TRUE(verbose.ok());
  EXPECT_EQ(verbose->body, "[+]ping ok\n[+]log ok\n[+]shutdown ok\nreadyz check passed\n");
  auto livez = client.Do({"GET", "/livez?verbose", {}, ""});
  EXPECT_EQ(livez->body, "[+]ping ok\n[+]log ok\nlivez check passed\n") << "livez has no readiness checks";
  auto excluded = client.Do({"GET", "/readyz?verbose&exclude=log", {}, ""});
  EXPECT_NE(excluded->body.find("[+]log excluded: ok\n"), std::string::npos) << excluded->body;
  auto one = client.Do({"GET", "/readyz/ping", {}, ""});
  EXPECT_EQ(one->status, 200);
  EXPECT_EQ(one->body, "ok");
  auto missing = client.Do({"GET", "/readyz/etcd", {}, ""});
  EXPECT_EQ(missing->status, 404);
}

TEST(DaemonScaffoldTest, MetricsAndRoutes) {
  auto t = StartTestd();
  auto client = ClientTo(t.port);
  auto m = client.Do({"GET", "/metrics", {}, ""});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->status, 200);
  EXPECT_EQ(m->headers.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m->body.find("# TYPE process_resident_memory_bytes gauge\n"), std::string::npos);
  EXPECT_NE(m->body.find("process_start_time_seconds "), std::string::npos);
  auto hello = client.Do({"GET", "/hello", {}, ""});
  EXPECT_EQ(hello->status, 200);
  EXPECT_EQ(hello->body.size(), 201u);
  auto nope = client.Do({"GET", "/nope", {}, ""});
  EXPECT_EQ(nope->status, 404);
}

TEST(DaemonScaffoldTest, SigtermDrainsAndExitsZero) {
  auto t = StartTestd({"-v=1"});
  auto client = ClientTo(t.port);
  ASSERT_TRUE(client.Do({"GET", "/hello", {}, ""}).ok());
  t.proc->Signal(SIGTERM);
  auto rc = t.proc->Wait(10s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 0);
  std::string err = t.proc->Stderr();
  EXPECT_NE(err.find("\"Received signal, shutting down\" signal=\"SIGTERM\""), std::string::npos) << err;
  EXPECT_NE(err.find("\"Stopped\""), std::string::npos) << err;
}

TEST(DaemonScaffoldTest, KlogTextAndJsonFormats) {
  auto text = StartTestd();
  std::regex klog(R"(I\d{4} \d{2}:\d{2}:\d{2}\.\d{6} +\d+ daemon\.cc:\d+\] "Serving securely" component="ck-testd")");
  EXPECT_TRUE(std::regex_search(text.proc->Stderr(), klog)) << text.proc->Stderr();
  auto json = StartTestd({"--logging-format=json"});
  std::regex line(R"(\{"ts":\d+\.\d+,"caller":"daemon\.cc:\d+","msg":"Serving securely","v":0,"component":"ck-testd")");
  EXPECT_TRUE(std::regex_search(json.proc->Stderr(), line)) << json.proc->Stderr();
}

TEST(DaemonScaffoldTest, PortInUseExitsNonZero) {
  auto first = StartTestd();
  Subprocess second({Testd(), "--secure-port=" + std::to_string(first.port), "--bind-address=127.0.0.1"});
  auto rc = second.Wait(10s);
  ASSERT_TRUE(rc);
  EXPECT_EQ(*rc, 1);
  EXPECT_NE(second.Stderr().find("cannot listen on 127.0.0.1:" + std::to_string(first.port)), std::string::npos)
      << second.Stderr();
}

}  // namespace
}  // namespace ck
