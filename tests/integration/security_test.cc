// The security path of ck-apiserver over real HTTPS: every bad credential is 401 and reaches no
// handler; ServiceAccount tokens from the TokenRequest API authenticate until their account is
// deleted; a kubelet identity cannot touch another node's pods or read their secrets; a quota of
// 10 pods admits exactly 10 of 50 concurrent creates.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/auth/serviceaccount_token.h"
#include "common/base/strings.h"
#include "common/pki/pki.h"
#include "tests/testutil/apiserver.h"

namespace ck {
namespace {

using testutil::ApiServerProcess;
using testutil::ReadFileOrDie;

net::ClientRequest Req(std::string method, std::string target, std::string body = "", std::string token = "") {
  net::ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  if (!r.body.empty()) r.headers.Add("Content-Type", "application/json");
  if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
  return r;
}

// A client of `server` presenting `cert` (may be empty: no certificate).
std::unique_ptr<net::HttpClient> ClientWith(const ApiServerProcess& server, const std::string& cert_pem,
                                            const std::string& key_pem) {
  net::HttpClientOptions o;
  o.port = server.port();
  o.tls_config.ca_pem = ReadFileOrDie(server.dir().File("pki/ca.crt"));
  o.tls_config.cert_pem = cert_pem;
  o.tls_config.key_pem = key_pem;
  o.timeout = std::chrono::seconds(10);
  return std::make_unique<net::HttpClient>(o);
}

std::unique_ptr<net::HttpClient> ClientFromKubeconfig(const ApiServerProcess& server, const std::string& file) {
  Result<pki::KubeconfigData> kc = pki::ParseKubeconfig(ReadFileOrDie(server.dir().File(file)));
  CK_CHECK(kc.ok()) << kc.status().ToString();
  return ClientWith(server, kc->client.cert_pem, kc->client.key_pem);
}

int Code(net::HttpClient& c, net::ClientRequest r, std::string* body = nullptr) {
  Result<net::Response> resp = c.Do(std::move(r));
  if (!resp.ok()) {
    if (body) *body = resp.status().ToString();
    return -1;
  }
  if (body) *body = resp->body;
  return resp->status;
}

// The CA the server trusts, to issue client certificates in tests.
pki::KeyAndCert ClusterCa(const ApiServerProcess& server) {
  return {ReadFileOrDie(server.dir().File("pki/ca.key")), ReadFileOrDie(server.dir().File("pki/ca.crt"))};
}

std::string Base64Url(std::string_view in) {
  std::string out = Base64Encode(in);
  for (char& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string JsonField(const std::string& json, const std::string& field) {
  std::smatch m;
  std::regex re("\"" + field + "\":\"([^\"]*)\"");
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

constexpr const char* kIssuer = "https://kubernetes.default.svc.cluster.local";

TEST(Authentication, EveryBadCredentialIs401AndReachesNoHandler) {
  ApiServerProcess server({"-v=1"});
  auto admin = server.Client();
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/serviceaccounts", R"({"metadata":{"name":"robot"}})")), 201);
  std::string body;
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token",
                             R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})"),
                 &body),
            201)
      << body;
  std::string robot_token = JsonField(body, "token");
  ASSERT_FALSE(robot_token.empty()) << body;
  // While the account exists the token works (it is a real credential, not a broken one).
  // Token clients present no certificate (a certificate would be the identity).
  auto bare = ClientWith(server, "", "");
  ASSERT_EQ(Code(*bare, Req("GET", "/api/v1/namespaces/default/serviceaccounts/robot", "", robot_token)), 403)
      << "authenticated, and not allowed by any binding";
  ASSERT_EQ(Code(*admin, Req("DELETE", "/api/v1/namespaces/default/serviceaccounts/robot")), 200);

  pki::CertSpec admin_spec;
  admin_spec.common_name = "kubernetes-admin";
  admin_spec.organizations = {"system:masters"};
  admin_spec.client_auth = true;
  // Self-signed: its own CA.
  pki::CertSpec self_spec = admin_spec;
  self_spec.is_ca = true;
  Result<pki::KeyAndCert> self_signed = pki::CreateCA(self_spec);
  ASSERT_TRUE(self_signed.ok());
  // From another CA.
  pki::CertSpec other_ca_spec;
  other_ca_spec.common_name = "other-ca";
  other_ca_spec.is_ca = true;
  Result<pki::KeyAndCert> other_ca = pki::CreateCA(other_ca_spec);
  ASSERT_TRUE(other_ca.ok());
  Result<pki::KeyAndCert> foreign = pki::IssueCert(admin_spec, *other_ca);
  ASSERT_TRUE(foreign.ok());
  // From the right CA, expired an hour ago.
  pki::CertSpec expired_spec = admin_spec;
  expired_spec.validity = std::chrono::hours(1);
  expired_spec.not_before_offset = std::chrono::hours(-2);
  Result<pki::KeyAndCert> expired = pki::IssueCert(expired_spec, ClusterCa(server));
  ASSERT_TRUE(expired.ok());

