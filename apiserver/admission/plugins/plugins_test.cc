#include "apiserver/admission/plugins/plugins.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "apiserver/admission/plugins/test_util.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT

TEST(BuiltinPluginsTest, FactoryBuildsEveryOwnedNameAndNothingElse) {
  FakeObjectSource source;
  FakeRandom random;
  FakeClock clock(WallTime(std::chrono::seconds(1700000000)));
  PluginDeps deps{.source = &source, .random = &random, .clock = &clock, .default_toleration_seconds = 30};
  for (std::string_view name : BuiltinPluginNames()) {
    auto p = NewBuiltinPlugin(name, deps);
    ASSERT_TRUE(p.ok()) << name;
    EXPECT_EQ((*p)->name(), name);
  }
  for (std::string_view other : {"PodSecurity", "NodeRestriction", "MutatingAdmissionWebhook", "AlwaysDeny"}) {
    auto p = NewBuiltinPlugin(other, deps);
    EXPECT_EQ(p.status().code(), Code::kNotFound) << other;
  }
  EXPECT_EQ(NewBuiltinPlugin("AlwaysDeny", deps).status().message(),
            "admission plugin \"AlwaysDeny\" is not built in here");
}

TEST(BuiltinPluginsTest, OrderIsUpstreamsWithResourceQuotaLast) {
  const auto& order = RecommendedPluginOrder();
  EXPECT_EQ(order.back(), "ResourceQuota");
  auto pos = [&](std::string_view n) { return std::find(order.begin(), order.end(), n) - order.begin(); };
  EXPECT_LT(pos("NamespaceLifecycle"), pos("LimitRanger"));
  EXPECT_LT(pos("LimitRanger"), pos("ServiceAccount"));
  EXPECT_LT(pos("ServiceAccount"), pos("Priority"));
  EXPECT_LT(pos("Priority"), pos("DefaultTolerationSeconds"));
  EXPECT_LT(pos("DefaultTolerationSeconds"), pos("MutatingAdmissionWebhook"));
  for (std::string_view name : BuiltinPluginNames()) EXPECT_LT(pos(name), static_cast<long>(order.size())) << name;
}

// The whole built-in chain on one pod create, as the apiserver runs it.
TEST(BuiltinPluginsTest, ChainDefaultsAndCountsAPod) {
  FakeObjectSource source;
  source.Put("namespaces", MakeNamespace("shop"));
  source.Put("serviceaccounts", MakeServiceAccount("shop", "default"));
  source.Put("resourcequotas", MakeQuota("shop", "q", {{"pods", "5"}, {"requests.cpu", "2"}}, {{"pods", "0"}}));
  corev1::LimitRange lr;
  lr.mutable_metadata()->set_namespace_("shop");
  lr.mutable_metadata()->set_name("defaults");
  auto* item = lr.mutable_spec()->add_limits();
  item->set_type("Container");
  SetList(item->mutable_defaultrequest(), {{"cpu", "250m"}});
  source.Put("limitranges", lr);
  FakeRandom random;
  PluginDeps deps{.source = &source, .random = &random, .default_toleration_seconds = 30};
  std::vector<std::unique_ptr<Plugin>> list;
  for (std::string_view name : RecommendedPluginOrder()) {
    auto p = NewBuiltinPlugin(name, deps);
    if (p.ok()) list.push_back(std::move(p).value());
  }
  Chain chain(std::move(list));
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  Attributes a = PodCreate(&pod);
  std::vector<store::Compare> compares;
  std::vector<store::Op> ops;
  Context ctx;
  ctx.compares = &compares;
  ctx.ops = &ops;
  ASSERT_TRUE(chain.Admit(a, ctx).ok());
  ASSERT_TRUE(chain.Validate(a, ctx).ok());
  EXPECT_EQ(pod.spec().containers(0).resources().requests().at("cpu").string(), "250m");
  EXPECT_EQ(pod.spec().serviceaccountname(), "default");
  EXPECT_EQ(pod.spec().tolerations_size(), 2);
  EXPECT_EQ(pod.spec().priority(), 0);
  ASSERT_EQ(ops.size(), 1u);
  corev1::ResourceQuota q;
  ASSERT_TRUE(q.ParseFromString(ops[0].value));
  EXPECT_EQ(q.status().used().at("requests.cpu").string(), "250m");
  EXPECT_EQ(q.status().used().at("pods").string(), "1");
  EXPECT_EQ(ctx.trace.size(), 5u);  // LimitRanger, ServiceAccount, Priority, DefaultTolerationSeconds, ResourceQuota
}

}  // namespace
}  // namespace ck::apiserver::admission::plugins
