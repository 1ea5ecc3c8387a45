// FieldError messages, the 422 message, name rules, ObjectMeta, upstream's exact messages for the
// most common mistakes, and defaulting golden checks.
#include "apiserver/validation/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apiserver/validation/field.h"
#include "apiserver/validation/names.h"
#include "apiserver/validation/test_builders.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/autoscaling_v1.pb.h"

namespace ck::apiserver {
namespace {

using namespace testing;  // NOLINT: builders
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ---- FieldError and the 422 message -------------------------------------------------------------

TEST(FieldErrorTest, MessagesFollowUpstreamErrorBody) {
  using T = FieldError::Type;
  struct Case {
    FieldError e;
    std::string reason, text;
  };
  std::vector<Case> cases = {
      {{T::kRequired, "spec.containers[0].image", "", ""}, "FieldValueRequired", "spec.containers[0].image: Required value"},
      {{T::kRequired, "spec.selector", "", "must be set"}, "FieldValueRequired", "spec.selector: Required value: must be set"},
      {{T::kInvalid, "metadata.name", "\"x\"", "bad"}, "FieldValueInvalid", "metadata.name: Invalid value: \"x\": bad"},
      {{T::kDuplicate, "spec.containers[1].name", "\"a\"", ""}, "FieldValueDuplicate", "spec.containers[1].name: Duplicate value: \"a\""},
      {{T::kNotSupported, "spec.type", "\"x\"", "supported values: \"A\", \"B\""}, "FieldValueNotSupported",
       "spec.type: Unsupported value: \"x\": supported values: \"A\", \"B\""},
      {{T::kForbidden, "spec", "\"ignored\"", "no"}, "FieldValueForbidden", "spec: Forbidden: no"},
      {{T::kTooLong, "data", "\"ignored\"", "must have at most 3 bytes"}, "FieldValueTooLong", "data: Too long: must have at most 3 bytes"},
      {{T::kTooMany, "endpoints", "1001", "must have at most 1000 items"}, "FieldValueTooMany",
       "endpoints: Too many: 1001: must have at most 1000 items"},
      {{T::kNotFound, "spec.containers[0].volumeMounts[0].name", "\"data\"", ""}, "FieldValueNotFound",
       "spec.containers[0].volumeMounts[0].name: Not found: \"data\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.e.Reason(), c.reason);
    EXPECT_EQ(c.e.ToString(), c.text);
  }
}

TEST(FieldErrorTest, ConstructorsRenderValuesLikeGo) {
  v::Path p = v::Path("spec").Child("template").Child("metadata").Index(2).Key("app");
  EXPECT_EQ(p.str(), "spec.template.metadata[2][app]");
  EXPECT_EQ(v::Path("").str(), "[]");
  EXPECT_EQ(v::Q("a\"b\n"), "\"a\\\"b\\n\"");
  EXPECT_EQ(v::NotSupported(v::Path("x"), v::Q("y"), {"A", "B"}).Message(), "Unsupported value: \"y\": supported values: \"A\", \"B\"");
  EXPECT_EQ(v::TooMany(v::Path("x"), 5, 4).Message(), "Too many: 5: must have at most 4 items");
  google::protobuf::Map<std::string, std::string> m;
  EXPECT_EQ(v::GoMap(m), "map[string]string(nil)");
  m["b"] = "2";
  m["a"] = "1";
  EXPECT_EQ(v::GoMap(m), "map[string]string{\"a\":\"1\", \"b\":\"2\"}");
  v::IntOrString pct;
  pct.set_type(1);
  pct.set_strval("25%");
  EXPECT_EQ(v::GoIntOrString(pct), "intstr.IntOrString{Type:1, IntVal:0, StrVal:\"25%\"}");
}

TEST(InvalidMessageTest, OneError) {
  FieldErrors errs = {{FieldError::Type::kRequired, "spec.containers[0].image", "", ""}};
  EXPECT_EQ(InvalidMessage("Pod", "x", errs), "Pod \"x\" is invalid: spec.containers[0].image: Required value");
}

TEST(InvalidMessageTest, SeveralErrorsAreBracketedAndDeduplicated) {
  FieldError a{FieldError::Type::kRequired, "a", "", ""};
  FieldError b{FieldError::Type::kInvalid, "b", "-1", "must be greater than or equal to 0"};
  EXPECT_EQ(InvalidMessage("Deployment.apps", "web", {a, b, a}),
            "Deployment.apps \"web\" is invalid: [a: Required value, b: Invalid value: -1: must be greater than or equal to 0]");
  EXPECT_EQ(InvalidMessage("Pod", "x", {}), "Pod \"x\" is invalid");
}

TEST(InvalidMessageTest, QualifiedKind) {
  EXPECT_EQ(QualifiedKind(Resource("", "Pod")), "Pod");
  EXPECT_EQ(QualifiedKind(Resource("apps", "Deployment")), "Deployment.apps");
  EXPECT_EQ(QualifiedKind(Resource("rbac.authorization.k8s.io", "Role")), "Role.rbac.authorization.k8s.io");
}

// ---- name rules -----------------------------------------------------------------------------------

constexpr const char* kSubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and "
    "end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
constexpr const char* kLabelMsg =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an "
    "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
constexpr const char* kDNS1035Msg =
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and "
    "end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is "
    "'[a-z]([-a-z0-9]*[a-z0-9])?')";

TEST(NamesTest, DNSRules) {
  EXPECT_THAT(v::IsDNS1123Subdomain("web.example-1.com"), IsEmpty());
  EXPECT_THAT(v::IsDNS1123Subdomain("Web"), ElementsAre(kSubdomainMsg));
  EXPECT_THAT(v::IsDNS1123Subdomain("a..b"), ElementsAre(kSubdomainMsg));
  EXPECT_THAT(v::IsDNS1123Subdomain(std::string(254, 'a')), ElementsAre("must be no more than 253 characters"));
  EXPECT_THAT(v::IsDNS1123Label("web-1"), IsEmpty());
  EXPECT_THAT(v::IsDNS1123Label("-web"), ElementsAre(kLabelMsg));
  EXPECT_THAT(v::IsDNS1123Label("a.b"), ElementsAre("must not contain dots"));
  EXPECT_THAT(v::IsDNS1123Label(std::string(64, 'a')), ElementsAre("must be no more than 63 characters"));
  EXPECT_THAT(v::IsDNS1035Label("web"), IsEmpty());
  EXPECT_THAT(v::IsDNS1035Label("1web"), ElementsAre(kDNS1035Msg));
}

TEST(NamesTest, QualifiedNamesAndLabelValues) {
  EXPECT_THAT(v::IsQualifiedName("app.kubernetes.io/name"), IsEmpty());
  EXPECT_THAT(v::IsQualifiedName("MyName"), IsEmpty());
  EXPECT_THAT(v::IsQualifiedName("/name"), ElementsAre("prefix part must be non-empty"));
  EXPECT_THAT(v::IsQualifiedName("example.com/"),
              ElementsAre("name part must be non-empty",
                          "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                          "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                          "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
  EXPECT_THAT(v::IsQualifiedName("a/b/c"),
              ElementsAre("a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                          "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
                          "validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix "
                          "and '/' (e.g. 'example.com/MyName')"));
  EXPECT_THAT(v::IsLabelValue(""), IsEmpty());
  EXPECT_THAT(v::IsLabelValue("my_value.1"), IsEmpty());
  EXPECT_THAT(v::IsLabelValue("-x"),
              ElementsAre("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                          "and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or "
                          "'12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
}

TEST(NamesTest, KeysPortsAndPaths) {
  EXPECT_THAT(v::IsConfigMapKey("app.properties"), IsEmpty());
  EXPECT_THAT(v::IsConfigMapKey("a/b"),
              ElementsAre("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                          "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
  EXPECT_THAT(v::IsConfigMapKey(".."), ElementsAre("must not be '..'"));
  EXPECT_THAT(v::IsValidPortName("http"), IsEmpty());
  EXPECT_THAT(v::IsValidPortName("80"), ElementsAre("must contain at least one letter (a-z)"));
  EXPECT_THAT(v::IsValidPortNum(0), ElementsAre("must be between 1 and 65535, inclusive"));
  EXPECT_THAT(v::ValidateName(v::NameRule::kPathSegment, "a/b", false), ElementsAre("may not contain '/'"));
  EXPECT_THAT(v::ValidateName(v::NameRule::kPathSegment, "..", false), ElementsAre("may not be '..'"));
  EXPECT_THAT(v::ValidateName(v::NameRule::kDNSSubdomain, "web-", true), IsEmpty());  // generateName prefix
  EXPECT_THAT(v::IsValidIP("10.0.0.1"), IsEmpty());
  EXPECT_THAT(v::IsValidIP("fd00::1"), IsEmpty());
  EXPECT_THAT(v::IsValidIP("10.0.0.256"), ElementsAre("must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"));
  EXPECT_THAT(v::IsValidCIDR("10.0.0.0/8"), IsEmpty());
  EXPECT_THAT(v::IsValidCIDR("10.0.0.0/33"), ElementsAre("must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
}

// ---- ObjectMeta -----------------------------------------------------------------------------------

FieldErrors Meta(std::string_view group, std::string_view kind, const v::ObjectMeta& m) {
  const ResourceInfo& r = Resource(group, kind);
  return ValidateObjectMeta(r, m, r.namespaced);
}

v::ObjectMeta NamedMeta(const std::string& name, const std::string& ns = "default") {
  v::ObjectMeta m;
  SetMeta(&m, name, ns);
  return m;
}

TEST(ObjectMetaTest, NameIsRequiredUnlessGenerateName) {
  v::ObjectMeta m = NamedMeta("");
  EXPECT_THAT(Strings(Meta("", "Pod", m)), ElementsAre("metadata.name: Required value: name or generateName is required"));
  m.set_generatename("web-");
  EXPECT_THAT(Strings(Meta("", "Pod", m)), IsEmpty());
  m.set_generatename("Web-");
  EXPECT_THAT(Strings(Meta("", "Pod", m)), ElementsAre(std::string("metadata.generateName: Invalid value: \"Web-\": ") + kSubdomainMsg));
}

TEST(ObjectMetaTest, NameRulesPerKind) {
  EXPECT_THAT(Strings(Meta("", "ConfigMap", NamedMeta("app.config"))), IsEmpty());
  EXPECT_THAT(Strings(Meta("", "Namespace", NamedMeta("dev.team", ""))),
              ElementsAre("metadata.name: Invalid value: \"dev.team\": must not contain dots"));
  EXPECT_THAT(Strings(Meta("", "Service", NamedMeta("1web"))),
              ElementsAre(std::string("metadata.name: Invalid value: \"1web\": ") + kDNS1035Msg));
  EXPECT_THAT(Strings(Meta("rbac.authorization.k8s.io", "ClusterRole", NamedMeta("system:controller:x", ""))), IsEmpty());
  EXPECT_THAT(Strings(Meta("rbac.authorization.k8s.io", "Role", NamedMeta("a/b"))),
              ElementsAre("metadata.name: Invalid value: \"a/b\": may not contain '/'"));
  EXPECT_THAT(Strings(Meta("apps", "StatefulSet", NamedMeta("db.primary"))),
              ElementsAre("metadata.name: Invalid value: \"db.primary\": must not contain dots"));
}

TEST(ObjectMetaTest, NamespacePresenceFollowsScope) {
  EXPECT_THAT(Strings(Meta("", "Pod", NamedMeta("web", ""))), ElementsAre("metadata.namespace: Required value"));
  EXPECT_THAT(Strings(Meta("", "Node", NamedMeta("node-1", "default"))),
              ElementsAre("metadata.namespace: Forbidden: not allowed on this type"));
  EXPECT_THAT(Strings(Meta("", "Pod", NamedMeta("web", "Prod"))),
              ElementsAre(std::string("metadata.namespace: Invalid value: \"Prod\": ") + kLabelMsg));
}

TEST(ObjectMetaTest, LabelsAnnotationsOwnersFinalizers) {
  v::ObjectMeta m = NamedMeta("web");
  (*m.mutable_labels())["app"] = "web";
  (*m.mutable_annotations())["Example.com/Note"] = "any value at all";
  m.add_finalizers("example.com/cleanup");
  EXPECT_THAT(Strings(Meta("", "Pod", m)), IsEmpty());

  (*m.mutable_labels())["bad key!"] = "v";
  (*m.mutable_labels())["tier"] = "-front";
  auto errs = Strings(Meta("", "Pod", m));
  ASSERT_EQ(errs.size(), 2u);
  EXPECT_THAT(errs[0], ::testing::StartsWith("metadata.labels: Invalid value: \"bad key!\": name part must consist of"));
  EXPECT_THAT(errs[1], ::testing::StartsWith("metadata.labels: Invalid value: \"-front\": a valid label must be"));

  v::ObjectMeta big = NamedMeta("web");
  (*big.mutable_annotations())["a"] = std::string(256 * 1024, 'x');
  EXPECT_THAT(Strings(Meta("", "Pod", big)), ElementsAre("metadata.annotations: Too long: must have at most 262144 bytes"));

  v::ObjectMeta owners = NamedMeta("web");
  auto* ref = owners.add_ownerreferences();
  ref->set_apiversion("apps/v1");
  ref->set_kind("ReplicaSet");
  ref->set_name("web-1");
  EXPECT_THAT(Strings(Meta("", "Pod", owners)), ElementsAre("metadata.ownerReferences.uid: Invalid value: \"\": must not be empty"));

  v::ObjectMeta fin = NamedMeta("web");
  fin.add_finalizers("cleanup");
  EXPECT_THAT(Strings(Meta("", "Pod", fin)),
              ElementsAre("metadata.finalizers[0]: Invalid value: \"cleanup\": name is neither a standard finalizer name nor "
                          "is it fully qualified"));
}

TEST(ObjectMetaTest, UpdateKeepsIdentityFields) {
  auto old = Stored(Defaulted("", "ConfigMap", corev1::ConfigMap()));
  SetMeta(old.mutable_metadata(), "cfg", "default");
  auto changed = old;
  changed.mutable_metadata()->set_uid("other");
  changed.mutable_metadata()->set_generation(-1);
  auto errs = Errors("", "ConfigMap", changed, &old);
  EXPECT_TRUE(Has(errs, "metadata.uid: Invalid value: \"other\": field is immutable")) << Dump(errs);
  EXPECT_TRUE(Has(errs, "metadata.generation: Invalid value: -1: must not be decremented")) << Dump(errs);
  auto no_version = old;
  no_version.mutable_metadata()->clear_resourceversion();
  EXPECT_THAT(Errors("", "ConfigMap", no_version, &old),
              ElementsAre("metadata.resourceVersion: Invalid value: \"\": must be specified for an update"));
  auto deleting = old;
  deleting.mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1700000000);
  auto add_finalizer = deleting;
  add_finalizer.mutable_metadata()->add_finalizers("example.com/late");
  EXPECT_THAT(Errors("", "ConfigMap", add_finalizer, &deleting),
              ElementsAre("metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, "
                          "found new finalizers []string{\"example.com/late\"}"));
}

// ---- upstream's messages, byte for byte -----------------------------------------------------------
// Each string below is what kube-apiserver answers (quoted from real clusters' error reports).

// The message of the 422 Status for creating (or updating) `obj`.
template <typename T>
std::string Status422(std::string_view group, std::string_view kind, T obj, const T* old = nullptr) {
  const ResourceInfo& r = Resource(group, kind);
  ApplyDefaults(r, &obj);
  return InvalidMessage(QualifiedKind(r), obj.metadata().name(), ValidateObject(r, obj, old));
}

TEST(UpstreamMessagesTest, InvalidName) {
  corev1::ConfigMap cm;
  SetMeta(cm.mutable_metadata(), "usualConfig", "default");
  EXPECT_EQ(Status422("", "ConfigMap", cm),
            std::string("ConfigMap \"usualConfig\" is invalid: metadata.name: Invalid value: \"usualConfig\": ") + kSubdomainMsg);
}

TEST(UpstreamMessagesTest, MissingImage) {
  auto pod = MakePod("tensorflow-benchmarks-launcher").Build();
  *pod.mutable_spec()->add_initcontainers() = MakeContainer("init", "");
  EXPECT_EQ(Status422("", "Pod", pod),
            "Pod \"tensorflow-benchmarks-launcher\" is invalid: spec.initContainers[0].image: Required value");
  auto d = MakeDeployment("cert-manager");
  d.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->clear_image();
  EXPECT_EQ(Status422("apps", "Deployment", d),
            "Deployment.apps \"cert-manager\" is invalid: spec.template.spec.containers[0].image: Required value");
}

TEST(UpstreamMessagesTest, SelectorDoesNotMatchTemplateLabels) {
  auto d = MakeDeployment("geth-miner-deployment");
  d.mutable_spec()->clear_selector();
  auto* labels = d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels();
  labels->clear();
  (*labels)["app"] = "kuberneteth";
  (*labels)["name"] = "miner-deployment";
  (*labels)["tier"] = "backend";
  EXPECT_EQ(Status422("apps", "Deployment", d),
            "Deployment.apps \"geth-miner-deployment\" is invalid: [spec.selector: Required value, "
            "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"kuberneteth\", "
            "\"name\":\"miner-deployment\", \"tier\":\"backend\"}: `selector` does not match template `labels`]");

  v::appsv1::DaemonSet ds;
  SetMeta(ds.mutable_metadata(), "geth-boot-node-setup-pod", "default");
  auto tpl = MakeTemplate("kuberneteth");
  (*tpl.mutable_metadata()->mutable_labels())["name"] = "bootnode-setup-pod";
  *ds.mutable_spec()->mutable_template_() = tpl;
  EXPECT_EQ(Status422("apps", "DaemonSet", ds),
            "DaemonSet.apps \"geth-boot-node-setup-pod\" is invalid: spec.template.metadata.labels: Invalid value: "
            "map[string]string{\"app\":\"kuberneteth\", \"name\":\"bootnode-setup-pod\"}: `selector` does not match "
            "template `labels`");
}

TEST(UpstreamMessagesTest, SelectorIsImmutable) {
  auto old = Stored(Defaulted("apps", "Deployment", MakeDeployment("kiali-server", "kiali")));
  auto d = old;
  auto* match = d.mutable_spec()->mutable_selector()->mutable_matchlabels();
  match->clear();
  (*match)["app.kubernetes.io/instance"] = "kiali-server";
  (*match)["app.kubernetes.io/name"] = "kiali";
  *d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels() = *match;
  EXPECT_EQ(Status422("apps", "Deployment", d, &old),
            "Deployment.apps \"kiali-server\" is invalid: spec.selector: Invalid value: "
            "v1.LabelSelector{MatchLabels:map[string]string{\"app.kubernetes.io/instance\":\"kiali-server\", "
            "\"app.kubernetes.io/name\":\"kiali\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable");
}

TEST(UpstreamMessagesTest, JobRestartPolicy) {
  auto job = MakeJob("my-job");
  job.mutable_spec()->mutable_template_()->mutable_spec()->clear_restartpolicy();
  EXPECT_EQ(Status422("batch", "Job", job),
            "Job.batch \"my-job\" is invalid: spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", "
            "\"Never\"");
}

// ---- defaulting golden checks ---------------------------------------------------------------------

// What `kubectl apply` of the Kubernetes docs' nginx-deployment and `kubectl get -o yaml` show.
TEST(DefaultsTest, MinimalDeploymentGetsExactlyUpstreamDefaults) {
  v::appsv1::Deployment d;
  SetMeta(d.mutable_metadata(), "nginx-deployment", "default");
  (*d.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "nginx";
  auto* tpl = d.mutable_spec()->mutable_template_();
  (*tpl->mutable_metadata()->mutable_labels())["app"] = "nginx";
  auto* c = tpl->mutable_spec()->add_containers();
  c->set_name("nginx");
  c->set_image("nginx:1.14.2");
  c->add_ports()->set_containerport(80);

  v::appsv1::Deployment want = d;
  auto* s = want.mutable_spec();
  s->set_replicas(1);
  s->set_revisionhistorylimit(10);
  s->set_progressdeadlineseconds(600);
  s->mutable_strategy()->set_type("RollingUpdate");
  auto* ru = s->mutable_strategy()->mutable_rollingupdate();
  ru->mutable_maxsurge()->set_type(1);
  ru->mutable_maxsurge()->set_strval("25%");
  ru->mutable_maxunavailable()->set_type(1);
  ru->mutable_maxunavailable()->set_strval("25%");
  auto* ps = s->mutable_template_()->mutable_spec();
  ps->set_dnspolicy("ClusterFirst");
  ps->set_restartpolicy("Always");
  ps->set_schedulername("default-scheduler");
  ps->mutable_securitycontext();
  ps->set_terminationgraceperiodseconds(30);
  auto* wc = ps->mutable_containers(0);
  wc->set_imagepullpolicy("IfNotPresent");
  wc->mutable_ports(0)->set_protocol("TCP");
  wc->mutable_resources();
  wc->set_terminationmessagepath("/dev/termination-log");
  wc->set_terminationmessagepolicy("File");

  ApplyDefaults(Resource("apps", "Deployment"), &d);
  EXPECT_EQ(d.DebugString(), want.DebugString());
  EXPECT_THAT(ValidateObject(Resource("apps", "Deployment"), d, nullptr), IsEmpty());
}

TEST(DefaultsTest, PodGetsPodLevelDefaults) {
  auto pod = MakePod("web").Image("nginx").Cpu("", "500m").Build();
  pod.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests()->clear();
  auto* probe = pod.mutable_spec()->mutable_containers(0)->mutable_livenessprobe();
  probe->mutable_handler()->mutable_httpget()->mutable_port()->set_intval(8080);
  ApplyDefaults(Resource("", "Pod"), &pod);
  const auto& s = pod.spec();
  EXPECT_EQ(s.restartpolicy(), "Always");
  EXPECT_EQ(s.dnspolicy(), "ClusterFirst");
  EXPECT_EQ(s.schedulername(), "default-scheduler");
  EXPECT_EQ(s.terminationgraceperiodseconds(), 30);
  EXPECT_TRUE(s.has_securitycontext());
  EXPECT_TRUE(s.has_enableservicelinks() && s.enableservicelinks());
  const auto& c = s.containers(0);
  EXPECT_EQ(c.imagepullpolicy(), "Always");  // no tag means :latest
  EXPECT_EQ(c.terminationmessagepath(), "/dev/termination-log");
  EXPECT_EQ(c.terminationmessagepolicy(), "File");
  EXPECT_EQ(c.resources().requests().at("cpu").string(), "500m");  // requests default to limits
  const auto& p = c.livenessprobe();
  EXPECT_EQ(p.timeoutseconds(), 1);
  EXPECT_EQ(p.periodseconds(), 10);
  EXPECT_EQ(p.successthreshold(), 1);
  EXPECT_EQ(p.failurethreshold(), 3);
  EXPECT_EQ(p.handler().httpget().path(), "/");
  EXPECT_EQ(p.handler().httpget().scheme(), "HTTP");
  EXPECT_THAT(ValidateObject(Resource("", "Pod"), pod, nullptr), IsEmpty());
}

TEST(DefaultsTest, ImagePullPolicyFollowsTheTag) {
  struct Case {
    std::string image, policy;
  };
  for (const auto& c : std::vector<Case>{{"nginx", "Always"},
                                        {"nginx:latest", "Always"},
                                        {"nginx:1.27", "IfNotPresent"},
                                        {"localhost:5000/web", "Always"},
                                        {"localhost:5000/web:v2", "IfNotPresent"},
                                        {"nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "IfNotPresent"},
                                        {"Nginx", "IfNotPresent"}}) {
    auto pod = MakePod("web").Image(c.image).Build();
    ApplyDefaults(Resource("", "Pod"), &pod);
    EXPECT_EQ(pod.spec().containers(0).imagepullpolicy(), c.policy) << c.image;
  }
}

TEST(DefaultsTest, Service) {
  auto svc = MakeService("web", 80);
  ApplyDefaults(Resource("", "Service"), &svc);
  const auto& s = svc.spec();
  EXPECT_EQ(s.type(), "ClusterIP");
  EXPECT_EQ(s.sessionaffinity(), "None");
  EXPECT_EQ(s.ports(0).protocol(), "TCP");
  EXPECT_EQ(s.ports(0).targetport().intval(), 80);
  EXPECT_EQ(s.internaltrafficpolicy(), "Cluster");
  EXPECT_EQ(s.ipfamilypolicy(), "SingleStack");
  EXPECT_THAT(s.ipfamilies(), ElementsAre("IPv4"));
  EXPECT_FALSE(s.has_externaltrafficpolicy());

  auto lb = MakeService("lb", 443);
  lb.mutable_spec()->set_type("LoadBalancer");
  lb.mutable_spec()->set_clusterip("10.96.0.10");
  ApplyDefaults(Resource("", "Service"), &lb);
  EXPECT_EQ(lb.spec().externaltrafficpolicy(), "Cluster");
  EXPECT_TRUE(lb.spec().allocateloadbalancernodeports());
  EXPECT_THAT(lb.spec().clusterips(), ElementsAre("10.96.0.10"));

  auto headless = MakeService("db", 5432);
  headless.mutable_spec()->clear_selector();
  headless.mutable_spec()->set_clusterip("None");
  ApplyDefaults(Resource("", "Service"), &headless);
  EXPECT_EQ(headless.spec().ipfamilypolicy(), "RequireDualStack");
}

TEST(DefaultsTest, WorkloadsAndBatch) {
  v::appsv1::StatefulSet sts;
  SetMeta(sts.mutable_metadata(), "db", "default");
  *sts.mutable_spec()->mutable_template_() = MakeTemplate("db");
  ApplyDefaults(Resource("apps", "StatefulSet"), &sts);
  EXPECT_EQ(sts.spec().podmanagementpolicy(), "OrderedReady");
  EXPECT_EQ(sts.spec().updatestrategy().type(), "RollingUpdate");
  EXPECT_TRUE(sts.spec().updatestrategy().rollingupdate().has_partition());
  EXPECT_EQ(sts.spec().persistentvolumeclaimretentionpolicy().whendeleted(), "Retain");
  EXPECT_EQ(sts.spec().persistentvolumeclaimretentionpolicy().whenscaled(), "Retain");
  EXPECT_EQ(sts.spec().replicas(), 1);
  EXPECT_EQ(sts.spec().revisionhistorylimit(), 10);

  v::appsv1::DaemonSet ds;
  ApplyDefaults(Resource("apps", "DaemonSet"), &ds);
  EXPECT_EQ(ds.spec().updatestrategy().type(), "RollingUpdate");
  EXPECT_EQ(ds.spec().updatestrategy().rollingupdate().maxunavailable().intval(), 1);
  EXPECT_TRUE(ds.spec().updatestrategy().rollingupdate().has_maxsurge());
  EXPECT_EQ(ds.spec().revisionhistorylimit(), 10);

  auto job = MakeJob("pi");
  ApplyDefaults(Resource("batch", "Job"), &job);
  const auto& js = job.spec();
  EXPECT_EQ(js.completions(), 1);
  EXPECT_EQ(js.parallelism(), 1);
  EXPECT_EQ(js.backofflimit(), 6);
  EXPECT_EQ(js.completionmode(), "NonIndexed");
  EXPECT_FALSE(js.suspend());
  EXPECT_EQ(js.podreplacementpolicy(), "TerminatingOrFailed");
  const std::string uid = job.metadata().uid();
  EXPECT_EQ(js.selector().matchlabels().at("batch.kubernetes.io/controller-uid"), uid);
  EXPECT_EQ(js.template_().metadata().labels().at("job-name"), "pi");
  EXPECT_EQ(js.template_().metadata().labels().at("controller-uid"), uid);
  EXPECT_THAT(ValidateObject(Resource("batch", "Job"), job, nullptr), IsEmpty());

  auto cj = MakeCronJob("backup", "*/5 * * * *");
  ApplyDefaults(Resource("batch", "CronJob"), &cj);
  EXPECT_EQ(cj.spec().concurrencypolicy(), "Allow");
  EXPECT_FALSE(cj.spec().suspend());
  EXPECT_EQ(cj.spec().successfuljobshistorylimit(), 3);
  EXPECT_EQ(cj.spec().failedjobshistorylimit(), 1);
  EXPECT_FALSE(cj.spec().jobtemplate().spec().has_backofflimit());  // templates keep Job defaults for the Job
  EXPECT_EQ(cj.spec().jobtemplate().spec().template_().spec().dnspolicy(), "ClusterFirst");
}

TEST(DefaultsTest, OtherKinds) {
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name("dev");
  ApplyDefaults(Resource("", "Namespace"), &ns);
  EXPECT_EQ(ns.metadata().labels().at("kubernetes.io/metadata.name"), "dev");
  EXPECT_EQ(ns.status().phase(), "Active");
  EXPECT_THAT(ns.spec().finalizers(), ElementsAre("kubernetes"));

  corev1::Secret secret;
  (*secret.mutable_stringdata())["password"] = "s3cret";
  ApplyDefaults(Resource("", "Secret"), &secret);
  EXPECT_EQ(secret.type(), "Opaque");
  EXPECT_EQ(secret.data().at("password"), "s3cret");
  EXPECT_TRUE(secret.stringdata().empty());

  v::rbacv1::RoleBinding rb;
  auto* subject = rb.add_subjects();
  subject->set_kind("User");
  subject->set_name("jane");
  rb.mutable_roleref()->set_kind("Role");
  ApplyDefaults(Resource("rbac.authorization.k8s.io", "RoleBinding"), &rb);
  EXPECT_EQ(rb.subjects(0).apigroup(), "rbac.authorization.k8s.io");
  EXPECT_EQ(rb.roleref().apigroup(), "rbac.authorization.k8s.io");

  v::schedv1::PriorityClass pc;
  ApplyDefaults(Resource("scheduling.k8s.io", "PriorityClass"), &pc);
  EXPECT_EQ(pc.preemptionpolicy(), "PreemptLowerPriority");

  v::admregv1::ValidatingWebhookConfiguration vwc;
  auto* hook = vwc.add_webhooks();
  hook->mutable_clientconfig()->mutable_service()->set_name("svc");
  hook->add_rules()->mutable_rule();
  ApplyDefaults(Resource("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"), &vwc);
  EXPECT_EQ(hook->failurepolicy(), "Fail");
  EXPECT_EQ(hook->matchpolicy(), "Equivalent");
  EXPECT_EQ(hook->timeoutseconds(), 10);
  EXPECT_TRUE(hook->has_namespaceselector());
  EXPECT_TRUE(hook->has_objectselector());
  EXPECT_EQ(hook->rules(0).rule().scope(), "*");
  EXPECT_EQ(hook->clientconfig().service().port(), 443);

  v::netv1::NetworkPolicy np;
  np.mutable_spec()->add_egress()->add_ports();
  ApplyDefaults(Resource("networking.k8s.io", "NetworkPolicy"), &np);
  EXPECT_THAT(np.spec().policytypes(), ElementsAre("Ingress", "Egress"));
  EXPECT_EQ(np.spec().egress(0).ports(0).protocol(), "TCP");

  v::discv1::EndpointSlice slice;
  slice.add_ports();
  ApplyDefaults(Resource("discovery.k8s.io", "EndpointSlice"), &slice);
  EXPECT_EQ(slice.ports(0).protocol(), "TCP");
  EXPECT_TRUE(slice.ports(0).has_name());
}

TEST(DefaultsTest, QuantitiesRoundUpToMilli) {
  auto pod = MakePod("web").Cpu("0.0001").Build();
  ApplyDefaults(Resource("", "Pod"), &pod);
  EXPECT_EQ(pod.spec().containers(0).resources().requests().at("cpu").string(), "1m");
}

// ---- dispatch, status updates ---------------------------------------------------------------------

TEST(DispatchTest, WrongMessageTypeIsRejected) {
  corev1::ConfigMap cm;
  auto errs = ValidateObject(Resource("", "Pod"), cm, nullptr);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].field, "kind");
}

TEST(DispatchTest, CreateOnlyReviewsNeedNoName) {
  v::authzv1::SelfSubjectAccessReview ssar;
  ssar.mutable_spec()->mutable_resourceattributes()->set_verb("get");
  EXPECT_THAT(ValidateObject(Resource("authorization.k8s.io", "SelfSubjectAccessReview"), ssar, nullptr), IsEmpty());
  v::authzv1::SelfSubjectAccessReview empty;
  EXPECT_THAT(Strings(ValidateObject(Resource("authorization.k8s.io", "SelfSubjectAccessReview"), empty, nullptr)),
              ElementsAre("spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or "
                          "resourceAttributes must be specified"));
}

TEST(SameMessageTest, MapsCompareByContentNotInsertionOrder) {
  corev1::PodTemplateSpec a, b;
  for (int i = 0; i < 40; ++i) (*a.mutable_metadata()->mutable_labels())["k" + std::to_string(i)] = "v";
  for (int i = 39; i >= 0; --i) (*b.mutable_metadata()->mutable_labels())["k" + std::to_string(i)] = "v";
  EXPECT_TRUE(v::SameMessage(a, b));
  (*b.mutable_metadata()->mutable_labels())["k7"] = "w";
  EXPECT_FALSE(v::SameMessage(a, b));
  corev1::PodSpec unset, zero;
  zero.set_terminationgraceperiodseconds(0);  // presence counts, as a nil pointer differs from 0 upstream
  EXPECT_FALSE(v::SameMessage(unset, zero));
}

TEST(SubresourceTest, ScaleReplicasAndTokenRequestExpiration) {
  const ResourceInfo& deployments = Resource("apps", "Deployment");
  const SubresourceInfo* scale_sub = deployments.FindSubresource("scale");
  ASSERT_NE(scale_sub, nullptr);
  k8s::io::api::autoscaling::v1::Scale scale;
  SetMeta(scale.mutable_metadata(), "web", "default");
  scale.mutable_spec()->set_replicas(0);
  EXPECT_THAT(ValidateSubresource(*scale_sub, scale), IsEmpty());
  scale.mutable_spec()->set_replicas(-1);
  EXPECT_THAT(Strings(ValidateSubresource(*scale_sub, scale)),
              ElementsAre("spec.replicas: Invalid value: -1: must be greater than or equal to 0"));

  const SubresourceInfo* token_sub = Resource("", "ServiceAccount").FindSubresource("token");
  ASSERT_NE(token_sub, nullptr);
  k8s::io::api::authentication::v1::TokenRequest req;
  req.mutable_spec()->add_audiences("https://kubernetes.default.svc");
  ApplySubresourceDefaults(*token_sub, &req);
  EXPECT_EQ(req.spec().expirationseconds(), 3600);
  EXPECT_THAT(ValidateSubresource(*token_sub, req), IsEmpty());
  req.mutable_spec()->set_expirationseconds(599);
  EXPECT_THAT(Strings(ValidateSubresource(*token_sub, req)),
              ElementsAre("spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"));
  req.mutable_spec()->set_expirationseconds((int64_t{1} << 32) + 1);
  EXPECT_THAT(Strings(ValidateSubresource(*token_sub, req)),
              ElementsAre("spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 "
                          "seconds"));
}

TEST(StatusUpdateTest, DeploymentStatusRules) {
  auto old = Stored(Defaulted("apps", "Deployment", MakeDeployment("web")));
  auto d = old;
  d.mutable_status()->set_replicas(1);
  d.mutable_status()->set_readyreplicas(2);
  EXPECT_THAT(Strings(ValidateStatusUpdate(Resource("apps", "Deployment"), d, old)),
              ElementsAre("status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"));
  d.mutable_status()->set_readyreplicas(1);
  EXPECT_THAT(ValidateStatusUpdate(Resource("apps", "Deployment"), d, old), IsEmpty());
}

TEST(StatusUpdateTest, PrepareStatusUpdateKeepsStoredSpec) {
  auto old = Stored(Defaulted("apps", "Deployment", MakeDeployment("web")));
  auto d = old;
  d.mutable_spec()->set_replicas(7);
  d.mutable_status()->set_replicas(3);
  (*d.mutable_metadata()->mutable_labels())["touched"] = "yes";
  PrepareStatusUpdate(old, &d);
  EXPECT_EQ(d.spec().replicas(), 1);
  EXPECT_EQ(d.status().replicas(), 3);
  EXPECT_EQ(d.metadata().labels().at("touched"), "yes");
}

TEST(StatusUpdateTest, PodStatusMayNotMoveNodeOrResurrectContainers) {
  auto old = Stored(Defaulted("", "Pod", MakePod("web").Build()));
  old.mutable_spec()->set_restartpolicy("Never");
  auto* cs = old.mutable_status()->add_containerstatuses();
  cs->set_name("app");
  cs->mutable_state()->mutable_terminated()->set_exitcode(0);
  auto p = old;
  p.mutable_spec()->set_nodename("node-1");
  p.mutable_status()->mutable_containerstatuses(0)->mutable_state()->clear_terminated();
  p.mutable_status()->mutable_containerstatuses(0)->mutable_state()->mutable_running();
  EXPECT_THAT(Strings(ValidateStatusUpdate(Resource("", "Pod"), p, old)),
              ElementsAre("status.nodeName: Forbidden: may not be changed directly",
                          "status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state"));
}

TEST(StatusUpdateTest, NamespacePhase) {
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name("dev");
  auto old = Stored(Defaulted("", "Namespace", ns));
  auto n = old;
  n.mutable_status()->set_phase("Terminating");
  EXPECT_THAT(Strings(ValidateStatusUpdate(Resource("", "Namespace"), n, old)),
              ElementsAre("status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"));
}

}  // namespace
}  // namespace ck::apiserver
