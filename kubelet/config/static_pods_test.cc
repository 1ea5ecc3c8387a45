// StaticPods on FakeApi and a FakeClock: static pods reach the pod manager from the manifest
// directory; mirror pods are created, recreated after a delete or a manifest change, and deleted
// with the manifest; the static pod's status lands on its mirror (StatusManager, and end to end
// through a PodManager over FakeRuntime). Waits are conditions with real-time deadlines.
#include "kubelet/config/static_pods.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <mutex>

#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "common/base/check.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/testing/fake_api.h"
#include "common/client/workqueue/wait_for_testing.h"
#include "kubelet/pod/pod_manager.h"
#include "kubelet/pod/status_manager.h"
#include "kubelet/runtime/fake_runtime.h"

namespace ck::kubelet {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using client::testing::WaitFor;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

std::string Manifest(const std::string& name, const std::string& command = "3600") {
  return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: " + name +
         "\n  namespace: kube-system\nspec:\n  terminationGracePeriodSeconds: 5\n  containers:\n  - name: main\n"
         "    image: registry.example.com/app:1\n    command: [sleep, \"" + command + "\"]\n";
}

// What the pod manager was told, in order.
class Calls {
 public:
  void Update(const std::shared_ptr<const corev1::Pod>& pod) { Add("update " + pod->metadata().uid()); }
  void Delete(const std::string& uid) { Add("delete " + uid); }
  void Changed(const std::string& uid) { Add("changed " + uid); }
  std::vector<std::string> Take() {
    std::lock_guard lock(mu_);
    return std::exchange(lines_, {});
  }
  bool Has(const std::string& line) const {
    std::lock_guard lock(mu_);
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }

 private:
  void Add(std::string line) {
    std::lock_guard lock(mu_);
    lines_.push_back(std::move(line));
  }
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

class StaticPodsTest : public ::testing::Test {
 protected:
  StaticPodsTest() : clock_(WallTime(std::chrono::seconds(1714564800))), api_(clock_) {
    std::string tmpl = (fs::temp_directory_path() / "ck-static-pods-XXXXXX").string();
    CK_CHECK(::mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    auto node = api_.Create(Res(corev1::Node::descriptor()), "", api::testing::MakeNode("node-1").Obj());
    CK_CHECK(node.ok());
    node_uid_ = api::MetaOf(**node).uid();
  }
  ~StaticPodsTest() override {
    if (static_) static_->Stop();
    fs::remove_all(dir_);
  }

  void Write(const std::string& name, const std::string& content) { std::ofstream(dir_ + "/" + name) << content; }

  StaticPods& NewStaticPods(std::function<void(std::shared_ptr<const corev1::Pod>)> update = nullptr,
                            std::function<void(const std::string&)> remove = nullptr,
                            std::function<void(const std::string&)> changed = nullptr) {
    StaticPods::Deps d;
    d.api = &api_;
    d.clock = &clock_;
    d.node_name = "node-1";
    d.manifest_path = dir_;
    d.update_pod = update ? update : [this](std::shared_ptr<const corev1::Pod> p) { calls_.Update(p); };
    d.delete_pod = remove ? remove : [this](const std::string& uid) { calls_.Delete(uid); };
    d.pod_changed = changed ? changed : [this](const std::string& uid) { calls_.Changed(uid); };
    static_ = std::make_unique<StaticPods>(std::move(d));
    return *static_;
  }

  // The pods FakeApi holds under kube-system/<name>.
  std::shared_ptr<const corev1::Pod> ApiPod(const std::string& name) {
    auto got = api_.Get(Res(corev1::Pod::descriptor()), "kube-system", name);
    return got.ok() ? std::dynamic_pointer_cast<const corev1::Pod>(*got) : nullptr;
  }
  // Plays the informer: every pod FakeApi holds goes to OnMirrorPod.
  void DeliverMirrors() {
    for (const auto& o : api_.Objects(Res(corev1::Pod::descriptor()))) {
      static_->OnMirrorPod(std::dynamic_pointer_cast<const corev1::Pod>(o));
    }
  }

  FakeClock clock_;
  client::FakeApi api_;
  std::string dir_;
  std::string node_uid_;
  Calls calls_;
  std::unique_ptr<StaticPods> static_;
};

TEST_F(StaticPodsTest, ManifestsFeedThePodManagerAndGetAMirrorPod) {
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  EXPECT_TRUE(sp.SyncFiles().empty());
  auto list = sp.StaticPodList();
  ASSERT_EQ(list.size(), 1u);
  const corev1::Pod& pod = *list[0];
  EXPECT_EQ(calls_.Take(), std::vector<std::string>{"update " + pod.metadata().uid()});
  // Before the informer synced: no API writes.
  EXPECT_TRUE(sp.SyncMirrorPods().ok());
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kCreate, "pods"), 0);

