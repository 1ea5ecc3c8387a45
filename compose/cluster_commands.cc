// ck up / down / status / stop / start (see cluster_commands.h).

#include "compose/cluster_commands.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <streambuf>
#include <thread>

#include "common/base/clock.h"
#include "common/base/strings.h"
#include "common/pki/pki.h"
#include "compose/cluster_plan.h"
#include "compose/probe.h"
#include "compose/processes.h"
#include "compose/run_state.h"
#include "compose/supervisor.h"

namespace ck::launcher {
namespace fs = std::filesystem;

namespace {

constexpr std::chrono::milliseconds kGrace{10'000};
// The supervisor stops three groups with a grace each, then the containers.
constexpr std::chrono::milliseconds kSupervisorGrace{60'000};

std::string AbsoluteDir(const std::string& dir) {
  std::error_code ec;
  std::string abs = fs::absolute(dir, ec).lexically_normal().string();
  while (abs.size() > 1 && abs.back() == '/') abs.pop_back();
  return ec ? dir : abs;
}

std::optional<pid_t> LiveSupervisor(const StateLayout& d) {
  std::optional<pid_t> pid = ReadPidFile(d.SupervisorPidFile());
  if (pid && *pid != getpid() && IsOurProcess(*pid, "ck", d.dir)) return pid;
  return std::nullopt;
}

// DIR/run/cluster: what status/start need to reach the daemons again.
std::string FormatClusterFile(const UpOptions& o) {
  return "nodes=" + std::to_string(o.nodes) + "\napiserver_port=" + std::to_string(o.apiserver_port) +
         "\ncontroller_manager_port=" + std::to_string(o.controller_manager_port) +
         "\nscheduler_port=" + std::to_string(o.scheduler_port) + "\nkubelet_port=" + std::to_string(o.kubelet_port) +
         "\nprofile=" + o.profile + "\nruntime=" + o.runtime + "\nready_timeout_seconds=" +
         std::to_string(o.ready_timeout_seconds) + "\n";
}

UpOptions ReadClusterFile(const StateLayout& d) {
  UpOptions o;
  o.state_dir = d.dir;
  std::optional<std::string> text = ReadWholeFile(d.ClusterFile());
  if (!text) return o;
  for (std::string_view line : Split(*text, '\n', true)) {
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "profile") o.profile = std::string(value);
    if (key == "runtime") o.runtime = std::string(value);
    std::optional<int64_t> n = ParseInt(value);
    if (!n) continue;
    int v = static_cast<int>(*n);
    if (key == "nodes") o.nodes = v;
    if (key == "apiserver_port") o.apiserver_port = v;
    if (key == "controller_manager_port") o.controller_manager_port = v;
    if (key == "scheduler_port") o.scheduler_port = v;
    if (key == "kubelet_port") o.kubelet_port = v;
    if (key == "ready_timeout_seconds") o.ready_timeout_seconds = v;
  }
  return o;
}

// A serving certificate for a daemon that has none in ck pki's set (controller-manager,
// scheduler), so the launcher can check their /healthz against the cluster CA. Kept while it
// still verifies.
Status EnsureServingCert(const StateLayout& d, const std::string& name, int* written) {
  std::string crt = d.File(name + "-serving.crt"), key = d.File(name + "-serving.key");
  std::optional<std::string> ca_crt = ReadWholeFile(d.File("ca.crt")), ca_key = ReadWholeFile(d.File("ca.key"));
  if (!ca_crt || !ca_key) return NotFound(d.File("ca.crt") + " or ca.key cannot be read");
  std::optional<std::string> old_crt = ReadWholeFile(crt), old_key = ReadWholeFile(key);
  if (old_crt && old_key && pki::VerifyCert(*old_crt, *ca_crt).ok() && pki::CheckKeyMatchesCert(*old_key, *old_crt).ok()) {
    return Status::Ok();
  }
  pki::CertSpec spec;
  spec.common_name = name;
  spec.dns_names = {"localhost", name};
  spec.ip_addresses = {"127.0.0.1"};
  spec.server_auth = true;
  CK_ASSIGN_OR_RETURN(pki::KeyAndCert kc, pki::IssueCert(spec, pki::KeyAndCert{*ca_key, *ca_crt}));
  CK_RETURN_IF_ERROR(WriteFileAtomic(key, kc.key_pem));
  chmod(key.c_str(), 0600);
  CK_RETURN_IF_ERROR(WriteFileAtomic(crt, kc.cert_pem));
  ++*written;
  return Status::Ok();
}

// Sends each whole line written to it to `also` and, while attached, through a pipe to the
// `ck up --detach` parent as "<tag><line>".
class PipeLineBuf : public std::streambuf {
 public:
  PipeLineBuf(int fd, char tag, std::ostream& also) : fd_(fd), tag_(tag), also_(also) {}
  void Detach() { fd_ = -1; }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return 0;
    line_.push_back(static_cast<char>(c));
    if (c == '\n') FlushLine();
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) overflow(static_cast<unsigned char>(s[i]));
    return n;
  }

