// security_bench: what the security path costs. Pod creates/s with 16 concurrent clients against
// two fresh ck-apiservers, one after the other on the same machine:
//   open:   --authorization-mode=AlwaysAllow and no admission plugins;
//   secure: --authorization-mode=Node,RBAC (the default) and every default admission plugin, the
//           client a token user allowed by a RoleBinding (so RBAC walks a binding, not the
//           system:masters shortcut), the namespace with a `default` ServiceAccount;
//   quota:  secure, plus a LimitRange and a ResourceQuota in the namespace (every create then
//           updates that one quota object in its transaction).
// Prints the rates and secure/open. Target: the security path costs <= 20 % of throughput.
// Usage: security_bench [--pods N] [--rounds N]   (CK_BIN_DIR=build/bin)
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "tests/testutil/apiserver.h"

namespace ck {
namespace {

using Clock = std::chrono::steady_clock;

// Every admission plugin the apiserver enables by default (apiserver/admission/README.md).
constexpr const char* kAllPlugins =
    "NamespaceLifecycle,LimitRanger,ServiceAccount,PodSecurity,Priority,DefaultTolerationSeconds,NodeRestriction,"
    "MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ResourceQuota";

// `admitted`: the pod as admission leaves it (account, projected token volume and its mount,
// the two default tolerations, priority), to tell the cost of the bigger object from the cost of
// the path itself.
std::string PodJson(const std::string& name, bool admitted = false) {
  std::string mounts = admitted ? R"(,"volumeMounts":[{"name":"kube-api-access-x2v4k","readOnly":true,"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}])" : "";
  std::string extra =
      admitted ? R"(,"serviceAccountName":"default","priority":0,"volumes":[{"name":"kube-api-access-x2v4k","projected":{"sources":[)"
                 R"({"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},)"
                 R"({"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"apiVersion":"v1","fieldPath":"metadata.namespace"}}]}}],"defaultMode":420}}],)"
                 R"("tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},)"
                 R"({"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])"
               : "";
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name +
         R"(","labels":{"app":"bench","tier":"web"}},"spec":{"containers":[{"name":"app","image":"registry.example/app:1.2.3",)"
         R"("ports":[{"containerPort":8080,"name":"http"}],"resources":{"requests":{"cpu":"100m","memory":"128Mi"},)"
         R"("limits":{"cpu":"500m","memory":"256Mi"}},"env":[{"name":"MODE","value":"production"}])" + mounts + "}]" + extra + "}}";
}

net::ClientRequest Req(std::string method, std::string target, std::string body, const std::string& token) {
  net::ClientRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  r.body = std::move(body);
  r.headers.Add("Content-Type", "application/json");
  if (!token.empty()) r.headers.Add("Authorization", "Bearer " + token);
  return r;
}

bool Must(net::HttpClient& c, const std::string& path, const std::string& body) {
  auto r = c.Do(Req("POST", path, body, ""));
  if (r.ok() && r->status == 201) return true;
  std::fprintf(stderr, "setup POST %s failed: %s\n", path.c_str(), r.ok() ? r->body.c_str() : r.status().ToString().c_str());
  return false;
}

// Creates/s of `pods` pods with 16 clients; `token` empty = the admin certificate.
double CreateRate(const testutil::ApiServerProcess& server, int pods, const std::string& prefix, const std::string& token,
                  int* errors_out, bool admitted_pods = false) {
  std::atomic<int> next{0}, errors{0};
  auto t0 = Clock::now();
  std::vector<std::thread> ts;
  for (int c = 0; c < 16; ++c) {
    ts.emplace_back([&] {
      // With a token: no client certificate (the certificate would be the identity).
      std::unique_ptr<net::HttpClient> client;
      if (token.empty()) {
        client = server.Client();
      } else {
        net::HttpClientOptions o;
        o.port = server.port();
        o.tls_config.ca_pem = testutil::ReadFileOrDie(server.dir().File("pki/ca.crt"));
        client = std::make_unique<net::HttpClient>(o);
      }
      for (int k; (k = next.fetch_add(1)) < pods;) {
        auto r = client->Do(Req("POST", "/api/v1/namespaces/bench/pods", PodJson(prefix + std::to_string(k), admitted_pods), token));
        if (!r.ok() || r->status != 201) {
          if (errors.fetch_add(1) == 0) std::fprintf(stderr, "create failed: %s\n", r.ok() ? r->body.c_str() : r.status().ToString().c_str());
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  *errors_out = errors.load();
  return pods / std::chrono::duration<double>(Clock::now() - t0).count();
}

int Main(int argc, char** argv) {
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  int pods = 5'000, rounds = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--pods") pods = std::stoi(argv[i + 1]);
    if (f == "--rounds") rounds = std::stoi(argv[i + 1]);
  }
  std::printf("pod creates/s, 16 concurrent clients over HTTPS keep-alive on 127.0.0.1, %d pods per round, best of %d\n\n",
              pods, rounds);
  double open_best = 0, open_big_best = 0, secure_best = 0, quota_best = 0;
  for (int round = 0; round < rounds; ++round) {
    {
      testutil::ApiServerProcess server({"--max-requests-inflight=4000", "--authorization-mode=AlwaysAllow",
                                         std::string("--disable-admission-plugins=") + kAllPlugins});
      auto admin = server.Client();
      if (!Must(*admin, "/api/v1/namespaces", R"({"metadata":{"name":"bench"}})")) return 1;
      int errors = 0;
      double rate = CreateRate(server, pods, "p-", "", &errors);
      if (errors) std::printf("  open: %d creates failed\n", errors);
      open_best = std::max(open_best, rate);
      rate = CreateRate(server, pods, "big-", "", &errors, /*admitted_pods=*/true);
      if (errors) std::printf("  open, admitted-size pods: %d creates failed\n", errors);
      open_big_best = std::max(open_big_best, rate);
    }
    for (bool quota : {false, true}) {
      testutil::ApiServerProcess server({"--max-requests-inflight=4000", "--authorization-mode=Node,RBAC",
                                         "--enable-admission-plugins=ServiceAccount"});
      auto admin = server.Client();
      if (!Must(*admin, "/api/v1/namespaces", R"({"metadata":{"name":"bench"}})") ||
          !Must(*admin, "/api/v1/namespaces/bench/serviceaccounts", R"({"metadata":{"name":"default"}})") ||
          !Must(*admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/bench/roles",
                R"({"metadata":{"name":"pod-writer"},"rules":[{"apiGroups":[""],"resources":["pods"],"verbs":["create","get","list"]}]})") ||
          !Must(*admin, "/apis/rbac.authorization.k8s.io/v1/namespaces/bench/rolebindings",
                R"({"metadata":{"name":"view-user-pod-writer"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"pod-writer"},"subjects":[{"kind":"User","name":"view-user","apiGroup":"rbac.authorization.k8s.io"}]})")) {
        return 1;
      }
      if (quota && (!Must(*admin, "/api/v1/namespaces/bench/limitranges",
                          R"({"metadata":{"name":"limits"},"spec":{"limits":[{"type":"Container","max":{"cpu":"2","memory":"1Gi"},"defaultRequest":{"cpu":"50m"}}]}})") ||
                    !Must(*admin, "/api/v1/namespaces/bench/resourcequotas",
                          R"({"metadata":{"name":"quota"},"spec":{"hard":{"pods":"1000000","requests.cpu":"100000"}}})"))) {
        return 1;
      }
      // The binding reaches the authorizer through its watch.
      net::HttpClientOptions po;
      po.port = server.port();
      po.tls_config.ca_pem = testutil::ReadFileOrDie(server.dir().File("pki/ca.crt"));
      auto probe = std::make_unique<net::HttpClient>(po);
      for (int i = 0; i < 100; ++i) {
        auto r = probe->Do(Req("GET", "/api/v1/namespaces/bench/pods?limit=1", "", "view-token"));
        if (r.ok() && r->status == 200) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      int errors = 0;
      double rate = CreateRate(server, pods, "p-", "view-token", &errors);
      if (errors) std::printf("  secure%s: %d creates failed\n", quota ? " + quota" : "", errors);
      (quota ? quota_best : secure_best) = std::max(quota ? quota_best : secure_best, rate);
    }
  }
  std::printf("%-62s %9.0f/s\n", "AlwaysAllow, no admission", open_best);
  std::printf("%-62s %9.0f/s\n", "AlwaysAllow, no admission, pods sent as admission leaves them", open_big_best);
  std::printf("%-62s %9.0f/s\n", "Node,RBAC + all default admission plugins (RoleBinding user)", secure_best);
  std::printf("%-62s %9.2f   (target >= 0.80: the security path costs <= 20 %%)\n", "secure / open", secure_best / open_best);
  std::printf("%-62s %9.2f   (the path itself, objects of equal size)\n", "secure / open with admitted-size pods",
              secure_best / open_big_best);
  std::printf("%-62s %9.0f/s   (every create updates the one quota)\n", "same + a LimitRange and a ResourceQuota in the namespace",
              quota_best);
  return 0;
}

}  // namespace
}  // namespace ck

int main(int argc, char** argv) { return ck::Main(argc, argv); }
