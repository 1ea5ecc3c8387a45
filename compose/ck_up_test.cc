// `ck up` end to end against the real daemons: the built ck (CK_BIN_DIR/ck) starts ck-apiserver,
// ck-controller-manager and ck-scheduler from the same folder on free loopback ports
// (--nodes 0: control plane only), then `ck status`, `ck stop`/`ck start`, a kill -9 that the
// supervisor repairs, `--no-restart`, a start-up failure's diagnosis, and `ck down`, which must
// leave no process behind. Every process is checked and cleaned up by its recorded PID.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/pki/testing/command.h"
#include "compose/processes.h"

namespace ck::launcher {
namespace {

using ck::testing::CommandResult;
using ck::testing::Lines;
using ck::testing::TempDir;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using ms = std::chrono::milliseconds;

std::string BinDir() {
  const char* dir = std::getenv("CK_BIN_DIR");
  return dir ? dir : "build/bin";
}

// A loopback port that was free a moment ago.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

bool WaitUntil(const std::function<bool()>& cond, ms timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!cond()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(ms(20));
  }
  return true;
}

struct Row {
  std::string pid, state, restarts, uptime, ready;
};

class CkUpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* b : {"ck", "ck-apiserver", "ck-controller-manager", "ck-scheduler"}) {
      ASSERT_EQ(access((BinDir() + "/" + b).c_str(), X_OK), 0)
          << BinDir() << "/" << b << " is missing: build it (CK_BIN_DIR names the folder of ck and the daemons)";
    }
    state_ = dir_.File("state");
  }

  // Stops whatever is still recorded, by PID, even when the test failed half way.
  void TearDown() override {
    (void)Ck({"down", "--state-dir", state_});
    for (pid_t pid : Recorded()) {
      if (ProcessAlive(pid)) kill(pid, SIGKILL);
    }
    for (pid_t pid : seen_) {
      if (ProcessAlive(pid)) {
        ADD_FAILURE() << "pid " << pid << " still alive after ck down";
        kill(pid, SIGKILL);
      }
    }
  }

  CommandResult Ck(std::vector<std::string> args) {
    args.insert(args.begin(), BinDir() + "/ck");
    return ck::testing::RunCommand(args);
  }

  std::vector<std::string> UpArgs(bool restart) {
    std::vector<std::string> args = {"up",
                                     "--nodes",
                                     "0",
                                     "--state-dir",
                                     state_,
                                     "--detach",
                                     "--profile",
                                     "teaching",
                                     "--apiserver-port",
                                     std::to_string(FreePort()),
                                     "--controller-manager-port",
                                     std::to_string(FreePort()),
                                     "--scheduler-port",
                                     std::to_string(FreePort()),
                                     "--ready-timeout",
                                     "30"};
    if (!restart) args.push_back("--no-restart");
    return args;
  }

  std::vector<pid_t> Recorded() {
    std::vector<pid_t> pids;
    if (auto p = ReadPidFile(state_ + "/ck.pid")) pids.push_back(*p);
    std::error_code ec;
    for (const fs::directory_entry& e : fs::directory_iterator(state_ + "/run", ec)) {
      if (e.path().extension() != ".pid") continue;
      if (auto p = ReadPidFile(e.path().string())) pids.push_back(*p);
    }
    for (pid_t p : pids) seen_.insert(p);
    return pids;
  }

  pid_t PidOf(const std::string& component) {
    std::optional<pid_t> p = ReadPidFile(state_ + "/run/" + component + ".pid");
    if (p) seen_.insert(*p);
    return p.value_or(0);
  }

  std::map<std::string, Row> Status() {
    CommandResult r = Ck({"status", "--state-dir", state_});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, Row> rows;
    std::vector<std::string> lines = Lines(r.out);
    EXPECT_FALSE(lines.empty());
    if (!lines.empty()) {
      EXPECT_EQ(lines[0].substr(0, 47), "COMPONENT            PID      STATE    RESTARTS");
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      std::istringstream in(lines[i]);
      std::string name;
      Row row;
      in >> name >> row.pid >> row.state >> row.restarts >> row.uptime >> row.ready;
      rows[name] = row;
    }
    return rows;
  }

  TempDir dir_;
  std::string state_;
  std::set<pid_t> seen_;
};

