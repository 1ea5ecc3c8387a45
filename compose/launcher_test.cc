// RunCk in process: command dispatch, help, and the one-line usage errors of `ck` and `ck pki`.

#include "compose/launcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
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
  ExpectUsageError(Ck({}), "ck: a command is required (pki); see ck --help");
}

TEST(RunCk, UnknownCommand) {
  ExpectUsageError(Ck({"banana"}), "ck: unknown command \"banana\" (commands: pki)");
  ExpectUsageError(Ck({"banana", "--dir", "x"}), "ck: unknown command \"banana\" (commands: pki)");
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
  EXPECT_THAT(r.out, HasSubstr("pki"));
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

}  // namespace
}  // namespace ck::launcher
