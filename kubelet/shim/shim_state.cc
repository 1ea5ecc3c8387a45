#include "kubelet/shim/shim_state.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>

#include "common/base/strings.h"

namespace ck::kubelet::shim {
namespace {

using nlohmann::json;

int64_t ToNanos(WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}
WallTime FromNanos(int64_t n) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(std::chrono::nanoseconds(n)));
}

const char* PhaseName(Phase p) {
  switch (p) {
    case Phase::kCreated: return "created";
    case Phase::kRunning: return "running";
    case Phase::kExited: return "exited";
  }
  return "created";
}

Phase ParsePhase(const std::string& s) {
  if (s == "running") return Phase::kRunning;
  if (s == "exited") return Phase::kExited;
  return Phase::kCreated;
}

// Parses JSON text and hands the document to `fill`; nlohmann's throws stay inside this file.
template <typename T, typename Fill>
Result<T> Decode(std::string_view text, const char* what, Fill fill) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return Invalid(std::string(what) + " is not a JSON object");
  try {
    T out;
    fill(doc, out);
    return out;
  } catch (const json::exception& e) {
    return Invalid(std::string(what) + ": " + e.what());
  }
}

}  // namespace

std::string SpecToJson(const ContainerSpec& s) {
  json env = json::array();
  for (const auto& [k, v] : s.env) env.push_back({{"name", k}, {"value", v}});
  json mounts = json::array();
  for (const auto& m : s.mounts) {
    mounts.push_back({{"host_path", m.host_path}, {"container_path", m.container_path}, {"read_only", m.read_only}});
  }
  json doc = {
      {"id", s.id},
      {"pod", {{"uid", s.pod_uid}, {"name", s.pod_name}, {"namespace", s.pod_namespace}, {"ip", s.pod_ip}}},
      {"name", s.name},
      {"image", s.image},
      {"argv", s.argv},
      {"env", env},
      {"working_dir", s.working_dir},
      {"mounts", mounts},
      {"resources",
       {{"cpu_shares", s.resources.cpu_shares},
        {"cpu_quota_us", s.resources.cpu_quota_us},
        {"cpu_period_us", s.resources.cpu_period_us},
        {"memory_limit_bytes", s.resources.memory_limit_bytes}}},
      {"attempt", s.attempt},
      {"init", s.init},
      {"stdin", s.stdin_open},
      {"stdin_once", s.stdin_once},
      {"tty", s.tty},
      {"log_path", s.log_path},
      {"termination_message_path", s.termination_message_path},
      {"labels", s.labels},
      {"annotations", s.annotations},
      {"created_at_ns", ToNanos(s.created_at)},
      {"cgroup", {{"version", s.cgroup_version}, {"root", s.cgroup_root}, {"path", s.cgroup_path}}},
  };
  return doc.dump(2) + "\n";
}

Result<ContainerSpec> SpecFromJson(std::string_view text) {
  return Decode<ContainerSpec>(text, "spec.json", [](const json& d, ContainerSpec& s) {
    s.id = d.at("id").get<std::string>();
    const json& pod = d.at("pod");
    s.pod_uid = pod.value("uid", "");
    s.pod_name = pod.value("name", "");
    s.pod_namespace = pod.value("namespace", "");
    s.pod_ip = pod.value("ip", "");
    s.name = d.value("name", "");
    s.image = d.value("image", "");
    s.argv = d.value("argv", std::vector<std::string>{});
    for (const auto& e : d.value("env", json::array())) {
      s.env.emplace_back(e.at("name").get<std::string>(), e.value("value", ""));
    }
    s.working_dir = d.value("working_dir", "");
    for (const auto& m : d.value("mounts", json::array())) {
      s.mounts.push_back(Mount{m.at("host_path").get<std::string>(), m.at("container_path").get<std::string>(),
                               m.value("read_only", false)});
    }
    const json r = d.value("resources", json::object());
    s.resources.cpu_shares = r.value("cpu_shares", int64_t{0});
    s.resources.cpu_quota_us = r.value("cpu_quota_us", int64_t{0});
    s.resources.cpu_period_us = r.value("cpu_period_us", int64_t{100000});
    s.resources.memory_limit_bytes = r.value("memory_limit_bytes", int64_t{0});
    s.attempt = d.value("attempt", 0);
    s.init = d.value("init", false);
    s.stdin_open = d.value("stdin", false);
    s.stdin_once = d.value("stdin_once", false);
    s.tty = d.value("tty", false);
    s.log_path = d.value("log_path", "");
    s.termination_message_path = d.value("termination_message_path", "");
    s.labels = d.value("labels", std::map<std::string, std::string>{});
    s.annotations = d.value("annotations", std::map<std::string, std::string>{});
    s.created_at = FromNanos(d.value("created_at_ns", int64_t{0}));
    const json cg = d.value("cgroup", json::object());
    s.cgroup_version = cg.value("version", "none");
    s.cgroup_root = cg.value("root", "");
    s.cgroup_path = cg.value("path", "");
  });
}

