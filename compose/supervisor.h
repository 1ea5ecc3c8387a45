// The supervisor behind `ck up`: starts the cluster's daemons group by group (apiserver; then
// controller-manager and scheduler; then the kubelets), waiting until each is ready and printing
// one progress line per component, then watches them: a daemon that exits is started again after
// RestartBackoff's delay (unless --no-restart), one whose DIR/run/<c>.stopped marker appears is
// stopped and kept stopped, one whose marker goes away (or whose DIR/run/<c>.start request
// appears) is started again. Every change is written to DIR/run/<c>.pid and <c>.state for the
// other `ck` commands. On shutdown it stops the kubelets, then the controllers, then the
// apiserver (SIGTERM, grace, SIGKILL, each by PID) and then the nodes' containers.
//
// Main loop, every 100 ms: reap exited children -> read markers -> start/stop/restart as due ->
// write changed records -> stop everything once RequestShutdown() was called.
// Threading: every method runs on the supervisor's one thread, except RequestShutdown, which is
// async-signal-safe (SIGINT/SIGTERM handlers call it).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "compose/cluster_plan.h"
#include "compose/probe.h"
#include "compose/restart_backoff.h"
#include "compose/run_state.h"

namespace ck::launcher {

class Supervisor {
 public:
  // `progress` receives the start-up lines and, later, one line per restart/stop/start; `err` the
  // diagnosis of a start-up failure. `bin_dir` holds the daemons' executables.
  Supervisor(UpOptions options, std::vector<ComponentSpec> specs, std::string bin_dir, Clock& clock,
             std::ostream& progress, std::ostream& err);
  ~Supervisor();

  // Starts every component and waits until each is ready (ready_timeout per group). On success
  // prints `export KUBECONFIG=DIR/admin.kubeconfig`. On failure names the component, prints the
  // last 20 lines of its log and its /readyz?verbose when reachable, stops everything it
  // started and returns the reason.
  Status StartCluster();

  // Watches the daemons until RequestShutdown(), then stops them all and returns.
  void Supervise();

  // Stops every daemon (kubelets, controllers, apiserver), then the containers; removes pid files.
  void StopAll();

  // Async-signal-safe: ends StartCluster's waits and Supervise's loop.
  static void RequestShutdown();
  static bool ShutdownRequested();

  static constexpr std::chrono::milliseconds kStopGrace{10'000};

 private:
  enum class State { kNotStarted, kRunning, kStopping, kStopped, kExited, kBackoff };
  struct Proc {
    ComponentSpec spec;
    State state = State::kNotStarted;
    pid_t pid = 0;
    MonoTime started{};
    int64_t started_unix_ms = 0;
    int restarts = 0;
    std::string last_exit;
    RestartBackoff backoff;
    MonoTime restart_at{};
    MonoTime kill_at{};
    bool ready_reported = false;
    bool dirty = true;
  };

  Status Launch(Proc& p);
  void OnExit(Proc& p, int wait_status);
  void ReapChildren(std::vector<std::pair<Proc*, int>>* exits);
  void Tick();
  void WriteRecordOf(Proc& p);
  void StopGroup(int group);
  void Diagnose(const Proc& p, const std::string& reason);
  Proc* Find(pid_t pid);
  static const char* StateName(State s);

  UpOptions options_;
  StateLayout layout_;
  std::string bin_dir_;
  Clock& clock_;
  std::ostream& progress_;
  std::ostream& err_;
  std::vector<std::unique_ptr<Proc>> procs_;
  std::unique_ptr<Prober> prober_;
};

// Installs SIGINT/SIGTERM handlers that call Supervisor::RequestShutdown, and ignores SIGPIPE
// (a closed terminal or pipe must not kill the supervisor).
void InstallSupervisorSignalHandlers();

}  // namespace ck::launcher