TEST_F(CkUpTest, StatusStopStartKillAndDown) {
  CommandResult up = Ck(UpArgs(/*restart=*/true));
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  std::vector<std::string> lines = Lines(up.out);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "export KUBECONFIG=" + state_ + "/admin.kubeconfig");
  for (const char* c : {"apiserver", "controller-manager", "scheduler"}) {
    EXPECT_THAT(up.out, HasSubstr(std::string(c) + std::string(20 - std::string(c).size(), ' ') + " ready in "));
  }
  for (const char* f : {"ca.crt", "admin.kubeconfig", "scheduler-serving.crt", "logs/apiserver.log",
                        "logs/controller-manager.log", "logs/scheduler.log", "logs/ck.log", "run/apiserver.pid"}) {
    EXPECT_TRUE(fs::exists(state_ + "/" + f)) << f;
  }
  std::vector<pid_t> first = Recorded();
  ASSERT_EQ(first.size(), 4u);
  pid_t supervisor = *ReadPidFile(state_ + "/ck.pid");
  EXPECT_TRUE(IsOurProcess(supervisor, "ck", state_));
  EXPECT_TRUE(IsOurProcess(PidOf("apiserver"), "ck-apiserver", state_));

  // A second `ck up` on a running cluster is refused.
  CommandResult again = Ck(UpArgs(true));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("a supervisor is already running for " + state_));

  std::map<std::string, Row> s = Status();
  EXPECT_EQ(s["supervisor"].state, "running");
  EXPECT_EQ(s["supervisor"].pid, std::to_string(supervisor));
  for (const char* c : {"apiserver", "controller-manager", "scheduler"}) {
    EXPECT_EQ(s[c].state, "running") << c;
    EXPECT_EQ(s[c].pid, std::to_string(PidOf(c))) << c;
    EXPECT_EQ(s[c].restarts, "0") << c;
    EXPECT_EQ(s[c].ready, "yes") << c;
  }

  // ck stop: the scheduler goes and stays gone while the supervisor runs on.
  pid_t scheduler = PidOf("scheduler");
  CommandResult stop = Ck({"stop", "--state-dir", state_, "scheduler"});
  ASSERT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_FALSE(ProcessAlive(scheduler));
  EXPECT_FALSE(fs::exists(state_ + "/run/scheduler.pid"));
  s = Status();
  EXPECT_EQ(s["scheduler"].state, "stopped");
  EXPECT_EQ(s["scheduler"].pid, "-");

  // kill -9 of the controller-manager by its recorded PID: restarted after the 1 s backoff.
  pid_t manager = PidOf("controller-manager");
  ASSERT_GT(manager, 0);
  ASSERT_EQ(kill(manager, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil(
      [&] {
        pid_t now = PidOf("controller-manager");
        return now > 0 && now != manager && IsOurProcess(now, "ck-controller-manager", state_);
      },
      ms(20'000)));
  ASSERT_TRUE(WaitUntil([&] { return Status()["controller-manager"].ready == "yes"; }, ms(20'000)));
  s = Status();
  EXPECT_EQ(s["controller-manager"].state, "running");
  EXPECT_EQ(s["controller-manager"].restarts, "1");
  EXPECT_THAT(ck::testing::ReadFile(state_ + "/logs/ck.log"), HasSubstr("ck: controller-manager killed by signal 9"));
  // More than a second of supervision later, the stopped scheduler is still stopped.
  EXPECT_EQ(s["scheduler"].state, "stopped");
  EXPECT_FALSE(fs::exists(state_ + "/run/scheduler.pid"));

  CommandResult start = Ck({"start", "--state-dir", state_, "scheduler"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_THAT(start.out, HasSubstr("ck start: scheduler running (pid "));
  pid_t scheduler2 = PidOf("scheduler");
  EXPECT_NE(scheduler2, scheduler);
  s = Status();
  EXPECT_EQ(s["scheduler"].state, "running");
  EXPECT_EQ(s["scheduler"].ready, "yes");
  EXPECT_EQ(s["scheduler"].restarts, "0");  // a requested start is not a crash restart

  std::vector<pid_t> all = Recorded();
  CommandResult down = Ck({"down", "--state-dir", state_});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  for (pid_t pid : seen_) EXPECT_FALSE(ProcessAlive(pid)) << pid;
  EXPECT_FALSE(fs::exists(state_ + "/run"));
  EXPECT_FALSE(fs::exists(state_ + "/ck.pid"));
  EXPECT_TRUE(fs::exists(state_ + "/ca.crt"));  // without --purge the PKI and store stay
}

TEST_F(CkUpTest, NoRestartLeavesAnExitedDaemonUntilStartAndPurgeDeletes) {
  CommandResult up = Ck(UpArgs(/*restart=*/false));
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  Recorded();
  pid_t scheduler = PidOf("scheduler");
  ASSERT_EQ(kill(scheduler, SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return Status()["scheduler"].state == "exited"; }, ms(20'000)));
  ASSERT_TRUE(WaitUntil(
      [&] { return ck::testing::ReadFile(state_ + "/logs/ck.log").find("not restarted (--no-restart)") != std::string::npos; },
      ms(20'000)));
  std::map<std::string, Row> s = Status();
  EXPECT_EQ(s["scheduler"].restarts, "0");
  EXPECT_EQ(s["scheduler"].pid, "-");
  EXPECT_EQ(s["apiserver"].state, "running");

  CommandResult start = Ck({"start", "--state-dir", state_, "scheduler"});
  ASSERT_EQ(start.exit_code, 0) << start.err;
  EXPECT_TRUE(IsOurProcess(PidOf("scheduler"), "ck-scheduler", state_));

  Recorded();
  CommandResult down = Ck({"down", "--state-dir", state_, "--purge"});
  ASSERT_EQ(down.exit_code, 0) << down.err;
  EXPECT_THAT(down.out, HasSubstr("folder deleted"));
  EXPECT_FALSE(fs::exists(state_));
  for (pid_t pid : seen_) EXPECT_FALSE(ProcessAlive(pid)) << pid;
}

// A daemon that cannot start: ck up names it, shows its log's last lines, stops the rest and
// exits 1.
TEST_F(CkUpTest, StartupFailureIsDiagnosedAndCleanedUp) {
  std::vector<std::string> args = UpArgs(true);
  // Hold the scheduler's port so that ck-scheduler fails to listen.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--scheduler-port") args[i + 1] = std::to_string(ntohs(a.sin_port));
  }
  CommandResult up = Ck(args);
  close(fd);
  EXPECT_EQ(up.exit_code, 1);
  EXPECT_THAT(up.err, HasSubstr("ck up: scheduler exited with code 1 before it was ready"));
  EXPECT_THAT(up.err, HasSubstr("---- last 20 lines of " + state_ + "/logs/scheduler.log ----"));
  EXPECT_THAT(up.err, HasSubstr("Address already in use"));
  EXPECT_THAT(up.out, ::testing::Not(HasSubstr("export KUBECONFIG")));
  // Everything that was started is gone, and the supervisor with it: their PIDs come from the
  // progress lines ("pid N") and the supervisor log's first line.
  std::set<pid_t> started;
  for (const std::string& text : {up.out, ck::testing::ReadFile(state_ + "/logs/ck.log")}) {
    for (const std::string& line : Lines(text)) {
      size_t at = line.find(" pid ");
      if (at != std::string::npos) started.insert(std::atoi(line.c_str() + at + 5));
    }
  }
  EXPECT_GE(started.size(), 2u);  // at least the apiserver and the supervisor
  for (pid_t pid : started) {
    seen_.insert(pid);
    EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pid); }, ms(10'000))) << pid;
  }
  EXPECT_FALSE(fs::exists(state_ + "/ck.pid"));
}

}  // namespace
}  // namespace ck::launcher