  // ServiceAccount JWTs signed with the cluster's key but wrong in one way each, and one signed
  // with another key.
  std::string sa_key = ReadFileOrDie(server.dir().File("pki/sa.key"));
  Result<std::unique_ptr<apiserver::TokenIssuer>> issuer = apiserver::TokenIssuer::Create(sa_key, kIssuer);
  ASSERT_TRUE(issuer.ok()) << issuer.status().ToString();
  Result<std::string> other_key = pki::GenerateKeyPem();
  ASSERT_TRUE(other_key.ok());
  Result<std::unique_ptr<apiserver::TokenIssuer>> forger = apiserver::TokenIssuer::Create(*other_key, kIssuer);
  ASSERT_TRUE(forger.ok()) << forger.status().ToString();
  // An account that exists, so only the named flaw makes each token bad.
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/serviceaccounts", R"({"metadata":{"name":"live"}})"),
                 &body),
            201);
  std::string live_uid = JsonField(body, "uid");
  auto claims = [&](int64_t exp_from_now, int64_t nbf_from_now, std::string audience) {
    apiserver::ServiceAccountClaims c;
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    c.issuer = kIssuer;
    c.subject = "system:serviceaccount:default:live";
    c.audiences = {std::move(audience)};
    c.issued_at = now;
    c.not_before = now + nbf_from_now;
    c.expiry = now + exp_from_now;
    c.jti = "test-" + std::to_string(exp_from_now) + "-" + std::to_string(nbf_from_now);
    c.namespace_ = "default";
    c.service_account_name = "live";
    c.service_account_uid = live_uid;
    return c;
  };
  auto sign = [&](apiserver::TokenIssuer& i, const apiserver::ServiceAccountClaims& c) {
    Result<std::string> t = i.Issue(c);
    CK_CHECK(t.ok()) << t.status().ToString();
    return *t;
  };
  std::string good = sign(**issuer, claims(3600, 0, kIssuer));
  ASSERT_EQ(Code(*bare, Req("GET", "/api/v1/namespaces/default/serviceaccounts/live", "", good)), 403)
      << "the well-formed token authenticates (then RBAC refuses)\n" << server.logs();
  std::string expired_jwt = sign(**issuer, claims(-3600, -7200, kIssuer));
  std::string future_jwt = sign(**issuer, claims(7200, 3600, kIssuer));
  std::string wrong_audience = sign(**issuer, claims(3600, 0, "https://somewhere-else.example"));
  std::string forged = sign(**forger, claims(3600, 0, kIssuer));
  // alg "none": the payload of a good token with no signature.
  std::string payload = good.substr(good.find('.') + 1);
  payload = payload.substr(0, payload.find('.'));
  std::string alg_none = Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";

  struct Case {
    std::string name;
    std::string cert, key, token;
  };
  std::vector<Case> cases = {
      {"no-credentials", "", "", ""},
      {"self-signed-cert", self_signed->cert_pem, self_signed->key_pem, ""},
      {"cert-from-another-ca", foreign->cert_pem, foreign->key_pem, ""},
      {"expired-cert", expired->cert_pem, expired->key_pem, ""},
      {"garbage-token", "", "", "this-is-not-a-token"},
      {"expired-jwt", "", "", expired_jwt},
      {"not-yet-valid-jwt", "", "", future_jwt},
      {"jwt-wrong-audience", "", "", wrong_audience},
      {"jwt-forged-signature", "", "", forged},
      {"jwt-alg-none", "", "", alg_none},
      {"token-of-deleted-serviceaccount", "", "", robot_token},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = ClientWith(server, c.cert, c.key);
    std::string cm = R"({"metadata":{"name":")" + c.name + R"("},"data":{"a":"b"}})";
    std::string b;
    EXPECT_EQ(Code(*client, Req("POST", "/api/v1/namespaces/default/configmaps", cm, c.token), &b), 401) << b;
    EXPECT_NE(b.find(R"("reason":"Unauthorized")"), std::string::npos) << b;
    EXPECT_EQ(Code(*client, Req("GET", "/api/v1/namespaces", "", c.token)), 401);
    // Nothing was written on its behalf.
    EXPECT_EQ(Code(*admin, Req("GET", "/api/v1/namespaces/default/configmaps/" + c.name)), 404);
  }
  // Anonymous callers still reach the public paths.
  auto anonymous = ClientWith(server, "", "");
  EXPECT_EQ(Code(*anonymous, Req("GET", "/version")), 200);
  EXPECT_EQ(Code(*anonymous, Req("GET", "/healthz")), 200);
}

