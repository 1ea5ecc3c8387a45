// ck-echo as a process on 127.0.0.1 with an ephemeral port (PORT=0; it logs the port it got).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace {

using std::chrono::seconds;
using ck::testutil::Subprocess;
using ck::testutil::WaitUntil;

struct HttpResult {
  int code = 0;
  std::string body;
};

// One request over a fresh connection; code 0 when the connection failed.
HttpResult Request(int port, const std::string& method, const std::string& path) {
  HttpResult r;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return r;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n";
  (void)!send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, n);
  close(fd);
  if (resp.rfind("HTTP/1.1 ", 0) != 0) return r;
  r.code = std::atoi(resp.c_str() + 9);
  size_t body = resp.find("\r\n\r\n");
  if (body != std::string::npos) r.body = resp.substr(body + 4);
  return r;
}

class CkEchoTest : public ::testing::Test {
 protected:
  // Starts ck-echo and returns the port it logged ("listening on 127.0.0.1:PORT as NAME").
  int Start(std::vector<std::string> flags = {}) {
    std::vector<std::string> argv = {ck::testutil::BinDir() + "/ck-echo"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    echo_ = std::make_unique<Subprocess>(argv, std::map<std::string, std::string>{
                                                   {"POD_IP", "127.0.0.1"}, {"PORT", "0"}, {"POD_NAME", "echo-7"}});
    int port = 0;
    WaitUntil(
        [&] {
          std::string out = echo_->Stdout();
          size_t at = out.find("listening on 127.0.0.1:");
          if (at == std::string::npos) return false;
          port = std::atoi(out.c_str() + at + std::strlen("listening on 127.0.0.1:"));
          return true;
        },
        seconds(10));
    return port;
  }
  std::unique_ptr<Subprocess> echo_;  // killed by PID in its destructor
};

TEST_F(CkEchoTest, AnswersAndSwitchesReadiness) {
  int port = Start();
  ASSERT_GT(port, 0) << echo_->Stdout() << echo_->Stderr();

  auto root = Request(port, "GET", "/");
  EXPECT_EQ(root.code, 200);
  EXPECT_EQ(root.body, "echo-7\n");
  EXPECT_EQ(Request(port, "GET", "/healthz").code, 200);
  EXPECT_EQ(Request(port, "GET", "/ready").code, 200);
  EXPECT_EQ(Request(port, "POST", "/fail-readiness").code, 200);
  auto ready = Request(port, "GET", "/ready");
  EXPECT_EQ(ready.code, 503);
  EXPECT_EQ(Request(port, "GET", "/healthz").code, 200) << "liveness is not readiness";
  EXPECT_EQ(Request(port, "GET", "/pass-readiness").code, 200);
  EXPECT_EQ(Request(port, "GET", "/ready?probe=1").code, 200);
  EXPECT_EQ(Request(port, "GET", "/nope").code, 404);

  // Every request is logged.
  EXPECT_TRUE(WaitUntil([&] { return echo_->Stdout().find("\"GET /nope\" 404") != std::string::npos; }, seconds(10)));
  EXPECT_NE(echo_->Stdout().find("\"POST /fail-readiness\" 200"), std::string::npos);

  echo_->Signal(SIGTERM);
  auto code = echo_->Wait(seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_NE(echo_->Stdout().find("received SIGTERM, shutting down"), std::string::npos) << echo_->Stdout();
}

TEST_F(CkEchoTest, ServesDuringShutdownDelay) {
  int port = Start({"--shutdown-delay=30"});
  ASSERT_GT(port, 0);
  echo_->Signal(SIGTERM);
  ASSERT_TRUE(WaitUntil([&] { return echo_->Stdout().find("received SIGTERM") != std::string::npos; }, seconds(10)));
  EXPECT_EQ(Request(port, "GET", "/healthz").code, 200) << "still serving while it drains";
  EXPECT_TRUE(echo_->running());
}

TEST_F(CkEchoTest, ExitsOnPurpose) {
  Start({"--exit-after=0", "--exit-code=3"});
  auto code = echo_->Wait(seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 3);
  EXPECT_NE(echo_->Stdout().find("exiting with code 3"), std::string::npos) << echo_->Stdout();
}

TEST_F(CkEchoTest, BadFlagExitsWithOneLine) {
  echo_ = std::make_unique<Subprocess>(std::vector<std::string>{ck::testutil::BinDir() + "/ck-echo", "--bogus"});
  auto code = echo_->Wait(seconds(10));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_NE(echo_->Stderr().find("unknown flag --bogus"), std::string::npos);
}

}  // namespace
