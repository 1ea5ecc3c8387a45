// RunCk in process: command dispatch, help, and the one-line usage errors of `ck` and `ck pki`.

#include "compose/launcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/pki/testing/command.h"

namespace ck::launcher {
namespace {

using ck::testing::Lines;
using ck::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

struct CkRun {
  int code;
  std::string out, err;
};

CkRun Ck(std::vector<std::string> args) {
  args.insert(args.begin(), "ck");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCk(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

// A usage error: exit 2, nothing on stdout, exactly one line on stderr.
void ExpectUsageError(const CkRun& r, const std::string& line) {
  EXPECT_EQ(r.code, kExitUsage);
  EXPECT_EQ(r.out, "");
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(Lines(r.err)[0], line);
}

TEST(RunCk, NoCommand) {
  ExpectUsageError(Ck({}), "ck: a command is required (pki, up, down, status, stop, start); see ck --help");
}

TEST(RunCk, UnknownCommand) {
  ExpectUsageError(Ck({"banana"}), "ck: unknown command \"banana\" (commands: pki, up, down, status, stop, start)");
  ExpectUsageError(Ck({"banana", "--dir", "x"}), "ck: unknown command \"banana\" (commands: pki, up, down, status, stop, start)");
}

TEST(RunCk, UnknownTopLevelFlag) {
  CkRun r = Ck({"--bogus"});
  EXPECT_EQ(r.code, kExitUsage);
  ASSERT_EQ(Lines(r.err).size(), 1u);
  EXPECT_THAT(r.err, StartsWith("ck: "));
  EXPECT_THAT(r.err, HasSubstr("--bogus"));
}

TEST(RunCk, HelpListsCommands) {
  CkRun r = Ck({"--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const char* command : {"pki", "up", "down", "status", "stop", "start"}) {
    EXPECT_THAT(r.out, HasSubstr(command));
  }
  EXPECT_EQ(r.err, "");
}

TEST(RunCk, PkiHelpListsFlags) {
  CkRun r = Ck({"pki", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const char* flag : {"--dir", "--nodes", "--service-cidr", "--server", "10.96.0.0/12"}) {
    EXPECT_THAT(r.out, HasSubstr(flag));
  }
}

TEST(PkiCommand, UsageErrors) {
  ExpectUsageError(Ck({"pki"}), "ck pki: --dir is required");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--nodes", "0"}),
                   "ck pki: --nodes: must be between 1 and 250, got 0");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--nodes", "99999999999999999999"}),
                   "ck pki: --nodes: \"99999999999999999999\" is not a whole number");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--nodes", "4294967297"}),
                   "ck pki: --nodes: must be between 1 and 250, got 4294967297");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--nodes", "two"}),
                   "ck pki: --nodes: \"two\" is not a whole number");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--service-cidr", "banana"}),
                   "ck pki: --service-cidr: \"banana\" is not an IPv4 CIDR such as 10.96.0.0/12");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--server", "http://x"}),
                   "ck pki: --server: must be an https:// URL such as https://127.0.0.1:6443, got "
                   "\"http://x\"");
  ExpectUsageError(Ck({"pki", "--dir", "/nonexistent/x", "--bogus"}),
                   "ck pki: The following argument was not expected: --bogus");
  ExpectUsageError(Ck({"pki", "--dir"}), "ck pki: --dir: 1 required DIR missing");
  EXPECT_FALSE(std::filesystem::exists("/nonexistent/x"));
}

TEST(PkiCommand, WritesThenKeeps) {
  TempDir dir;
  CkRun first = Ck({"pki", "--dir", dir.File("pki"), "--nodes", "2"});
  ASSERT_EQ(first.code, kExitOk) << first.err;
  EXPECT_EQ(first.err, "");
  EXPECT_THAT(first.out, HasSubstr("  written  ca.crt\n"));
  EXPECT_THAT(first.out, HasSubstr(": 18 written, 0 kept"));
  EXPECT_TRUE(std::filesystem::exists(dir.File("pki/kubelet-node-2.kubeconfig")));

  CkRun second = Ck({"pki", "--dir", dir.File("pki"), "--nodes", "2"});
  ASSERT_EQ(second.code, kExitOk) << second.err;
  EXPECT_THAT(second.out, HasSubstr("  kept     ca.crt\n"));
  EXPECT_THAT(second.out, HasSubstr(": 0 written, 18 kept"));
}

TEST(PkiCommand, RefusedCaIsAFailureWithOneLine) {
  TempDir dir;
  ASSERT_EQ(Ck({"pki", "--dir", dir.path()}).code, kExitOk);
  std::filesystem::remove(dir.File("ca.key"));
  CkRun r = Ck({"pki", "--dir", dir.path()});
  EXPECT_EQ(r.code, kExitFailed);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, StartsWith("ck pki: ca.crt exists without ca.key"));
}

