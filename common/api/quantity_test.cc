#include "common/api/quantity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace ck::api {
namespace {

using ::testing::HasSubstr;

Quantity Q(std::string_view s) {
  Result<Quantity> q = Quantity::Parse(s);
  EXPECT_TRUE(q.ok()) << s << ": " << q.status().ToString();
  return q.ok() ? *q : Quantity();
}

struct Canonical {
  const char* in;
  const char* out;
};

class QuantityCanonical : public ::testing::TestWithParam<Canonical> {};

TEST_P(QuantityCanonical, PrintsAsUpstream) {
  Result<Quantity> q = Quantity::Parse(GetParam().in);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(q->String(), GetParam().out) << GetParam().in;
  // Printing is a fixed point: the output parses back to the same value and the same text.
  Result<Quantity> again = Quantity::Parse(q->String());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->String(), q->String());
  EXPECT_EQ(again->Cmp(*q), 0);
}

INSTANTIATE_TEST_SUITE_P(
    Table, QuantityCanonical,
    ::testing::Values(
        // decimal SI
        Canonical{"0", "0"}, Canonical{"1", "1"}, Canonical{"100m", "100m"}, Canonical{"0.1", "100m"},
        Canonical{"1.5", "1500m"}, Canonical{"1.1", "1100m"}, Canonical{"1000", "1k"},
        Canonical{"1000m", "1"}, Canonical{"1500m", "1500m"}, Canonical{"1k", "1k"},
        Canonical{"100M", "100M"}, Canonical{"12E", "12E"}, Canonical{"1n", "1n"}, Canonical{"1u", "1u"},
        Canonical{"0.0001", "100u"}, Canonical{"-1.5", "-1500m"}, Canonical{"-1", "-1"},
        Canonical{"2000000", "2M"}, Canonical{"1.000", "1"}, Canonical{"00.5", "500m"},
        // rounded up (away from zero) to nano precision
        Canonical{"0.1n", "1n"}, Canonical{"-0.1n", "-1n"}, Canonical{"1.0000000001", "1000000001n"},
        // decimal exponent
        Canonical{"1e3", "1e3"}, Canonical{"1E3", "1E3"}, Canonical{"1e2", "100"}, Canonical{"10e2", "1e3"},
        Canonical{"1.5e3", "1500"}, Canonical{"1e-3", "1e-3"}, Canonical{"5e-1", "500e-3"},
        Canonical{"0.5e3", "500"}, Canonical{"1e+3", "1e+3"},
        // binary SI
        Canonical{"1Ki", "1Ki"}, Canonical{"1Gi", "1Gi"}, Canonical{"1024Mi", "1Gi"}, Canonical{"1.5Gi", "1536Mi"},
        Canonical{"8Gi", "8Gi"}, Canonical{"100Mi", "100Mi"}, Canonical{"512Mi", "512Mi"},
        Canonical{"1.5Ki", "1536"}, Canonical{"0.5Ki", "512"}, Canonical{"0.5Gi", "512Mi"},
        Canonical{"1023", "1023"}, Canonical{"-1Ki", "-1Ki"}, Canonical{"-1024Ki", "-1Mi"},
        Canonical{"1Ei", "1Ei"}, Canonical{"8Ei", "9223372036854775807"},  // binary SI caps at 2^63-1
        // upstream keeps "simple" inputs as written, and reads some odd inputs as zero
        Canonical{"+1", "+1"}, Canonical{"01", "01"}, Canonical{"1.G", "1.G"}, Canonical{"+", "0"},
        Canonical{"-", "0"}, Canonical{".", "0"}, Canonical{"Ki", "0"}, Canonical{"-0", "0"},
        Canonical{"0Gi", "0"},
        // beyond int64
        Canonical{"123456789012345678", "123456789012345678"},
        Canonical{"1234567890123456789", "1234567890123456789"},
        Canonical{"12345678901234567890123", "12345678901234567890123"},
        Canonical{"1000E", "1000E"}));

struct Malformed {
  const char* in;
  const char* error;
};

class QuantityMalformed : public ::testing::TestWithParam<Malformed> {};

TEST_P(QuantityMalformed, ErrorSaysWhere) {
  Result<Quantity> q = Quantity::Parse(GetParam().in);
  ASSERT_FALSE(q.ok()) << GetParam().in << " parsed as " << q->String();
  EXPECT_EQ(q.status().code(), Code::kBadRequest);
  EXPECT_THAT(q.status().message(), HasSubstr(GetParam().error)) << GetParam().in;
}

