#include "tests/testutil/testutil.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/base/check.h"

namespace ck::testutil {

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ck-test-XXXXXX";
  CK_CHECK(mkdtemp(tmpl.data()) != nullptr) << "mkdtemp failed";
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(poll);
  }
}

Subprocess::Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> extra_env) {
  std::string out = dir_.File("stdout"), err = dir_.File("stderr");
  WriteFileOrDie(out, "");  // exist before the child starts, so readers never race its open()
  WriteFileOrDie(err, "");
  const pid_t parent = getpid();
  pid_ = fork();
  CK_CHECK(pid_ >= 0) << "fork failed";
  if (pid_ == 0) {
    // A test that aborts skips the destructor: the kernel then stops the child with it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int o = open(out.c_str(), O_WRONLY | O_APPEND);
    int e = open(err.c_str(), O_WRONLY | O_APPEND);
    dup2(o, 1);
    dup2(e, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    // Unblock signals a parent test may have blocked.
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    for (const auto& [k, v] : extra_env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::fprintf(stderr, "exec %s failed\n", args[0]);
    _exit(127);
  }
}

Subprocess::~Subprocess() {
  if (running()) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(10)).value_or(0);
  }
}

bool Subprocess::running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return true;
}

void Subprocess::Signal(int sig) {
  if (running()) kill(pid_, sig);
}

std::optional<int> Subprocess::Wait(std::chrono::milliseconds timeout) {
  WaitUntil([&] { return !running(); }, timeout, std::chrono::milliseconds(2));
  return exit_code_;
}

std::string Subprocess::Stdout() const { return ReadFileOrDie(dir_.File("stdout")); }
std::string Subprocess::Stderr() const { return ReadFileOrDie(dir_.File("stderr")); }

CommandResult RunCommand(const std::string& shell_command) {
  std::string cmd = shell_command + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  CK_CHECK(p) << "popen failed";
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

TestPki MakeTestPki() {
  TestPki t;
  pki::CertSpec ca_spec;
  ca_spec.common_name = "test-ca";
  auto ca = pki::CreateCA(ca_spec);
  CK_CHECK(ca.ok()) << ca.status().ToString();
  t.ca = *ca;
  pki::CertSpec server;
  server.common_name = "test-server";
  server.dns_names = {"localhost"};
  server.ip_addresses = {"127.0.0.1"};
  server.server_auth = true;
  auto s = pki::IssueCert(server, t.ca);
  CK_CHECK(s.ok()) << s.status().ToString();
  t.server = *s;
  pki::CertSpec client;
  client.common_name = "jane";
  client.organizations = {"dev", "ops"};
  client.client_auth = true;
  auto c = pki::IssueCert(client, t.ca);
  CK_CHECK(c.ok()) << c.status().ToString();
  t.client = *c;
  return t;
}

std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  CK_CHECK(in.good()) << "cannot read " << path;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  CK_CHECK(out.good()) << "cannot write " << path;
  out << content;
}

std::string BinDir() {
  const char* d = getenv("CK_BIN_DIR");
  return d ? d : "build/bin";
}

}  // namespace ck::testutil