TEST(Authentication, TokenRequestTokensCarryTheAccountAndPassTokenReview) {
  ApiServerProcess server;
  auto admin = server.Client();
  std::string body;
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/serviceaccounts", R"({"metadata":{"name":"bot"}})")), 201);
  // Shorter than the 10 minute minimum: 422 with upstream's message.
  EXPECT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                             R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"expirationSeconds":60}})"),
                 &body),
            422)
      << body;
  EXPECT_NE(body.find("may not specify a duration less than 10 minutes"), std::string::npos) << body;
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/serviceaccounts/bot/token",
                             R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}})"),
                 &body),
            201)
      << body;
  std::string token = JsonField(body, "token");
  ASSERT_FALSE(token.empty());
  // Who am I, with that token (no client certificate: it would be the identity).
  auto bare = ClientWith(server, "", "");
  ASSERT_EQ(Code(*bare, Req("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                             R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})", token),
                 &body),
            201)
      << body;
  EXPECT_NE(body.find(R"("username":"system:serviceaccount:default:bot")"), std::string::npos) << body;
  EXPECT_NE(body.find("system:serviceaccounts:default"), std::string::npos) << body;
  // TokenReview (as the admin) says the same.
  ASSERT_EQ(Code(*admin, Req("POST", "/apis/authentication.k8s.io/v1/tokenreviews",
                             R"({"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":")" +
                                 token + R"("}})"),
                 &body),
            201)
      << body;
  EXPECT_NE(body.find(R"("authenticated":true)"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("username":"system:serviceaccount:default:bot")"), std::string::npos) << body;
}

TEST(NodeAuthorization, KubeletReachesOnlyItsOwnPodsAndTheirSecrets) {
  ApiServerProcess server;
  auto admin = server.Client();
  auto node1 = ClientFromKubeconfig(server, "pki/kubelet-node-1.kubeconfig");
  auto node2 = ClientFromKubeconfig(server, "pki/kubelet-node-2.kubeconfig");
  for (const char* node : {"node-1", "node-2"}) {
    ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/nodes", std::string(R"({"metadata":{"name":")") + node + R"("}})")), 201);
  }
  for (int i = 1; i <= 2; ++i) {
    std::string n = std::to_string(i);
    ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/secrets",
                               R"({"metadata":{"name":"secret-)" + n + R"("},"stringData":{"k":"v"}})")),
              201);
    std::string pod = R"({"metadata":{"name":"pod-)" + n + R"("},"spec":{"nodeName":"node-)" + n +
                      R"(","containers":[{"name":"c","image":"busybox","env":[{"name":"S","valueFrom":{"secretKeyRef":{"name":"secret-)" +
                      n + R"(","key":"k"}}}]}]}})";
    std::string b;
    ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/pods", pod), &b), 201) << b;
  }
  // The graph follows the cache: allow a moment for node-1's pod to appear in it.
  std::string b;
  int code = 0;
  for (int i = 0; i < 100 && (code = Code(*node1, Req("GET", "/api/v1/namespaces/default/secrets/secret-1"))) != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(code, 200) << "node-1 reads the secret of its own pod";
  EXPECT_EQ(Code(*node1, Req("GET", "/api/v1/namespaces/default/secrets/secret-2"), &b), 403) << b;
  EXPECT_NE(b.find("system:node:node-1"), std::string::npos) << b;
  EXPECT_EQ(Code(*node1, Req("GET", "/api/v1/namespaces/default/secrets"), &b), 403) << "no listing secrets: " << b;
  EXPECT_EQ(Code(*node2, Req("GET", "/api/v1/namespaces/default/secrets/secret-2")), 200);
  // Pod status: its own pod yes, the other node's pod no.
  std::string status = R"({"status":{"phase":"Running"}})";
  net::ClientRequest own = Req("PATCH", "/api/v1/namespaces/default/pods/pod-1/status", status);
  own.headers.Set("Content-Type", "application/merge-patch+json");
  EXPECT_EQ(Code(*node1, own, &b), 200) << b;
  net::ClientRequest other = Req("PATCH", "/api/v1/namespaces/default/pods/pod-2/status", status);
  other.headers.Set("Content-Type", "application/merge-patch+json");
  EXPECT_EQ(Code(*node1, other, &b), 403) << b;
  // Its own Node yes, the other one no.
  net::ClientRequest own_node = Req("PATCH", "/api/v1/nodes/node-1", R"({"metadata":{"labels":{"a":"b"}}})");
  own_node.headers.Set("Content-Type", "application/merge-patch+json");
  EXPECT_EQ(Code(*node1, own_node, &b), 200) << b;
  net::ClientRequest other_node = Req("PATCH", "/api/v1/nodes/node-2", R"({"metadata":{"labels":{"a":"b"}}})");
  other_node.headers.Set("Content-Type", "application/merge-patch+json");
  EXPECT_EQ(Code(*node1, other_node, &b), 403) << b;
  // Deleting the other node's pod is refused.
  EXPECT_EQ(Code(*node1, Req("DELETE", "/api/v1/namespaces/default/pods/pod-2"), &b), 403) << b;
}

