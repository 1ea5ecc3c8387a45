#include "common/base/strings.h"

#include <gtest/gtest.h>

namespace ck {
namespace {

TEST(StringsTest, QuoteLikeGo) {
  std::string out;
  AppendQuoted(out, "a\"b\\c\nd\x01");
  EXPECT_EQ(out, R"("a\"b\\c\nd\x01")");
}

TEST(StringsTest, JsonString) {
  EXPECT_EQ(JsonString("x\"y\n\x02"), R"("x\"y\n\u0002")");
  EXPECT_EQ(JsonString("héllo"), "\"héllo\"");
}

TEST(StringsTest, Base64MatchesRfc4648) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  std::string out;
  EXPECT_TRUE(DecodeBase64("Zm9vYg==", &out));
  EXPECT_EQ(out, "foob");
  size_t bad = 0;
  EXPECT_FALSE(DecodeBase64("Zm9", &out, &bad));
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(DecodeBase64("Zm=v", &out, &bad));
  EXPECT_EQ(bad, 3u);
  EXPECT_FALSE(DecodeBase64("Zm=v", &out));  // the offset is optional
}

TEST(StringsTest, SplitTrimJoin) {
  auto parts = Split("a,,b,", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(Split("a,,b,", ',', true).size(), 2u);
  EXPECT_EQ(TrimSpace("  x y \t"), "x y");
  EXPECT_EQ(Join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-type"));
  EXPECT_EQ(ToLower("AbC"), "abc");
}

TEST(StringsTest, ParseNumbersStrictly) {
  EXPECT_EQ(ParseInt("-42"), -42);
  EXPECT_FALSE(ParseInt("42x"));
  EXPECT_FALSE(ParseInt(""));
  EXPECT_FALSE(ParseUint("-1"));
  EXPECT_FALSE(ParseUint("99999999999999999999999"));
  EXPECT_EQ(ParseUint("18446744073709551615"), UINT64_MAX);
}

TEST(StringsTest, FormatDouble) {
  EXPECT_EQ(FormatDouble(0.5), "0.5");
  EXPECT_EQ(FormatDouble(1.0 / 3, 3), "0.333");
}

}  // namespace
}  // namespace ck
