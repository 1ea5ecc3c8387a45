// Service and the other kinds: each rule with an object that breaks it and one that passes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "apiserver/validation/test_builders.h"

namespace ck::apiserver {
namespace {

using namespace testing;  // NOLINT: builders
using ::testing::ElementsAre;
using ::testing::IsEmpty;

template <typename T>
struct Rule {
  std::string name;
  std::function<void(T&)> mutate;
  std::string want;  // prefix of an expected error, "" = must be valid
};

template <typename T>
void RunRules(std::string_view group, std::string_view kind, const T& base, const std::vector<Rule<T>>& rules) {
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

// ---- Service ----------------------------------------------------------------------------------------

TEST(ServiceTest, Rules) {
  using S = corev1::Service;
  std::vector<Rule<S>> rules = {
      {"ports required", [](auto& s) { s.mutable_spec()->clear_ports(); }, "spec.ports: Required value"},
      {"headless needs no ports", [](auto& s) {
         s.mutable_spec()->clear_ports();
         s.mutable_spec()->set_clusterip("None");
       },
       ""},
      {"port range", [](auto& s) { s.mutable_spec()->mutable_ports(0)->set_port(0); },
       "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"},
      {"targetPort range", [](auto& s) { s.mutable_spec()->mutable_ports(0)->mutable_targetport()->set_intval(70000); },
       "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
      {"named targetPort", [](auto& s) {
         auto* tp = s.mutable_spec()->mutable_ports(0)->mutable_targetport();
         tp->set_type(1);
         tp->set_strval("http");
       },
       ""},
      {"names required with several ports", [](auto& s) { s.mutable_spec()->add_ports()->set_port(443); },
       "spec.ports[0].name: Required value"},
      {"duplicate ports", [](auto& s) {
         s.mutable_spec()->mutable_ports(0)->set_name("a");
         auto* p = s.mutable_spec()->add_ports();
         p->set_name("b");
         p->set_port(80);
       },
       "spec.ports[1]: Duplicate value: core.ServicePort{Name:\"\", Protocol:\"TCP\", AppProtocol:(*string)(nil), Port:80, "
       "TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:\"\"}, NodePort:0}"},
      {"type values", [](auto& s) { s.mutable_spec()->set_type("Internal"); },
       "spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""},
      {"nodePort only for NodePort", [](auto& s) { s.mutable_spec()->mutable_ports(0)->set_nodeport(30080); },
       "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"},
      {"nodePort", [](auto& s) {
         s.mutable_spec()->set_type("NodePort");
         s.mutable_spec()->mutable_ports(0)->set_nodeport(30080);
       },
       ""},
      {"nodePort syntax", [](auto& s) {
         s.mutable_spec()->set_type("NodePort");
         s.mutable_spec()->mutable_ports(0)->set_nodeport(70000);
       },
       "spec.ports[0].nodePort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
      {"sessionAffinity values", [](auto& s) { s.mutable_spec()->set_sessionaffinity("Sticky"); },
       "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", \"None\""},
      {"clusterIP syntax", [](auto& s) { s.mutable_spec()->set_clusterip("10.96.0.300"); },
       "spec.clusterIPs[0]: Invalid value: \"10.96.0.300\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"},
      {"clusterIP family", [](auto& s) {
         s.mutable_spec()->set_clusterip("fd00::10");
         s.mutable_spec()->add_ipfamilies("IPv4");
       },
       "spec.clusterIPs[0]: Invalid value: \"fd00::10\": expected an IPv4 value as indicated by `ipFamilies[0]`"},
      {"LoadBalancer may not be headless", [](auto& s) {
         s.mutable_spec()->set_type("LoadBalancer");
         s.mutable_spec()->set_clusterip("None");
       },
       "spec.clusterIPs[0]: Invalid value: \"None\": may not be set to 'None' for LoadBalancer services"},
      {"ExternalName needs a name", [](auto& s) {
         s.mutable_spec()->set_type("ExternalName");
         s.mutable_spec()->clear_selector();
       },
       "spec.externalName: Required value"},
      {"ExternalName", [](auto& s) {
         s.mutable_spec()->set_type("ExternalName");
         s.mutable_spec()->set_externalname("db.example.com.");
       },
       ""},
      {"externalTrafficPolicy only when external", [](auto& s) { s.mutable_spec()->set_externaltrafficpolicy("Local"); },
       "spec.externalTrafficPolicy: Invalid value: \"Local\": may only be set for externally-accessible services"},
      {"loadBalancerSourceRanges need LoadBalancer", [](auto& s) { s.mutable_spec()->add_loadbalancersourceranges("10.0.0.0/8"); },
       "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'"},
      {"name is a DNS-1035 label", [](auto& s) { s.mutable_metadata()->set_name("1web"); },
       "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of"},
      {"selector labels", [](auto& s) { (*s.mutable_spec()->mutable_selector())["app"] = "web app"; },
       "spec.selector: Invalid value: \"web app\""},
  };
  RunRules<S>("", "Service", MakeService("web"), rules);
}

TEST(ServiceTest, ClusterIPIsImmutable) {
  auto svc = MakeService("web");
  svc.mutable_spec()->set_clusterip("10.96.0.20");
  auto old = Stored(Defaulted("", "Service", svc));
  auto moved = old;
  moved.mutable_spec()->set_clusterip("10.96.0.21");
  moved.mutable_spec()->set_clusterips(0, "10.96.0.21");
  EXPECT_THAT(Errors("", "Service", moved, &old),
              ElementsAre("spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.21\"}: may not change once set"));
  auto cleared = old;
  cleared.mutable_spec()->clear_clusterip();
  cleared.mutable_spec()->clear_clusterips();
  EXPECT_TRUE(Has(Errors("", "Service", cleared, &old),
                  "spec.clusterIPs[0]: Invalid value: []string(nil): primary clusterIP can not be unset"));
  auto relabelled = old;
  (*relabelled.mutable_metadata()->mutable_labels())["team"] = "a";
  EXPECT_THAT(Errors("", "Service", relabelled, &old), IsEmpty());
}

TEST(ServiceTest, StatusOnlyForLoadBalancers) {
  auto old = Stored(Defaulted("", "Service", MakeService("web")));
  auto s = old;
  s.mutable_status()->mutable_loadbalancer()->add_ingress()->set_ip("192.0.2.1");
  EXPECT_THAT(Strings(ValidateStatusUpdate(Resource("", "Service"), s, old)),
              ElementsAre("status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"));
}

// ---- ConfigMap / Secret -------------------------------------------------------------------------------

TEST(ConfigMapTest, KeysSizeAndImmutability) {
  corev1::ConfigMap cm;
  SetMeta(cm.mutable_metadata(), "cfg", "default");
  (*cm.mutable_data())["app.properties"] = "a=b";
  EXPECT_THAT(Errors("", "ConfigMap", cm), IsEmpty());
  auto bad = cm;
  (*bad.mutable_data())["bad/key"] = "x";
  EXPECT_THAT(Errors("", "ConfigMap", bad),
              ElementsAre("data[bad/key]: Invalid value: \"bad/key\": a valid config key must consist of alphanumeric "
                          "characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for "
                          "validation is '[-._a-zA-Z0-9]+')"));
  auto dup = cm;
  (*dup.mutable_binarydata())["app.properties"] = "\x01";
  EXPECT_THAT(Errors("", "ConfigMap", dup),
              ElementsAre("data[app.properties]: Invalid value: \"app.properties\": duplicate of key present in binaryData"));
  auto big = cm;
  (*big.mutable_data())["blob"] = std::string(1024 * 1024, 'x');
  EXPECT_THAT(Errors("", "ConfigMap", big), ElementsAre("[]: Too long: must have at most 1048576 bytes"));

  auto frozen = Stored(cm);
  frozen.set_immutable(true);
  auto edit = frozen;
  (*edit.mutable_data())["app.properties"] = "a=c";
  edit.set_immutable(false);
  EXPECT_THAT(Errors("", "ConfigMap", edit, &frozen),
              ElementsAre("immutable: Forbidden: field is immutable when `immutable` is set",
                          "data: Forbidden: field is immutable when `immutable` is set"));
}

TEST(SecretTest, KeysTypesAndImmutability) {
  corev1::Secret s;
  SetMeta(s.mutable_metadata(), "creds", "default");
  (*s.mutable_data())["password"] = "x";
  EXPECT_THAT(Errors("", "Secret", s), IsEmpty());
  auto tls = s;
  tls.set_type("kubernetes.io/tls");
  EXPECT_THAT(Errors("", "Secret", tls), ElementsAre("data[tls.crt]: Required value", "data[tls.key]: Required value"));
  auto docker = s;
  docker.set_type("kubernetes.io/dockerconfigjson");
  (*docker.mutable_data())[".dockerconfigjson"] = "[]";
  EXPECT_THAT(Errors("", "Secret", docker),
              ElementsAre("data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": json: cannot unmarshal "
                          "array into Go value of type map[string]interface {}"));
  auto big = s;
  (*big.mutable_data())["blob"] = std::string(1024 * 1024, 'x');
  EXPECT_THAT(Errors("", "Secret", big), ElementsAre("data: Too long: must have at most 1048576 bytes"));
  auto old = Stored(Defaulted("", "Secret", s));
  auto retyped = old;
  retyped.set_type("kubernetes.io/basic-auth");
  EXPECT_TRUE(Has(Errors("", "Secret", retyped, &old), "type: Invalid value: \"kubernetes.io/basic-auth\": field is immutable"));
  auto frozen = old;
  frozen.set_immutable(true);
  auto edit = frozen;
  (*edit.mutable_data())["password"] = "y";
  EXPECT_THAT(Errors("", "Secret", edit, &frozen), ElementsAre("data: Forbidden: field is immutable when `immutable` is set"));
}

// ---- Namespace / Node ------------------------------------------------------------------------------

TEST(NamespaceTest, Rules) {
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name("team-a");
  EXPECT_THAT(Errors("", "Namespace", ns), IsEmpty());
  ns.mutable_metadata()->set_name("Team_A");
  EXPECT_TRUE(Has(Errors("", "Namespace", ns), "metadata.name: Invalid value: \"Team_A\": a lowercase RFC 1123 label"));
  ns.mutable_metadata()->set_name("team-a");
  ns.mutable_spec()->add_finalizers("custom");
  EXPECT_THAT(Errors("", "Namespace", ns),
              ElementsAre("spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it "
                          "fully qualified"));
}

TEST(NodeTest, Rules) {
  corev1::Node node;
  node.mutable_metadata()->set_name("node-1");
  node.mutable_spec()->add_podcidrs("10.244.1.0/24");
  (*node.mutable_status()->mutable_capacity())["cpu"].set_string("4");
  EXPECT_THAT(Errors("", "Node", node), IsEmpty());
  auto taint = node;
  auto* t = taint.mutable_spec()->add_taints();
  t->set_key("dedicated");
  t->set_effect("NoRun");
  EXPECT_THAT(Errors("", "Node", taint),
              ElementsAre("metadata.taints[0].effect: Unsupported value: \"NoRun\": supported values: \"NoSchedule\", "
                          "\"PreferNoSchedule\", \"NoExecute\""));
  auto cidr = node;
  cidr.mutable_spec()->set_podcidrs(0, "10.244.1.0/33");
  EXPECT_TRUE(Has(Errors("", "Node", cidr), "spec.podCIDRs[0]: Invalid value: \"10.244.1.0/33\""));
  auto old = Stored(Defaulted("", "Node", node));
  auto moved = old;
  moved.mutable_spec()->set_podcidrs(0, "10.244.2.0/24");
  EXPECT_THAT(Errors("", "Node", moved, &old),
              ElementsAre("spec.podCIDRs: Forbidden: node updates may not change podCIDR except from \"\" to valid"));
  auto cordoned = old;
  cordoned.mutable_spec()->set_unschedulable(true);
  EXPECT_THAT(Errors("", "Node", cordoned, &old), IsEmpty());
}

// ---- coordination, discovery, networking ---------------------------------------------------------------

TEST(LeaseTest, Rules) {
  v::coordv1::Lease lease;
  SetMeta(lease.mutable_metadata(), "node-1", "kube-node-lease");
  lease.mutable_spec()->set_holderidentity("node-1");
  lease.mutable_spec()->set_leasedurationseconds(40);
  EXPECT_THAT(Errors("coordination.k8s.io", "Lease", lease), IsEmpty());
  lease.mutable_spec()->set_leasedurationseconds(0);
  lease.mutable_spec()->set_leasetransitions(-1);
  EXPECT_THAT(Errors("coordination.k8s.io", "Lease", lease),
              ElementsAre("spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
                          "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"));
}

TEST(EndpointSliceTest, Rules) {
  v::discv1::EndpointSlice slice;
  SetMeta(slice.mutable_metadata(), "web-abc12", "default");
  slice.set_addresstype("IPv4");
  slice.add_endpoints()->add_addresses("127.244.1.5");  // loopback pod IPs are process mode's
  auto* port = slice.add_ports();
  port->set_name("http");
  port->set_port(8080);
  EXPECT_THAT(Errors("discovery.k8s.io", "EndpointSlice", slice), IsEmpty());
  auto bad = slice;
  bad.mutable_endpoints(0)->set_addresses(0, "fd00::1");
  bad.add_endpoints();
  EXPECT_THAT(Errors("discovery.k8s.io", "EndpointSlice", bad),
              ElementsAre("endpoints[0].addresses[0]: Invalid value: \"fd00::1\": must be a valid IPv4 address",
                          "endpoints[1].addresses: Required value: must contain at least 1 address"));
  auto type = slice;
  type.set_addresstype("IPX");
  EXPECT_THAT(Errors("discovery.k8s.io", "EndpointSlice", type),
              ElementsAre("addressType: Unsupported value: \"IPX\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""));
  auto old = Stored(Defaulted("discovery.k8s.io", "EndpointSlice", slice));
  auto changed = old;
  changed.set_addresstype("IPv6");
  changed.mutable_endpoints(0)->set_addresses(0, "fd00::5");
  EXPECT_THAT(Errors("discovery.k8s.io", "EndpointSlice", changed, &old),
              ElementsAre("addressType: Invalid value: \"IPv6\": field is immutable"));
}

TEST(IngressTest, Rules) {
  v::netv1::Ingress ing;
  SetMeta(ing.mutable_metadata(), "web", "default");
  auto* rule = ing.mutable_spec()->add_rules();
  rule->set_host("web.example.com");
  auto* path = rule->mutable_ingressrulevalue()->mutable_http()->add_paths();
  path->set_path("/");
  path->set_pathtype("Prefix");
  path->mutable_backend()->mutable_service()->set_name("web");
  path->mutable_backend()->mutable_service()->mutable_port()->set_number(80);
  EXPECT_THAT(Errors("networking.k8s.io", "Ingress", ing), IsEmpty());

  using I = v::netv1::Ingress;
  auto p0 = [](I& i) { return i.mutable_spec()->mutable_rules(0)->mutable_ingressrulevalue()->mutable_http()->mutable_paths(0); };
  std::vector<Rule<I>> rules = {
      {"rules or default backend", [](auto& i) { i.mutable_spec()->clear_rules(); },
       "spec: Invalid value: []networking.IngressRule(nil): either `defaultBackend` or `rules` must be specified"},
      {"host is not an IP", [](auto& i) { i.mutable_spec()->mutable_rules(0)->set_host("10.0.0.1"); },
       "spec.rules[0].host: Invalid value: \"10.0.0.1\": must be a DNS name, not an IP address"},
      {"wildcard host", [](auto& i) { i.mutable_spec()->mutable_rules(0)->set_host("*.example.com"); }, ""},
      {"pathType required", [&](auto& i) { p0(i)->clear_pathtype(); },
       "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"},
      {"absolute paths", [&](auto& i) { p0(i)->set_path("api"); },
       "spec.rules[0].http.paths[0].path: Invalid value: \"api\": must be an absolute path"},
      {"port name or number", [&](auto& i) { p0(i)->mutable_backend()->mutable_service()->clear_port(); },
       "spec.rules[0].http.paths[0].backend: Required value: port name or number is required"},
      {"service name", [&](auto& i) { p0(i)->mutable_backend()->mutable_service()->set_name("Web"); },
       "spec.rules[0].http.paths[0].backend.service.name: Invalid value: \"Web\""},
  };
  RunRules<I>("networking.k8s.io", "Ingress", ing, rules);
}

TEST(NetworkPolicyTest, Rules) {
  using NP = v::netv1::NetworkPolicy;
  NP np;
  SetMeta(np.mutable_metadata(), "allow-web", "default");
  (*np.mutable_spec()->mutable_podselector()->mutable_matchlabels())["app"] = "web";
  auto* from = np.mutable_spec()->add_ingress()->add_from();
  from->mutable_ipblock()->set_cidr("10.0.0.0/8");
  from->mutable_ipblock()->add_except("10.1.0.0/16");
  std::vector<Rule<NP>> rules = {
      {"peer required", [](auto& n) { n.mutable_spec()->mutable_ingress(0)->add_from(); },
       "spec.ingress[0].from[1]: Required value: must specify a peer"},
      {"ipBlock alone", [](auto& n) { n.mutable_spec()->mutable_ingress(0)->mutable_from(0)->mutable_podselector(); },
       "spec.ingress[0].from[0]: Forbidden: may not specify both ipBlock and another peer"},
      {"except inside cidr", [](auto& n) {
         n.mutable_spec()->mutable_ingress(0)->mutable_from(0)->mutable_ipblock()->set_except(0, "192.168.0.0/16");
       },
       "spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/16\": must be a strict subset of `cidr`"},
      {"port range", [](auto& n) {
         auto* p = n.mutable_spec()->mutable_ingress(0)->add_ports();
         p->mutable_port()->set_intval(8000);
         p->set_endport(7000);
       },
       "spec.ingress[0].ports[0].endPort: Invalid value: 7000: must be greater than or equal to `port`"},
      {"policy types", [](auto& n) { n.mutable_spec()->add_policytypes("Sideways"); },
       "spec.policyTypes[0]: Unsupported value: \"Sideways\": supported values: \"Ingress\", \"Egress\""},
  };
  RunRules<NP>("networking.k8s.io", "NetworkPolicy", np, rules);
}

TEST(IngressClassTest, ControllerRequiredAndImmutable) {
  v::netv1::IngressClass ic;
  ic.mutable_metadata()->set_name("clearkube");
  EXPECT_THAT(Errors("networking.k8s.io", "IngressClass", ic), ElementsAre("spec.controller: Required value"));
  ic.mutable_spec()->set_controller("clearkube.dev/proxyd");
  EXPECT_THAT(Errors("networking.k8s.io", "IngressClass", ic), IsEmpty());
  auto old = Stored(ic);
  auto changed = old;
  changed.mutable_spec()->set_controller("example.com/other");
  EXPECT_THAT(Errors("networking.k8s.io", "IngressClass", changed, &old),
              ElementsAre("spec.controller: Invalid value: \"example.com/other\": field is immutable"));
}

// ---- RBAC -------------------------------------------------------------------------------------------

TEST(RbacTest, Rules) {
  v::rbacv1::Role role;
  SetMeta(role.mutable_metadata(), "pod-reader", "default");
  auto* rule = role.add_rules();
  rule->add_verbs("get");
  rule->add_apigroups("");
  rule->add_resources("pods");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "Role", role), IsEmpty());
  auto no_verbs = role;
  no_verbs.mutable_rules(0)->clear_verbs();
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "Role", no_verbs),
              ElementsAre("rules[0].verbs: Required value: verbs must contain at least one value"));
  auto urls = role;
  urls.mutable_rules(0)->add_nonresourceurls("/healthz");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "Role", urls),
              ElementsAre("rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: namespaced rules cannot apply to "
                          "non-resource URLs",
                          "rules[0].nonResourceURLs: Invalid value: []string{\"/healthz\"}: rules cannot apply to both "
                          "regular resources and non-resource URLs"));
  v::rbacv1::ClusterRole cr;
  cr.mutable_metadata()->set_name("system:health");
  auto* cr_rule = cr.add_rules();
  cr_rule->add_verbs("get");
  cr_rule->add_nonresourceurls("/healthz");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "ClusterRole", cr), IsEmpty());

