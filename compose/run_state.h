// The supervisor's record of one daemon in DIR/run/<component>.state, so that `ck status`,
// `ck stop` and `ck start` in other invocations see what the supervisor sees. key=value lines:
//   state=running|stopping|stopped|exited|backoff  pid=<n>  restarts=<n>
//   started_unix_ms=<wall time of the last start>  last_exit=<"exited with code 1", ...>
// Written atomically by the supervisor only; read by anyone.
// Threading: plain values and stateless functions.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace ck::launcher {

struct ComponentRecord {
  std::string state = "stopped";
  pid_t pid = 0;
  int restarts = 0;
  int64_t started_unix_ms = 0;
  std::string last_exit;
};

std::string FormatRecord(const ComponentRecord& r);
// Missing keys keep their defaults; nullopt when the file cannot be read.
std::optional<ComponentRecord> ReadRecord(const std::string& path);
Status WriteRecord(const std::string& path, const ComponentRecord& r);

// Reads/writes DIR/run/components (one name a line, start order).
std::vector<std::string> ReadComponents(const std::string& path);

// "45s", "3m12s", "2h05m", "3d04h".
std::string FormatUptime(int64_t seconds);

}  // namespace ck::launcher
