#include "controller-manager/cronjob/time_zone.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

namespace ck::controller_manager {

namespace {

constexpr int64_t kSecondsPerDay = 86400;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// (year, month, day) of a day count since 1970-01-01.
void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

// ---- POSIX TZ rules (the TZif footer), as Go's tzset reads them --------------------------------------

struct TzRule {
  enum Kind { kJulian, kDayOfYear, kMonthWeekDay } kind = kMonthWeekDay;
  int day = 0;
  int week = 0;
  int mon = 0;
  int64_t time = 2 * 3600;  // local time of the change, seconds
};

struct PosixTz {
  std::string std_name;
  int32_t std_offset = 0;  // east of UTC, seconds
  bool has_dst = false;
  std::string dst_name;
  int32_t dst_offset = 0;
  TzRule start, end;
};

bool ParseName(std::string_view& s, std::string* name) {
  if (s.empty()) return false;
  if (s[0] == '<') {
    size_t close = s.find('>');
    if (close == std::string_view::npos) return false;
    *name = std::string(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    return true;
  }
  size_t i = 0;
  while (i < s.size() && std::string_view("0123456789,-+").find(s[i]) == std::string_view::npos) ++i;
  if (i < 3) return false;
  *name = std::string(s.substr(0, i));
  s.remove_prefix(i);
  return true;
}

bool ParseNum(std::string_view& s, int min, int max, int* out) {
  size_t i = 0;
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
    v = v * 10 + (s[i] - '0');
    if (v > max) return false;
    ++i;
  }
  if (i == 0 || v < min) return false;
  *out = static_cast<int>(v);
  s.remove_prefix(i);
  return true;
}

// [+-]hh[:mm[:ss]] in seconds (Go's tzsetOffset).
bool ParseOffset(std::string_view& s, int64_t* out) {
  if (s.empty()) return false;
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int hours = 0, mins = 0, secs = 0;
  if (!ParseNum(s, 0, 24 * 7, &hours)) return false;
  if (!s.empty() && s[0] == ':') {
    s.remove_prefix(1);
    if (!ParseNum(s, 0, 59, &mins)) return false;
    if (!s.empty() && s[0] == ':') {
      s.remove_prefix(1);
      if (!ParseNum(s, 0, 59, &secs)) return false;
    }
  }
  int64_t v = hours * 3600 + mins * 60 + secs;
  *out = neg ? -v : v;
  return true;
}

bool ParseRule(std::string_view& s, TzRule* r) {
  if (s.empty()) return false;
  if (s[0] == 'J') {
    s.remove_prefix(1);
    r->kind = TzRule::kJulian;
    if (!ParseNum(s, 1, 365, &r->day)) return false;
  } else if (s[0] == 'M') {
    s.remove_prefix(1);
    r->kind = TzRule::kMonthWeekDay;
    if (!ParseNum(s, 1, 12, &r->mon) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNum(s, 1, 5, &r->week) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!ParseNum(s, 0, 6, &r->day)) return false;
  } else {
    r->kind = TzRule::kDayOfYear;
    if (!ParseNum(s, 0, 365, &r->day)) return false;
  }
  r->time = 2 * 3600;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    if (!ParseOffset(s, &r->time)) return false;
  }
  return true;
}

std::optional<PosixTz> ParsePosixTz(std::string_view s) {
  PosixTz tz;
  int64_t off = 0;
  if (!ParseName(s, &tz.std_name) || !ParseOffset(s, &off)) return std::nullopt;
  tz.std_offset = static_cast<int32_t>(-off);  // POSIX counts west; offsets here count east
  if (s.empty() || s[0] == ',') return tz;
  if (!ParseName(s, &tz.dst_name)) return std::nullopt;
  tz.has_dst = true;
  if (s.empty() || s[0] == ',') {
    tz.dst_offset = tz.std_offset + 3600;
  } else {
    if (!ParseOffset(s, &off)) return std::nullopt;
    tz.dst_offset = static_cast<int32_t>(-off);
  }
  std::string_view rules = s.empty() ? std::string_view(",M3.2.0,M11.1.0") : s;  // tzcode's default
  if (rules[0] != ',' && rules[0] != ';') return std::nullopt;
  rules.remove_prefix(1);
  if (!ParseRule(rules, &tz.start) || rules.empty() || rules[0] != ',') return std::nullopt;
  rules.remove_prefix(1);
  if (!ParseRule(rules, &tz.end) || !rules.empty()) return std::nullopt;
  return tz;
}

// Seconds after the start of `year` (UTC) at which rule `r` changes the clock, given the offset
// in effect before the change (Go's tzruleTime).
int64_t RuleTime(int64_t year, const TzRule& r, int32_t offset_before) {
  int64_t day = 0;  // zero-based day of the year
  switch (r.kind) {
    case TzRule::kJulian:
      day = r.day - 1 + ((IsLeapYear(year) && r.day >= 60) ? 1 : 0);
      break;
    case TzRule::kDayOfYear:
      day = r.day;
      break;
    case TzRule::kMonthWeekDay: {
      const int64_t first = DaysFromCivil(year, r.mon, 1);
      const int first_weekday = static_cast<int>(FloorMod(first + 4, 7));
      int d = r.day - first_weekday;
      if (d < 0) d += 7;
      for (int i = 1; i < r.week; ++i) {
        if (d + 7 >= DaysInMonth(year, r.mon)) break;
        d += 7;
      }
      day = first - DaysFromCivil(year, 1, 1) + d;
      break;
    }
  }
  return day * kSecondsPerDay + r.time - offset_before;
}

TimeZone::Period RulePeriod(const PosixTz& tz, int64_t last_transition, int64_t t) {
  TimeZone::Period p;
  if (!tz.has_dst) {
    p.offset = tz.std_offset;
    p.abbrev = tz.std_name;
    p.start = last_transition;
    return p;
  }
  int64_t year;
  int month, day;
  CivilFromDays(FloorDiv(t, kSecondsPerDay), &year, &month, &day);
  const int64_t year_start = DaysFromCivil(year, 1, 1) * kSecondsPerDay;
  const int64_t ysec = t - year_start;
  int64_t start = RuleTime(year, tz.start, tz.std_offset);
  int64_t end = RuleTime(year, tz.end, tz.dst_offset);
  std::string std_name = tz.std_name, dst_name = tz.dst_name;
  int32_t std_offset = tz.std_offset, dst_offset = tz.dst_offset;
  bool std_is_dst = false, dst_is_dst = true;
  if (end < start) {
    // Southern hemisphere: daylight time spans the new year.
    std::swap(start, end);
    std::swap(std_name, dst_name);
    std::swap(std_offset, dst_offset);
    std::swap(std_is_dst, dst_is_dst);
  }
  if (ysec < start) {
    p = {std_offset, std_is_dst, std_name, year_start, year_start + start};
  } else if (ysec >= end) {
    p = {std_offset, std_is_dst, std_name, year_start + end, year_start + 365 * kSecondsPerDay};
  } else {
    p = {dst_offset, dst_is_dst, dst_name, year_start + start, year_start + end};
  }
  return p;
}

// ---- TZif -------------------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool Read(size_t n, std::string_view* out) {
    if (d_.size() < n) return false;
    *out = d_.substr(0, n);
    d_.remove_prefix(n);
    return true;
  }
  bool U32(uint32_t* v) {
    std::string_view b;
    if (!Read(4, &b)) return false;
    *v = (uint32_t(uint8_t(b[0])) << 24) | (uint32_t(uint8_t(b[1])) << 16) | (uint32_t(uint8_t(b[2])) << 8) |
         uint32_t(uint8_t(b[3]));
    return true;
  }
  bool I64(int64_t* v) {
    uint32_t hi, lo;
    if (!U32(&hi) || !U32(&lo)) return false;
    *v = static_cast<int64_t>((uint64_t(hi) << 32) | lo);
    return true;
  }
  std::string_view rest() const { return d_; }

 private:
  std::string_view d_;
};