std::string StateToJson(const ShimState& s) {
  json doc = {
      {"phase", PhaseName(s.phase)},
      {"shim_pid", s.shim_pid},
      {"shim_start_ticks", s.shim_start_ticks},
      {"pid", s.pid},
      {"pid_start_ticks", s.pid_start_ticks},
      {"started_at_ns", ToNanos(s.started_at)},
      {"finished_at_ns", ToNanos(s.finished_at)},
      {"exit_code", s.exit_code},
      {"reason", s.reason},
      {"message", s.message},
      {"mounts_skipped", s.mounts_skipped},
      {"created_mountpoints", s.created_mountpoints},
      {"oom_kills_at_start", s.oom_kills_at_start},
  };
  return doc.dump(2) + "\n";
}

Result<ShimState> StateFromJson(std::string_view text) {
  return Decode<ShimState>(text, "state.json", [](const json& d, ShimState& s) {
    s.phase = ParsePhase(d.value("phase", "created"));
    s.shim_pid = d.value("shim_pid", int64_t{0});
    s.shim_start_ticks = d.value("shim_start_ticks", uint64_t{0});
    s.pid = d.value("pid", int64_t{0});
    s.pid_start_ticks = d.value("pid_start_ticks", uint64_t{0});
    s.started_at = FromNanos(d.value("started_at_ns", int64_t{0}));
    s.finished_at = FromNanos(d.value("finished_at_ns", int64_t{0}));
    s.exit_code = d.value("exit_code", 0);
    s.reason = d.value("reason", "");
    s.message = d.value("message", "");
    s.mounts_skipped = d.value("mounts_skipped", "");
    s.created_mountpoints = d.value("created_mountpoints", std::vector<std::string>{});
    s.oom_kills_at_start = d.value("oom_kills_at_start", int64_t{0});
  });
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + " does not exist");
    return Internal("opening " + path + ": " + std::strerror(errno));
  }
  std::string out;
  char buf[8192];
  while (out.size() < max_bytes) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, max_bytes - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      return Internal("reading " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view content) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("creating " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Internal("writing " + tmp + ": " + std::strerror(err));
    }
    done += n;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Internal("renaming " + tmp + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Result<ContainerSpec> ReadSpec(const std::string& dir) {
  CK_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/" + kSpecFile));
  return SpecFromJson(text);
}

Result<ShimState> ReadState(const std::string& dir) {
  CK_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/" + kStateFile));
  return StateFromJson(text);
}

Status WriteSpec(const std::string& dir, const ContainerSpec& spec) {
  return WriteFileAtomic(dir + "/" + kSpecFile, SpecToJson(spec));
}

Status WriteState(const std::string& dir, const ShimState& state) {
  return WriteFileAtomic(dir + "/" + kStateFile, StateToJson(state));
}

std::string FormatRfc3339Nano(WallTime t) {
  int64_t ns = ToNanos(t);
  int64_t secs = ns / 1000000000;
  int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    secs -= 1;
  }
  time_t tt = static_cast<time_t>(secs);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out(buf, n);
  if (frac != 0) {
    char digits[16];
    snprintf(digits, sizeof digits, ".%09ld", static_cast<long>(frac));
    std::string f = digits;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::optional<CriLogLine> ParseCriLogLine(std::string_view line) {
  size_t a = line.find(' ');
  if (a == std::string_view::npos) return std::nullopt;
  size_t b = line.find(' ', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  size_t c = line.find(' ', b + 1);
  std::string_view tag = line.substr(b + 1, c == std::string_view::npos ? std::string_view::npos : c - b - 1);
  CriLogLine out;
  out.time = std::string(line.substr(0, a));
  out.stream = std::string(line.substr(a + 1, b - a - 1));
  if (out.stream != "stdout" && out.stream != "stderr") return std::nullopt;
  if (tag != "F" && tag != "P") return std::nullopt;
  out.partial = tag == "P";
  out.text = c == std::string_view::npos ? "" : std::string(line.substr(c + 1));
  return out;
}

void CriLogWriter::Emit(bool is_stderr, bool partial, std::string_view text) {
  std::string line = FormatRfc3339Nano(now_());
  line += is_stderr ? " stderr " : " stdout ";
  line += partial ? "P " : "F ";
  line.append(text);
  line += '\n';
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a full disk loses log lines, never the container
    done += n;
  }
}

void CriLogWriter::Write(bool is_stderr, std::string_view data) {
  std::string& buf = pending_[is_stderr ? 1 : 0];
  buf.append(data);
  size_t start = 0;
  while (true) {
    size_t nl = buf.find('\n', start);
    size_t avail = (nl == std::string::npos ? buf.size() : nl) - start;
    if (avail >= kMaxLogLineBytes) {
      Emit(is_stderr, true, std::string_view(buf).substr(start, kMaxLogLineBytes));
      start += kMaxLogLineBytes;
      continue;
    }
    if (nl == std::string::npos) break;
    Emit(is_stderr, false, std::string_view(buf).substr(start, nl - start));
    start = nl + 1;
  }
  buf.erase(0, start);
}

void CriLogWriter::Finish(bool is_stderr) {
  std::string& buf = pending_[is_stderr ? 1 : 0];
  if (!buf.empty()) Emit(is_stderr, true, buf);
  buf.clear();
}

std::optional<uint64_t> ProcessStartTicks(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  auto text = ReadFile("/proc/" + std::to_string(pid) + "/stat", 4096);
  if (!text.ok()) return std::nullopt;
  // "pid (comm) S ppid ..." — comm may hold spaces and parentheses, so parse after the last ')'.
  size_t close = text->rfind(')');
  if (close == std::string::npos) return std::nullopt;
  auto fields = Split(std::string_view(*text).substr(close + 1), ' ', true);
  // fields[0] is the state (field 3); starttime is field 22.
  if (fields.size() < 20) return std::nullopt;
  if (fields[0] == "Z" || fields[0] == "X" || fields[0] == "x") return std::nullopt;
  return ParseUint(fields[19]);
}

bool ProcessAlive(pid_t pid, uint64_t start_ticks) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0 && errno != EPERM) return false;
  auto ticks = ProcessStartTicks(pid);
  if (!ticks) return false;
  return start_ticks == 0 || *ticks == start_ticks;
}

