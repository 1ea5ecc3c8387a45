// The security path with the real kubectl: a ck-apiserver with Node,RBAC and every default
// admission plugin, and a ck-controller-manager (ServiceAccount, root CA and ClusterRole
// aggregation controllers). `auth can-i` (yes/no, --list, --as), `auth whoami`, a user bound to
// `view` gets upstream's forbidden message on create, a `kubectl create token` token
// authenticates as its ServiceAccount; admission webhooks: the sidecar injector mutates a pod, a
// validating webhook refuses with its message, a hanging webhook times out (Ignore lets the request
// through, Fail refuses it), a webhook whose certificate the caBundle does not trust is a failure.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "common/base/strings.h"
#include "common/net/http_server.h"
#include "common/pki/pki.h"
#include "tests/testutil/apiserver.h"
#include "tests/testutil/testutil.h"

namespace ck {
namespace {

using ::testing::HasSubstr;
using testutil::CommandResult;
using testutil::ReadFileOrDie;
using testutil::RunCommand;
using testutil::Subprocess;

#define EXPECT_OK(r) EXPECT_EQ((r).exit_code, 0) << (r).output
#define ASSERT_OK(r) ASSERT_EQ((r).exit_code, 0) << (r).output

// Polls `f` until it returns true or `seconds` pass.
template <typename F>
bool Eventually(F f, int seconds = 30) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return f();
}

class Cluster {
 public:
  Cluster()
      : server_({"--enable-admission-plugins=ServiceAccount", "--authorization-mode=Node,RBAC"}) {
    controller_manager_ = std::make_unique<Subprocess>(std::vector<std::string>{
        testutil::BinDir() + "/ck-controller-manager",
        "--kubeconfig=" + server_.dir().File("pki/controller-manager.kubeconfig"),
        "--root-ca-file=" + server_.dir().File("pki/ca.crt"),
        "--secure-port=0",
        "--leader-elect=false"});
  }
  ~Cluster() {
    if (controller_manager_ && controller_manager_->running()) {
      controller_manager_->Signal(SIGTERM);
      controller_manager_->Wait(std::chrono::seconds(10));
    }
  }

  CommandResult Kubectl(const std::string& args, const std::string& kubeconfig = "",
                        const std::string& binary = "kubectl") const {
    std::string kc = kubeconfig.empty() ? server_.admin_kubeconfig() : kubeconfig;
    return RunCommand("HOME=" + Dir() + " KUBECONFIG=" + kc + " " + binary + " --cache-dir " +
                      server_.dir().File("cache") + " " + args + " 2>&1");
  }
  std::string File(const std::string& name, const std::string& content) const {
    testutil::WriteFileOrDie(server_.dir().File(name), content);
    return server_.dir().File(name);
  }
  // A kubeconfig for `token` against this server.
  std::string TokenKubeconfig(const std::string& name, const std::string& token) const {
    return File(name + ".kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: " +
                                          server_.server_url() + "\n    certificate-authority: " +
                                          server_.dir().File("pki/ca.crt") + "\nusers:\n- name: u\n  user:\n    token: " +
                                          token + "\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n"
                                                  "current-context: c\n");
  }
  std::string Dir() const { return server_.dir().path(); }
  const testutil::ApiServerProcess& server() const { return server_; }
  std::string Logs() const {
    return server_.logs() + "\n--- controller-manager ---\n" + (controller_manager_ ? controller_manager_->Stderr() : "");
  }

 private:
  testutil::ApiServerProcess server_;
  std::unique_ptr<Subprocess> controller_manager_;
};

class SecurityE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new Cluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static CommandResult K(const std::string& args) { return cluster_->Kubectl(args); }
  static Cluster* cluster_;
};
Cluster* SecurityE2E::cluster_ = nullptr;

TEST_F(SecurityE2E, AuthCanIAndWhoami) {
  auto yes = K("auth can-i create pods");
  EXPECT_OK(yes);
  EXPECT_EQ(yes.output, "yes\n");
  auto who = K("auth whoami");
  EXPECT_OK(who);
  EXPECT_THAT(who.output, HasSubstr("kubernetes-admin"));
  EXPECT_THAT(who.output, HasSubstr("system:masters"));
  // As an unprivileged user (impersonated by the admin, checked by RBAC).
  auto no = K("auth can-i create pods --as=view-user");
  EXPECT_NE(no.exit_code, 0);
  EXPECT_EQ(no.output, "no\n");
  auto list = K("auth can-i --list --as=view-user");
  EXPECT_OK(list);
  EXPECT_THAT(list.output, HasSubstr("selfsubjectaccessreviews.authorization.k8s.io"));
  EXPECT_THAT(list.output, HasSubstr("[/healthz]"));
  auto admin_list = K("auth can-i --list");
  EXPECT_OK(admin_list);
  EXPECT_THAT(admin_list.output, testing::ContainsRegex(R"(\*\.\* +\[\] +\[\] +\[\*\])"));
  // The scheduler's identity may bind pods but not delete nodes.
  EXPECT_OK(K("auth can-i create pods --subresource=binding --as=system:kube-scheduler"));
  EXPECT_NE(K("auth can-i delete nodes --as=system:kube-scheduler").exit_code, 0);
}

