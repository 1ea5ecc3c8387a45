// The webhook plugins against real HTTPS webhook servers on 127.0.0.1 (common/net HttpServer in
// this process, certificates from common/pki): patches, denials, warnings, timeouts with both
// failure policies, certificates the caBundle does not trust, concurrent validating calls and
// Service references resolved through EndpointSlices.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "apiserver/admission/testing/fake_source.h"
#include "apiserver/admission/webhook/mutating_webhook.h"
#include "apiserver/admission/webhook/validating_webhook.h"
#include "common/api/codec.h"
#include "common/api/proto/admission_v1.pb.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"
#include "common/api/testing/builders.h"
#include "common/net/http_server.h"
#include "common/pki/pki.h"
#include "tests/testutil/testutil.h"

namespace ck::apiserver::admission::webhook {
namespace {

namespace arv1 = ::k8s::io::api::admissionregistration::v1;
namespace admv1 = ::k8s::io::api::admission::v1;
namespace corev1 = ::k8s::io::api::core::v1;
namespace discoveryv1 = ::k8s::io::api::discovery::v1;
using admission::testing::FakeObjectSource;
using api::testing::MakePod;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Two CAs: the webhook servers' certificates come from `trusted`, except the impostor's.
struct Certs {
  pki::KeyAndCert trusted_ca, server, service_only, other_ca, impostor;
};
const Certs& TestCerts() {
  static const Certs certs = [] {
    Certs c;
    c.trusted_ca = *pki::CreateCA({.common_name = "webhook-ca"});
    pki::CertSpec spec{.common_name = "webhook"};
    spec.dns_names = {"localhost", "checker.hooks.svc"};
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    c.server = *pki::IssueCert(spec, c.trusted_ca);
    pki::CertSpec svc{.common_name = "checker"};
    svc.dns_names = {"checker.hooks.svc"};  // no IP: only reachable by its Service name
    svc.server_auth = true;
    c.service_only = *pki::IssueCert(svc, c.trusted_ca);
    c.other_ca = *pki::CreateCA({.common_name = "someone-else"});
    c.impostor = *pki::IssueCert(spec, c.other_ca);
    return c;
  }();
  return certs;
}

// What a test webhook answers: the members of `response` after "uid", e.g. `"allowed":true`;
// nullopt parks the request unanswered until the server is destroyed (a hanging webhook).
using Responder = std::function<std::optional<std::string>(const admv1::AdmissionRequest&)>;

class HookServer {
 public:
  explicit HookServer(Responder responder, const pki::KeyAndCert& cert = TestCerts().server)
      : responder_(std::move(responder)) {
    net::HttpServerOptions o;
    o.tls_config.cert_pem = cert.cert_pem;
    o.tls_config.key_pem = cert.key_pem;
    server_ = std::make_unique<net::HttpServer>(o, [this](net::Request req, std::shared_ptr<net::ResponseWriter> w) {
      Handle(std::move(req), std::move(w));
    });
    Status s = server_->Start();
    CK_CHECK(s.ok()) << s.ToString();
  }
  ~HookServer() {
    std::vector<std::shared_ptr<net::ResponseWriter>> parked;
    {
      std::lock_guard lock(mu_);
      parked.swap(parked_);
    }
    for (auto& w : parked) w->Respond(503, {}, "");
    server_->Stop(1s);
  }
  std::string Url(const std::string& path = "/hook") const {
    return "https://127.0.0.1:" + std::to_string(server_->port()) + path;
  }
  uint16_t port() const { return server_->port(); }
  std::vector<admv1::AdmissionRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::string> targets() const {
    std::lock_guard lock(mu_);
    return targets_;
  }
  int parked() const {
    std::lock_guard lock(mu_);
    return static_cast<int>(parked_.size());
  }
  // Answers every parked request with `fields` (used by the concurrency test).
  void AnswerParked(const std::string& fields) {
    std::vector<std::pair<std::shared_ptr<net::ResponseWriter>, std::string>> todo;
    {
      std::lock_guard lock(mu_);
      for (size_t i = 0; i < parked_.size(); ++i) todo.emplace_back(parked_[i], parked_uids_[i]);
      parked_.clear();
      parked_uids_.clear();
    }
    for (auto& [w, uid] : todo) w->Respond(200, {{"Content-Type", "application/json"}}, Wrap(uid, fields));
  }
  // Called (on the I/O thread, under no lock) after a request is parked.
  std::function<void(HookServer&)> on_parked;
  // When set, every answer carries this uid instead of the request's.
  std::string forced_uid;