TEST(UpCommand, HelpListsFlags) {
  CkRun r = Ck({"up", "--help"});
  EXPECT_EQ(r.code, kExitOk);
  for (const char* flag : {"--nodes", "--state-dir", "--profile", "--runtime", "--no-restart", "--detach",
                           "--apiserver-port", "--kubelet-port", "control plane only", "CK_BIN_DIR"}) {
    EXPECT_THAT(r.out, HasSubstr(flag));
  }
}

// Every bad value is refused before anything is written or started.
TEST(UpCommand, UsageErrors) {
  TempDir dir;
  std::string state = dir.File("state");
  ExpectUsageError(Ck({"up"}), "ck up: --state-dir is required");
  ExpectUsageError(Ck({"up", "--state-dir", state, "--nodes", "300"}), "ck up: --nodes: must be between 0 and 250, got 300");
  ExpectUsageError(Ck({"up", "--state-dir", state, "--profile", "fast"}),
                   "ck up: --profile: must be default or teaching, got \"fast\"");
  ExpectUsageError(Ck({"up", "--state-dir", state, "--runtime", "docker"}),
                   "ck up: --runtime: must be process or fake, got \"docker\"");
  ExpectUsageError(Ck({"up", "--state-dir", state, "--cluster-cidr", "10.244.0.0/16"}),
                   "ck up: --cluster-cidr: 10.244.0.0/16 is not a loopback range (process mode shares the host's "
                   "network, so it needs a range inside 127.0.0.0/8)");
  ExpectUsageError(Ck({"up", "--state-dir", state, "--service-cidr", "10.96.0.0/12"}),
                   "ck up: --service-cidr: 10.96.0.0/12 is not a loopback range (process mode shares the host's "
                   "network, so it needs a range inside 127.0.0.0/8)");
  ExpectUsageError(Ck({"up", "--state-dir", state, "--apiserver-port", "0"}),
                   "ck up: --apiserver-port: must be between 1 and 65535, got 0");
  CkRun r = Ck({"up", "--state-dir", state, "--nodes", "two"});
  EXPECT_EQ(r.code, kExitUsage);
  ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_THAT(r.err, StartsWith("ck up: "));
  EXPECT_THAT(r.err, HasSubstr("--nodes = two"));
  ExpectUsageError(Ck({"up", "--state-dir", state, "--bogus"}), "ck up: The following argument was not expected: --bogus");
  EXPECT_FALSE(std::filesystem::exists(state));
}

TEST(ClusterCommands, UsageErrors) {
  TempDir dir;
  ExpectUsageError(Ck({"down"}), "ck down: --state-dir is required");
  ExpectUsageError(Ck({"status"}), "ck status: --state-dir is required");
  ExpectUsageError(Ck({"stop", "scheduler"}), "ck stop: --state-dir is required");
  ExpectUsageError(Ck({"stop", "--state-dir", dir.path()}), "ck stop: component is required");
  ExpectUsageError(Ck({"start", "--state-dir", dir.path()}), "ck start: component is required");
}

// A folder without a cluster: one line, exit 1, and nothing is created.
TEST(ClusterCommands, NoClusterInTheFolder) {
  TempDir dir;
  for (const char* command : {"status", "stop", "start"}) {
    std::vector<std::string> args = {command, "--state-dir", dir.path()};
    if (std::string(command) != "status") args.push_back("scheduler");
    CkRun r = Ck(args);
    EXPECT_EQ(r.code, kExitFailed) << command;
    ASSERT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_THAT(r.err, StartsWith(std::string("ck ") + command + ": no cluster recorded in " + dir.path()));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.File("run")));
  CkRun down = Ck({"down", "--state-dir", dir.File("missing")});
  EXPECT_EQ(down.code, kExitFailed);
  EXPECT_EQ(down.err, "ck down: " + dir.File("missing") + " is not a folder\n");
}

TEST(ClusterCommands, StopAndStartNameAKnownComponent) {
  TempDir dir;
  std::filesystem::create_directories(dir.File("run"));
  {
    std::ofstream(dir.File("run/components")) << "apiserver\ncontroller-manager\nscheduler\nkubelet-node-1\n";
  }
  ExpectUsageError(Ck({"stop", "--state-dir", dir.path(), "etcd"}),
                   "ck stop: unknown component \"etcd\" (components: apiserver, controller-manager, scheduler, "
                   "kubelet-node-1)");
  ExpectUsageError(Ck({"start", "--state-dir", dir.path(), "kubelet-node-2"}),
                   "ck start: unknown component \"kubelet-node-2\" (components: apiserver, controller-manager, "
                   "scheduler, kubelet-node-1)");
  // No supervisor runs for the folder: start cannot ask one.
  CkRun r = Ck({"start", "--state-dir", dir.path(), "scheduler"});
  EXPECT_EQ(r.code, kExitFailed);
  EXPECT_THAT(r.err, HasSubstr("no supervisor is running for " + dir.path()));
}

}  // namespace
}  // namespace ck::launcher
