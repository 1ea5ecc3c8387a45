// Tests for MakeEnvironment, ExpandContainerCommand and the downward API helpers: table-driven,
// objects written as YAML.
#include "kubelet/env/environment.h"

#include <gtest/gtest.h>

#include <map>

#include "common/api/codec.h"
#include "common/api/yaml.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;

template <typename T>
T FromYaml(const std::string& yaml) {
  auto json = api::YamlToJson(yaml);
  CK_CHECK(json.ok()) << json.status().ToString();
  T out;
  Status s = api::FromJson(*json, &out);
  CK_CHECK(s.ok()) << s.ToString() << "\n" << yaml;
  return out;
}

corev1::Service MakeService(const std::string& ns, const std::string& name, const std::string& ip,
                            const std::string& ports_yaml) {
  return FromYaml<corev1::Service>("metadata: {name: " + name + ", namespace: " + ns + "}\nspec:\n  clusterIP: \"" +
                                   ip + "\"\n  ports: " + ports_yaml + "\n");
}

EnvContext TestContext() {
  EnvContext c;
  c.node_name = "node-1";
  c.pod_ip = "127.244.1.5";
  c.pod_ips = {"127.244.1.5"};
  c.host_ip = "127.0.1.1";
  c.node_allocatable_cpu = "4";
  c.node_allocatable_memory = "8Gi";
  c.node_allocatable_ephemeral_storage = "100Gi";
  c.config_map = [](const std::string& ns, const std::string& name) -> Result<corev1::ConfigMap> {
    if (ns == "shop" && name == "cfg") {
      return FromYaml<corev1::ConfigMap>("metadata: {name: cfg, namespace: shop}\n"
                                         "data: {A: from-cm, B: b, \"1bad\": x, LOG: debug}\n");
    }
    return NotFound("configmaps \"" + name + "\" not found");
  };
  c.secret = [](const std::string& ns, const std::string& name) -> Result<corev1::Secret> {
    if (ns == "shop" && name == "creds") {
      corev1::Secret s;
      s.mutable_metadata()->set_name("creds");
      (*s.mutable_data())["password"] = "hunter2";
      (*s.mutable_data())["A"] = "from-secret";
      return s;
    }
    return NotFound("secrets \"" + name + "\" not found");
  };
  c.services = [](const std::string& ns) {
    std::vector<corev1::Service> out;
    if (ns == "default") {
      out.push_back(MakeService("default", "kubernetes", "10.96.0.1", "[{name: https, port: 443}]"));
      out.push_back(MakeService("default", "other", "10.96.0.9", "[{port: 80}]"));
    }
    if (ns == "shop") {
      out.push_back(MakeService("shop", "web-api", "10.96.0.10",
                                "[{port: 80}, {name: metrics, port: 9090, protocol: UDP}]"));
      out.push_back(MakeService("shop", "headless", "None", "[{port: 80}]"));
      out.push_back(MakeService("shop", "pending", "", "[{port: 80}]"));
    }
    return out;
  };
  return c;
}

const char kPodHeader[] = R"(metadata:
  name: web-1
  namespace: shop
  uid: uid-1
  labels: {app: web, tier: "front end"}
  annotations: {note: hi}
spec:
  nodeName: node-1
  serviceAccountName: builder
)";

std::map<std::string, std::string> AsMap(const EnvList& env) {
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : env) m[k] = v;
  return m;
}

struct EnvCase {
  std::string name;
  std::string spec;  // appended under `spec:` (containers etc.)
  std::map<std::string, std::string> want;   // must be present with these values
  std::vector<std::string> absent;           // must not be present
  std::string error;                         // expected error message ("" for success)
};

class MakeEnvironmentTest : public ::testing::TestWithParam<EnvCase> {};

