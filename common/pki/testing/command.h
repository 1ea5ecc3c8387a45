// Test-only helpers for tests that drive command-line tools (openssl, kubectl, the built `ck`):
// run a command to completion and capture its output, and a temporary folder removed on scope exit.
// Used by common/pki and compose tests; a candidate for a shared tests/ utility.
// Threading: RunCommand may be called from any thread; TempDir is a plain owning value.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace ck::testing {

struct CommandResult {
  int exit_code = -1;  // the exit status, or 128 + signal number, or 127 if exec failed
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

// Runs argv[0] (looked up in PATH) with stdin from /dev/null and waits for it to exit.
// `env` entries ("NAME=value") are added to the child's environment, replacing the parent's.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

// A child process that runs while the object lives (a TLS server for a client under test, say).
// Its stdout and stderr go to one file that Output() reads. The destructor kills it by PID
// (SIGKILL) and reaps it, so a failing test leaves nothing behind.
class BackgroundProcess {
 public:
  explicit BackgroundProcess(const std::vector<std::string>& argv);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Everything the process has written so far.
  std::string Output() const;
  // Waits until Output() contains `text`, the process exits, or `timeout` passes; returns the
  // output if `text` appeared and "" otherwise.
  std::string WaitForOutput(const std::string& text, std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
};

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The whole file, or "" if it cannot be read.
std::string ReadFile(const std::string& path);

// The lines of `s` without their '\n'; a trailing newline does not add an empty line.
std::vector<std::string> Lines(const std::string& s);

}  // namespace ck::testing
