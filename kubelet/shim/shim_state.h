// The on-disk contract between ProcessRuntime (in ck-kubelet) and ck-shim, one directory per
// container (<root>/pods/<uid>/containers/<id>/):
//   spec.json   written once by the runtime before the shim starts; the shim reads it (never argv)
//   state.json  written by the shim (and by the runtime only when the shim is gone), always
//               replaced atomically (temp file + rename): pid, times, exit code, reason
//   shim.pid    the shim's pid, for people reading the directory
// Also the CRI log line format both sides use (`<RFC3339Nano> stdout|stderr F|P <text>`), and the
// process checks that tell a live container from a reused pid. Plain functions and values;
// CriLogWriter belongs to one thread.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "kubelet/runtime/container_runtime.h"

namespace ck::kubelet::shim {

inline constexpr char kSpecFile[] = "spec.json";
inline constexpr char kStateFile[] = "state.json";
inline constexpr char kShimPidFile[] = "shim.pid";
inline constexpr char kShimLogFile[] = "shim.log";
// The container's log when the spec names none.
inline constexpr char kDefaultLogFile[] = "container.log";
// stdin: true: the FIFO that is the container's stdin (attach writes it) and the marker a
// stdinOnce attacher leaves once it closed stdin for good (README.md).
inline constexpr char kStdinFifo[] = "stdin";
inline constexpr char kStdinClosedFile[] = "stdin.closed";
// Longest CRI log line body; longer output is split into P (partial) lines, as containerd does.
inline constexpr size_t kMaxLogLineBytes = 16 * 1024;
// Upstream caps the termination message at 4096 bytes.
inline constexpr size_t kMaxTerminationMessageBytes = 4096;
// The PATH a container gets when its env has none (the Docker/containerd default).
inline constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Everything ck-shim needs to start one container.
struct ContainerSpec {
  std::string id;
  std::string pod_uid, pod_name, pod_namespace, pod_ip;
  std::string name;
  std::string image;
  std::vector<std::string> argv;
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;  // "" means "/"
  std::vector<Mount> mounts;
  LinuxResources resources;
  int32_t attempt = 0;
  bool init = false;
  bool stdin_open = false;  // stdin: true: the shim makes the kStdinFifo the container's stdin
  bool stdin_once = false;
  bool tty = false;         // recorded; process mode gives containers no terminal
  std::string log_path;
  std::string termination_message_path;
  std::map<std::string, std::string> labels, annotations;
  WallTime created_at{};
  // The container's cgroup ("" version "none": no cgroup).
  std::string cgroup_version = "none";
  std::string cgroup_root;
  std::string cgroup_path;
};

enum class Phase { kCreated, kRunning, kExited };

struct ShimState {
  Phase phase = Phase::kCreated;
  int64_t shim_pid = 0;
  uint64_t shim_start_ticks = 0;  // /proc/<pid>/stat starttime, defeats pid reuse
  int64_t pid = 0;
  uint64_t pid_start_ticks = 0;
  WallTime started_at{};
  WallTime finished_at{};
  int32_t exit_code = 0;
  std::string reason;
  std::string message;
  std::string mounts_skipped;                    // why volume mounts were not made ("" = made)
  std::vector<std::string> created_mountpoints;  // host paths the shim created, parents first
  int64_t oom_kills_at_start = 0;
};

std::string SpecToJson(const ContainerSpec& spec);
Result<ContainerSpec> SpecFromJson(std::string_view json);
std::string StateToJson(const ShimState& state);
Result<ShimState> StateFromJson(std::string_view json);

// Reads <dir>/spec.json or <dir>/state.json. NotFound when the file is missing, Invalid when it
// does not parse.
Result<ContainerSpec> ReadSpec(const std::string& dir);
Result<ShimState> ReadState(const std::string& dir);
// Writes the file through <file>.tmp + rename, so a reader sees the old or the new content.
Status WriteSpec(const std::string& dir, const ContainerSpec& spec);
Status WriteState(const std::string& dir, const ShimState& state);
Status WriteFileAtomic(const std::string& path, std::string_view content);
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 16 << 20);

// Go's time.RFC3339Nano in UTC: "2026-01-01T00:00:00.5Z" (trailing zeros of the fraction dropped).
std::string FormatRfc3339Nano(WallTime t);

// One parsed CRI log line.
struct CriLogLine {
  std::string time;
  std::string stream;  // "stdout" or "stderr"
  bool partial = false;
  std::string text;
};
// Parses `<time> <stream> <F|P> <text>` (without the newline); nullopt when malformed.
std::optional<CriLogLine> ParseCriLogLine(std::string_view line);

// Turns a stream of output chunks into CRI log lines written to `fd` (one write per line, so
// lines of the two streams never interleave). A newline ends a full (F) line; 16 KiB without a
// newline becomes a partial (P) line; Finish() writes what is left of a stream as a P line.
class CriLogWriter {
 public:
  CriLogWriter(int fd, std::function<WallTime()> now) : fd_(fd), now_(std::move(now)) {}
  void Write(bool is_stderr, std::string_view data);
  void Finish(bool is_stderr);

 private:
  void Emit(bool is_stderr, bool partial, std::string_view text);

  int fd_;
  std::function<WallTime()> now_;
  std::string pending_[2];
};

// /proc/<pid>/stat field 22 (start time in clock ticks since boot); nullopt when the process is
// gone. A zombie counts as gone.
std::optional<uint64_t> ProcessStartTicks(pid_t pid);
// True when `pid` runs and is the process that was started at `start_ticks` (0: do not check).
bool ProcessAlive(pid_t pid, uint64_t start_ticks);

// Finds argv0 as execvp would, with PATH from `env` (kDefaultPath when unset). A name with a '/'
// is taken as is (relative to `working_dir`). NotFound says `executable file not found in $PATH`.
Result<std::string> ResolveExecutable(const std::string& argv0,
                                      const std::vector<std::pair<std::string, std::string>>& env,
                                      const std::string& working_dir);

// For a child between fork/vfork and exec (only system calls): unblocks every signal and sets the
// handled ones back to their defaults, so nothing a kubelet blocked or ignored leaks into a shim,
// a container or an exec.
void ResetSignalsForExec();
// Writes `v` in decimal into `buf` (room for 20 digits) without allocating; returns the length.
size_t FormatPid(char* buf, long v);

}  // namespace ck::kubelet::shim