 private:
  void FlushLine() {
    also_ << line_ << std::flush;
    if (fd_ >= 0) {
      std::string framed = tag_ + line_;
      (void)!write(fd_, framed.data(), framed.size());
    }
    line_.clear();
  }
  int fd_;
  char tag_;
  std::ostream& also_;
  std::string line_;
};

// Relays the detached supervisor's start-up lines; returns its verdict.
int RelayDetached(int fd, const StateLayout& d, std::ostream& out, std::ostream& err) {
  std::string buffer;
  char chunk[4096];
  while (true) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, nl + 1);
      buffer.erase(0, nl + 1);
      char tag = line[0];
      std::string text = line.substr(1);
      if (tag == '1') out << text << std::flush;
      if (tag == '2') err << text << std::flush;
      if (tag == 'R') {
        close(fd);
        return ParseInt(TrimSpace(text)).value_or(kExitFailed);
      }
    }
  }
  close(fd);
  err << "ck up: the supervisor ended before the cluster was ready; see " << d.SupervisorLog() << "\n";
  return kExitFailed;
}

int RunUp(UpOptions o, std::ostream& out, std::ostream& err) {
  if (Status s = ValidateUpOptions(o); !s.ok()) {
    err << "ck up: " << s.message() << "\n";
    return kExitUsage;
  }
  StateLayout d{o.state_dir};
  std::string bin_dir = DaemonBinDir();
  std::vector<ComponentSpec> specs = BuildComponents(o);
  for (const ComponentSpec& s : specs) {
    if (access((bin_dir + "/" + s.binary).c_str(), X_OK) != 0) {
      err << "ck up: " << s.binary << " not found in " << bin_dir
          << " (build it, or set CK_BIN_DIR to the folder that holds the daemons)\n";
      return kExitFailed;
    }
  }
  std::error_code ec;
  std::vector<std::string> dirs = {d.dir, d.LogDir(), d.RunDir()};
  for (const ComponentSpec& s : specs) {
    for (const std::string& a : s.args) {
      if (a.starts_with("--pod-manifest-path=")) dirs.push_back(a.substr(a.find('=') + 1));
    }
  }
  for (const std::string& sub : dirs) {
    fs::create_directories(sub, ec);
    if (ec) {
      err << "ck up: " << sub << ": " << ec.message() << "\n";
      return kExitFailed;
    }
  }
  if (std::optional<pid_t> sup = LiveSupervisor(d)) {
    err << "ck up: a supervisor is already running for " << d.dir << " (pid " << *sup
        << "); use ck status, or ck down first\n";
    return kExitFailed;
  }
  for (const fs::directory_entry& e : fs::directory_iterator(d.RunDir(), ec)) {
    if (e.path().extension() != ".pid") continue;
    std::string name = e.path().stem().string();
    std::optional<pid_t> pid = ReadPidFile(e.path().string());
    if (pid && !BinaryOf(name).empty() && IsOurProcess(*pid, BinaryOf(name), d.dir)) {
      err << "ck up: " << name << " from an earlier ck up is still running (pid " << *pid
          << "); run ck down --state-dir " << d.dir << " first\n";
      return kExitFailed;
    }
  }
  // A fresh run starts from no markers and no records.
  for (const fs::directory_entry& e : fs::directory_iterator(d.RunDir(), ec)) fs::remove(e.path(), ec);

  pki::PkiOptions pki_options;
  pki_options.dir = d.dir;
  // The fake runtime's one kubelet uses the admin identity and node-1's serving certificate.
  pki_options.nodes = o.runtime == "fake" ? 1 : std::max(o.nodes, 1);
  pki_options.service_cidr = o.service_cidr;
  pki_options.server = "https://127.0.0.1:" + std::to_string(o.apiserver_port);
  Result<pki::PkiReport> report = pki::WritePkiFiles(pki_options);
  if (!report.ok()) {
    err << "ck up: pki: " << report.status().message() << "\n";
    return kExitFailed;
  }
  int serving_written = 0;
  for (const char* name : {"controller-manager", "scheduler"}) {
    if (Status s = EnsureServingCert(d, name, &serving_written); !s.ok()) {
      err << "ck up: pki: " << s.message() << "\n";
      return kExitFailed;
    }
  }
  std::string names;
  for (const ComponentSpec& s : specs) names += s.name + "\n";
  for (const auto& [path, content] : {std::pair{d.ComponentsFile(), names}, {d.ClusterFile(), FormatClusterFile(o)}}) {
    if (Status s = WriteFileAtomic(path, content); !s.ok()) {
      err << "ck up: " << s.message() << "\n";
      return kExitFailed;
    }
  }
  char pki_line[160];
  std::snprintf(pki_line, sizeof pki_line, "  %-20s %zu files written, %zu kept", "pki",
                report->written.size() + 2 * serving_written, report->kept.size() + 2 * (2 - serving_written));

  if (!o.detach) {
    out << pki_line << std::endl;
    if (Status s = WriteFileAtomic(d.SupervisorPidFile(), std::to_string(getpid()) + "\n"); !s.ok()) {
      err << "ck up: " << s.message() << "\n";
      return kExitFailed;
    }
    InstallSupervisorSignalHandlers();
    Supervisor sup(o, specs, bin_dir, RealClock::Get(), out, err);
    if (!sup.StartCluster().ok()) {
      std::remove(d.SupervisorPidFile().c_str());
      return kExitFailed;
    }
    sup.Supervise();
    std::remove(d.SupervisorPidFile().c_str());
    return kExitOk;
  }

  // --detach: a child in its own session becomes the supervisor; this process relays its
  // start-up lines and returns after the KUBECONFIG line (or the failure).
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    err << "ck up: pipe: " << std::strerror(errno) << "\n";
    return kExitFailed;
  }
  out.flush();
  err.flush();
  std::cout.flush();
  std::cerr.flush();
  pid_t child = fork();
  if (child < 0) {
    err << "ck up: fork: " << std::strerror(errno) << "\n";
    return kExitFailed;
  }
  if (child > 0) {
    close(fds[1]);
    out << pki_line << std::endl;
    return RelayDetached(fds[0], d, out, err);
  }
  close(fds[0]);
  setsid();
  int log_fd = open(d.SupervisorLog().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY);
  if (log_fd >= 0 && null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
  }
  std::cout << "==== ck up --detach: supervisor pid " << getpid() << " ====" << std::endl;
  PipeLineBuf out_buf(fds[1], '1', std::cout), err_buf(fds[1], '2', std::cout);
  std::ostream sup_out(&out_buf), sup_err(&err_buf);
  int code = kExitOk;
  if (Status s = WriteFileAtomic(d.SupervisorPidFile(), std::to_string(getpid()) + "\n"); !s.ok()) {
    sup_err << "ck up: " << s.message() << "\n";
    code = kExitFailed;
  }
  InstallSupervisorSignalHandlers();
  signal(SIGHUP, SIG_IGN);
  std::optional<Supervisor> sup;
  if (code == kExitOk) {
    sup.emplace(o, specs, bin_dir, RealClock::Get(), sup_out, sup_err);
    if (!sup->StartCluster().ok()) code = kExitFailed;
  }
  std::string verdict = "R" + std::to_string(code) + "\n";
  (void)!write(fds[1], verdict.data(), verdict.size());
  out_buf.Detach();
  err_buf.Detach();
  close(fds[1]);
  if (code == kExitOk) sup->Supervise();
  std::remove(d.SupervisorPidFile().c_str());
  std::cout.flush();
  std::exit(code);
}

