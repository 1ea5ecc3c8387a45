#include "kubelet/runtime/process_runtime.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "kubelet/logs/log_reader.h"
#include "kubelet/shim/shim_state.h"

namespace ck::kubelet {
namespace {

namespace fs = std::filesystem;
using shim::ContainerSpec;
using shim::ShimState;
using shim::Phase;

constexpr size_t kMaxExecOutputBytes = 10 * 1024;
constexpr char kPodFile[] = "pod.json";
constexpr char kPodMountpointsFile[] = "created_mountpoints";
constexpr char kNoCommandMessage[] =
    "no command specified: in process mode a container runs its command from the host's filesystem; "
    "set command";
// How long to wait, after the container is gone, for its shim to record the exit.
constexpr std::chrono::seconds kShimRecordTimeout{5};
// How long a stop waits for the container before it looks again whether ShortenStop moved its
// SIGKILL forward.
constexpr std::chrono::milliseconds kStopSlice{200};

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool ValidName(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos;
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Waits until the process `pid` (started at `ticks`) is gone or `deadline` passes; true when gone.
// Uses a pidfd where it can, so the wait costs no polling.
bool WaitForExit(Clock& clock, pid_t pid, uint64_t ticks, MonoTime deadline) {
  int pfd = PidfdOpen(pid);
  bool done = false;
  while (true) {
    if (!shim::ProcessAlive(pid, ticks)) {
      done = true;
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock.Monotonic());
    if (left.count() <= 0) break;
    int wait_ms = static_cast<int>(std::min<int64_t>(left.count(), pfd >= 0 ? 1000 : 20));
    if (pfd >= 0) {
      struct pollfd p = {pfd, POLLIN, 0};
      if (poll(&p, 1, wait_ms) > 0) {
        // Readable means exited; a zombie nobody reaps stays readable, so stop using it.
        close(pfd);
        pfd = -1;
      }
    } else {
      poll(nullptr, 0, wait_ms);
    }
  }
  if (pfd >= 0) close(pfd);
  return done;
}

struct PodRecord {
  std::string uid, name, ns, cgroup_parent, log_directory;
};

std::string PodToJson(const PodSandboxConfig& pod) {
  nlohmann::json doc = {{"uid", pod.uid},       {"name", pod.name},
                        {"namespace", pod.ns},  {"ip", pod.pod_ip},
                        {"cgroup_parent", pod.cgroup_parent}, {"log_directory", pod.log_directory}};
  return doc.dump(2) + "\n";
}

PodRecord ReadPodRecord(const std::string& dir) {
  PodRecord r;
  auto text = shim::ReadFile(dir + "/" + kPodFile);
  if (!text.ok()) return r;
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return r;
  try {
    r.uid = doc.value("uid", "");
    r.name = doc.value("name", "");
    r.ns = doc.value("namespace", "");
    r.cgroup_parent = doc.value("cgroup_parent", "");
    r.log_directory = doc.value("log_directory", "");
  } catch (const nlohmann::json::exception&) {
  }
  return r;
}

// True when some mount point lies under `dir` (removing it recursively would reach into it).
std::optional<std::string> MountBelow(const std::string& dir) {
  auto text = shim::ReadFile("/proc/self/mountinfo", 4 << 20);
  if (!text.ok()) return std::nullopt;
  std::string prefix = dir + "/";
  for (std::string_view line : Split(*text, '\n', true)) {
    auto fields = Split(line, ' ', true);
    if (fields.size() < 5) continue;
    std::string mount_point(fields[4]);
    if (mount_point == dir || mount_point.rfind(prefix, 0) == 0) return mount_point;
  }
  return std::nullopt;
}

}  // namespace

ProcessRuntime::ProcessRuntime(std::string root_dir, std::string shim_path, Clock& clock, Random& random,
                               const cm::CgroupWriter& cgroups)
    : root_dir_(std::move(root_dir)),
      shim_path_(std::move(shim_path)),
      clock_(clock),
      random_(random),
      cgroups_(cgroups) {}

std::string ProcessRuntime::PodDir(const std::string& pod_uid) const { return root_dir_ + "/pods/" + pod_uid; }

std::string ProcessRuntime::ContainerDir(const std::string& pod_uid, const std::string& id) const {
  return PodDir(pod_uid) + "/containers/" + id;
}

std::string ProcessRuntime::NewContainerId() {
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 4; ++i) {
    uint64_t v = random_.Next();
    for (int j = 0; j < 16; ++j) {
      id += kHex[v & 0xf];
      v >>= 4;
    }
  }
  return id;
}

Status ProcessRuntime::RunPodSandbox(const PodSandboxConfig& pod) {
  if (!ValidName(pod.uid)) return Invalid("pod uid \"" + pod.uid + "\" cannot name a directory");
  std::error_code ec;
  fs::create_directories(PodDir(pod.uid) + "/containers", ec);
  if (ec) return Internal("creating " + PodDir(pod.uid) + ": " + ec.message());
  CK_RETURN_IF_ERROR(shim::WriteFileAtomic(PodDir(pod.uid) + "/" + kPodFile, PodToJson(pod)));
  if (cgroups_.usable() && !pod.cgroup_parent.empty()) {
    CK_RETURN_IF_ERROR(cgroups_.Create(pod.cgroup_parent, LinuxResources{}));
  }
  return Status::Ok();
}

Result<std::string> ProcessRuntime::FindContainer(const std::string& id) const {
  if (!ValidName(id)) return NotFound("container \"" + id + "\" not found");
  for (const auto& uid : ListDir(root_dir_ + "/pods")) {
    std::string dir = ContainerDir(uid, id);
    struct stat st;
    if (stat((dir + "/" + shim::kSpecFile).c_str(), &st) == 0) return dir;
  }
  return NotFound("container \"" + id + "\" not found");
}

Result<std::shared_ptr<const ContainerSpec>> ProcessRuntime::CachedSpec(const std::string& dir) {
  {
    std::lock_guard<std::mutex> lock(spec_mu_);
    auto it = specs_.find(dir);
    if (it != specs_.end()) return it->second;
  }
  CK_ASSIGN_OR_RETURN(ContainerSpec spec, shim::ReadSpec(dir));
  auto shared = std::make_shared<const ContainerSpec>(std::move(spec));
  std::lock_guard<std::mutex> lock(spec_mu_);
  specs_[dir] = shared;
  return shared;
}

void ProcessRuntime::ForgetSpec(const std::string& dir) {
  std::lock_guard<std::mutex> lock(spec_mu_);
  specs_.erase(dir);
}

Result<ContainerStatus> ProcessRuntime::Inspect(const std::string& dir) {
  CK_ASSIGN_OR_RETURN(std::shared_ptr<const ContainerSpec> cached, CachedSpec(dir));
  const ContainerSpec& spec = *cached;
  ContainerStatus s;
  s.id = spec.id;
  s.pod_uid = spec.pod_uid;
  s.pod_name = spec.pod_name;
  s.pod_namespace = spec.pod_namespace;
  s.name = spec.name;
  s.attempt = spec.attempt;
  s.image = spec.image;
  s.log_path = spec.log_path;
  s.labels = spec.labels;
  s.annotations = spec.annotations;
  s.created_at = spec.created_at;

  auto read = shim::ReadState(dir);
  if (!read.ok() && read.status().code() != Code::kNotFound) return read.status();
  ShimState st = read.ok() ? *read : ShimState{};
  if (st.phase == Phase::kRunning && !shim::ProcessAlive(st.pid, st.pid_start_ticks)) {
    // The container is gone. Its shim records the exit within moments; without a shim nobody
    // can (the exit status went to whoever reaped it), so the runtime records an unknown exit.
    if (auto again = shim::ReadState(dir); again.ok()) st = *again;
    if (st.phase == Phase::kRunning && !shim::ProcessAlive(st.shim_pid, st.shim_start_ticks)) {
      std::lock_guard<std::mutex> lock(write_mu_);
      st.phase = Phase::kExited;
      st.exit_code = 137;
      st.reason = "Error";
      st.message = kExitedWithoutShimMessage;
      st.finished_at = clock_.Now();
      shim::WriteState(dir, st).IgnoreError();
    }
  } else if (st.phase == Phase::kCreated && st.shim_pid != 0 &&
             !shim::ProcessAlive(st.shim_pid, st.shim_start_ticks)) {
    st.phase = Phase::kExited;
    st.exit_code = 128;
    st.reason = "ContainerCannotRun";
    st.message = "ck-shim exited before starting the container";
  } else if (st.phase == Phase::kCreated && st.shim_pid == 0 && clock_.Now() - spec.created_at > kShimStartTimeout) {
    // The kubelet died between writing the spec and starting the shim: nothing will ever run it.
    st.phase = Phase::kExited;
    st.exit_code = 128;
    st.reason = "ContainerCannotRun";
    st.message = "ck-shim was never started for this container";
  }
  switch (st.phase) {
    case Phase::kCreated: s.state = ContainerState::kCreated; break;
    case Phase::kRunning:
      s.state = ContainerState::kRunning;
      s.pid = st.pid;
      break;
    case Phase::kExited: s.state = ContainerState::kExited; break;
  }
  s.started_at = st.started_at;
  s.finished_at = st.finished_at;
  s.exit_code = st.exit_code;
  s.reason = st.reason;
  s.message = st.message;
  if (!st.mounts_skipped.empty()) s.annotations[kAnnotationMountsSkipped] = st.mounts_skipped;
  return s;
}

Result<std::string> ProcessRuntime::StartContainer(const PodSandboxConfig& pod, const ContainerConfig& config) {
  if (config.argv.empty() || config.argv[0].empty()) return Invalid(kNoCommandMessage);
  if (!ValidName(pod.uid)) return Invalid("pod uid \"" + pod.uid + "\" cannot name a directory");
  std::error_code ec;
  fs::create_directories(PodDir(pod.uid) + "/containers", ec);
  if (ec) return Internal("creating " + PodDir(pod.uid) + ": " + ec.message());

  // A fresh id whose directory this call creates (mkdir fails on an existing one).
  std::string id, dir;
  for (int tries = 0;; ++tries) {
    id = NewContainerId();
    dir = ContainerDir(pod.uid, id);
    if (mkdir(dir.c_str(), 0755) == 0) break;
    if (errno != EEXIST || tries > 100) return Internal(Errno("creating " + dir));
  }

  ContainerSpec spec;
  spec.id = id;
  spec.pod_uid = pod.uid;
  spec.pod_name = pod.name;
  spec.pod_namespace = pod.ns;
  spec.pod_ip = pod.pod_ip;
  spec.name = config.name;
  spec.image = config.image;
  spec.argv = config.argv;
  spec.env = config.env;
  // An image's config supplies PATH when the pod does not; in process mode the "image" is the
  // host, plus the folder of Clearkube's own binaries, so `command: [ck-echo]` runs.
  if (std::none_of(spec.env.begin(), spec.env.end(), [](const auto& kv) { return kv.first == "PATH"; })) {
    std::string bin_dir = shim_path_.substr(0, shim_path_.rfind('/'));
    spec.env.emplace_back("PATH", std::string(shim::kDefaultPath) + (bin_dir.empty() ? "" : ":" + bin_dir));
  }
  spec.working_dir = config.working_dir;
  spec.mounts = config.mounts;
  spec.resources = config.resources;
  spec.attempt = config.attempt;
  spec.init = config.init;
  spec.stdin_open = config.stdin_open;
  spec.stdin_once = config.stdin_once;
  spec.tty = config.tty;
  spec.log_path = config.log_path.empty() ? dir + "/" + shim::kDefaultLogFile : config.log_path;
  spec.termination_message_path = config.termination_message_path;
  spec.labels = config.labels;
  spec.annotations = config.annotations;
  spec.created_at = clock_.Now();

  auto cleanup = [&](Status why) -> Status {
    if (!spec.cgroup_path.empty()) cgroups_.Remove(spec.cgroup_path).IgnoreError();
    if (auto st = shim::ReadState(dir); st.ok() && !st->created_mountpoints.empty()) {
      std::lock_guard<std::mutex> lock(write_mu_);
      std::string lines;
      for (const auto& p : st->created_mountpoints) lines += p + "\n";
      int fd = open((PodDir(pod.uid) + "/" + kPodMountpointsFile).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
      if (fd >= 0) {
        (void)!write(fd, lines.data(), lines.size());
        close(fd);
      }
    }
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return why;
  };

  if (cgroups_.usable() && !pod.cgroup_parent.empty()) {
    spec.cgroup_version = cm::CgroupVersionName(cgroups_.version());
    spec.cgroup_root = cgroups_.root();
    spec.cgroup_path = pod.cgroup_parent + "/" + id;
    Status s = cgroups_.Create(spec.cgroup_path, config.resources);
    if (!s.ok()) return cleanup(s);
  }
  fs::create_directories(fs::path(spec.log_path).parent_path(), ec);
  Status written = shim::WriteSpec(dir, spec);
  if (!written.ok()) return cleanup(written);

  // Everything the forked children use is built here: between fork and exec only syscalls run,
  // because the kubelet is multi-threaded.
  std::string state_flag = "--state-dir=" + dir;
  std::string ready_flag = "--ready-fd=3";
  std::string detach_flag = "--detach";
  std::vector<char*> argv = {const_cast<char*>(shim_path_.c_str()), state_flag.data(), ready_flag.data(),
                             detach_flag.data(), nullptr};
  std::vector<char*> envp = {nullptr};
  std::string shim_log = dir + "/" + shim::kShimLogFile;
  int log_fd = open(shim_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int ready[2];
  if (log_fd < 0 || null_fd < 0 || pipe2(ready, O_CLOEXEC) != 0) {
    Status s = Internal(Errno("preparing to start ck-shim"));
    if (log_fd >= 0) close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return cleanup(s);
  }
  static const char kExecFailed[] = "ck-shim: exec failed\n";
  // vfork: the kubelet is large and multi-threaded, and copying its page tables for every
  // container (fork) cost more than the rest of a start. The child only makes syscalls until
  // execve. The shim, in a new session, forks itself once (--detach) and its first process exits
  // at once, so the running shim is nobody's child that dies with the kubelet.
  pid_t first = vfork();
  if (first == 0) {
    setsid();
    shim::ResetSignalsForExec();
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    if (ready[1] == 3) {
      fcntl(3, F_SETFD, 0);  // dup2 onto itself would keep close-on-exec
    } else {
      dup2(ready[1], 3);
    }
    close_range(4, ~0U, 0);  // no kubelet socket or file leaks into the shim or the container
    execve(argv[0], argv.data(), envp.data());
    (void)!write(2, kExecFailed, sizeof kExecFailed - 1);
    _exit(127);
  }
  close(ready[1]);
  close(log_fd);
  close(null_fd);
  if (first < 0) {
    close(ready[0]);
    return cleanup(Internal(Errno("fork")));
  }
  while (waitpid(first, nullptr, 0) < 0 && errno == EINTR) {
  }

  // The shim answers one line: "started <pid>" or "failed <message>".
  std::string answer;
  MonoTime deadline = std::chrono::steady_clock::now() + kShimStartTimeout;
  while (answer.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    struct pollfd p = {ready[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    char buf[4096];
    ssize_t n = read(ready[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, n);
  }
  close(ready[0]);
  if (answer.rfind("started ", 0) == 0) return id;
  if (answer.rfind("failed ", 0) == 0) {
    std::string message = answer.substr(7);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return cleanup(Invalid(message));
  }
  // No answer: the shim died or hangs. Make sure nothing of it keeps running.
  auto log_tail = shim::ReadFile(shim_log, 2048).value_or("");
  if (auto st = shim::ReadState(dir); st.ok()) {
    if (st->pid > 0 && shim::ProcessAlive(st->pid, st->pid_start_ticks)) kill(-st->pid, SIGKILL);
    if (shim::ProcessAlive(st->shim_pid, st->shim_start_ticks)) kill(st->shim_pid, SIGKILL);
  }
  return cleanup(Internal("ck-shim (" + shim_path_ + ") did not report the container's start" +
                          (answer.empty() && log_tail.empty() ? std::string() : ": " + std::string(TrimSpace(log_tail)))));
}

Status ProcessRuntime::StopContainer(const std::string& id, std::chrono::seconds grace) {
  CK_ASSIGN_OR_RETURN(std::string dir, FindContainer(id));
  CK_ASSIGN_OR_RETURN(ShimState st, shim::ReadState(dir));
  if (st.phase == Phase::kExited) return Status::Ok();
  if (st.phase == Phase::kCreated) {
    // StartContainer returns only after the shim reported; a created container here is a shim
    // that is dying or already dead. Kill it and let Inspect record the outcome.
    if (shim::ProcessAlive(st.shim_pid, st.shim_start_ticks)) kill(st.shim_pid, SIGKILL);
    WaitForExit(clock_, st.shim_pid, st.shim_start_ticks, clock_.Monotonic() + kShimRecordTimeout);
    return Inspect(dir).status();
  }
  const pid_t pid = static_cast<pid_t>(st.pid);
  if (shim::ProcessAlive(pid, st.pid_start_ticks)) {
    kill(-pid, SIGTERM);
    // Waits in short slices so that ShortenStop can bring the SIGKILL forward.
    auto kill_at = [&] {
      std::lock_guard<std::mutex> lock(stops_mu_);
      return stops_[id].kill_at;
    };
    {
      std::lock_guard<std::mutex> lock(stops_mu_);
      MonoTime at = clock_.Monotonic() + grace;
      StopInFlight& s = stops_[id];
      s.kill_at = s.stoppers++ == 0 ? at : std::min(s.kill_at, at);  // two stops of one container: the sooner wins
    }
    bool exited;
    MonoTime at = kill_at();
    do {
      exited = WaitForExit(clock_, pid, st.pid_start_ticks, std::min(at, clock_.Monotonic() + kStopSlice));
      at = kill_at();
    } while (!exited && clock_.Monotonic() < at);
    {
      std::lock_guard<std::mutex> lock(stops_mu_);
      if (--stops_[id].stoppers == 0) stops_.erase(id);
    }
    if (!exited) {
      CK_LOG_INFO("Container did not stop within its grace period; killing it", "id", id, "grace_s",
                  static_cast<int64_t>(grace.count()));
      kill(-pid, SIGKILL);
      if (!WaitForExit(clock_, pid, st.pid_start_ticks, clock_.Monotonic() + std::chrono::seconds(10))) {
        return Internal("container " + id + " (pid " + std::to_string(pid) + ") survived SIGKILL");
      }
    }
  }
  // The shim writes the exit status and exits; wait for that rather than for the file.
  WaitForExit(clock_, static_cast<pid_t>(st.shim_pid), st.shim_start_ticks, clock_.Monotonic() + kShimRecordTimeout);
  return Inspect(dir).status();
}

void ProcessRuntime::ShortenStop(const std::string& id, std::chrono::seconds grace) {
  std::lock_guard<std::mutex> lock(stops_mu_);
  auto it = stops_.find(id);
  if (it != stops_.end()) it->second.kill_at = std::min(it->second.kill_at, clock_.Monotonic() + grace);
}

Status ProcessRuntime::RemoveContainer(const std::string& id) {
  CK_ASSIGN_OR_RETURN(std::string dir, FindContainer(id));
  CK_ASSIGN_OR_RETURN(ContainerStatus status, Inspect(dir));
  if (status.state == ContainerState::kRunning || status.state == ContainerState::kCreated) {
    CK_RETURN_IF_ERROR(StopContainer(id, std::chrono::seconds(0)));
  }
  auto spec = shim::ReadSpec(dir);
  auto st = shim::ReadState(dir);
  if (st.ok() && !st->created_mountpoints.empty()) {
    // RemovePodSandbox removes the mountpoints the shims created, so keep the list with the pod.
    std::lock_guard<std::mutex> lock(write_mu_);
    std::string lines;
    for (const auto& p : st->created_mountpoints) lines += p + "\n";
    std::string file = PodDir(status.pod_uid) + "/" + kPodMountpointsFile;
    int fd = open(file.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Internal(Errno("opening " + file));
    ssize_t n = write(fd, lines.data(), lines.size());
    close(fd);
    if (n != static_cast<ssize_t>(lines.size())) return Internal("writing " + file);
  }
  if (spec.ok() && !spec->cgroup_path.empty() && cgroups_.usable()) {
    CK_RETURN_IF_ERROR(cgroups_.Remove(spec->cgroup_path));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  ForgetSpec(dir);
  if (ec) return Internal("removing " + dir + ": " + ec.message());
  return Status::Ok();
}

Status ProcessRuntime::RemovePodSandbox(const std::string& pod_uid) {
  if (!ValidName(pod_uid)) return Status::Ok();
  const std::string pod_dir = PodDir(pod_uid);
  struct stat st;
  if (stat(pod_dir.c_str(), &st) != 0) return Status::Ok();
  for (const auto& id : ListDir(pod_dir + "/containers")) {
    Status s = RemoveContainer(id);
    if (!s.ok() && s.code() != Code::kNotFound) return s.WithPrefix("removing container " + id);
  }
  // Mountpoints the shims created on the host: deepest first, and only ever empty ones.
  std::set<std::string> created;
  if (auto text = shim::ReadFile(pod_dir + "/" + kPodMountpointsFile); text.ok()) {
    for (std::string_view line : Split(*text, '\n', true)) created.emplace(line);
  }
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    struct stat ps;
    if (lstat(it->c_str(), &ps) != 0) continue;
    if (S_ISDIR(ps.st_mode)) {
      rmdir(it->c_str());
    } else if (S_ISREG(ps.st_mode) && ps.st_size == 0) {
      unlink(it->c_str());
    }
  }
  PodRecord record = ReadPodRecord(pod_dir);
  if (!record.cgroup_parent.empty() && cgroups_.usable()) CK_RETURN_IF_ERROR(cgroups_.Remove(record.cgroup_parent));
  if (auto mount_point = MountBelow(pod_dir)) {
    return Conflict("pod directory " + pod_dir + " still has a mount at " + *mount_point +
                    "; volumes must be unmounted first");
  }
  std::error_code ec;
  fs::remove_all(pod_dir, ec);
  if (ec) return Internal("removing " + pod_dir + ": " + ec.message());
  // The pod's logs go with the pod (upstream removes /var/log/pods/<ns>_<name>_<uid>), but only
  // from inside the root dir.
  if (!record.log_directory.empty() && record.log_directory.rfind(root_dir_ + "/", 0) == 0 &&
      record.log_directory.find("..") == std::string::npos) {
    fs::remove_all(record.log_directory, ec);
  }
  return Status::Ok();
}

Result<std::vector<ContainerStatus>> ProcessRuntime::ListContainers() {
  std::vector<ContainerStatus> out;
  for (const auto& uid : ListDir(root_dir_ + "/pods")) {
    for (const auto& id : ListDir(PodDir(uid) + "/containers")) {
      auto s = Inspect(ContainerDir(uid, id));
      if (s.ok()) {
        out.push_back(std::move(s).value());
      } else if (s.status().code() != Code::kNotFound) {
        // A half-written directory (StartContainer in progress) has no spec.json yet.
        CK_LOG_WARNING("Skipping unreadable container directory", "dir", ContainerDir(uid, id), "err",
                       s.status().ToString());
      }
    }
  }
  return out;
}

Result<std::vector<ContainerStatus>> ProcessRuntime::ListPodContainers(const std::string& pod_uid) {
  std::vector<ContainerStatus> out;
  for (const auto& id : ListDir(PodDir(pod_uid) + "/containers")) {
    auto s = Inspect(ContainerDir(pod_uid, id));
    if (s.ok()) out.push_back(std::move(s).value());
  }
  return out;
}

// Everything an exec's child needs, built before vfork: between vfork and execve the child only
// makes system calls (the kubelet is multi-threaded). Shared by ExecSync and Exec.
struct ExecContext {
  ExecContext() = default;
  ExecContext(const ExecContext&) = delete;
  ExecContext& operator=(const ExecContext&) = delete;
  ~ExecContext() {
    if (ns_fd >= 0) close(ns_fd);
  }
  std::string executable;      // "" when the command cannot run: `missing` says why
  Status missing;              // NotFound (exit 127) or Invalid (not executable, exit 126)
  std::string missing_line;    // what the child prints on stderr then
  int missing_exit_code = 0;
  std::vector<std::string> args, env_strings;
  std::vector<char*> argv, envp;
  std::string workdir;
  std::vector<std::string> procs;  // the container's cgroup.procs files
  int ns_fd = -1;                  // the container's mount namespace, when it has one of its own
};

namespace {

// The child's stdio; with tty all three are the terminal's slave side.
struct ChildStdio {
  int in, out, err;
  bool tty;
};

int ExitCodeOf(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status) : -1;
}

// GCC's -Wclobbered cannot tell that the vfork child below changes no local of this function
// before execve or _exit (clang has no such warning).
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wclobbered"
#endif
// Starts the exec's child in its own process group (its own session with a controlling terminal
// when tty), in the container's mount namespace, working dir and cgroup. Returns its pid, or -1
// (errno set) when vfork failed.
pid_t SpawnInContainer(const ExecContext& ctx, ChildStdio io) {
  static const char kChdirFailed[] = "exec: chdir to the working directory failed\n";
  static const char kExecFailed[] = "exec: execve failed\n";
  pid_t child = vfork();  // see StartContainer: only syscalls run in the child until execve
  if (child == 0) {
    if (io.tty) {
      setsid();
    } else {
      setpgid(0, 0);
    }
    shim::ResetSignalsForExec();
    if (ctx.ns_fd >= 0) setns(ctx.ns_fd, CLONE_NEWNS);
    dup2(io.in, 0);
    dup2(io.out, 1);
    dup2(io.err, 2);
    if (io.tty) ioctl(0, TIOCSCTTY, 0);
    close_range(3, ~0U, 0);
    if (ctx.executable.empty()) {
      (void)!write(2, ctx.missing_line.data(), ctx.missing_line.size());
      _exit(ctx.missing_exit_code);
    }
    if (chdir(ctx.workdir.c_str()) != 0) {
      (void)!write(2, kChdirFailed, sizeof kChdirFailed - 1);
      _exit(126);
    }
    char pidbuf[24];
    size_t pidlen = shim::FormatPid(pidbuf, getpid());
    for (const auto& file : ctx.procs) {
      int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        (void)!write(fd, pidbuf, pidlen);
        close(fd);
      }
    }
    execve(ctx.executable.c_str(), ctx.argv.data(), ctx.envp.data());
    (void)!write(2, kExecFailed, sizeof kExecFailed - 1);
    _exit(127);
  }
  if (child > 0 && !io.tty) setpgid(child, child);
  return child;
}
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif

void CloseFd(int* fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

void SetNonBlocking(int fd) {
  if (fd >= 0) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// A command started by Exec. exit_fd is its pidfd.
class ExecProcess final : public StreamingProcess {
 public:
  ExecProcess(pid_t pid, int pidfd, int stdin_fd, int stdout_fd, int stderr_fd, bool tty)
      : pid_(pid), pidfd_(pidfd), stdin_fd_(stdin_fd), stdout_fd_(stdout_fd), stderr_fd_(stderr_fd), tty_(tty) {}
  ~ExecProcess() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!reaped_) {
        kill(-pid_, SIGKILL);
        while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
        }
      }
    }
    int in = stdin_fd_.exchange(-1);
    CloseFd(&in);
    CloseFd(&stdout_fd_);
    CloseFd(&stderr_fd_);
    CloseFd(&pidfd_);
  }

  int stdin_fd() const override { return stdin_fd_.load(); }
  void CloseStdin() override {
    int fd = stdin_fd_.exchange(-1);
    CloseFd(&fd);
  }
  int stdout_fd() const override { return stdout_fd_; }
  int stderr_fd() const override { return stderr_fd_; }
  Status Resize(uint16_t width, uint16_t height) override {
    if (!tty_) return Status::Ok();
    struct winsize ws = {};
    ws.ws_col = width;
    ws.ws_row = height;
    if (ioctl(stdout_fd_, TIOCSWINSZ, &ws) != 0) return Internal(Errno("resizing the terminal"));
    return Status::Ok();
  }
  int exit_fd() const override { return pidfd_; }
  Result<int> ExitCode() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!reaped_) {
      int wait_status = 0;
      pid_t r;
      while ((r = waitpid(pid_, &wait_status, WNOHANG)) < 0 && errno == EINTR) {
      }
      if (r != pid_) return Unavailable("the command is still running");
      reaped_ = true;
      exit_code_ = ExitCodeOf(wait_status);
    }
    return exit_code_;
  }

 private:
  const pid_t pid_;
  int pidfd_;
  std::atomic<int> stdin_fd_;
  int stdout_fd_;
  int stderr_fd_;
  const bool tty_;
  std::mutex mu_;
  bool reaped_ = false;  // guarded by mu_
  int exit_code_ = 0;    // guarded by mu_
};

// Attach: a thread follows the container's CRI log from where it ended at Attach and copies the
// entries' text to the stdout and stderr pipes; once the container has exited and its shim has
// recorded that (so the log is complete) it drains the log, closes the pipes and signals exit_fd
// (an eventfd). Stdin is the write side of the shim's FIFO.
class AttachProcess final : public StreamingProcess {
 public:
  struct Params {
    std::string dir, log_path;
    int64_t log_offset;
    shim::ShimState state;  // pids and start ticks of the container and its shim
    bool stdin_once;
    bool merge_stderr;      // tty requested: one output stream
    int stdin_fd;
  };

  static Result<std::unique_ptr<AttachProcess>> Start(Params p) {
    auto a = std::unique_ptr<AttachProcess>(new AttachProcess(std::move(p)));
    int out[2], err[2] = {-1, -1};
    if (pipe2(out, O_CLOEXEC | O_NONBLOCK) != 0 || (!a->p_.merge_stderr && pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0)) {
      return Internal(Errno("pipe"));
    }
    a->stdout_fd_ = out[0];
    a->out_w_ = out[1];
    a->stderr_fd_ = err[0];
    a->err_w_ = a->p_.merge_stderr ? out[1] : err[1];
    a->exit_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    a->stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (a->exit_fd_ < 0 || a->stop_fd_ < 0) return Internal(Errno("eventfd"));
    a->container_pidfd_ = PidfdOpen(static_cast<pid_t>(a->p_.state.pid));
    a->thread_ = std::thread([raw = a.get()] { raw->Run(); });
    return a;
  }

  ~AttachProcess() override {
    stop_ = true;
    uint64_t one = 1;
    (void)!write(stop_fd_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    // An attacher that goes away ends a stdinOnce stdin too (upstream: "until the client
    // disconnects").
    CloseStdin();
    if (err_w_ != out_w_) CloseFd(&err_w_);
    CloseFd(&out_w_);
    err_w_ = -1;
    CloseFd(&stdout_fd_);
    CloseFd(&stderr_fd_);
    CloseFd(&exit_fd_);
    CloseFd(&stop_fd_);
    CloseFd(&container_pidfd_);
  }

  int stdin_fd() const override { return stdin_fd_.load(); }
  void CloseStdin() override {
    int fd = stdin_fd_.exchange(-1);
    if (fd < 0) return;
    close(fd);
    if (p_.stdin_once) {
      // stdinOnce: the container's stdin closes for good. The marker stops later attachers from
      // writing; SIGUSR1 makes the shim close the write end it kept, so the container reads EOF.
      shim::WriteFileAtomic(p_.dir + "/" + shim::kStdinClosedFile, "").IgnoreError();
      if (shim::ProcessAlive(static_cast<pid_t>(p_.state.shim_pid), p_.state.shim_start_ticks)) {
        kill(static_cast<pid_t>(p_.state.shim_pid), SIGUSR1);
      }
    }
  }
  int stdout_fd() const override { return stdout_fd_; }
  int stderr_fd() const override { return stderr_fd_; }
  Status Resize(uint16_t, uint16_t) override { return Status::Ok(); }
  int exit_fd() const override { return exit_fd_; }
  Result<int> ExitCode() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!exit_code_) return Unavailable("the container is still running");
    return *exit_code_;
  }

 private:
  explicit AttachProcess(Params p) : p_(std::move(p)), stdin_fd_(p_.stdin_fd) {}

  // Writes all of `data` to the non-blocking pipe `fd`; false when the attach is being torn down.
  bool WriteAll(int fd, std::string_view data) {
    while (!data.empty()) {
      ssize_t n = write(fd, data.data(), data.size());
      if (n > 0) {
        data.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN) return false;
      struct pollfd p[2] = {{fd, POLLOUT, 0}, {stop_fd_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0 && errno != EINTR) return false;
      if (p[1].revents & POLLIN) return false;
    }
    return true;
  }

  // True while the container runs; false once it exited and its shim recorded that (or died).
  bool ContainerRunning() {
    if (stop_) return false;
    if (container_pidfd_ >= 0) {
      struct pollfd p = {container_pidfd_, POLLIN, 0};
      if (poll(&p, 1, 0) == 0) return true;
    } else if (shim::ProcessAlive(static_cast<pid_t>(p_.state.pid), p_.state.pid_start_ticks)) {
      return true;
    }
    auto st = shim::ReadState(p_.dir);
    if (st.ok() && st->phase == shim::Phase::kExited) return false;
    // The shim writes the last log lines, then state.json; wait for it unless it is gone.
    return shim::ProcessAlive(static_cast<pid_t>(p_.state.shim_pid), p_.state.shim_start_ticks);
  }

  void Run() {
    SetCurrentThreadName("attach");
    Status s = logs::ScanCriLog(
        p_.log_path, p_.log_offset, /*follow=*/true,
        [this](const logs::CriEntry& e) {
          int fd = e.is_stderr ? err_w_ : out_w_;
          return WriteAll(fd, e.content) && (e.partial || WriteAll(fd, "\n"));
        },
        [] { return true; }, [this] { return ContainerRunning(); });
    if (!s.ok()) CK_LOG_WARNING("Attach stopped reading the container log", "path", p_.log_path, "err", s.ToString());
    int code = 137;  // the shim is gone: the exit status is unknown (see kExitedWithoutShimMessage)
    if (auto st = shim::ReadState(p_.dir); st.ok() && st->phase == shim::Phase::kExited) code = st->exit_code;
    {
      std::lock_guard<std::mutex> lock(mu_);
      exit_code_ = code;
    }
    // EOF on the output, then exit_fd readable.
    if (err_w_ != out_w_) CloseFd(&err_w_);
    CloseFd(&out_w_);
    err_w_ = -1;
    uint64_t one = 1;
    (void)!write(exit_fd_, &one, sizeof one);
  }

  const Params p_;
  std::atomic<int> stdin_fd_;
  int stdout_fd_ = -1, stderr_fd_ = -1;
  int out_w_ = -1, err_w_ = -1;  // the thread's until it ends, then closed
  int exit_fd_ = -1, stop_fd_ = -1, container_pidfd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::optional<int> exit_code_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace

Result<std::unique_ptr<ExecContext>> ProcessRuntime::PrepareExec(const std::string& id,
                                                                 const std::vector<std::string>& argv, bool tty) {
  if (argv.empty() || argv[0].empty()) return Invalid("exec: no command given");
  CK_ASSIGN_OR_RETURN(std::string dir, FindContainer(id));
  CK_ASSIGN_OR_RETURN(ContainerSpec spec, shim::ReadSpec(dir));
  CK_ASSIGN_OR_RETURN(ShimState state, shim::ReadState(dir));
  if (state.phase != Phase::kRunning || !shim::ProcessAlive(state.pid, state.pid_start_ticks)) {
    return Conflict("container " + id + " is not running");
  }
  auto ctx = std::make_unique<ExecContext>();
  ctx->workdir = spec.working_dir.empty() ? "/" : spec.working_dir;
  auto executable = shim::ResolveExecutable(argv[0], spec.env, ctx->workdir);
  if (executable.ok()) {
    ctx->executable = *executable;
  } else {
    // runc's words, and the shell's exit codes: 127 not found, 126 found but not executable.
    ctx->missing = executable.status();
    ctx->missing_line = executable.status().message() + "\n";
    ctx->missing_exit_code = executable.status().code() == Code::kNotFound ? 127 : 126;
  }
  ctx->args = argv;
  bool has_term = false;
  for (const auto& [k, v] : spec.env) {
    ctx->env_strings.push_back(k + "=" + v);
    has_term = has_term || k == "TERM";
  }
  // A terminal needs TERM to be usable; containerd gives tty containers TERM=xterm.
  if (tty && !has_term) ctx->env_strings.push_back("TERM=xterm");
  for (auto& a : ctx->args) ctx->argv.push_back(a.data());
  ctx->argv.push_back(nullptr);
  for (auto& e : ctx->env_strings) ctx->envp.push_back(e.data());
  ctx->envp.push_back(nullptr);
  if (spec.cgroup_version != "none" && !spec.cgroup_path.empty()) {
    ctx->procs = cm::CgroupWriter::ForVersion(cm::ParseCgroupVersion(spec.cgroup_version), spec.cgroup_root)
                     .ProcsFiles(spec.cgroup_path);
  }
  // The exec sees the container's volume mounts: join its mount namespace.
  if (geteuid() == 0 && !spec.mounts.empty() && state.mounts_skipped.empty()) {
    ctx->ns_fd = open(("/proc/" + std::to_string(state.pid) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
  }
  return ctx;
}

Result<std::unique_ptr<StreamingProcess>> ProcessRuntime::Exec(const std::string& id, const ExecRequest& req) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<ExecContext> ctx, PrepareExec(id, req.argv, req.tty));
  // The parent's ends [0] and the child's ends [1]; -1 where unused.
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  auto close_all = [&] {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) CloseFd(fd);
  };
  if (req.tty) {
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, sizeof name) != 0) {
      Status s = Internal(Errno("opening a pseudo-terminal"));
      if (master >= 0) close(master);
      return s;
    }
    out[0] = master;
    out[1] = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (out[1] < 0) {
      Status s = Internal(Errno(std::string("opening ") + name));
      close_all();
      return s;
    }
    if (req.stdin) in[0] = fcntl(master, F_DUPFD_CLOEXEC, 3);
    in[1] = out[1];
    err[1] = out[1];
  } else {
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || (req.stdin && pipe2(in, O_CLOEXEC) != 0)) {
      Status s = Internal(Errno("pipe"));
      close_all();
      return s;
    }
    if (req.stdin) {
      std::swap(in[0], in[1]);  // the parent writes, the child reads
    } else {
      in[1] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
  }
  pid_t child = SpawnInContainer(*ctx, ChildStdio{in[1], out[1], err[1], req.tty});
  // The child's ends (with tty all three are the one slave fd).
  if (req.tty) {
    CloseFd(&out[1]);
    in[1] = err[1] = -1;
  } else {
    CloseFd(&in[1]);
    CloseFd(&out[1]);
    CloseFd(&err[1]);
  }
  if (child < 0) {
    Status s = Internal(Errno("fork"));
    close_all();
    return s;
  }
  int pidfd = PidfdOpen(child);
  if (pidfd < 0) {
    Status s = Internal(Errno("pidfd_open"));
    kill(-child, SIGKILL);
    waitpid(child, nullptr, 0);
    close_all();
    return s;
  }
  for (int fd : {in[0], out[0], err[0]}) SetNonBlocking(fd);
  return std::unique_ptr<StreamingProcess>(new ExecProcess(child, pidfd, in[0], out[0], err[0], req.tty));
}

