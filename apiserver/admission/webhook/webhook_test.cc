// Webhook matching (rules, scope, namespaceSelector, objectSelector, exemptions), configuration
// parsing and ordering, and the AdmissionReview wire format — no network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "apiserver/admission/testing/fake_source.h"
#include "apiserver/admission/webhook/hook.h"
#include "apiserver/admission/webhook/matching.h"
#include "apiserver/admission/webhook/review.h"
#include "common/api/codec.h"
#include "common/api/proto/admission_v1.pb.h"
#include "common/api/proto/admissionregistration_v1.pb.h"
#include "common/api/testing/builders.h"

namespace ck::apiserver::admission::webhook {
namespace {

namespace arv1 = ::k8s::io::api::admissionregistration::v1;
namespace admv1 = ::k8s::io::api::admission::v1;
namespace corev1 = ::k8s::io::api::core::v1;
using admission::testing::FakeObjectSource;
using api::testing::MakePod;
using ::testing::HasSubstr;

const ResourceInfo* Res(std::string_view group, std::string_view plural) {
  const ResourceInfo* r = FindResource(group, "v1", plural);
  CK_CHECK(r != nullptr) << plural;
  return r;
}

Rule MakeRule(std::vector<std::string> ops, std::vector<std::string> groups, std::vector<std::string> resources,
              std::string scope = "*") {
  Rule r;
  r.operations = std::move(ops);
  r.api_groups = std::move(groups);
  r.api_versions = {"*"};
  r.resources = std::move(resources);
  r.scope = std::move(scope);
  return r;
}

corev1::Namespace MakeNamespace(std::string name, std::map<std::string, std::string> labels = {}) {
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name(name);
  for (auto& [k, v] : labels) (*ns.mutable_metadata()->mutable_labels())[k] = v;
  return ns;
}

struct RuleCase {
  std::string what;
  Rule rule;
  Operation op;
  std::string group, resource, subresource, ns;
  bool want;
};

TEST(RuleMatches, Table) {
  const std::vector<RuleCase> cases = {
      {"exact pods create", MakeRule({"CREATE"}, {""}, {"pods"}), Operation::kCreate, "", "pods", "", "default", true},
      {"other operation", MakeRule({"CREATE"}, {""}, {"pods"}), Operation::kUpdate, "", "pods", "", "default", false},
      {"operation *", MakeRule({"*"}, {""}, {"pods"}), Operation::kDelete, "", "pods", "", "default", true},
      {"connect via *", MakeRule({"*"}, {""}, {"pods/*"}), Operation::kConnect, "", "pods", "exec", "default", true},
      {"other group", MakeRule({"*"}, {"apps"}, {"pods"}), Operation::kCreate, "", "pods", "", "default", false},
      {"group *", MakeRule({"*"}, {"*"}, {"deployments"}), Operation::kCreate, "apps", "deployments", "", "d", true},
      {"resource * is main only", MakeRule({"*"}, {"*"}, {"*"}), Operation::kUpdate, "", "pods", "status", "d", false},
      {"resource * main", MakeRule({"*"}, {"*"}, {"*"}), Operation::kUpdate, "", "pods", "", "d", true},
      {"*/* subresource", MakeRule({"*"}, {"*"}, {"*/*"}), Operation::kUpdate, "", "pods", "status", "d", true},
      {"*/* main", MakeRule({"*"}, {"*"}, {"*/*"}), Operation::kUpdate, "", "pods", "", "d", true},
      {"pods/* covers pods", MakeRule({"*"}, {""}, {"pods/*"}), Operation::kCreate, "", "pods", "", "d", true},
      {"pods/* covers binding", MakeRule({"*"}, {""}, {"pods/*"}), Operation::kCreate, "", "pods", "binding", "d", true},
      {"pods/status only", MakeRule({"*"}, {""}, {"pods/status"}), Operation::kUpdate, "", "pods", "", "d", false},
      {"pods/status exact", MakeRule({"*"}, {""}, {"pods/status"}), Operation::kUpdate, "", "pods", "status", "d", true},
      {"*/status any status", MakeRule({"*"}, {"*"}, {"*/status"}), Operation::kUpdate, "apps", "deployments", "status", "d", true},
      {"*/status not scale", MakeRule({"*"}, {"*"}, {"*/status"}), Operation::kUpdate, "apps", "deployments", "scale", "d", false},
      {"Namespaced: namespaced write", MakeRule({"*"}, {"*"}, {"*"}, "Namespaced"), Operation::kCreate, "", "pods", "", "d", true},
      {"Namespaced: node", MakeRule({"*"}, {"*"}, {"*"}, "Namespaced"), Operation::kCreate, "", "nodes", "", "", false},
      {"Namespaced: namespace", MakeRule({"*"}, {"*"}, {"*"}, "Namespaced"), Operation::kUpdate, "", "namespaces", "", "x", false},
      {"Cluster: node", MakeRule({"*"}, {"*"}, {"*"}, "Cluster"), Operation::kCreate, "", "nodes", "", "", true},
      {"Cluster: namespace", MakeRule({"*"}, {"*"}, {"*"}, "Cluster"), Operation::kUpdate, "", "namespaces", "", "x", true},
      {"Cluster: pod", MakeRule({"*"}, {"*"}, {"*"}, "Cluster"), Operation::kCreate, "", "pods", "", "d", false},
      {"bad scope", MakeRule({"*"}, {"*"}, {"*"}, "Global"), Operation::kCreate, "", "pods", "", "d", false},
  };
  for (const auto& c : cases) {
    Attributes a;
    a.operation = c.op;
    a.resource = Res(c.group, c.resource);
    a.subresource = c.subresource;
    a.namespace_ = c.ns;
    EXPECT_EQ(RuleMatches(c.rule, a), c.want) << c.what;
  }
}

TEST(RuleMatches, VersionMustMatch) {
  Rule r = MakeRule({"*"}, {""}, {"pods"});
  r.api_versions = {"v2"};
  Attributes a;
  a.resource = Res("", "pods");
  a.namespace_ = "d";
  EXPECT_FALSE(RuleMatches(r, a));
  r.api_versions = {"v2", "v1"};
  EXPECT_TRUE(RuleMatches(r, a));
}

TEST(IsExemptResource, WebhookConfigurationsAreNeverSentToWebhooks) {
  EXPECT_TRUE(IsExemptResource(*Res("admissionregistration.k8s.io", "mutatingwebhookconfigurations")));
  EXPECT_TRUE(IsExemptResource(*Res("admissionregistration.k8s.io", "validatingwebhookconfigurations")));
  EXPECT_FALSE(IsExemptResource(*Res("", "pods")));
}

class SelectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_.Put("namespaces", MakeNamespace("prod", {{"env", "prod"}}));
    source_.Put("namespaces", MakeNamespace("dev", {{"env", "dev"}}));
    hook_.rules = {MakeRule({"*"}, {"*"}, {"*"})};
  }
  Result<bool> Match(Attributes a) { return ShouldCallHook(hook_, a, source_); }
  Attributes PodWrite(std::string ns, const Message* obj, const Message* old = nullptr) {
    Attributes a;
    a.operation = old ? Operation::kUpdate : Operation::kCreate;
    a.resource = Res("", "pods");
    a.namespace_ = std::move(ns);
    a.name = "p";
    a.object = const_cast<Message*>(obj);
    a.old_object = old;
    return a;
  }
  FakeObjectSource source_;
  Hook hook_;
};