  v::rbacv1::RoleBinding rb;
  SetMeta(rb.mutable_metadata(), "read-pods", "default");
  rb.mutable_roleref()->set_kind("Role");
  rb.mutable_roleref()->set_name("pod-reader");
  auto* subject = rb.add_subjects();
  subject->set_kind("User");
  subject->set_name("jane");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "RoleBinding", rb), IsEmpty());
  auto robot = rb;
  robot.mutable_subjects(0)->set_kind("Robot");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "RoleBinding", robot),
              ElementsAre("subjects[0].kind: Unsupported value: \"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""));
  auto old = Stored(Defaulted("rbac.authorization.k8s.io", "RoleBinding", rb));
  auto rebound = old;
  rebound.mutable_roleref()->set_name("admin");
  rebound.mutable_roleref()->set_kind("ClusterRole");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "RoleBinding", rebound, &old),
              ElementsAre("roleRef: Invalid value: rbac.RoleRef{APIGroup:\"rbac.authorization.k8s.io\", Kind:\"ClusterRole\", "
                          "Name:\"admin\"}: cannot change roleRef"));
  v::rbacv1::ClusterRoleBinding crb;
  crb.mutable_metadata()->set_name("all-pods");
  crb.mutable_roleref()->set_kind("Role");
  crb.mutable_roleref()->set_name("pod-reader");
  auto* sa = crb.add_subjects();
  sa->set_kind("ServiceAccount");
  sa->set_name("default");
  EXPECT_THAT(Errors("rbac.authorization.k8s.io", "ClusterRoleBinding", crb),
              ElementsAre("roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\"",
                          "subjects[0].namespace: Required value"));
}