TEST_F(SecurityE2E, ViewUserIsForbiddenToCreate) {
  std::string kc = cluster_->server().token_kubeconfig();
  std::string view_kc = cluster_->TokenKubeconfig("view", "view-token");
  auto before = cluster_->Kubectl("get pods", view_kc);
  EXPECT_NE(before.exit_code, 0);
  EXPECT_THAT(before.output, HasSubstr(R"(pods is forbidden: User "view-user" cannot list resource "pods" in API group "" in the namespace "default")"));
  ASSERT_OK(K("create rolebinding view-user-view --clusterrole=view --user=view-user -n default"));
  // The `view` role is filled by the aggregation controller and the binding reaches the
  // authorizer through its watch: both take a moment.
  EXPECT_TRUE(Eventually([&] { return cluster_->Kubectl("get pods", view_kc).exit_code == 0; }))
      << cluster_->Kubectl("get pods", view_kc).output << cluster_->Kubectl("get clusterrole view -o yaml").output;
  auto create = cluster_->Kubectl("create configmap not-allowed --from-literal=a=b", view_kc);
  EXPECT_NE(create.exit_code, 0);
  EXPECT_THAT(create.output, HasSubstr(R"(configmaps is forbidden: User "view-user" cannot create resource "configmaps" in API group "" in the namespace "default")"));
  // Escalation: an `edit`-bound user cannot grant itself `admin`.
  ASSERT_OK(K("create rolebinding view-user-edit --clusterrole=edit --user=view-user -n default"));
  EXPECT_TRUE(Eventually([&] { return cluster_->Kubectl("auth can-i create configmaps", view_kc).exit_code == 0; }));
  auto escalate = cluster_->Kubectl("create rolebinding self-admin --clusterrole=admin --user=view-user -n default", view_kc);
  EXPECT_NE(escalate.exit_code, 0);
  EXPECT_THAT(escalate.output, HasSubstr("forbidden"));
}

TEST_F(SecurityE2E, CreateTokenAuthenticatesAsTheServiceAccount) {
  // The ServiceAccount controller creates `default` in every namespace, and kube-root-ca.crt.
  ASSERT_TRUE(Eventually([&] { return K("get serviceaccount default -n default").exit_code == 0; }))
      << cluster_->Logs();
  EXPECT_TRUE(Eventually([&] { return K("get configmap kube-root-ca.crt -n default").exit_code == 0; }));
  auto token = K("create token default --duration=15m");
  ASSERT_OK(token);
  std::string t = std::string(TrimSpace(token.output));
  ASSERT_EQ(std::count(t.begin(), t.end(), '.'), 2) << t;
  std::string sa_kc = cluster_->TokenKubeconfig("sa", t);
  auto who = cluster_->Kubectl("auth whoami -o jsonpath='{.status.userInfo.username}'", sa_kc);
  EXPECT_OK(who);
  EXPECT_EQ(who.output, "system:serviceaccount:default:default");
  auto short_token = K("create token default --duration=1m");
  EXPECT_NE(short_token.exit_code, 0);
  EXPECT_THAT(short_token.output, HasSubstr("may not specify a duration less than 10 minutes"));
  // A pod gets the account and its projected token volume.
  ASSERT_OK(K("run sa-pod --image=busybox --restart=Never"));
  auto pod = K("get pod sa-pod -o jsonpath='{.spec.serviceAccountName} {.spec.volumes[0].projected.sources[0].serviceAccountToken.path}'");
  EXPECT_OK(pod);
  EXPECT_EQ(pod.output, "default token");
}

