// Manifest parsing, defaulting and hashing (static_pod.h) and the directory scan (file_source.h).
#include "kubelet/config/static_pod.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "common/base/check.h"
#include "kubelet/config/file_source.h"
#include "kubelet/pod/mirror_pod.h"

namespace ck::kubelet {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kYaml[] = R"(apiVersion: v1
kind: Pod
metadata:
  name: web
  labels:
    app: web
spec:
  containers:
  - name: main
    image: nginx:1.25
    command: ["sleep", "3600"]
)";

// The same pod in JSON, laid out differently.
constexpr char kJson[] = R"({"kind": "Pod", "apiVersion": "v1",
  "metadata": {"labels": {"app": "web"}, "name": "web"},
  "spec": {"containers": [{"name": "main", "image": "nginx:1.25", "command": ["sleep", "3600"]}]}})";

const std::string& Ann(const corev1::Pod& pod, std::string_view key) {
  static const std::string kNone = "<none>";
  auto it = pod.metadata().annotations().find(std::string(key));
  return it == pod.metadata().annotations().end() ? kNone : it->second;
}

TEST(ParseStaticPodTest, AppliesTheKubeletAndApiServerDefaults) {
  Result<corev1::Pod> pod = ParseStaticPod(kYaml, "/etc/manifests/web.yaml", "node-1");
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ(pod->metadata().name(), "web-node-1");
  EXPECT_EQ(pod->metadata().namespace_(), "default");
  EXPECT_EQ(pod->metadata().uid().size(), 32u);  // hex MD5, as upstream
  EXPECT_EQ(pod->spec().nodename(), "node-1");
  EXPECT_EQ(Ann(*pod, kConfigHashAnnotation), pod->metadata().uid());
  EXPECT_EQ(Ann(*pod, kConfigSourceAnnotation), "file");
  EXPECT_EQ(Ann(*pod, kConfigFirstSeenAnnotation), "<none>");  // the source's to set
  EXPECT_TRUE(IsStaticPod(*pod));
  EXPECT_FALSE(IsMirrorPod(*pod));
  ASSERT_EQ(pod->spec().tolerations_size(), 1);
  EXPECT_EQ(pod->spec().tolerations(0).operator_(), "Exists");
  EXPECT_EQ(pod->spec().tolerations(0).effect(), "NoExecute");
  EXPECT_EQ(pod->spec().tolerations(0).key(), "");
  EXPECT_EQ(pod->status().phase(), "Pending");
  // The API server's pod defaulting.
  EXPECT_EQ(pod->spec().restartpolicy(), "Always");
  EXPECT_EQ(pod->spec().terminationgraceperiodseconds(), 30);
  EXPECT_EQ(pod->spec().dnspolicy(), "ClusterFirst");
  EXPECT_EQ(pod->spec().containers(0).terminationmessagepath(), "/dev/termination-log");
  EXPECT_EQ(pod->spec().containers(0).terminationmessagepolicy(), "File");
  EXPECT_EQ(pod->spec().containers(0).imagepullpolicy(), "IfNotPresent");
  EXPECT_EQ(pod->metadata().labels().at("app"), "web");
}

TEST(ParseStaticPodTest, KeepsNamespaceTolerationsAndAnExplicitUid) {
  std::string yaml = std::string(kYaml);
  yaml.replace(yaml.find("  name: web\n"), 12, "  name: web\n  namespace: kube-system\n  uid: fixed-uid\n");
  yaml += "  tolerations:\n  - operator: Exists\n    effect: NoExecute\n";
  Result<corev1::Pod> pod = ParseStaticPod(yaml, "/m/web.yaml", "node-1");
  ASSERT_TRUE(pod.ok()) << pod.status().ToString();
  EXPECT_EQ(pod->metadata().namespace_(), "kube-system");
  EXPECT_EQ(pod->metadata().uid(), "fixed-uid");
  EXPECT_EQ(Ann(*pod, kConfigHashAnnotation), "fixed-uid");
  EXPECT_EQ(pod->spec().tolerations_size(), 1);  // not added twice
}

