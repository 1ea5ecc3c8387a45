// ck-sidecar-injector as a process on 127.0.0.1, called by the MutatingAdmissionWebhook plugin
// over HTTPS with a caBundle: a pod annotated monitoring=true gets the sidecar, others do not.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include <regex>

#include "apiserver/admission/testing/fake_source.h"
#include "apiserver/admission/webhook/mutating_webhook.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/pki/pki.h"
#include "tests/testutil/testutil.h"

namespace ck::examples::sidecar {
namespace {

namespace arv1 = ::k8s::io::api::admissionregistration::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using apiserver::admission::Attributes;
using apiserver::admission::Context;
using apiserver::admission::Operation;
using apiserver::admission::testing::FakeObjectSource;
using apiserver::admission::webhook::MutatingWebhookPlugin;
using api::testing::MakePod;
using namespace std::chrono_literals;

class SidecarInjectorE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = *pki::CreateCA({.common_name = "injector-ca"});
    pki::CertSpec spec{.common_name = "ck-sidecar-injector"};
    spec.dns_names = {"ck-sidecar-injector.monitoring.svc"};
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    auto serving = *pki::IssueCert(spec, ca_);
    testutil::WriteFileOrDie(dir_.File("tls.crt"), serving.cert_pem);
    testutil::WriteFileOrDie(dir_.File("tls.key"), serving.key_pem);
    proc_ = std::make_unique<testutil::Subprocess>(std::vector<std::string>{
        testutil::BinDir() + "/ck-sidecar-injector", "--secure-port=0", "--bind-address=127.0.0.1",
        "--tls-cert-file=" + dir_.File("tls.crt"), "--tls-private-key-file=" + dir_.File("tls.key"),
        "--sidecar-image=registry.example.com/metrics:1"});
    std::regex re(R"(address"?[=:]"?127\.0\.0\.1:(\d+))");
    std::smatch m;
    bool up = testutil::WaitUntil([&] {
      std::string err = proc_->Stderr();
      if (std::regex_search(err, m, re)) {
        port_ = std::stoi(m[1]);
        return true;
      }
      return !proc_->running();
    }, 10s);
    ASSERT_TRUE(up && port_ > 0) << proc_->Stderr();

    corev1::Namespace ns;
    ns.mutable_metadata()->set_name("shop");
    source_.Put("namespaces", ns);
    arv1::MutatingWebhookConfiguration c;
    c.mutable_metadata()->set_name("sidecar-injector");
    auto* w = c.add_webhooks();
    w->set_name("sidecar-injector.clearkube.dev");
    w->mutable_clientconfig()->set_url("https://127.0.0.1:" + std::to_string(port_) + "/mutate");
    w->mutable_clientconfig()->set_cabundle(ca_.cert_pem);
    auto* rule = w->add_rules();
    rule->add_operations("CREATE");
    rule->mutable_rule()->add_apigroups("");
    rule->mutable_rule()->add_apiversions("v1");
    rule->mutable_rule()->add_resources("pods");
    w->set_sideeffects("None");
    w->set_failurepolicy("Fail");
    w->add_admissionreviewversions("v1");
    source_.Put("mutatingwebhookconfigurations.admissionregistration.k8s.io", c);
  }

  Status Admit(corev1::Pod* pod, Context* ctx) {
    Attributes a;
    a.operation = Operation::kCreate;
    a.resource = api::FindResource("", "v1", "pods");
    a.namespace_ = "shop";
    a.name = pod->metadata().name();
    a.object = pod;
    return plugin_.Admit(a, *ctx);
  }

  testutil::TempDir dir_;
  pki::KeyAndCert ca_;
  std::unique_ptr<testutil::Subprocess> proc_;
  int port_ = 0;
  FakeObjectSource source_;
  MutatingWebhookPlugin plugin_{source_};
};

TEST_F(SidecarInjectorE2eTest, MonitoredPodGetsTheMetricsSidecar) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Annotation("monitoring", "true").Container("app");
  Context ctx;
  Status s = Admit(&pod, &ctx);
  ASSERT_TRUE(s.ok()) << s.ToString() << "\n" << proc_->Stderr();
  ASSERT_EQ(pod.spec().containers_size(), 2);
  EXPECT_EQ(pod.spec().containers(0).name(), "app");
  const auto& sidecar = pod.spec().containers(1);
  EXPECT_EQ(sidecar.name(), "metrics-sidecar");
  EXPECT_EQ(sidecar.image(), "registry.example.com/metrics:1");
  ASSERT_EQ(sidecar.ports_size(), 1);
  EXPECT_EQ(sidecar.ports(0).containerport(), 9102);
  EXPECT_EQ(pod.metadata().annotations().at("sidecar-injector/injected"), "true");
  EXPECT_THAT(ctx.trace, ::testing::Contains("MutatingAdmissionWebhook: sidecar-injector.clearkube.dev patched (2 ops)"));

  // Admitting the injected pod again changes nothing.
  corev1::Pod again = pod;
  Context ctx2;
  ASSERT_TRUE(Admit(&again, &ctx2).ok());
  // (Compared field by field: map entries serialize in no fixed order.)
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(again, pod)) << again.DebugString();
}

TEST_F(SidecarInjectorE2eTest, OtherPodsPassUnchanged) {
  corev1::Pod pod = MakePod("db").Namespace("shop").Container("postgres");
  corev1::Pod before = pod;
  Context ctx;
  Status s = Admit(&pod, &ctx);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(pod, before));
  EXPECT_TRUE(ctx.trace.empty());
}

}  // namespace
}  // namespace ck::examples::sidecar
