// The spec/state files round-trip, and the CRI log writer splits output as containerd does.
#include "kubelet/shim/shim_state.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/base/strings.h"
#include "tests/testutil/testutil.h"

namespace ck::kubelet::shim {
namespace {

using testutil::ReadFileOrDie;
using testutil::TempDir;

WallTime At(int64_t nanos) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(nanos)));
}

TEST(ShimStateTest, SpecRoundTrip) {
  ContainerSpec spec;
  spec.id = std::string(64, 'a');
  spec.pod_uid = "u-1";
  spec.pod_name = "web-1";
  spec.pod_namespace = "default";
  spec.pod_ip = "127.244.1.5";
  spec.name = "app";
  spec.image = "ck-echo:1";
  spec.argv = {"/bin/sh", "-c", "echo \"hi\"; exit 3"};
  spec.env = {{"B", "2"}, {"A", "1"}, {"EMPTY", ""}};  // order kept
  spec.working_dir = "/tmp";
  spec.mounts = {{"/var/x", "/data", true}, {"/var/y", "/cache", false}};
  spec.resources.cpu_shares = 102;
  spec.resources.cpu_quota_us = 20000;
  spec.resources.memory_limit_bytes = 1 << 30;
  spec.attempt = 3;
  spec.init = true;
  spec.log_path = "/logs/app/3.log";
  spec.termination_message_path = "/dev/termination-log";
  spec.labels = {{kLabelPodUid, "u-1"}};
  spec.annotations = {{kAnnotationContainerHash, "abc"}};
  spec.created_at = At(1767225600123456789);
  spec.cgroup_version = "v1";
  spec.cgroup_root = "/sys/fs/cgroup";
  spec.cgroup_path = "kubepods/burstable/podu-1/aaaa";

  auto back = SpecFromJson(SpecToJson(spec));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id, spec.id);
  EXPECT_EQ(back->pod_ip, spec.pod_ip);
  EXPECT_EQ(back->argv, spec.argv);
  EXPECT_EQ(back->env, spec.env);
  ASSERT_EQ(back->mounts.size(), 2u);
  EXPECT_EQ(back->mounts[0].host_path, "/var/x");
  EXPECT_EQ(back->mounts[0].container_path, "/data");
  EXPECT_TRUE(back->mounts[0].read_only);
  EXPECT_FALSE(back->mounts[1].read_only);
  EXPECT_EQ(back->resources.cpu_shares, 102);
  EXPECT_EQ(back->resources.cpu_quota_us, 20000);
  EXPECT_EQ(back->resources.cpu_period_us, 100000);
  EXPECT_EQ(back->resources.memory_limit_bytes, 1 << 30);
  EXPECT_EQ(back->attempt, 3);
  EXPECT_TRUE(back->init);
  EXPECT_EQ(back->labels, spec.labels);
  EXPECT_EQ(back->annotations, spec.annotations);
  EXPECT_EQ(back->created_at, spec.created_at);
  EXPECT_EQ(back->cgroup_path, spec.cgroup_path);
  EXPECT_EQ(back->termination_message_path, spec.termination_message_path);
}

TEST(ShimStateTest, StateRoundTripThroughFiles) {
  TempDir dir;
  ShimState st;
  st.phase = Phase::kExited;
  st.shim_pid = 10;
  st.shim_start_ticks = 99;
  st.pid = 11;
  st.pid_start_ticks = 100;
  st.started_at = At(1000);
  st.finished_at = At(2000);
  st.exit_code = 143;
  st.reason = "Error";
  st.message = "bye\n";
  st.mounts_skipped = "not root";
  st.created_mountpoints = {"/a", "/a/b"};
  ASSERT_TRUE(WriteState(dir.path(), st).ok());
  auto back = ReadState(dir.path());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->phase, Phase::kExited);
  EXPECT_EQ(back->shim_pid, 10);
  EXPECT_EQ(back->pid_start_ticks, 100u);
  EXPECT_EQ(back->started_at, At(1000));
  EXPECT_EQ(back->finished_at, At(2000));
  EXPECT_EQ(back->exit_code, 143);
  EXPECT_EQ(back->reason, "Error");
  EXPECT_EQ(back->message, "bye\n");
  EXPECT_EQ(back->mounts_skipped, "not root");
  EXPECT_EQ(back->created_mountpoints, st.created_mountpoints);
  // No temp file is left behind.
  EXPECT_EQ(access((dir.path() + "/state.json.tmp." + std::to_string(getpid())).c_str(), F_OK), -1);
}

TEST(ShimStateTest, MissingAndCorruptFiles) {
  TempDir dir;
  EXPECT_EQ(ReadState(dir.path()).status().code(), Code::kNotFound);
  testutil::WriteFileOrDie(dir.File("state.json"), "{not json");
  EXPECT_EQ(ReadState(dir.path()).status().code(), Code::kInvalid);
  testutil::WriteFileOrDie(dir.File("spec.json"), "{\"pod\": {}}");  // no id
  EXPECT_EQ(ReadSpec(dir.path()).status().code(), Code::kInvalid);
  testutil::WriteFileOrDie(dir.File("spec.json"), "{\"id\": 5, \"pod\": {}}");  // wrong type
  EXPECT_EQ(ReadSpec(dir.path()).status().code(), Code::kInvalid);
}