api::LabelSelector Sel(std::string_view text) { return *api::LabelSelector::Parse(text); }

TEST_F(SelectorTest, NamespaceSelectorUsesTheNamespaceLabels) {
  corev1::Pod pod = MakePod("p");
  hook_.namespace_selector = Sel("env=prod");
  EXPECT_TRUE(*Match(PodWrite("prod", &pod)));
  EXPECT_FALSE(*Match(PodWrite("dev", &pod)));
  hook_.namespace_selector = Sel("env notin (prod)");
  EXPECT_FALSE(*Match(PodWrite("prod", &pod)));
  EXPECT_TRUE(*Match(PodWrite("dev", &pod)));
}

TEST_F(SelectorTest, MissingNamespaceIsAnInternalErrorOnlyWhenRulesMatch) {
  corev1::Pod pod = MakePod("p");
  hook_.namespace_selector = Sel("env=prod");
  Result<bool> r = Match(PodWrite("ghost", &pod));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInternal);
  EXPECT_EQ(r.status().message(), "Internal error occurred: namespaces \"ghost\" not found");
  hook_.rules = {MakeRule({"DELETE"}, {"*"}, {"*"})};
  EXPECT_FALSE(*Match(PodWrite("ghost", &pod)));
}

TEST_F(SelectorTest, ClusterScopedWritesIgnoreTheNamespaceSelector) {
  hook_.namespace_selector = Sel("env=prod");
  corev1::Node node;
  node.mutable_metadata()->set_name("n1");
  Attributes a;
  a.resource = Res("", "nodes");
  a.name = "n1";
  a.object = &node;
  EXPECT_TRUE(*Match(a));
}

