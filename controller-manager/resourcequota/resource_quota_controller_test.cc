// The ResourceQuota controller on FakeApi: status.hard from spec.hard and status.used recounted
// from the namespace (terminal pods do not use compute or pod counts, scopes are honoured, other
// kinds are counted by list), and a deletion gives the usage back.
#include "controller-manager/resourcequota/resource_quota_controller.h"

#include <gtest/gtest.h>

#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
using api::testing::DeploymentBuilder;
using api::testing::MakePod;
using client::testing::WaitFor;
using testing::ControllerTestEnv;
using testing::ResourceOf;

corev1::ResourceQuota Quota(const std::string& name, std::map<std::string, std::string> hard,
                            std::vector<std::string> scopes = {}) {
  corev1::ResourceQuota q;
  q.mutable_metadata()->set_name(name);
  q.mutable_metadata()->set_namespace_("default");
  for (const auto& [k, v] : hard) (*q.mutable_spec()->mutable_hard())[k].set_string(v);
  for (const auto& s : scopes) q.mutable_spec()->add_scopes(s);
  return q;
}

class ResourceQuotaTest : public ::testing::Test {
 protected:
  ResourceQuotaTest() : controller_(env_.context) { env_.StartInformers(controller_.Informers()); }

  std::map<std::string, std::string> Used(const std::string& name) {
    size_t pods = env_.List<corev1::Pod>("default").size();
    // The informers must have caught up: every pod, and the quota as last written (its status).
    std::string rv = env_.Get<corev1::ResourceQuota>("default", name)->metadata().resourceversion();
    EXPECT_TRUE(WaitFor([&] {
      auto cached = controller_.Informers()[0]->GetIndexer().Get("default", name);
      return controller_.Informers()[1]->GetIndexer().List().size() == pods && cached != nullptr &&
             api::MetaOf(*cached).resourceversion() == rv;
    }));
    Status s = controller_.SyncForTesting("default/" + name);
    EXPECT_TRUE(s.ok()) << s.message();
    auto q = env_.Get<corev1::ResourceQuota>("default", name);
    EXPECT_EQ(q->status().hard_size(), q->spec().hard_size());
    std::map<std::string, std::string> out;
    for (const auto& [k, v] : q->status().used()) out[k] = v.string();
    return out;
  }

  ControllerTestEnv env_;
  ResourceQuotaController controller_;
};

TEST_F(ResourceQuotaTest, RecountsPodsComputeAndOtherKinds) {
  env_.Create(corev1::Pod(MakePod("a").Cpu("250m").Memory("64Mi").Phase("Running")));
  env_.Create(corev1::Pod(MakePod("b").Cpu("500m").Memory("64Mi").Phase("Pending")));
  env_.Create(corev1::Pod(MakePod("done").Cpu("4").Phase("Succeeded")));  // terminal: no usage
  env_.Create(appsv1::Deployment(DeploymentBuilder("web").Label("app", "web")));
  env_.Create(Quota("q", {{"pods", "10"}, {"requests.cpu", "2"}, {"requests.memory", "1Gi"},
                          {"count/deployments.apps", "3"}, {"count/pods", "20"}}));
  auto used = Used("q");
  EXPECT_EQ(used["pods"], "2");
  EXPECT_EQ(used["requests.cpu"], "750m");
  EXPECT_EQ(used["requests.memory"], "128Mi");
  EXPECT_EQ(used["count/deployments.apps"], "1");
  EXPECT_EQ(used["count/pods"], "3");  // every stored pod, terminal or not, as upstream

  ASSERT_TRUE(env_.api.Delete(ResourceOf(corev1::Pod::descriptor()), "default", "b").ok());
  used = Used("q");
  EXPECT_EQ(used["pods"], "1");
  EXPECT_EQ(used["requests.cpu"], "250m");
}

TEST_F(ResourceQuotaTest, ScopesSelectWhichPodsCount) {
  env_.Create(corev1::Pod(MakePod("best-effort").Container("c").Phase("Running")));
  env_.Create(corev1::Pod(MakePod("burstable").Cpu("100m").Phase("Running")));
  env_.Create(Quota("be", {{"pods", "5"}}, {"BestEffort"}));
  env_.Create(Quota("not-be", {{"pods", "5"}}, {"NotBestEffort"}));
  EXPECT_EQ(Used("be")["pods"], "1");
  EXPECT_EQ(Used("not-be")["pods"], "1");
}

TEST_F(ResourceQuotaTest, NothingWrittenWhenUsageIsUnchanged) {
  env_.Create(corev1::Pod(MakePod("a").Cpu("1").Phase("Running")));
  env_.Create(Quota("q", {{"pods", "5"}}));
  Used("q");
  std::string rv = env_.Get<corev1::ResourceQuota>("default", "q")->metadata().resourceversion();
  ASSERT_TRUE(WaitFor([&] {
    auto cached = controller_.Informers()[0]->GetIndexer().Get("default", "q");
    return cached && api::MetaOf(*cached).resourceversion() == rv;
  }));
  Used("q");
  EXPECT_EQ(env_.Get<corev1::ResourceQuota>("default", "q")->metadata().resourceversion(), rv);
}

}  // namespace
}  // namespace ck::controller_manager