  sp.SetApiReady();
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  auto mirror = ApiPod("etcd-node-1");
  ASSERT_NE(mirror, nullptr);
  EXPECT_NE(mirror->metadata().uid(), pod.metadata().uid());
  EXPECT_TRUE(IsMirrorPod(*mirror));
  EXPECT_TRUE(IsMirrorPodOf(*mirror, pod));
  EXPECT_EQ(mirror->metadata().annotations().at("kubernetes.io/config.mirror"), pod.metadata().uid());
  EXPECT_EQ(mirror->metadata().annotations().at("kubernetes.io/config.source"), "file");
  EXPECT_EQ(mirror->spec().nodename(), "node-1");
  EXPECT_EQ(mirror->spec().containers(0).command(1), "3600");
  ASSERT_EQ(mirror->metadata().ownerreferences_size(), 1);
  const auto& owner = mirror->metadata().ownerreferences(0);
  EXPECT_EQ(owner.apiversion(), "v1");
  EXPECT_EQ(owner.kind(), "Node");
  EXPECT_EQ(owner.name(), "node-1");
  EXPECT_EQ(owner.uid(), node_uid_);
  EXPECT_TRUE(owner.controller());
  ASSERT_NE(sp.MirrorPodOf(pod), nullptr);
  EXPECT_EQ(sp.MirrorPodOf(pod)->metadata().uid(), mirror->metadata().uid());
  // The new mirror wakes the static pod's worker (its status goes there).
  EXPECT_EQ(calls_.Take(), std::vector<std::string>{"changed " + pod.metadata().uid()});
  // In sync: nothing more to do.
  api_.ResetCalls();
  DeliverMirrors();
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  EXPECT_EQ(api_.Calls(client::FakeApi::Verb::kCreate, "pods") + api_.Calls(client::FakeApi::Verb::kDelete, "pods"), 0);
}

TEST_F(StaticPodsTest, DeletedMirrorIsCreatedAgain) {
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  sp.SetApiReady();
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  auto first = ApiPod("etcd-node-1");
  ASSERT_NE(first, nullptr);

  // `kubectl delete --grace-period=0 --force`: gone at once.
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(api_.Delete(Res(corev1::Pod::descriptor()), "kube-system", "etcd-node-1", now).ok());
  sp.OnMirrorPodDeleted(*first);
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  auto second = ApiPod("etcd-node-1");
  ASSERT_NE(second, nullptr);
  EXPECT_NE(second->metadata().uid(), first->metadata().uid());

  // A graceful `kubectl delete`: the kubelet sees the deletionTimestamp, finishes the deletion
  // (grace 0, uid precondition) and creates the mirror again.
  client::DeleteOptions graceful;
  graceful.grace_period_seconds = 30;
  ASSERT_TRUE(api_.Delete(Res(corev1::Pod::descriptor()), "kube-system", "etcd-node-1", graceful).ok());
  auto deleting = ApiPod("etcd-node-1");
  ASSERT_NE(deleting, nullptr);
  ASSERT_TRUE(deleting->metadata().has_deletiontimestamp());
  sp.OnMirrorPod(deleting);
  EXPECT_EQ(sp.MirrorPodOf(*sp.StaticPodList()[0]), nullptr);  // no status goes to a dying mirror
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  auto third = ApiPod("etcd-node-1");
  ASSERT_NE(third, nullptr);
  EXPECT_FALSE(third->metadata().has_deletiontimestamp());
  EXPECT_NE(third->metadata().uid(), second->metadata().uid());
}

TEST_F(StaticPodsTest, ChangedManifestReplacesPodAndMirror) {
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  sp.SetApiReady();
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  DeliverMirrors();
  const std::string old_uid = sp.StaticPodList()[0]->metadata().uid();
  calls_.Take();

  Write("etcd.yaml", Manifest("etcd", "7200"));
  sp.SyncFiles();
  const std::string new_uid = sp.StaticPodList()[0]->metadata().uid();
  ASSERT_NE(new_uid, old_uid);
  // upstream: a new uid is a new pod; the old one stops.
  EXPECT_EQ(calls_.Take(), (std::vector<std::string>{"delete " + old_uid, "update " + new_uid}));
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  auto mirror = ApiPod("etcd-node-1");
  ASSERT_NE(mirror, nullptr);
  EXPECT_EQ(mirror->metadata().annotations().at("kubernetes.io/config.mirror"), new_uid);
  EXPECT_EQ(mirror->spec().containers(0).command(1), "7200");
}

TEST_F(StaticPodsTest, RemovedManifestStopsPodAndDeletesMirror) {
  Write("etcd.yaml", Manifest("etcd"));
  Write("web.yaml", Manifest("web"));
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  sp.SetApiReady();
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  DeliverMirrors();
  std::string web_uid;
  for (const auto& p : sp.StaticPodList()) {
    if (p->metadata().name() == "web-node-1") web_uid = p->metadata().uid();
  }
  calls_.Take();

  fs::remove(dir_ + "/web.yaml");
  sp.SyncFiles();
  EXPECT_EQ(calls_.Take(), std::vector<std::string>{"delete " + web_uid});
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  EXPECT_EQ(ApiPod("web-node-1"), nullptr);
  EXPECT_NE(ApiPod("etcd-node-1"), nullptr);
}

TEST_F(StaticPodsTest, OrphanedMirrorPodIsDeletedAndOrdinaryPodsAreLeftAlone) {
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  sp.SetApiReady();
  auto orphan = api::testing::MakePod("old-node-1").Namespace("kube-system").Node("node-1")
                    .Annotation("kubernetes.io/config.mirror", "abc").Obj();
  auto created = api_.Create(Res(corev1::Pod::descriptor()), "kube-system", orphan);
  ASSERT_TRUE(created.ok());
  sp.OnMirrorPod(std::dynamic_pointer_cast<const corev1::Pod>(*created));
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  EXPECT_EQ(ApiPod("old-node-1"), nullptr);
}

TEST_F(StaticPodsTest, FailedCallsAreReportedAndRetried) {
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  sp.SetApiReady();
  api_.FailNext(client::FakeApi::Verb::kCreate, Unavailable("apiserver down"), 1, "pods");
  Status s = sp.SyncMirrorPods();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("mirror pod kube-system/etcd-node-1"), std::string::npos) << s.message();
  EXPECT_EQ(ApiPod("etcd-node-1"), nullptr);
  EXPECT_TRUE(sp.SyncMirrorPods().ok());
  EXPECT_NE(ApiPod("etcd-node-1"), nullptr);
}

