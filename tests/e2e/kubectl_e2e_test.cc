// The real kubectl against a freshly started ck-apiserver over HTTPS: with the admin client
// certificate and with a bearer token, through the gcloud dispatcher (/usr/bin/kubectl, which
// picks 1.32 from the server's /version) and with kubectl 1.27 and 1.33 directly.
#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <regex>
#include <string>

#include "common/pki/pki.h"
#include "tests/testutil/apiserver.h"
#include "tests/testutil/testutil.h"

namespace ck {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testutil::RunCommand;
using testutil::Subprocess;

constexpr const char* kKubectl127 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.27";
constexpr const char* kKubectl133 = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";

// One apiserver and kubectl wired to it (HOME and the discovery cache in the server's temp dir).
class Cluster {
 public:
  Cluster() = default;

  void Restart() { EXPECT_EQ(server_.Restart(), 0) << server_.logs(); }

  // Runs kubectl (the dispatcher by default) with the admin kubeconfig; `args` is shell text.
  testutil::CommandResult Kubectl(const std::string& args, const std::string& binary = "kubectl",
                                  const std::string& kubeconfig = "") const {
    std::string kc = kubeconfig.empty() ? server_.admin_kubeconfig() : kubeconfig;
    std::string cmd = "HOME=" + Dir() + " KUBECONFIG=" + kc + " " + binary + " --cache-dir " +
                      server_.dir().File("cache-" + std::to_string(std::hash<std::string>()(binary))) + " " + args +
                      " 2>&1";
    return RunCommand(cmd);
  }
  std::string File(const std::string& name, const std::string& content) const {
    testutil::WriteFileOrDie(server_.dir().File(name), content);
    return server_.dir().File(name);
  }
  std::string TokenKubeconfig() const { return server_.token_kubeconfig(); }
  std::string AdminKubeconfig() const { return server_.admin_kubeconfig(); }
  std::string Logs() const { return server_.logs(); }
  std::string Dir() const { return server_.dir().path(); }
  uint16_t port() const { return server_.port(); }

 private:
  testutil::ApiServerProcess server_;
};

class KubectlE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new Cluster(); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  static testutil::CommandResult K(const std::string& args) { return cluster_->Kubectl(args); }
  static Cluster* cluster_;
};
Cluster* KubectlE2E::cluster_ = nullptr;

#define EXPECT_OK(r) EXPECT_EQ((r).exit_code, 0) << (r).output

const char* kDeployment = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        env:
        - {name: A, value: "1"}
        ports:
        - containerPort: 80
)";

TEST_F(KubectlE2E, VersionAndDiscovery) {
  auto v = K("version");
  EXPECT_OK(v);
  EXPECT_THAT(v.output, HasSubstr("Server Version: v1.32.0"));
  auto r = K("api-resources");
  EXPECT_OK(r);
  EXPECT_THAT(r.output, testing::ContainsRegex("pods +po +v1 +true +Pod"));
  EXPECT_THAT(r.output, testing::ContainsRegex("deployments +deploy +apps/v1 +true +Deployment"));
  auto ci = K("cluster-info");
  EXPECT_OK(ci);
  EXPECT_THAT(ci.output, HasSubstr("is running at https://127.0.0.1:" + std::to_string(cluster_->port())));
  auto e = K("explain pod.spec.containers");
  EXPECT_OK(e);
  EXPECT_THAT(e.output, HasSubstr("FIELDS:"));
  EXPECT_THAT(e.output, HasSubstr("image"));
  auto raw = K("get --raw '/readyz?verbose'");
  EXPECT_OK(raw);
  EXPECT_THAT(raw.output, HasSubstr("readyz check passed"));
}

TEST_F(KubectlE2E, BootstrapObjectsExist) {
  auto ns = K("get namespaces");
  EXPECT_OK(ns);
  for (const char* n : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    EXPECT_THAT(ns.output, testing::ContainsRegex(std::string(n) + " +Active")) << n;
  }
  auto svc = K("get svc kubernetes -o jsonpath='{.spec.clusterIP} {.spec.ports[0].port}'");
  EXPECT_OK(svc);
  EXPECT_EQ(svc.output, "10.96.0.1 443");
  auto ep = K("get endpoints kubernetes -o jsonpath='{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}'");
  EXPECT_OK(ep);
  EXPECT_EQ(ep.output, "127.0.0.1:" + std::to_string(cluster_->port()));
}

