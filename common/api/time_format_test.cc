#include "common/api/time_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ck::api {
namespace {

using ::testing::HasSubstr;

TEST(Rfc3339, Formats) {
  EXPECT_EQ(FormatRfc3339({0, 0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339({1704067200, 999999999}), "2024-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339Micro({1704067200, 123456789}), "2024-01-01T00:00:00.123456Z");
  EXPECT_EQ(FormatRfc3339Micro({1704067200, 0}), "2024-01-01T00:00:00.000000Z");
  EXPECT_EQ(FormatRfc3339({-1, 0}), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339({951782400, 0}), "2000-02-29T00:00:00Z");
  EXPECT_EQ(FormatRfc3339({kGoZeroTimeSeconds, 0}), "0001-01-01T00:00:00Z");
}

TEST(Rfc3339, ParsesOffsetsAndFractions) {
  EXPECT_EQ(*ParseRfc3339("2024-01-01T00:00:00Z"), (Timestamp{1704067200, 0}));
  EXPECT_EQ(*ParseRfc3339("2024-01-01T01:30:00+01:30"), (Timestamp{1704067200, 0}));
  EXPECT_EQ(*ParseRfc3339("2023-12-31T23:00:00-01:00"), (Timestamp{1704067200, 0}));
  EXPECT_EQ(*ParseRfc3339("2024-01-01T00:00:00.5Z"), (Timestamp{1704067200, 500000000}));
  EXPECT_EQ(*ParseRfc3339("2024-01-01T00:00:00.123456789Z"), (Timestamp{1704067200, 123456789}));
  EXPECT_EQ(*ParseRfc3339("2000-02-29T00:00:00Z"), (Timestamp{951782400, 0}));
  for (int64_t s : {int64_t{0}, int64_t{1}, int64_t{1700000000}, int64_t{-86401}, int64_t{253402300799}}) {
    EXPECT_EQ(ParseRfc3339(FormatRfc3339({s, 0}))->seconds, s);
  }
}

TEST(Rfc3339, RejectsWithReason) {
  struct Bad {
    const char* in;
    const char* why;
  } cases[] = {
      {"", "expected 4-digit year at offset 0"},
      {"2024-1-01T00:00:00Z", "expected 2-digit month at offset 6"},
      {"2024-13-01T00:00:00Z", "month out of range"},
      {"2023-02-29T00:00:00Z", "day out of range"},
      {"2024-01-01 00:00:00Z", "expected 'T' at offset 10"},
      {"2024-01-01t00:00:00Z", "expected 'T' at offset 10"},
      {"2024-01-01T24:00:00Z", "hour out of range"},
      {"2024-01-01T00:60:00Z", "minute out of range"},
      {"2024-01-01T00:00:60Z", "second out of range"},
      {"2024-01-01T00:00:00", "expected 'Z' or a zone offset at offset 19"},
      {"2024-01-01T00:00:00z", "expected 'Z' or a zone offset at offset 19"},
      {"2024-01-01T00:00:00.Z", "expected fraction digits at offset 20"},
      {"2024-01-01T00:00:00+0100", "expected ':' at offset 22"},
      {"2024-01-01T00:00:00ZZ", "extra text at offset 20"},
  };
  for (const Bad& b : cases) {
    Result<Timestamp> t = ParseRfc3339(b.in);
    ASSERT_FALSE(t.ok()) << b.in;
    EXPECT_THAT(t.status().message(), HasSubstr(b.why)) << b.in;
  }
}

TEST(GoDuration, FormatsLikeGo) {
  EXPECT_EQ(FormatGoDuration(0), "0s");
  EXPECT_EQ(FormatGoDuration(1), "1ns");
  EXPECT_EQ(FormatGoDuration(1500), "1.5\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(1500000), "1.5ms");
  EXPECT_EQ(FormatGoDuration(1000000000), "1s");
  EXPECT_EQ(FormatGoDuration(1500000000), "1.5s");
  EXPECT_EQ(FormatGoDuration(90000000000), "1m30s");
  EXPECT_EQ(FormatGoDuration(3600000000000), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(3661500000000), "1h1m1.5s");
  EXPECT_EQ(FormatGoDuration(-1500000000), "-1.5s");
  EXPECT_EQ(FormatGoDuration(INT64_MIN), "-2562047h47m16.854775808s");
}

TEST(GoDuration, ParsesLikeGo) {
  EXPECT_EQ(*ParseGoDuration("1h30m"), 5400000000000);
  EXPECT_EQ(*ParseGoDuration("1.5h"), 5400000000000);
  EXPECT_EQ(*ParseGoDuration("-2us"), -2000);
  EXPECT_EQ(*ParseGoDuration("2\xC2\xB5s"), 2000);
  EXPECT_EQ(*ParseGoDuration("300ms"), 300000000);
  EXPECT_EQ(*ParseGoDuration("0"), 0);
  EXPECT_EQ(*ParseGoDuration("+5s"), 5000000000);
  EXPECT_EQ(*ParseGoDuration(".5s"), 500000000);
  EXPECT_EQ(*ParseGoDuration("1h0m0s"), 3600000000000);
  for (int64_t d : {int64_t{1}, int64_t{1500}, int64_t{999999999}, int64_t{3661500000000}, int64_t{-7}}) {
    EXPECT_EQ(*ParseGoDuration(FormatGoDuration(d)), d) << FormatGoDuration(d);
  }
  EXPECT_EQ(ParseGoDuration("").status().message(), "time: invalid duration \"\"");
  EXPECT_EQ(ParseGoDuration("1").status().message(), "time: missing unit in duration \"1\"");
  EXPECT_EQ(ParseGoDuration("1d").status().message(), "time: unknown unit \"d\" in duration \"1d\"");
  EXPECT_EQ(ParseGoDuration("h").status().message(), "time: invalid duration \"h\"");
  EXPECT_EQ(ParseGoDuration(".s").status().message(), "time: invalid duration \".s\"");
  EXPECT_FALSE(ParseGoDuration("9999999999h").ok());
}

}  // namespace
}  // namespace ck::api