TEST_F(SelectorTest, NamespaceWritesUseTheirOwnNewLabels) {
  hook_.namespace_selector = Sel("env=prod");
  corev1::Namespace fresh = MakeNamespace("new", {{"env", "prod"}});
  Attributes a;
  a.resource = Res("", "namespaces");
  a.name = "new";
  a.object = &fresh;
  EXPECT_TRUE(*Match(a)) << "a Namespace being created matches on its own labels";
  corev1::Namespace relabeled = MakeNamespace("prod", {{"env", "staging"}});
  corev1::Namespace stored = MakeNamespace("prod", {{"env", "prod"}});
  a.operation = Operation::kUpdate;
  a.name = "prod";
  a.object = &relabeled;
  a.old_object = &stored;
  EXPECT_FALSE(*Match(a)) << "an update matches on the new labels";
  a.operation = Operation::kDelete;
  a.object = nullptr;
  EXPECT_TRUE(*Match(a)) << "a delete matches on the stored namespace";
}

TEST_F(SelectorTest, ObjectSelectorMatchesNewOrOldObject) {
  hook_.object_selector = Sel("app=web");
  corev1::Pod web = MakePod("p").Label("app", "web");
  corev1::Pod db = MakePod("p").Label("app", "db");
  EXPECT_TRUE(*Match(PodWrite("dev", &web)));
  EXPECT_FALSE(*Match(PodWrite("dev", &db)));
  EXPECT_TRUE(*Match(PodWrite("dev", &db, &web))) << "the old object's labels count too";
  Attributes del = PodWrite("dev", nullptr, &web);
  del.operation = Operation::kDelete;
  EXPECT_TRUE(*Match(del));
}

TEST_F(SelectorTest, BrokenSelectorFailsOnlyMatchingWrites) {
  hook_.object_selector_error = BadRequest("\"Foo\" is not a valid label selector operator");
  corev1::Pod pod = MakePod("p");
  Result<bool> r = Match(PodWrite("dev", &pod));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("is not a valid label selector operator"));
  hook_.rules = {MakeRule({"*"}, {"apps"}, {"*"})};
  EXPECT_FALSE(*Match(PodWrite("dev", &pod)));
}

arv1::MutatingWebhookConfiguration MutatingConfig(std::string name, std::vector<std::string> hooks) {
  arv1::MutatingWebhookConfiguration c;
  c.mutable_metadata()->set_name(name);
  for (const auto& h : hooks) {
    auto* w = c.add_webhooks();
    w->set_name(h);
    w->mutable_clientconfig()->set_url("https://127.0.0.1:1/" + h);
  }
  return c;
}

TEST(HookSource, OrdersByConfigurationNameThenListAndAppliesDefaults) {
  FakeObjectSource source;
  source.Put(std::string(kMutatingConfigurations), MutatingConfig("zeta", {"z1"}));
  source.Put(std::string(kMutatingConfigurations), MutatingConfig("alpha", {"a2", "a1"}));
  HookSource hooks(source, HookType::kMutating);
  std::vector<std::string> names;
  for (const auto& h : hooks.Hooks()) names.push_back(h->name);
  EXPECT_THAT(names, ::testing::ElementsAre("a2", "a1", "z1"));
  HookRef first = hooks.Hooks()[0];
  EXPECT_EQ(first->configuration, "alpha");
  EXPECT_FALSE(first->ignore_failures);
  EXPECT_EQ(first->timeout, std::chrono::seconds(10));
  EXPECT_TRUE(first->namespace_selector.Empty());
  EXPECT_EQ(first->url, "https://127.0.0.1:1/a2");
}