Status BadTzif() { return BadRequest("malformed time zone information"); }

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string data = ss.str();
  if (data.size() > (1 << 20)) return std::nullopt;
  return data;
}

}  // namespace

int64_t DaysFromCivil(int64_t year, int64_t month, int64_t day) {
  // Roll the month into the year first (time.Date's normalization), then count days.
  year += FloorDiv(month - 1, 12);
  month = FloorMod(month - 1, 12) + 1;
  const int64_t y = year - (month <= 2);
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468 + (day - 1);
}

bool IsLeapYear(int64_t year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

struct TimeZone::Data {
  struct Type {
    int32_t offset = 0;
    bool dst = false;
    std::string abbrev;
  };
  std::vector<Type> types;
  std::vector<int64_t> when;     // transition instants, ascending
  std::vector<uint8_t> type_of;  // type index per transition
  std::optional<PosixTz> extend;
  size_t first_type = 0;  // the type before the first transition (Go's lookupFirstZone)
};

TimeZone::TimeZone() = default;

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view bytes) {
  Reader r(bytes);
  auto header = [&](char* version, uint32_t counts[6]) -> bool {
    std::string_view magic, skip;
    if (!r.Read(4, &magic) || magic != "TZif") return false;
    std::string_view v;
    if (!r.Read(1, &v) || !r.Read(15, &skip)) return false;
    *version = v[0];
    for (int i = 0; i < 6; ++i) {
      if (!r.U32(&counts[i])) return false;
    }
    return true;
  };
  char version = 0;
  uint32_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(&version, c)) return BadTzif();
  bool wide = false;
  if (version >= '2') {
    // Skip the 32-bit data block; the 64-bit one follows with its own header.
    size_t v1 = size_t(c[3]) * 5 + size_t(c[4]) * 6 + c[5] + size_t(c[2]) * 8 + c[1] + c[0];
    std::string_view skip;
    if (!r.Read(v1, &skip) || !header(&version, c)) return BadTzif();
    wide = true;
  }
  const uint32_t timecnt = c[3], typecnt = c[4], charcnt = c[5];
  if (typecnt == 0 || typecnt > 256) return BadTzif();
  auto data = std::make_shared<Data>();
  for (uint32_t i = 0; i < timecnt; ++i) {
    int64_t when;
    if (wide) {
      if (!r.I64(&when)) return BadTzif();
    } else {
      uint32_t w;
      if (!r.U32(&w)) return BadTzif();
      when = static_cast<int32_t>(w);
    }
    data->when.push_back(when);
  }
  std::string_view idx;
  if (!r.Read(timecnt, &idx)) return BadTzif();
  for (char ch : idx) {
    if (uint8_t(ch) >= typecnt) return BadTzif();
    data->type_of.push_back(uint8_t(ch));
  }
  std::vector<uint8_t> desig;
  for (uint32_t i = 0; i < typecnt; ++i) {
    uint32_t off;
    std::string_view rest;
    if (!r.U32(&off) || !r.Read(2, &rest)) return BadTzif();
    data->types.push_back({static_cast<int32_t>(off), rest[0] != 0, ""});
    desig.push_back(uint8_t(rest[1]));
  }
  std::string_view chars;
  if (!r.Read(charcnt, &chars)) return BadTzif();
  for (uint32_t i = 0; i < typecnt; ++i) {
    if (desig[i] < chars.size()) {
      std::string_view a = chars.substr(desig[i]);
      data->types[i].abbrev = std::string(a.substr(0, a.find('\0')));
    }
  }
  std::string_view skip;
  if (!r.Read(size_t(c[2]) * (wide ? 12 : 8) + c[1] + c[0], &skip)) return BadTzif();
  if (wide) {
    std::string_view footer = r.rest();
    if (footer.size() >= 2 && footer[0] == '\n') {
      footer.remove_prefix(1);
      size_t nl = footer.find('\n');
      if (nl != std::string_view::npos && nl > 0) data->extend = ParsePosixTz(footer.substr(0, nl));
    }
  }
  // Go's lookupFirstZone: type 0 unless a transition uses it; then the first standard-time type.
  const bool first_used = std::find(data->type_of.begin(), data->type_of.end(), 0) != data->type_of.end();
  data->first_type = 0;
  if (first_used) {
    bool found = false;
    if (!data->type_of.empty() && data->types[data->type_of[0]].dst) {
      for (int zi = int(data->type_of[0]) - 1; zi >= 0 && !found; --zi) {
        if (!data->types[zi].dst) {
          data->first_type = zi;
          found = true;
        }
      }
    }
    for (size_t zi = 0; zi < data->types.size() && !found; ++zi) {
      if (!data->types[zi].dst) {
        data->first_type = zi;
        found = true;
      }
    }
  }
  TimeZone tz;
  tz.name_ = std::move(name);
  tz.data_ = std::move(data);
  return tz;
}

