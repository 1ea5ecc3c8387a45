// CgroupWriter against plain directory trees laid out like cgroup v1 and v2 mounts.
#include "kubelet/cm/cgroup_writer.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/testutil/testutil.h"

namespace ck::kubelet::cm {
namespace {

using testutil::ReadFileOrDie;
using testutil::TempDir;
using testutil::WriteFileOrDie;

bool Exists(const std::string& p) { return std::filesystem::exists(p); }

void MakeV1Tree(const TempDir& t) {
  std::filesystem::create_directories(t.path() + "/memory");
  std::filesystem::create_directories(t.path() + "/cpu,cpuacct");
  std::filesystem::create_directory_symlink("cpu,cpuacct", t.path() + "/cpu");
}

void MakeV2Tree(const TempDir& t, const std::string& controllers = "cpuset cpu io memory pids") {
  WriteFileOrDie(t.File("cgroup.controllers"), controllers + "\n");
}

TEST(CgroupWriterTest, DetectsV1AndWritesLimits) {
  TempDir t;
  MakeV1Tree(t);
  auto w = CgroupWriter::Detect(t.path());
  ASSERT_TRUE(w.usable()) << w.status().ToString();
  EXPECT_EQ(w.version(), CgroupVersion::kV1);

  LinuxResources r;
  r.cpu_shares = 512;
  r.cpu_quota_us = 50000;
  r.cpu_period_us = 100000;
  r.memory_limit_bytes = 64 << 20;
  const std::string pod = PodCgroupPath("Burstable", "u1");
  ASSERT_TRUE(w.Create(pod, {}).ok());
  ASSERT_TRUE(w.Create(pod + "/c1", r).ok());

  EXPECT_EQ(ReadFileOrDie(t.path() + "/memory/kubepods/burstable/podu1/c1/memory.limit_in_bytes"), "67108864");
  EXPECT_EQ(ReadFileOrDie(t.path() + "/cpu/kubepods/burstable/podu1/c1/cpu.shares"), "512");
  EXPECT_EQ(ReadFileOrDie(t.path() + "/cpu/kubepods/burstable/podu1/c1/cpu.cfs_quota_us"), "50000");
  EXPECT_EQ(ReadFileOrDie(t.path() + "/cpu/kubepods/burstable/podu1/c1/cpu.cfs_period_us"), "100000");
  // The pod cgroup gets no limits of its own here.
  EXPECT_FALSE(Exists(t.path() + "/memory/kubepods/burstable/podu1/memory.limit_in_bytes"));

  ASSERT_TRUE(w.AddProcess(pod + "/c1", 4242).ok());
  EXPECT_EQ(ReadFileOrDie(t.path() + "/memory/kubepods/burstable/podu1/c1/cgroup.procs"), "4242");
  EXPECT_EQ(ReadFileOrDie(t.path() + "/cpu/kubepods/burstable/podu1/c1/cgroup.procs"), "4242");

  WriteFileOrDie(t.path() + "/memory/kubepods/burstable/podu1/c1/memory.oom_control",
                 "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
  EXPECT_EQ(w.OomKillCount(pod + "/c1"), 2);

  ASSERT_TRUE(w.Remove(pod).ok());
  EXPECT_FALSE(Exists(t.path() + "/memory/kubepods/burstable/podu1"));
  EXPECT_FALSE(Exists(t.path() + "/cpu,cpuacct/kubepods/burstable/podu1"));
  EXPECT_TRUE(Exists(t.path() + "/memory/kubepods/burstable"));
  EXPECT_TRUE(w.Remove(pod).ok()) << "removing again is success";
}

TEST(CgroupWriterTest, UnsetLimitsAreNotWritten) {
  TempDir t;
  MakeV1Tree(t);
  auto w = CgroupWriter::Detect(t.path());
  ASSERT_TRUE(w.Create("kubepods/besteffort/podu2/c", LinuxResources{}).ok());
  EXPECT_TRUE(Exists(t.path() + "/memory/kubepods/besteffort/podu2/c"));
  EXPECT_FALSE(Exists(t.path() + "/memory/kubepods/besteffort/podu2/c/memory.limit_in_bytes"));
  EXPECT_FALSE(Exists(t.path() + "/cpu/kubepods/besteffort/podu2/c/cpu.cfs_quota_us"));
}

TEST(CgroupWriterTest, DetectsV2AndWritesLimits) {
  TempDir t;
  MakeV2Tree(t);
  auto w = CgroupWriter::Detect(t.path());
  ASSERT_TRUE(w.usable()) << w.status().ToString();
  EXPECT_EQ(w.version(), CgroupVersion::kV2);

  LinuxResources r;
  r.cpu_shares = 1024;
  r.cpu_quota_us = 25000;
  r.cpu_period_us = 100000;
  r.memory_limit_bytes = 128 << 20;
  const std::string path = PodCgroupPath("Guaranteed", "u3") + "/c1";
  EXPECT_EQ(path, "kubepods/podu3/c1");
  ASSERT_TRUE(w.Create(path, r).ok());
  const std::string dir = t.path() + "/kubepods/podu3/c1";
  EXPECT_EQ(ReadFileOrDie(dir + "/memory.max"), "134217728");
  EXPECT_EQ(ReadFileOrDie(dir + "/cpu.weight"), "39");  // 1 + (1022 * 9999) / 262142
  EXPECT_EQ(ReadFileOrDie(dir + "/cpu.max"), "25000 100000");
  // Controllers are enabled for the children in every ancestor, not in the leaf.
  EXPECT_EQ(ReadFileOrDie(t.File("cgroup.subtree_control")), "+cpu +memory");
  EXPECT_EQ(ReadFileOrDie(t.path() + "/kubepods/podu3/cgroup.subtree_control"), "+cpu +memory");
  EXPECT_FALSE(Exists(dir + "/cgroup.subtree_control"));
  EXPECT_EQ(w.ProcsFiles(path), std::vector<std::string>{dir + "/cgroup.procs"});

  WriteFileOrDie(dir + "/memory.events", "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\n");
  EXPECT_EQ(w.OomKillCount(path), 1);

  ASSERT_TRUE(w.Remove("kubepods/podu3").ok());
  EXPECT_FALSE(Exists(t.path() + "/kubepods/podu3"));
}

TEST(CgroupWriterTest, CpuWeightConversionMatchesUpstream) {
  EXPECT_EQ(CpuSharesToWeight(2), 1);
  EXPECT_EQ(CpuSharesToWeight(1024), 39);
  EXPECT_EQ(CpuSharesToWeight(262144), 10000);
  EXPECT_EQ(CpuSharesToWeight(102), 4);  // 100m
}

TEST(CgroupWriterTest, PodPathsFollowQosClass) {
  EXPECT_EQ(PodCgroupPath("Guaranteed", "a"), "kubepods/poda");
  EXPECT_EQ(PodCgroupPath("Burstable", "a"), "kubepods/burstable/poda");
  EXPECT_EQ(PodCgroupPath("BestEffort", "a"), "kubepods/besteffort/poda");
}

TEST(CgroupWriterTest, NoHierarchyGivesAClearStatus) {
  TempDir t;
  auto w = CgroupWriter::Detect(t.path());
  EXPECT_FALSE(w.usable());
  EXPECT_EQ(w.version(), CgroupVersion::kNone);
  EXPECT_EQ(w.status().code(), Code::kUnavailable);
  EXPECT_NE(w.status().message().find("no usable cgroup hierarchy"), std::string::npos) << w.status().message();
  EXPECT_FALSE(w.Create("kubepods/x", {}).ok());
  EXPECT_TRUE(w.ProcsFiles("kubepods/x").empty());
}

TEST(CgroupWriterTest, V2WithoutControllersIsUnusable) {
  TempDir t;
  MakeV2Tree(t, "pids io");
  auto w = CgroupWriter::Detect(t.path());
  EXPECT_FALSE(w.usable());
  EXPECT_EQ(w.version(), CgroupVersion::kV2);
  EXPECT_NE(w.status().message().find("cpu and memory"), std::string::npos) << w.status().message();
}

TEST(CgroupWriterTest, UnwritableHierarchyIsUnusable) {
  TempDir t;
  MakeV1Tree(t);
  chmod(t.path().c_str(), 0755);
  // Detect as an unprivileged user in a child (root may write anywhere): exit 0 when it reports
  // the hierarchy unwritable with a message naming the failure.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (geteuid() == 0 && setuid(65534) != 0) _exit(3);
    chmod((t.path() + "/memory").c_str(), 0555);  // effective when not root from the start
    auto w = CgroupWriter::Detect(t.path());
    bool ok = !w.usable() && w.version() == CgroupVersion::kV1 &&
              w.status().message().find("not writable") != std::string::npos &&
              w.status().message().find("Permission denied") != std::string::npos;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  chmod((t.path() + "/memory").c_str(), 0755);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace ck::kubelet::cm
