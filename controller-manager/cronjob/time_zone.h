// TimeZone: an IANA time zone read from the system tz database (TZif files under
// /usr/share/zoneinfo, versions 1-4, with the POSIX TZ rule of the footer for times after the
// last listed transition), answering what Go's time.Location answers for CronJob schedules:
// the UTC offset at an instant (lookup) and the instant of a local civil time (time.Date,
// including its choice inside a DST gap or overlap). Civil-date helpers (proleptic Gregorian)
// come with it.
// Threading: a loaded TimeZone is an immutable value; copies share the parsed data.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::controller_manager {

// A local civil time with its weekday (0 = Sunday).
struct CivilTime {
  int64_t year = 1970;
  int month = 1;  // 1-12
  int day = 1;    // 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
  int weekday = 4;
};

// Days since 1970-01-01 of a proleptic Gregorian date; month and day may be out of range (they
// roll over, as Go's time.Date normalizes them).
int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day);
bool IsLeapYear(int64_t year);
int DaysInMonth(int64_t year, int month);

class TimeZone {
 public:
  // UTC.
  TimeZone();
  static TimeZone Utc() { return TimeZone(); }
  // Go's time.LoadLocation: "" and "UTC" are UTC; otherwise the TZif file `name` under
  // `zoneinfo_dir`. "Local" is refused here (CronJob validation forbids it too). Errors use Go's
  // words: `unknown time zone Mars/Base`, `time: invalid location name`.
  static Result<TimeZone> Load(std::string_view name, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  // Go's time.Local: $TZ when set ("" or unset-but-empty = UTC, a leading ':' dropped), else
  // /etc/localtime; UTC when neither loads.
  static TimeZone Local();
  // Parses TZif bytes (tests feed hand-made files).
  static Result<TimeZone> FromTzif(std::string name, std::string_view data);

  // The zone period containing unix second `t`: UTC offset in seconds (east positive), whether
  // it is daylight saving time, its abbreviation, and [start, end) as far as known (Go's
  // Location.lookup).
  struct Period {
    int32_t offset = 0;
    bool dst = false;
    std::string abbrev = "UTC";
    int64_t start = INT64_MIN;
    int64_t end = INT64_MAX;
  };
  Period Lookup(int64_t t) const;
  int32_t OffsetAt(int64_t t) const { return Lookup(t).offset; }

  // The civil time of unix second `t` in this zone.
  CivilTime ToCivil(int64_t t) const;
  // Go's time.Date(year, month, day, hour, minute, second, 0, loc): fields may be out of range
  // and roll over; a time in a DST gap or overlap resolves as Go resolves it.
  int64_t FromCivil(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute, int64_t second) const;

  const std::string& name() const { return name_; }

 private:
  struct Data;
  std::string name_ = "UTC";
  std::shared_ptr<const Data> data_;  // null for UTC
};

}  // namespace ck::controller_manager
