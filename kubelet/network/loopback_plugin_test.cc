#include "kubelet/network/loopback_plugin.h"

#include <gtest/gtest.h>

#include <set>

#include "tests/testutil/testutil.h"

namespace ck::kubelet {
namespace {

PodNetworkRequest Pod(const std::string& uid) { return {uid, "p-" + uid, "default"}; }

TEST(LoopbackNetworkPlugin, RefusesPodsBeforeThePodCidrIsKnown) {
  LoopbackNetworkPlugin plugin("", true);
  auto r = plugin.SetUpPod(Pod("a"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_NE(r.status().message().find("podCIDR"), std::string::npos);
}

TEST(LoopbackNetworkPlugin, RefusesNonLoopbackCidrsInProcessMode) {
  LoopbackNetworkPlugin plugin("", true);
  Status s = plugin.SetPodCidr("10.244.1.0/24");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_NE(s.message().find("127.0.0.0/8"), std::string::npos);
  LoopbackNetworkPlugin fake("", false);
  EXPECT_TRUE(fake.SetPodCidr("10.244.1.0/24").ok());
  EXPECT_FALSE(plugin.SetPodCidr("127.244.1.0/33").ok());
  EXPECT_FALSE(plugin.SetPodCidr("nonsense").ok());
}

TEST(LoopbackNetworkPlugin, HandsOutDistinctAddressesSkippingNetworkGatewayAndBroadcast) {
  LoopbackNetworkPlugin plugin("", true);
  ASSERT_TRUE(plugin.SetPodCidr("127.244.3.0/29").ok());  // 8 addresses, 5 usable: .2 .. .6
  std::set<std::string> ips;
  for (int i = 0; i < 5; ++i) {
    auto r = plugin.SetUpPod(Pod(std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.status().message();
    ips.insert(r->ips.at(0));
  }
  EXPECT_EQ(ips, (std::set<std::string>{"127.244.3.2", "127.244.3.3", "127.244.3.4", "127.244.3.5", "127.244.3.6"}));
  auto full = plugin.SetUpPod(Pod("x"));
  ASSERT_FALSE(full.ok());
  EXPECT_NE(full.status().message().find("no free address"), std::string::npos);
  // Same uid, same address; a released address is reused only after the others.
  EXPECT_EQ(plugin.SetUpPod(Pod("2"))->ips.at(0), "127.244.3.4");
  ASSERT_TRUE(plugin.TearDownPod(Pod("2")).ok());
  EXPECT_TRUE(plugin.GetPodNetworkStatus("2").ips.empty());
  EXPECT_EQ(plugin.SetUpPod(Pod("y"))->ips.at(0), "127.244.3.4");
  EXPECT_TRUE(plugin.TearDownPod(Pod("unknown")).ok());
}

TEST(LoopbackNetworkPlugin, AllocationsSurviveARestart) {
  testutil::TempDir dir;
  std::string a, b;
  {
    LoopbackNetworkPlugin plugin(dir.File("ips"), true);
    ASSERT_TRUE(plugin.SetPodCidr("127.244.7.0/24").ok());
    a = plugin.SetUpPod(Pod("a"))->ips.at(0);
    b = plugin.SetUpPod(Pod("b"))->ips.at(0);
    ASSERT_TRUE(plugin.TearDownPod(Pod("a")).ok());
  }
  LoopbackNetworkPlugin again(dir.File("ips"), true);
  ASSERT_TRUE(again.SetPodCidr("127.244.7.0/24").ok());
  EXPECT_EQ(again.GetPodNetworkStatus("b").ips.at(0), b);
  EXPECT_TRUE(again.GetPodNetworkStatus("a").ips.empty());
  auto c = again.SetUpPod(Pod("c"));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->ips.at(0), b);
  // A different podCIDR drops the old allocations.
  LoopbackNetworkPlugin moved(dir.File("ips"), true);
  ASSERT_TRUE(moved.SetPodCidr("127.244.8.0/24").ok());
  EXPECT_TRUE(moved.GetPodNetworkStatus("b").ips.empty());
}

}  // namespace
}  // namespace ck::kubelet
