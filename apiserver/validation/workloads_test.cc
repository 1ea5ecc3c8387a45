// Pods and the workload kinds (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob) and
// the cron parser: each rule with an object that breaks it and one that passes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "apiserver/validation/cron.h"
#include "apiserver/validation/test_builders.h"

namespace ck::apiserver {
namespace {

using namespace testing;  // NOLINT: builders
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// One rule: `mutate` a valid object; `want` is the first characters of an expected error, or ""
// when the object must stay valid.
template <typename T>
struct WorkloadRule {
  std::string name;
  std::function<void(T&)> mutate;
  std::string want;
};

template <typename T>
void RunWorkloadRules(std::string_view group, std::string_view kind, const T& base, const std::vector<WorkloadRule<T>>& rules) {
  ASSERT_THAT(Errors(group, kind, base), IsEmpty()) << "the base object must be valid" << Dump(Errors(group, kind, base));
  for (const auto& rule : rules) {
    SCOPED_TRACE(rule.name);
    T obj = base;
    rule.mutate(obj);
    auto errs = Errors(group, kind, obj);
    if (rule.want.empty()) {
      EXPECT_THAT(errs, IsEmpty()) << Dump(errs);
    } else {
      EXPECT_TRUE(Has(errs, rule.want)) << "want " << rule.want << Dump(errs);
    }
  }
}

corev1::Container& C0(corev1::Pod& p) { return *p.mutable_spec()->mutable_containers(0); }

TEST(PodTest, Rules) {
  using R = WorkloadRule<corev1::Pod>;
  std::vector<R> rules = {
      {"containers required", [](auto& p) { p.mutable_spec()->clear_containers(); }, "spec.containers: Required value"},
      {"image required", [](auto& p) { C0(p).clear_image(); }, "spec.containers[0].image: Required value"},
      {"image whitespace", [](auto& p) { C0(p).set_image(" nginx"); },
       "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing whitespace"},
      {"container name DNS label", [](auto& p) { C0(p).set_name("App"); }, "spec.containers[0].name: Invalid value: \"App\""},
      {"unique names across init and regular containers",
       [](auto& p) { *p.mutable_spec()->add_initcontainers() = MakeContainer("app", "busybox"); },
       "spec.initContainers[0].name: Duplicate value: \"app\""},
      {"unique regular container names", [](auto& p) { *p.mutable_spec()->add_containers() = MakeContainer("app"); },
       "spec.containers[1].name: Duplicate value: \"app\""},
      {"distinct names pass", [](auto& p) { *p.mutable_spec()->add_initcontainers() = MakeContainer("init", "busybox"); }, ""},
      {"port range", [](auto& p) { C0(p).add_ports()->set_containerport(70000); },
       "spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
      {"port required", [](auto& p) { C0(p).add_ports()->set_name("http"); },
       "spec.containers[0].ports[0].containerPort: Required value"},
      {"host port range", [](auto& p) {
         auto* port = C0(p).add_ports();
         port->set_containerport(80);
         port->set_hostport(-1);
       },
       "spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive"},
      {"port names unique", [](auto& p) {
         for (int n : {80, 81}) {
           auto* port = C0(p).add_ports();
           port->set_containerport(n);
           port->set_name("http");
         }
       },
       "spec.containers[0].ports[1].name: Duplicate value: \"http\""},
      {"port name syntax", [](auto& p) {
         auto* port = C0(p).add_ports();
         port->set_containerport(80);
         port->set_name("8080");
       },
       "spec.containers[0].ports[0].name: Invalid value: \"8080\": must contain at least one letter (a-z)"},
      {"protocol values", [](auto& p) {
         auto* port = C0(p).add_ports();
         port->set_containerport(80);
         port->set_protocol("ICMP");
       },
       "spec.containers[0].ports[0].protocol: Unsupported value: \"ICMP\": supported values: \"SCTP\", \"TCP\", \"UDP\""},
      {"env name required", [](auto& p) { C0(p).add_env()->set_value("x"); }, "spec.containers[0].env[0].name: Required value"},
      {"env name printable", [](auto& p) { C0(p).add_env()->set_name("A=B"); },
       "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of "
       "printable ASCII characters other than '='"},
      {"env name relaxed rule accepts dots and digits", [](auto& p) { C0(p).add_env()->set_name("1.FOO-bar"); }, ""},
      {"env valueFrom needs a source", [](auto& p) {
         auto* e = C0(p).add_env();
         e->set_name("X");
         e->mutable_valuefrom();
       },
       "spec.containers[0].env[0].valueFrom: Invalid value: \"\": must specify one of: `fieldRef`, `resourceFieldRef`, "
       "`configMapKeyRef` or `secretKeyRef`"},
      {"env fieldRef supported paths", [](auto& p) {
         auto* e = C0(p).add_env();
         e->set_name("X");
         e->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("status.phase");
       },
       "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: \"status.phase\""},
      {"env fieldRef pod IP", [](auto& p) {
         auto* e = C0(p).add_env();
         e->set_name("POD_IP");
         e->mutable_valuefrom()->mutable_fieldref()->set_fieldpath("status.podIP");
       },
       ""},
      {"volume names unique", [](auto& p) {
         for (int i = 0; i < 2; ++i) {
           auto* v = p.mutable_spec()->add_volumes();
           v->set_name("data");
           v->mutable_volumesource()->mutable_emptydir();
         }
       },
       "spec.volumes[1].name: Duplicate value: \"data\""},
      {"volume mount must name a volume", [](auto& p) {
         auto* m = C0(p).add_volumemounts();
         m->set_name("data");
         m->set_mountpath("/data");
       },
       "spec.containers[0].volumeMounts[0].name: Not found: \"data\""},
      {"volume mount of an existing volume", [](auto& p) {
         auto* v = p.mutable_spec()->add_volumes();
         v->set_name("data");
         v->mutable_volumesource()->mutable_emptydir();
         auto* m = C0(p).add_volumemounts();
         m->set_name("data");
         m->set_mountpath("/data");
       },
       ""},
      {"one volume type only", [](auto& p) {
         auto* v = p.mutable_spec()->add_volumes();
         v->set_name("data");
         v->mutable_volumesource()->mutable_emptydir();
         v->mutable_volumesource()->mutable_hostpath()->set_path("/tmp");
       },
       "spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type"},
      {"secret volume needs a name", [](auto& p) {
         auto* v = p.mutable_spec()->add_volumes();
         v->set_name("certs");
         v->mutable_volumesource()->mutable_secret();
       },
       "spec.volumes[0].secret.secretName: Required value"},
      {"requests <= limits", [](auto& p) {
         auto* r = C0(p).mutable_resources();
         (*r->mutable_requests())["cpu"].set_string("2");
         (*r->mutable_limits())["cpu"].set_string("1");
       },
       "spec.containers[0].resources.requests: Invalid value: \"2\": must be less than or equal to cpu limit of 1"},
      {"requests within limits", [](auto& p) {
         auto* r = C0(p).mutable_resources();
         (*r->mutable_requests())["memory"].set_string("128Mi");
         (*r->mutable_limits())["memory"].set_string("0.25Gi");
       },
       ""},
      {"resource names", [](auto& p) { (*C0(p).mutable_resources()->mutable_limits())["gpu"].set_string("1"); },
       "spec.containers[0].resources.limits[gpu]: Invalid value: \"gpu\": must be a standard resource type or fully qualified"},
      {"negative quantity", [](auto& p) { (*C0(p).mutable_resources()->mutable_requests())["cpu"].set_string("-1"); },
       "spec.containers[0].resources.requests[cpu]: Invalid value: \"-1\": must be greater than or equal to 0"},
      {"extended resources need equal limits", [](auto& p) {
         (*C0(p).mutable_resources()->mutable_requests())["example.com/gpu"].set_string("1");
       },
       "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"},
      {"restartPolicy values", [](auto& p) { p.mutable_spec()->set_restartpolicy("Sometimes"); },
       "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\""},
      {"dnsPolicy values", [](auto& p) { p.mutable_spec()->set_dnspolicy("Custom"); },
       "spec.dnsPolicy: Unsupported value: \"Custom\": supported values: \"ClusterFirstWithHostNet\", \"ClusterFirst\", "
       "\"Default\", \"None\""},
      {"dnsPolicy None needs dnsConfig", [](auto& p) { p.mutable_spec()->set_dnspolicy("None"); },
       "spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"},
      {"probe needs a handler", [](auto& p) { C0(p).mutable_livenessprobe(); },
       "spec.containers[0].livenessProbe: Required value: must specify a handler type"},
      {"probe takes one handler", [](auto& p) {
         auto* h = C0(p).mutable_readinessprobe()->mutable_handler();
         h->mutable_exec()->add_command("true");
         h->mutable_tcpsocket()->mutable_port()->set_intval(80);
       },
       "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"},
      {"probe with one handler", [](auto& p) { C0(p).mutable_readinessprobe()->mutable_handler()->mutable_exec()->add_command("true"); }, ""},
      {"liveness successThreshold must be 1", [](auto& p) {
         auto* pr = C0(p).mutable_livenessprobe();
         pr->mutable_handler()->mutable_exec()->add_command("true");
         pr->set_successthreshold(2);
       },
       "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
      {"init containers may not have probes", [](auto& p) {
         auto c = MakeContainer("init", "busybox");
         c.mutable_livenessprobe()->mutable_handler()->mutable_exec()->add_command("true");
         *p.mutable_spec()->add_initcontainers() = c;
       },
       "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"},
      {"nodeSelector labels", [](auto& p) { (*p.mutable_spec()->mutable_nodeselector())["disk"] = "-ssd"; },
       "spec.nodeSelector: Invalid value: \"-ssd\""},
      {"toleration operator", [](auto& p) {
         auto* t = p.mutable_spec()->add_tolerations();
         t->set_key("k");
         t->set_operator_("Maybe");
       },
       "spec.tolerations[0].operator: Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\""},
      {"toleration empty key needs Exists", [](auto& p) { p.mutable_spec()->add_tolerations()->set_operator_("Equal"); },
       "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means "
       "\"match all values and all keys\""},
      {"tolerationSeconds needs NoExecute", [](auto& p) {
         auto* t = p.mutable_spec()->add_tolerations();
         t->set_key("k");
         t->set_operator_("Exists");
         t->set_effect("NoSchedule");
         t->set_tolerationseconds(30);
       },
       "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"},
      {"node affinity operator", [](auto& p) {
         auto* term = p.mutable_spec()->mutable_affinity()->mutable_nodeaffinity()
                          ->mutable_requiredduringschedulingignoredduringexecution()->add_nodeselectorterms();
         auto* req = term->add_matchexpressions();
         req->set_key("zone");
         req->set_operator_("Near");
       },
       "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0]."
       "operator: Invalid value: \"Near\": not a valid selector operator"},
      {"node affinity needs terms", [](auto& p) {
         p.mutable_spec()->mutable_affinity()->mutable_nodeaffinity()->mutable_requiredduringschedulingignoredduringexecution();
       },
       "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required value: must have "
       "at least one node selector term"},
      {"pod affinity topologyKey", [](auto& p) {
         p.mutable_spec()->mutable_affinity()->mutable_podantiaffinity()->add_requiredduringschedulingignoredduringexecution();
       },
       "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: Required value: can not be empty"},
      {"affinity weight", [](auto& p) {
         auto* w = p.mutable_spec()->mutable_affinity()->mutable_podaffinity()->add_preferredduringschedulingignoredduringexecution();
         w->set_weight(101);
         w->mutable_podaffinityterm()->set_topologykey("kubernetes.io/hostname");
       },
       "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: 101: must be in the range 1-100"},
      {"topology spread maxSkew", [](auto& p) {
         auto* c = p.mutable_spec()->add_topologyspreadconstraints();
         c->set_topologykey("zone");
         c->set_whenunsatisfiable("DoNotSchedule");
       },
       "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero"},
      {"topology spread action", [](auto& p) {
         auto* c = p.mutable_spec()->add_topologyspreadconstraints();
         c->set_maxskew(1);
         c->set_topologykey("zone");
         c->set_whenunsatisfiable("Sometimes");
       },
       "spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: \"Sometimes\": supported values: "
       "\"DoNotSchedule\", \"ScheduleAnyway\""},
      {"topology spread duplicate pair", [](auto& p) {
         for (int i = 0; i < 2; ++i) {
           auto* c = p.mutable_spec()->add_topologyspreadconstraints();
           c->set_maxskew(1);
           c->set_topologykey("zone");
           c->set_whenunsatisfiable("DoNotSchedule");
         }
       },
       "spec.topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}: Duplicate value: \"{zone, DoNotSchedule}\""},
      {"valid topology spread", [](auto& p) {
         auto* c = p.mutable_spec()->add_topologyspreadconstraints();
         c->set_maxskew(1);
         c->set_topologykey("topology.kubernetes.io/zone");
         c->set_whenunsatisfiable("ScheduleAnyway");
         (*c->mutable_labelselector()->mutable_matchlabels())["app"] = "web";
       },
       ""},
      {"hostNetwork hostPort must match", [](auto& p) {
         p.mutable_spec()->set_hostnetwork(true);
         auto* port = C0(p).add_ports();
         port->set_containerport(8080);
         port->set_hostport(9090);
       },
       "spec.containers[0].ports[0].hostPort: Invalid value: 9090: must match `containerPort` when `hostNetwork` is true"},
      {"host ports do not collide", [](auto& p) {
         *p.mutable_spec()->add_containers() = MakeContainer("side");
         for (int i = 0; i < 2; ++i) {
           auto* port = p.mutable_spec()->mutable_containers(i)->add_ports();
           port->set_containerport(80 + i);
           port->set_hostport(8080);
         }
       },
       "spec.containers[1].ports[0].hostPort: Duplicate value: \"TCP//8080\""},
      {"activeDeadlineSeconds range", [](auto& p) { p.mutable_spec()->set_activedeadlineseconds(0); },
       "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"},
      {"ephemeral containers only through their subresource", [](auto& p) {
         p.mutable_spec()->add_ephemeralcontainers()->mutable_ephemeralcontainercommon()->set_name("debug");
       },
       "spec.ephemeralContainers: Forbidden: cannot be set on create"},
      {"runAsUser range", [](auto& p) { p.mutable_spec()->mutable_securitycontext()->set_runasuser(-1); },
       "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 4294967295, inclusive"},
      {"serviceAccountName", [](auto& p) { p.mutable_spec()->set_serviceaccountname("Default"); },
       "spec.serviceAccountName: Invalid value: \"Default\""},
      {"hostname label", [](auto& p) { p.mutable_spec()->set_hostname("web.local"); },
       "spec.hostname: Invalid value: \"web.local\": must not contain dots"},
  };
  RunWorkloadRules<corev1::Pod>("", "Pod", MakePod("web").Label("app", "web").Build(), rules);
}

TEST(PodTest, UpdateRules) {
  auto old = Stored(Defaulted("", "Pod", MakePod("web").Build()));
  auto image = old;
  image.mutable_spec()->mutable_containers(0)->set_image("nginx:1.28");
  EXPECT_THAT(Errors("", "Pod", image, &old), IsEmpty());

  auto toleration = old;
  auto* t = toleration.mutable_spec()->add_tolerations();
  t->set_key("k");
  t->set_operator_("Exists");
  EXPECT_THAT(Errors("", "Pod", toleration, &old), IsEmpty());

  auto restart = old;
  restart.mutable_spec()->set_restartpolicy("Never");
  auto errs = Errors("", "Pod", restart, &old);
  ASSERT_EQ(errs.size(), 1u) << Dump(errs);
  EXPECT_THAT(errs[0], ::testing::StartsWith(
                           "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                           "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                           "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                           "previously negative)\n"));
  EXPECT_THAT(errs[0], ::testing::HasSubstr("restartPolicy: \"Never\""));

  auto more = old;
  *more.mutable_spec()->add_containers() = MakeContainer("side");
  EXPECT_THAT(Errors("", "Pod", more, &old), ElementsAre("spec.containers: Forbidden: pod updates may not add or remove containers"));

  auto deadline = old;
  deadline.mutable_spec()->set_activedeadlineseconds(30);
  auto longer = Stored(deadline);
  longer.mutable_spec()->set_activedeadlineseconds(60);
  EXPECT_THAT(Errors("", "Pod", deadline, &old), IsEmpty());
  EXPECT_THAT(Errors("", "Pod", longer, &deadline),
              ElementsAre("spec.activeDeadlineSeconds: Invalid value: 60: must be less than or equal to previous value"));
}

TEST(PodTest, BindingTargetsANode) {
  corev1::Binding b;
  b.mutable_target()->set_kind("Pod");
  EXPECT_THAT(Errors("", "Binding", b),
              ElementsAre("target.kind: Unsupported value: \"Pod\": supported values: \"Node\", \"<empty>\"",
                          "target.name: Required value"));
  b.mutable_target()->set_kind("Node");
  b.mutable_target()->set_name("node-1");
  EXPECT_THAT(Errors("", "Binding", b), IsEmpty());
}

// ---- apps -------------------------------------------------------------------------------------------

TEST(DeploymentTest, Rules) {
  using D = v::appsv1::Deployment;
  std::vector<WorkloadRule<D>> rules = {
      {"selector required", [](auto& d) { d.mutable_spec()->clear_selector(); }, "spec.selector: Required value"},
      {"selector must match labels", [](auto& d) {
         (*d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "other";
       },
       "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"},
      {"empty selector", [](auto& d) { d.mutable_spec()->mutable_selector()->clear_matchlabels(); },
       "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), "
       "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"},
      {"matchExpressions selector", [](auto& d) {
         d.mutable_spec()->mutable_selector()->clear_matchlabels();
         auto* e = d.mutable_spec()->mutable_selector()->add_matchexpressions();
         e->set_key("app");
         e->set_operator_("In");
         e->add_values("web");
       },
       ""},
      {"bad selector operator", [](auto& d) {
         auto* e = d.mutable_spec()->mutable_selector()->add_matchexpressions();
         e->set_key("app");
         e->set_operator_("Like");
       },
       "spec.selector.matchExpressions[0].operator: Invalid value: \"Like\": not a valid selector operator"},
      {"replicas >= 0", [](auto& d) { d.mutable_spec()->set_replicas(-1); },
       "spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
      {"zero replicas", [](auto& d) { d.mutable_spec()->set_replicas(0); }, ""},
      {"strategy values", [](auto& d) { d.mutable_spec()->mutable_strategy()->set_type("BlueGreen"); },
       "spec.strategy: Unsupported value: apps.DeploymentStrategy{Type:\"BlueGreen\", RollingUpdate:nil}: supported values: "
       "\"Recreate\", \"RollingUpdate\""},
      {"recreate takes no rollingUpdate", [](auto& d) {
         d.mutable_spec()->mutable_strategy()->set_type("Recreate");
         d.mutable_spec()->mutable_strategy()->mutable_rollingupdate();
       },
       "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"},
      {"recreate", [](auto& d) { d.mutable_spec()->mutable_strategy()->set_type("Recreate"); }, ""},
      {"maxSurge and maxUnavailable not both 0", [](auto& d) {
         auto* ru = d.mutable_spec()->mutable_strategy()->mutable_rollingupdate();
         ru->mutable_maxsurge()->set_intval(0);
         ru->mutable_maxunavailable()->set_type(1);
         ru->mutable_maxunavailable()->set_strval("0%");
       },
       "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"0%\"}: may not "
       "be 0 when `maxSurge` is 0"},
      {"bad percent", [](auto& d) {
         auto* ru = d.mutable_spec()->mutable_strategy()->mutable_rollingupdate();
         ru->mutable_maxsurge()->set_type(1);
         ru->mutable_maxsurge()->set_strval("lots");
       },
       "spec.strategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"lots\"}: a valid "
       "percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation "
       "is '[0-9]+%')"},
      {"maxUnavailable <= 100%", [](auto& d) {
         auto* ru = d.mutable_spec()->mutable_strategy()->mutable_rollingupdate();
         ru->mutable_maxunavailable()->set_type(1);
         ru->mutable_maxunavailable()->set_strval("150%");
       },
       "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"150%\"}: must "
       "not be greater than 100%"},
      {"progressDeadlineSeconds > minReadySeconds", [](auto& d) {
         d.mutable_spec()->set_minreadyseconds(700);
       },
       "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"},
      {"template restartPolicy Always", [](auto& d) {
         d.mutable_spec()->mutable_template_()->mutable_spec()->set_restartpolicy("OnFailure");
       },
       "spec.template.spec.restartPolicy: Unsupported value: \"OnFailure\": supported values: \"Always\""},
      {"template pod spec validated", [](auto& d) {
         d.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->clear_image();
       },
       "spec.template.spec.containers[0].image: Required value"},
  };
  RunWorkloadRules<D>("apps", "Deployment", MakeDeployment("web"), rules);
}

TEST(ReplicaSetTest, RulesAndSelectorImmutability) {
  v::appsv1::ReplicaSet rs;
  SetMeta(rs.mutable_metadata(), "web-1", "default");
  (*rs.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  *rs.mutable_spec()->mutable_template_() = MakeTemplate("web");
  EXPECT_THAT(Errors("apps", "ReplicaSet", rs), IsEmpty());
  auto neg = rs;
  neg.mutable_spec()->set_replicas(-2);
  EXPECT_THAT(Errors("apps", "ReplicaSet", neg), ElementsAre("spec.replicas: Invalid value: -2: must be greater than or equal to 0"));
  auto old = Stored(Defaulted("apps", "ReplicaSet", rs));
  auto changed = old;
  (*changed.mutable_spec()->mutable_selector()->mutable_matchlabels())["tier"] = "x";
  (*changed.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["tier"] = "x";
  EXPECT_TRUE(Has(Errors("apps", "ReplicaSet", changed, &old), "spec.selector: Invalid value: v1.LabelSelector{"));
  auto scaled = old;
  scaled.mutable_spec()->set_replicas(5);
  EXPECT_THAT(Errors("apps", "ReplicaSet", scaled, &old), IsEmpty());
}

v::appsv1::StatefulSet MakeStatefulSet() {
  v::appsv1::StatefulSet s;
  SetMeta(s.mutable_metadata(), "db", "default");
  (*s.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "db";
  *s.mutable_spec()->mutable_template_() = MakeTemplate("db");
  s.mutable_spec()->set_servicename("db");
  auto* claim = s.mutable_spec()->add_volumeclaimtemplates();
  claim->mutable_metadata()->set_name("data");
  auto* mount = s.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->add_volumemounts();
  mount->set_name("data");
  mount->set_mountpath("/var/lib/db");
  return s;
}

TEST(StatefulSetTest, Rules) {
  using S = v::appsv1::StatefulSet;
  std::vector<WorkloadRule<S>> rules = {
      {"selector required", [](auto& s) { s.mutable_spec()->clear_selector(); }, "spec.selector: Required value"},
      {"selector must match", [](auto& s) {
         (*s.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "x";
       },
       "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}: `selector` does not match template `labels`"},
      {"podManagementPolicy", [](auto& s) { s.mutable_spec()->set_podmanagementpolicy("Random"); },
       "spec.podManagementPolicy: Invalid value: \"Random\": must be 'OrderedReady' or 'Parallel'"},
      {"updateStrategy", [](auto& s) { s.mutable_spec()->mutable_updatestrategy()->set_type("Sometimes"); },
       "spec.updateStrategy: Invalid value: apps.StatefulSetUpdateStrategy{Type:\"Sometimes\", RollingUpdate:nil}: must be "
       "'RollingUpdate' or 'OnDelete'"},
      {"partition >= 0", [](auto& s) { s.mutable_spec()->mutable_updatestrategy()->mutable_rollingupdate()->set_partition(-1); },
       "spec.updateStrategy.rollingUpdate.partition: Invalid value: -1: must be greater than or equal to 0"},
      {"replicas >= 0", [](auto& s) { s.mutable_spec()->set_replicas(-1); },
       "spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
      {"mounts of claim templates are fine", [](auto& s) { s.mutable_spec()->set_replicas(3); }, ""},
      {"name is a DNS label", [](auto& s) { s.mutable_metadata()->set_name("db.primary"); },
       "metadata.name: Invalid value: \"db.primary\": must not contain dots"},
  };
  RunWorkloadRules<S>("apps", "StatefulSet", MakeStatefulSet(), rules);
}

TEST(StatefulSetTest, UpdatesLimitedToSomeFields) {
  auto old = Stored(Defaulted("apps", "StatefulSet", MakeStatefulSet()));
  auto scaled = old;
  scaled.mutable_spec()->set_replicas(3);
  scaled.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("postgres:17");
  EXPECT_THAT(Errors("apps", "StatefulSet", scaled, &old), IsEmpty());
  auto renamed = old;
  renamed.mutable_spec()->set_servicename("db-headless");
  EXPECT_THAT(Errors("apps", "StatefulSet", renamed, &old),
              ElementsAre("spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', "
                          "'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are "
                          "forbidden"));
}

TEST(DaemonSetTest, Rules) {
  using DS = v::appsv1::DaemonSet;
  DS base;
  SetMeta(base.mutable_metadata(), "node-logger", "kube-system");
  (*base.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "node-logger";
  *base.mutable_spec()->mutable_template_() = MakeTemplate("node-logger");
  std::vector<WorkloadRule<DS>> rules = {
      {"selector must match", [](auto& d) {
         (*d.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "x";
       },
       "spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"x\"}"},
      {"update strategy values", [](auto& d) { d.mutable_spec()->mutable_updatestrategy()->set_type("Now"); },
       "spec.updateStrategy: Unsupported value: apps.DaemonSetUpdateStrategy{Type:\"Now\", RollingUpdate:nil}: supported "
       "values: \"RollingUpdate\", \"OnDelete\""},
      {"maxSurge with maxUnavailable", [](auto& d) {
         auto* ru = d.mutable_spec()->mutable_updatestrategy()->mutable_rollingupdate();
         ru->mutable_maxsurge()->set_intval(1);
         ru->mutable_maxunavailable()->set_intval(1);
       },
       "spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: intstr.IntOrString{Type:0, IntVal:1, StrVal:\"\"}: may not "
       "be set when maxUnavailable is non-zero"},
      {"both zero", [](auto& d) {
         auto* ru = d.mutable_spec()->mutable_updatestrategy()->mutable_rollingupdate();
         ru->mutable_maxsurge()->set_intval(0);
         ru->mutable_maxunavailable()->set_intval(0);
       },
       "spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"},
      {"on delete", [](auto& d) { d.mutable_spec()->mutable_updatestrategy()->set_type("OnDelete"); }, ""},
  };
  RunWorkloadRules<DS>("apps", "DaemonSet", base, rules);
}

TEST(ControllerRevisionTest, DataRequiredAndImmutable) {
  v::appsv1::ControllerRevision r;
  SetMeta(r.mutable_metadata(), "web-5d4f", "default");
  EXPECT_THAT(Errors("apps", "ControllerRevision", r), ElementsAre("data: Required value: data is mandatory"));
  r.mutable_data()->set_raw("{}");
  r.set_revision(1);
  EXPECT_THAT(Errors("apps", "ControllerRevision", r), IsEmpty());
  auto old = Stored(r);
  auto changed = old;
  changed.mutable_data()->set_raw("{\"a\":1}");
  EXPECT_TRUE(Has(Errors("apps", "ControllerRevision", changed, &old), "data: Invalid value: runtime.RawExtension{...}: field is immutable"));
}

// ---- batch ------------------------------------------------------------------------------------------

TEST(JobTest, Rules) {
  using J = v::batchv1::Job;
  std::vector<WorkloadRule<J>> rules = {
      {"restartPolicy Always", [](auto& j) { j.mutable_spec()->mutable_template_()->mutable_spec()->set_restartpolicy("Always"); },
       "spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""},
      {"restartPolicy OnFailure", [](auto& j) { j.mutable_spec()->mutable_template_()->mutable_spec()->set_restartpolicy("OnFailure"); }, ""},
      {"completions >= 0", [](auto& j) { j.mutable_spec()->set_completions(-1); },
       "spec.completions: Invalid value: -1: must be greater than or equal to 0"},
      {"parallelism >= 0", [](auto& j) { j.mutable_spec()->set_parallelism(-3); },
       "spec.parallelism: Invalid value: -3: must be greater than or equal to 0"},
      {"backoffLimit >= 0", [](auto& j) { j.mutable_spec()->set_backofflimit(-1); },
       "spec.backoffLimit: Invalid value: -1: must be greater than or equal to 0"},
      {"completionMode values", [](auto& j) { j.mutable_spec()->set_completionmode("Random"); },
       "spec.completionMode: Unsupported value: \"Random\": supported values: \"NonIndexed\", \"Indexed\""},
      {"indexed needs completions", [](auto& j) {
         j.mutable_spec()->set_completionmode("Indexed");
         j.mutable_spec()->set_parallelism(2);
       },
       "spec.completions: Required value: when completion mode is Indexed"},
      {"indexed", [](auto& j) {
         j.mutable_spec()->set_completionmode("Indexed");
         j.mutable_spec()->set_completions(5);
       },
       ""},
      {"user selector without manualSelector", [](auto& j) {
         (*j.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "x";
         (*j.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "x";
       },
       "spec.selector: Invalid value: v1.LabelSelector{"},
      {"manual selector", [](auto& j) {
         j.mutable_spec()->set_manualselector(true);
         (*j.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "x";
         (*j.mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = "x";
       },
       ""},
      {"podReplacementPolicy values", [](auto& j) { j.mutable_spec()->set_podreplacementpolicy("Eager"); },
       "spec.podReplacementPolicy: Unsupported value: \"Eager\": supported values: \"Failed\", \"TerminatingOrFailed\""},
  };
  RunWorkloadRules<J>("batch", "Job", MakeJob("pi"), rules);
}

TEST(JobTest, TemplateAndSelectorAreImmutable) {
  auto old = Stored(Defaulted("batch", "Job", MakeJob("pi")));
  auto changed = old;
  changed.mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("busybox:1.37");
  EXPECT_THAT(Errors("batch", "Job", changed, &old),
              ElementsAre("spec.template: Invalid value: core.PodTemplateSpec{...}: field is immutable"));
  auto parallel = old;
  parallel.mutable_spec()->set_parallelism(3);
  EXPECT_THAT(Errors("batch", "Job", parallel, &old), IsEmpty());
  auto completions = old;
  completions.mutable_spec()->set_completions(4);
  EXPECT_THAT(Errors("batch", "Job", completions, &old), ElementsAre("spec.completions: Invalid value: 4: field is immutable"));
}

TEST(CronJobTest, Rules) {
  using CJ = v::batchv1::CronJob;
  std::vector<WorkloadRule<CJ>> rules = {
      {"schedule required", [](auto& c) { c.mutable_spec()->clear_schedule(); }, "spec.schedule: Required value"},
      {"five fields", [](auto& c) { c.mutable_spec()->set_schedule("* * * *"); },
       "spec.schedule: Invalid value: \"* * * *\": expected exactly 5 fields, found 4: [* * * *]"},
      {"minute range", [](auto& c) { c.mutable_spec()->set_schedule("61 * * * *"); },
       "spec.schedule: Invalid value: \"61 * * * *\": end of range (61) above maximum (59): 61"},
      {"not a number", [](auto& c) { c.mutable_spec()->set_schedule("x * * * *"); },
       "spec.schedule: Invalid value: \"x * * * *\": failed to parse int from x: strconv.Atoi: parsing \"x\": invalid syntax"},
      {"descriptors", [](auto& c) { c.mutable_spec()->set_schedule("@hourly"); }, ""},
      {"every", [](auto& c) { c.mutable_spec()->set_schedule("@every 1h30m"); }, ""},
      {"bad every", [](auto& c) { c.mutable_spec()->set_schedule("@every soon"); },
       "spec.schedule: Invalid value: \"@every soon\": failed to parse duration @every soon: time: invalid duration \"soon\""},
      {"unknown descriptor", [](auto& c) { c.mutable_spec()->set_schedule("@fortnightly"); },
       "spec.schedule: Invalid value: \"@fortnightly\": unrecognized descriptor: @fortnightly"},
      {"names", [](auto& c) { c.mutable_spec()->set_schedule("0 9 * JAN-MAR mon-fri"); }, ""},
      {"TZ in schedule", [](auto& c) { c.mutable_spec()->set_schedule("TZ=UTC 0 * * * *"); },
       "spec.schedule: Invalid value: \"TZ=UTC 0 * * * *\": cannot use TZ or CRON_TZ in schedule, use timeZone field instead"},
      {"timeZone field", [](auto& c) { c.mutable_spec()->set_timezone("Etc/UTC"); }, ""},
      {"unknown timeZone", [](auto& c) { c.mutable_spec()->set_timezone("Mars/Olympus"); },
       "spec.timeZone: Invalid value: \"Mars/Olympus\": unknown time zone Mars/Olympus"},
      {"Local timeZone", [](auto& c) { c.mutable_spec()->set_timezone("Local"); },
       "spec.timeZone: Invalid value: \"Local\": timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"},
      {"concurrencyPolicy", [](auto& c) { c.mutable_spec()->set_concurrencypolicy("Sometimes"); },
       "spec.concurrencyPolicy: Unsupported value: \"Sometimes\": supported values: \"Allow\", \"Forbid\", \"Replace\""},
      {"job template selector", [](auto& c) {
         (*c.mutable_spec()->mutable_jobtemplate()->mutable_spec()->mutable_selector()->mutable_matchlabels())["a"] = "b";
       },
       "spec.jobTemplate.spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"a\":\"b\"}, "
       "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: `selector` will be auto-generated"},
      {"job template restartPolicy", [](auto& c) {
         c.mutable_spec()->mutable_jobtemplate()->mutable_spec()->mutable_template_()->mutable_spec()->set_restartpolicy("Always");
       },
       "spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\""},
      {"startingDeadlineSeconds", [](auto& c) { c.mutable_spec()->set_startingdeadlineseconds(-1); },
       "spec.startingDeadlineSeconds: Invalid value: -1: must be greater than or equal to 0"},
      {"name at most 52 characters", [](auto& c) { c.mutable_metadata()->set_name(std::string(53, 'a')); },
       "metadata.name: Invalid value: \"" + std::string(53, 'a') + "\": must be no more than 52 characters"},
  };
  RunWorkloadRules<CJ>("batch", "CronJob", MakeCronJob("backup", "*/15 2-4 1,15 * *"), rules);
}

TEST(CronTest, ParsesStandardSpecs) {
  auto every = CronSchedule::Parse("@every 90s");
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->every_seconds, 90);
  auto s = CronSchedule::Parse("*/15 2-4 1,15 * *");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->minute & ~CronSchedule::kStarBit, (1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45));
  EXPECT_EQ(s->hour, (1ull << 2) | (1ull << 3) | (1ull << 4));
  EXPECT_EQ(CronSchedule::Parse("").status().message(), "empty spec string");
  EXPECT_EQ(CronSchedule::Parse("1-2-3 * * * *").status().message(), "too many hyphens: 1-2-3");
  EXPECT_EQ(CronSchedule::Parse("*/0 * * * *").status().message(), "step of range should be a positive number: */0");
  EXPECT_EQ(CronSchedule::Parse("5-1 * * * *").status().message(), "beginning of range (5) beyond end of range (1): 5-1");
  EXPECT_EQ(CronSchedule::Parse("* * 0 * *").status().message(), "beginning of range (0) below minimum (1): 0");
  EXPECT_EQ(CronSchedule::Parse("* * * * 7").status().message(), "end of range (7) above maximum (6): 7");
  EXPECT_EQ(CronSchedule::Parse("TZ=Nowhere/Land 0 * * * *").status().message(),
            "provided bad location Nowhere/Land: unknown time zone Nowhere/Land");
  EXPECT_TRUE(CronSchedule::Parse("CRON_TZ=UTC 0 * * * *").ok());
  EXPECT_EQ(ParseGoDurationNanos("5").status().message(), "time: missing unit in duration \"5\"");
  EXPECT_EQ(ParseGoDurationNanos("5y").status().message(), "time: unknown unit \"y\" in duration \"5y\"");
  EXPECT_EQ(*ParseGoDurationNanos("1.5h"), int64_t{5400} * 1'000'000'000);
}

TEST(CronTest, NextActivation) {
  // 2024-01-01 00:00:00 UTC is a Monday.
  const int64_t monday = 1704067200;
  auto s = CronSchedule::Parse("30 9 * * mon-fri");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->NextUtc(monday), monday + 9 * 3600 + 30 * 60);
  EXPECT_EQ(s->NextUtc(monday + 9 * 3600 + 30 * 60), monday + 24 * 3600 + 9 * 3600 + 30 * 60);
  auto friday = s->NextUtc(monday + 4 * 24 * 3600 + 10 * 3600);  // Friday 10:00 -> next Monday 09:30
  EXPECT_EQ(friday, monday + 7 * 24 * 3600 + 9 * 3600 + 30 * 60);
  auto yearly = CronSchedule::Parse("@yearly");
  ASSERT_TRUE(yearly.ok());
  EXPECT_EQ(yearly->NextUtc(monday), 1735689600);  // 2025-01-01
  auto dom_or_dow = CronSchedule::Parse("0 0 13 * fri");  // the 13th or any Friday
  ASSERT_TRUE(dom_or_dow.ok());
  EXPECT_EQ(dom_or_dow->NextUtc(monday), monday + 4 * 24 * 3600);  // Friday the 5th
}

}  // namespace
}  // namespace ck::apiserver