// ---- policy, scheduling ------------------------------------------------------------------------------

TEST(PriorityClassTest, RangeAndImmutableValue) {
  v::schedv1::PriorityClass pc;
  pc.mutable_metadata()->set_name("high");
  pc.set_value(1000000);
  EXPECT_THAT(Errors("scheduling.k8s.io", "PriorityClass", pc), IsEmpty());
  auto huge = pc;
  huge.set_value(2000000000);
  EXPECT_THAT(Errors("scheduling.k8s.io", "PriorityClass", huge),
              ElementsAre("value: Forbidden: maximum allowed value of a user defined priority is 1000000000"));
  auto system = pc;
  system.mutable_metadata()->set_name("system-node-critical");
  system.set_value(2000001000);
  EXPECT_THAT(Errors("scheduling.k8s.io", "PriorityClass", system), IsEmpty());
  system.set_value(5);
  EXPECT_THAT(Errors("scheduling.k8s.io", "PriorityClass", system),
              ElementsAre("metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use "
                          "only. error: value of system-node-critical PriorityClass must be 2000001000"));
  auto old = Stored(Defaulted("scheduling.k8s.io", "PriorityClass", pc));
  auto changed = old;
  changed.set_value(5);
  EXPECT_THAT(Errors("scheduling.k8s.io", "PriorityClass", changed, &old),
              ElementsAre("value: Forbidden: may not be changed in an update."));
}

