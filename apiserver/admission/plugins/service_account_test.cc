#include "apiserver/admission/plugins/service_account.h"

#include <gtest/gtest.h>

#include "apiserver/admission/plugins/test_util.h"

namespace ck::apiserver::admission::plugins {
namespace {

using namespace testing;  // NOLINT

class ServiceAccountTest : public ::testing::Test {
 protected:
  void SetUp() override { source_.Put("serviceaccounts", MakeServiceAccount("shop", "default")); }
  // Admit then Validate, as the chain runs them.
  Status Run(corev1::Pod* pod) {
    Attributes a = PodCreate(pod);
    CK_RETURN_IF_ERROR(plugin_.Admit(a, ctx_));
    return plugin_.Validate(a, ctx_);
  }
  FakeObjectSource source_;
  FakeRandom random_{7};
  ServiceAccountAdmission plugin_{source_, random_};
  Context ctx_;
};

TEST_F(ServiceAccountTest, DefaultsAccountAndMountsProjectedToken) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app").InitContainer("setup");
  ASSERT_TRUE(Run(&pod).ok());
  EXPECT_EQ(pod.spec().serviceaccountname(), "default");

  ASSERT_EQ(pod.spec().volumes_size(), 1);
  const corev1::Volume& v = pod.spec().volumes(0);
  ASSERT_TRUE(v.name().starts_with("kube-api-access-"));
  const std::string suffix = v.name().substr(std::string("kube-api-access-").size());
  ASSERT_EQ(suffix.size(), 5u);
  for (char c : suffix) EXPECT_NE(std::string_view("bcdfghjklmnpqrstvwxz2456789").find(c), std::string_view::npos);

  const corev1::ProjectedVolumeSource& p = v.volumesource().projected();
  EXPECT_EQ(p.defaultmode(), 0644);
  ASSERT_EQ(p.sources_size(), 3);
  EXPECT_EQ(p.sources(0).serviceaccounttoken().path(), "token");
  EXPECT_EQ(p.sources(0).serviceaccounttoken().expirationseconds(), 3607);
  EXPECT_EQ(p.sources(1).configmap().localobjectreference().name(), "kube-root-ca.crt");
  ASSERT_EQ(p.sources(1).configmap().items_size(), 1);
  EXPECT_EQ(p.sources(1).configmap().items(0).key(), "ca.crt");
  EXPECT_EQ(p.sources(1).configmap().items(0).path(), "ca.crt");
  ASSERT_EQ(p.sources(2).downwardapi().items_size(), 1);
  EXPECT_EQ(p.sources(2).downwardapi().items(0).path(), "namespace");
  EXPECT_EQ(p.sources(2).downwardapi().items(0).fieldref().fieldpath(), "metadata.namespace");
  EXPECT_EQ(p.sources(2).downwardapi().items(0).fieldref().apiversion(), "v1");

  for (const auto* c : {&pod.spec().containers(0), &pod.spec().initcontainers(0)}) {
    ASSERT_EQ(c->volumemounts_size(), 1) << c->name();
    EXPECT_EQ(c->volumemounts(0).name(), v.name());
    EXPECT_EQ(c->volumemounts(0).mountpath(), "/var/run/secrets/kubernetes.io/serviceaccount");
    EXPECT_TRUE(c->volumemounts(0).readonly());
  }
  ASSERT_EQ(ctx_.trace.size(), 1u);
  EXPECT_EQ(ctx_.trace[0], "ServiceAccount: serviceAccountName default, mounted token volume " + v.name());
}

TEST_F(ServiceAccountTest, SuffixComesFromTheInjectedRandom) {
  FakeRandom r1(99), r2(99);
  ServiceAccountAdmission p1(source_, r1), p2(source_, r2);
  corev1::Pod a = MakePod("a").Namespace("shop").Container("app");
  corev1::Pod b = MakePod("b").Namespace("shop").Container("app");
  Attributes aa = PodCreate(&a), ab = PodCreate(&b);
  ASSERT_TRUE(p1.Admit(aa, ctx_).ok());
  ASSERT_TRUE(p2.Admit(ab, ctx_).ok());
  EXPECT_EQ(a.spec().volumes(0).name(), b.spec().volumes(0).name());
}

TEST_F(ServiceAccountTest, MissingAccountIsForbiddenWithUpstreamMessage) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  pod.mutable_spec()->set_serviceaccountname("builder");
  Status s = Run(&pod);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(),
            "pods \"web\" is forbidden: error looking up service account shop/builder: serviceaccount \"builder\" "
            "not found");
  // No default account in the namespace at all.
  corev1::Pod other = MakePod("web").Namespace("empty").Container("app");
  s = Run(&other);
  EXPECT_EQ(s.message(),
            "pods \"web\" is forbidden: error looking up service account empty/default: serviceaccount \"default\" "
            "not found");
}

