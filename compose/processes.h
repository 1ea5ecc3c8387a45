// The launcher's process plumbing: start a daemon with its log file in a process group of its
// own, find it again by PID from another invocation (checking /proc/<pid>/cmdline, never by
// name), stop it (SIGTERM, a grace period, SIGKILL), and small file helpers for the state folder.
// Threading: every function may be called from any thread; Spawn forks, so callers keep it off
// hot paths.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace ck::launcher {

// Where `ck` finds the daemons: $CK_BIN_DIR when set, else the folder of ck's own executable.
std::string DaemonBinDir();

// Starts `path` with `args` (argv[0] = path), stdin from /dev/null, stdout and stderr appended to
// `log_file` (created if missing; a header line marks each start), in a new process group so a
// Ctrl-C at the terminal reaches only the supervisor. The child is ours to reap.
// Fails (NotFound) when `path` is not an executable file, (Internal) when fork fails.
Result<pid_t> Spawn(const std::string& path, const std::vector<std::string>& args, const std::string& log_file);

// The argv of a process (/proc/<pid>/cmdline); empty when it is gone or not readable.
std::vector<std::string> ReadCmdline(pid_t pid);

// True while `pid` exists and is not a zombie.
bool ProcessAlive(pid_t pid);

// True when `pid` is a live process running `binary` (argv[0]'s file name) for `state_dir`: one
// of its arguments, or the value after '=' in one, resolved against the process's working
// directory, is state_dir or a path inside it. Guards every kill by recorded PID.
bool IsOurProcess(pid_t pid, const std::string& binary, const std::string& state_dir);

// SIGTERM, then up to `grace` for it to exit, then SIGKILL and up to 5 s more. Reaps it when it
// is our child. Returns true once it is gone.
bool StopProcess(pid_t pid, std::chrono::milliseconds grace);

// "exited with code 2", "killed by signal 9" for a waitpid status.
std::string DescribeExit(int wait_status);

// Stops the containers of every node under `nodes_dir` (DIR/nodes): for each
// <node>/pods/<uid>/containers/<id>/, the container process and its process group (state.json
// "pid") and its ck-shim ("shim_pid", or shim.pid), each only when it still is the process the
// files describe (start time, cmdline; see processes.cc). Containers outlive kubelets, so
// `ck down` and the supervisor's shutdown call this after the kubelets are gone. Returns how many
// processes it stopped; writes one line per process to `log`.
int StopContainersUnder(const std::string& nodes_dir, std::chrono::milliseconds grace, std::ostream& log);

// Small file helpers. ReadPidFile: the number in the file, or nullopt.
std::optional<pid_t> ReadPidFile(const std::string& path);
// Writes through a temporary file and rename, so a reader never sees half a file.
Status WriteFileAtomic(const std::string& path, const std::string& content);
// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path);
// The last `n` lines of a file ("" when it cannot be read).
std::string TailLines(const std::string& path, int n);

}  // namespace ck::launcher