// ---- ck down -------------------------------------------------------------------------------

int RunDown(const std::string& dir_flag, bool purge, std::ostream& out, std::ostream& err) {
  StateLayout d{AbsoluteDir(dir_flag)};
  std::error_code ec;
  if (!fs::is_directory(d.dir, ec)) {
    err << "ck down: " << d.dir << " is not a folder\n";
    return kExitFailed;
  }
  int stopped = 0;
  if (std::optional<pid_t> sup = LiveSupervisor(d)) {
    bool gone = StopProcess(*sup, kSupervisorGrace);
    out << "  stopped supervisor (pid " << *sup << ")" << (gone ? "" : " — still running!") << "\n";
    if (gone) ++stopped;
  }
  for (const fs::directory_entry& e : fs::directory_iterator(d.RunDir(), ec)) {
    if (e.path().extension() != ".pid") continue;
    std::string name = e.path().stem().string();
    std::string binary = BinaryOf(name);
    std::optional<pid_t> pid = ReadPidFile(e.path().string());
    if (!pid || binary.empty()) continue;
    if (!IsOurProcess(*pid, binary, d.dir)) continue;  // gone, or the PID now belongs to another process
    bool gone = StopProcess(*pid, kGrace);
    out << "  stopped " << name << " (pid " << *pid << ")" << (gone ? "" : " — still running!") << "\n";
    if (gone) ++stopped;
  }
  stopped += StopContainersUnder(d.NodesDir(), kGrace, out);
  fs::remove_all(d.RunDir(), ec);
  fs::remove(d.SupervisorPidFile(), ec);
  if (purge) {
    // Only a folder that looks like a ck state folder is deleted.
    if (!fs::exists(d.File("ca.crt"), ec) && !fs::exists(d.File("admin.kubeconfig"), ec) &&
        !fs::exists(d.LogDir(), ec)) {
      err << "ck down: --purge: " << d.dir << " does not look like a ck state folder (no ca.crt, "
          << "admin.kubeconfig or logs/); not deleted\n";
      return kExitFailed;
    }
    fs::remove_all(d.dir, ec);
    if (ec) {
      err << "ck down: --purge: " << d.dir << ": " << ec.message() << "\n";
      return kExitFailed;
    }
  }
  out << "ck down: " << d.dir << ": " << stopped << (stopped == 1 ? " process" : " processes") << " stopped"
      << (purge ? "; folder deleted" : "") << "\n";
  return kExitOk;
}

