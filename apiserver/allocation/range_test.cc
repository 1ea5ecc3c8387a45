#include "apiserver/allocation/range.h"

#include <gtest/gtest.h>

#include <set>

#include "apiserver/allocation/allocation.h"

namespace ck::apiserver::allocation {
namespace {

TEST(ServiceIpRangeTest, ParsesUpstreamDefault) {
  auto r = ServiceIpRange::Parse("10.96.0.0/12");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->cidr(), "10.96.0.0/12");
  EXPECT_EQ(r->size(), (1 << 20) - 2) << "network and broadcast addresses are not usable";
  EXPECT_EQ(r->static_band(), 256);
  EXPECT_EQ(r->At(0), *ParseIpv4("10.96.0.1"));
  EXPECT_EQ(r->Offset(*ParseIpv4("10.96.0.1")), 0);
  EXPECT_EQ(r->Offset(*ParseIpv4("10.111.255.254")), r->size() - 1);
  EXPECT_FALSE(r->Offset(*ParseIpv4("10.96.0.0"))) << "network address";
  EXPECT_FALSE(r->Offset(*ParseIpv4("10.111.255.255"))) << "broadcast address";
  EXPECT_FALSE(r->Offset(*ParseIpv4("10.112.0.1")));
  EXPECT_FALSE(r->Offset(*ParseIpv4("10.0.0.1")));
}

TEST(ServiceIpRangeTest, StaticBandFollowsUpstreamFormula) {
  // min(max(16, cidr size / 16), 256), 0 for 16 addresses or fewer.
  EXPECT_EQ(ServiceIpRange::Parse("10.0.0.0/28")->static_band(), 0);
  EXPECT_EQ(ServiceIpRange::Parse("10.0.0.0/27")->static_band(), 16);
  EXPECT_EQ(ServiceIpRange::Parse("10.0.0.0/24")->static_band(), 16);
  EXPECT_EQ(ServiceIpRange::Parse("10.0.0.0/20")->static_band(), 256);
  EXPECT_EQ(ServiceIpRange::Parse("10.0.0.0/21")->static_band(), 128);
}

TEST(ServiceIpRangeTest, ClearsHostBits) {
  auto r = ServiceIpRange::Parse("127.96.3.7/16");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->cidr(), "127.96.0.0/16");
}

TEST(ServiceIpRangeTest, BadValuesGiveOneReadableLine) {
  struct Case {
    const char* flag;
    const char* want;
  };
  for (const auto& c : std::vector<Case>{
           {"abc", "--service-cluster-ip-range=\"abc\": not an IPv4 CIDR (expected ADDRESS/PREFIX, e.g. 10.96.0.0/12)"},
           {"10.96.0.0", "--service-cluster-ip-range=\"10.96.0.0\": not an IPv4 CIDR (expected ADDRESS/PREFIX, e.g. 10.96.0.0/12)"},
           {"10.0.0.0/8", "--service-cluster-ip-range=\"10.0.0.0/8\": too large; for 32-bit addresses, the mask must be >= 12"},
           {"10.0.0.0/31", "--service-cluster-ip-range=\"10.0.0.0/31\": too small; the mask must be <= 30 to leave an address besides the kubernetes service's"},
           {"10.0.0.0/33", "--service-cluster-ip-range=\"10.0.0.0/33\": the prefix length must be a number from 0 to 32"},
           {"10.0.0.0/x", "--service-cluster-ip-range=\"10.0.0.0/x\": the prefix length must be a number from 0 to 32"},
           {"fd00::/112", "--service-cluster-ip-range=\"fd00::/112\": IPv6 service ranges are not supported; give an IPv4 CIDR such as 10.96.0.0/12"},
           {"300.1.1.1/24", "--service-cluster-ip-range=\"300.1.1.1/24\": not an IPv4 CIDR (expected ADDRESS/PREFIX, e.g. 10.96.0.0/12)"},
       }) {
    auto r = ServiceIpRange::Parse(c.flag);
    ASSERT_FALSE(r.ok()) << c.flag;
    EXPECT_EQ(r.status().code(), Code::kBadRequest);
    EXPECT_EQ(r.status().message(), c.want);
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
}

TEST(NodePortRangeTest, ParsesTheUpstreamForms) {
  auto r = NodePortRange::Parse("30000-32767");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ToString(), "30000-32767");
  EXPECT_EQ(r->size(), 2768);
  EXPECT_EQ(r->static_band(), 86) << "min(max(16, 2768 / 32), 128)";
  EXPECT_EQ(r->At(0), 30000);
  EXPECT_EQ(r->Offset(32767), 2767);
  EXPECT_FALSE(r->Offset(29999));
  EXPECT_FALSE(r->Offset(32768));
  EXPECT_EQ(NodePortRange::Parse("30000+2767")->ToString(), "30000-32767");
  EXPECT_EQ(NodePortRange::Parse("30080")->size(), 1);
  EXPECT_EQ(NodePortRange::Parse("30000-30010")->static_band(), 0);
  EXPECT_EQ(NodePortRange::Parse("1-65535")->static_band(), 128);
}