TEST_F(KubectlE2E, CreateGetListSelectorsAndOutputs) {
  EXPECT_OK(K("create namespace e2e-get"));
  std::string manifest = R"(apiVersion: v1
kind: ConfigMap
metadata: {name: one, namespace: e2e-get, labels: {tier: a}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two, namespace: e2e-get, labels: {tier: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: e2e-get, labels: {app: x}}
spec:
  containers: [{name: c, image: busybox}]
)";
  auto c = K("create -f " + cluster_->File("multi.yaml", manifest));
  EXPECT_OK(c);
  EXPECT_THAT(c.output, HasSubstr("configmap/one created"));
  EXPECT_THAT(c.output, HasSubstr("configmap/two created"));
  EXPECT_THAT(c.output, HasSubstr("pod/p1 created"));

  auto l = K("get cm -n e2e-get -l tier=a");
  EXPECT_OK(l);
  EXPECT_THAT(l.output, HasSubstr("one"));
  EXPECT_THAT(l.output, Not(HasSubstr("two")));
  auto f = K("get cm -n e2e-get --field-selector metadata.name=two -o name");
  EXPECT_OK(f);
  EXPECT_EQ(f.output, "configmap/two\n");
  auto a = K("get pods -A");
  EXPECT_OK(a);
  EXPECT_THAT(a.output, testing::ContainsRegex("e2e-get +p1 +0/1 +Pending +0"));
  auto w = K("get pods -n e2e-get -o wide");
  EXPECT_OK(w);
  EXPECT_THAT(w.output, testing::ContainsRegex("NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES"));
  auto y = K("get cm one -n e2e-get -o yaml");
  EXPECT_OK(y);
  EXPECT_THAT(y.output, HasSubstr("tier: a"));
  EXPECT_THAT(y.output, testing::ContainsRegex("resourceVersion: \"[0-9]+\""));
  EXPECT_THAT(y.output, testing::ContainsRegex("uid: [0-9a-f-]{36}"));
  auto j = K("get cm -n e2e-get -o json");
  EXPECT_OK(j);
  EXPECT_THAT(j.output, HasSubstr("\"kind\": \"List\""));
  auto jp = K("get cm one -n e2e-get -o jsonpath='{.data.k}'");
  EXPECT_OK(jp);
  EXPECT_EQ(jp.output, "v");
  auto sl = K("get cm -n e2e-get --show-labels");
  EXPECT_OK(sl);
  EXPECT_THAT(sl.output, HasSubstr("tier=a"));
  auto sb = K("get cm -n e2e-get --sort-by=.metadata.name -o name");
  EXPECT_OK(sb);
  EXPECT_EQ(sb.output, "configmap/one\nconfigmap/two\n");
  auto nf = K("get pod nope -n e2e-get");
  EXPECT_EQ(nf.exit_code, 1);
  EXPECT_THAT(nf.output, HasSubstr("Error from server (NotFound): pods \"nope\" not found"));
  auto d = K("describe pod p1 -n e2e-get");
  EXPECT_OK(d);
  EXPECT_THAT(d.output, testing::ContainsRegex("Name: +p1"));
  auto again = K("create -f " + cluster_->File("multi.yaml", manifest));
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.output, HasSubstr("AlreadyExists"));
}

TEST_F(KubectlE2E, ImperativeCreates) {
  EXPECT_OK(K("create namespace e2e-imp"));
  EXPECT_OK(K("create configmap cfg -n e2e-imp --from-literal=a=b"));
  EXPECT_OK(K("create secret generic sec -n e2e-imp --from-literal=password=x"));
  EXPECT_OK(K("create deployment dep -n e2e-imp --image=nginx --replicas=3"));
  EXPECT_OK(K("create job job1 -n e2e-imp --image=busybox -- echo hi"));
  auto sec = K("get secret sec -n e2e-imp -o jsonpath='{.data.password}'");
  EXPECT_OK(sec);
  EXPECT_EQ(sec.output, "eA==");
  auto dep = K("get deploy dep -n e2e-imp -o jsonpath='{.spec.replicas} {.metadata.generation}'");
  EXPECT_OK(dep);
  EXPECT_EQ(dep.output, "3 1");
}

