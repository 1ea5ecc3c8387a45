// Cron schedules as CronJob.spec.schedule uses them: the standard five fields (minute hour
// day-of-month month day-of-week, with names, ranges, steps, '*' and '?'), the @yearly/@annually,
// @monthly, @weekly, @daily/@midnight, @hourly descriptors, "@every <Go duration>" and an optional
// "TZ=<zone> " or "CRON_TZ=<zone> " prefix. Parse errors carry the exact text of the parser
// kube-apiserver uses (robfig/cron v3 ParseStandard), e.g. "expected exactly 5 fields, found 1: [x]".
// A CronSchedule is a plain value; Next is pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ck::apiserver {

struct CronSchedule {
  // Bit i set = value i allowed. kStarBit marks a field written as '*' or '?' (day-of-month and
  // day-of-week then combine with AND instead of OR, as cron does).
  static constexpr uint64_t kStarBit = uint64_t{1} << 63;
  uint64_t minute = 0, hour = 0, day_of_month = 0, month = 0, day_of_week = 0;
  // "@every d": fire every `every_seconds` (at least 1) instead of using the fields.
  int64_t every_seconds = 0;
  std::string time_zone;  // from a TZ=/CRON_TZ= prefix, "" if none

  // Parses `spec`; on failure the Status is BadRequest with the parser's message.
  static Result<CronSchedule> Parse(std::string_view spec);

  // The first activation strictly after `after_unix_seconds`, evaluating the fields in UTC
  // (time_zone is not applied). Returns -1 if none within five years.
  int64_t NextUtc(int64_t after_unix_seconds) const;
};

// Zone names Go's time.LoadLocation accepts: "", "UTC", "Local", or a TZif file under the system
// zoneinfo database (/usr/share/zoneinfo).
bool IsKnownTimeZone(std::string_view tz);

// Go's time.ParseDuration: "90s", "1h30m", "1.5h", "300ms"; errors use Go's wording, e.g.
// `time: invalid duration "x"`, `time: missing unit in duration "5"`.
Result<int64_t> ParseGoDurationNanos(std::string_view s);

}  // namespace ck::apiserver