  static std::string Wrap(const std::string& uid, const std::string& fields) {
    return R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":")" + uid + "\"," +
           fields + "}}";
  }

 private:
  void Handle(net::Request req, std::shared_ptr<net::ResponseWriter> w) {
    admv1::AdmissionReview review;
    Status s = api::FromJson(req.body, &review, {.field_validation = api::FieldValidation::kStrict});
    if (!s.ok()) {
      w->Respond(400, {}, s.message());
      return;
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(review.request());
      targets_.push_back(req.target);
    }
    std::optional<std::string> fields = responder_(review.request());
    if (!fields) {
      {
        std::lock_guard lock(mu_);
        parked_.push_back(w);
        parked_uids_.push_back(review.request().uid());
      }
      if (on_parked) on_parked(*this);
      return;
    }
    const std::string& uid = forced_uid.empty() ? review.request().uid() : forced_uid;
    w->Respond(200, {{"Content-Type", "application/json"}}, Wrap(uid, *fields));
  }

  Responder responder_;
  std::unique_ptr<net::HttpServer> server_;
  mutable std::mutex mu_;
  std::vector<admv1::AdmissionRequest> requests_;               // guarded by mu_
  std::vector<std::string> targets_;                            // guarded by mu_
  std::vector<std::shared_ptr<net::ResponseWriter>> parked_;    // guarded by mu_
  std::vector<std::string> parked_uids_;                        // guarded by mu_
};

std::string B64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t n = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8) | uint8_t(s[i + 2]);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
  }
  if (i + 1 == s.size()) {
    uint32_t n = uint8_t(s[i]) << 16;
    out += {k[n >> 18], k[(n >> 12) & 63], '=', '='};
  } else if (i + 2 == s.size()) {
    uint32_t n = (uint8_t(s[i]) << 16) | (uint8_t(s[i + 1]) << 8);
    out += {k[n >> 18], k[(n >> 12) & 63], k[(n >> 6) & 63], '='};
  }
  return out;
}

std::string PatchFields(const std::string& patch) {
  return R"("allowed":true,"patchType":"JSONPatch","patch":")" + B64(patch) + "\"";
}

struct HookSpec {
  std::string name;
  std::string url;  // or a service:
  std::optional<std::tuple<std::string, std::string, std::string>> service;  // namespace, name, path
  std::string ca = TestCerts().trusted_ca.cert_pem;
  std::string failure_policy = "Fail";
  int timeout_seconds = 0;  // 0: default
  std::string side_effects = "None";
  std::string reinvocation;
};

template <typename W>
void Fill(W* w, const HookSpec& s) {
  w->set_name(s.name);
  auto* cc = w->mutable_clientconfig();
  if (s.service) {
    auto* svc = cc->mutable_service();
    svc->set_namespace_(std::get<0>(*s.service));
    svc->set_name(std::get<1>(*s.service));
    svc->set_path(std::get<2>(*s.service));
  } else {
    cc->set_url(s.url);
  }
  cc->set_cabundle(s.ca);
  auto* rule = w->add_rules();
  rule->add_operations("CREATE");
  rule->add_operations("UPDATE");
  rule->mutable_rule()->add_apigroups("");
  rule->mutable_rule()->add_apiversions("v1");
  rule->mutable_rule()->add_resources("pods");
  w->set_failurepolicy(s.failure_policy);
  if (s.timeout_seconds) w->set_timeoutseconds(s.timeout_seconds);
  w->set_sideeffects(s.side_effects);
  w->add_admissionreviewversions("v1");
}