// ---- ck status / stop / start --------------------------------------------------------------

struct ClusterView {
  StateLayout layout;
  UpOptions options;
  std::vector<std::string> components;
};

// Exit code, or nullopt when the folder holds a cluster.
std::optional<int> LoadCluster(const char* command, const std::string& dir_flag, ClusterView* v, std::ostream& err) {
  v->layout = StateLayout{AbsoluteDir(dir_flag)};
  v->components = ReadComponents(v->layout.ComponentsFile());
  if (v->components.empty()) {
    err << "ck " << command << ": no cluster recorded in " << v->layout.dir << " (no " << v->layout.ComponentsFile()
        << "; start one with ck up)\n";
    return kExitFailed;
  }
  v->options = ReadClusterFile(v->layout);
  return std::nullopt;
}

std::optional<int> CheckComponent(const char* command, const ClusterView& v, const std::string& name, std::ostream& err) {
  for (const std::string& c : v.components) {
    if (c == name) return std::nullopt;
  }
  err << "ck " << command << ": unknown component \"" << name << "\" (components: " << Join(v.components, ", ") << ")\n";
  return kExitUsage;
}

ComponentSpec SpecOf(const ClusterView& v, const std::string& name) {
  for (ComponentSpec& s : BuildComponents(v.options)) {
    if (s.name == name) return s;
  }
  return {};
}