TEST_F(StaticPodsTest, NoNodeNoMirror) {
  ASSERT_TRUE(api_.Delete(Res(corev1::Node::descriptor()), "", "node-1").ok());
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  sp.SetApiReady();
  EXPECT_EQ(sp.SyncMirrorPods().code(), Code::kNotFound);
  EXPECT_EQ(ApiPod("etcd-node-1"), nullptr);
}

TEST_F(StaticPodsTest, StatusIsWrittenToTheCurrentMirror) {
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  sp.SyncFiles();
  StaticPods* raw = &sp;
  StatusManager status(api_, [raw](const corev1::Pod& p) { return raw->MirrorPodOf(p); });
  auto pod = sp.StaticPodList()[0];
  corev1::PodStatus running;
  running.set_phase("Running");
  running.set_podip("127.244.1.2");
  // No mirror yet: nothing written, no error.
  EXPECT_TRUE(status.SetPodStatus(*pod, running).ok());
  EXPECT_EQ(status.writes(), 0);

  sp.SetApiReady();
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  ASSERT_TRUE(status.SetPodStatus(*pod, running).ok());
  auto mirror = ApiPod("etcd-node-1");
  ASSERT_NE(mirror, nullptr);
  EXPECT_EQ(mirror->status().phase(), "Running");
  EXPECT_EQ(mirror->status().podip(), "127.244.1.2");
  EXPECT_EQ(status.writes(), 1);
  DeliverMirrors();
  EXPECT_TRUE(status.SetPodStatus(*pod, running).ok());
  EXPECT_EQ(status.writes(), 1);  // unchanged: not written again

  // The mirror is deleted and created again: the same status goes to the new one.
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  ASSERT_TRUE(api_.Delete(Res(corev1::Pod::descriptor()), "kube-system", "etcd-node-1", now).ok());
  sp.OnMirrorPodDeleted(*mirror);
  ASSERT_TRUE(sp.SyncMirrorPods().ok());
  ASSERT_TRUE(status.SetPodStatus(*pod, running).ok());
  auto again = ApiPod("etcd-node-1");
  ASSERT_NE(again, nullptr);
  EXPECT_NE(again->metadata().uid(), mirror->metadata().uid());
  EXPECT_EQ(again->status().phase(), "Running");
  EXPECT_EQ(status.writes(), 2);
}