// An in-process HTTPS webhook server with a certificate from `ca` (or from its own CA).
class WebhookServer {
 public:
  using Handler = std::function<std::string(const std::string& request_body)>;
  WebhookServer(const pki::KeyAndCert& ca, Handler handler) : handler_(std::move(handler)) {
    pki::CertSpec spec;
    spec.common_name = "webhook";
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    Result<pki::KeyAndCert> cert = pki::IssueCert(spec, ca);
    CK_CHECK(cert.ok()) << cert.status().ToString();
    net::HttpServerOptions o;
    o.tls_config.cert_pem = cert->cert_pem;
    o.tls_config.key_pem = cert->key_pem;
    o.io_threads = 2;
    server_ = std::make_unique<net::HttpServer>(o, [this](net::Request req, std::shared_ptr<net::ResponseWriter> w) {
      ++calls_;
      std::string answer = handler_(req.body);
      if (answer.empty()) {  // hang: answer only when the server stops
        std::lock_guard l(mu_);
        hanging_.push_back(std::move(w));
        return;
      }
      w->Respond(200, net::Headers{{"Content-Type", "application/json"}}, answer);
    });
    Status s = server_->Start();
    CK_CHECK(s.ok()) << s.ToString();
  }
  ~WebhookServer() {
    {
      std::lock_guard l(mu_);
      for (auto& w : hanging_) w->Respond(500, {}, "");
      hanging_.clear();
    }
    server_->Stop(std::chrono::milliseconds(100));
  }
  std::string url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(server_->port()) + path; }
  int calls() const { return calls_.load(); }

 private:
  Handler handler_;
  std::unique_ptr<net::HttpServer> server_;
  std::atomic<int> calls_{0};
  std::mutex mu_;
  std::vector<std::shared_ptr<net::ResponseWriter>> hanging_;
};

std::string UidOf(const std::string& review) {
  size_t at = review.find("\"uid\":\"");
  CK_CHECK(at != std::string::npos) << review;
  at += 7;
  return review.substr(at, review.find('"', at) - at);
}

std::string Review(const std::string& uid, bool allowed, const std::string& message = "") {
  std::string out = R"({"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":")" + uid +
                    R"(","allowed":)" + (allowed ? "true" : "false");
  if (!message.empty()) out += R"(,"status":{"code":403,"message":")" + message + R"("})";
  return out + "}}";
}

std::string ValidatingConfig(const std::string& name, const std::string& url, const std::string& ca_pem,
                             const std::string& failure_policy, int timeout, const std::string& ns_label) {
  return "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: " + name +
         "\nwebhooks:\n- name: " + name + ".example.com\n  admissionReviewVersions: [v1]\n  sideEffects: None\n"
         "  failurePolicy: " + failure_policy + "\n  timeoutSeconds: " + std::to_string(timeout) +
         "\n  clientConfig:\n    url: " + url + "\n    caBundle: " + Base64Encode(ca_pem) +
         "\n  namespaceSelector:\n    matchLabels: {hooks: " + ns_label + "}\n"
         "  rules:\n  - operations: [CREATE]\n    apiGroups: [\"\"]\n    apiVersions: [v1]\n    resources: [configmaps]\n";
}

