// ReadContainerLog throughput: writes a CRI log of N MB (default 200; lines of 40-200 bytes,
// one in eight partial) to a temp dir and reads it whole, with timestamps, and with a tail of
// half its lines, printing MB/s of log file read. Usage: log_reader_bench [MB]
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>

#include "kubelet/logs/log_reader.h"

namespace {

double Seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int main(int argc, char** argv) {
  const int64_t mb = argc > 1 ? std::atoll(argv[1]) : 200;
  char dir_template[] = "/tmp/ck-log-bench-XXXXXX";
  if (mkdtemp(dir_template) == nullptr) return 1;
  const std::string path = std::string(dir_template) + "/0.log";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  std::mt19937 rng(7);
  std::string block;
  int64_t written = 0, lines = 0;
  while (written < mb * 1000 * 1000) {
    block.clear();
    while (block.size() < (1 << 20)) {
      bool partial = rng() % 8 == 0;
      block += "2024-05-01T12:00:00.123456789Z ";
      block += rng() % 2 ? "stdout " : "stderr ";
      block += partial ? "P " : "F ";
      block.append(40 + rng() % 160, static_cast<char>('a' + rng() % 26));
      block += '\n';
      lines += partial ? 0 : 1;
    }
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) return 1;
    written += static_cast<int64_t>(block.size());
  }
  close(fd);

  auto run = [&](const char* name, const ck::kubelet::logs::LogOptions& options) {
    int64_t out = 0;
    auto t0 = std::chrono::steady_clock::now();
    ck::Status s = ck::kubelet::logs::ReadContainerLog(
        path, options, [&](std::string_view chunk) { out += static_cast<int64_t>(chunk.size()); return true; },
        [] { return false; });
    double secs = Seconds(std::chrono::steady_clock::now() - t0);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, s.ToString().c_str());
      return;
    }
    std::printf("%-24s %8.1f MB/s of log  (%.1f MB log -> %.1f MB output in %.3f s)\n", name,
                written / 1e6 / secs, written / 1e6, out / 1e6, secs);
  };
  // Two passes of the whole read: the first warms the page cache.
  run("whole file (cold-ish)", {});
  run("whole file", {});
  ck::kubelet::logs::LogOptions ts;
  ts.timestamps = true;
  run("timestamps", ts);
  ck::kubelet::logs::LogOptions since;
  since.since_time = ck::WallTime{};
  run("since", since);
  ck::kubelet::logs::LogOptions tail;
  tail.tail_lines = lines / 2;
  run("tail half the lines", tail);
  unlink(path.c_str());
  rmdir(dir_template);
  return 0;
}
