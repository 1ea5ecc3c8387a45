#include "kubelet/cm/cgroup_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "common/base/strings.h"

namespace ck::kubelet::cm {
namespace {

constexpr long kCgroupSuperMagic = 0x27e0eb;
constexpr long kCgroup2SuperMagic = 0x63677270;

std::string ErrnoText(int err) { return std::strerror(err); }

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

bool IsDir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status WriteFile(const std::string& path, std::string_view content) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("opening " + path + ": " + ErrnoText(errno));
  ssize_t n = write(fd, content.data(), content.size());
  int err = errno;
  close(fd);
  if (n != static_cast<ssize_t>(content.size())) {
    return Unavailable("writing \"" + std::string(content) + "\" to " + path + ": " +
                       (n < 0 ? ErrnoText(err) : std::string("short write")));
  }
  return Status::Ok();
}

std::string ReadSmallFile(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 && out.size() < 65536) out.append(buf, n);
  close(fd);
  return out;
}

// mkdir -p below `base` (which must exist): creates each component of `rel`.
Status MakeDirs(const std::string& base, const std::string& rel) {
  std::string dir = base;
  for (std::string_view part : Split(rel, '/', /*skip_empty=*/true)) {
    dir += "/";
    dir += part;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Unavailable("creating cgroup " + dir + ": " + ErrnoText(errno));
    }
  }
  return Status::Ok();
}

bool OnCgroupFs(const std::string& dir) {
  struct statfs fs;
  if (statfs(dir.c_str(), &fs) != 0) return false;
  return static_cast<long>(fs.f_type) == kCgroupSuperMagic ||
         static_cast<long>(fs.f_type) == kCgroup2SuperMagic;
}

// rmdir `dir` after its child cgroups, deepest first (a cgroup's control files go with it).
Status RemoveCgroupDir(const std::string& dir) {
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return errno == ENOENT ? Status::Ok() : Unavailable("opening " + dir + ": " + ErrnoText(errno));
  std::vector<std::string> children;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (e->d_type == DT_DIR) children.push_back(dir + "/" + name);
  }
  closedir(d);
  for (const auto& child : children) CK_RETURN_IF_ERROR(RemoveCgroupDir(child));
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return Unavailable("removing cgroup " + dir + ": " + ErrnoText(errno) +
                       (errno == EBUSY ? " (processes are still in it)" : ""));
  }
  return Status::Ok();
}

int64_t ParseCounter(const std::string& text, std::string_view key) {
  for (std::string_view line : Split(text, '\n', true)) {
    auto fields = Split(line, ' ', true);
    if (fields.size() == 2 && fields[0] == key) return ParseInt(fields[1]).value_or(0);
  }
  return 0;
}

}  // namespace

const char* CgroupVersionName(CgroupVersion v) {
  switch (v) {
    case CgroupVersion::kV1: return "v1";
    case CgroupVersion::kV2: return "v2";
    case CgroupVersion::kNone: break;
  }
  return "none";
}

CgroupVersion ParseCgroupVersion(const std::string& s) {
  if (s == "v1") return CgroupVersion::kV1;
  if (s == "v2") return CgroupVersion::kV2;
  return CgroupVersion::kNone;
}

std::string PodCgroupPath(const std::string& qos_class, const std::string& pod_uid) {
  if (qos_class == "Guaranteed") return "kubepods/pod" + pod_uid;
  if (qos_class == "BestEffort") return "kubepods/besteffort/pod" + pod_uid;
  return "kubepods/burstable/pod" + pod_uid;
}

int64_t CpuSharesToWeight(int64_t shares) {
  if (shares < 2) shares = 2;
  if (shares > 262144) shares = 262144;
  return 1 + ((shares - 2) * 9999) / 262142;
}

CgroupWriter CgroupWriter::Detect(const std::string& root) {
  if (Exists(root + "/cgroup.controllers")) {
    std::string controllers = ReadSmallFile(root + "/cgroup.controllers");
    bool cpu = false, memory = false;
    for (std::string_view c : Split(TrimSpace(controllers), ' ', true)) {
      cpu |= c == "cpu";
      memory |= c == "memory";
    }
    if (!cpu || !memory) {
      return CgroupWriter(CgroupVersion::kV2, root,
                          Unavailable("cgroup v2 at " + root + " does not offer the cpu and memory "
                                      "controllers (cgroup.controllers: \"" +
                                      std::string(TrimSpace(controllers)) + "\"); limits are not applied"));
    }
    Status probe = MakeDirs(root, "kubepods");
    if (!probe.ok()) {
      return CgroupWriter(CgroupVersion::kV2, root,
                          Unavailable("cgroup v2 at " + root + " is not writable (" + probe.message() +
                                      "); limits are not applied"));
    }
    return CgroupWriter(CgroupVersion::kV2, root, Status::Ok());
  }
  if (IsDir(root + "/memory") && IsDir(root + "/cpu")) {
    for (const char* controller : {"memory", "cpu"}) {
      Status probe = MakeDirs(root + "/" + controller, "kubepods");
      if (!probe.ok()) {
        return CgroupWriter(CgroupVersion::kV1, root,
                            Unavailable("cgroup v1 at " + root + " is not writable (" + probe.message() +
                                        "); limits are not applied"));
      }
    }
    return CgroupWriter(CgroupVersion::kV1, root, Status::Ok());
  }
  return CgroupWriter(CgroupVersion::kNone, root,
                      Unavailable("no usable cgroup hierarchy at " + root +
                                  " (neither v2 cgroup.controllers nor v1 memory and cpu); limits are "
                                  "not applied"));
}