void PutMutating(FakeObjectSource& source, const std::string& name, const std::vector<HookSpec>& hooks) {
  arv1::MutatingWebhookConfiguration c;
  c.mutable_metadata()->set_name(name);
  for (const auto& h : hooks) {
    auto* w = c.add_webhooks();
    Fill(w, h);
    if (!h.reinvocation.empty()) w->set_reinvocationpolicy(h.reinvocation);
  }
  source.Put(std::string(kMutatingConfigurations), c);
}

void PutValidating(FakeObjectSource& source, const std::string& name, const std::vector<HookSpec>& hooks) {
  arv1::ValidatingWebhookConfiguration c;
  c.mutable_metadata()->set_name(name);
  for (const auto& h : hooks) Fill(c.add_webhooks(), h);
  source.Put(std::string(kValidatingConfigurations), c);
}

class WebhookServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    corev1::Namespace ns;
    ns.mutable_metadata()->set_name("shop");
    source_.Put("namespaces", ns);
    pod_ = MakePod("web").Namespace("shop").Label("app", "web");
  }
  Attributes CreatePod() {
    Attributes a;
    a.operation = Operation::kCreate;
    a.resource = FindResource("", "v1", "pods");
    a.namespace_ = "shop";
    a.name = "web";
    a.user = &user_;
    a.object = &pod_;
    return a;
  }
  FakeObjectSource source_;
  corev1::Pod pod_;
  UserInfo user_{"jane", "", {"dev", "system:authenticated"}, {}};
  FakeRandom random_;
};

