#include "common/api/time_format.h"

#include <charconv>
#include <limits>

namespace ck::api {
namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned DaysIn(int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

char* Put2(char* p, unsigned v) {
  *p++ = static_cast<char>('0' + v / 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

Status TimeError(std::string_view s, std::string_view why) {
  std::string m = "parsing time \"";
  m.append(s);
  m += "\" as RFC 3339: ";
  m.append(why);
  return BadRequest(std::move(m));
}

}  // namespace

size_t FormatRfc3339To(char* buf, Timestamp t, bool micro) {
  int64_t secs = t.seconds;
  int64_t nanos = t.nanos;
  if (nanos < 0 || nanos >= 1'000'000'000) {  // normalize a malformed protobuf value
    secs += nanos / 1'000'000'000;
    nanos %= 1'000'000'000;
    if (nanos < 0) {
      nanos += 1'000'000'000;
      --secs;
    }
  }
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char* p = buf;
  if (y < 0) {
    *p++ = '-';
    y = -y;
  }
  char ybuf[24];
  auto r = std::to_chars(ybuf, ybuf + sizeof ybuf, y);
  for (ptrdiff_t pad = 4 - (r.ptr - ybuf); pad > 0; --pad) *p++ = '0';
  for (const char* q = ybuf; q < r.ptr; ++q) *p++ = *q;
  *p++ = '-';
  p = Put2(p, m);
  *p++ = '-';
  p = Put2(p, d);
  *p++ = 'T';
  p = Put2(p, static_cast<unsigned>(rem / 3600));
  *p++ = ':';
  p = Put2(p, static_cast<unsigned>(rem / 60 % 60));
  *p++ = ':';
  p = Put2(p, static_cast<unsigned>(rem % 60));
  if (micro) {
    *p++ = '.';
    unsigned us = static_cast<unsigned>(nanos / 1000);
    for (int i = 5; i >= 0; --i) {
      p[i] = static_cast<char>('0' + us % 10);
      us /= 10;
    }
    p += 6;
  }
  *p++ = 'Z';
  return static_cast<size_t>(p - buf);
}

void AppendRfc3339(std::string* out, Timestamp t, bool micro) {
  char buf[kRfc3339MaxLen];
  out->append(buf, FormatRfc3339To(buf, t, micro));
}

std::string FormatRfc3339(Timestamp t) {
  std::string s;
  AppendRfc3339(&s, t, false);
  return s;
}

std::string FormatRfc3339Micro(Timestamp t) {
  std::string s;
  AppendRfc3339(&s, t, true);
  return s;
}

Result<Timestamp> ParseRfc3339(std::string_view s) {
  // Layout 2006-01-02T15:04:05[.frac](Z|+07:00).
  size_t i = 0;
  auto num = [&](size_t width, unsigned* out, std::string_view what) -> Status {
    unsigned v = 0;
    for (size_t k = 0; k < width; ++k, ++i) {
      if (i >= s.size() || s[i] < '0' || s[i] > '9') {
        return TimeError(s, std::string("expected ") + std::to_string(width) + "-digit " +
                                std::string(what) + " at offset " + std::to_string(i));
      }
      v = v * 10 + static_cast<unsigned>(s[i] - '0');
    }
    *out = v;
    return Status::Ok();
  };
  auto lit = [&](char c) -> Status {
    if (i >= s.size() || s[i] != c) {
      return TimeError(s, std::string("expected '") + c + "' at offset " + std::to_string(i));
    }
    ++i;
    return Status::Ok();
  };
  unsigned year, month, day, hour, minute, second;
  CK_RETURN_IF_ERROR(num(4, &year, "year"));
  CK_RETURN_IF_ERROR(lit('-'));
  CK_RETURN_IF_ERROR(num(2, &month, "month"));
  CK_RETURN_IF_ERROR(lit('-'));
  CK_RETURN_IF_ERROR(num(2, &day, "day"));
  CK_RETURN_IF_ERROR(lit('T'));
  CK_RETURN_IF_ERROR(num(2, &hour, "hour"));
  CK_RETURN_IF_ERROR(lit(':'));
  CK_RETURN_IF_ERROR(num(2, &minute, "minute"));
  CK_RETURN_IF_ERROR(lit(':'));
  CK_RETURN_IF_ERROR(num(2, &second, "second"));
  if (month < 1 || month > 12) return TimeError(s, "month out of range");
  if (day < 1 || day > DaysIn(year, month)) return TimeError(s, "day out of range");
  if (hour > 23) return TimeError(s, "hour out of range");
  if (minute > 59) return TimeError(s, "minute out of range");
  if (second > 59) return TimeError(s, "second out of range");
  int64_t nanos = 0;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    size_t start = i;
    int64_t scale = 100'000'000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) return TimeError(s, "expected fraction digits at offset " + std::to_string(i));
  }
  int64_t offset = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    unsigned oh, om;
    CK_RETURN_IF_ERROR(num(2, &oh, "zone hour"));
    CK_RETURN_IF_ERROR(lit(':'));
    CK_RETURN_IF_ERROR(num(2, &om, "zone minute"));
    if (oh > 23 || om > 59) return TimeError(s, "time zone offset out of range");
    offset = sign * static_cast<int64_t>(oh * 3600 + om * 60);
  } else {
    return TimeError(s, "expected 'Z' or a zone offset at offset " + std::to_string(i));
  }
  if (i != s.size()) return TimeError(s, "extra text at offset " + std::to_string(i));
  int64_t days = DaysFromCivil(year, month, day);
  Timestamp t;
  t.seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  t.nanos = static_cast<int32_t>(nanos);
  return t;
}