TEST(HookSource, CachesUntilTheConfigurationChanges) {
  FakeObjectSource source;
  source.Put(std::string(kMutatingConfigurations), MutatingConfig("c", {"h"}));
  HookSource hooks(source, HookType::kMutating);
  HookRef a = hooks.Hooks()[0];
  EXPECT_EQ(hooks.Hooks()[0].get(), a.get()) << "unchanged configuration: parsed once";
  auto changed = MutatingConfig("c", {"h"});
  changed.mutable_webhooks(0)->set_timeoutseconds(99);
  changed.mutable_webhooks(0)->set_failurepolicy("Ignore");
  changed.mutable_webhooks(0)->set_reinvocationpolicy("IfNeeded");
  source.Put(std::string(kMutatingConfigurations), changed);
  HookRef b = hooks.Hooks()[0];
  EXPECT_NE(b.get(), a.get());
  EXPECT_EQ(b->timeout, std::chrono::seconds(30)) << "timeoutSeconds is capped at 30";
  EXPECT_TRUE(b->ignore_failures);
  EXPECT_TRUE(b->reinvoke_if_needed);
  source.Remove(std::string(kMutatingConfigurations), "", "c");
  EXPECT_TRUE(hooks.Hooks().empty());
}

TEST(HookSource, ParsesSelectorsAndServiceReference) {
  arv1::ValidatingWebhookConfiguration c;
  c.mutable_metadata()->set_name("v");
  auto* w = c.add_webhooks();
  w->set_name("v.example.com");
  auto* svc = w->mutable_clientconfig()->mutable_service();
  svc->set_namespace_("hooks");
  svc->set_name("checker");
  svc->set_path("/validate");
  w->mutable_clientconfig()->set_cabundle("PEM");
  (*w->mutable_namespaceselector()->mutable_matchlabels())["env"] = "prod";
  auto* expr = w->mutable_objectselector()->add_matchexpressions();
  expr->set_key("app");
  expr->set_operator_("Foo");
  auto hooks = ParseConfiguration(c, HookType::kValidating);
  ASSERT_EQ(hooks.size(), 1u);
  const Hook& h = *hooks[0];
  ASSERT_TRUE(h.service.has_value());
  EXPECT_EQ(h.service->namespace_, "hooks");
  EXPECT_EQ(h.service->port, 443);
  EXPECT_EQ(h.service->path, "/validate");
  EXPECT_EQ(h.ca_pem, "PEM");
  EXPECT_EQ(h.namespace_selector.String(), "env=prod");
  EXPECT_FALSE(h.object_selector_error.ok());
}

TEST(Review, RequestCarriesTheWriteAsUpstreamDoes) {
  corev1::Pod pod = MakePod("web").Namespace("shop").Label("app", "web");
  corev1::Pod old = MakePod("web").Namespace("shop");
  UserInfo user{"jane", "u-1", {"dev", "system:authenticated"}, {{"scopes", {"a", "b"}}}};
  Attributes a;
  a.operation = Operation::kUpdate;
  a.resource = Res("", "pods");
  a.namespace_ = "shop";
  a.name = "web";
  a.user = &user;
  a.dry_run = true;
  a.object = &pod;
  a.old_object = &old;
  auto json = BuildReviewRequest(a, "uid-1");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_THAT(*json, HasSubstr(R"({"kind":"AdmissionReview","apiVersion":"admission.k8s.io/v1","request":{"uid":"uid-1")"));
  EXPECT_THAT(*json, HasSubstr(R"("kind":{"group":"","version":"v1","kind":"Pod"})"));
  EXPECT_THAT(*json, HasSubstr(R"("resource":{"group":"","version":"v1","resource":"pods"})"));
  EXPECT_THAT(*json, HasSubstr(R"("requestKind":{"group":"","version":"v1","kind":"Pod"})"));
  EXPECT_THAT(*json, HasSubstr(R"("name":"web","namespace":"shop","operation":"UPDATE")"));
  EXPECT_THAT(*json, HasSubstr(R"("userInfo":{"username":"jane","uid":"u-1","groups":["dev","system:authenticated"],"extra":{"scopes":["a","b"]}})"));
  EXPECT_THAT(*json, HasSubstr(R"("object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"shop")"));
  EXPECT_THAT(*json, HasSubstr(R"("oldObject":{"kind":"Pod","apiVersion":"v1")"));
  EXPECT_THAT(*json, HasSubstr(R"("dryRun":true)"));
  EXPECT_THAT(*json, HasSubstr(R"("options":{"kind":"UpdateOptions","apiVersion":"meta.k8s.io/v1","dryRun":["All"]})"));
  // It decodes back as an AdmissionReview.
  admv1::AdmissionReview back;
  ASSERT_TRUE(api::FromJson(*json, &back, {.field_validation = api::FieldValidation::kStrict}).ok());
  EXPECT_EQ(back.request().userinfo().extra().at("scopes").items_size(), 2);
}

TEST(Review, DeleteHasNullObject) {
  corev1::Pod old = MakePod("web").Namespace("shop");
  Attributes a;
  a.operation = Operation::kDelete;
  a.resource = Res("", "pods");
  a.namespace_ = "shop";
  a.name = "web";
  a.old_object = &old;
  auto json = BuildReviewRequest(a, "u");
  ASSERT_TRUE(json.ok());
  EXPECT_THAT(*json, HasSubstr(R"("object":null)"));
  EXPECT_THAT(*json, HasSubstr(R"("options":{"kind":"DeleteOptions","apiVersion":"meta.k8s.io/v1"})"));
}

std::string Answer(std::string response, std::string api_version = "admission.k8s.io/v1") {
  return R"({"apiVersion":")" + api_version + R"(","kind":"AdmissionReview","response":)" + response + "}";
}

TEST(Review, VerifyAcceptsAPatch) {
  // "W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d" = [{"op":"add","path":"/a","value":1}]
  auto r = VerifyReviewResponse(
      Answer(R"({"uid":"u","allowed":true,"patchType":"JSONPatch","patch":"W3sib3AiOiJhZGQiLCJwYXRoIjoiL2EiLCJ2YWx1ZSI6MX1d",)"
             R"("warnings":["w1"],"auditAnnotations":{"k":"v"}})"),
      "u", true);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->allowed);
  EXPECT_EQ(r->patch, R"([{"op":"add","path":"/a","value":1}])");
  EXPECT_EQ(r->patch_type, "JSONPatch");
  EXPECT_THAT(r->warnings, ::testing::ElementsAre("w1"));
  EXPECT_EQ(r->audit_annotations.at("k"), "v");
}

