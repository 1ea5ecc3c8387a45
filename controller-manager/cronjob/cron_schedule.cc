#include "controller-manager/cronjob/cron_schedule.h"

#include <map>
#include <vector>

#include "common/api/time_format.h"
#include "common/base/strings.h"

namespace ck::controller_manager {

namespace {

struct Bounds {
  int min;
  int max;
  const std::map<std::string, int>* names;
};

const std::map<std::string, int> kMonthNames = {{"jan", 1}, {"feb", 2},  {"mar", 3},  {"apr", 4},
                                                {"may", 5}, {"jun", 6},  {"jul", 7},  {"aug", 8},
                                                {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, int> kDowNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                              {"thu", 4}, {"fri", 5}, {"sat", 6}};
constexpr Bounds kMinutes{0, 59, nullptr};
constexpr Bounds kHours{0, 23, nullptr};
constexpr Bounds kDom{1, 31, nullptr};
const Bounds kMonths{1, 12, &kMonthNames};
const Bounds kDow{0, 6, &kDowNames};

uint64_t Bits(int min, int max, int step) {
  uint64_t bits = 0;
  for (int i = min; i <= max; i += step) bits |= uint64_t{1} << i;
  return bits;
}
uint64_t All(const Bounds& b) { return Bits(b.min, b.max, 1) | CronSchedule::kStarBit; }

Status Error(std::string m) { return BadRequest(std::move(m)); }

// Go's strconv.Atoi followed by robfig's non-negative check.
Result<int> MustParseInt(std::string_view expr) {
  std::string_view digits = expr;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  bool ok = !digits.empty();
  int64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') ok = false;
    if (ok) v = v * 10 + (c - '0');
    if (v > INT32_MAX) {
      return Error("failed to parse int from " + std::string(expr) + ": strconv.Atoi: parsing " +
                   JsonString(expr) + ": value out of range");
    }
  }
  if (!ok) {
    return Error("failed to parse int from " + std::string(expr) + ": strconv.Atoi: parsing " + JsonString(expr) +
                 ": invalid syntax");
  }
  if (neg && v != 0) return Error("negative number (-" + std::to_string(v) + ") not allowed: " + std::string(expr));
  return static_cast<int>(v);
}

Result<int> ParseIntOrName(std::string_view expr, const Bounds& b) {
  if (b.names != nullptr) {
    auto it = b.names->find(ToLower(expr));
    if (it != b.names->end()) return it->second;
  }
  return MustParseInt(expr);
}

// One comma-separated part: "*", "?", "5", "1-5", "*/15", "1-30/10", "5/20" (robfig getRange).
Result<uint64_t> ParseRange(std::string_view expr, const Bounds& b) {
  std::vector<std::string_view> range_and_step = Split(expr, '/');
  std::vector<std::string_view> low_and_high = Split(range_and_step[0], '-');
  const bool single = low_and_high.size() == 1;
  int start = 0, end = 0, step = 1;
  uint64_t extra = 0;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = b.min;
    end = b.max;
    extra = CronSchedule::kStarBit;
  } else {
    CK_ASSIGN_OR_RETURN(start, ParseIntOrName(low_and_high[0], b));
    switch (low_and_high.size()) {
      case 1:
        end = start;
        break;
      case 2: {
        CK_ASSIGN_OR_RETURN(end, ParseIntOrName(low_and_high[1], b));
        break;
      }
      default:
        return Error("too many hyphens: " + std::string(expr));
    }
  }
  switch (range_and_step.size()) {
    case 1:
      break;
    case 2: {
      CK_ASSIGN_OR_RETURN(step, MustParseInt(range_and_step[1]));
      if (single) end = b.max;  // "N/step" means "N-max/step"
      if (step > 1) extra = 0;
      break;
    }
    default:
      return Error("too many slashes: " + std::string(expr));
  }
  if (start < b.min) {
    return Error("beginning of range (" + std::to_string(start) + ") below minimum (" + std::to_string(b.min) +
                 "): " + std::string(expr));
  }
  if (end > b.max) {
    return Error("end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(b.max) +
                 "): " + std::string(expr));
  }
  if (start > end) {
    return Error("beginning of range (" + std::to_string(start) + ") beyond end of range (" + std::to_string(end) +
                 "): " + std::string(expr));
  }
  if (step == 0) return Error("step of range should be a positive number: " + std::string(expr));
  return Bits(start, end, step) | extra;
}

Result<uint64_t> ParseField(std::string_view field, const Bounds& b) {
  uint64_t bits = 0;
  for (std::string_view part : Split(field, ',', /*skip_empty=*/true)) {
    CK_ASSIGN_OR_RETURN(uint64_t r, ParseRange(part, b));
    bits |= r;
  }
  return bits;
}

std::vector<std::string_view> Fields(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; };
  while (i < s.size()) {
    while (i < s.size() && space(s[i])) ++i;
    size_t j = i;
    while (j < s.size() && !space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

int64_t FloorSeconds(WallTime t) {
  return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view spec, const TimeZone& default_zone) {
  if (spec.empty()) return Error("empty spec string");
  CronSchedule s;
  s.zone_ = default_zone;
  if (spec.starts_with("TZ=") || spec.starts_with("CRON_TZ=")) {
    size_t space = spec.find(' ');
    size_t eq = spec.find('=');
    if (space == std::string_view::npos) return Error("expected exactly 5 fields, found 0: []");
    std::string_view name = spec.substr(eq + 1, space - eq - 1);
    Result<TimeZone> zone = TimeZone::Load(name);
    if (!zone.ok()) return Error("provided bad location " + std::string(name) + ": " + zone.status().message());
    s.zone_ = *zone;
    spec = TrimSpace(spec.substr(space));
  }
  if (spec.starts_with("@")) {
    if (spec == "@yearly" || spec == "@annually") {
      s.minute_ = 1, s.hour_ = 1, s.dom_ = 1 << 1, s.month_ = 1 << 1, s.dow_ = All(kDow);
    } else if (spec == "@monthly") {
      s.minute_ = 1, s.hour_ = 1, s.dom_ = 1 << 1, s.month_ = All(kMonths), s.dow_ = All(kDow);
    } else if (spec == "@weekly") {
      s.minute_ = 1, s.hour_ = 1, s.dom_ = All(kDom), s.month_ = All(kMonths), s.dow_ = 1;
    } else if (spec == "@daily" || spec == "@midnight") {
      s.minute_ = 1, s.hour_ = 1, s.dom_ = All(kDom), s.month_ = All(kMonths), s.dow_ = All(kDow);
    } else if (spec == "@hourly") {
      s.minute_ = 1, s.hour_ = All(kHours), s.dom_ = All(kDom), s.month_ = All(kMonths), s.dow_ = All(kDow);
    } else if (spec.starts_with("@every ")) {
      Result<int64_t> nanos = api::ParseGoDuration(spec.substr(7));
      if (!nanos.ok()) {
        return Error("failed to parse duration " + std::string(spec) + ": " + nanos.status().message());
      }
      // robfig's Every: whole seconds, at least one.
      s.every_seconds_ = std::max<int64_t>(1, *nanos / 1000000000);
    } else {
      return Error("unrecognized descriptor: " + std::string(spec));
    }
    return s;
  }
  std::vector<std::string_view> fields = Fields(spec);
  if (fields.size() != 5) {
    std::string list;
    for (std::string_view f : fields) list += (list.empty() ? "" : " ") + std::string(f);
    return Error("expected exactly 5 fields, found " + std::to_string(fields.size()) + ": [" + list + "]");
  }
  CK_ASSIGN_OR_RETURN(s.minute_, ParseField(fields[0], kMinutes));
  CK_ASSIGN_OR_RETURN(s.hour_, ParseField(fields[1], kHours));
  CK_ASSIGN_OR_RETURN(s.dom_, ParseField(fields[2], kDom));
  CK_ASSIGN_OR_RETURN(s.month_, ParseField(fields[3], kMonths));
  CK_ASSIGN_OR_RETURN(s.dow_, ParseField(fields[4], kDow));
  return s;
}

bool CronSchedule::DayMatches(const CivilTime& c) const {
  const bool dom_match = (uint64_t{1} << c.day) & dom_;
  const bool dow_match = (uint64_t{1} << c.weekday) & dow_;
  if ((dom_ & kStarBit) || (dow_ & kStarBit)) return dom_match && dow_match;
  return dom_match || dow_match;
}

std::optional<WallTime> CronSchedule::Next(WallTime after) const {
  if (every_seconds_ > 0) return WallTime(std::chrono::seconds(FloorSeconds(after) + every_seconds_));
  const TimeZone& z = zone_;
  // The upcoming whole second; then each field is moved forward until it matches, a wrap of a
  // field restarting the walk from the month (robfig SpecSchedule.Next).
  int64_t t = FloorSeconds(after) + 1;
  bool added = false;
  const int64_t year_limit = z.ToCivil(t).year + 5;
wrap:
  CivilTime c = z.ToCivil(t);
  if (c.year > year_limit) return std::nullopt;
  while (!((uint64_t{1} << c.month) & month_)) {
    if (!added) {
      added = true;
      t = z.FromCivil(c.year, c.month, 1, 0, 0, 0);
      c = z.ToCivil(t);
    }
    t = z.FromCivil(c.year, c.month + 1, c.day, c.hour, c.minute, c.second);
    c = z.ToCivil(t);
    if (c.month == 1) goto wrap;
  }
  while (!DayMatches(c)) {
    if (!added) {
      added = true;
      t = z.FromCivil(c.year, c.month, c.day, 0, 0, 0);
      c = z.ToCivil(t);
    }
    t = z.FromCivil(c.year, c.month, c.day + 1, c.hour, c.minute, c.second);
    c = z.ToCivil(t);
    // Where DST moved midnight, get back to it (robfig: add up to the next day, or subtract).
    if (c.hour != 0) {
      t += c.hour > 12 ? (24 - c.hour) * 3600 : -c.hour * 3600;
      c = z.ToCivil(t);
    }
    if (c.day == 1) goto wrap;
  }
  while (!((uint64_t{1} << c.hour) & hour_)) {
    if (!added) {
      added = true;
      t = z.FromCivil(c.year, c.month, c.day, c.hour, 0, 0);
      c = z.ToCivil(t);
    }
    t += 3600;
    c = z.ToCivil(t);
    if (c.hour == 0) goto wrap;
  }
  while (!((uint64_t{1} << c.minute) & minute_)) {
    if (!added) {
      added = true;
      t -= ((t % 60) + 60) % 60;  // Truncate(time.Minute)
      c = z.ToCivil(t);
    }
    t += 60;
    c = z.ToCivil(t);
    if (c.minute == 0) goto wrap;
  }
  while (!((uint64_t{1} << c.second) & second_)) {
    if (!added) added = true;  // already whole seconds
    t += 1;
    c = z.ToCivil(t);
    if (c.second == 0) goto wrap;
  }
  return WallTime(std::chrono::seconds(t));
}

}  // namespace ck::controller_manager