TEST(ParseStaticPodTest, UidFollowsContentNodeAndSourceNotLayout) {
  auto uid = [](std::string_view data, const std::string& path, const std::string& node) {
    Result<corev1::Pod> pod = ParseStaticPod(data, path, node);
    CK_CHECK(pod.ok()) << pod.status().ToString();
    return pod->metadata().uid();
  };
  const std::string base = uid(kYaml, "/m/web.yaml", "node-1");
  EXPECT_EQ(uid(kYaml, "/m/web.yaml", "node-1"), base);  // stable across reads (restarts)
  EXPECT_EQ(uid(std::string("# a comment\n") + kYaml + "\n\n", "/m/web.yaml", "node-1"), base);
  EXPECT_EQ(uid(kJson, "/m/web.yaml", "node-1"), base);  // the same pod in JSON
  EXPECT_NE(uid(kYaml, "/m/web.yaml", "node-2"), base);
  EXPECT_NE(uid(kYaml, "/m/other.yaml", "node-1"), base);
  std::string changed = kYaml;
  changed.replace(changed.find("3600"), 4, "3601");
  EXPECT_NE(uid(changed, "/m/web.yaml", "node-1"), base);
}

TEST(ParseStaticPodTest, BadManifestsSayWhy) {
  auto error = [](std::string_view data) {
    Result<corev1::Pod> pod = ParseStaticPod(data, "/m/x.yaml", "node-1");
    EXPECT_FALSE(pod.ok());
    EXPECT_EQ(pod.status().code(), Code::kInvalid);
    return pod.status().message();
  };
  EXPECT_NE(error("apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n").find("couldn't parse as pod: yaml"),
            std::string::npos);
  EXPECT_NE(error("{\"kind\": \"Pod\", ").find("couldn't parse as pod"), std::string::npos);
  EXPECT_EQ(error("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"),
            "kind \"Deployment\" is not a Pod");
  EXPECT_EQ(error("metadata:\n  name: web\n"), "couldn't parse as pod: Object 'Kind' is missing");
  EXPECT_NE(error("apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers: []\n")
                .find("spec.containers: Required value"),
            std::string::npos);
  EXPECT_NE(error("apiVersion: v1\nkind: Pod\nmetadata:\n  name: Web_1\nspec:\n  containers:\n  - name: c\n    image: i\n")
                .find("metadata.name: Invalid value"),
            std::string::npos);
  EXPECT_NE(error("apiVersion: v1\nkind: Pod\nspec:\n  containers: 3\n").find("cannot unmarshal"), std::string::npos);
}

TEST(FormatRfc3339NanoTest, TrimsTrailingZeros) {
  EXPECT_EQ(FormatRfc3339Nano(WallTime(std::chrono::seconds(1714564800))), "2024-05-01T12:00:00Z");
  EXPECT_EQ(FormatRfc3339Nano(WallTime(std::chrono::seconds(1714564800) + std::chrono::nanoseconds(120000000))),
            "2024-05-01T12:00:00.12Z");
  EXPECT_EQ(FormatRfc3339Nano(WallTime(std::chrono::seconds(1714564800) + std::chrono::nanoseconds(7))),
            "2024-05-01T12:00:00.000000007Z");
}

class FileSourceTest : public ::testing::Test {
 protected:
  FileSourceTest() : clock_(WallTime(std::chrono::seconds(1714564800))) {
    std::string tmpl = (fs::temp_directory_path() / "ck-file-source-XXXXXX").string();
    CK_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
  }
  ~FileSourceTest() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& content) {
    fs::create_directories(fs::path(dir_ + "/" + name).parent_path());
    std::ofstream(dir_ + "/" + name) << content;
  }
  static std::string Named(std::string_view manifest, const std::string& name) {
    std::string s(manifest);
    if (size_t at = s.find("name: web"); at != std::string::npos) return s.replace(at, 9, "name: " + name);
    return s.replace(s.find("\"name\": \"web\""), 13, "\"name\": \"" + name + "\"");
  }
  static std::vector<std::string> Names(const FileSource::Snapshot& s) {
    std::vector<std::string> out;
    for (const auto& p : s.pods) out.push_back(p->metadata().name());
    return out;
  }

  std::string dir_;
  FakeClock clock_;
};