Result<std::unique_ptr<StreamingProcess>> ProcessRuntime::Attach(const std::string& id, bool stdin, bool tty) {
  CK_ASSIGN_OR_RETURN(std::string dir, FindContainer(id));
  CK_ASSIGN_OR_RETURN(std::shared_ptr<const ContainerSpec> spec, CachedSpec(dir));
  CK_ASSIGN_OR_RETURN(ShimState state, shim::ReadState(dir));
  if (state.phase != Phase::kRunning || !shim::ProcessAlive(state.pid, state.pid_start_ticks)) {
    return Conflict("container " + id + " is not running");
  }
  if (stdin && !spec->stdin_open) {
    return BadRequest("container \"" + spec->name + "\" of pod \"" + spec->pod_namespace + "/" + spec->pod_name +
                      "\" does not have stdin enabled (stdin: true in its spec); attach without -i");
  }
  std::string log_path = spec->log_path.empty() ? dir + "/" + shim::kDefaultLogFile : spec->log_path;
  struct stat st;
  if (stat(log_path.c_str(), &st) != 0) return Internal(Errno("stat " + log_path));
  int stdin_fd = -1;
  struct stat closed;
  if (stdin && !(spec->stdin_once && stat((dir + "/" + shim::kStdinClosedFile).c_str(), &closed) == 0)) {
    // Non-blocking: a FIFO whose reader is gone (the container closed its stdin) fails with ENXIO
    // instead of blocking; then there is no stdin to write to.
    stdin_fd = open((dir + "/" + shim::kStdinFifo).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (stdin_fd < 0 && errno != ENXIO) return Internal(Errno("opening the container's stdin"));
  }
  CK_ASSIGN_OR_RETURN(std::unique_ptr<AttachProcess> a,
                      AttachProcess::Start(AttachProcess::Params{dir, log_path, static_cast<int64_t>(st.st_size), state,
                                                                 spec->stdin_once, tty, stdin_fd}));
  return std::unique_ptr<StreamingProcess>(std::move(a));
}

Result<ExecResult> ProcessRuntime::ExecSync(const std::string& id, const std::vector<std::string>& argv,
                                            std::chrono::milliseconds timeout) {
  CK_ASSIGN_OR_RETURN(std::unique_ptr<ExecContext> ctx, PrepareExec(id, argv, /*tty=*/false));
  if (!ctx->missing.ok()) return ctx->missing;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return Internal(Errno("pipe"));
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t child = SpawnInContainer(*ctx, ChildStdio{null_fd, out[1], out[1], false});
  close(out[1]);
  if (null_fd >= 0) close(null_fd);
  if (child < 0) {
    close(out[0]);
    return Internal(Errno("fork"));
  }

  ExecResult result;
  int pfd = PidfdOpen(child);
  const MonoTime deadline = clock_.Monotonic() + timeout;
  bool exited = false, eof = false, reaped = false;
  int wait_status = 0;
  char buf[4096];
  auto take = [&](ssize_t n) {
    if (n > 0 && result.output.size() < kMaxExecOutputBytes) {
      result.output.append(buf, std::min<size_t>(n, kMaxExecOutputBytes - result.output.size()));
    }
  };
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.Monotonic());
    if (left.count() <= 0) {
      result.timed_out = true;
      break;
    }
    struct pollfd p[2];
    int n = 0, out_slot = -1, pid_slot = -1;
    if (!eof) {
      out_slot = n;
      p[n++] = {out[0], POLLIN, 0};
    }
    if (pfd >= 0) {
      pid_slot = n;
      p[n++] = {pfd, POLLIN, 0};
    }
    int r = poll(p, n, static_cast<int>(std::min<int64_t>(left.count(), pfd >= 0 ? 60000 : 20)));
    if (r < 0 && errno != EINTR) break;
    if (r > 0 && out_slot >= 0 && (p[out_slot].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t got = read(out[0], buf, sizeof buf);
      take(got);
      if (got == 0) eof = true;
    }
    if (pid_slot >= 0) {
      exited = r > 0 && (p[pid_slot].revents & POLLIN);
    } else if (waitpid(child, &wait_status, WNOHANG) == child) {
      exited = reaped = true;
    }
  }
  if (result.timed_out) {
    kill(-child, SIGKILL);
  } else if (!eof) {
    // The command exited; take what is in the pipe without waiting for anything it left behind.
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    ssize_t got;
    while ((got = read(out[0], buf, sizeof buf)) > 0 && result.output.size() < kMaxExecOutputBytes) take(got);
  }
  if (!reaped) {
    while (waitpid(child, &wait_status, 0) < 0 && errno == EINTR) {
    }
  }
  close(out[0]);
  if (pfd >= 0) close(pfd);
  result.exit_code = ExitCodeOf(wait_status);
  return result;
}

}  // namespace ck::kubelet