TEST_P(MakeEnvironmentTest, Table) {
  const EnvCase& tc = GetParam();
  corev1::Pod pod = FromYaml<corev1::Pod>(std::string(kPodHeader) + tc.spec);
  ASSERT_GT(pod.spec().containers_size(), 0);
  Result<EnvList> env = MakeEnvironment(pod, pod.spec().containers(0), TestContext());
  if (!tc.error.empty()) {
    ASSERT_FALSE(env.ok());
    EXPECT_EQ(env.status().message(), tc.error);
    return;
  }
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  auto m = AsMap(*env);
  EXPECT_EQ(m.size(), env->size()) << "duplicate names";
  for (const auto& [k, v] : tc.want) {
    auto it = m.find(k);
    ASSERT_NE(it, m.end()) << "missing " << k;
    EXPECT_EQ(it->second, v) << k;
  }
  for (const auto& k : tc.absent) EXPECT_EQ(m.count(k), 0u) << k;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MakeEnvironmentTest,
    ::testing::Values(
        EnvCase{"values_and_expansion",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: A, value: one}\n"
                "    - {name: B, value: \"$(A)-two\"}\n"
                "    - {name: C, value: \"$$(A) $(LATER) $(UNKNOWN) $(A\"}\n"
                "    - {name: LATER, value: x}\n",
                {{"A", "one"}, {"B", "one-two"}, {"C", "$(A) $(LATER) $(UNKNOWN) $(A"}, {"LATER", "x"}}},
        EnvCase{"field_refs",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}\n"
                "    - {name: POD_NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n"
                "    - {name: POD_UID, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}\n"
                "    - {name: NODE_NAME, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}\n"
                "    - {name: SA, valueFrom: {fieldRef: {fieldPath: spec.serviceAccountName}}}\n"
                "    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}\n"
                "    - {name: POD_IPS, valueFrom: {fieldRef: {fieldPath: status.podIPs}}}\n"
                "    - {name: HOST_IP, valueFrom: {fieldRef: {fieldPath: status.hostIP}}}\n"
                "    - {name: APP, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['app']\"}}}\n"
                "    - {name: NONE, valueFrom: {fieldRef: {fieldPath: \"metadata.labels['none']\"}}}\n"
                "    - {name: NOTE, valueFrom: {fieldRef: {fieldPath: \"metadata.annotations['note']\"}}}\n"
                "    - {name: LABELS, valueFrom: {fieldRef: {fieldPath: metadata.labels}}}\n",
                {{"POD_NAME", "web-1"},
                 {"POD_NAMESPACE", "shop"},
                 {"POD_UID", "uid-1"},
                 {"NODE_NAME", "node-1"},
                 {"SA", "builder"},
                 {"POD_IP", "127.244.1.5"},
                 {"POD_IPS", "127.244.1.5"},
                 {"HOST_IP", "127.0.1.1"},
                 {"APP", "web"},
                 {"NONE", ""},
                 {"NOTE", "hi"},
                 {"LABELS", "app=\"web\"\ntier=\"front end\""}}},
        EnvCase{"bad_field_path",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: X, valueFrom: {fieldRef: {fieldPath: spec.bogus}}}\n",
                {}, {}, "unsupported fieldPath: spec.bogus"},
        EnvCase{"resource_field_refs",
                "  containers:\n  - name: app\n"
                "    resources: {requests: {cpu: 250m, memory: 100Mi}, limits: {cpu: 1500m}}\n"
                "    env:\n"
                "    - {name: CPU_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.cpu}}}\n"
                "    - {name: CPU_LIMIT_M, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 1m}}}\n"
                "    - {name: CPU_REQ, valueFrom: {resourceFieldRef: {resource: requests.cpu}}}\n"
                "    - {name: MEM_REQ_MI, valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1Mi}}}\n"
                "    - {name: MEM_REQ_G, valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1G}}}\n"
                "    - {name: MEM_LIMIT, valueFrom: {resourceFieldRef: {resource: limits.memory}}}\n"
                "    - {name: SIDE_CPU, valueFrom: {resourceFieldRef: {containerName: side, resource: limits.cpu, divisor: 1m}}}\n"
                "  - name: side\n    resources: {limits: {cpu: 100m}}\n",
                {{"CPU_LIMIT", "2"},
                 {"CPU_LIMIT_M", "1500"},
                 {"CPU_REQ", "1"},
                 {"MEM_REQ_MI", "100"},
                 {"MEM_REQ_G", "1"},
                 {"MEM_LIMIT", "8589934592"},
                 {"SIDE_CPU", "100"}}},
        EnvCase{"bad_resource",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: X, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}\n",
                {}, {}, "unsupported container resource : limits.gpu"},
        EnvCase{"env_from_then_env_overrides",
                "  containers:\n  - name: app\n"
                "    envFrom:\n    - configMapRef: {name: cfg}\n    - {prefix: S_, secretRef: {name: creds}}\n"
                "    env:\n    - {name: B, value: overridden}\n    - {name: C, value: \"$(A)/$(S_password)\"}\n",
                {{"A", "from-cm"}, {"B", "overridden"}, {"LOG", "debug"}, {"S_password", "hunter2"},
                 {"S_A", "from-secret"}, {"C", "from-cm/hunter2"}},
                {"1bad"}},
        EnvCase{"key_refs",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: L, valueFrom: {configMapKeyRef: {name: cfg, key: LOG}}}\n"
                "    - {name: P, valueFrom: {secretKeyRef: {name: creds, key: password}}}\n"
                "    - {name: OPT, valueFrom: {configMapKeyRef: {name: missing, key: k, optional: true}}}\n"
                "    - {name: OPTKEY, valueFrom: {configMapKeyRef: {name: cfg, key: nokey, optional: true}}}\n",
                {{"L", "debug"}, {"P", "hunter2"}}, {"OPT", "OPTKEY"}},
        EnvCase{"missing_config_map",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: L, valueFrom: {configMapKeyRef: {name: x, key: LOG}}}\n",
                {}, {}, "configmap \"x\" not found"},
        EnvCase{"missing_secret_env_from",
                "  containers:\n  - name: app\n    envFrom:\n    - secretRef: {name: nope}\n",
                {}, {}, "secret \"nope\" not found"},
        EnvCase{"optional_env_from",
                "  containers:\n  - name: app\n    envFrom:\n    - secretRef: {name: nope, optional: true}\n",
                {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}}},
        EnvCase{"missing_key",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: L, valueFrom: {configMapKeyRef: {name: cfg, key: nokey}}}\n",
                {}, {}, "couldn't find key nokey in ConfigMap shop/cfg"},
        EnvCase{"missing_secret_key",
                "  containers:\n  - name: app\n    env:\n"
                "    - {name: L, valueFrom: {secretKeyRef: {name: creds, key: nokey}}}\n",
                {}, {}, "couldn't find key nokey in Secret shop/creds"},
        EnvCase{"service_links",
                "  containers:\n  - name: app\n    env:\n    - {name: U, value: \"$(WEB_API_SERVICE_HOST)\"}\n",
                {{"U", "10.96.0.10"},
                 {"KUBERNETES_SERVICE_HOST", "10.96.0.1"},
                 {"KUBERNETES_SERVICE_PORT", "443"},
                 {"KUBERNETES_SERVICE_PORT_HTTPS", "443"},
                 {"KUBERNETES_PORT", "tcp://10.96.0.1:443"},
                 {"KUBERNETES_PORT_443_TCP", "tcp://10.96.0.1:443"},
                 {"KUBERNETES_PORT_443_TCP_PROTO", "tcp"},
                 {"KUBERNETES_PORT_443_TCP_PORT", "443"},
                 {"KUBERNETES_PORT_443_TCP_ADDR", "10.96.0.1"},
                 {"WEB_API_SERVICE_HOST", "10.96.0.10"},
                 {"WEB_API_SERVICE_PORT", "80"},
                 {"WEB_API_SERVICE_PORT_METRICS", "9090"},
                 {"WEB_API_PORT", "tcp://10.96.0.10:80"},
                 {"WEB_API_PORT_80_TCP", "tcp://10.96.0.10:80"},
                 {"WEB_API_PORT_9090_UDP", "udp://10.96.0.10:9090"},
                 {"WEB_API_PORT_9090_UDP_PROTO", "udp"},
                 {"WEB_API_PORT_9090_UDP_PORT", "9090"},
                 {"WEB_API_PORT_9090_UDP_ADDR", "10.96.0.10"}},
                {"HEADLESS_SERVICE_HOST", "PENDING_SERVICE_HOST", "OTHER_SERVICE_HOST"}},
        EnvCase{"service_links_disabled",
                "  enableServiceLinks: false\n  containers:\n  - name: app\n",
                {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                {"WEB_API_SERVICE_HOST", "WEB_API_PORT"}},
        EnvCase{"container_env_wins_over_service_env",
                "  containers:\n  - name: app\n    env:\n    - {name: KUBERNETES_SERVICE_HOST, value: mine}\n",
                {{"KUBERNETES_SERVICE_HOST", "mine"}}}),
    [](const ::testing::TestParamInfo<EnvCase>& info) { return info.param.name; });