Timestamp ToTimestamp(WallTime t) {
  int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  Timestamp ts;
  ts.seconds = ns >= 0 ? ns / 1'000'000'000 : (ns - 999'999'999) / 1'000'000'000;
  ts.nanos = static_cast<int32_t>(ns - ts.seconds * 1'000'000'000);
  return ts;
}

WallTime FromTimestamp(Timestamp t) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(
      std::chrono::seconds(t.seconds) + std::chrono::nanoseconds(t.nanos)));
}

std::string FormatGoDuration(int64_t d) {
  // Mirrors time.Duration.String: "0s"; below one second a single unit (ns, µs, ms) with a
  // fraction; otherwise h, m and s with a fractional second, leading zero units left out.
  if (d == 0) return "0s";
  bool neg = d < 0;
  uint64_t u = neg ? static_cast<uint64_t>(-(d + 1)) + 1 : static_cast<uint64_t>(d);
  std::string out;
  auto frac = [](uint64_t v, int prec, std::string* digits) -> uint64_t {
    // Returns v / 10^prec and sets *digits to the fraction without trailing zeros (with a dot).
    std::string f;
    bool print = false;
    for (int i = 0; i < prec; ++i) {
      uint64_t digit = v % 10;
      print = print || digit != 0;
      if (print) f.insert(f.begin(), static_cast<char>('0' + digit));
      v /= 10;
    }
    if (print) f.insert(f.begin(), '.');
    *digits = f;
    return v;
  };
  std::string fraction;
  if (u < 1'000'000'000) {
    int prec;
    std::string unit;
    if (u < 1000) {
      prec = 0;
      unit = "ns";
    } else if (u < 1'000'000) {
      prec = 3;
      unit = "\xC2\xB5s";  // µs, U+00B5 as Go writes it
    } else {
      prec = 6;
      unit = "ms";
    }
    uint64_t whole = frac(u, prec, &fraction);
    out = std::to_string(whole) + fraction + unit;
  } else {
    uint64_t whole = frac(u, 9, &fraction);
    std::string secs = std::to_string(whole % 60) + fraction + "s";
    whole /= 60;
    if (whole > 0) {
      std::string mins = std::to_string(whole % 60) + "m";
      whole /= 60;
      out = (whole > 0 ? std::to_string(whole) + "h" : std::string()) + mins + secs;
    } else {
      out = secs;
    }
  }
  return neg ? "-" + out : out;
}

Result<int64_t> ParseGoDuration(std::string_view s) {
  auto invalid = [&](std::string_view what = "invalid duration") {
    return BadRequest("time: " + std::string(what) + " \"" + std::string(s) + "\"");
  };
  std::string_view in = s;
  bool neg = false;
  if (!in.empty() && (in[0] == '-' || in[0] == '+')) {
    neg = in[0] == '-';
    in.remove_prefix(1);
  }
  if (in == "0") return int64_t{0};
  if (in.empty()) return invalid();
  constexpr uint64_t kMaxNeg = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!in.empty()) {
    if (!(in[0] == '.' || (in[0] >= '0' && in[0] <= '9'))) return invalid();
    // Integer part.
    uint64_t v = 0;
    size_t i = 0;
    bool overflow = false;
    while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
      if (v > (kMaxNeg - 9) / 10) overflow = true;
      v = v * 10 + static_cast<uint64_t>(in[i] - '0');
      ++i;
    }
    if (overflow) return invalid();
    bool pre = i > 0;
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (i < in.size() && in[i] == '.') {
      ++i;
      size_t start = i;
      while (i < in.size() && in[i] >= '0' && in[i] <= '9') {
        if (f <= (uint64_t{1} << 62) / 10) {
          f = f * 10 + static_cast<uint64_t>(in[i] - '0');
          scale *= 10;
        }
        ++i;
      }
      post = i > start;
    }
    if (!pre && !post) return invalid();
    size_t ustart = i;
    while (i < in.size() && in[i] != '.' && !(in[i] >= '0' && in[i] <= '9')) ++i;
    std::string_view unit = in.substr(ustart, i - ustart);
    if (unit.empty()) return invalid("missing unit in duration");
    uint64_t mult;
    if (unit == "ns") mult = 1;
    else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") mult = 1000;
    else if (unit == "ms") mult = 1'000'000;
    else if (unit == "s") mult = 1'000'000'000;
    else if (unit == "m") mult = 60'000'000'000;
    else if (unit == "h") mult = 3'600'000'000'000;
    else {
      return BadRequest("time: unknown unit \"" + std::string(unit) + "\" in duration \"" +
                        std::string(s) + "\"");
    }
    if (v > kMaxNeg / mult) return invalid();
    v *= mult;
    if (f > 0) {
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(mult) / scale));
      if (v > kMaxNeg) return invalid();
    }
    total += v;
    if (total > kMaxNeg) return invalid();
    in.remove_prefix(i);
  }
  if (total == 0) return int64_t{0};
  if (neg) return -static_cast<int64_t>(total - 1) - 1;
  if (total > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return invalid();
  return static_cast<int64_t>(total);
}

}  // namespace ck::api