int RunStatus(const std::string& dir_flag, std::ostream& out, std::ostream& err) {
  ClusterView v;
  if (auto rc = LoadCluster("status", dir_flag, &v, err)) return *rc;
  const StateLayout& d = v.layout;
  int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  Result<std::unique_ptr<Prober>> prober =
      Prober::Create(d.AdminKubeconfig(), v.options.apiserver_port, std::chrono::milliseconds(1500));
  std::optional<std::map<std::string, bool>> nodes;
  auto row = [&](const std::string& name, const std::string& pid, const std::string& state,
                 const std::string& restarts, const std::string& uptime, const std::string& ready) {
    char line[256];
    std::snprintf(line, sizeof line, "%-20s %-8s %-8s %-9s %-8s %s\n", name.c_str(), pid.c_str(), state.c_str(),
                  restarts.c_str(), uptime.c_str(), ready.c_str());
    out << line;
  };
  row("COMPONENT", "PID", "STATE", "RESTARTS", "UPTIME", "READY");
  if (std::optional<pid_t> sup = LiveSupervisor(d)) {
    struct stat st {};
    std::string uptime = "-";
    if (stat(d.SupervisorPidFile().c_str(), &st) == 0) uptime = FormatUptime(now_ms / 1000 - st.st_mtime);
    row("supervisor", std::to_string(*sup), "running", "-", uptime, "-");
  } else {
    row("supervisor", "-", fs::exists(d.SupervisorPidFile()) ? "exited" : "stopped", "-", "-", "-");
  }
  for (const std::string& name : v.components) {
    ComponentRecord r = ReadRecord(d.StateFile(name)).value_or(ComponentRecord{});
    bool alive = r.pid > 0 && IsOurProcess(r.pid, BinaryOf(name), d.dir);
    std::string state;
    if (r.state == "running" || r.state == "stopping") {
      state = alive ? "running" : "exited";
    } else if (r.state == "exited" || r.state == "backoff") {
      state = "exited";
    } else {
      state = "stopped";
    }
    std::string ready = "-";
    if (state == "running") {
      ComponentSpec spec = SpecOf(v, name);
      if (!prober.ok()) {
        ready = "?";
      } else if (spec.readiness == Readiness::kNodeReady) {
        if (!nodes) {
          Result<std::map<std::string, bool>> n = (*prober)->NodeReadiness();
          nodes = n.ok() ? *n : std::map<std::string, bool>{};
        }
        ready = NodesReady(spec, *nodes) ? "yes" : "no";
      } else {
        ready = (*prober)->Ready(spec) ? "yes" : "no";
      }
    }
    row(name, state == "running" ? std::to_string(r.pid) : "-", state, std::to_string(r.restarts),
        state == "running" && r.started_unix_ms > 0 ? FormatUptime((now_ms - r.started_unix_ms) / 1000) : "-", ready);
  }
  return kExitOk;
}

// Polls `done` every 50 ms until it is true or `timeout` passes.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