TEST(Review, VerifyRejectsWhatUpstreamRejects) {
  struct Case {
    std::string body;
    bool mutating;
    std::string error;
  };
  const std::vector<Case> cases = {
      {R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"})", true, "webhook response was absent"},
      {Answer(R"({"uid":"other","allowed":true})"), true, R"(expected response.uid="u", got "other")"},
      {Answer(R"({"uid":"u","allowed":true})", "admission.k8s.io/v1beta1"), true,
       "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got admission.k8s.io/v1beta1, Kind=AdmissionReview"},
      {Answer(R"({"uid":"u","allowed":true,"patch":"W10="})"), true, "webhook returned response.patch but not response.patchType"},
      {Answer(R"({"uid":"u","allowed":true,"patchType":"JSONPatch"})"), true, "webhook returned response.patchType but not response.patch"},
      {Answer(R"({"uid":"u","allowed":true,"patch":"W10=","patchType":"JSONPatch"})"), false, "validating webhook may not return response.patch"},
      {Answer(R"({"uid":"u","allowed":true,"patchType":"JSONPatch"})"), false, "validating webhook may not return response.patchType"},
      {"not json", true, "json:"},
  };
  for (const auto& c : cases) {
    auto r = VerifyReviewResponse(c.body, "u", c.mutating);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_THAT(r.status().message(), HasSubstr(c.error)) << c.body;
  }
}

TEST(Review, DenialStatusFollowsToStatusErr) {
  api::metav1::Status s;
  s.set_message("no privileged pods");
  s.set_code(403);
  Status d = DenialStatus("policy.example.com", s);
  EXPECT_EQ(d.code(), Code::kForbidden);
  EXPECT_EQ(d.message(), "admission webhook \"policy.example.com\" denied the request: no privileged pods");

  s.clear_message();
  s.set_reason("NotAllowed");
  s.set_code(200);
  d = DenialStatus("w", s);
  EXPECT_EQ(d.code(), Code::kBadRequest) << "a denial below 400 becomes 400";
  EXPECT_EQ(d.message(), "admission webhook \"w\" denied the request: NotAllowed");

  d = DenialStatus("w", std::nullopt);
  EXPECT_EQ(d.http_status(), 400);
  EXPECT_EQ(d.message(), "admission webhook \"w\" denied the request without explanation");

  s.set_code(422);
  EXPECT_EQ(DenialStatus("w", s).code(), Code::kInvalid);
  s.set_code(418);
  EXPECT_EQ(DenialStatus("w", s).code(), Code::kBadRequest);
}

TEST(Review, UidsAreVersion4) {
  FakeRandom random;
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::string a = NewUid(random), b = NewUid(random);
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ck::apiserver::admission::webhook
