// NamespaceController and NamespacedResourcesDeleter on FakeApi: a terminating namespace is
// emptied (deletecollection of every namespaced resource) and finalized once nothing is left;
// terminating pods make it wait with an estimate; finalizers and stuck objects show in the
// upstream conditions; namespaces not being deleted are left alone; with workers, the whole
// lifecycle on the fake clock.
//
// The FakeApi does not serve the namespace lifecycle, so NamespaceLifecycleApi (below) adds what
// kube-apiserver does: DELETE of a namespace with spec.finalizers marks it Terminating and keeps
// it; PUT namespaces/<name>/finalize sets spec.finalizers and removes the namespace when none
// remain.
#include "controller-manager/namespace/namespace_controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/api/object.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
using namespace std::chrono_literals;
using client::testing::WaitFor;
using testing::ResourceOf;

const client::ResourceInfo& Namespaces() { return ResourceOf(corev1::Namespace::descriptor()); }
const client::ResourceInfo& Pods() { return ResourceOf(corev1::Pod::descriptor()); }

// The FakeApi plus kube-apiserver's namespace lifecycle (pkg/registry/core/namespace). The FakeApi
// keeps a deleted object only while it has metadata.finalizers, so a terminating namespace
// carries one private finalizer here until it is finalized.
class NamespaceLifecycleApi final : public client::ApiClient {
 public:
  static constexpr char kHold[] = "test.clearkube.io/namespace-lifecycle";

  explicit NamespaceLifecycleApi(client::FakeApi& fake) : fake_(fake) {}

  Result<client::ObjectPtr> Get(const client::ResourceInfo& r, const std::string& ns, const std::string& name,
                                const client::GetOptions& o) override {
    return fake_.Get(r, ns, name, o);
  }
  Result<client::ObjectList> List(const client::ResourceInfo& r, const std::string& ns,
                                  const client::ListOptions& o) override {
    return fake_.List(r, ns, o);
  }
  Result<std::unique_ptr<client::WatchStream>> Watch(const client::ResourceInfo& r, const std::string& ns,
                                                     const client::ListOptions& o) override {
    return fake_.Watch(r, ns, o);
  }
  Result<client::ObjectPtr> Create(const client::ResourceInfo& r, const std::string& ns,
                                   const google::protobuf::Message& object, const client::WriteOptions& o) override {
    return fake_.Create(r, ns, object, o);
  }
  Result<client::ObjectPtr> Update(const client::ResourceInfo& r, const std::string& ns,
                                   const google::protobuf::Message& object, const std::string& subresource,
                                   const client::WriteOptions& o) override {
    if (&r != &Namespaces() || subresource != "finalize") return fake_.Update(r, ns, object, subresource, o);
    ++finalize_calls;
    const auto& given = static_cast<const corev1::Namespace&>(object);
    CK_ASSIGN_OR_RETURN(client::ObjectPtr current, fake_.Get(r, "", given.metadata().name()));
    corev1::Namespace next = static_cast<const corev1::Namespace&>(*current);
    if (!given.metadata().resourceversion().empty() &&
        given.metadata().resourceversion() != next.metadata().resourceversion()) {
      return Conflict("Operation cannot be fulfilled on namespaces \"" + given.metadata().name() +
                      "\": the object has been modified; please apply your changes to the latest version and try again");
    }
    *next.mutable_spec()->mutable_finalizers() = given.spec().finalizers();
    if (next.metadata().has_deletiontimestamp() && next.spec().finalizers().empty()) Release(&next);
    return fake_.Update(r, "", next, "", o);
  }
  Result<client::ObjectPtr> Patch(const client::ResourceInfo& r, const std::string& ns, const std::string& name,
                                  client::PatchType type, const std::string& body, const std::string& subresource,
                                  const client::WriteOptions& o) override {
    return fake_.Patch(r, ns, name, type, body, subresource, o);
  }
  Result<client::ObjectPtr> CreateSubresource(const client::ResourceInfo& r, const std::string& ns,
                                              const std::string& name, const std::string& subresource,
                                              const google::protobuf::Message& object,
                                              const client::WriteOptions& o) override {
    return fake_.CreateSubresource(r, ns, name, subresource, object, o);
  }
  Result<client::ObjectPtr> Delete(const client::ResourceInfo& r, const std::string& ns, const std::string& name,
                                   const client::DeleteOptions& o) override {
    if (&r != &Namespaces()) return fake_.Delete(r, ns, name, o);
    CK_ASSIGN_OR_RETURN(client::ObjectPtr current, fake_.Get(r, "", name));
    corev1::Namespace n = static_cast<const corev1::Namespace&>(*current);
    if (n.metadata().has_deletiontimestamp()) {
      if (!n.spec().finalizers().empty()) {
        return Conflict("The system is ensuring all content is removed from this namespace.  Upon completion, this "
                        "namespace will automatically be purged by the system.");
      }
      return fake_.Delete(r, "", name, o);
    }
    if (n.spec().finalizers().empty()) return fake_.Delete(r, "", name, o);
    n.mutable_metadata()->add_finalizers(kHold);
    CK_RETURN_IF_ERROR(fake_.Update(r, "", n).status());
    CK_RETURN_IF_ERROR(fake_.Delete(r, "", name, o).status());
    CK_ASSIGN_OR_RETURN(client::ObjectPtr deleting, fake_.Get(r, "", name));
    corev1::Namespace terminating = static_cast<const corev1::Namespace&>(*deleting);
    terminating.mutable_status()->set_phase("Terminating");
    return fake_.Update(r, "", terminating, "status");
  }
  Status DeleteCollection(const client::ResourceInfo& r, const std::string& ns, const client::ListOptions& lo,
                          const client::DeleteOptions& o) override {
    return fake_.DeleteCollection(r, ns, lo, o);
  }