Result<std::string> ResolveExecutable(const std::string& argv0,
                                      const std::vector<std::pair<std::string, std::string>>& env,
                                      const std::string& working_dir) {
  if (argv0.empty()) return Invalid("no command specified");
  auto usable = [](const std::string& p) {
    struct stat st;
    return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(p.c_str(), X_OK) == 0;
  };
  if (argv0.find('/') != std::string::npos) {
    std::string p = argv0[0] == '/' || working_dir.empty() ? argv0 : working_dir + "/" + argv0;
    struct stat st;
    if (stat(p.c_str(), &st) != 0) return NotFound("exec: \"" + argv0 + "\": no such file or directory");
    if (!usable(p)) return Invalid("exec: \"" + argv0 + "\": permission denied (not an executable file)");
    return argv0;
  }
  std::string path = kDefaultPath;
  for (const auto& [k, v] : env) {
    if (k == "PATH") path = v;
  }
  for (std::string_view dir : Split(path, ':')) {
    std::string candidate = (dir.empty() ? std::string(".") : std::string(dir)) + "/" + argv0;
    if (usable(candidate)) return candidate;
  }
  return NotFound("exec: \"" + argv0 + "\": executable file not found in $PATH");
}

void ResetSignalsForExec() {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl;
  std::memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGQUIT, SIGUSR1, SIGUSR2}) sigaction(sig, &dfl, nullptr);
}

size_t FormatPid(char* buf, long v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (size_t i = 0; i < n; ++i) buf[i] = tmp[n - 1 - i];
  return n;
}

}  // namespace ck::kubelet::shim