CgroupWriter CgroupWriter::ForVersion(CgroupVersion version, const std::string& root) {
  if (version == CgroupVersion::kNone) return Disabled("cgroups are not used");
  return CgroupWriter(version, root, Status::Ok());
}

CgroupWriter CgroupWriter::Disabled(const std::string& why) {
  return CgroupWriter(CgroupVersion::kNone, "", Unavailable(why));
}

std::vector<std::string> CgroupWriter::Dirs(const std::string& path) const {
  switch (version_) {
    case CgroupVersion::kV1: return {root_ + "/memory/" + path, root_ + "/cpu/" + path};
    case CgroupVersion::kV2: return {root_ + "/" + path};
    case CgroupVersion::kNone: break;
  }
  return {};
}

std::string CgroupWriter::MemoryDir(const std::string& path) const {
  return version_ == CgroupVersion::kV1 ? root_ + "/memory/" + path : root_ + "/" + path;
}

Status CgroupWriter::Create(const std::string& path, const LinuxResources& r) const {
  if (!usable()) return status_;
  if (version_ == CgroupVersion::kV1) {
    const std::string mem = root_ + "/memory/" + path, cpu = root_ + "/cpu/" + path;
    CK_RETURN_IF_ERROR(MakeDirs(root_ + "/memory", path));
    CK_RETURN_IF_ERROR(MakeDirs(root_ + "/cpu", path));
    if (r.memory_limit_bytes > 0) {
      CK_RETURN_IF_ERROR(WriteFile(mem + "/memory.limit_in_bytes", std::to_string(r.memory_limit_bytes)));
    }
    if (r.cpu_shares > 0) CK_RETURN_IF_ERROR(WriteFile(cpu + "/cpu.shares", std::to_string(r.cpu_shares)));
    if (r.cpu_quota_us > 0) {
      // The period first: the kernel checks the quota against the period already in place.
      CK_RETURN_IF_ERROR(WriteFile(cpu + "/cpu.cfs_period_us", std::to_string(r.cpu_period_us)));
      CK_RETURN_IF_ERROR(WriteFile(cpu + "/cpu.cfs_quota_us", std::to_string(r.cpu_quota_us)));
    }
    return Status::Ok();
  }
  // v2: controllers must be enabled in every ancestor's subtree_control for the leaf to get the
  // cpu.* and memory.* files.
  std::string dir = root_;
  for (std::string_view part : Split(path, '/', true)) {
    CK_RETURN_IF_ERROR(WriteFile(dir + "/cgroup.subtree_control", "+cpu +memory"));
    dir += "/";
    dir += part;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Unavailable("creating cgroup " + dir + ": " + ErrnoText(errno));
    }
  }
  if (r.memory_limit_bytes > 0) CK_RETURN_IF_ERROR(WriteFile(dir + "/memory.max", std::to_string(r.memory_limit_bytes)));
  if (r.cpu_shares > 0) CK_RETURN_IF_ERROR(WriteFile(dir + "/cpu.weight", std::to_string(CpuSharesToWeight(r.cpu_shares))));
  if (r.cpu_quota_us > 0) {
    CK_RETURN_IF_ERROR(WriteFile(dir + "/cpu.max", std::to_string(r.cpu_quota_us) + " " + std::to_string(r.cpu_period_us)));
  }
  return Status::Ok();
}

Status CgroupWriter::Remove(const std::string& path) const {
  if (!usable()) return status_;
  CK_CHECK(!path.empty() && path.find("..") == std::string::npos) << "bad cgroup path \"" << path << "\"";
  for (const auto& dir : Dirs(path)) {
    if (!Exists(dir)) continue;
    if (OnCgroupFs(dir)) {
      CK_RETURN_IF_ERROR(RemoveCgroupDir(dir));
    } else {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
      if (ec) return Unavailable("removing " + dir + ": " + ec.message());
    }
  }
  return Status::Ok();
}

std::vector<std::string> CgroupWriter::ProcsFiles(const std::string& path) const {
  std::vector<std::string> files;
  if (!usable()) return files;
  for (const auto& dir : Dirs(path)) files.push_back(dir + "/cgroup.procs");
  return files;
}

Status CgroupWriter::AddProcess(const std::string& path, int64_t pid) const {
  if (!usable()) return status_;
  for (const auto& file : ProcsFiles(path)) CK_RETURN_IF_ERROR(WriteFile(file, std::to_string(pid)));
  return Status::Ok();
}

int64_t CgroupWriter::OomKillCount(const std::string& path) const {
  if (!usable()) return 0;
  if (version_ == CgroupVersion::kV1) return ParseCounter(ReadSmallFile(MemoryDir(path) + "/memory.oom_control"), "oom_kill");
  return ParseCounter(ReadSmallFile(MemoryDir(path) + "/memory.events"), "oom_kill");
}

}  // namespace ck::kubelet::cm