  int finalize_calls = 0;

 private:
  static void Release(corev1::Namespace* n) {
    auto* f = n->mutable_metadata()->mutable_finalizers();
    f->erase(std::remove(f->begin(), f->end(), std::string(kHold)), f->end());
  }

  client::FakeApi& fake_;
};

class NamespaceTest : public ::testing::Test {
 protected:
  NamespaceTest()
      : api(env.api),
        context{api, env.factory, env.clock, env.random, env.registry, env.events, env.settings, ""} {}

  void CreateNamespace(const std::string& name) {
    corev1::Namespace ns;
    ns.mutable_metadata()->set_name(name);
    ns.mutable_spec()->add_finalizers(kNamespaceFinalizerToken);
    ns.mutable_status()->set_phase("Active");
    env.Create(ns);
  }
  template <typename T>
  void CreateIn(const std::string& ns, const std::string& name, T object = T()) {
    object.mutable_metadata()->set_name(name);
    object.mutable_metadata()->set_namespace_(ns);
    env.Create(object);
  }
  static corev1::Pod RunningPod(int64_t grace) {
    corev1::Pod pod;
    pod.mutable_spec()->set_nodename("node-1");
    pod.mutable_spec()->set_terminationgraceperiodseconds(grace);
    pod.mutable_spec()->add_containers()->set_name("main");
    pod.mutable_status()->set_phase("Running");
    return pod;
  }
  void DeleteNamespace(const std::string& name) {
    ASSERT_TRUE(api.Delete(Namespaces(), "", name, {}).ok());
  }
  std::optional<corev1::Namespace> GetNamespace(const std::string& name) {
    Result<corev1::Namespace> ns = env.Get<corev1::Namespace>("", name);
    if (!ns.ok()) return std::nullopt;
    return *ns;
  }
  // The number of objects of every namespaced kind in `ns`.
  size_t Content(const std::string& ns) {
    size_t n = 0;
    for (const client::ResourceInfo* r : NamespacedResourcesDeleter::DeletableResources()) {
      for (const client::ObjectPtr& o : env.api.Objects(*r)) n += api::MetaOf(*o).namespace_() == ns;
    }
    return n;
  }
  void KubeletFinishes(const std::string& ns, const std::string& pod) {
    client::DeleteOptions now;
    now.grace_period_seconds = 0;
    ASSERT_TRUE(env.api.Delete(Pods(), ns, pod, now).ok());
  }
  static const corev1::NamespaceCondition* Condition(const corev1::Namespace& ns, const std::string& type) {
    for (const auto& c : ns.status().conditions()) {
      if (c.type() == type) return &c;
    }
    return nullptr;
  }
  void ExpectCondition(const corev1::Namespace& ns, const std::string& type, const std::string& status,
                       const std::string& reason, const std::string& message) {
    const corev1::NamespaceCondition* c = Condition(ns, type);
    ASSERT_NE(c, nullptr) << type;
    EXPECT_EQ(c->status(), status) << type;
    EXPECT_EQ(c->reason(), reason) << type;
    EXPECT_EQ(c->message(), message) << type;
  }

  testing::ControllerTestEnv env;
  NamespaceLifecycleApi api;
  ControllerContext context;
};

