// Tests for VolumeManager and AtomicWrite in temp dirs, with a FakeClock and in-memory lookups.
#include "kubelet/volume/volume_manager.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/api/codec.h"
#include "common/api/object.h"
#include "common/api/yaml.h"
#include "kubelet/volume/atomic_writer.h"

namespace ck::kubelet {
namespace {

namespace corev1 = k8s::io::api::core::v1;
namespace authv1 = k8s::io::api::authentication::v1;
namespace fs = std::filesystem;

template <typename T>
T FromYaml(const std::string& yaml) {
  auto json = api::YamlToJson(yaml);
  CK_CHECK(json.ok()) << json.status().ToString();
  T out;
  Status s = api::FromJson(*json, &out);
  CK_CHECK(s.ok()) << s.ToString() << "\n" << yaml;
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int ModeOf(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 07777);
}

bool IsSymlink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// A temp dir removed at the end of the test, also when it fails.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "ck-volume-test-XXXXXX").string();
    CK_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class VolumeManagerTest : public ::testing::Test {
 protected:
  VolumeManagerTest() {
    root_ = tmp_.path() + "/node";
    host_ = tmp_.path() + "/host";
    fs::create_directories(host_);
    config_maps_["shop/cfg"] = FromYaml<corev1::ConfigMap>(
        "metadata: {name: cfg, namespace: shop}\ndata: {app.conf: \"port=80\\n\", level: info}\n");
    config_maps_["shop/kube-root-ca.crt"] = FromYaml<corev1::ConfigMap>(
        "metadata: {name: kube-root-ca.crt, namespace: shop}\ndata: {ca.crt: \"-----BEGIN CERTIFICATE-----\\n\"}\n");
    corev1::Secret s;
    s.mutable_metadata()->set_name("creds");
    (*s.mutable_data())["password"] = std::string("p\0w", 3);
    (*s.mutable_data())["user"] = "admin";
    secrets_["shop/creds"] = s;

    VolumeDeps deps;
    deps.root_dir = root_;
    deps.clock = &clock_;
    deps.config_map = [this](const std::string& ns, const std::string& name) -> Result<corev1::ConfigMap> {
      auto it = config_maps_.find(ns + "/" + name);
      if (it == config_maps_.end()) return NotFound("configmaps \"" + name + "\" not found");
      return it->second;
    };
    deps.secret = [this](const std::string& ns, const std::string& name) -> Result<corev1::Secret> {
      auto it = secrets_.find(ns + "/" + name);
      if (it == secrets_.end()) return NotFound("secrets \"" + name + "\" not found");
      return it->second;
    };
    deps.request_token = [this](const std::string& ns, const std::string& sa,
                                const authv1::TokenRequest& req) -> Result<authv1::TokenRequest> {
      if (token_error_) return Unavailable("connection refused");
      ++token_requests_;
      last_token_request_ = req;
      authv1::TokenRequest out = req;
      out.mutable_status()->set_token("token-" + ns + "-" + sa + "-" + std::to_string(token_requests_));
      api::SetTime(out.mutable_status()->mutable_expirationtimestamp(),
                   clock_.Now() + std::chrono::seconds(req.spec().expirationseconds()));
      return out;
    };
    deps.node_allocatable_cpu = "4";
    deps.node_allocatable_memory = "8Gi";
    vm_ = std::make_unique<VolumeManager>(std::move(deps));
  }

  corev1::Pod Pod(const std::string& spec) {
    return FromYaml<corev1::Pod>(
        "metadata: {name: web-1, namespace: shop, uid: uid-1, labels: {app: web}}\n"
        "spec:\n  nodeName: node-1\n  serviceAccountName: builder\n" +
        spec);
  }
  std::string VolDir(const std::string& plugin, const std::string& name) {
    return root_ + "/pods/uid-1/volumes/kubernetes.io~" + plugin + "/" + name;
  }

  TempDir tmp_;
  std::string root_, host_;
  FakeClock clock_;
  std::map<std::string, corev1::ConfigMap> config_maps_;
  std::map<std::string, corev1::Secret> secrets_;
  int token_requests_ = 0;
  bool token_error_ = false;
  authv1::TokenRequest last_token_request_;
  std::unique_ptr<VolumeManager> vm_;
};

TEST_F(VolumeManagerTest, ConfigMapContentsModesAndUpdate) {
  corev1::Pod pod = Pod(
      "  volumes:\n"
      "  - {name: all, configMap: {name: cfg, defaultMode: 0600}}\n"
      "  - {name: some, configMap: {name: cfg, items: [{key: level, path: conf/level.txt, mode: 0400}]}}\n"
      "  containers:\n  - name: app\n    volumeMounts:\n    - {name: all, mountPath: /etc/app}\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  const std::string all = VolDir("configmap", "all");
  EXPECT_EQ(ReadAll(all + "/app.conf"), "port=80\n");
  EXPECT_EQ(ReadAll(all + "/level"), "info");
  EXPECT_EQ(ModeOf(all + "/level"), 0600);
  EXPECT_TRUE(IsSymlink(all + "/..data"));
  EXPECT_TRUE(IsSymlink(all + "/level"));
  EXPECT_EQ(fs::read_symlink(all + "/level").string(), "..data/level");
  const std::string some = VolDir("configmap", "some");
  EXPECT_EQ(ReadAll(some + "/conf/level.txt"), "info");
  EXPECT_EQ(ModeOf(some + "/conf/level.txt"), 0400);
  EXPECT_FALSE(fs::exists(some + "/app.conf"));
  std::string first_target = fs::read_symlink(all + "/..data").string();

  // Same contents: nothing is rewritten.
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(fs::read_symlink(all + "/..data").string(), first_target);

  // An update shows through the same paths; a removed key disappears; the old version is gone.
  (*config_maps_["shop/cfg"].mutable_data())["level"] = "debug";
  config_maps_["shop/cfg"].mutable_data()->erase("app.conf");
  clock_.Advance(std::chrono::seconds(61));
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(ReadAll(all + "/level"), "debug");
  EXPECT_EQ(ReadAll(some + "/conf/level.txt"), "debug");
  EXPECT_FALSE(fs::exists(all + "/app.conf"));
  EXPECT_FALSE(IsSymlink(all + "/app.conf"));
  EXPECT_NE(fs::read_symlink(all + "/..data").string(), first_target);
  EXPECT_FALSE(fs::exists(all + "/" + first_target));

  auto mounts = vm_->MountsFor(pod, pod.spec().containers(0));
  ASSERT_TRUE(mounts.ok()) << mounts.status().ToString();
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].host_path, all);
  EXPECT_EQ((*mounts)[0].container_path, "/etc/app");
  EXPECT_TRUE((*mounts)[0].read_only);
}

TEST_F(VolumeManagerTest, OptionalAndMissingObjects) {
  corev1::Pod optional = Pod("  volumes:\n  - {name: opt, configMap: {name: nope, optional: true}}\n"
                             "  - {name: optkey, configMap: {name: cfg, optional: true, items: [{key: nokey, path: k}]}}\n"
                             "  containers: [{name: app}]\n");
  ASSERT_TRUE(vm_->SetUpPod(optional).ok());
  EXPECT_TRUE(fs::is_directory(VolDir("configmap", "opt")));
  EXPECT_TRUE(IsSymlink(VolDir("configmap", "opt") + "/..data"));

  corev1::Pod missing = Pod("  volumes:\n  - {name: cfg, configMap: {name: x}}\n  - {name: ok, emptyDir: {}}\n"
                            "  containers: [{name: app}]\n");
  Status s = vm_->SetUpPod(missing);
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.message(), "MountVolume.SetUp failed for volume \"cfg\" : configmap \"x\" not found");
  EXPECT_TRUE(fs::is_directory(VolDir("empty-dir", "ok"))) << "volumes that succeed stay";