TEST_F(WebhookServerTest, MutatingPatchIsAppliedInPlace) {
  HookServer server([](const admv1::AdmissionRequest&) {
    return PatchFields(R"([{"op":"add","path":"/metadata/labels/injected","value":"yes"}])");
  });
  PutMutating(source_, "labels", {{.name = "label.example.com", .url = server.Url("/mutate")}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  ASSERT_TRUE(plugin.Admit(CreatePod(), ctx).ok());
  EXPECT_EQ(pod_.metadata().labels().at("injected"), "yes");
  EXPECT_EQ(pod_.metadata().labels().at("app"), "web");
  EXPECT_THAT(ctx.trace, ::testing::Contains("MutatingAdmissionWebhook: label.example.com patched (1 ops)"));
  EXPECT_EQ(ctx.audit_annotations.at("mutation.webhook.admission.k8s.io/round_0_index_0"),
            R"({"configuration":"labels","webhook":"label.example.com","mutated":true})");
  // What the webhook received.
  const std::vector<admv1::AdmissionRequest> requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& r = requests[0];
  EXPECT_EQ(r.operation(), "CREATE");
  EXPECT_EQ(r.kind().kind(), "Pod");
  EXPECT_EQ(r.resource().resource(), "pods");
  EXPECT_EQ(r.namespace_(), "shop");
  EXPECT_EQ(r.userinfo().username(), "jane");
  EXPECT_EQ(r.uid().size(), 36u);
  EXPECT_THAT(r.object().raw(), HasSubstr(R"("kind":"Pod","apiVersion":"v1")"));
  EXPECT_EQ(server.targets()[0], "/mutate?timeout=10s");
}

TEST_F(WebhookServerTest, MutatingWebhooksRunInOrderEachSeeingThePreviousPatch) {
  HookServer first([](const admv1::AdmissionRequest&) {
    return PatchFields(R"([{"op":"add","path":"/metadata/labels/step","value":"one"}])");
  });
  HookServer second([](const admv1::AdmissionRequest& r) -> std::optional<std::string> {
    if (r.object().raw().find(R"("step":"one")") == std::string::npos) {
      return R"("allowed":false,"status":{"message":"ran before the first webhook"}})";
    }
    return PatchFields(R"([{"op":"replace","path":"/metadata/labels/step","value":"two"}])");
  });
  // Configurations run by name: "a-first" before "b-second", whatever the insertion order.
  PutMutating(source_, "b-second", {{.name = "second.example.com", .url = second.Url()}});
  PutMutating(source_, "a-first", {{.name = "first.example.com", .url = first.Url()}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Admit(CreatePod(), ctx);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(pod_.metadata().labels().at("step"), "two");
}

TEST_F(WebhookServerTest, IfNeededWebhookIsReinvokedAfterALaterChange) {
  HookServer early([](const admv1::AdmissionRequest&) { return std::string(R"("allowed":true)"); });
  HookServer late([](const admv1::AdmissionRequest&) {
    return PatchFields(R"([{"op":"add","path":"/metadata/labels/late","value":"x"}])");
  });
  PutMutating(source_, "a", {{.name = "early.example.com", .url = early.Url(), .reinvocation = "IfNeeded"}});
  PutMutating(source_, "b", {{.name = "late.example.com", .url = late.Url()}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  ASSERT_TRUE(plugin.Admit(CreatePod(), ctx).ok());
  ASSERT_EQ(early.requests().size(), 2u) << "called again once the later webhook changed the object";
  EXPECT_THAT(early.requests()[1].object().raw(), HasSubstr(R"("late":"x")"));
  EXPECT_EQ(late.requests().size(), 1u);
  EXPECT_TRUE(ctx.audit_annotations.count("mutation.webhook.admission.k8s.io/round_1_index_0"));
}

TEST_F(WebhookServerTest, ValidatingDenialCarriesMessageCodeWarningsAndAnnotations) {
  HookServer server([](const admv1::AdmissionRequest&) {
    return std::string(R"("allowed":false,"status":{"code":403,"message":"pods need an owner label"},)"
                       R"("warnings":["owner label missing"],"auditAnnotations":{"rule":"owner"})");
  });
  PutValidating(source_, "policy", {{.name = "owner.example.com", .url = server.Url()}});
  ValidatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Validate(CreatePod(), ctx);
  EXPECT_EQ(s.code(), Code::kForbidden);
  EXPECT_EQ(s.message(), "admission webhook \"owner.example.com\" denied the request: pods need an owner label");
  EXPECT_THAT(ctx.warnings, ::testing::ElementsAre("owner label missing"));
  EXPECT_EQ(ctx.audit_annotations.at("owner.example.com/rule"), "owner");
}

TEST_F(WebhookServerTest, MutatingDenialWithoutCodeIs400) {
  HookServer server([](const admv1::AdmissionRequest&) { return std::string(R"("allowed":false)"); });
  PutMutating(source_, "m", {{.name = "no.example.com", .url = server.Url()}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Admit(CreatePod(), ctx);
  EXPECT_EQ(s.http_status(), 400);
  EXPECT_EQ(s.message(), "admission webhook \"no.example.com\" denied the request without explanation");
}

TEST_F(WebhookServerTest, HangingWebhookWithIgnorePassesAfterTheTimeout) {
  HookServer server([](const admv1::AdmissionRequest&) { return std::nullopt; });
  PutValidating(source_, "slow",
                {{.name = "hang.example.com", .url = server.Url(), .failure_policy = "Ignore", .timeout_seconds = 1}});
  ValidatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  auto start = Clock::now();
  Status s = plugin.Validate(CreatePod(), ctx);
  auto took = Clock::now() - start;
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
  EXPECT_EQ(ctx.audit_annotations.at("failed-open.validating.webhook.admission.k8s.io/round_0_index_0"),
            "hang.example.com");
  ASSERT_EQ(ctx.trace.size(), 1u);
  EXPECT_THAT(ctx.trace[0], HasSubstr("hang.example.com failed open: failed calling webhook"));
  EXPECT_EQ(server.targets()[0], "/hook?timeout=1s");
}

TEST_F(WebhookServerTest, HangingWebhookWithFailRejectsAfterTheTimeout) {
  HookServer server([](const admv1::AdmissionRequest&) { return std::nullopt; });
  PutMutating(source_, "slow", {{.name = "hang.example.com", .url = server.Url(), .timeout_seconds = 1}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  auto start = Clock::now();
  Status s = plugin.Admit(CreatePod(), ctx);
  auto took = Clock::now() - start;
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(), "Internal error occurred: failed calling webhook \"hang.example.com\": failed to call webhook: Post \"" +
                             server.Url() + "?timeout=1s\": context deadline exceeded");
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 5s);
}

TEST_F(WebhookServerTest, CertificateNotFromCaBundleIsACallingFailure) {
  HookServer impostor([](const admv1::AdmissionRequest&) { return std::string(R"("allowed":true)"); },
                      TestCerts().impostor);
  PutValidating(source_, "v", {{.name = "tls.example.com", .url = impostor.Url()}});
  ValidatingWebhookPlugin fail_closed(source_, random_);
  Context ctx;
  Status s = fail_closed.Validate(CreatePod(), ctx);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_THAT(s.message(), StartsWith("Internal error occurred: failed calling webhook \"tls.example.com\": "
                                      "failed to call webhook: Post \"" + impostor.Url() + "?timeout=10s\": "));
  EXPECT_TRUE(impostor.requests().empty()) << "nothing is sent to an untrusted server";

  PutValidating(source_, "v", {{.name = "tls.example.com", .url = impostor.Url(), .failure_policy = "Ignore"}});
  ValidatingWebhookPlugin fail_open(source_, random_);
  Context ctx2;
  EXPECT_TRUE(fail_open.Validate(CreatePod(), ctx2).ok());
  EXPECT_EQ(ctx2.audit_annotations.count("failed-open.validating.webhook.admission.k8s.io/round_0_index_0"), 1u);
}

TEST_F(WebhookServerTest, ValidatingWebhooksAreCalledConcurrently) {
  // Each server answers only once both requests are in flight: called one after the other, the
  // first would time out (Fail) and the write would be refused.
  std::atomic<int> in_flight{0};
  auto responder = [](const admv1::AdmissionRequest&) -> std::optional<std::string> { return std::nullopt; };
  HookServer a(responder), b(responder);
  auto release_when_both = [&](HookServer&) {
    if (++in_flight == 2) {
      a.AnswerParked(R"("allowed":true,"warnings":["from a"])");
      b.AnswerParked(R"("allowed":true,"warnings":["from b"])");
    }
  };
  a.on_parked = release_when_both;
  b.on_parked = release_when_both;
  PutValidating(source_, "v", {{.name = "a.example.com", .url = a.Url(), .timeout_seconds = 3},
                               {.name = "b.example.com", .url = b.Url(), .timeout_seconds = 3}});
  ValidatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  auto start = Clock::now();
  Status s = plugin.Validate(CreatePod(), ctx);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_LT(Clock::now() - start, 2500ms);
  EXPECT_EQ(in_flight.load(), 2);
  EXPECT_THAT(ctx.warnings, ::testing::ElementsAre("from a", "from b")) << "recorded in calling order";
}

TEST_F(WebhookServerTest, FirstDenialInCallingOrderWins) {
  HookServer a([](const admv1::AdmissionRequest&) {
    return std::string(R"("allowed":false,"status":{"code":422,"message":"a says no"})");
  });
  HookServer b([](const admv1::AdmissionRequest&) {
    return std::string(R"("allowed":false,"status":{"code":403,"message":"b says no"})");
  });
  PutValidating(source_, "2-b", {{.name = "b.example.com", .url = b.Url()}});
  PutValidating(source_, "1-a", {{.name = "a.example.com", .url = a.Url()}});
  ValidatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Validate(CreatePod(), ctx);
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.message(), "admission webhook \"a.example.com\" denied the request: a says no");
  EXPECT_EQ(b.requests().size(), 1u) << "every validating webhook is called";
}

void PutServiceAndSlice(FakeObjectSource& source, uint16_t port, bool ready) {
  corev1::Service svc = api::testing::MakeService("checker").Namespace("hooks").Port(443, "8443", "TCP", "https");
  source.Put("services", svc);
  discoveryv1::EndpointSlice slice;
  slice.mutable_metadata()->set_name("checker-abc12");
  slice.mutable_metadata()->set_namespace_("hooks");
  (*slice.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = "checker";
  slice.set_addresstype("IPv4");
  auto* p = slice.add_ports();
  p->set_name("https");
  p->set_port(port);
  p->set_protocol("TCP");
  auto* ep = slice.add_endpoints();
  ep->add_addresses("127.0.0.1");
  ep->mutable_conditions()->set_ready(ready);
  source.Put("endpointslices.discovery.k8s.io", slice);
}

TEST_F(WebhookServerTest, ServiceReferenceResolvesToAReadyEndpoint) {
  // The certificate names only checker.hooks.svc: the call must use the Service's DNS name.
  HookServer server([](const admv1::AdmissionRequest&) {
    return PatchFields(R"([{"op":"add","path":"/metadata/annotations","value":{"checked":"true"}}])");
  }, TestCerts().service_only);
  PutServiceAndSlice(source_, server.port(), /*ready=*/true);
  PutMutating(source_, "svc", {{.name = "svc.example.com", .service = std::make_tuple("hooks", "checker", "/check")}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Admit(CreatePod(), ctx);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(pod_.metadata().annotations().at("checked"), "true");
  EXPECT_EQ(server.targets()[0], "/check?timeout=10s");

  // The same server by url: 127.0.0.1 is not a name in its certificate.
  PutMutating(source_, "svc", {{.name = "svc.example.com", .url = server.Url("/check")}});
  s = plugin.Admit(CreatePod(), ctx);
  EXPECT_THAT(s.message(), StartsWith("Internal error occurred: failed calling webhook \"svc.example.com\": failed to call webhook"));
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(WebhookServerTest, ServiceWithoutReadyEndpointsFails) {
  HookServer server([](const admv1::AdmissionRequest&) { return std::string(R"("allowed":true)"); });
  PutServiceAndSlice(source_, server.port(), /*ready=*/false);
  PutValidating(source_, "svc", {{.name = "svc.example.com", .service = std::make_tuple("hooks", "checker", "")}});
  ValidatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Validate(CreatePod(), ctx);
  EXPECT_EQ(s.message(), "Internal error occurred: failed calling webhook \"svc.example.com\": could not get REST "
                         "client: no endpoints available for service \"checker\"");
  source_.Remove("services", "hooks", "checker");
  s = plugin.Validate(CreatePod(), ctx);
  EXPECT_THAT(s.message(), HasSubstr("service \"checker\" not found"));
}

TEST_F(WebhookServerTest, DryRunNeedsSideEffectsNone) {
  HookServer server([](const admv1::AdmissionRequest&) { return std::string(R"("allowed":true)"); });
  PutValidating(source_, "v", {{.name = "fx.example.com", .url = server.Url(), .failure_policy = "Ignore",
                                .side_effects = "Some"}});
  ValidatingWebhookPlugin plugin(source_, random_);
  Attributes a = CreatePod();
  a.dry_run = true;
  Context ctx;
  Status s = plugin.Validate(a, ctx);
  EXPECT_EQ(s.code(), Code::kBadRequest) << "whatever the failurePolicy";
  EXPECT_EQ(s.message(), "admission webhook \"fx.example.com\" does not support dry run");
  EXPECT_TRUE(server.requests().empty());

  PutValidating(source_, "v", {{.name = "fx.example.com", .url = server.Url(), .side_effects = "NoneOnDryRun"}});
  EXPECT_TRUE(plugin.Validate(a, ctx).ok());
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_TRUE(server.requests()[0].dryrun());
}

TEST_F(WebhookServerTest, WebhookConfigurationsAreExempt) {
  // A webhook for everything that cannot be reached must not lock its own configuration in.
  arv1::ValidatingWebhookConfiguration c;
  c.mutable_metadata()->set_name("everything");
  auto* w = c.add_webhooks();
  w->set_name("all.example.com");
  w->mutable_clientconfig()->set_url("https://127.0.0.1:1/");
  auto* rule = w->add_rules();
  rule->add_operations("*");
  rule->mutable_rule()->add_apigroups("*");
  rule->mutable_rule()->add_apiversions("*");
  rule->mutable_rule()->add_resources("*/*");
  source_.Put(std::string(kValidatingConfigurations), c);
  ValidatingWebhookPlugin plugin(source_, random_);
  Attributes a;
  a.operation = Operation::kDelete;
  a.resource = FindResource("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations");
  a.name = "everything";
  a.old_object = &c;
  Context ctx;
  EXPECT_TRUE(plugin.Validate(a, ctx).ok());
  EXPECT_FALSE(plugin.Validate(CreatePod(), ctx).ok()) << "while a pod write is refused";
}

TEST_F(WebhookServerTest, PatchThatDoesNotApplyIsAnInternalErrorEvenWithIgnore) {
  HookServer server([](const admv1::AdmissionRequest&) {
    return PatchFields(R"([{"op":"replace","path":"/spec/nothing/here","value":1}])");
  });
  PutMutating(source_, "m", {{.name = "bad.example.com", .url = server.Url(), .failure_policy = "Ignore"}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  corev1::Pod before = pod_;
  Status s = plugin.Admit(CreatePod(), ctx);
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_THAT(s.message(), StartsWith("Internal error occurred: "));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(pod_, before)) << "the object is left as it was";
}

TEST_F(WebhookServerTest, UndecodablePatchAndWrongUidFollowTheFailurePolicy) {
  HookServer garbage([](const admv1::AdmissionRequest&) {
    return std::string(R"("allowed":true,"patchType":"JSONPatch","patch":")") + B64("{not a patch") + "\"";
  });
  PutMutating(source_, "m", {{.name = "garbage.example.com", .url = garbage.Url()}});
  MutatingWebhookPlugin plugin(source_, random_);
  Context ctx;
  Status s = plugin.Admit(CreatePod(), ctx);
  EXPECT_EQ(s.message(), "Internal error occurred: failed calling webhook \"garbage.example.com\": received undecodable "
                         "patch in webhook response: the patch is not a JSON array");
  PutMutating(source_, "m", {{.name = "garbage.example.com", .url = garbage.Url(), .failure_policy = "Ignore"}});
  EXPECT_TRUE(plugin.Admit(CreatePod(), ctx).ok());

  // An answer for another request: its uid does not match.
  HookServer other([](const admv1::AdmissionRequest&) { return std::string(R"("allowed":true)"); });
  other.forced_uid = "00000000-0000-4000-8000-000000000000";
  PutValidating(source_, "v", {{.name = "uid.example.com", .url = other.Url()}});
  ValidatingWebhookPlugin validating(source_, random_);
  s = validating.Validate(CreatePod(), ctx);
  EXPECT_THAT(s.message(), StartsWith("Internal error occurred: failed calling webhook \"uid.example.com\": received "
                                      "invalid webhook response: expected response.uid=\""));
  EXPECT_THAT(s.message(), HasSubstr("got \"00000000-0000-4000-8000-000000000000\""));
}

}  // namespace
}  // namespace ck::apiserver::admission::webhook