TEST_F(NamespaceTest, DeletionRemovesTheContentThenFinalizes) {
  CreateNamespace("shop");
  CreateNamespace("other");
  CreateIn<corev1::ConfigMap>("shop", "settings");
  CreateIn<corev1::Secret>("shop", "token");
  CreateIn<corev1::ServiceAccount>("shop", "default");
  CreateIn<corev1::Service>("shop", "web");
  CreateIn<appsv1::Deployment>("shop", "web");
  CreateIn<appsv1::ReplicaSet>("shop", "web-1");
  CreateIn<corev1::Pod>("shop", "pending");                // not on a node: goes at once
  CreateIn<corev1::Pod>("shop", "running", RunningPod(30));  // terminates gracefully
  CreateIn<corev1::ConfigMap>("other", "settings");
  ASSERT_EQ(Content("shop"), 8u);

  NamespaceController c(context);
  env.StartInformers(c.Informers());
  DeleteNamespace("shop");
  ASSERT_TRUE(WaitFor([&] {
    Result<std::shared_ptr<const corev1::Namespace>> ns =
        client::TypedInformer<corev1::Namespace>(*c.Informers()[0]).Lister().Get("shop");
    return ns.ok() && (*ns)->metadata().has_deletiontimestamp();
  }));

  ASSERT_TRUE(c.SyncForTesting("shop").ok());
  // Everything went except the pod still terminating on its node; the namespace waits for it.
  EXPECT_EQ(Content("shop"), 1u);
  ASSERT_TRUE(env.Get<corev1::Pod>("shop", "running").ok());
  EXPECT_TRUE(env.Get<corev1::Pod>("shop", "running")->metadata().has_deletiontimestamp());
  std::optional<corev1::Namespace> ns = GetNamespace("shop");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->status().phase(), "Terminating");
  EXPECT_EQ(std::vector<std::string>(ns->spec().finalizers().begin(), ns->spec().finalizers().end()),
            std::vector<std::string>{"kubernetes"});
  EXPECT_EQ(api.finalize_calls, 0);
  ExpectCondition(*ns, "NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered",
                  "All resources successfully discovered");
  ExpectCondition(*ns, "NamespaceDeletionGVParsingFailure", "False", "ParsedGroupVersions",
                  "All legacy kube types successfully parsed");
  ExpectCondition(*ns, "NamespaceDeletionContentFailure", "False", "ContentDeleted",
                  "All content successfully deleted, may be waiting on finalization");
  ExpectCondition(*ns, "NamespaceContentRemaining", "True", "SomeResourcesRemain",
                  "Some resources are remaining: pods. has 1 resource instances");
  ExpectCondition(*ns, "NamespaceFinalizersRemaining", "False", "ContentRemoved", "All content successfully removed");

  KubeletFinishes("shop", "running");
  ASSERT_TRUE(c.SyncForTesting("shop").ok());
  EXPECT_EQ(api.finalize_calls, 1);
  EXPECT_FALSE(GetNamespace("shop").has_value());
  EXPECT_EQ(Content("shop"), 0u);
  // Other namespaces are untouched.
  EXPECT_TRUE(env.Get<corev1::ConfigMap>("other", "settings").ok());
  EXPECT_TRUE(GetNamespace("other").has_value());
  // A gone namespace is nothing to do.
  EXPECT_TRUE(c.SyncForTesting("shop").ok());
}

