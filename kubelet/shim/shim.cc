#include "kubelet/shim/shim.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/base/clock.h"
#include "kubelet/cm/cgroup_writer.h"
#include "kubelet/shim/shim_state.h"

namespace ck::kubelet::shim {
namespace {

WallTime Now() { return RealClock::Get().Now(); }

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// The write end of the stdin FIFO the shim keeps open, so the container never reads EOF while
// nobody is attached. SIGUSR1 (sent by a stdinOnce attacher that closed its own end) closes it:
// close() is async-signal-safe, and nothing else touches the fd after the handler is installed.
volatile sig_atomic_t g_stdin_keep_fd = -1;

void CloseKeptStdin(int) {
  int fd = g_stdin_keep_fd;
  g_stdin_keep_fd = -1;
  if (fd >= 0) close(fd);
}

// Makes <dir>/stdin (a FIFO) and opens it: the read end for the container, the write end kept
// by the shim (close-on-exec, so the container never holds a writer).
Status OpenStdinFifo(const std::string& dir, int* read_fd) {
  std::string path = dir + "/" + kStdinFifo;
  unlink(path.c_str());
  unlink((dir + "/" + kStdinClosedFile).c_str());
  if (mkfifo(path.c_str(), 0600) != 0) return Internal(Errno("creating the stdin FIFO " + path));
  // Opening the read side first, non-blocking, lets the write side open without waiting.
  int rd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (rd < 0) return Internal(Errno("opening " + path));
  int wr = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (wr < 0) {
    close(rd);
    return Internal(Errno("opening " + path));
  }
  fcntl(rd, F_SETFL, fcntl(rd, F_GETFL) & ~O_NONBLOCK);  // the container reads it blocking
  g_stdin_keep_fd = wr;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = CloseKeptStdin;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);
  *read_fd = rd;
  return Status::Ok();
}

void WriteAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = write(fd, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += n;
  }
}

// Creates the missing parts of `target` (a directory, or an empty file when the source is a
// file) and records every path it created, parents first.
Status EnsureMountpoint(const std::string& target, bool is_file, std::vector<std::string>* created) {
  std::string path;
  auto parts = std::filesystem::path(target);
  std::vector<std::string> components;
  for (const auto& p : parts) {
    if (p != "/") components.push_back(p.string());
  }
  for (size_t i = 0; i < components.size(); ++i) {
    path += "/" + components[i];
    struct stat st;
    if (lstat(path.c_str(), &st) == 0) continue;
    if (errno != ENOENT) return Internal(Errno("checking mountpoint " + path));
    bool last = i + 1 == components.size();
    if (last && is_file) {
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd < 0) return Internal(Errno("creating mountpoint " + path));
      close(fd);
    } else if (mkdir(path.c_str(), 0755) != 0) {
      return Internal(Errno("creating mountpoint " + path));
    }
    created->push_back(path);
  }
  return Status::Ok();
}