TEST(NodePortRangeTest, BadValuesGiveOneReadableLine) {
  struct Case {
    const char* flag;
    const char* want;
  };
  for (const auto& c : std::vector<Case>{
           {"x", "--service-node-port-range=\"x\": not a port range (expected LOW-HIGH, e.g. 30000-32767)"},
           {"30000-", "--service-node-port-range=\"30000-\": not a port range (expected LOW-HIGH, e.g. 30000-32767)"},
           {"0-100", "--service-node-port-range=\"0-100\": ports must be between 1 and 65535"},
           {"30000-70000", "--service-node-port-range=\"30000-70000\": ports must be between 1 and 65535"},
           {"32767-30000", "--service-node-port-range=\"32767-30000\": the end of the range is below its start"},
       }) {
    auto r = NodePortRange::Parse(c.flag);
    ASSERT_FALSE(r.ok()) << c.flag;
    EXPECT_EQ(r.status().code(), Code::kBadRequest);
    EXPECT_EQ(r.status().message(), c.want);
  }
}

TEST(ParseAllocationOptionsTest, DefaultsAreUpstreams) {
  auto c = ParseAllocationOptions({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->cluster_ips.cidr(), "10.96.0.0/12");
  EXPECT_EQ(c->node_ports.ToString(), "30000-32767");
  EXPECT_EQ(KubernetesServiceIP(*c), "10.96.0.1");
  EXPECT_EQ(KubernetesServiceIP(*ParseAllocationOptions({"127.96.0.0/16", "30000-32767"})), "127.96.0.1");
  auto bad = ParseAllocationOptions({"10.96.0.0/12", "nope"});
  EXPECT_EQ(bad.status().message(),
            "--service-node-port-range=\"nope\": not a port range (expected LOW-HIGH, e.g. 30000-32767)");
}

TEST(PickFreeTest, UpperBandFirstThenLowerBand) {
  // 10 values, band 4: the upper band is offsets 4..9.
  std::set<int64_t> taken;
  ScanStart start{.upper = 3, .lower = 2};
  auto is_taken = [&](int64_t o) { return taken.count(o) > 0; };
  EXPECT_EQ(PickFree(10, 4, start, is_taken), 7) << "band + upper start";
  taken = {7, 8, 9};
  EXPECT_EQ(PickFree(10, 4, start, is_taken), 4) << "scans forward and wraps inside the upper band";
  taken = {4, 5, 6, 7, 8, 9};
  EXPECT_EQ(PickFree(10, 4, start, is_taken), 2) << "upper band full: lower band from its own start";
  taken = {2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(PickFree(10, 4, start, is_taken), 0);
  taken = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  EXPECT_EQ(PickFree(10, 4, start, is_taken), std::nullopt) << "range is full";
}

TEST(PickFreeTest, RandomStartsCoverTheUpperBand) {
  FakeRandom random;
  std::set<int64_t> firsts;
  for (int i = 0; i < 2000; ++i) {
    ScanStart s = RandomScanStart(30, 16, random);
    ASSERT_GE(s.upper, 0);
    ASSERT_LT(s.upper, 14);
    ASSERT_LT(s.lower, 16);
    firsts.insert(*s.First(30, 16));
  }
  EXPECT_EQ(firsts.size(), 14u) << "every offset of the upper band is a possible start";
  EXPECT_EQ(*firsts.begin(), 16);
}

TEST(Ipv4Test, RoundTrips) {
  EXPECT_EQ(FormatIpv4(*ParseIpv4("10.96.0.10")), "10.96.0.10");
  EXPECT_EQ(*ParseIpv4("255.255.255.255"), 0xffffffffu);
  EXPECT_EQ(FormatIpv4(*ParseIpv4("10.96.000.010")), "10.96.0.10") << "leading zeros, as validation allows";
  EXPECT_FALSE(ParseIpv4("10.96.0"));
  EXPECT_FALSE(ParseIpv4("10.96.0.1."));
  EXPECT_FALSE(ParseIpv4("10.96.0.256"));
  EXPECT_FALSE(ParseIpv4("10.96.0.0001"));
  EXPECT_FALSE(ParseIpv4("1.2.3.4 "));
  EXPECT_FALSE(ParseIpv4("::1"));
  EXPECT_FALSE(ParseIpv4("None"));
  EXPECT_FALSE(ParseIpv4(""));
}

}  // namespace
}  // namespace ck::apiserver::allocation