int RunStop(const std::string& dir_flag, const std::string& name, std::ostream& out, std::ostream& err) {
  ClusterView v;
  if (auto rc = LoadCluster("stop", dir_flag, &v, err)) return *rc;
  if (auto rc = CheckComponent("stop", v, name, err)) return *rc;
  const StateLayout& d = v.layout;
  if (Status s = WriteFileAtomic(d.StoppedMarker(name), ""); !s.ok()) {
    err << "ck stop: " << s.message() << "\n";
    return kExitFailed;
  }
  std::string binary = BinaryOf(name);
  ComponentRecord before = ReadRecord(d.StateFile(name)).value_or(ComponentRecord{});
  if (LiveSupervisor(d)) {
    bool stopped = WaitFor(
        [&] {
          std::optional<ComponentRecord> r = ReadRecord(d.StateFile(name));
          return r && r->state == "stopped" && !IsOurProcess(before.pid, binary, d.dir);
        },
        Supervisor::kStopGrace + std::chrono::seconds(5));
    if (!stopped) {
      err << "ck stop: " << name << " did not stop within "
          << std::chrono::duration_cast<std::chrono::seconds>(Supervisor::kStopGrace).count() + 5
          << "s; see " << d.SupervisorLog() << "\n";
      return kExitFailed;
    }
  } else {
    // No supervisor to ask: stop it here, by its recorded PID.
    std::optional<pid_t> pid = ReadPidFile(d.PidFile(name));
    if (pid && IsOurProcess(*pid, binary, d.dir) && !StopProcess(*pid, kGrace)) {
      err << "ck stop: " << name << " (pid " << *pid << ") did not stop\n";
      return kExitFailed;
    }
    std::remove(d.PidFile(name).c_str());
    ComponentRecord r = before;
    r.state = "stopped";
    r.pid = 0;
    (void)WriteRecord(d.StateFile(name), r);
  }
  out << "ck stop: " << name << " stopped" << (before.pid > 0 ? " (was pid " + std::to_string(before.pid) + ")" : "")
      << "; it stays stopped until ck start --state-dir " << d.dir << " " << name << "\n";
  return kExitOk;
}

int RunStart(const std::string& dir_flag, const std::string& name, std::ostream& out, std::ostream& err) {
  ClusterView v;
  if (auto rc = LoadCluster("start", dir_flag, &v, err)) return *rc;
  if (auto rc = CheckComponent("start", v, name, err)) return *rc;
  const StateLayout& d = v.layout;
  std::string binary = BinaryOf(name);
  std::remove(d.StoppedMarker(name).c_str());
  if (!LiveSupervisor(d)) {
    err << "ck start: no supervisor is running for " << d.dir << " (ck up --state-dir " << d.dir << " starts one)\n";
    return kExitFailed;
  }
  ComponentRecord before = ReadRecord(d.StateFile(name)).value_or(ComponentRecord{});
  bool was_running = before.state == "running" && IsOurProcess(before.pid, binary, d.dir);
  if (!was_running) {
    if (Status s = WriteFileAtomic(d.StartRequest(name), ""); !s.ok()) {
      err << "ck start: " << s.message() << "\n";
      return kExitFailed;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  pid_t pid = 0;
  auto timeout = std::chrono::seconds(v.options.ready_timeout_seconds);
  bool running = WaitFor(
      [&] {
        std::optional<ComponentRecord> r = ReadRecord(d.StateFile(name));
        if (!r || r->state != "running" || !IsOurProcess(r->pid, binary, d.dir)) return false;
        pid = r->pid;
        return true;
      },
      timeout);
  if (!running) {
    err << "ck start: " << name << " is not running after " << timeout.count() << "s; see " << d.Log(name) << "\n";
    return kExitFailed;
  }
  Result<std::unique_ptr<Prober>> prober =
      Prober::Create(d.AdminKubeconfig(), v.options.apiserver_port, std::chrono::milliseconds(2000));
  ComponentSpec spec = SpecOf(v, name);
  bool ready = prober.ok() && WaitFor([&] { return (*prober)->Ready(spec); }, timeout);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ready) {
    err << "ck start: " << name << " (pid " << pid << ") is running but not ready after " << timeout.count()
        << "s; see " << d.Log(name) << "\n";
    return kExitFailed;
  }
  char line[200];
  std::snprintf(line, sizeof line, "ck start: %s %s (pid %d), ready in %.2fs\n", name.c_str(),
                was_running ? "was already running" : "running", static_cast<int>(pid), secs);
  out << line;
  return kExitOk;
}

}  // namespace