  corev1::Pod secret = Pod("  volumes:\n  - {name: s, secret: {secretName: gone}}\n  containers: [{name: app}]\n");
  EXPECT_EQ(vm_->SetUpPod(secret).message(), "MountVolume.SetUp failed for volume \"s\" : secret \"gone\" not found");

  corev1::Pod badkey = Pod("  volumes:\n  - {name: s, secret: {secretName: creds, items: [{key: nokey, path: k}]}}\n"
                           "  containers: [{name: app}]\n");
  EXPECT_EQ(vm_->SetUpPod(badkey).message(),
            "MountVolume.SetUp failed for volume \"s\" : references non-existent secret key: nokey");
}

TEST_F(VolumeManagerTest, SecretItemsAndBinaryData) {
  corev1::Pod pod = Pod("  volumes:\n  - {name: s, secret: {secretName: creds, items: [{key: password, path: pw}]}}\n"
                        "  containers: [{name: app}]\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  const std::string dir = VolDir("secret", "s");
  EXPECT_EQ(ReadAll(dir + "/pw"), std::string("p\0w", 3));
  EXPECT_EQ(ModeOf(dir + "/pw"), 0644);
  EXPECT_FALSE(fs::exists(dir + "/user"));
}

TEST_F(VolumeManagerTest, EmptyDirAndHostPathTypes) {
  fs::create_directories(host_ + "/data");
  std::ofstream(host_ + "/file.txt") << "x";
  corev1::Pod pod = Pod("  volumes:\n"
                        "  - {name: scratch, emptyDir: {sizeLimit: 1Gi}}\n"
                        "  - {name: d, hostPath: {path: " + host_ + "/data, type: Directory}}\n"
                        "  - {name: dc, hostPath: {path: " + host_ + "/made/here, type: DirectoryOrCreate}}\n"
                        "  - {name: fc, hostPath: {path: " + host_ + "/new.txt, type: FileOrCreate}}\n"
                        "  - {name: f, hostPath: {path: " + host_ + "/file.txt, type: File}}\n"
                        "  - {name: any, hostPath: {path: " + host_ + "/whatever}}\n"
                        "  containers: [{name: app}]\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(ModeOf(VolDir("empty-dir", "scratch")), 0777);
  EXPECT_TRUE(fs::is_directory(host_ + "/made/here"));
  EXPECT_TRUE(fs::is_regular_file(host_ + "/new.txt"));

  struct Case {
    std::string path, type, error;
  };
  const Case cases[] = {
      {host_ + "/missing", "Directory", "hostPath type check failed: " + host_ + "/missing is not a directory"},
      {host_ + "/file.txt", "Directory", "hostPath type check failed: " + host_ + "/file.txt is not a directory"},
      {host_ + "/data", "File", "hostPath type check failed: " + host_ + "/data is not a file"},
      {host_ + "/data", "FileOrCreate", "hostPath type check failed: " + host_ + "/data is not a file"},
      {host_ + "/data", "Socket", "hostPath type check failed: " + host_ + "/data is not a socket file"},
      {host_ + "/data", "CharDevice", "hostPath type check failed: " + host_ + "/data is not a character device"},
      {host_ + "/data", "BlockDevice", "hostPath type check failed: " + host_ + "/data is not a block device"},
      {host_ + "/data", "Bogus", "Bogus is an invalid volume type"},
  };
  for (const auto& c : cases) {
    corev1::Pod bad = Pod("  volumes:\n  - {name: h, hostPath: {path: " + c.path + ", type: " + c.type +
                          "}}\n  containers: [{name: app}]\n");
    EXPECT_EQ(vm_->SetUpPod(bad).message(), "MountVolume.SetUp failed for volume \"h\" : " + c.error) << c.type;
  }

  // A real socket passes the Socket check.
  std::string sock_path = tmp_.path() + "/s.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", sock_path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  corev1::Pod sock = Pod("  volumes:\n  - {name: h, hostPath: {path: " + sock_path +
                         ", type: Socket}}\n  containers: [{name: app}]\n");
  EXPECT_TRUE(vm_->SetUpPod(sock).ok());
  ::close(fd);
}

TEST_F(VolumeManagerTest, DownwardApiFollowsLabels) {
  corev1::Pod pod = Pod("  volumes:\n  - name: info\n    downwardAPI:\n      items:\n"
                        "      - {path: labels, fieldRef: {fieldPath: metadata.labels}}\n"
                        "      - {path: name, fieldRef: {fieldPath: metadata.name}, mode: 0444}\n"
                        "      - {path: cpu_limit, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}\n"
                        "  containers: [{name: app, resources: {limits: {cpu: 500m}}}]\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  const std::string dir = VolDir("downward-api", "info");
  EXPECT_EQ(ReadAll(dir + "/labels"), "app=\"web\"");
  EXPECT_EQ(ReadAll(dir + "/name"), "web-1");
  EXPECT_EQ(ModeOf(dir + "/name"), 0444);
  EXPECT_EQ(ReadAll(dir + "/cpu_limit"), "500");
  (*pod.mutable_metadata()->mutable_labels())["tier"] = "front";
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(ReadAll(dir + "/labels"), "app=\"web\"\ntier=\"front\"");
}

// The volume the ServiceAccount admission plugin injects.
const char kApiAccessVolume[] =
    "  volumes:\n"
    "  - name: kube-api-access-abcde\n"
    "    projected:\n"
    "      defaultMode: 420\n"
    "      sources:\n"
    "      - serviceAccountToken: {expirationSeconds: 3607, path: token}\n"
    "      - configMap: {name: kube-root-ca.crt, items: [{key: ca.crt, path: ca.crt}]}\n"
    "      - downwardAPI: {items: [{path: namespace, fieldRef: {apiVersion: v1, fieldPath: metadata.namespace}}]}\n"
    "  containers:\n  - name: app\n    volumeMounts:\n"
    "    - {name: kube-api-access-abcde, mountPath: /var/run/secrets/kubernetes.io/serviceaccount, readOnly: true}\n";

TEST_F(VolumeManagerTest, ProjectedServiceAccountVolumeAndTokenRotation) {
  corev1::Pod pod = Pod(kApiAccessVolume);
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  const std::string dir = VolDir("projected", "kube-api-access-abcde");
  EXPECT_EQ(ReadAll(dir + "/token"), "token-shop-builder-1");
  EXPECT_EQ(ReadAll(dir + "/ca.crt"), "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(ReadAll(dir + "/namespace"), "shop");
  EXPECT_EQ(ModeOf(dir + "/token"), 0644);
  EXPECT_EQ(last_token_request_.spec().expirationseconds(), 3607);
  EXPECT_EQ(last_token_request_.spec().audiences_size(), 0);
  EXPECT_EQ(last_token_request_.spec().boundobjectref().kind(), "Pod");
  EXPECT_EQ(last_token_request_.spec().boundobjectref().name(), "web-1");
  EXPECT_EQ(last_token_request_.spec().boundobjectref().uid(), "uid-1");

  // 80 % of 3607 s is 2885.6 s: before it the cached token stays, after it a new one is written.
  clock_.Advance(std::chrono::seconds(2880));
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(token_requests_, 1);
  EXPECT_EQ(ReadAll(dir + "/token"), "token-shop-builder-1");
  clock_.Advance(std::chrono::seconds(10));
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(token_requests_, 2);
  EXPECT_EQ(ReadAll(dir + "/token"), "token-shop-builder-2");

  // A failed refresh keeps the still valid token; once it expired the volume fails.
  token_error_ = true;
  clock_.Advance(std::chrono::seconds(3000));
  EXPECT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(ReadAll(dir + "/token"), "token-shop-builder-2");
  clock_.Advance(std::chrono::seconds(700));
  EXPECT_EQ(vm_->SetUpPod(pod).message(),
            "MountVolume.SetUp failed for volume \"kube-api-access-abcde\" : failed to fetch token: connection refused");

  auto mounts = vm_->MountsFor(pod, pod.spec().containers(0));
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ((*mounts)[0].container_path, "/var/run/secrets/kubernetes.io/serviceaccount");
  EXPECT_TRUE((*mounts)[0].read_only);
}

TEST_F(VolumeManagerTest, LongLivedTokenRefreshedAfter24Hours) {
  corev1::Pod pod = Pod("  volumes:\n  - name: t\n    projected:\n      sources:\n"
                        "      - serviceAccountToken: {audience: vault, expirationSeconds: 604800, path: t}\n"
                        "  containers: [{name: app}]\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(last_token_request_.spec().audiences(0), "vault");
  clock_.Advance(std::chrono::hours(24) - std::chrono::seconds(1));
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(token_requests_, 1);
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  EXPECT_EQ(token_requests_, 2);
  EXPECT_EQ(ReadAll(VolDir("projected", "t") + "/t"), "token-shop-builder-2");
}

TEST_F(VolumeManagerTest, MountsWithSubPaths) {
  corev1::Pod pod = Pod("  volumes:\n  - {name: scratch, emptyDir: {}}\n  - {name: cfg, configMap: {name: cfg}}\n"
                        "  - {name: h, hostPath: {path: " + host_ + "}}\n"
                        "  containers:\n  - name: app\n"
                        "    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n"
                        "    volumeMounts:\n"
                        "    - {name: scratch, mountPath: /data, subPath: sub/dir}\n"
                        "    - {name: scratch, mountPath: /logs, subPathExpr: \"logs/$(POD_NAME)\"}\n"
                        "    - {name: cfg, mountPath: /etc/level, subPath: level}\n"
                        "    - {name: h, mountPath: /host}\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  auto mounts = vm_->MountsFor(pod, pod.spec().containers(0));
  ASSERT_TRUE(mounts.ok()) << mounts.status().ToString();
  ASSERT_EQ(mounts->size(), 4u);
  const std::string scratch = VolDir("empty-dir", "scratch");
  EXPECT_EQ((*mounts)[0].host_path, scratch + "/sub/dir");
  EXPECT_TRUE(fs::is_directory(scratch + "/sub/dir"));
  EXPECT_FALSE((*mounts)[0].read_only);
  EXPECT_EQ((*mounts)[1].host_path, scratch + "/logs/web-1");
  EXPECT_EQ((*mounts)[2].host_path, VolDir("configmap", "cfg") + "/level");
  EXPECT_EQ(ReadAll((*mounts)[2].host_path), "info");
  EXPECT_EQ((*mounts)[3].host_path, host_);

  struct Case {
    std::string mount, error;
  };
  fs::create_symlink(host_, scratch + "/escape");
  const Case cases[] = {
      {"{name: scratch, mountPath: /x, subPath: /abs}", "error SubPath `/abs` must not be an absolute path"},
      {"{name: scratch, mountPath: /x, subPath: a/../../b}", "unable to provision SubPath `a/../../b`: must not contain '..'"},
      {"{name: scratch, mountPath: /x, subPath: escape}",
       "subpath \"" + scratch + "/escape\" not within volume path \"" + scratch + "\""},
      {"{name: scratch, mountPath: /x, subPathExpr: \"$(NOPE)/$(POD_NAME)\"}", "missing value for NOPE"},
      {"{name: other, mountPath: /x}", "cannot find volume \"other\" to mount into container \"app\""},
  };
  for (const auto& c : cases) {
    corev1::Pod bad = Pod("  volumes:\n  - {name: scratch, emptyDir: {}}\n  containers:\n  - name: app\n"
                          "    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]\n"
                          "    volumeMounts: [" + c.mount + "]\n");
    auto r = vm_->MountsFor(bad, bad.spec().containers(0));
    ASSERT_FALSE(r.ok()) << c.mount;
    EXPECT_EQ(r.status().message(), c.error);
  }
}

TEST_F(VolumeManagerTest, TearDownLeavesHostPathAndLinkTargetsIntact) {
  fs::create_directories(host_ + "/keep");
  std::ofstream(host_ + "/keep/precious.txt") << "do not delete";
  corev1::Pod pod = Pod("  volumes:\n  - {name: scratch, emptyDir: {}}\n  - {name: cfg, configMap: {name: cfg}}\n"
                        "  - {name: h, hostPath: {path: " + host_ + "/keep, type: Directory}}\n"
                        "  containers: [{name: app}]\n");
  ASSERT_TRUE(vm_->SetUpPod(pod).ok());
  const std::string scratch = VolDir("empty-dir", "scratch");
  std::ofstream(scratch + "/junk") << "x";
  // A container may leave symlinks to the host behind; teardown removes the links only.
  fs::create_symlink(host_ + "/keep", scratch + "/link-to-host");
  fs::create_symlink(host_ + "/keep/precious.txt", scratch + "/file-link");
  ASSERT_TRUE(vm_->TearDownPod("uid-1").ok());
  EXPECT_FALSE(fs::exists(root_ + "/pods/uid-1/volumes"));
  EXPECT_EQ(ReadAll(host_ + "/keep/precious.txt"), "do not delete");
  EXPECT_TRUE(vm_->TearDownPod("uid-1").ok()) << "idempotent";
  EXPECT_FALSE(vm_->TearDownPod("../x").ok());
}

TEST(AtomicWrite, RejectsBadPaths) {
  TempDir tmp;
  FakeClock clock;
  for (std::string bad : {"/abs", "../up", "a/../../b", "..hidden", "a//b", ""}) {
    EXPECT_EQ(AtomicWrite(tmp.path() + "/v", Payload{{bad, FileProjection{"x", 0644}}}, clock).code(), Code::kInvalid)
        << bad;
  }
  bool changed = false;
  ASSERT_TRUE(AtomicWrite(tmp.path() + "/v", Payload{{"a", FileProjection{"1", 0644}}}, clock, &changed).ok());
  EXPECT_TRUE(changed);
  ASSERT_TRUE(AtomicWrite(tmp.path() + "/v", Payload{{"a", FileProjection{"1", 0644}}}, clock, &changed).ok());
  EXPECT_FALSE(changed);
  ASSERT_TRUE(AtomicWrite(tmp.path() + "/v", Payload{{"a", FileProjection{"1", 0600}}}, clock, &changed).ok());
  EXPECT_TRUE(changed) << "a mode change rewrites";
  EXPECT_EQ(ModeOf(tmp.path() + "/v/a"), 0600);
}

}  // namespace
}  // namespace ck::kubelet