TEST_F(FileSourceTest, ReadsYamlAndJsonSkipsHiddenOtherFilesAndSubdirectories) {
  Write("a.yaml", Named(kYaml, "a"));
  Write("b.json", Named(kJson, "b"));
  Write("c.yml", Named(kYaml, "c"));
  Write(".hidden.yaml", Named(kYaml, "hidden"));
  Write("notes.txt", "not a pod");
  Write("sub/d.yaml", Named(kYaml, "d"));
  FileSource source(dir_, "node-1", clock_);
  FileSource::Snapshot s = source.Scan();
  EXPECT_EQ(Names(s), (std::vector<std::string>{"a-node-1", "b-node-1", "c-node-1"}));
  EXPECT_TRUE(s.errors.empty());
}

TEST_F(FileSourceTest, BadFileIsSkippedAndNamedOthersStillRun) {
  Write("a.yaml", Named(kYaml, "a"));
  Write("bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  containers: []\n");
  FileSource source(dir_, "node-1", clock_);
  FileSource::Snapshot s = source.Scan();
  EXPECT_EQ(Names(s), std::vector<std::string>{"a-node-1"});
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_EQ(s.errors[0].rfind(dir_ + "/bad.yaml: invalid pod: ", 0), 0u) << s.errors[0];
  // Fixed: it runs from the next scan on.
  Write("bad.yaml", Named(kYaml, "bad"));
  s = source.Scan();
  EXPECT_EQ(Names(s), (std::vector<std::string>{"a-node-1", "bad-node-1"}));
  EXPECT_TRUE(s.errors.empty());
}

TEST_F(FileSourceTest, FirstSeenStaysUntilTheContentChanges) {
  Write("a.yaml", Named(kYaml, "a"));
  FileSource source(dir_, "node-1", clock_);
  FileSource::Snapshot first = source.Scan();
  ASSERT_EQ(first.pods.size(), 1u);
  EXPECT_EQ(Ann(*first.pods[0], kConfigFirstSeenAnnotation), "2024-05-01T12:00:00Z");
  clock_.Advance(90s);
  FileSource::Snapshot again = source.Scan();
  ASSERT_EQ(again.pods.size(), 1u);
  EXPECT_EQ(again.pods[0], first.pods[0]);  // the same object: nothing changed
  std::string changed = Named(kYaml, "a");
  changed.replace(changed.find("3600"), 4, "60");
  Write("a.yaml", changed);
  FileSource::Snapshot edited = source.Scan();
  ASSERT_EQ(edited.pods.size(), 1u);
  EXPECT_NE(edited.pods[0]->metadata().uid(), first.pods[0]->metadata().uid());
  EXPECT_EQ(Ann(*edited.pods[0], kConfigFirstSeenAnnotation), "2024-05-01T12:01:30Z");
}

TEST_F(FileSourceTest, DuplicateNamesKeepTheFirstFile) {
  Write("a.yaml", Named(kYaml, "same"));
  Write("b.yaml", Named(kYaml, "same") + "  restartPolicy: Never\n");
  FileSource source(dir_, "node-1", clock_);
  FileSource::Snapshot s = source.Scan();
  ASSERT_EQ(s.pods.size(), 1u);
  EXPECT_EQ(s.pods[0]->spec().restartpolicy(), "Always");
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("b.yaml: duplicate pod default/same-node-1"), std::string::npos);
}

TEST_F(FileSourceTest, SingleFileAndMissingPath) {
  Write("pod.manifest", Named(kYaml, "single"));
  FileSource single(dir_ + "/pod.manifest", "node-1", clock_);
  EXPECT_EQ(Names(single.Scan()), std::vector<std::string>{"single-node-1"});
  FileSource missing(dir_ + "/nope", "node-1", clock_);
  FileSource::Snapshot s = missing.Scan();
  EXPECT_TRUE(s.pods.empty());
  ASSERT_EQ(s.errors.size(), 1u);
  EXPECT_NE(s.errors[0].find("path does not exist"), std::string::npos);
}

TEST_F(FileSourceTest, RemovedFileLeavesTheSet) {
  Write("a.yaml", Named(kYaml, "a"));
  Write("b.yaml", Named(kYaml, "b"));
  FileSource source(dir_, "node-1", clock_);
  EXPECT_EQ(source.Scan().pods.size(), 2u);
  fs::remove(dir_ + "/a.yaml");
  EXPECT_EQ(Names(source.Scan()), std::vector<std::string>{"b-node-1"});
}

}  // namespace
}  // namespace ck::kubelet
