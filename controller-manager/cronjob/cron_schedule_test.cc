// CronSchedule and TimeZone as tables: parse errors with robfig's texts, field bits (names,
// ranges, steps, the star rule of the day fields), next activation times across month ends,
// leap days, weekdays, descriptors, time zones and both DST transitions, and the POSIX rule
// that continues a zone past its last listed transition.
#include "controller-manager/cronjob/cron_schedule.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/api/time_format.h"
#include "controller-manager/cronjob/time_zone.h"

namespace ck::controller_manager {
namespace {

WallTime T(const std::string& rfc3339) {
  Result<api::Timestamp> ts = api::ParseRfc3339(rfc3339);
  CK_CHECK(ts.ok()) << rfc3339;
  return api::FromTimestamp(*ts);
}

std::string Format(WallTime t) { return api::FormatRfc3339(api::ToTimestamp(t)); }

TEST(CronScheduleTest, ParseErrorsAsRobfig) {
  struct Case {
    std::string spec;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "empty spec string"},
      {"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
      {"* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"},
      {"60 * * * *", "end of range (60) above maximum (59): 60"},
      {"* 24 * * *", "end of range (24) above maximum (23): 24"},
      {"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
      {"* * 32 * *", "end of range (32) above maximum (31): 32"},
      {"* * * 13 *", "end of range (13) above maximum (12): 13"},
      {"* * * 0 *", "beginning of range (0) below minimum (1): 0"},
      {"* * * * 7", "end of range (7) above maximum (6): 7"},
      {"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
      {"1-2-3 * * * *", "too many hyphens: 1-2-3"},
      {"*/5/2 * * * *", "too many slashes: */5/2"},
      {"*/0 * * * *", "step of range should be a positive number: */0"},
      {"x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"* * * FOO *", "failed to parse int from FOO: strconv.Atoi: parsing \"FOO\": invalid syntax"},
      {"* * * * MON-XYZ", "failed to parse int from XYZ: strconv.Atoi: parsing \"XYZ\": invalid syntax"},
      {"*/x * * * *", "failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"@reboot", "unrecognized descriptor: @reboot"},
      {"@every x", "failed to parse duration @every x: time: invalid duration \"x\""},
      {"TZ=Mars/Base * * * * *", "provided bad location Mars/Base: unknown time zone Mars/Base"},
  };
  for (const Case& c : cases) {
    Result<CronSchedule> s = CronSchedule::Parse(c.spec);
    ASSERT_FALSE(s.ok()) << c.spec;
    EXPECT_EQ(s.status().message(), c.error) << c.spec;
    EXPECT_EQ(s.status().code(), Code::kBadRequest);
  }
}

uint64_t Bits(std::initializer_list<int> values) {
  uint64_t b = 0;
  for (int v : values) b |= uint64_t{1} << v;
  return b;
}

TEST(CronScheduleTest, FieldBits) {
  constexpr uint64_t kStar = CronSchedule::kStarBit;
  struct Case {
    std::string spec;
    uint64_t minute, hour, dom, month, dow;
  };
  const uint64_t all_min = Bits({}) | ((uint64_t{1} << 60) - 1);
  const uint64_t all_hour = (uint64_t{1} << 24) - 1;
  const uint64_t all_dom = ((uint64_t{1} << 32) - 1) & ~uint64_t{1};
  const uint64_t all_month = ((uint64_t{1} << 13) - 1) & ~uint64_t{1};
  const uint64_t all_dow = (uint64_t{1} << 7) - 1;
  const std::vector<Case> cases = {
      {"* * * * *", all_min | kStar, all_hour | kStar, all_dom | kStar, all_month | kStar, all_dow | kStar},
      {"? * ? * ?", all_min | kStar, all_hour | kStar, all_dom | kStar, all_month | kStar, all_dow | kStar},
      {"*/15 0 1 1 0", Bits({0, 15, 30, 45}), Bits({0}), Bits({1}), Bits({1}), Bits({0})},
      {"*/1 * * * *", all_min | kStar, all_hour | kStar, all_dom | kStar, all_month | kStar, all_dow | kStar},
      {"5/20 1-3 1,15 jan,JUL MON-FRI", Bits({5, 25, 45}), Bits({1, 2, 3}), Bits({1, 15}), Bits({1, 7}),
       Bits({1, 2, 3, 4, 5})},
      {"0-30/10 22-23 10-12/2 Feb-apr sun,Sat", Bits({0, 10, 20, 30}), Bits({22, 23}), Bits({10, 12}),
       Bits({2, 3, 4}), Bits({0, 6})},
      {"1,,2 * * * *", Bits({1, 2}), all_hour | kStar, all_dom | kStar, all_month | kStar, all_dow | kStar},
      {"  0   12  *  *  *  ", Bits({0}), Bits({12}), all_dom | kStar, all_month | kStar, all_dow | kStar},
  };
  for (const Case& c : cases) {
    Result<CronSchedule> s = CronSchedule::Parse(c.spec);
    ASSERT_TRUE(s.ok()) << c.spec << ": " << s.status().message();
    EXPECT_EQ(s->minute_bits(), c.minute) << c.spec;
    EXPECT_EQ(s->hour_bits(), c.hour) << c.spec;
    EXPECT_EQ(s->dom_bits(), c.dom) << c.spec;
    EXPECT_EQ(s->month_bits(), c.month) << c.spec;
    EXPECT_EQ(s->dow_bits(), c.dow) << c.spec;
  }
}

TEST(CronScheduleTest, NextActivation) {
  struct Case {
    std::string spec;
    std::string zone;  // spec.timeZone; "" = UTC
    std::string after;
    std::string want;  // "" = none within five years
  };
  const std::vector<Case> cases = {
      // Every minute: the next whole minute, never `after` itself.
      {"* * * * *", "", "2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"},
      {"* * * * *", "", "2026-01-01T00:00:59Z", "2026-01-01T00:01:00Z"},
      {"* * * * *", "", "2026-12-31T23:59:30Z", "2027-01-01T00:00:00Z"},
      {"*/15 * * * *", "", "2026-01-01T10:07:00Z", "2026-01-01T10:15:00Z"},
      {"*/15 * * * *", "", "2026-01-01T10:45:00Z", "2026-01-01T11:00:00Z"},
      {"5/20 * * * *", "", "2026-01-01T10:46:00Z", "2026-01-01T11:05:00Z"},
      {"0 * * * *", "", "2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z"},
      // Month ends and leap days.
      {"0 0 1 * *", "", "2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z"},
      {"0 0 31 * *", "", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z"},
      {"0 0 31 * *", "", "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z"},
      {"0 12 30 * *", "", "2026-01-30T12:00:00Z", "2026-03-30T12:00:00Z"},
      {"0 0 29 2 *", "", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"0 0 29 2 *", "", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"},
      {"59 23 31 12 *", "", "2026-06-01T00:00:00Z", "2026-12-31T23:59:00Z"},
      {"0 0 30 2 *", "", "2026-01-01T00:00:00Z", ""},
      {"0 0 31 4,6,9,11 *", "", "2026-01-01T00:00:00Z", ""},
      // Weekdays; both day fields restricted means either matches.
      {"0 0 * * 0", "", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},  // 2026-01-01 is a Thursday
      {"0 0 * * SUN", "", "2026-01-04T00:00:00Z", "2026-01-11T00:00:00Z"},
      {"0 9 * * MON-FRI", "", "2026-01-02T10:00:00Z", "2026-01-05T09:00:00Z"},
      {"0 0 13 * *", "", "2026-01-01T00:00:00Z", "2026-01-13T00:00:00Z"},
      {"0 0 13 * 5", "", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},   // Friday the 2nd
      {"0 0 13 * 5", "", "2026-01-09T00:00:00Z", "2026-01-13T00:00:00Z"},   // the 13th (a Tuesday)
      {"0 0 ? * 5", "", "2026-01-09T00:00:00Z", "2026-01-16T00:00:00Z"},    // '?' is '*'
      {"0 0 1-7 * 1", "", "2026-02-02T00:00:00Z", "2026-02-03T00:00:00Z"},  // first week OR Mondays
      {"30 6-16/4 * * 1-5", "", "2026-01-02T14:31:00Z", "2026-01-05T06:30:00Z"},
      // Descriptors.
      {"@hourly", "", "2026-01-01T00:00:00Z", "2026-01-01T01:00:00Z"},
      {"@daily", "", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
      {"@weekly", "", "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z"},
      {"@monthly", "", "2026-01-15T00:00:00Z", "2026-02-01T00:00:00Z"},
      {"@yearly", "", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
      {"@every 90s", "", "2026-01-01T00:00:10Z", "2026-01-01T00:01:40Z"},
      {"@every 1h30m", "", "2026-01-01T00:00:00Z", "2026-01-01T01:30:00Z"},
      // Time zones.
      {"0 9 * * *", "America/New_York", "2026-01-01T00:00:00Z", "2026-01-01T14:00:00Z"},
      {"0 9 * * *", "America/New_York", "2026-07-01T00:00:00Z", "2026-07-01T13:00:00Z"},
      {"0 0 * * *", "Asia/Kolkata", "2026-01-01T00:00:00Z", "2026-01-01T18:30:00Z"},
      {"0 12 * * *", "Australia/Sydney", "2026-01-10T00:00:00Z", "2026-01-10T01:00:00Z"},  // AEDT +11
      {"0 12 * * *", "Australia/Sydney", "2026-07-10T00:00:00Z", "2026-07-10T02:00:00Z"},  // AEST +10
      {"TZ=America/New_York 0 9 * * *", "", "2026-01-01T00:00:00Z", "2026-01-01T14:00:00Z"},
      {"CRON_TZ=Asia/Tokyo 0 9 * * *", "", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"},
      {"0 0 1 * *", "Europe/Berlin", "2026-01-31T23:00:00Z", "2026-02-28T23:00:00Z"},  // March 1st, CET
      // New York springs forward on 2026-03-08 at 02:00: 02:30 does not exist that day.
      {"30 2 * * *", "America/New_York", "2026-03-07T07:30:00Z", "2026-03-09T06:30:00Z"},
      {"0 3 * * *", "America/New_York", "2026-03-07T08:00:00Z", "2026-03-08T07:00:00Z"},
      {"0 * * * *", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"},  // 01:00 EST -> 03:00 EDT
      // ... and falls back on 2026-11-01 at 02:00: 01:30 happens twice, and both run.
      {"30 1 * * *", "America/New_York", "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z"},
      {"30 1 * * *", "America/New_York", "2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"},
      {"30 1 * * *", "America/New_York", "2026-11-01T06:30:00Z", "2026-11-02T06:30:00Z"},
      // Berlin springs forward on 2026-03-29: 02:00 is skipped.
      {"0 2 * * *", "Europe/Berlin", "2026-03-28T01:00:00Z", "2026-03-30T00:00:00Z"},
      // Past the last listed transition the zone's POSIX rule still applies.
      {"0 12 * * *", "America/New_York", "2040-07-01T00:00:00Z", "2040-07-01T16:00:00Z"},
      {"0 12 * * *", "America/New_York", "2040-01-15T00:00:00Z", "2040-01-15T17:00:00Z"},
  };
  for (const Case& c : cases) {
    Result<TimeZone> zone = TimeZone::Load(c.zone);
    ASSERT_TRUE(zone.ok()) << c.zone << ": " << zone.status().message();
    Result<CronSchedule> s = CronSchedule::Parse(c.spec, *zone);
    ASSERT_TRUE(s.ok()) << c.spec << ": " << s.status().message();
    std::optional<WallTime> next = s->Next(T(c.after));
    EXPECT_EQ(next ? Format(*next) : "", c.want) << c.spec << " in " << c.zone << " after " << c.after;
  }
}

TEST(CronScheduleTest, SubSecondInputRoundsToTheNextSecond) {
  Result<CronSchedule> s = CronSchedule::Parse("* * * * *");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Format(*s->Next(T("2026-01-01T00:00:59Z") + std::chrono::milliseconds(999))), "2026-01-01T00:01:00Z");
  EXPECT_EQ(Format(*s->Next(T("2026-01-01T00:01:00Z") + std::chrono::milliseconds(100))), "2026-01-01T00:02:00Z");
}

// ---- TimeZone -------------------------------------------------------------------------------------------

TEST(TimeZoneTest, LoadAndLookup) {
  EXPECT_EQ(TimeZone::Load("Mars/Base").status().message(), "unknown time zone Mars/Base");
  EXPECT_EQ(TimeZone::Load("../etc/passwd").status().message(), "time: invalid location name");
  EXPECT_EQ(TimeZone::Load("/etc/localtime").status().message(), "time: invalid location name");
  EXPECT_FALSE(TimeZone::Load("Local").ok());
  ASSERT_TRUE(TimeZone::Load("").ok());
  EXPECT_EQ(TimeZone::Load("UTC")->OffsetAt(0), 0);

  Result<TimeZone> ny = TimeZone::Load("America/New_York");
  ASSERT_TRUE(ny.ok());
  struct Case {
    std::string at;
    int32_t offset;
    std::string abbrev;
  };
  const std::vector<Case> cases = {
      {"2026-01-01T00:00:00Z", -5 * 3600, "EST"}, {"2026-03-08T06:59:59Z", -5 * 3600, "EST"},
      {"2026-03-08T07:00:00Z", -4 * 3600, "EDT"}, {"2026-11-01T05:59:59Z", -4 * 3600, "EDT"},
      {"2026-11-01T06:00:00Z", -5 * 3600, "EST"}, {"2045-07-04T12:00:00Z", -4 * 3600, "EDT"},
      {"2045-12-25T12:00:00Z", -5 * 3600, "EST"},
  };
  for (const Case& c : cases) {
    int64_t t = std::chrono::system_clock::to_time_t(T(c.at));
    TimeZone::Period p = ny->Lookup(t);
    EXPECT_EQ(p.offset, c.offset) << c.at;
    EXPECT_EQ(p.abbrev, c.abbrev) << c.at;
    EXPECT_LE(p.start, t) << c.at;
    EXPECT_GT(p.end, t) << c.at;
  }
  // time.Date in the spring gap and the autumn overlap, resolved as Go resolves them.
  EXPECT_EQ(Format(WallTime(std::chrono::seconds(ny->FromCivil(2026, 3, 8, 2, 30, 0)))), "2026-03-08T06:30:00Z");
  EXPECT_EQ(Format(WallTime(std::chrono::seconds(ny->FromCivil(2026, 11, 1, 1, 30, 0)))), "2026-11-01T05:30:00Z");
  // Out-of-range fields roll over.
  EXPECT_EQ(Format(WallTime(std::chrono::seconds(ny->FromCivil(2026, 13, 32, 0, 0, 0)))), "2027-02-01T05:00:00Z");
  CivilTime c = ny->ToCivil(std::chrono::system_clock::to_time_t(T("2026-07-04T16:30:15Z")));
  EXPECT_EQ(c.year, 2026);
  EXPECT_EQ(c.month, 7);
  EXPECT_EQ(c.day, 4);
  EXPECT_EQ(c.hour, 12);
  EXPECT_EQ(c.minute, 30);
  EXPECT_EQ(c.second, 15);
  EXPECT_EQ(c.weekday, 6);  // a Saturday
}

// A TZif v2 file with no transitions and only a footer rule: every offset comes from the rule.
std::string RuleOnlyTzif(const std::string& rule) {
  auto u32 = [](uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  };
  auto block = [&](bool) {
    std::string b = "TZif2" + std::string(15, '\0');
    for (uint32_t n : {0u, 0u, 0u, 0u, 1u, 4u}) b += u32(n);  // one type, "EST\0"
    b += u32(static_cast<uint32_t>(-5 * 3600));
    b += std::string{'\0', '\0'};
    b += std::string("EST", 3) + '\0';
    return b;
  };
  return block(false) + block(true) + "\n" + rule + "\n";
}

TEST(TimeZoneTest, FooterRuleAlone) {
  struct Case {
    std::string rule;
    std::string at;
    int32_t offset;
  };
  const std::vector<Case> cases = {
      {"EST5EDT,M3.2.0,M11.1.0", "2026-03-08T06:59:59Z", -5 * 3600},
      {"EST5EDT,M3.2.0,M11.1.0", "2026-03-08T07:00:00Z", -4 * 3600},
      {"EST5EDT,M3.2.0,M11.1.0", "2026-11-01T05:59:59Z", -4 * 3600},
      {"EST5EDT,M3.2.0,M11.1.0", "2026-11-01T06:00:00Z", -5 * 3600},
      {"EST5EDT", "2026-07-01T00:00:00Z", -4 * 3600},  // tzcode's default rule
      {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T00:59:59Z", 3600},
      {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-03-29T01:00:00Z", 7200},
      {"CET-1CEST,M3.5.0,M10.5.0/3", "2026-10-25T01:00:00Z", 3600},
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-01-15T00:00:00Z", 11 * 3600},  // southern summer
      {"AEST-10AEDT,M10.1.0,M4.1.0/3", "2026-07-15T00:00:00Z", 10 * 3600},
      {"<+0530>-5:30", "2026-07-15T00:00:00Z", 5 * 3600 + 1800},
      {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-26T23:59:59Z", 2 * 3600},  // Thursday 26:00 rule
      {"IST-2IDT,M3.4.4/26,M10.5.0", "2026-03-27T00:00:00Z", 3 * 3600},
      {"XXX3YYY,J60/0,J300/0", "2026-03-01T03:00:00Z", -2 * 3600},  // Julian day 60 = March 1st
  };
  for (const Case& c : cases) {
    Result<TimeZone> tz = TimeZone::FromTzif("Test", RuleOnlyTzif(c.rule));
    ASSERT_TRUE(tz.ok()) << c.rule;
    EXPECT_EQ(tz->OffsetAt(std::chrono::system_clock::to_time_t(T(c.at))), c.offset) << c.rule << " at " << c.at;
  }
  EXPECT_FALSE(TimeZone::FromTzif("Bad", "TZif2 short").ok());
}

}  // namespace
}  // namespace ck::controller_manager