TEST(ShimStateTest, Rfc3339NanoDropsTrailingZeros) {
  EXPECT_EQ(FormatRfc3339Nano(At(1767225600000000000)), "2026-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(At(1767225600500000000)), "2026-01-01T00:00:00.5Z");
  EXPECT_EQ(FormatRfc3339Nano(At(1767225600123456789)), "2026-01-01T00:00:00.123456789Z");
  EXPECT_EQ(FormatRfc3339Nano(At(1767225600000001000)), "2026-01-01T00:00:00.000001Z");
}

// Writes through a CriLogWriter into a file and returns the parsed lines.
class CriLogWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = open(dir_.File("x.log").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override { close(fd_); }
  std::vector<CriLogLine> Lines() {
    std::vector<CriLogLine> out;
    std::string text = ReadFileOrDie(dir_.File("x.log"));
    EXPECT_TRUE(text.empty() || text.back() == '\n');
    for (std::string_view l : Split(text, '\n', true)) {
      auto parsed = ParseCriLogLine(l);
      EXPECT_TRUE(parsed.has_value()) << l;
      if (parsed) out.push_back(*parsed);
    }
    return out;
  }
  TempDir dir_;
  int fd_ = -1;
};

TEST_F(CriLogWriterTest, FullLinesAcrossChunks) {
  CriLogWriter w(fd_, [] { return At(1767225600250000000); });
  w.Write(false, "hel");
  w.Write(false, "lo\nwor");
  w.Write(true, "oops\n");
  w.Write(false, "ld\n\n");
  w.Finish(false);
  w.Finish(true);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].time, "2026-01-01T00:00:00.25Z");
  EXPECT_EQ(lines[0].stream, "stdout");
  EXPECT_FALSE(lines[0].partial);
  EXPECT_EQ(lines[0].text, "hello");
  EXPECT_EQ(lines[1].stream, "stderr");
  EXPECT_EQ(lines[1].text, "oops");
  EXPECT_EQ(lines[2].text, "world");
  EXPECT_EQ(lines[3].text, "");  // an empty line is a full line too
  EXPECT_FALSE(lines[3].partial);
  EXPECT_EQ(ReadFileOrDie(dir_.File("x.log")).substr(0, 42), "2026-01-01T00:00:00.25Z stdout F hello\n202");
}

TEST_F(CriLogWriterTest, LongLinesBecomePartials) {
  CriLogWriter w(fd_, [] { return At(0); });
  std::string big(kMaxLogLineBytes * 2 + 10, 'x');
  w.Write(false, big + "\n");
  w.Write(false, "tail-without-newline");
  w.Finish(false);
  auto lines = Lines();
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(lines[0].partial);
  EXPECT_EQ(lines[0].text.size(), kMaxLogLineBytes);
  EXPECT_TRUE(lines[1].partial);
  EXPECT_EQ(lines[1].text.size(), kMaxLogLineBytes);
  EXPECT_FALSE(lines[2].partial);
  EXPECT_EQ(lines[2].text, std::string(10, 'x'));
  // A last chunk with no newline is written as a partial line (it has no end yet).
  EXPECT_TRUE(lines[3].partial);
  EXPECT_EQ(lines[3].text, "tail-without-newline");
}

TEST(ShimStateTest, ParseCriLogLineRejectsGarbage) {
  EXPECT_FALSE(ParseCriLogLine("hello").has_value());
  EXPECT_FALSE(ParseCriLogLine("t stdin F x").has_value());
  EXPECT_FALSE(ParseCriLogLine("t stdout X x").has_value());
  auto ok = ParseCriLogLine("t stderr P a b c");
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->text, "a b c");
  EXPECT_TRUE(ok->partial);
}

TEST(ShimStateTest, ProcessChecksDefeatPidReuse) {
  auto ticks = ProcessStartTicks(getpid());
  ASSERT_TRUE(ticks.has_value());
  EXPECT_TRUE(ProcessAlive(getpid(), *ticks));
  EXPECT_TRUE(ProcessAlive(getpid(), 0));
  EXPECT_FALSE(ProcessAlive(getpid(), *ticks + 1)) << "same pid, other start time: another process";
  // A zombie is not alive.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  EXPECT_TRUE(testutil::WaitUntil([&] { return !ProcessStartTicks(child).has_value(); }, std::chrono::seconds(10)));
  EXPECT_FALSE(ProcessAlive(child, 0));
  waitpid(child, nullptr, 0);
}

TEST(ShimStateTest, ResolveExecutable) {
  auto sh = ResolveExecutable("sh", {}, "/");
  ASSERT_TRUE(sh.ok()) << sh.status().ToString();
  EXPECT_EQ(sh->back(), 'h');
  EXPECT_EQ((*sh)[0], '/');
  auto missing = ResolveExecutable("no-such-binary-xyz", {{"PATH", "/bin:/usr/bin"}}, "/");
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "exec: \"no-such-binary-xyz\": executable file not found in $PATH");
  EXPECT_EQ(ResolveExecutable("/no/such/file", {}, "/").status().code(), Code::kNotFound);
  TempDir dir;
  testutil::WriteFileOrDie(dir.File("plain"), "not a program");
  EXPECT_EQ(ResolveExecutable(dir.File("plain"), {}, "/").status().code(), Code::kInvalid);
  // PATH comes from the container's env, not the caller's.
  EXPECT_EQ(ResolveExecutable("sh", {{"PATH", "/nonexistent"}}, "/").status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace ck::kubelet::shim