TEST_F(StaticPodsTest, LoopRescansOnTheFileCheckPeriod) {
  Write("etcd.yaml", Manifest("etcd"));
  StaticPods& sp = NewStaticPods();
  sp.Start();  // the first scan happens before Start returns
  auto list = sp.StaticPodList();
  ASSERT_EQ(list.size(), 1u);
  const std::string uid = list[0]->metadata().uid();
  EXPECT_TRUE(calls_.Has("update " + uid));
  sp.SetApiReady();
  EXPECT_TRUE(WaitFor([&] { return ApiPod("etcd-node-1") != nullptr; }));

  fs::remove(dir_ + "/etcd.yaml");
  clock_.Advance(19s);
  EXPECT_FALSE(calls_.Has("delete " + uid));
  clock_.Advance(1s);
  EXPECT_TRUE(WaitFor([&] { return calls_.Has("delete " + uid); }));
  EXPECT_TRUE(WaitFor([&] { return ApiPod("etcd-node-1") == nullptr; }));
}

// The whole path: file -> PodManager (FakeRuntime) -> status on the mirror pod.
TEST_F(StaticPodsTest, StaticPodRunsAndItsMirrorShowsRunning) {
  Write("etcd.yaml", Manifest("etcd"));
  FakeRuntime runtime(clock_);
  std::unique_ptr<PodManager> pods;
  StaticPods* sp_ptr = nullptr;
  PodManager::Deps deps;
  deps.runtime = &runtime;
  deps.api = &api_;
  deps.clock = &clock_;
  deps.profile = &daemon::DefaultProfile();
  deps.node_name = "node-1";
  deps.host_ip = "127.0.1.1";
  deps.root_dir = dir_ + "/root";
  deps.mirror_pod_of = [&sp_ptr](const corev1::Pod& p) { return sp_ptr->MirrorPodOf(p); };
  pods = std::make_unique<PodManager>(std::move(deps));
  StaticPods& sp = NewStaticPods([&](std::shared_ptr<const corev1::Pod> p) { pods->UpdatePod(std::move(p)); },
                                 [&](const std::string& uid) { pods->DeletePod(uid); },
                                 [&](const std::string& uid) { pods->PodChanged(uid); });
  sp_ptr = &sp;
  pods->Start();
  sp.Start();
  const std::string uid = sp.StaticPodList()[0]->metadata().uid();
  EXPECT_TRUE(WaitFor([&] {
    auto c = runtime.ListContainers();
    return c.ok() && c->size() == 1 && (*c)[0].pod_uid == uid && (*c)[0].state == ContainerState::kRunning;
  }));
  sp.SetApiReady();
  EXPECT_TRUE(WaitFor([&] {
    auto m = ApiPod("etcd-node-1");
    return m != nullptr && m->status().phase() == "Running";
  })) << (ApiPod("etcd-node-1") ? ApiPod("etcd-node-1")->DebugString() : "no mirror");

  // The manifest goes: the containers stop and the mirror is deleted.
  fs::remove(dir_ + "/etcd.yaml");
  clock_.Advance(20s);
  EXPECT_TRUE(WaitFor([&] {
    clock_.Advance(100ms);
    auto c = runtime.ListContainers();
    return c.ok() && c->empty();
  }));
  EXPECT_TRUE(WaitFor([&] { return ApiPod("etcd-node-1") == nullptr; }));
  sp.Stop();
  pods->Stop();
}

}  // namespace
}  // namespace ck::kubelet
