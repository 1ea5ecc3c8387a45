// CronSchedule: a CronJob's spec.schedule as kube-controller-manager reads it (robfig/cron v3
// ParseStandard): five fields "minute hour day-of-month month day-of-week" with '*', '?',
// lists (1,15), ranges (1-5), steps (*/15, 0-30/10, 5/20 = 5-max/20) and names (JAN-DEC,
// SUN-SAT, any case); day-of-week 0-6 (0 = Sunday); the descriptors @yearly/@annually,
// @monthly, @weekly, @daily/@midnight, @hourly and "@every <Go duration>"; an optional
// "TZ=<zone> " / "CRON_TZ=<zone> " prefix. When both day fields are restricted a day matches
// either; when one is '*' (or '?') both must match (cron's rule, robfig's star bit).
// Next() walks month, day, hour, minute, second in the schedule's zone exactly as robfig does,
// so DST gaps skip a time and DST overlaps repeat it as they do upstream.
// Error texts are robfig's ("expected exactly 5 fields, found 4: [* * * *]", "end of range (60)
// above maximum (59): 0-60", ...).
// Threading: a parsed schedule is an immutable value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/clock.h"
#include "common/base/status.h"
#include "controller-manager/cronjob/time_zone.h"

namespace ck::controller_manager {

class CronSchedule {
 public:
  // Bit i set = value i allowed; kStarBit marks a field written as '*' or '?' (or "*/1").
  static constexpr uint64_t kStarBit = uint64_t{1} << 63;

  // Parses `spec`. Without a TZ= prefix the schedule runs in `default_zone` (upstream: the
  // process's local zone). BadRequest with robfig's message on failure.
  static Result<CronSchedule> Parse(std::string_view spec, const TimeZone& default_zone = TimeZone::Utc());

  // The first activation strictly after `after` (whole seconds), or nullopt when there is none
  // within five years (robfig's zero time), e.g. for "0 0 30 2 *".
  std::optional<WallTime> Next(WallTime after) const;

  const TimeZone& zone() const { return zone_; }
  uint64_t minute_bits() const { return minute_; }
  uint64_t hour_bits() const { return hour_; }
  uint64_t dom_bits() const { return dom_; }
  uint64_t month_bits() const { return month_; }
  uint64_t dow_bits() const { return dow_; }
  int64_t every_seconds() const { return every_seconds_; }

 private:
  bool DayMatches(const CivilTime& c) const;

  uint64_t second_ = 1;  // standard schedules fire at second 0
  uint64_t minute_ = 0, hour_ = 0, dom_ = 0, month_ = 0, dow_ = 0;
  int64_t every_seconds_ = 0;  // "@every": a constant delay instead of the fields
  TimeZone zone_;
};

}  // namespace ck::controller_manager