TEST(ResourceQuota, FiftyConcurrentCreatesAgainstAQuotaOfTenAdmitExactlyTen) {
  ApiServerProcess server;
  auto admin = server.Client();
  std::string b;
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces", R"({"metadata":{"name":"q"}})")), 201);
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/q/resourcequotas",
                             R"({"metadata":{"name":"pods"},"spec":{"hard":{"pods":"10"}}})"),
                 &b),
            201)
      << b;
  std::atomic<int> created{0}, forbidden{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 50; ++t) {
    threads.emplace_back([&, t] {
      auto c = server.Client();
      std::string pod = R"({"metadata":{"name":"p)" + std::to_string(t) +
                        R"("},"spec":{"containers":[{"name":"c","image":"busybox"}]}})";
      std::string body;
      int code = Code(*c, Req("POST", "/api/v1/namespaces/q/pods", pod), &body);
      if (code == 201) {
        ++created;
      } else if (code == 403 && body.find("exceeded quota: pods") != std::string::npos) {
        ++forbidden;
      } else {
        ++other;
        ADD_FAILURE() << code << " " << body;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 10);
  EXPECT_EQ(forbidden.load(), 40);
  EXPECT_EQ(other.load(), 0);
  // The quota's status.used says the same, and the store holds exactly 10 pods.
  ASSERT_EQ(Code(*admin, Req("GET", "/api/v1/namespaces/q/resourcequotas/pods"), &b), 200);
  EXPECT_NE(b.find(R"("used":{"pods":"10"})"), std::string::npos) << b;
  ASSERT_EQ(Code(*admin, Req("GET", "/api/v1/namespaces/q/pods"), &b), 200);
  std::regex name_re(R"("name":"p[0-9]+")");
  size_t count = std::distance(std::sregex_iterator(b.begin(), b.end(), name_re), std::sregex_iterator());
  EXPECT_EQ(count, 10u) << b.substr(0, 500);
  // Deleting one frees its place.
  std::smatch m;
  std::regex first_re(R"re("name":"(p[0-9]+)")re");
  ASSERT_TRUE(std::regex_search(b, m, first_re));
  ASSERT_EQ(Code(*admin, Req("DELETE", "/api/v1/namespaces/q/pods/" + m[1].str())), 200);
  EXPECT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/q/pods",
                             R"({"metadata":{"name":"again"},"spec":{"containers":[{"name":"c","image":"busybox"}]}})"),
                 &b),
            201)
      << b;
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