TEST_F(KubectlE2E, ApplyTwiceDiffDryRunScaleLabelAnnotate) {
  EXPECT_OK(K("create namespace e2e-apply"));
  std::string path = cluster_->File("dep.yaml", kDeployment);
  auto a1 = K("apply -n e2e-apply -f " + path);
  EXPECT_OK(a1);
  EXPECT_THAT(a1.output, HasSubstr("deployment.apps/web created"));
  auto same = K("apply -n e2e-apply -f " + path);
  EXPECT_OK(same);
  EXPECT_THAT(same.output, HasSubstr("deployment.apps/web unchanged"));
  // A field set by someone else survives the next apply.
  EXPECT_OK(K("annotate deploy web -n e2e-apply owner=ops"));
  EXPECT_OK(K("label deploy web -n e2e-apply extra=yes"));
  std::string changed = kDeployment;
  changed.replace(changed.find("replicas: 2"), 11, "replicas: 4");
  changed.replace(changed.find("nginx:1.25"), 10, "nginx:1.26");
  changed.replace(changed.find("value: \"1\""), 10, "value: \"2\"");
  std::string path2 = cluster_->File("dep2.yaml", changed);
  auto diff = K("diff -n e2e-apply -f " + path2);
  EXPECT_EQ(diff.exit_code, 1) << diff.output;  // 1: differences found
  EXPECT_THAT(diff.output, HasSubstr("+  replicas: 4"));
  auto dry = K("apply --dry-run=server -n e2e-apply -f " + path2);
  EXPECT_OK(dry);
  EXPECT_THAT(dry.output, HasSubstr("configured (server dry run)"));
  EXPECT_EQ(K("get deploy web -n e2e-apply -o jsonpath='{.spec.replicas}'").output, "2");
  auto a2 = K("apply -n e2e-apply -f " + path2);
  EXPECT_OK(a2);
  EXPECT_THAT(a2.output, HasSubstr("deployment.apps/web configured"));
  auto got = K("get deploy web -n e2e-apply -o jsonpath='{.spec.replicas} {.spec.template.spec.containers[0].image} "
               "{.spec.template.spec.containers[0].env[0].value} {.metadata.annotations.owner} {.metadata.labels.extra} "
               "{.metadata.generation} {.spec.template.spec.containers[0].ports[0].containerPort}'");
  EXPECT_OK(got);
  EXPECT_EQ(got.output, "4 nginx:1.26 2 ops yes 2 80");
  auto sc = K("scale deploy web -n e2e-apply --replicas=5");
  EXPECT_OK(sc);
  EXPECT_THAT(sc.output, HasSubstr("deployment.apps/web scaled"));
  EXPECT_EQ(K("get deploy web -n e2e-apply -o jsonpath='{.spec.replicas}'").output, "5");
  auto sc2 = K("scale deploy web -n e2e-apply --current-replicas=5 --replicas=1");
  EXPECT_OK(sc2);
  EXPECT_EQ(K("get deploy web -n e2e-apply -o jsonpath='{.spec.replicas}'").output, "1");
  auto rm = K("label deploy web -n e2e-apply extra-");
  EXPECT_OK(rm);
  EXPECT_EQ(K("get deploy web -n e2e-apply -o jsonpath='{.metadata.labels}'").output, "{\"app\":\"web\"}");
}

TEST_F(KubectlE2E, EditWithEditor) {
  EXPECT_OK(K("create namespace e2e-edit"));
  EXPECT_OK(K("create configmap ed -n e2e-edit --from-literal=color=blue"));
  std::string editor = cluster_->File("editor.sh", "#!/bin/sh\nsed -i 's/color: blue/color: green/' \"$1\"\n");
  RunCommand("chmod +x " + editor);
  auto r = RunCommand("HOME=" + cluster_->Dir() + " KUBE_EDITOR=" + editor + " KUBECONFIG=" + cluster_->Dir() +
                      "/pki/admin.kubeconfig kubectl edit cm ed -n e2e-edit 2>&1");
  EXPECT_OK(r);
  EXPECT_THAT(r.output, HasSubstr("configmap/ed edited"));
  EXPECT_EQ(K("get cm ed -n e2e-edit -o jsonpath='{.data.color}'").output, "green");
}

TEST_F(KubectlE2E, InvalidManifestPrintsCauses) {
  auto r = K("create -f " + cluster_->File("bad.yaml", R"(apiVersion: v1
kind: Pod
metadata: {name: Bad_Name}
spec:
  containers: [{name: c}]
)"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("The Pod \"Bad_Name\" is invalid"));
  EXPECT_THAT(r.output, HasSubstr("metadata.name: Invalid value: \"Bad_Name\""));
  EXPECT_THAT(r.output, HasSubstr("spec.containers[0].image: Required value"));
  auto unknown = K("create -f " + cluster_->File("unknown.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata: {name: u}
datax: {a: b}
)"));
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_THAT(unknown.output, HasSubstr("unknown field \"datax\""));
}

