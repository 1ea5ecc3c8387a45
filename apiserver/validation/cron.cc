#include "apiserver/validation/cron.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <map>
#include <vector>

namespace ck::apiserver {

namespace {

struct Bounds {
  unsigned min, max;
  const std::map<std::string, unsigned>* names;
};

const std::map<std::string, unsigned> kMonthNames = {{"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},
                                                     {"may", 5}, {"jun", 6}, {"jul", 7}, {"aug", 8},
                                                     {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, unsigned> kDowNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                   {"thu", 4}, {"fri", 5}, {"sat", 6}};
const Bounds kMinutes{0, 59, nullptr};
const Bounds kHours{0, 23, nullptr};
const Bounds kDom{1, 31, nullptr};
const Bounds kMonths{1, 12, &kMonthNames};
const Bounds kDow{0, 6, &kDowNames};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.emplace_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

std::vector<std::string> Fields(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

// Go's %s of a []string: "[a b c]".
std::string GoList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i > 0 ? " " : "") + v[i];
  return out + "]";
}

// strconv.Atoi, with Go's error text.
bool Atoi(const std::string& s, long long* out, std::string* err) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i == s.size()) {
    *err = "strconv.Atoi: parsing \"" + s + "\": invalid syntax";
    return false;
  }
  long long v = 0;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) {
      *err = "strconv.Atoi: parsing \"" + s + "\": invalid syntax";
      return false;
    }
    if (v > (INT64_MAX - 9) / 10) {
      *err = "strconv.Atoi: parsing \"" + s + "\": value out of range";
      return false;
    }
    v = v * 10 + (s[i] - '0');
  }
  *out = neg ? -v : v;
  return true;
}

Status MustParseInt(const std::string& expr, unsigned* out) {
  long long n = 0;
  std::string err;
  if (!Atoi(expr, &n, &err)) return BadRequest("failed to parse int from " + expr + ": " + err);
  if (n < 0) return BadRequest("negative number (" + std::to_string(n) + ") not allowed: " + expr);
  *out = n > 1'000'000 ? 1'000'000u : static_cast<unsigned>(n);
  return Status::Ok();
}

Status ParseIntOrName(const std::string& expr, const Bounds& b, unsigned* out) {
  if (b.names != nullptr) {
    std::string lower;
    for (char c : expr) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto it = b.names->find(lower);
    if (it != b.names->end()) {
      *out = it->second;
      return Status::Ok();
    }
  }
  return MustParseInt(expr, out);
}

uint64_t Bits(unsigned min, unsigned max, unsigned step) {
  uint64_t bits = 0;
  if (step == 1) {
    for (unsigned i = min; i <= max; ++i) bits |= uint64_t{1} << i;
    return bits;
  }
  for (unsigned i = min; i <= max; i += step) bits |= uint64_t{1} << i;
  return bits;
}

Status GetRange(const std::string& expr, const Bounds& b, uint64_t* out) {
  std::vector<std::string> range_and_step = Split(expr, '/');
  std::vector<std::string> low_high = Split(range_and_step[0], '-');
  bool single = low_high.size() == 1;
  unsigned start = 0, end = 0, step = 1;
  uint64_t extra = 0;
  if (low_high[0] == "*" || low_high[0] == "?") {
    start = b.min;
    end = b.max;
    extra = CronSchedule::kStarBit;
  } else {
    CK_RETURN_IF_ERROR(ParseIntOrName(low_high[0], b, &start));
    if (low_high.size() == 1) {
      end = start;
    } else if (low_high.size() == 2) {
      CK_RETURN_IF_ERROR(ParseIntOrName(low_high[1], b, &end));
    } else {
      return BadRequest("too many hyphens: " + expr);
    }
  }
  if (range_and_step.size() == 2) {
    CK_RETURN_IF_ERROR(MustParseInt(range_and_step[1], &step));
    if (single) end = b.max;  // "N/step" means "N-max/step"
    if (step > 1) extra = 0;
  } else if (range_and_step.size() > 2) {
    return BadRequest("too many slashes: " + expr);
  }
  if (start < b.min) {
    return BadRequest("beginning of range (" + std::to_string(start) + ") below minimum (" + std::to_string(b.min) + "): " + expr);
  }
  if (end > b.max) {
    return BadRequest("end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(b.max) + "): " + expr);
  }
  if (start > end) {
    return BadRequest("beginning of range (" + std::to_string(start) + ") beyond end of range (" + std::to_string(end) +
                      "): " + expr);
  }
  if (step == 0) return BadRequest("step of range should be a positive number: " + expr);
  *out = Bits(start, end, step) | extra;
  return Status::Ok();
}

Status GetField(const std::string& field, const Bounds& b, uint64_t* out) {
  uint64_t bits = 0;
  for (const auto& expr : Split(field, ',')) {
    if (expr.empty()) continue;  // strings.FieldsFunc drops empty pieces
    uint64_t bit = 0;
    CK_RETURN_IF_ERROR(GetRange(expr, b, &bit));
    bits |= bit;
  }
  *out = bits;
  return Status::Ok();
}

uint64_t All(const Bounds& b) { return Bits(b.min, b.max, 1) | CronSchedule::kStarBit; }

}  // namespace

