// The `ck up` supervisor (see supervisor.h).

#include "compose/supervisor.h"

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>

#include "compose/processes.h"

namespace ck::launcher {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_shutdown{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void OnSignal(int) { Supervisor::RequestShutdown(); }

std::string Seconds(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", std::chrono::duration<double>(d).count());
  return buf;
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

constexpr std::chrono::milliseconds kTick{100};

}  // namespace

void InstallSupervisorSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void Supervisor::RequestShutdown() { g_shutdown.store(true); }
bool Supervisor::ShutdownRequested() { return g_shutdown.load(); }

Supervisor::Supervisor(UpOptions options, std::vector<ComponentSpec> specs, std::string bin_dir, Clock& clock,
                       std::ostream& progress, std::ostream& err)
    : options_(std::move(options)),
      layout_{options_.state_dir},
      bin_dir_(std::move(bin_dir)),
      clock_(clock),
      progress_(progress),
      err_(err) {
  for (ComponentSpec& s : specs) {
    auto p = std::make_unique<Proc>();
    p->spec = std::move(s);
    procs_.push_back(std::move(p));
  }
}

Supervisor::~Supervisor() = default;

const char* Supervisor::StateName(State s) {
  switch (s) {
    case State::kNotStarted: return "stopped";
    case State::kRunning: return "running";
    case State::kStopping: return "stopping";
    case State::kStopped: return "stopped";
    case State::kExited: return "exited";
    case State::kBackoff: return "backoff";
  }
  return "stopped";
}

Supervisor::Proc* Supervisor::Find(pid_t pid) {
  for (auto& p : procs_) {
    if (p->pid == pid) return p.get();
  }
  return nullptr;
}

void Supervisor::WriteRecordOf(Proc& p) {
  ComponentRecord r;
  r.state = StateName(p.state);
  r.pid = p.pid;
  r.restarts = p.restarts;
  r.started_unix_ms = p.started_unix_ms;
  r.last_exit = p.last_exit;
  if (Status s = WriteRecord(layout_.StateFile(p.spec.name), r); !s.ok()) {
    progress_ << "ck: " << s.message() << std::endl;
  }
  p.dirty = false;
}

Status Supervisor::Launch(Proc& p) {
  if (p.spec.readiness == Readiness::kNodeReady) {
    std::error_code ec;
    fs::create_directories(layout_.NodesDir() + "/" + p.spec.node_name, ec);
  }
  Result<pid_t> pid = Spawn(bin_dir_ + "/" + p.spec.binary, p.spec.args, p.spec.log_file);
  if (!pid.ok()) return pid.status();
  p.pid = *pid;
  p.state = State::kRunning;
  p.started = clock_.Monotonic();
  p.started_unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
  p.dirty = true;
  CK_RETURN_IF_ERROR(WriteFileAtomic(layout_.PidFile(p.spec.name), std::to_string(p.pid) + "\n"));
  WriteRecordOf(p);
  return Status::Ok();
}

void Supervisor::ReapChildren(std::vector<std::pair<Proc*, int>>* exits) {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    if (Proc* p = Find(pid)) exits->emplace_back(p, status);
  }
}

void Supervisor::Diagnose(const Proc& p, const std::string& reason) {
  err_ << "ck up: " << p.spec.name << " " << reason << "\n";
  err_ << "---- last 20 lines of " << p.spec.log_file << " ----\n" << TailLines(p.spec.log_file, 20);
  if (prober_ && p.spec.port > 0) {
    Result<ProbeResponse> r = prober_->Get(p.spec.host, p.spec.port, "/readyz?verbose");
    if (r.ok()) {
      err_ << "---- GET https://" << p.spec.host << ":" << p.spec.port << "/readyz?verbose: HTTP " << r->status
           << " ----\n"
           << r->body;
      if (!r->body.empty() && r->body.back() != '\n') err_ << "\n";
    } else {
      err_ << "---- /readyz?verbose is not reachable on " << p.spec.host << ":" << p.spec.port << ": "
           << r.status().message() << " ----\n";
    }
  }
  err_.flush();
}

Status Supervisor::StartCluster() {
  MonoTime t0 = clock_.Monotonic();
  progress_ << "ck up: " << options_.nodes << (options_.nodes == 1 ? " node" : " nodes") << " in "
            << options_.state_dir << " (profile " << options_.profile << ", runtime " << options_.runtime
            << ", daemons from " << bin_dir_ << ")" << std::endl;
  CK_ASSIGN_OR_RETURN(prober_, Prober::Create(layout_.AdminKubeconfig(), options_.apiserver_port,
                                              std::chrono::milliseconds(2000)));
  auto fail = [&](const Proc& p, const std::string& reason) {
    Diagnose(p, reason);
    StopAll();
    return Unavailable(p.spec.name + " " + reason);
  };
  for (int group = 0; group <= 2; ++group) {
    std::vector<Proc*> members;
    for (auto& p : procs_) {
      if (p->spec.start_group == group) members.push_back(p.get());
    }
    if (members.empty()) continue;
    for (Proc* p : members) {
      if (Status s = Launch(*p); !s.ok()) return fail(*p, "could not be started: " + s.message());
    }
    MonoTime deadline = clock_.Monotonic() + std::chrono::seconds(options_.ready_timeout_seconds);
    while (true) {
      if (ShutdownRequested()) {
        err_ << "ck up: interrupted; stopping what was started" << std::endl;
        StopAll();
        return Unavailable("interrupted");
      }
      std::vector<std::pair<Proc*, int>> exits;
      ReapChildren(&exits);
      // Every reaped daemon forgets its PID first: StopAll must never signal a PID already reaped.
      for (auto& [p, status] : exits) {
        p->pid = 0;
        p->state = State::kExited;
        p->last_exit = DescribeExit(status);
        std::remove(layout_.PidFile(p->spec.name).c_str());
        WriteRecordOf(*p);
      }
      if (!exits.empty()) {
        Proc* p = exits.front().first;
        return fail(*p, p->last_exit + (p->ready_reported ? " while the cluster was starting" : " before it was ready"));
      }
      std::map<std::string, bool> nodes;
      if (group == 2) {
        Result<std::map<std::string, bool>> r = prober_->NodeReadiness();
        if (r.ok()) nodes = std::move(*r);
      }
      bool all = true;
      for (Proc* p : members) {
        if (p->ready_reported) continue;
        bool ready = group == 2 ? NodesReady(p->spec, nodes) : prober_->Ready(p->spec);
        if (!ready) {
          all = false;
          continue;
        }
        p->ready_reported = true;
        char line[256];
        std::snprintf(line, sizeof line, "  %-20s ready in %-7s pid %-7d log %s", p->spec.name.c_str(),
                      Seconds(clock_.Monotonic() - p->started).c_str(), static_cast<int>(p->pid),
                      fs::path(p->spec.log_file).lexically_relative(options_.state_dir).c_str());
        progress_ << line << std::endl;
      }
      if (all) break;
      if (clock_.Monotonic() >= deadline) {
        for (Proc* p : members) {
          if (!p->ready_reported) {
            return fail(*p, "did not become ready within " + std::to_string(options_.ready_timeout_seconds) + "s");
          }
        }
      }
      clock_.SleepFor(std::chrono::milliseconds(50));
    }
  }
  progress_ << "ck up: cluster ready in " << Seconds(clock_.Monotonic() - t0) << std::endl;
  progress_ << "export KUBECONFIG=" << layout_.AdminKubeconfig() << std::endl;
  return Status::Ok();
}

void Supervisor::OnExit(Proc& p, int wait_status) {
  MonoTime now = clock_.Monotonic();
  std::remove(layout_.PidFile(p.spec.name).c_str());
  p.pid = 0;
  p.last_exit = DescribeExit(wait_status);
  p.dirty = true;
  auto ran_for = std::chrono::duration_cast<std::chrono::milliseconds>(now - p.started);
  if (p.state == State::kStopping || Exists(layout_.StoppedMarker(p.spec.name))) {
    p.state = State::kStopped;
    progress_ << "ck: " << p.spec.name << " stopped (ck stop); " << p.last_exit << std::endl;
  } else if (options_.no_restart) {
    p.state = State::kExited;
    progress_ << "ck: " << p.spec.name << " " << p.last_exit << "; not restarted (--no-restart)" << std::endl;
  } else {
    auto delay = p.backoff.OnExit(ran_for);
    p.state = State::kBackoff;
    p.restart_at = now + delay;
    progress_ << "ck: " << p.spec.name << " " << p.last_exit << " after " << Seconds(ran_for) << "; restarting in "
              << Seconds(delay) << std::endl;
  }
}

void Supervisor::Tick() {
  std::vector<std::pair<Proc*, int>> exits;
  ReapChildren(&exits);
  for (auto& [p, status] : exits) OnExit(*p, status);
  MonoTime now = clock_.Monotonic();
  for (auto& owned : procs_) {
    Proc& p = *owned;
    const std::string& name = p.spec.name;
    bool marker = Exists(layout_.StoppedMarker(name));
    auto launch = [&](const char* why) {
      if (Status s = Launch(p); s.ok()) {
        progress_ << "ck: " << name << " " << why << " (pid " << p.pid << ")" << std::endl;
      } else {
        p.last_exit = s.message();
        p.state = options_.no_restart ? State::kExited : State::kBackoff;
        p.restart_at = now + p.backoff.OnExit(std::chrono::milliseconds(0));
        p.dirty = true;
        progress_ << "ck: " << name << " could not be started: " << s.message() << std::endl;
      }
    };
    if (Exists(layout_.StartRequest(name))) {
      std::remove(layout_.StartRequest(name).c_str());
      if (!marker && (p.state == State::kStopped || p.state == State::kExited || p.state == State::kBackoff)) {
        p.backoff.Reset();
        launch("started (ck start)");
        continue;
      }
    }
    switch (p.state) {
      case State::kRunning:
        if (marker) {
          (void)kill(p.pid, SIGTERM);
          p.state = State::kStopping;
          p.kill_at = now + kStopGrace;
          p.dirty = true;
        }
        break;
      case State::kStopping:
        if (now >= p.kill_at) {
          (void)kill(p.pid, SIGKILL);
          p.kill_at = MonoTime::max();
        }
        break;
      case State::kBackoff:
        if (marker) {
          p.state = State::kStopped;
          p.dirty = true;
        } else if (now >= p.restart_at) {
          ++p.restarts;
          launch(("restarted (restart " + std::to_string(p.restarts) + ")").c_str());
        }
        break;
      case State::kExited:
        if (marker) {
          p.state = State::kStopped;
          p.dirty = true;
        }
        break;
      case State::kStopped:
        if (!marker) {
          p.backoff.Reset();
          launch("started (ck start)");
        }
        break;
      case State::kNotStarted:
        break;
    }
    if (p.dirty) WriteRecordOf(p);
  }
}

void Supervisor::Supervise() {
  while (!ShutdownRequested()) {
    Tick();
    clock_.SleepFor(kTick);
  }
  progress_ << "ck: stopping the cluster" << std::endl;
  StopAll();
  progress_ << "ck: stopped" << std::endl;
}

void Supervisor::StopGroup(int group) {
  std::vector<Proc*> live;
  for (auto& p : procs_) {
    if (p->spec.start_group == group && p->pid > 0) {
      (void)kill(p->pid, SIGTERM);
      live.push_back(p.get());
    }
  }
  MonoTime deadline = clock_.Monotonic() + kStopGrace;
  bool killed = false;
  while (!live.empty()) {
    for (auto it = live.begin(); it != live.end();) {
      int status = 0;
      pid_t r = waitpid((*it)->pid, &status, WNOHANG);
      if (r == (*it)->pid || (r < 0 && !ProcessAlive((*it)->pid))) {
        Proc& p = **it;
        p.last_exit = r > 0 ? DescribeExit(status) : p.last_exit;
        p.pid = 0;
        it = live.erase(it);
      } else {
        ++it;
      }
    }
    if (live.empty()) break;
    if (clock_.Monotonic() >= deadline) {
      if (killed) break;  // SIGKILL did not end it within 5 s: nothing more to do
      for (Proc* p : live) {
        progress_ << "ck: " << p->spec.name << " did not stop within " << Seconds(kStopGrace) << "; SIGKILL"
                  << std::endl;
        (void)kill(p->pid, SIGKILL);
      }
      killed = true;
      deadline = clock_.Monotonic() + std::chrono::seconds(5);
    }
    clock_.SleepFor(std::chrono::milliseconds(20));
  }
}

void Supervisor::StopAll() {
  for (int group = 2; group >= 0; --group) StopGroup(group);
  for (auto& p : procs_) {
    if (p->state != State::kNotStarted || p->pid == 0) {
      p->state = p->state == State::kNotStarted ? State::kNotStarted : State::kStopped;
    }
    if (p->pid == 0) std::remove(layout_.PidFile(p->spec.name).c_str());
    WriteRecordOf(*p);
  }
  if (options_.nodes > 0) StopContainersUnder(layout_.NodesDir(), kStopGrace, progress_);
}

}  // namespace ck::launcher
