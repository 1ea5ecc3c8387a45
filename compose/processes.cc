// Spawning, finding and stopping the launcher's processes (see processes.h).

#include "compose/processes.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "common/base/strings.h"

namespace ck::launcher {
namespace fs = std::filesystem;

namespace {

void ReapIfChild(pid_t pid) {
  int status = 0;
  (void)waitpid(pid, &status, WNOHANG);  // ECHILD when it is not ours: nothing to do
}

// Field `index` (1-based, as proc(5) numbers them) of /proc/<pid>/stat; the comm field may hold
// spaces, so counting starts after its closing parenthesis.
std::optional<std::string> StatField(pid_t pid, int index) {
  std::optional<std::string> stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  size_t close = stat->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat->substr(close + 2));
  std::string field;
  for (int i = 3; i <= index; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  return field;
}

std::optional<pid_t> StatPid(pid_t pid, int index) {
  std::optional<std::string> f = StatField(pid, index);
  if (!f) return std::nullopt;
  std::optional<int64_t> v = ParseInt(*f);
  if (!v) return std::nullopt;
  return static_cast<pid_t>(*v);
}

bool WaitGone(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    ReapIfChild(pid);
    if (!ProcessAlive(pid)) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

std::string DaemonBinDir() {
  if (const char* env = std::getenv("CK_BIN_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return ".";
  return self.parent_path().string();
}

Result<pid_t> Spawn(const std::string& path, const std::vector<std::string>& args, const std::string& log_file) {
  if (access(path.c_str(), X_OK) != 0) {
    return NotFound(path + ": not an executable file (build it, or point CK_BIN_DIR at the folder of the daemons)");
  }
  int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Internal("open " + log_file + ": " + std::strerror(errno));
  {
    std::time_t now = std::time(nullptr);
    char when[64];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&now));
    std::string header = std::string("==== ck: starting ") + path;
    for (const std::string& a : args) header += " " + a;
    header += " at " + std::string(when) + " ====\n";
    (void)!write(log_fd, header.data(), header.size());
  }
  std::vector<std::string> argv_storage;
  argv_storage.push_back(path);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Internal(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    setpgid(0, 0);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execv(argv[0], argv.data());
    const char msg[] = "ck: exec failed\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  close(log_fd);
  setpgid(pid, pid);  // also here, so the group exists before anyone signals it
  return pid;
}

std::vector<std::string> ReadCmdline(pid_t pid) {
  std::optional<std::string> raw = ReadWholeFile("/proc/" + std::to_string(pid) + "/cmdline");
  std::vector<std::string> argv;
  if (!raw) return argv;
  for (std::string_view part : Split(*raw, '\0')) argv.emplace_back(part);
  while (!argv.empty() && argv.back().empty()) argv.pop_back();
  return argv;
}

bool ProcessAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::optional<std::string> state = StatField(pid, 3);
  return state && *state != "Z" && *state != "X";
}

bool IsOurProcess(pid_t pid, const std::string& binary, const std::string& state_dir) {
  if (!ProcessAlive(pid)) return false;
  std::vector<std::string> argv = ReadCmdline(pid);
  if (argv.empty() || fs::path(argv[0]).filename() != binary) return false;
  std::error_code ec;
  fs::path cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec);
  fs::path dir = fs::path(state_dir).lexically_normal();
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string value = argv[i];
    if (value.starts_with("-")) {
      size_t eq = value.find('=');
      if (eq == std::string::npos) continue;
      value = value.substr(eq + 1);
    }
    if (value.empty()) continue;
    fs::path p(value);
    if (p.is_relative()) {
      if (ec) continue;
      p = cwd / p;
    }
    fs::path rel = p.lexically_normal().lexically_relative(dir);
    if (!rel.empty() && *rel.begin() != "..") return true;
  }
  return false;
}

bool StopProcess(pid_t pid, std::chrono::milliseconds grace) {
  if (pid <= 0) return true;
  if (kill(pid, SIGTERM) != 0 && errno == ESRCH) {
    ReapIfChild(pid);
    return true;
  }
  if (WaitGone(pid, grace)) return true;
  (void)kill(pid, SIGKILL);
  return WaitGone(pid, std::chrono::seconds(5));
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    return "killed by signal " + std::to_string(WTERMSIG(wait_status)) + " (" + strsignal(WTERMSIG(wait_status)) + ")";
  }
  return "ended (status " + std::to_string(wait_status) + ")";
}