TEST(Visibility, AuditLogAndTheRequestLineNameEachStep) {
  testutil::TempDir dir;
  std::string policy = dir.File("audit-policy.yaml");
  testutil::WriteFileOrDie(policy,
                           "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n"
                           "- level: None\n  nonResourceURLs: [\"/version\", \"/api*\"]\n"
                           "- level: RequestResponse\n  resources:\n  - group: \"\"\n    resources: [configmaps]\n"
                           "- level: Metadata\n");
  std::string log = dir.File("audit.log");
  ApiServerProcess server({"-v=2", "--audit-policy-file=" + policy, "--audit-log-path=" + log});
  auto admin = server.Client();
  std::string b;
  ASSERT_EQ(Code(*admin, Req("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"audited"},"data":{"k":"v"}})"), &b), 201) << b;
  // A user allowed by a RoleBinding: the request line names the binding.
  ASSERT_EQ(Code(*admin, Req("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles",
                             R"({"metadata":{"name":"cm-reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]})")), 201);
  ASSERT_EQ(Code(*admin, Req("POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings",
                             R"({"metadata":{"name":"view-user-cm"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"cm-reader"},"subjects":[{"kind":"User","name":"view-user","apiGroup":"rbac.authorization.k8s.io"}]})")), 201);
  auto bare = ClientWith(server, "", "");
  int code = 0;
  for (int i = 0; i < 100 && (code = Code(*bare, Req("GET", "/api/v1/namespaces/default/configmaps/audited", "", "view-token"))) != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(code, 200);
  EXPECT_EQ(Code(*bare, Req("DELETE", "/api/v1/namespaces/default/configmaps/audited", "", "view-token")), 403);

  // Events are written once the answer is sent: wait for the last one.
  std::string text;
  for (int i = 0; i < 100; ++i) {
    text = ReadFileOrDie(log);
    if (text.find(R"("verb":"delete")") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1) lines.push_back(text.substr(at, nl - at));
  ASSERT_GE(lines.size(), 4u) << text;
  auto find = [&](const std::string& a, const std::string& b2) -> std::string {
    for (const std::string& l : lines) {
      if (l.find(a) != std::string::npos && l.find(b2) != std::string::npos) return l;
    }
    return "";
  };
  std::string create = find(R"("verb":"create")", R"("resource":"configmaps")");
  ASSERT_FALSE(create.empty()) << text;
  EXPECT_NE(create.find(R"("kind":"Event","apiVersion":"audit.k8s.io/v1")"), std::string::npos) << create;
  EXPECT_NE(create.find(R"("level":"RequestResponse")"), std::string::npos) << create;
  EXPECT_NE(create.find(R"("stage":"ResponseComplete")"), std::string::npos) << create;
  EXPECT_NE(create.find(R"("username":"kubernetes-admin")"), std::string::npos) << create;
  EXPECT_NE(create.find(R"("requestObject":{)"), std::string::npos) << create;
  EXPECT_NE(create.find(R"("responseObject":{)"), std::string::npos) << create;
  EXPECT_NE(create.find(R"("authorization.k8s.io/decision":"allow")"), std::string::npos) << create;
  std::string denied = find(R"("verb":"delete")", R"("username":"view-user")");
  ASSERT_FALSE(denied.empty()) << text;
  EXPECT_NE(denied.find(R"("code":403)"), std::string::npos) << denied;
  EXPECT_NE(denied.find(R"("authorization.k8s.io/decision":"forbid")"), std::string::npos) << denied;
  EXPECT_EQ(text.find(R"("requestURI":"/version")"), std::string::npos) << "level None is not logged";
  EXPECT_EQ(text.find(R"("stage":"RequestReceived")"), std::string::npos) << "omitted stage";

  // -v=2: one line per request naming who, how authenticated, the binding that allowed it.
  std::string logs = server.logs();
  size_t at = logs.find("view-user-cm");
  ASSERT_NE(at, std::string::npos) << logs.substr(logs.size() > 4000 ? logs.size() - 4000 : 0);
  size_t line_start = logs.rfind('\n', at) + 1;
  std::string line = logs.substr(line_start, logs.find('\n', at) - line_start);
  EXPECT_NE(line.find("view-user"), std::string::npos) << line;
  EXPECT_NE(line.find("token-file"), std::string::npos) << line;
  EXPECT_NE(line.find("RoleBinding"), std::string::npos) << line;
  EXPECT_NE(line.find("allow"), std::string::npos) << line;
}

}  // namespace
}  // namespace ck

namespace ck {
namespace {

TEST(SecurityFlags, BadValuesExitWithOneLineNamingTheFlag) {
  testutil::TempDir dir;
  std::string bin = testutil::BinDir() + "/ck-apiserver --storage-dir " + dir.File("store") + " ";
  struct Case {
    std::string flags, want;
  };
  std::vector<Case> cases = {
      // An empty list is a value of its own: the next flag is read as a flag, not as the list.
      {"--disable-admission-plugins= --authorization-mode=Bogus", "--authorization-mode: unknown mode \"Bogus\""},
      {"--disable-admission-plugins=NoSuchPlugin", "--disable-admission-plugins: unknown plugin \"NoSuchPlugin\""},
      {"--service-account-signing-key-file=" + dir.File("missing.key") + " --service-account-issuer=https://x",
       "--service-account-signing-key-file"},
      {"--audit-log-path=" + dir.File("audit.log"), "--audit-log-path needs --audit-policy-file"},
      {"--service-account-max-token-expiration=soon", "--service-account-max-token-expiration: not a duration"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.flags);
    testutil::CommandResult r = testutil::RunCommand(bin + c.flags + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find(c.want), std::string::npos) << r.output;
    EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "one line: " << r.output;
  }
}

}  // namespace
}  // namespace ck