Result<TimeZone> TimeZone::Load(std::string_view name, const std::string& zoneinfo_dir) {
  if (name.empty() || name == "UTC") return TimeZone();
  if (name.find("..") != std::string_view::npos || name[0] == '/' || name[0] == '\\') {
    return BadRequest("time: invalid location name");
  }
  if (name == "Local") return BadRequest("unknown time zone Local");
  std::optional<std::string> bytes = ReadFile(zoneinfo_dir + "/" + std::string(name));
  if (!bytes) return BadRequest("unknown time zone " + std::string(name));
  Result<TimeZone> tz = FromTzif(std::string(name), *bytes);
  if (!tz.ok()) return BadRequest("unknown time zone " + std::string(name));
  return tz;
}

TimeZone TimeZone::Local() {
  const char* env = std::getenv("TZ");
  if (env == nullptr) {
    if (std::optional<std::string> bytes = ReadFile("/etc/localtime")) {
      if (Result<TimeZone> tz = FromTzif("Local", *bytes); tz.ok()) return *tz;
    }
    return TimeZone();
  }
  std::string_view tz = env;
  if (!tz.empty() && tz[0] == ':') tz.remove_prefix(1);
  if (tz.empty() || tz == "UTC") return TimeZone();
  if (tz[0] == '/') {
    if (std::optional<std::string> bytes = ReadFile(std::string(tz))) {
      if (Result<TimeZone> z = FromTzif("Local", *bytes); z.ok()) return *z;
    }
    return TimeZone();
  }
  Result<TimeZone> z = Load(tz);
  return z.ok() ? *z : TimeZone();
}