// Bind-mounts the volumes in a private mount namespace (the shim's and so the container's).
Status MakeMounts(std::vector<Mount> mounts, ShimState* state) {
  // Parents before children, so /data/sub lands inside the /data volume.
  std::stable_sort(mounts.begin(), mounts.end(), [](const Mount& a, const Mount& b) {
    return std::count(a.container_path.begin(), a.container_path.end(), '/') <
           std::count(b.container_path.begin(), b.container_path.end(), '/');
  });
  for (const auto& m : mounts) {
    if (m.container_path.empty() || m.container_path[0] != '/') {
      return Invalid("mount path \"" + m.container_path + "\" is not absolute");
    }
  }
  if (geteuid() != 0) {
    state->mounts_skipped = "ck-shim is not running as root, so volumeMounts are not bind-mounted; the "
                            "container sees the host's filesystem at those paths";
    return Status::Ok();
  }
  if (unshare(CLONE_NEWNS) != 0) {
    state->mounts_skipped = Errno("cannot create a private mount namespace (unshare CLONE_NEWNS)") +
                            "; volumeMounts are not bind-mounted";
    return Status::Ok();
  }
  // Mounts made here must never propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return Internal(Errno("making / private"));
  for (const auto& m : mounts) {
    struct stat st;
    if (stat(m.host_path.c_str(), &st) != 0) return NotFound(Errno("volume source " + m.host_path));
    CK_RETURN_IF_ERROR(EnsureMountpoint(m.container_path, !S_ISDIR(st.st_mode), &state->created_mountpoints));
    if (mount(m.host_path.c_str(), m.container_path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      return Internal(Errno("bind-mounting " + m.host_path + " at " + m.container_path));
    }
    if (m.read_only &&
        mount(nullptr, m.container_path.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
      return Internal(Errno("remounting " + m.container_path + " read-only"));
    }
  }
  return Status::Ok();
}

class Shim {
 public:
  Shim(std::string dir, int ready_fd) : dir_(std::move(dir)), ready_fd_(ready_fd) {}
  int Run();

 private:
  int Fail(const std::string& message);
  void Report(const std::string& line) {
    if (ready_fd_ < 0) return;
    WriteAll(ready_fd_, line + "\n");
    close(ready_fd_);
    ready_fd_ = -1;
  }
  void Save() {
    Status s = WriteState(dir_, state_);
    if (!s.ok()) std::fprintf(stderr, "ck-shim: %s\n", s.ToString().c_str());
  }
  Result<pid_t> StartContainer(const std::string& executable, int in_fd, int out_fd, int err_fd);
  void Pump(pid_t pid, int out_fd, int err_fd, int* wait_status);

  std::string dir_;
  int ready_fd_;
  ContainerSpec spec_;
  ShimState state_;
  int log_fd_ = -1;
};

int Shim::Fail(const std::string& message) {
  state_.phase = Phase::kExited;
  state_.exit_code = 128;
  state_.reason = "ContainerCannotRun";
  state_.message = message;
  state_.finished_at = Now();
  Save();
  std::fprintf(stderr, "ck-shim: container cannot run: %s\n", message.c_str());
  Report("failed " + message);
  return 1;
}

Result<pid_t> Shim::StartContainer(const std::string& executable, int in_fd, int out_fd, int err_fd) {
  // Everything the child needs is prepared here: between fork and exec it only makes syscalls.
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : spec_.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : spec_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string workdir = spec_.working_dir.empty() ? "/" : spec_.working_dir;
  std::vector<std::string> procs;
  if (spec_.cgroup_version != "none" && !spec_.cgroup_path.empty()) {
    auto cg = cm::CgroupWriter::ForVersion(cm::ParseCgroupVersion(spec_.cgroup_version), spec_.cgroup_root);
    procs = cg.ProcsFiles(spec_.cgroup_path);
    state_.oom_kills_at_start = cg.OomKillCount(spec_.cgroup_path);
  }
  std::string chdir_error = "chdir to working directory \"" + workdir + "\" failed: ";
  std::string cgroup_error = "joining cgroup " + spec_.cgroup_path + " failed: ";
  std::string exec_error = "exec \"" + executable + "\" failed: ";

  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) != 0) return Internal(Errno("pipe"));
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = fork();
  if (pid < 0) {
    close(errpipe[0]);
    close(errpipe[1]);
    return Internal(Errno("fork"));
  }
  if (pid == 0) {
    auto die = [&](const std::string& prefix) {
      const char* e = strerror(errno);
      (void)!write(errpipe[1], prefix.data(), prefix.size());
      (void)!write(errpipe[1], e, strlen(e));
      _exit(127);
    };
    setpgid(0, 0);  // its own process group: StopContainer signals the whole group
    ResetSignalsForExec();
    dup2(in_fd >= 0 ? in_fd : devnull, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    if (chdir(workdir.c_str()) != 0) die(chdir_error);
    char pidbuf[24];
    size_t pidlen = FormatPid(pidbuf, getpid());
    for (const auto& file : procs) {
      int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);  // O_CREAT: test trees
      if (fd < 0 || write(fd, pidbuf, pidlen) != static_cast<ssize_t>(pidlen)) die(cgroup_error + file + ": ");
      close(fd);
    }
    execve(executable.c_str(), argv.data(), envp.data());
    die(exec_error);
  }
  setpgid(pid, pid);  // also from the parent, so a signal sent right after start finds the group
  close(errpipe[1]);
  if (devnull >= 0) close(devnull);
  std::string err;
  char buf[512];
  ssize_t n;
  while ((n = read(errpipe[0], buf, sizeof buf)) != 0) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    err.append(buf, n);
  }
  close(errpipe[0]);
  if (!err.empty()) {
    waitpid(pid, nullptr, 0);
    return Invalid(err);
  }
  return pid;
}

