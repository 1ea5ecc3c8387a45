// DefaultBinder: POST pods/binding through the handle's API client (FakeApi here).
#include "scheduler/plugins/defaultbinder/default_binder.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/api/api_resources.h"
#include "common/api/testing/builders.h"
#include "common/client/testing/fake_api.h"
#include "scheduler/plugins/testing/fake_handle.h"

namespace ck::scheduler::plugins {
namespace {

using api::testing::MakePod;
using client::FakeApi;

const api::ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

class DefaultBinderTest : public ::testing::Test {
 protected:
  DefaultBinderTest() : api_(handle_.fake_clock()) { handle_.set_api(&api_); }

  // Creates the pod in the fake API and returns its PodInfo as the scheduler would hold it.
  PodInfoPtr CreatePod(const corev1::Pod& pod) {
    auto created = api_.Create(Pods(), pod.metadata().namespace_(), pod);
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    return *PodInfo::Create(static_cast<const corev1::Pod&>(**created));
  }

  std::string NodeNameOf(const std::string& ns, const std::string& name) {
    auto got = api_.Get(Pods(), ns, name);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return "";
    return static_cast<const corev1::Pod&>(**got).spec().nodename();
  }

  testing::FakeHandle handle_;
  FakeApi api_;
};

TEST_F(DefaultBinderTest, Bind) {
  struct Case {
    std::string pod;
    std::function<void(FakeApi&)> before;
    VerdictCode want;
    std::string message;     // of the error
    std::string node_after;  // the pod's spec.nodeName afterwards
  };
  auto bind_elsewhere = [](FakeApi& a) {
    corev1::Binding b;
    b.mutable_metadata()->set_namespace_("shop");
    b.mutable_metadata()->set_name("bound");
    b.mutable_target()->set_kind("Node");
    b.mutable_target()->set_name("node-1");
    ASSERT_TRUE(a.CreateSubresource(Pods(), "shop", "bound", "binding", b).ok());
  };
  const Case cases[] = {
      {"web", [](FakeApi&) {}, VerdictCode::kSuccess, "", "node-7"},
      {"refused", [](FakeApi& a) { a.FailNext(FakeApi::Verb::kCreateSubresource, Unavailable("etcd is down")); },
       VerdictCode::kError, "etcd is down", ""},
      {"bound", bind_elsewhere, VerdictCode::kError, "pod bound is already assigned to node \"node-1\"", "node-1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.pod);
    PodInfoPtr pod = CreatePod(MakePod(c.pod).Namespace("shop"));
    c.before(api_);
    api_.ResetCalls();
    DefaultBinder binder(handle_);
    CycleState state;
    Verdict v = binder.Bind(state, *pod, "node-7");
    EXPECT_EQ(v.code(), c.want) << v.String();
    if (!c.message.empty()) {
      EXPECT_EQ(v.Message(), c.message);
    }
    EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreateSubresource, "pods"), 1);
    EXPECT_EQ(NodeNameOf("shop", c.pod), c.node_after);
  }
}

TEST_F(DefaultBinderTest, SendsABindingForThePod) {
  // What travels: a Binding named after the pod, in its namespace, with its uid, targeting a Node.
  PodInfoPtr pod = CreatePod(MakePod("web").Namespace("shop"));
  FakeApi::Request seen;
  api_.SetRequestHook([&](const FakeApi::Request& r) {
    if (r.verb == FakeApi::Verb::kCreateSubresource) seen = r;
    return Status::Ok();
  });
  DefaultBinder binder(handle_);
  CycleState state;
  ASSERT_TRUE(binder.Bind(state, *pod, "node-3").IsSuccess());
  api_.SetRequestHook(nullptr);
  EXPECT_EQ(seen.resource, "pods");
  EXPECT_EQ(seen.ns, "shop");
  EXPECT_EQ(seen.name, "web");
  EXPECT_EQ(seen.subresource, "binding");
  auto got = api_.Get(Pods(), "shop", "web");
  ASSERT_TRUE(got.ok());
  const auto& bound = static_cast<const corev1::Pod&>(**got);
  EXPECT_EQ(bound.spec().nodename(), "node-3");
  bool scheduled = false;
  for (const auto& cond : bound.status().conditions()) {
    if (cond.type() == "PodScheduled" && cond.status() == "True") scheduled = true;
  }
  EXPECT_TRUE(scheduled);
}

TEST_F(DefaultBinderTest, PodGone) {
  PodInfoPtr pod = *PodInfo::Create(MakePod("ghost").Namespace("shop").Obj());
  DefaultBinder binder(handle_);
  CycleState state;
  Verdict v = binder.Bind(state, *pod, "node-1");
  EXPECT_TRUE(v.IsError());
  EXPECT_NE(v.Message().find("not found"), std::string::npos) << v.Message();
}

TEST(DefaultBinderNoApiTest, ErrorWithoutClient) {
  testing::FakeHandle handle;
  auto pl = NewDefaultBinder(YAML::Node(), handle);
  ASSERT_TRUE(pl.ok());
  EXPECT_EQ((*pl)->Name(), "DefaultBinder");
  auto* binder = dynamic_cast<BindPlugin*>(pl->get());
  ASSERT_NE(binder, nullptr);
  CycleState state;
  Verdict v = binder->Bind(state, **PodInfo::Create(MakePod("p").Obj()), "n");
  EXPECT_TRUE(v.IsError());
}

}  // namespace
}  // namespace ck::scheduler::plugins
