// CgroupWriter on the machine's real cgroup hierarchy: limits land in the kernel's files, a process
// moves in, a container over its memory limit is reported OOMKilled. Skips (saying why) where the
// hierarchy cannot be written.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/base/strings.h"
#include "kubelet/cm/cgroup_writer.h"
#include "kubelet/runtime/process_runtime.h"
#include "tests/testutil/testutil.h"

namespace ck::kubelet::cm {
namespace {

using testutil::ReadFileOrDie;

std::string Trimmed(const std::string& path) { return std::string(TrimSpace(ReadFileOrDie(path))); }

class RealCgroupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    writer_ = std::make_unique<CgroupWriter>(CgroupWriter::Detect("/sys/fs/cgroup"));
    if (!writer_->usable()) GTEST_SKIP() << writer_->status().message();
    base_ = "ck-test-" + std::to_string(getpid());
  }
  void TearDown() override {
    if (writer_ && writer_->usable()) writer_->Remove(base_).IgnoreError();
  }
  std::unique_ptr<CgroupWriter> writer_;
  std::string base_;
};

TEST_F(RealCgroupTest, LimitsAndMembership) {
  LinuxResources r;
  r.cpu_shares = 512;
  r.cpu_quota_us = 50000;
  r.cpu_period_us = 100000;
  r.memory_limit_bytes = 32 << 20;
  const std::string path = base_ + "/c1";
  ASSERT_TRUE(writer_->Create(path, r).ok());
  if (writer_->version() == CgroupVersion::kV1) {
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/memory/" + path + "/memory.limit_in_bytes"), "33554432");
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/cpu/" + path + "/cpu.shares"), "512");
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/cpu/" + path + "/cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/cpu/" + path + "/cpu.cfs_period_us"), "100000");
  } else {
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/" + path + "/memory.max"), "33554432");
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/" + path + "/cpu.weight"), "20");
    EXPECT_EQ(Trimmed("/sys/fs/cgroup/" + path + "/cpu.max"), "50000 100000");
  }

  testutil::Subprocess child({"/bin/sleep", "30"});
  ASSERT_TRUE(writer_->AddProcess(path, child.pid()).ok());
  for (const auto& file : writer_->ProcsFiles(path)) {
    EXPECT_EQ(Trimmed(file), std::to_string(child.pid())) << file;
  }
  EXPECT_FALSE(writer_->Remove(path).ok()) << "a cgroup with a process in it cannot go";
  child.Signal(SIGKILL);
  ASSERT_TRUE(child.Wait(std::chrono::seconds(10)).has_value());
  ASSERT_TRUE(writer_->Remove(base_).ok());
  for (const auto& dir : writer_->Dirs(base_)) EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

TEST_F(RealCgroupTest, ContainerOverItsMemoryLimitIsOomKilled) {
  testutil::TempDir root;
  ProcessRuntime runtime(root.path(), testutil::BinDir() + "/ck-shim", RealClock::Get(), RealRandom::Get(), *writer_);
  PodSandboxConfig pod;
  pod.uid = "oom";
  pod.name = "hog";
  pod.ns = "default";
  pod.cgroup_parent = base_ + "/podoom";
  ASSERT_TRUE(runtime.RunPodSandbox(pod).ok());
  ContainerConfig c;
  c.name = "hog";
  c.argv = {"tail", "/dev/zero"};  // buffers forever: /dev/zero has no newline
  c.env = {{"PATH", "/usr/bin:/bin"}};
  c.resources.memory_limit_bytes = 16 << 20;
  auto id = runtime.StartContainer(pod, c);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  ContainerStatus status;
  bool exited = testutil::WaitUntil(
      [&] {
        auto list = runtime.ListContainers();
        if (!list.ok() || list->empty()) return false;
        status = (*list)[0];
        return status.state == ContainerState::kExited;
      },
      std::chrono::seconds(30));
  if (!exited) runtime.StopContainer(*id, std::chrono::seconds(0)).IgnoreError();
  ASSERT_TRUE(exited);
  EXPECT_EQ(status.exit_code, 137);
  EXPECT_EQ(status.reason, "OOMKilled");
  ASSERT_TRUE(runtime.RemovePodSandbox(pod.uid).ok());
}

}  // namespace
}  // namespace ck::kubelet::cm