TimeZone::Period TimeZone::Lookup(int64_t t) const {
  Period p;
  if (data_ == nullptr) return p;
  const Data& d = *data_;
  if (d.when.empty() || t < d.when.front()) {
    const Data::Type& type = d.types[d.first_type];
    p = {type.offset, type.dst, type.abbrev, INT64_MIN, d.when.empty() ? INT64_MAX : d.when.front()};
    if (d.when.empty() && d.extend) return RulePeriod(*d.extend, INT64_MIN, t);
    return p;
  }
  // The last transition at or before t.
  size_t lo = std::upper_bound(d.when.begin(), d.when.end(), t) - d.when.begin() - 1;
  const Data::Type& type = d.types[d.type_of[lo]];
  p = {type.offset, type.dst, type.abbrev, d.when[lo], lo + 1 < d.when.size() ? d.when[lo + 1] : INT64_MAX};
  // Past the table: the footer's rule continues it.
  if (lo + 1 == d.when.size() && d.extend) return RulePeriod(*d.extend, d.when[lo], t);
  return p;
}

CivilTime TimeZone::ToCivil(int64_t t) const {
  const int64_t local = t + OffsetAt(t);
  const int64_t days = FloorDiv(local, kSecondsPerDay);
  const int64_t secs = local - days * kSecondsPerDay;
  CivilTime c;
  CivilFromDays(days, &c.year, &c.month, &c.day);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(FloorMod(days + 4, 7));
  return c;
}

int64_t TimeZone::FromCivil(int64_t year, int64_t month, int64_t day, int64_t hour, int64_t minute,
                            int64_t second) const {
  int64_t unix = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600 + minute * 60 + second;
  // Go's time.Date: look the local reading up as if it were UTC, then correct with the offset
  // in effect at the resulting instant when the first guess crossed a transition.
  Period p = Lookup(unix);
  if (p.offset != 0) {
    int64_t utc = unix - p.offset;
    int32_t offset = p.offset;
    if (utc < p.start || utc >= p.end) offset = Lookup(utc).offset;
    unix -= offset;
  }
  return unix;
}

}  // namespace ck::controller_manager