CommandRun AddUpCommand(CLI::App& cmd) {
  auto o = std::make_shared<UpOptions>();
  cmd.add_option("--nodes", o->nodes, "number of nodes (node-1 .. node-N, a ck-kubelet each); 0 = control plane only")
      ->type_name("N")
      ->capture_default_str();
  cmd.add_option("--state-dir", o->state_dir, "the cluster's folder: PKI, kubeconfigs, store, logs/, run/, nodes/")
      ->required()
      ->type_name("DIR");
  cmd.add_option("--profile", o->profile, "timing profile passed to every daemon: default or teaching")
      ->type_name("NAME")
      ->capture_default_str();
  cmd.add_option("--runtime", o->runtime, "kubelet container runtime: process or fake")
      ->type_name("NAME")
      ->capture_default_str();
  cmd.add_flag("--no-restart", o->no_restart, "do not restart a daemon that exits");
  cmd.add_flag("--detach", o->detach,
               "return after the KUBECONFIG line, leaving the supervisor running (log DIR/logs/ck.log, pid DIR/ck.pid)");
  cmd.add_option("--service-cidr", o->service_cidr, "Service ClusterIP range (loopback in process mode)")
      ->type_name("CIDR")
      ->capture_default_str();
  cmd.add_option("--cluster-cidr", o->cluster_cidr, "pod range; each node gets a /24 (loopback in process mode)")
      ->type_name("CIDR")
      ->capture_default_str();
  cmd.add_option("--apiserver-port", o->apiserver_port, "apiserver port on 127.0.0.1")
      ->type_name("PORT")
      ->capture_default_str();
  cmd.add_option("--controller-manager-port", o->controller_manager_port, "controller-manager port on 127.0.0.1")
      ->type_name("PORT")
      ->capture_default_str();
  cmd.add_option("--scheduler-port", o->scheduler_port, "scheduler port on 127.0.0.1")
      ->type_name("PORT")
      ->capture_default_str();
  cmd.add_option("--kubelet-port", o->kubelet_port, "each kubelet's port on its node IP 127.0.1.<i>")
      ->type_name("PORT")
      ->capture_default_str();
  cmd.add_option("--ready-timeout", o->ready_timeout_seconds, "seconds each component may take to become ready")
      ->type_name("SECONDS")
      ->capture_default_str();
  cmd.footer(
      "Daemons come from CK_BIN_DIR, else from the folder of ck itself. Ctrl-C or SIGTERM stops the cluster; "
      "so does ck down --state-dir DIR.");
  return [o](std::ostream& out, std::ostream& err) { return RunUp(*o, out, err); };
}

CommandRun AddDownCommand(CLI::App& cmd) {
  struct Flags {
    std::string dir;
    bool purge = false;
  };
  auto f = std::make_shared<Flags>();
  cmd.add_option("--state-dir", f->dir, "the cluster's folder")->required()->type_name("DIR");
  cmd.add_flag("--purge", f->purge, "also delete the folder (PKI, store, logs)");
  return [f](std::ostream& out, std::ostream& err) { return RunDown(f->dir, f->purge, out, err); };
}

CommandRun AddStatusCommand(CLI::App& cmd) {
  auto dir = std::make_shared<std::string>();
  cmd.add_option("--state-dir", *dir, "the cluster's folder")->required()->type_name("DIR");
  return [dir](std::ostream& out, std::ostream& err) { return RunStatus(*dir, out, err); };
}

namespace {
struct ComponentFlags {
  std::string dir;
  std::string component;
};
std::shared_ptr<ComponentFlags> AddComponentFlags(CLI::App& cmd) {
  auto f = std::make_shared<ComponentFlags>();
  cmd.add_option("--state-dir", f->dir, "the cluster's folder")->required()->type_name("DIR");
  cmd.add_option("component", f->component,
                 "apiserver, controller-manager, scheduler or kubelet-node-<i>")
      ->required()
      ->type_name("COMPONENT");
  return f;
}
}  // namespace

CommandRun AddStopCommand(CLI::App& cmd) {
  auto f = AddComponentFlags(cmd);
  return [f](std::ostream& out, std::ostream& err) { return RunStop(f->dir, f->component, out, err); };
}

CommandRun AddStartCommand(CLI::App& cmd) {
  auto f = AddComponentFlags(cmd);
  return [f](std::ostream& out, std::ostream& err) { return RunStart(f->dir, f->component, out, err); };
}

}  // namespace ck::launcher
