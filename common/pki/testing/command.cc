// Process and temp-folder helpers for tests (see command.h).

#include "common/pki/testing/command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/base/check.h"

extern char** environ;

namespace ck::testing {
namespace {

// An unlinked temporary file: the child writes into it, the parent reads it back after exit.
// Files instead of pipes, so a chatty child can never block on a full pipe.
int AnonymousFile() {
  char name[] = "/tmp/ck-command-XXXXXX";
  int fd = mkstemp(name);
  CK_CHECK(fd >= 0) << "mkstemp failed";
  unlink(name);
  return fd;
}

std::string ReadAll(int fd) {
  std::string out;
  lseek(fd, 0, SEEK_SET);
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  CK_CHECK(!argv.empty());
  // The parent's environment, with `env` entries replacing those of the same name.
  std::vector<std::string> env_strings(env.begin(), env.end());
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('=') + 1);
    bool replaced = std::any_of(env.begin(), env.end(),
                                [&](const std::string& s) { return s.starts_with(name); });
    if (!replaced) env_strings.push_back(entry);
  }
  std::vector<char*> c_argv, c_env;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  for (const std::string& e : env_strings) c_env.push_back(const_cast<char*>(e.c_str()));
  c_env.push_back(nullptr);

  int out_fd = AnonymousFile(), err_fd = AnonymousFile();
  pid_t pid = fork();
  CK_CHECK(pid >= 0) << "fork failed";
  if (pid == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execvpe(c_argv[0], c_argv.data(), c_env.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    CK_CHECK(errno == EINTR) << "waitpid failed";
  }
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadAll(out_fd);
  result.err = ReadAll(err_fd);
  close(out_fd);
  close(err_fd);
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv) {
  CK_CHECK(!argv.empty());
  std::vector<char*> c_argv;
  for (const std::string& a : argv) c_argv.push_back(const_cast<char*>(a.c_str()));
  c_argv.push_back(nullptr);
  output_fd_ = AnonymousFile();
  pid_ = fork();
  CK_CHECK(pid_ >= 0) << "fork failed";
  if (pid_ == 0) {
    int null_fd = open("/dev/null", O_RDONLY);
    dup2(null_fd, 0);
    dup2(output_fd_, 1);
    dup2(output_fd_, 2);
    execvp(c_argv[0], c_argv.data());
    _exit(127);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (output_fd_ >= 0) close(output_fd_);
}

std::string BackgroundProcess::Output() const {
  std::string out;
  char buf[8192];
  off_t off = 0;
  ssize_t n;
  while ((n = pread(output_fd_, buf, sizeof(buf), off)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

std::string BackgroundProcess::WaitForOutput(const std::string& text,
                                             std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::string out = Output();
    if (out.find(text) != std::string::npos) return out;
    int status;
    bool exited = waitpid(pid_, &status, WNOHANG) == pid_;
    if (exited) {
      pid_ = -1;
      out = Output();  // it may have written the text just before exiting
      return out.find(text) != std::string::npos ? out : "";
    }
    if (std::chrono::steady_clock::now() >= deadline) return "";
    // A file has no readiness signal; re-check it often until the deadline.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/ck-test-XXXXXX";
  CK_CHECK(mkdtemp(tmpl.data()) != nullptr) << "mkdtemp failed for " << tmpl;
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

}  // namespace ck::testing