TEST_F(NamespaceTest, DeleterWaitsWithAnEstimateAndReportsWhatIsStuck) {
  CreateNamespace("web");
  CreateIn<corev1::Pod>("web", "running", RunningPod(30));
  corev1::Pod kept;
  kept.mutable_metadata()->add_finalizers("example.com/keep");
  CreateIn<corev1::Pod>("web", "kept", kept);
  DeleteNamespace("web");
  NamespacedResourcesDeleter deleter(api, env.clock);

  struct Step {
    std::string what;
    Duration advance;
    std::function<void()> before;
    int64_t estimate;  // -1: an error is expected
    std::string remaining, finalizers, failure;  // condition messages; "" = the condition is False
  };
  const std::string stuck = "unexpected items still remain in namespace: web for gvr: /v1, Resource=pods";
  std::vector<Step> steps = {
      {"pods within their grace period", 0s, nullptr, 30,
       "Some resources are remaining: pods. has 2 resource instances",
       "Some finalizers are remaining: example.com/keep in 1 resource instances", ""},
      {"grace period over, a finalizer still holds one pod", 31s, nullptr, 15,
       "Some resources are remaining: pods. has 2 resource instances",
       "Some finalizers are remaining: example.com/keep in 1 resource instances", ""},
      {"finalizer gone, a pod outlives its grace period", 0s,
       [&] {
         corev1::Pod p = *env.Get<corev1::Pod>("web", "kept");
         p.mutable_metadata()->clear_finalizers();
         ASSERT_TRUE(env.api.Update(Pods(), "web", p).ok());
       },
       -1, "Some resources are remaining: pods. has 1 resource instances", "",
       "Failed to delete all resource types, 1 remaining: " + stuck},
      {"the kubelet is done", 0s, [&] { KubeletFinishes("web", "running"); }, 0, "", "", ""},
  };
  for (const Step& step : steps) {
    SCOPED_TRACE(step.what);
    env.clock.Advance(step.advance);
    if (step.before) step.before();
    Result<int64_t> estimate = deleter.Delete("web");
    if (step.estimate < 0) {
      ASSERT_FALSE(estimate.ok());
      EXPECT_EQ(estimate.status().message(), stuck);
    } else {
      ASSERT_TRUE(estimate.ok()) << estimate.status().message();
      EXPECT_EQ(*estimate, step.estimate);
    }
    std::optional<corev1::Namespace> ns = GetNamespace("web");
    if (step.estimate == 0) {
      EXPECT_FALSE(ns.has_value()) << "finalized and removed";
      continue;
    }
    ASSERT_TRUE(ns.has_value());
    auto expect = [&](const std::string& type, const std::string& message, const std::string& reason,
                      const std::string& ok_reason, const std::string& ok_message) {
      if (message.empty()) {
        ExpectCondition(*ns, type, "False", ok_reason, ok_message);
      } else {
        ExpectCondition(*ns, type, "True", reason, message);
      }
    };
    expect("NamespaceContentRemaining", step.remaining, "SomeResourcesRemain", "ContentRemoved",
           "All content successfully removed");
    expect("NamespaceFinalizersRemaining", step.finalizers, "SomeFinalizerRemain", "ContentRemoved",
           "All content successfully removed");
    expect("NamespaceDeletionContentFailure", step.failure, "ContentDeletionFailed", "ContentDeleted",
           "All content successfully deleted, may be waiting on finalization");
  }
}

TEST_F(NamespaceTest, ANamespaceNotBeingDeletedIsLeftAlone) {
  CreateNamespace("live");
  CreateIn<corev1::ConfigMap>("live", "settings");
  NamespaceController c(context);
  env.StartInformers(c.Informers());
  ASSERT_TRUE(WaitFor([&] { return c.Informers()[0]->GetIndexer().size() == 1; }));
  const int64_t revision = env.api.revision();
  ASSERT_TRUE(c.SyncForTesting("live").ok());
  EXPECT_EQ(env.api.revision(), revision) << "nothing written";
  EXPECT_EQ(Content("live"), 1u);
  EXPECT_TRUE(GetNamespace("live")->status().conditions().empty());
}

TEST_F(NamespaceTest, AnotherFinalizerKeepsTheNamespaceOnceItsContentIsGone) {
  // spec.finalizers without this controller's token: the content still goes, the namespace stays
  // for whoever owns the other finalizer.
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name("held");
  ns.mutable_spec()->add_finalizers("example.com/other");
  env.Create(ns);
  CreateIn<corev1::ConfigMap>("held", "settings");
  DeleteNamespace("held");
  NamespacedResourcesDeleter deleter(api, env.clock);
  Result<int64_t> done = deleter.Delete("held");
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_EQ(*done, 0);
  EXPECT_EQ(Content("held"), 0u);
  std::optional<corev1::Namespace> got = GetNamespace("held");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::vector<std::string>(got->spec().finalizers().begin(), got->spec().finalizers().end()),
            std::vector<std::string>{"example.com/other"});
}

TEST_F(NamespaceTest, WithWorkersTheNamespaceGoesOnceItsPodsAreGone) {
  CreateNamespace("batch");
  CreateIn<corev1::Pod>("batch", "worker", RunningPod(10));
  CreateIn<corev1::ConfigMap>("batch", "settings");
  NamespaceController c(context);
  env.Start(c);
  DeleteNamespace("batch");
  // Fake time moves a second per round; the "kubelet" finishes the pod once it is terminating.
  bool killed = false;
  ASSERT_TRUE(WaitFor([&] {
    env.clock.Advance(1s);
    Result<corev1::Pod> pod = env.Get<corev1::Pod>("batch", "worker");
    if (!killed && pod.ok() && pod->metadata().has_deletiontimestamp()) {
      KubeletFinishes("batch", "worker");
      killed = true;
    }
    return !GetNamespace("batch").has_value();
  }));
  EXPECT_TRUE(killed);
  EXPECT_EQ(Content("batch"), 0u);
}

}  // namespace
}  // namespace ck::controller_manager