TEST(MakeEnvironment, DeclarationOrderKept) {
  corev1::Pod pod = FromYaml<corev1::Pod>(std::string(kPodHeader) +
                                          "  enableServiceLinks: false\n"
                                          "  containers:\n  - name: app\n    envFrom:\n    - configMapRef: {name: cfg}\n"
                                          "    env:\n    - {name: Z, value: z}\n    - {name: A, value: a2}\n");
  EnvContext context = TestContext();
  context.services = nullptr;
  auto env = MakeEnvironment(pod, pod.spec().containers(0), context);
  ASSERT_TRUE(env.ok());
  EnvList want = {{"A", "a2"}, {"B", "b"}, {"LOG", "debug"}, {"Z", "z"}};
  EXPECT_EQ(*env, want);
}

struct ExpandCase {
  std::string input;
  std::string want;
};

TEST(ExpandVars, UpstreamCases) {
  std::map<std::string, std::string> vars = {{"VAR_A", "A"}, {"VAR_B", "B"}, {"VAR_EMPTY", ""}};
  auto lookup = [&](const std::string& n) -> std::optional<std::string> {
    auto it = vars.find(n);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  const ExpandCase cases[] = {
      {"$(VAR_A)", "A"},
      {"___$(VAR_B)___", "___B___"},
      {"$(VAR_A)-$(VAR_A)", "A-A"},
      {"f000-$$VAR_A", "f000-$VAR_A"},
      {"$$$(VAR_A)", "$A"},
      {"$$$$(VAR_A)", "$$(VAR_A)"},
      {"$(VAR_EMPTY)x", "x"},
      {"$(UNKNOWN)", "$(UNKNOWN)"},
      {"$(VAR_A", "$(VAR_A"},
      {"$VAR_A", "$VAR_A"},
      {"$", "$"},
      {"tail$", "tail$"},
      {"$()", "$()"},
      {"no refs", "no refs"},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(ExpandVars(c.input, lookup), c.want) << c.input;
}

TEST(ExpandContainerCommand, CommandAndArgs) {
  corev1::Container c = FromYaml<corev1::Container>(
      "name: app\ncommand: [\"/bin/echo\", \"$(GREETING)\"]\nargs: [\"$(NAME)!\", \"$$(NAME)\", \"$(NOPE)\"]\n");
  EXPECT_EQ(ExpandContainerCommand(c, {{"GREETING", "hello"}, {"NAME", "world"}}),
            (std::vector<std::string>{"/bin/echo", "hello", "world!", "$(NAME)", "$(NOPE)"}));
}

}  // namespace
}  // namespace ck::kubelet