// StopContainersUnder reads the process runtime's container folders (kubelet/shim/shim_state.h):
//   <node root>/pods/<uid>/containers/<id>/state.json  {"shim_pid", "shim_start_ticks", "pid",
//                                                       "pid_start_ticks", "phase", ...}
//   <node root>/pods/<uid>/containers/<id>/shim.pid    the shim's pid (when state.json has none)
// A shim is signalled only when its cmdline runs ck-shim for this state folder (and its start
// time matches when recorded); a container process only when its /proc start time matches
// pid_start_ticks, or, when none is recorded, when it is the shim's child or in its session. The
// container runs in its own process group, which gets the signals too.
int StopContainersUnder(const std::string& nodes_dir, std::chrono::milliseconds grace, std::ostream& log) {
  std::error_code ec;
  if (!fs::is_directory(nodes_dir, ec)) return 0;
  fs::path state_dir = fs::path(nodes_dir).parent_path();
  struct Victim {
    pid_t pid;
    bool group;
    std::string what;
  };
  std::vector<Victim> victims;
  auto start_ticks = [](pid_t pid) -> uint64_t {
    std::optional<std::string> f = StatField(pid, 22);
    std::optional<uint64_t> v = f ? ParseUint(*f) : std::nullopt;
    return v.value_or(0);
  };
  for (const fs::directory_entry& node : fs::directory_iterator(nodes_dir, ec)) {
    fs::path pods = node.path() / "pods";
    if (!fs::is_directory(pods, ec)) continue;
    for (const fs::directory_entry& pod : fs::directory_iterator(pods, ec)) {
      fs::path containers = pod.path() / "containers";
      if (!fs::is_directory(containers, ec)) continue;
      for (const fs::directory_entry& c : fs::directory_iterator(containers, ec)) {
        std::string where = c.path().lexically_relative(state_dir).string();
        std::optional<pid_t> shim = ReadPidFile((c.path() / "shim.pid").string());
        uint64_t shim_ticks = 0, container_ticks = 0;
        pid_t container = 0;
        if (std::optional<std::string> json = ReadWholeFile((c.path() / "state.json").string())) {
          try {
            YAML::Node state = YAML::Load(*json);
            if (state["shim_pid"] && state["shim_pid"].as<pid_t>() > 0) shim = state["shim_pid"].as<pid_t>();
            if (state["shim_start_ticks"]) shim_ticks = state["shim_start_ticks"].as<uint64_t>();
            if (state["pid"]) container = state["pid"].as<pid_t>();
            if (state["pid_start_ticks"]) container_ticks = state["pid_start_ticks"].as<uint64_t>();
            if (state["phase"] && state["phase"].as<std::string>() == "exited") container = 0;
          } catch (const YAML::Exception&) {
            log << "  " << where << "/state.json does not parse; its container is left alone\n";
          }
        }
        bool shim_ours = shim && IsOurProcess(*shim, "ck-shim", state_dir.string()) &&
                         (shim_ticks == 0 || start_ticks(*shim) == shim_ticks);
        if (container > 0 && ProcessAlive(container)) {
          bool verified;
          if (container_ticks != 0) {
            verified = start_ticks(container) == container_ticks;
          } else {
            verified = shim_ours && (StatPid(container, 4) == *shim || StatPid(container, 6) == StatPid(*shim, 6));
          }
          if (verified) {
            victims.push_back({container, StatPid(container, 5) == container, "container " + where});
          } else {
            log << "  container " << where << " pid " << container
                << " is not the process that was started there; left alone\n";
          }
        }
        if (shim_ours) victims.push_back({*shim, false, "ck-shim " + where});
      }
    }
  }
  int stopped = 0;
  // All at once, each with its own grace period: a shim records its container's exit itself.
  std::vector<std::thread> threads;
  std::vector<char> gone(victims.size(), 0);
  for (size_t i = 0; i < victims.size(); ++i) {
    threads.emplace_back([&, i] {
      const Victim& v = victims[i];
      if (v.group) (void)kill(-v.pid, SIGTERM);
      gone[i] = StopProcess(v.pid, grace);
      if (v.group) (void)kill(-v.pid, SIGKILL);  // what is left of the container's process group
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < victims.size(); ++i) {
    log << "  stopped " << victims[i].what << " (pid " << victims[i].pid << ")" << (gone[i] ? "" : " — still running!")
        << "\n";
    if (gone[i]) ++stopped;
  }
  return stopped;
}

std::optional<pid_t> ReadPidFile(const std::string& path) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return std::nullopt;
  std::optional<int64_t> v = ParseInt(TrimSpace(*text));
  if (!v || *v <= 0 || *v > (int64_t{1} << 22)) return std::nullopt;
  return static_cast<pid_t>(*v);
}

Status WriteFileAtomic(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return Internal("write " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Internal("rename " + tmp + " to " + path + ": " + why);
  }
  return Status::Ok();
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TailLines(const std::string& path, int n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (static_cast<int>(lines.size()) > n) lines.pop_front();
  }
  std::string out;
  for (const std::string& l : lines) out += l + "\n";
  return out;
}

}  // namespace ck::launcher