TEST(PodDisruptionBudgetTest, Rules) {
  v::policyv1::PodDisruptionBudget pdb;
  SetMeta(pdb.mutable_metadata(), "web", "default");
  pdb.mutable_spec()->mutable_minavailable()->set_intval(1);
  (*pdb.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  EXPECT_THAT(Errors("policy", "PodDisruptionBudget", pdb), IsEmpty());
  auto both = pdb;
  both.mutable_spec()->mutable_maxunavailable()->set_intval(1);
  EXPECT_TRUE(Has(Errors("policy", "PodDisruptionBudget", both), "spec: Invalid value: policy.PodDisruptionBudgetSpec{"));
  auto percent = pdb;
  percent.mutable_spec()->mutable_minavailable()->set_type(1);
  percent.mutable_spec()->mutable_minavailable()->clear_intval();
  percent.mutable_spec()->mutable_minavailable()->set_strval("120%");
  EXPECT_THAT(Errors("policy", "PodDisruptionBudget", percent),
              ElementsAre("spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:\"120%\"}: must not be "
                          "greater than 100%"));
}

// ---- admission webhooks ----------------------------------------------------------------------------

v::admregv1::ValidatingWebhookConfiguration MakeWebhooks() {
  v::admregv1::ValidatingWebhookConfiguration c;
  c.mutable_metadata()->set_name("policy");
  auto* h = c.add_webhooks();
  h->set_name("check.policy.example.com");
  h->mutable_clientconfig()->mutable_service()->set_name("policy");
  h->mutable_clientconfig()->mutable_service()->set_namespace_("policy-system");
  h->set_sideeffects("None");
  h->add_admissionreviewversions("v1");
  auto* r = h->add_rules();
  r->add_operations("CREATE");
  r->mutable_rule()->add_apigroups("");
  r->mutable_rule()->add_apiversions("v1");
  r->mutable_rule()->add_resources("pods");
  return c;
}

TEST(WebhookTest, Rules) {
  using W = v::admregv1::ValidatingWebhookConfiguration;
  auto h0 = [](W& w) { return w.mutable_webhooks(0); };
  std::vector<Rule<W>> rules = {
      {"service or url", [&](auto& w) { h0(w)->mutable_clientconfig()->set_url("https://policy.example.com/check"); },
       "webhooks[0].clientConfig: Required value: exactly one of url or service is required"},
      {"url", [&](auto& w) {
         h0(w)->mutable_clientconfig()->clear_service();
         h0(w)->mutable_clientconfig()->set_url("https://policy.example.com/check");
       },
       ""},
      {"https only", [&](auto& w) {
         h0(w)->mutable_clientconfig()->clear_service();
         h0(w)->mutable_clientconfig()->set_url("http://policy.example.com/check");
       },
       "webhooks[0].clientConfig.url: Invalid value: \"http\": 'https' is the only allowed URL scheme; desired format: "
       "https://host[/path]"},
      {"admissionReviewVersions required", [&](auto& w) { h0(w)->clear_admissionreviewversions(); },
       "webhooks[0].admissionReviewVersions: Required value: must specify one of v1, v1beta1"},
      {"admissionReviewVersions recognized", [&](auto& w) { h0(w)->set_admissionreviewversions(0, "v2"); },
       "webhooks[0].admissionReviewVersions: Invalid value: []string{\"v2\"}: must include at least one of v1, v1beta1"},
      {"sideEffects required", [&](auto& w) { h0(w)->clear_sideeffects(); },
       "webhooks[0].sideEffects: Required value: must specify one of None, NoneOnDryRun"},
      {"sideEffects values", [&](auto& w) { h0(w)->set_sideeffects("Some"); },
       "webhooks[0].sideEffects: Unsupported value: \"Some\": supported values: \"None\", \"NoneOnDryRun\""},
      {"failurePolicy values", [&](auto& w) { h0(w)->set_failurepolicy("Retry"); },
       "webhooks[0].failurePolicy: Unsupported value: \"Retry\": supported values: \"Fail\", \"Ignore\""},
      {"timeoutSeconds 1..30", [&](auto& w) { h0(w)->set_timeoutseconds(31); },
       "webhooks[0].timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds"},
      {"timeout 30", [&](auto& w) { h0(w)->set_timeoutseconds(30); }, ""},
      {"fully qualified name", [&](auto& w) { h0(w)->set_name("check"); },
       "webhooks[0].name: Invalid value: \"check\": should be a domain with at least three segments separated by dots"},
      {"unique names", [&](auto& w) { *w.add_webhooks() = w.webhooks(0); },
       "webhooks[1].name: Duplicate value: \"check.policy.example.com\""},
      {"operations", [&](auto& w) { h0(w)->mutable_rules(0)->set_operations(0, "PATCH"); },
       "webhooks[0].rules[0].operations[0]: Unsupported value: \"PATCH\": supported values: \"*\", \"CONNECT\", \"CREATE\", "
       "\"DELETE\", \"UPDATE\""},
  };
  RunRules<W>("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", MakeWebhooks(), rules);

  v::admregv1::MutatingWebhookConfiguration m;
  m.ParseFromString(MakeWebhooks().SerializeAsString());  // same wire layout
  EXPECT_THAT(Errors("admissionregistration.k8s.io", "MutatingWebhookConfiguration", m), IsEmpty());
  m.mutable_webhooks(0)->set_reinvocationpolicy("Always");
  EXPECT_THAT(Errors("admissionregistration.k8s.io", "MutatingWebhookConfiguration", m),
              ElementsAre("webhooks[0].reinvocationPolicy: Unsupported value: \"Always\": supported values: \"IfNeeded\", \"Never\""));
}

// ---- events, limits, quotas, claims, endpoints ------------------------------------------------------

TEST(EventTest, CoreAndEventsV1) {
  corev1::Event ev;
  SetMeta(ev.mutable_metadata(), "web.17a", "default");
  ev.mutable_involvedobject()->set_kind("Pod");
  ev.mutable_involvedobject()->set_namespace_("default");
  ev.set_reason("Started");
  EXPECT_THAT(Errors("", "Event", ev), IsEmpty());
  ev.mutable_involvedobject()->set_namespace_("other");
  EXPECT_THAT(Errors("", "Event", ev),
              ElementsAre("involvedObject.namespace: Invalid value: \"other\": does not match event.namespace"));

  v::eventsv1::Event e;
  SetMeta(e.mutable_metadata(), "web.17b", "default");
  e.mutable_eventtime()->set_seconds(1700000000);
  e.set_reportingcontroller("kubelet");
  e.set_reportinginstance("node-1");
  e.set_action("Pulling");
  e.set_reason("Pulling");
  e.set_type("Normal");
  e.mutable_regarding()->set_namespace_("default");
  EXPECT_THAT(Errors("events.k8s.io", "Event", e), IsEmpty());
  e.set_type("Info");
  e.clear_action();
  EXPECT_THAT(Errors("events.k8s.io", "Event", e),
              ElementsAre("action: Required value", "type: Invalid value: \"\": has invalid value: Info"));
}

TEST(LimitRangeTest, Rules) {
  corev1::LimitRange lr;
  SetMeta(lr.mutable_metadata(), "limits", "default");
  auto* item = lr.mutable_spec()->add_limits();
  item->set_type("Container");
  (*item->mutable_max())["cpu"].set_string("2");
  (*item->mutable_min())["cpu"].set_string("100m");
  EXPECT_THAT(Errors("", "LimitRange", lr), IsEmpty());
  auto inverted = lr;
  (*inverted.mutable_spec()->mutable_limits(0)->mutable_min())["cpu"].set_string("3");
  EXPECT_TRUE(Has(Errors("", "LimitRange", inverted), "spec.limits[0].min[cpu]: Invalid value: 3: min value 3 is greater than max value 2"));
  auto pod_default = lr;
  pod_default.mutable_spec()->mutable_limits(0)->set_type("Pod");
  (*pod_default.mutable_spec()->mutable_limits(0)->mutable_default_())["cpu"].set_string("1");
  EXPECT_THAT(Errors("", "LimitRange", pod_default),
              ElementsAre("spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"));
  auto type = lr;
  type.mutable_spec()->mutable_limits(0)->set_type("Machine");
  EXPECT_THAT(Errors("", "LimitRange", type),
              ElementsAre("spec.limits[0].type: Invalid value: \"Machine\": must be a standard limit type or fully qualified"));
}

TEST(ResourceQuotaTest, Rules) {
  corev1::ResourceQuota rq;
  SetMeta(rq.mutable_metadata(), "quota", "default");
  (*rq.mutable_spec()->mutable_hard())["pods"].set_string("10");
  (*rq.mutable_spec()->mutable_hard())["requests.cpu"].set_string("4");
  (*rq.mutable_spec()->mutable_hard())["count/deployments.apps"].set_string("5");
  EXPECT_THAT(Errors("", "ResourceQuota", rq), IsEmpty());
  auto frac = rq;
  (*frac.mutable_spec()->mutable_hard())["pods"].set_string("1500m");
  EXPECT_THAT(Errors("", "ResourceQuota", frac), ElementsAre("spec.hard[pods]: Invalid value: 1500m: must be an integer"));
  auto name = rq;
  (*name.mutable_spec()->mutable_hard())["gpus"].set_string("1");
  EXPECT_THAT(Errors("", "ResourceQuota", name),
              ElementsAre("spec.hard[gpus]: Invalid value: \"gpus\": must be a standard resource type or fully qualified"));
  auto scopes = rq;
  scopes.mutable_spec()->add_scopes("BestEffort");
  scopes.mutable_spec()->add_scopes("NotBestEffort");
  EXPECT_TRUE(Has(Errors("", "ResourceQuota", scopes), "spec.scopes: Invalid value: []core.ResourceQuotaScope{\"BestEffort\", "
                                                       "\"NotBestEffort\"}: conflicting scopes"));
}

TEST(PersistentVolumeClaimTest, Rules) {
  corev1::PersistentVolumeClaim pvc;
  SetMeta(pvc.mutable_metadata(), "data", "default");
  pvc.mutable_spec()->add_accessmodes("ReadWriteOnce");
  (*pvc.mutable_spec()->mutable_resources()->mutable_requests())["storage"].set_string("1Gi");
  EXPECT_THAT(Errors("", "PersistentVolumeClaim", pvc), IsEmpty());
  auto empty = pvc;
  empty.mutable_spec()->clear_accessmodes();
  empty.mutable_spec()->mutable_resources()->clear_requests();
  EXPECT_THAT(Errors("", "PersistentVolumeClaim", empty),
              ElementsAre("spec.accessModes: Required value: at least 1 access mode is required", "spec.resources[storage]: Required value"));
  auto old = Stored(Defaulted("", "PersistentVolumeClaim", pvc));
  auto bound = old;
  bound.mutable_spec()->set_volumename("pv-1");
  EXPECT_THAT(Errors("", "PersistentVolumeClaim", bound, &old), IsEmpty());
  auto mode = old;
  mode.mutable_spec()->set_accessmodes(0, "ReadWriteMany");
  EXPECT_TRUE(Has(Errors("", "PersistentVolumeClaim", mode, &old),
                  "spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName"));
}

TEST(EndpointsTest, Rules) {
  corev1::Endpoints ep;
  SetMeta(ep.mutable_metadata(), "web", "default");
  auto* ss = ep.add_subsets();
  ss->add_addresses()->set_ip("127.244.1.7");
  ss->add_ports()->set_port(8080);
  EXPECT_THAT(Errors("", "Endpoints", ep), IsEmpty());
  auto bad = ep;
  bad.mutable_subsets(0)->mutable_addresses(0)->set_ip("0.0.0.0");
  bad.add_subsets();
  EXPECT_THAT(Errors("", "Endpoints", bad),
              ElementsAre("subsets[0].addresses[0].ip: Invalid value: \"0.0.0.0\": may not be unspecified (0.0.0.0)",
                          "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`"));
}

TEST(ServiceAccountTest, MetadataRules) {
  corev1::ServiceAccount sa;
  SetMeta(sa.mutable_metadata(), "builder", "default");
  EXPECT_THAT(Errors("", "ServiceAccount", sa), IsEmpty());
  sa.mutable_metadata()->set_name("Builder");
  EXPECT_TRUE(Has(Errors("", "ServiceAccount", sa), "metadata.name: Invalid value: \"Builder\""));
}

TEST(AccessReviewTest, Rules) {
  v::authzv1::SubjectAccessReview sar;
  sar.mutable_spec()->mutable_resourceattributes()->set_verb("list");
  EXPECT_THAT(Errors("authorization.k8s.io", "SubjectAccessReview", sar),
              ElementsAre("spec.user: Invalid value: \"\": at least one of user or group must be specified"));
  sar.mutable_spec()->set_user("jane");
  EXPECT_THAT(Errors("authorization.k8s.io", "SubjectAccessReview", sar), IsEmpty());
  v::authzv1::LocalSubjectAccessReview lsar;
  lsar.mutable_metadata()->set_namespace_("dev");
  lsar.mutable_spec()->set_user("jane");
  lsar.mutable_spec()->mutable_resourceattributes()->set_namespace_("prod");
  EXPECT_THAT(Errors("authorization.k8s.io", "LocalSubjectAccessReview", lsar),
              ElementsAre("spec.resourceAttributes.namespace: Invalid value: \"prod\": must match metadata.namespace"));
}

}  // namespace
}  // namespace ck::apiserver