Result<int64_t> ParseGoDurationNanos(std::string_view orig) {
  auto invalid = [&] { return BadRequest("time: invalid duration \"" + std::string(orig) + "\""); };
  std::string_view s = orig;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  static const std::map<std::string, double> kUnits = {{"ns", 1.0},         {"us", 1e3},          {"\xc2\xb5s", 1e3},
                                                       {"\xce\xbcs", 1e3},  {"ms", 1e6},          {"s", 1e9},
                                                       {"m", 60e9},         {"h", 3600e9}};
  double total = 0;
  while (!s.empty()) {
    if (!(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return invalid();
    size_t i = 0;
    double v = 0;
    bool digits = false;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      v = v * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        v += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return invalid();
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !std::isdigit(static_cast<unsigned char>(s[u]))) ++u;
    std::string unit(s.substr(i, u - i));
    if (unit.empty()) return BadRequest("time: missing unit in duration \"" + std::string(orig) + "\"");
    auto it = kUnits.find(unit);
    if (it == kUnits.end()) {
      return BadRequest("time: unknown unit \"" + unit + "\" in duration \"" + std::string(orig) + "\"");
    }
    total += v * it->second;
    if (total > 9.223372036854775807e18) return invalid();
    s.remove_prefix(u);
  }
  int64_t n = static_cast<int64_t>(total);
  return neg ? -n : n;
}

Result<CronSchedule> CronSchedule::Parse(std::string_view spec_in) {
  std::string spec(spec_in);
  if (spec.empty()) return BadRequest("empty spec string");
  CronSchedule out;
  if (spec.rfind("TZ=", 0) == 0 || spec.rfind("CRON_TZ=", 0) == 0) {
    size_t space = spec.find(' ');
    size_t eq = spec.find('=');
    std::string zone = spec.substr(eq + 1, space == std::string::npos ? std::string::npos : space - eq - 1);
    if (!IsKnownTimeZone(zone)) return BadRequest("provided bad location " + zone + ": unknown time zone " + zone);
    out.time_zone = zone;
    spec = space == std::string::npos ? "" : spec.substr(space);
    size_t b = spec.find_first_not_of(" \t\n\r\v\f");
    size_t e = spec.find_last_not_of(" \t\n\r\v\f");
    spec = b == std::string::npos ? "" : spec.substr(b, e - b + 1);
  }
  if (!spec.empty() && spec[0] == '@') {
    auto set = [&](uint64_t minute, uint64_t hour, uint64_t dom, uint64_t month, uint64_t dow) {
      out.minute = minute;
      out.hour = hour;
      out.day_of_month = dom;
      out.month = month;
      out.day_of_week = dow;
    };
    if (spec == "@yearly" || spec == "@annually") {
      set(1, 1, 1 << 1, 1 << 1, All(kDow));
    } else if (spec == "@monthly") {
      set(1, 1, 1 << 1, All(kMonths), All(kDow));
    } else if (spec == "@weekly") {
      set(1, 1, All(kDom), All(kMonths), 1);
    } else if (spec == "@daily" || spec == "@midnight") {
      set(1, 1, All(kDom), All(kMonths), All(kDow));
    } else if (spec == "@hourly") {
      set(1, All(kHours), All(kDom), All(kMonths), All(kDow));
    } else if (spec.rfind("@every ", 0) == 0) {
      auto d = ParseGoDurationNanos(std::string_view(spec).substr(7));
      if (!d.ok()) return BadRequest("failed to parse duration " + spec + ": " + d.status().message());
      int64_t seconds = *d / 1'000'000'000;
      out.every_seconds = seconds < 1 ? 1 : seconds;
    } else {
      return BadRequest("unrecognized descriptor: " + spec);
    }
    return out;
  }
  std::vector<std::string> fields = Fields(spec);
  if (fields.size() != 5) {
    return BadRequest("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " + GoList(fields));
  }
  CK_RETURN_IF_ERROR(GetField(fields[0], kMinutes, &out.minute));
  CK_RETURN_IF_ERROR(GetField(fields[1], kHours, &out.hour));
  CK_RETURN_IF_ERROR(GetField(fields[2], kDom, &out.day_of_month));
  CK_RETURN_IF_ERROR(GetField(fields[3], kMonths, &out.month));
  CK_RETURN_IF_ERROR(GetField(fields[4], kDow, &out.day_of_week));
  return out;
}

int64_t CronSchedule::NextUtc(int64_t after) const {
  if (every_seconds > 0) return after - after % every_seconds + every_seconds;
  std::time_t t = static_cast<std::time_t>(after - after % 60 + 60);
  const std::time_t limit = t + int64_t{5} * 366 * 24 * 3600;
  auto bit = [](uint64_t bits, int v) { return (bits & (uint64_t{1} << v)) != 0; };
  while (t < limit) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    if (!bit(month, tm.tm_mon + 1)) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    bool dom_ok = bit(day_of_month, tm.tm_mday);
    bool dow_ok = bit(day_of_week, tm.tm_wday);
    bool day_ok = (day_of_month & kStarBit) || (day_of_week & kStarBit) ? dom_ok && dow_ok : dom_ok || dow_ok;
    if (!day_ok) {
      tm.tm_mday += 1;
      tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!bit(hour, tm.tm_hour)) {
      tm.tm_hour += 1;
      tm.tm_min = tm.tm_sec = 0;
      t = timegm(&tm);
      continue;
    }
    if (!bit(minute, tm.tm_min)) {
      t += 60;
      continue;
    }
    return static_cast<int64_t>(t);
  }
  return -1;
}

bool IsKnownTimeZone(std::string_view tz) {
  if (tz.empty() || tz == "UTC" || tz == "Local") return true;
  if (tz.find("..") != std::string_view::npos || tz.front() == '/') return false;
  std::string path = "/usr/share/zoneinfo/" + std::string(tz);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return false;
  char magic[4] = {};
  size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && magic[0] == 'T' && magic[1] == 'Z' && magic[2] == 'i' && magic[3] == 'f';
}

}  // namespace ck::apiserver
