// ComponentRecord files (see run_state.h).

#include "compose/run_state.h"

#include <cstdio>

#include "common/base/strings.h"
#include "compose/processes.h"

namespace ck::launcher {

std::string FormatRecord(const ComponentRecord& r) {
  return "state=" + r.state + "\npid=" + std::to_string(r.pid) + "\nrestarts=" + std::to_string(r.restarts) +
         "\nstarted_unix_ms=" + std::to_string(r.started_unix_ms) + "\nlast_exit=" + r.last_exit + "\n";
}

std::optional<ComponentRecord> ReadRecord(const std::string& path) {
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return std::nullopt;
  ComponentRecord r;
  for (std::string_view line : Split(*text, '\n', /*skip_empty=*/true)) {
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "state") r.state = std::string(value);
    if (key == "last_exit") r.last_exit = std::string(value);
    std::optional<int64_t> n = ParseInt(value);
    if (!n) continue;
    if (key == "pid") r.pid = static_cast<pid_t>(*n);
    if (key == "restarts") r.restarts = static_cast<int>(*n);
    if (key == "started_unix_ms") r.started_unix_ms = *n;
  }
  return r;
}

Status WriteRecord(const std::string& path, const ComponentRecord& r) { return WriteFileAtomic(path, FormatRecord(r)); }

std::vector<std::string> ReadComponents(const std::string& path) {
  std::vector<std::string> names;
  std::optional<std::string> text = ReadWholeFile(path);
  if (!text) return names;
  for (std::string_view line : Split(*text, '\n', /*skip_empty=*/true)) names.emplace_back(TrimSpace(line));
  return names;
}

std::string FormatUptime(int64_t s) {
  if (s < 0) s = 0;
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60), static_cast<long long>(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(s / 86400), static_cast<long long>(s / 3600 % 24));
  }
  return buf;
}

}  // namespace ck::launcher
