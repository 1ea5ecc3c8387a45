// Time and duration text forms of the Kubernetes API, as Go writes and reads them:
//   metav1.Time      RFC 3339 in UTC, whole seconds:        "2024-05-01T12:00:00Z"
//   metav1.MicroTime RFC 3339 in UTC, six fraction digits:   "2024-05-01T12:00:00.123456Z"
//   metav1.Duration  Go's time.Duration.String():           "1h0m0s", "1.5s", "500ms", "0s"
// Reading accepts any RFC 3339 offset and fraction (time.Parse with the RFC3339 layout) and Go's
// duration syntax ("1h30m", "-1.5h", "300ms", "2us"). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::api {

// Seconds and nanoseconds since the Unix epoch, the shape of metav1.Time in protobuf.
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// Go's zero time.Time (year 1) as seconds since the epoch; written as JSON null by metav1.Time.
inline constexpr int64_t kGoZeroTimeSeconds = -62135596800;

void AppendRfc3339(std::string* out, Timestamp t, bool micro);
// Writes the same text into buf, which holds at least kRfc3339MaxLen bytes; returns its length.
inline constexpr size_t kRfc3339MaxLen = 48;
size_t FormatRfc3339To(char* buf, Timestamp t, bool micro);
std::string FormatRfc3339(Timestamp t);       // whole seconds
std::string FormatRfc3339Micro(Timestamp t);  // six fraction digits
// BadRequest naming the part that is wrong, e.g. `parsing time "2024-13-01T00:00:00Z": month out of range`.
Result<Timestamp> ParseRfc3339(std::string_view s);

Timestamp ToTimestamp(WallTime t);
WallTime FromTimestamp(Timestamp t);

std::string FormatGoDuration(int64_t nanos);
// BadRequest in Go's words: `time: invalid duration "x"`, `time: missing unit in duration "1"`,
// `time: unknown unit "d" in duration "1d"`.
Result<int64_t> ParseGoDuration(std::string_view s);

}  // namespace ck::api