TEST_F(ServiceAccountTest, AutomountFalseOnPodOrAccountSkipsTheVolume) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  pod.mutable_spec()->set_automountserviceaccounttoken(false);
  ASSERT_TRUE(Run(&pod).ok());
  EXPECT_EQ(pod.spec().volumes_size(), 0);
  EXPECT_EQ(pod.spec().containers(0).volumemounts_size(), 0);

  corev1::ServiceAccount quiet = MakeServiceAccount("shop", "quiet");
  quiet.set_automountserviceaccounttoken(false);
  source_.Put("serviceaccounts", quiet);
  corev1::Pod pod2 = MakePod("web2").Namespace("shop").Container("app");
  pod2.mutable_spec()->set_serviceaccountname("quiet");
  ASSERT_TRUE(Run(&pod2).ok());
  EXPECT_EQ(pod2.spec().volumes_size(), 0);

  // The pod's own setting wins over the account's.
  corev1::Pod pod3 = MakePod("web3").Namespace("shop").Container("app");
  pod3.mutable_spec()->set_serviceaccountname("quiet");
  pod3.mutable_spec()->set_automountserviceaccounttoken(true);
  ASSERT_TRUE(Run(&pod3).ok());
  EXPECT_EQ(pod3.spec().volumes_size(), 1);
}

TEST_F(ServiceAccountTest, ExistingMountAtThePathIsKeptPerContainer) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app").Container("sidecar");
  auto* m = pod.mutable_spec()->mutable_containers(0)->add_volumemounts();
  m->set_name("my-token");
  m->set_mountpath("/var/run/secrets/kubernetes.io/serviceaccount");
  ASSERT_TRUE(Run(&pod).ok());
  ASSERT_EQ(pod.spec().containers(0).volumemounts_size(), 1);
  EXPECT_EQ(pod.spec().containers(0).volumemounts(0).name(), "my-token");
  ASSERT_EQ(pod.spec().containers(1).volumemounts_size(), 1);  // the other container still gets it
  EXPECT_EQ(pod.spec().volumes_size(), 1);

  corev1::Pod all = MakePod("all").Namespace("shop").Container("app");
  auto* m2 = all.mutable_spec()->mutable_containers(0)->add_volumemounts();
  m2->set_name("my-token");
  m2->set_mountpath("/var/run/secrets/kubernetes.io/serviceaccount");
  ASSERT_TRUE(Run(&all).ok());
  EXPECT_EQ(all.spec().volumes_size(), 0);  // nobody needs it
}

TEST_F(ServiceAccountTest, ImagePullSecretsComeFromTheAccount) {
  corev1::ServiceAccount sa = MakeServiceAccount("shop", "puller");
  sa.add_imagepullsecrets()->set_name("registry-creds");
  source_.Put("serviceaccounts", sa);
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  pod.mutable_spec()->set_serviceaccountname("puller");
  ASSERT_TRUE(Run(&pod).ok());
  ASSERT_EQ(pod.spec().imagepullsecrets_size(), 1);
  EXPECT_EQ(pod.spec().imagepullsecrets(0).name(), "registry-creds");
}

TEST_F(ServiceAccountTest, MirrorPodsAreLeftAloneButMayNotUseAccounts) {
  corev1::Pod pod = MakePod("static-web-node1").Namespace("shop").Container("app");
  (*pod.mutable_metadata()->mutable_annotations())["kubernetes.io/config.mirror"] = "hash";
  ASSERT_TRUE(Run(&pod).ok());
  EXPECT_EQ(pod.spec().serviceaccountname(), "");
  EXPECT_EQ(pod.spec().volumes_size(), 0);

  pod.mutable_spec()->set_serviceaccountname("default");
  Status s = Run(&pod);
  EXPECT_EQ(s.message(), "pods \"static-web-node1\" is forbidden: a mirror pod may not reference service accounts");
  pod.mutable_spec()->clear_serviceaccountname();
  pod.mutable_spec()->add_volumes()->mutable_volumesource()->mutable_secret()->set_secretname("s");
  s = Run(&pod);
  EXPECT_EQ(s.message(), "pods \"static-web-node1\" is forbidden: a mirror pod may not reference secrets");
}

TEST_F(ServiceAccountTest, ValidateRequiresANamedExistingAccount) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Container("app");
  Attributes a = PodCreate(&pod);
  Status s = plugin_.Validate(a, ctx_);  // as if Admit had not run (plugin enabled only as validating)
  EXPECT_EQ(s.message(), "pods \"web\" is forbidden: no service account specified for pod shop/web");
  // Updates and other resources are not looked at.
  corev1::Pod old = pod;
  EXPECT_TRUE(plugin_.Validate(Attrs(Operation::kUpdate, Res("", "pods"), "shop", "web", &pod, &old), ctx_).ok());
}

}  // namespace
}  // namespace ck::apiserver::admission::plugins