INSTANTIATE_TEST_SUITE_P(
    Table, QuantityMalformed,
    ::testing::Values(
        Malformed{"", "empty string"}, Malformed{"abc", "unexpected 'a' at offset 0"},
        Malformed{"1.5x", "unexpected 'x' at offset 3"}, Malformed{"1 ", "unexpected ' ' at offset 1"},
        Malformed{" 1", "unexpected ' ' at offset 0"}, Malformed{"1.2.3", "unexpected '.' at offset 3"},
        Malformed{"1Kb", "unexpected 'b' at offset 2"}, Malformed{"1KI", "unexpected 'I' at offset 2"},
        Malformed{"1e3.5", "unexpected '.' at offset 3"}, Malformed{"1,5", "unexpected ',' at offset 1"},
        Malformed{"1Kii", "unknown suffix \"Kii\" at offset 1"}, Malformed{"1e", "unknown suffix \"e\" at offset 1"},
        Malformed{"1ee3", "unknown suffix \"ee3\""}, Malformed{"--1", "unknown suffix \"-1\" at offset 1"},
        Malformed{"1mi", "unknown suffix \"mi\""}, Malformed{"1e99999999999", "unknown suffix"},
        Malformed{"1E1000000001", "unknown suffix"},
        Malformed{"2000000000000000000000E1000000000", "quantity is too large (exponent above 10^1000000000)"},
        Malformed{"123456789012345678901234567890123456789012", "too large"}));

TEST(QuantityMalformed, MessageNamesTheUpstreamRule) {
  Result<Quantity> q = Quantity::Parse("1.5x");
  EXPECT_EQ(q.status().message(),
            "quantity \"1.5x\": quantities must match the regular expression "
            "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (unexpected 'x' at offset 3)");
}

TEST(QuantityCompare, IsExact) {
  EXPECT_EQ(Q("1000m").Cmp(Q("1")), 0);
  EXPECT_EQ(Q("1e3"), Q("1k"));
  EXPECT_EQ(Q("1Gi").Cmp(Q("1G")), 1);
  EXPECT_EQ(Q("999999999n").Cmp(Q("1")), -1);
  EXPECT_EQ(Q("-1").Cmp(Q("1n")), -1);
  EXPECT_EQ(Q("0").Cmp(Q("-0")), 0);
  EXPECT_EQ(Q("123456789012345678901").Cmp(Q("123456789012345678900")), 1);
  EXPECT_EQ(Q("1e30").Cmp(Q("1000000000000000000000000000001")), -1);
  EXPECT_TRUE(Q("100m") < Q("0.2"));
}

TEST(QuantityArithmetic, AddSubMulKeepFormatAndExactness) {
  Quantity q = Q("100m");
  ASSERT_TRUE(q.Add(Q("200m")));
  EXPECT_EQ(q.String(), "300m");
  ASSERT_TRUE(q.Add(Q("1")));
  EXPECT_EQ(q.String(), "1300m");
  ASSERT_TRUE(q.Sub(Q("1300m")));
  EXPECT_TRUE(q.IsZero());

  Quantity mem = Q("1Gi");
  ASSERT_TRUE(mem.Add(Q("512Mi")));
  EXPECT_EQ(mem.String(), "1536Mi");

  Quantity zero;
  ASSERT_TRUE(zero.Add(Q("2Gi")));  // a zero sum takes the format of what is added
  EXPECT_EQ(zero.String(), "2Gi");

  Quantity neg = Q("1");
  ASSERT_TRUE(neg.Sub(Q("1500m")));
  EXPECT_EQ(neg.String(), "-500m");

  Quantity m = Q("250m");
  ASSERT_TRUE(m.Mul(4));
  EXPECT_EQ(m.String(), "1");

  Quantity huge = Q("1e30");
  EXPECT_FALSE(huge.Add(Q("1n")));  // would need 40 digits
  EXPECT_EQ(huge.String(), "1e30");
}

TEST(QuantityValues, ScaledValuesRoundUpAwayFromZero) {
  EXPECT_EQ(Q("100m").MilliValue(), 100);
  EXPECT_EQ(Q("1").MilliValue(), 1000);
  EXPECT_EQ(Q("1.5").MilliValue(), 1500);
  EXPECT_EQ(Q("100u").MilliValue(), 1);
  EXPECT_EQ(Q("1500m").Value(), 2);
  EXPECT_EQ(Q("-1500m").Value(), -2);
  EXPECT_EQ(Q("1Gi").Value(), 1073741824);
  EXPECT_EQ(Q("1e30").Value(), INT64_MAX);
  EXPECT_EQ(Quantity::FromMilli(1500).String(), "1500m");
  EXPECT_EQ(Quantity::FromInt(2048, Quantity::Format::kBinarySI).String(), "2Ki");
}

TEST(QuantityCanonicalFn, Works) {
  EXPECT_EQ(*CanonicalQuantity("0.5"), "500m");
  EXPECT_FALSE(CanonicalQuantity("x").ok());
}

}  // namespace
}  // namespace ck::api