TEST_F(SecurityE2E, ValidatingWebhooksRefuseTimeOutAndDistrustBadCertificates) {
  pki::KeyAndCert ca{ReadFileOrDie(cluster_->Dir() + "/pki/ca.key"), ReadFileOrDie(cluster_->Dir() + "/pki/ca.crt")};
  WebhookServer refuser(ca, [](const std::string& body) {
    bool bad = body.find("\"forbidden-value\"") != std::string::npos;
    return Review(UidOf(body), !bad, "value forbidden-value is not allowed here");
  });
  WebhookServer hanging(ca, [](const std::string&) { return std::string(); });
  pki::CertSpec other_spec;
  other_spec.common_name = "untrusted-ca";
  other_spec.is_ca = true;
  Result<pki::KeyAndCert> other_ca = pki::CreateCA(other_spec);
  ASSERT_TRUE(other_ca.ok());
  WebhookServer untrusted(*other_ca, [](const std::string& body) { return Review(UidOf(body), true); });

  ASSERT_OK(K("create namespace hooks-refuse"));
  ASSERT_OK(K("label namespace hooks-refuse hooks=refuse"));
  ASSERT_OK(K("apply -f " + cluster_->File("v1.yaml", ValidatingConfig("refuser", refuser.url("/validate"), ca.cert_pem,
                                                                         "Fail", 5, "refuse"))));
  auto refused = K("create configmap c1 -n hooks-refuse --from-literal=k=forbidden-value");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_THAT(refused.output, HasSubstr(R"(admission webhook "refuser.example.com" denied the request: value forbidden-value is not allowed here)"));
  EXPECT_OK(K("create configmap c2 -n hooks-refuse --from-literal=k=fine"));
  EXPECT_GE(refuser.calls(), 2);

  // A webhook that never answers: Ignore lets the write through after the timeout, Fail refuses.
  ASSERT_OK(K("create namespace hooks-ignore"));
  ASSERT_OK(K("label namespace hooks-ignore hooks=ignore"));
  ASSERT_OK(K("apply -f " + cluster_->File("v2.yaml", ValidatingConfig("hang-ignore", hanging.url("/v"), ca.cert_pem,
                                                                         "Ignore", 1, "ignore"))));
  auto start = std::chrono::steady_clock::now();
  EXPECT_OK(K("create configmap c3 -n hooks-ignore --from-literal=k=v"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(900)) << "waited for the timeout";
  ASSERT_OK(K("create namespace hooks-fail"));
  ASSERT_OK(K("label namespace hooks-fail hooks=fail"));
  ASSERT_OK(K("apply -f " + cluster_->File("v3.yaml", ValidatingConfig("hang-fail", hanging.url("/v"), ca.cert_pem,
                                                                         "Fail", 1, "fail"))));
  auto timed_out = K("create configmap c4 -n hooks-fail --from-literal=k=v");
  EXPECT_NE(timed_out.exit_code, 0);
  EXPECT_THAT(timed_out.output, HasSubstr(R"(failed calling webhook "hang-fail.example.com")"));

  // A certificate the caBundle does not trust is a call failure.
  ASSERT_OK(K("create namespace hooks-tls"));
  ASSERT_OK(K("label namespace hooks-tls hooks=tls"));
  ASSERT_OK(K("apply -f " + cluster_->File("v4.yaml", ValidatingConfig("untrusted", untrusted.url("/v"), ca.cert_pem,
                                                                         "Fail", 5, "tls"))));
  auto tls = K("create configmap c5 -n hooks-tls --from-literal=k=v");
  EXPECT_NE(tls.exit_code, 0);
  EXPECT_THAT(tls.output, HasSubstr(R"(failed calling webhook "untrusted.example.com")"));
  EXPECT_EQ(untrusted.calls(), 0) << "the handshake fails before any request";
  for (const char* c : {"refuser", "hang-ignore", "hang-fail", "untrusted"}) {
    K(std::string("delete validatingwebhookconfiguration ") + c);
  }
}

TEST_F(SecurityE2E, SidecarInjectorMutatesAnnotatedPods) {
  pki::KeyAndCert ca{ReadFileOrDie(cluster_->Dir() + "/pki/ca.key"), ReadFileOrDie(cluster_->Dir() + "/pki/ca.crt")};
  pki::CertSpec spec;
  spec.common_name = "sidecar-injector";
  spec.ip_addresses = {"127.0.0.1"};
  spec.server_auth = true;
  Result<pki::KeyAndCert> cert = pki::IssueCert(spec, ca);
  ASSERT_TRUE(cert.ok());
  std::string crt = cluster_->File("injector.crt", cert->cert_pem);
  std::string key = cluster_->File("injector.key", cert->key_pem);
  uint16_t port = testutil::FreePort();
  Subprocess injector({testutil::BinDir() + "/ck-sidecar-injector", "--tls-cert-file=" + crt,
                       "--tls-private-key-file=" + key, "--secure-port=" + std::to_string(port)});
  ASSERT_TRUE(Eventually([&] {
    return RunCommand("curl -sk -o /dev/null https://127.0.0.1:" + std::to_string(port) + "/healthz").exit_code == 0;
  })) << injector.Stderr();
  std::string config =
      "apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: sidecar-injector\n"
      "webhooks:\n- name: sidecar-injector.clearkube.dev\n  admissionReviewVersions: [v1]\n  sideEffects: None\n"
      "  failurePolicy: Fail\n  clientConfig:\n    url: https://127.0.0.1:" + std::to_string(port) +
      "/mutate\n    caBundle: " + Base64Encode(ca.cert_pem) +
      "\n  rules:\n  - operations: [CREATE]\n    apiGroups: [\"\"]\n    apiVersions: [v1]\n    resources: [pods]\n";
  ASSERT_OK(K("apply -f " + cluster_->File("mutating.yaml", config)));
  ASSERT_OK(K("run watched --image=busybox --restart=Never --annotations=monitoring=true"));
  auto names = K("get pod watched -o jsonpath='{.spec.containers[*].name}'");
  EXPECT_OK(names);
  EXPECT_THAT(names.output, HasSubstr("metrics-sidecar"));
  ASSERT_OK(K("run plain --image=busybox --restart=Never"));
  auto plain = K("get pod plain -o jsonpath='{.spec.containers[*].name}'");
  EXPECT_OK(plain);
  EXPECT_EQ(plain.output, "plain");
  K("delete mutatingwebhookconfiguration sidecar-injector");
}

}  // namespace
}  // namespace ck