TEST_F(KubectlE2E, WatchSeesAddedModifiedDeleted) {
  EXPECT_OK(K("create namespace e2e-watch"));
  std::string out = cluster_->Dir() + "/watch.out";
  Subprocess w({"/bin/sh", "-c",
                "HOME=" + cluster_->Dir() + " KUBECONFIG=" + cluster_->Dir() +
                    "/pki/admin.kubeconfig exec kubectl get cm -n e2e-watch -w --output-watch-events > " + out +
                    " 2>&1"});
  auto content = [&] {
    std::ifstream f(out);
    return std::string(std::istreambuf_iterator<char>(f), {});
  };
  // The watch is established once an object created now shows up in its output.
  bool watching = testutil::WaitUntil([&] {
    static int n = 0;
    auto r = K("create configmap probe-" + std::to_string(++n) + " -n e2e-watch");
    return r.exit_code == 0 && content().find("ADDED") != std::string::npos;
  }, std::chrono::seconds(20), std::chrono::milliseconds(500));
  ASSERT_TRUE(watching) << content();
  EXPECT_OK(K("create configmap wcm -n e2e-watch --from-literal=a=1"));
  EXPECT_OK(K("patch configmap wcm -n e2e-watch --type=merge -p '{\"data\":{\"a\":\"2\"}}'"));
  EXPECT_OK(K("delete configmap wcm -n e2e-watch"));
  bool all = testutil::WaitUntil([&] {
    std::string c = content();
    // Table rows: EVENT NAME DATA AGE, one per event.
    return std::regex_search(c, std::regex("ADDED +wcm +1 ")) && std::regex_search(c, std::regex("MODIFIED +wcm +1 ")) &&
           std::regex_search(c, std::regex("DELETED +wcm +1 "));
  }, std::chrono::seconds(20));
  EXPECT_TRUE(all) << content();
  w.Signal(SIGTERM);
  w.Wait(std::chrono::seconds(5));
}

TEST_F(KubectlE2E, DeleteFileAndWait) {
  EXPECT_OK(K("create namespace e2e-del"));
  std::string path = cluster_->File("del.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata: {name: d1, namespace: e2e-del}
---
apiVersion: v1
kind: Service
metadata: {name: s1, namespace: e2e-del}
spec:
  ports: [{port: 80}]
  selector: {app: x}
)");
  EXPECT_OK(K("create -f " + path));
  auto d = K("delete -f " + path + " --wait");
  EXPECT_OK(d);
  EXPECT_THAT(d.output, HasSubstr("configmap \"d1\" deleted"));
  EXPECT_THAT(d.output, HasSubstr("service \"s1\" deleted"));
  EXPECT_NE(K("get cm d1 -n e2e-del").exit_code, 0);
}

TEST_F(KubectlE2E, BearerTokenAndOtherKubectlVersions) {
  auto who = cluster_->Kubectl("auth whoami", "kubectl", cluster_->TokenKubeconfig());
  EXPECT_OK(who);
  EXPECT_THAT(who.output, HasSubstr("token-user"));
  auto can = cluster_->Kubectl("auth can-i delete pods", "kubectl", cluster_->TokenKubeconfig());
  EXPECT_OK(can);
  EXPECT_THAT(can.output, HasSubstr("yes"));
  auto bad = RunCommand("HOME=" + cluster_->Dir() + " kubectl --server https://127.0.0.1:" + std::to_string(cluster_->port()) +
                        " --certificate-authority " + cluster_->Dir() + "/pki/ca.crt --token wrong get pods 2>&1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.output, HasSubstr("You must be logged in to the server"));
  for (const char* bin : {kKubectl127, kKubectl133}) {
    auto g = cluster_->Kubectl("get ns default", bin);
    EXPECT_OK(g) << bin;
    EXPECT_THAT(g.output, testing::ContainsRegex("default +Active")) << bin;
    auto c = cluster_->Kubectl("create configmap from-" + std::string(bin).substr(std::string(bin).size() - 4) +
                                   " --from-literal=a=b",
                               bin);
    EXPECT_OK(c) << bin;
    auto ap = cluster_->Kubectl("apply --validate=false -f " + cluster_->File("v.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied-" +
                                                                                        std::string(bin).substr(std::string(bin).size() - 2) + "}\n"),
                                bin);
    EXPECT_OK(ap) << bin;
  }
}

TEST_F(KubectlE2E, ObjectsSurviveRestart) {
  EXPECT_OK(K("create namespace e2e-restart"));
  EXPECT_OK(K("create configmap keep -n e2e-restart --from-literal=x=y"));
  std::string rv = K("get cm keep -n e2e-restart -o jsonpath='{.metadata.resourceVersion}'").output;
  cluster_->Restart();
  auto g = K("get cm keep -n e2e-restart -o jsonpath='{.data.x} {.metadata.resourceVersion}'");
  EXPECT_OK(g);
  EXPECT_EQ(g.output, "y " + rv);
  EXPECT_OK(K("create configmap after -n e2e-restart"));
  EXPECT_GT(std::stoll(K("get cm after -n e2e-restart -o jsonpath='{.metadata.resourceVersion}'").output), std::stoll(rv));
}

}  // namespace
}  // namespace ck
