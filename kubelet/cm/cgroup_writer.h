// CgroupWriter: the kubelet's cgroup manager for process mode (upstream kubelet/cm's role, cgroupfs
// driver only). It detects cgroup v2 (a unified hierarchy: <root>/cgroup.controllers) or v1 (the
// memory and cpu controllers mounted as <root>/memory and <root>/cpu), creates pod cgroups
// ("kubepods/burstable/pod<uid>") and container cgroups below them, writes cpu and memory limits,
// moves processes in and removes the cgroups on teardown. The root is injectable so tests write
// into a plain directory tree. When neither version can be used, status() says why and every
// other call is a no-op that returns that status (the kubelet turns it into a node event).
// Threading: immutable after construction; every method is safe from any thread. Files are
// written with open/write only, so ProcsFiles() can be used between fork and exec.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet::cm {

enum class CgroupVersion { kNone, kV1, kV2 };

// "v1", "v2" or "none" (spec.json and logs); ParseCgroupVersion reads them back.
const char* CgroupVersionName(CgroupVersion v);
CgroupVersion ParseCgroupVersion(const std::string& s);

// The pod's cgroup below the root, as upstream's cgroupfs driver names it: Guaranteed pods sit
// directly under kubepods, the others under kubepods/burstable or kubepods/besteffort.
// `qos_class` is the pod's status.qosClass ("Guaranteed", "Burstable", "BestEffort").
std::string PodCgroupPath(const std::string& qos_class, const std::string& pod_uid);

// cpu.weight (v2) from cpu.shares (v1), as upstream: 1 + ((shares - 2) * 9999) / 262142.
int64_t CpuSharesToWeight(int64_t shares);

class CgroupWriter {
 public:
  // Detects the version under `root` and checks that it can create "kubepods" there.
  static CgroupWriter Detect(const std::string& root = "/sys/fs/cgroup");
  // A writer for a version already detected (ck-shim, from spec.json); no checks.
  static CgroupWriter ForVersion(CgroupVersion version, const std::string& root);
  // A writer that never touches cgroups (status() is Unavailable with `why`).
  static CgroupWriter Disabled(const std::string& why);

  CgroupVersion version() const { return version_; }
  const std::string& root() const { return root_; }
  bool usable() const { return status_.ok(); }
  // OK, or Unavailable with a sentence saying which version was found and what failed.
  const Status& status() const { return status_; }

  // Creates `path` (relative, e.g. "kubepods/burstable/pod<uid>/<container-id>") with its
  // parents in every controller used, and writes the limits that are set (0 = leave default).
  // Idempotent. v2 also enables the cpu and memory controllers in each parent's subtree_control.
  Status Create(const std::string& path, const LinuxResources& resources) const;
  // Removes `path` and every cgroup below it (deepest first). A missing path is success. On a
  // real cgroup filesystem only rmdir is used; a plain directory tree (tests) is removed with
  // the files written into it.
  Status Remove(const std::string& path) const;
  // The cgroup.procs files to write a pid into to move a process into `path` (one per
  // controller hierarchy in v1, one in v2).
  std::vector<std::string> ProcsFiles(const std::string& path) const;
  // Writes `pid` into every ProcsFiles(path).
  Status AddProcess(const std::string& path, int64_t pid) const;
  // How many times the kernel's OOM killer killed a process in `path` (v1 memory.oom_control,
  // v2 memory.events "oom_kill"); 0 when unknown.
  int64_t OomKillCount(const std::string& path) const;

  // The directories `path` lives in (one per v1 controller, one for v2); for tests and logs.
  std::vector<std::string> Dirs(const std::string& path) const;

 private:
  CgroupWriter(CgroupVersion version, std::string root, Status status)
      : version_(version), root_(std::move(root)), status_(std::move(status)) {}
  std::string MemoryDir(const std::string& path) const;

  CgroupVersion version_;
  std::string root_;
  Status status_;
};

}  // namespace ck::kubelet::cm