// Copies the container's output into the log until it exits, then collects its status.
void Shim::Pump(pid_t pid, int out_fd, int err_fd, int* wait_status) {
  CriLogWriter log(log_fd_, Now);
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  int fds[2] = {out_fd, err_fd};
  bool exited = false;
  // After the main process exits, give leftover writers a short while to finish.
  MonoTime drain_deadline{};
  char buf[65536];
  while (fds[0] >= 0 || fds[1] >= 0) {
    struct pollfd p[3];
    int n = 0;
    for (int i = 0; i < 2; ++i) {
      if (fds[i] >= 0) p[n++] = {fds[i], POLLIN, 0};
    }
    int pid_slot = -1;
    if (!exited && pidfd >= 0) {
      pid_slot = n;
      p[n++] = {pidfd, POLLIN, 0};
    }
    int timeout_ms = -1;
    if (exited) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(drain_deadline - RealClock::Get().Monotonic());
      if (left.count() <= 0) break;
      timeout_ms = static_cast<int>(left.count());
    } else if (pidfd < 0) {
      timeout_ms = 100;  // no pidfd (old kernel): check on the child now and then
    }
    int r = poll(p, n, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    for (int i = 0; i < n; ++i) {
      if (i == pid_slot || !(p[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int which = p[i].fd == fds[0] ? 0 : 1;
      ssize_t got = read(fds[which], buf, sizeof buf);
      if (got > 0) {
        log.Write(which == 1, std::string_view(buf, got));
      } else if (got == 0 || (errno != EINTR && errno != EAGAIN)) {
        log.Finish(which == 1);
        close(fds[which]);
        fds[which] = -1;
      }
    }
    bool child_done = pid_slot >= 0 ? (p[pid_slot].revents & POLLIN) != 0
                                    : (!exited && pidfd < 0 && waitpid(pid, wait_status, WNOHANG) == pid);
    if (child_done && !exited) {
      if (pid_slot >= 0) waitpid(pid, wait_status, 0);
      exited = true;
      // The container is its main process: what it left behind in its group goes with it.
      kill(-pid, SIGKILL);
      drain_deadline = RealClock::Get().Monotonic() + std::chrono::milliseconds(500);
    }
  }
  for (int i = 0; i < 2; ++i) {
    if (fds[i] >= 0) close(fds[i]);
    log.Finish(i == 1);
  }
  if (!exited) {
    waitpid(pid, wait_status, 0);
    kill(-pid, SIGKILL);
  }
  if (pidfd >= 0) close(pidfd);
}

int Shim::Run() {
  signal(SIGPIPE, SIG_IGN);
  setsid();  // its own session: the kubelet's terminal and process group signals never reach it
  state_.shim_pid = getpid();
  state_.shim_start_ticks = ProcessStartTicks(getpid()).value_or(0);
  WriteFileAtomic(dir_ + "/" + kShimPidFile, std::to_string(getpid()) + "\n").IgnoreError();

  auto spec = ReadSpec(dir_);
  if (!spec.ok()) return Fail("reading the container spec: " + spec.status().message());
  spec_ = std::move(spec).value();
  Save();  // phase "created", with the shim's pid

  if (spec_.argv.empty()) {
    return Fail("no command specified: in process mode a container runs its command from the host's "
                "filesystem; set command");
  }
  auto executable = ResolveExecutable(spec_.argv[0], spec_.env, spec_.working_dir.empty() ? "/" : spec_.working_dir);
  if (!executable.ok()) return Fail(executable.status().message());

  std::string log_path = spec_.log_path.empty() ? dir_ + "/" + kDefaultLogFile : spec_.log_path;
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(log_path).parent_path(), ec);
  log_fd_ = open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (log_fd_ < 0) return Fail(Errno("opening log file " + log_path));

  if (!spec_.mounts.empty()) {
    Status s = MakeMounts(spec_.mounts, &state_);
    Save();  // created mountpoints are recorded even when a later mount fails
    if (!s.ok()) return Fail(s.message());
  }

  int stdin_fd = -1;
  if (spec_.stdin_open) {
    Status s = OpenStdinFifo(dir_, &stdin_fd);
    if (!s.ok()) return Fail(s.message());
  }
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) return Fail(Errno("pipe"));
  auto pid = StartContainer(*executable, stdin_fd, out[1], err[1]);
  close(out[1]);
  close(err[1]);
  if (stdin_fd >= 0) close(stdin_fd);
  if (!pid.ok()) return Fail(pid.status().message());

  state_.phase = Phase::kRunning;
  state_.pid = *pid;
  state_.pid_start_ticks = ProcessStartTicks(*pid).value_or(0);
  state_.started_at = Now();
  Save();
  Report("started " + std::to_string(*pid));

  int wait_status = 0;
  Pump(*pid, out[0], err[0], &wait_status);

  state_.finished_at = Now();
  state_.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status)
                     : WIFSIGNALED(wait_status) ? 128 + WTERMSIG(wait_status)
                                                : 128;
  if (state_.exit_code == 0) {
    state_.reason = "Completed";
  } else if (spec_.cgroup_version != "none" && !spec_.cgroup_path.empty() &&
             cm::CgroupWriter::ForVersion(cm::ParseCgroupVersion(spec_.cgroup_version), spec_.cgroup_root)
                     .OomKillCount(spec_.cgroup_path) > state_.oom_kills_at_start) {
    state_.reason = "OOMKilled";
  } else {
    state_.reason = "Error";
  }
  if (!spec_.termination_message_path.empty()) {
    auto msg = ReadFile(spec_.termination_message_path, kMaxTerminationMessageBytes);
    if (msg.ok()) state_.message = *msg;
  }
  state_.phase = Phase::kExited;
  Save();
  close(log_fd_);
  return 0;
}

}  // namespace

int RunShim(const std::string& state_dir, int ready_fd) {
  if (ready_fd >= 0) fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
  return Shim(state_dir, ready_fd).Run();
}

}  // namespace ck::kubelet::shim
