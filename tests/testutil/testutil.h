// Shared test utilities: temp dirs, child processes stopped by PID, condition waits with a
// deadline (tests never sleep to wait for something), and a throwaway PKI for TLS tests.
// Threading: each object belongs to the test thread that made it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/pki/pki.h"

namespace ck::testutil {

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` until it is true or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
               std::chrono::milliseconds poll = std::chrono::milliseconds(5));

// A child process with stdout and stderr captured to files. The destructor SIGKILLs it (by
// PID) if it is still running.
class Subprocess {
 public:
  Subprocess(std::vector<std::string> argv, std::map<std::string, std::string> extra_env = {});
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void Signal(int sig);
  // Waits for exit; returns the exit code (128+signal when killed) or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// Runs a command to completion (through /bin/sh -c) and returns {exit code, stdout+stderr}.
struct CommandResult {
  int exit_code;
  std::string output;
};
CommandResult RunCommand(const std::string& shell_command);

// A CA with a serving certificate (SANs localhost, 127.0.0.1) and a client certificate.
struct TestPki {
  pki::KeyAndCert ca;
  pki::KeyAndCert server;
  pki::KeyAndCert client;  // CN "jane", O "dev", "ops"
};
TestPki MakeTestPki();

std::string ReadFileOrDie(const std::string& path);
void WriteFileOrDie(const std::string& path, const std::string& content);
// Directory of built executables (CK_BIN_DIR, set by ctest).
std::string BinDir();

}  // namespace ck::testutil
