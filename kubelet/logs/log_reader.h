// The CRI log reader: what `kubectl logs` (GET /containerLogs) reads from a container's log file,
// and what attach follows. The file holds one entry per line, written by ck-shim (or containerd):
//   <RFC3339Nano time> <stdout|stderr> <P|F> <content>\n
// P marks a partial line whose next entries continue it; F ends the line. ReadContainerLog keeps
// the semantics of the upstream kubelet's kuberuntime logs.ReadLogs (tail, since, timestamps,
// limitBytes, follow) and is built for throughput: 256 KiB reads, memchr parsing, output batched
// into ~64 KiB chunks and flushed at the end of every read burst. Plain functions; each call
// belongs to its caller's thread and shares nothing with other calls.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::kubelet::logs {

struct LogOptions {
  bool follow = false;
  // The last N lines (whole lines: a run of P entries and the F entry ending it count as one);
  // 0 prints nothing (then only what follow sees).
  std::optional<int64_t> tail_lines;
  // Entries written before this time are skipped (applied after tail, as upstream).
  std::optional<WallTime> since_time;
  // Each entry is prefixed with its RFC3339Nano time and a space (every entry, P ones too).
  bool timestamps = false;
  // Output stops after exactly this many bytes (timestamps included), also while following.
  std::optional<int64_t> limit_bytes;
};

// Writes the selected content of the CRI log at `path` to `sink`, in chunks of at most ~64 KiB
// (a chunk may end mid-line; a chunk is flushed at the end of each read burst so a follower sees
// lines as they are written). `sink` returns false when the reader is gone: the call stops and
// returns OK. With follow, the file is watched (inotify, woken at least every 100 ms) until
// `keep_following()` returns false, after which what was written so far is drained and the
// call returns. Malformed lines are skipped. A truncated file is read again from its start; a
// file replaced at `path` (rotation) is read from its start once the old one is drained.
// NotFound when the file does not exist; Internal on read errors.
Status ReadContainerLog(const std::string& path, const LogOptions& options,
                        const std::function<bool(std::string_view)>& sink,
                        const std::function<bool()>& keep_following);

// One parsed entry; the views point into the reader's buffer and are valid during the callback.
struct CriEntry {
  std::string_view time;  // RFC3339Nano text as written
  bool is_stderr = false;
  bool partial = false;   // P: the next entry of the stream continues this line
  std::string_view content;
};

// Parses one line (without its newline); false when it is not `<time> <stream> <tag> <content>`
// with stream stdout|stderr. An F/P tag may carry further ':'-separated tags (CRI allows that).
bool ParseCriEntry(std::string_view line, CriEntry* entry);
// The Unix time in nanoseconds of an RFC 3339 time with optional fraction and a Z or ±hh:mm
// offset; nullopt when malformed.
std::optional<int64_t> ParseRfc3339Nanos(std::string_view text);

// The entry-level reader under ReadContainerLog, also used by attach: starts at byte `offset`
// of the file (-1: its current end), calls `on_entry` for every complete entry and `on_burst`
// at the end of each read burst (either returning false stops the call with OK), and with
// `follow` watches the file as ReadContainerLog does. Without follow an unterminated last line
// is parsed as it is.
Status ScanCriLog(const std::string& path, int64_t offset, bool follow,
                  const std::function<bool(const CriEntry&)>& on_entry, const std::function<bool()>& on_burst,
                  const std::function<bool()>& keep_following);

// The byte offset at which the last `lines` whole lines of the file start (0 when it has fewer),
// found by reading backwards in blocks.
Result<int64_t> TailOffset(const std::string& path, int64_t lines);

}  // namespace ck::kubelet::logs
