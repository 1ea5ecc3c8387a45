// GarbageCollector on FakeApi with its workers running: a table of ownership scenarios (a
// Deployment -> ReplicaSet -> Pods chain deleted in the background, a live owner keeping a
// dependent, orphan deletion, an owner recreated with another uid, an owner that never existed,
// cluster-scoped owners of namespaced dependents), foreground deletion waiting for terminating
// pods, an owner in another namespace (OwnerRefInvalidNamespace), the graph builder on its own,
// and a Deployment of 1,000 pods. Retries wait on the fake clock; a pump moves it while the
// collector has delayed keys. Tests wait on conditions, never sleep.
#include "controller-manager/garbagecollector/garbage_collector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/api/object.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/meta.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
using client::testing::WaitFor;
using testing::ResourceOf;

// ---- Objects --------------------------------------------------------------------------------

const client::ResourceInfo& ResourceOfKind(const std::string& kind) {
  const client::ResourceInfo* r = nullptr;
  for (const char* group : {"", "apps"}) {
    if (r == nullptr) r = api::FindResourceByKind(group, "v1", kind);
  }
  CK_CHECK(r != nullptr) << kind;
  return *r;
}

// A minimal object of `kind` named `name` (the FakeApi does not validate).
std::unique_ptr<google::protobuf::Message> NewObject(const std::string& kind, const std::string& name) {
  std::unique_ptr<google::protobuf::Message> m;
  if (kind == "Deployment") {
    auto d = std::make_unique<appsv1::Deployment>();
    (*d->mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = name;
    (*d->mutable_spec()->mutable_template_()->mutable_metadata()->mutable_labels())["app"] = name;
    m = std::move(d);
  } else if (kind == "ReplicaSet") {
    auto rs = std::make_unique<appsv1::ReplicaSet>();
    (*rs->mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = name;
    m = std::move(rs);
  } else if (kind == "Pod") {
    auto pod = std::make_unique<corev1::Pod>();
    pod->mutable_spec()->add_containers()->set_name("main");
    m = std::move(pod);
  } else if (kind == "ConfigMap") {
    m = std::make_unique<corev1::ConfigMap>();
  } else if (kind == "Node") {
    m = std::make_unique<corev1::Node>();
  } else {
    CK_CHECK(false) << "no test object for kind " << kind;
  }
  api::MutableMetaOf(m.get())->set_name(name);
  return m;
}

metav1::OwnerReference RefTo(const google::protobuf::Message& owner, bool block = true, std::string uid = "") {
  const metav1::ObjectMeta& meta = api::MetaOf(owner);
  const client::ResourceInfo& r = ResourceOf(owner.GetDescriptor());
  metav1::OwnerReference ref;
  ref.set_apiversion(r.GroupVersion());
  ref.set_kind(r.kind);
  ref.set_name(meta.name());
  ref.set_uid(uid.empty() ? meta.uid() : uid);
  ref.set_controller(true);
  ref.set_blockownerdeletion(block);
  return ref;
}

std::string Describe(const google::protobuf::Message& object) {
  const metav1::ObjectMeta& meta = api::MetaOf(object);
  std::string s = ResourceOf(object.GetDescriptor()).kind + "/" + meta.name() + " owners [";
  for (const auto& ref : meta.ownerreferences()) s += ref.kind() + "/" + ref.name() + " ";
  s += "] finalizers [";
  for (const auto& f : meta.finalizers()) s += f + " ";
  return s + (meta.has_deletiontimestamp() ? "] deleting" : "]");
}

// ---- Harness --------------------------------------------------------------------------------

// The collector with workers, as the manager runs it, plus a pump that moves the fake clock while
// the collector waits on a retry (its backoff runs on context.clock).
class Harness {
 public:
  Harness() : gc(env.context) {
    env.Start(gc);
    pump_ = std::thread([this] {
      while (!done_) {
        if (gc.queue().PendingLen() > 0) env.clock.Advance(std::chrono::milliseconds(20));
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    });
  }
  ~Harness() {
    done_ = true;
    pump_.join();
  }

  // Creates `kind`/`name` in `ns` ("" = default, or cluster-scoped) owned by `owners`.
  client::ObjectPtr Create(const std::string& kind, const std::string& ns, const std::string& name,
                           const std::vector<metav1::OwnerReference>& owners = {},
                           const std::function<void(google::protobuf::Message*)>& edit = nullptr) {
    std::unique_ptr<google::protobuf::Message> m = NewObject(kind, name);
    for (const auto& ref : owners) *api::MutableMetaOf(m.get())->add_ownerreferences() = ref;
    if (edit) edit(m.get());
    const client::ResourceInfo& r = ResourceOfKind(kind);
    Result<client::ObjectPtr> created = env.api.Create(r, r.namespaced ? (ns.empty() ? "default" : ns) : "", *m);
    CK_CHECK(created.ok()) << created.status().message();
    return *created;
  }
  Result<client::ObjectPtr> Get(const client::ObjectPtr& object) {
    const metav1::ObjectMeta& meta = api::MetaOf(*object);
    return env.api.Get(ResourceOf(object->GetDescriptor()), meta.namespace_(), meta.name());
  }
  bool Gone(const client::ObjectPtr& object) {
    Result<client::ObjectPtr> got = Get(object);
    return !got.ok() || api::MetaOf(**got).uid() != api::MetaOf(*object).uid();
  }

  // Every informer of the collector holds exactly the API's objects, and the collector has nothing
  // queued, delayed or running: what it will do, it has done.
  bool Quiescent() {
    for (client::SharedIndexInformer* informer : gc.Informers()) {
      std::vector<client::ObjectPtr> objects = env.api.Objects(informer->resource());
      const client::Indexer& indexer = informer->GetIndexer();
      if (indexer.size() != objects.size()) return false;
      for (const client::ObjectPtr& o : objects) {
        client::ObjectPtr cached = indexer.Get(client::KeyOf(*o));
        if (cached == nullptr || client::ResourceVersionOf(*cached) != client::ResourceVersionOf(*o)) return false;
      }
    }
    return gc.IdleForTesting();
  }
  void WaitQuiescent() {
    // Twice in a row: a handler may still be handing the last change to the graph.
    CK_CHECK(WaitFor([&] { return Quiescent() && Quiescent(); }, std::chrono::seconds(30))) << "collector never settled";
  }

  testing::ControllerTestEnv env;
  GarbageCollector gc;

 private:
  std::atomic<bool> done_{false};
  std::thread pump_;
};

// ---- The table ------------------------------------------------------------------------------

struct OwnerSpec {
  std::string target;  // "Kind/name" of an object created earlier in the case
  std::string uid;     // set: reference this uid instead of the target's (a recreated or absent owner)
  bool block = true;
};
struct ObjectSpec {
  std::string kind;
  std::string ns;  // "" = default (or cluster-scoped)
  std::string name;
  std::vector<OwnerSpec> owners;
};
struct Case {
  std::string name;
  std::vector<ObjectSpec> objects;
  std::string delete_target;  // "Kind/name", or "" to delete nothing
  std::string policy;         // propagationPolicy of that deletion
  // Survivors and the owners ("Kind/name") left in their ownerReferences, in order.
  std::map<std::string, std::vector<std::string>> alive;
  std::vector<std::string> gone;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::vector<Case> Cases() {
  const std::vector<ObjectSpec> chain = {
      {"Deployment", "", "web", {}},
      {"ReplicaSet", "", "web-1", {{"Deployment/web"}}},
      {"Pod", "", "web-1-a", {{"ReplicaSet/web-1"}}},
      {"Pod", "", "web-1-b", {{"ReplicaSet/web-1"}}},
      {"Pod", "", "web-1-c", {{"ReplicaSet/web-1"}}},
      {"Pod", "", "loner", {}},
  };
  return {
      {"BackgroundDeletesTheWholeChain", chain, "Deployment/web", "Background",
       {{"Pod/loner", {}}},
       {"Deployment/web", "ReplicaSet/web-1", "Pod/web-1-a", "Pod/web-1-b", "Pod/web-1-c"}},
      {"DefaultPolicyIsBackground", chain, "Deployment/web", "",
       {{"Pod/loner", {}}},
       {"ReplicaSet/web-1", "Pod/web-1-a", "Pod/web-1-b", "Pod/web-1-c"}},
      {"NothingDeletedNothingCollected", chain, "", "",
       {{"Deployment/web", {}},
        {"ReplicaSet/web-1", {"Deployment/web"}},
        {"Pod/web-1-a", {"ReplicaSet/web-1"}},
        {"Pod/loner", {}}},
       {}},
      {"ALiveOwnerKeepsTheDependentAndTheDanglingRefGoes",
       {{"ReplicaSet", "", "a", {}},
        {"ReplicaSet", "", "b", {}},
        {"Pod", "", "shared", {{"ReplicaSet/a", "", false}, {"ReplicaSet/b", "", false}}}},
       "ReplicaSet/b", "Background",
       {{"Pod/shared", {"ReplicaSet/a"}}, {"ReplicaSet/a", {}}},
       {"ReplicaSet/b"}},
      {"OrphanKeepsDependentsWithoutTheReference",
       {{"ReplicaSet", "", "web-1", {}},
        {"Pod", "", "x", {{"ReplicaSet/web-1"}}},
        {"Pod", "", "y", {{"ReplicaSet/web-1"}}},
        {"ConfigMap", "", "z", {{"ReplicaSet/web-1"}, {"Pod/x"}}}},
       "ReplicaSet/web-1", "Orphan",
       {{"Pod/x", {}}, {"Pod/y", {}}, {"ConfigMap/z", {"Pod/x"}}},
       {"ReplicaSet/web-1"}},
      {"AnOwnerWithAnotherUidIsGone",
       {{"ReplicaSet", "", "web-1", {}},
        {"Pod", "", "stale", {{"ReplicaSet/web-1", "5ad1c3a0-0000-4000-8000-000000000001"}}},
        {"Pod", "", "current", {{"ReplicaSet/web-1"}}}},
       "", "",
       {{"ReplicaSet/web-1", {}}, {"Pod/current", {"ReplicaSet/web-1"}}},
       {"Pod/stale"}},
      {"AnOwnerThatNeverExisted",
       {{"ReplicaSet", "", "bystander", {}},
        {"Pod", "", "haunted", {{"ReplicaSet/ghost", "9e0f2b11-0000-4000-8000-00000000dead"}}},
        {"ConfigMap", "", "haunted-too", {{"Deployment/never", "9e0f2b11-0000-4000-8000-00000000beef"}}}},
       "", "",
       {{"ReplicaSet/bystander", {}}},
       {"Pod/haunted", "ConfigMap/haunted-too"}},
      {"ClusterScopedOwnerOfNamespacedDependents",
       {{"Node", "", "n1", {}},
        {"Node", "", "n2", {}},
        {"ConfigMap", "", "on-n1", {{"Node/n1"}}},
        {"ConfigMap", "other", "on-n1-elsewhere", {{"Node/n1"}}},
        {"ConfigMap", "other", "on-n2", {{"Node/n2"}}}},
       "Node/n1", "Background",
       {{"Node/n2", {}}, {"ConfigMap/on-n2", {"Node/n2"}}},
       {"ConfigMap/on-n1", "ConfigMap/on-n1-elsewhere"}},
  };
}

class GarbageCollectorTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(GarbageCollectorTableTest, EndState) {
  const Case& c = GetParam();
  Harness h;
  std::map<std::string, client::ObjectPtr> objects;  // "Kind/name" -> as created
  for (const ObjectSpec& spec : c.objects) {
    std::vector<metav1::OwnerReference> refs;
    for (const OwnerSpec& o : spec.owners) {
      if (objects.count(o.target)) {
        refs.push_back(RefTo(*objects.at(o.target), o.block, o.uid));
      } else {
        // An owner that is not in the case at all: one of that kind, name and uid.
        auto slash = o.target.find('/');
        metav1::OwnerReference ref;
        ref.set_apiversion("apps/v1");
        ref.set_kind(o.target.substr(0, slash));
        ref.set_name(o.target.substr(slash + 1));
        ref.set_uid(o.uid);
        ref.set_blockownerdeletion(o.block);
        refs.push_back(ref);
      }
    }
    // At most one controller reference: the first.
    for (size_t i = 1; i < refs.size(); ++i) refs[i].set_controller(false);
    objects[spec.kind + "/" + spec.name] = h.Create(spec.kind, spec.ns, spec.name, refs);
  }
  h.WaitQuiescent();
  if (!c.delete_target.empty()) {
    const client::ObjectPtr& target = objects.at(c.delete_target);
    const metav1::ObjectMeta& meta = api::MetaOf(*target);
    client::DeleteOptions options;
    options.propagation_policy = c.policy;
    ASSERT_TRUE(h.env.api.Delete(ResourceOf(target->GetDescriptor()), meta.namespace_(), meta.name(), options).ok());
  }

  auto owners_of = [&](const client::ObjectPtr& o) {
    std::vector<std::string> names;
    for (const auto& ref : api::MetaOf(*o).ownerreferences()) names.push_back(ref.kind() + "/" + ref.name());
    return names;
  };
  auto satisfied = [&] {
    for (const std::string& name : c.gone) {
      if (!h.Gone(objects.at(name))) return false;
    }
    for (const auto& [name, owners] : c.alive) {
      Result<client::ObjectPtr> got = h.Get(objects.at(name));
      if (!got.ok() || owners_of(*got) != owners) return false;
    }
    return true;
  };
  auto state = [&] {
    std::string s;
    for (const auto& [name, object] : objects) {
      Result<client::ObjectPtr> got = h.Get(object);
      s += "\n  " + (got.ok() ? Describe(**got) : name + " gone");
    }
    return s;
  };
  ASSERT_TRUE(WaitFor(satisfied, std::chrono::seconds(30))) << c.name << state();
  // Nothing more happens once the collector has settled: survivors stay as they are.
  h.WaitQuiescent();
  EXPECT_TRUE(satisfied()) << c.name << state();
}

INSTANTIATE_TEST_SUITE_P(Scenarios, GarbageCollectorTableTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<Case>& info) { return info.param.name; });

// ---- Foreground -------------------------------------------------------------------------------

TEST(GarbageCollectorTest, ForegroundWaitsForBlockingDependentsThenDropsTheFinalizer) {
  Harness h;
  client::ObjectPtr deploy = h.Create("Deployment", "", "web");
  client::ObjectPtr rs = h.Create("ReplicaSet", "", "web-1", {RefTo(*deploy)});
  std::vector<client::ObjectPtr> pods;
  for (const char* name : {"web-1-a", "web-1-b"}) {
    // Running on a node: deletion is graceful, the pod stays terminating until the kubelet is done.
    pods.push_back(h.Create("Pod", "", name, {RefTo(*rs)}, [](google::protobuf::Message* m) {
      auto* pod = static_cast<corev1::Pod*>(m);
      pod->mutable_spec()->set_nodename("node-1");
      pod->mutable_status()->set_phase("Running");
    }));
  }
  // A dependent that does not block its owner is deleted too, but not waited for.
  client::ObjectPtr note = h.Create("ConfigMap", "", "note", {RefTo(*deploy, /*block=*/false)});
  h.WaitQuiescent();

  client::DeleteOptions foreground;
  foreground.propagation_policy = "Foreground";
  ASSERT_TRUE(h.env.api.Delete(ResourceOf(deploy->GetDescriptor()), "default", "web", foreground).ok());

  auto terminating = [&](const client::ObjectPtr& o) {
    Result<client::ObjectPtr> got = h.Get(o);
    return got.ok() && api::MetaOf(**got).has_deletiontimestamp();
  };
  auto has_foreground = [&](const client::ObjectPtr& o) {
    Result<client::ObjectPtr> got = h.Get(o);
    return got.ok() && gc::HasFinalizer(api::MetaOf(**got), gc::kForegroundFinalizer);
  };
  ASSERT_TRUE(WaitFor([&] {
    return terminating(rs) && has_foreground(rs) && terminating(pods[0]) && terminating(pods[1]) && h.Gone(note);
  }));
  h.WaitQuiescent();
  // The pods are still terminating: the ReplicaSet and the Deployment wait for them.
  EXPECT_TRUE(has_foreground(deploy) && terminating(deploy));
  EXPECT_TRUE(has_foreground(rs));
  std::optional<gc::GraphNode> node = h.gc.NodeForTesting(api::MetaOf(*deploy).uid());
  ASSERT_TRUE(node.has_value());
  EXPECT_TRUE(node->deleting_dependents);

  // The kubelet finishes the pods.
  client::DeleteOptions now;
  now.grace_period_seconds = 0;
  for (const auto& pod : pods) {
    ASSERT_TRUE(h.env.api.Delete(ResourceOf(pod->GetDescriptor()), "default", api::MetaOf(*pod).name(), now).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return h.Gone(rs) && h.Gone(deploy); }, std::chrono::seconds(30)))
      << (h.Get(rs).ok() ? Describe(**h.Get(rs)) : "rs gone") << " / "
      << (h.Get(deploy).ok() ? Describe(**h.Get(deploy)) : "deployment gone");
}

TEST(GarbageCollectorTest, ForegroundOwnerWithoutDependentsGoesAtOnce) {
  Harness h;
  client::ObjectPtr cm = h.Create("ConfigMap", "", "alone");
  h.WaitQuiescent();
  client::DeleteOptions foreground;
  foreground.propagation_policy = "Foreground";
  ASSERT_TRUE(h.env.api.Delete(ResourceOf(cm->GetDescriptor()), "default", "alone", foreground).ok());
  EXPECT_TRUE(WaitFor([&] { return h.Gone(cm); }));
}

// ---- Namespaces -------------------------------------------------------------------------------

TEST(GarbageCollectorTest, NamespacedOwnerInAnotherNamespaceIsAbsentAndReported) {
  Harness h;
  client::ObjectPtr rs = h.Create("ReplicaSet", "a", "web-1");
  const std::string rs_uid = api::MetaOf(*rs).uid();
  // The graph knows the real owner (namespace a) before the dependent shows up.
  ASSERT_TRUE(WaitFor([&] {
    std::optional<gc::GraphNode> n = h.gc.NodeForTesting(rs_uid);
    return n.has_value() && !n->is_virtual;
  }));
  client::ObjectPtr pod = h.Create("Pod", "b", "p", {RefTo(*rs)});
  ASSERT_TRUE(WaitFor([&] { return h.Gone(pod); }));
  ASSERT_TRUE(WaitFor([&] { return !h.env.Events("OwnerRefInvalidNamespace").empty(); }));
  corev1::Event e = h.env.Events("OwnerRefInvalidNamespace")[0];
  EXPECT_EQ(e.type(), "Warning");
  EXPECT_EQ(e.involvedobject().kind(), "Pod");
  EXPECT_EQ(e.involvedobject().namespace_(), "b");
  EXPECT_EQ(e.involvedobject().name(), "p");
  EXPECT_EQ(e.message(),
            "ownerRef [apps/v1/ReplicaSet, namespace: b, name: web-1, uid: " + rs_uid + "] does not exist in namespace \"b\"");
  EXPECT_EQ(e.source().component(), "garbage-collector-controller");
  h.WaitQuiescent();
  EXPECT_FALSE(h.Gone(rs));
}

TEST(GarbageCollectorTest, ClusterScopedDependentOfANamespacedKindIsLeftAlone) {
  Harness h;
  // A Node naming a ReplicaSet as owner: unresolvable, never collected, never retried for ever.
  metav1::OwnerReference ref;
  ref.set_apiversion("apps/v1");
  ref.set_kind("ReplicaSet");
  ref.set_name("web-1");
  ref.set_uid("0b7c9a44-0000-4000-8000-000000000042");
  client::ObjectPtr node = h.Create("Node", "", "n1", {ref});
  h.WaitQuiescent();
  EXPECT_FALSE(h.Gone(node));
}

// ---- Graph builder --------------------------------------------------------------------------

struct Recorded {
  std::vector<std::string> deletes, orphans;
  std::vector<gc::ObjectIdentity> absent;
  std::vector<std::string> invalid;
};

gc::GraphActions Recorder(Recorded* r) {
  return gc::GraphActions{
      .attempt_to_delete = [r](const std::string& uid) { r->deletes.push_back(uid); },
      .attempt_to_delete_rate_limited = [r](const std::string& uid) { r->deletes.push_back("~" + uid); },
      .attempt_to_orphan = [r](const std::string& uid) { r->orphans.push_back(uid); },
      .absent_owner = [r](const gc::ObjectIdentity& id) { r->absent.push_back(id); },
      .invalid_namespace_owner_ref = [r](const gc::ObjectIdentity& dep, const metav1::OwnerReference&) {
        r->invalid.push_back(dep.uid);
      },
  };
}

gc::GraphEvent Event(gc::GraphEvent::Type type, const std::string& kind, const std::string& ns, const std::string& name,
                     const std::string& uid, std::vector<metav1::OwnerReference> owners = {},
                     std::vector<std::string> finalizers = {}, bool deleting = false) {
  auto m = std::make_shared<metav1::PartialObjectMetadata>();
  m->mutable_metadata()->set_namespace_(ns);
  m->mutable_metadata()->set_name(name);
  m->mutable_metadata()->set_uid(uid);
  for (auto& o : owners) *m->mutable_metadata()->add_ownerreferences() = o;
  for (auto& f : finalizers) m->mutable_metadata()->add_finalizers(f);
  if (deleting) m->mutable_metadata()->mutable_deletiontimestamp()->set_seconds(1);
  const std::string api_version = kind == "Pod" ? "v1" : "apps/v1";
  return gc::GraphEvent{type, false, gc::ObjectIdentity{ns, kind, name, api_version, uid}, m, nullptr};
}

metav1::OwnerReference Ref(const std::string& kind, const std::string& name, const std::string& uid) {
  metav1::OwnerReference r;
  r.set_apiversion("apps/v1");
  r.set_kind(kind);
  r.set_name(name);
  r.set_uid(uid);
  r.set_blockownerdeletion(true);
  return r;
}

TEST(GraphBuilderTest, UnknownOwnerBecomesAVirtualNodeUntilObservedOrVerifiedAbsent) {
  Recorded rec;
  gc::GraphBuilder g(Recorder(&rec));
  g.Process(Event(gc::GraphEvent::Type::kAdd, "Pod", "shop", "p", "pod-1", {Ref("ReplicaSet", "rs", "rs-1")}));
  const gc::GraphNode* owner = g.Find("rs-1");
  ASSERT_NE(owner, nullptr);
  EXPECT_TRUE(owner->is_virtual);
  EXPECT_EQ(owner->identity.ns, "shop");
  EXPECT_EQ(owner->dependents, std::set<std::string>{"pod-1"});
  EXPECT_EQ(rec.deletes, std::vector<std::string>{"rs-1"});  // the collector verifies it

  // Verified absent: the virtual node goes, the pod is looked at, the identity is remembered.
  rec = {};
  gc::GraphEvent absent{gc::GraphEvent::Type::kDelete, true, owner->identity, nullptr, nullptr};
  g.Process(absent);
  EXPECT_EQ(g.Find("rs-1"), nullptr);
  EXPECT_EQ(rec.deletes, std::vector<std::string>{"pod-1"});
  ASSERT_EQ(rec.absent.size(), 1u);
  EXPECT_EQ(rec.absent[0].name, "rs");
}

TEST(GraphBuilderTest, ObservingTheOwnerInAnotherNamespaceReportsTheDependent) {
  Recorded rec;
  gc::GraphBuilder g(Recorder(&rec));
  g.Process(Event(gc::GraphEvent::Type::kAdd, "Pod", "b", "p", "pod-1", {Ref("ReplicaSet", "rs", "rs-1")}));
  rec = {};
  g.Process(Event(gc::GraphEvent::Type::kAdd, "ReplicaSet", "a", "rs", "rs-1"));
  EXPECT_FALSE(g.Find("rs-1")->is_virtual);
  EXPECT_EQ(g.Find("rs-1")->identity.ns, "a");
  EXPECT_EQ(rec.invalid, std::vector<std::string>{"pod-1"});
  EXPECT_EQ(rec.deletes, std::vector<std::string>{"pod-1"});
}

TEST(GraphBuilderTest, FinalizerTransitionsQueueOrphanAndForegroundWork) {
  Recorded rec;
  gc::GraphBuilder g(Recorder(&rec));
  g.Process(Event(gc::GraphEvent::Type::kAdd, "ReplicaSet", "s", "rs", "rs-1"));
  g.Process(Event(gc::GraphEvent::Type::kAdd, "Pod", "s", "p", "pod-1", {Ref("ReplicaSet", "rs", "rs-1")}));
  g.Process(Event(gc::GraphEvent::Type::kAdd, "ReplicaSet", "s", "other", "rs-2"));
  rec = {};
  g.Process(Event(gc::GraphEvent::Type::kUpdate, "ReplicaSet", "s", "rs", "rs-1", {}, {"foregroundDeletion"}, true));
  EXPECT_TRUE(g.Find("rs-1")->deleting_dependents);
  EXPECT_EQ(rec.deletes, (std::vector<std::string>{"pod-1", "rs-1"}));
  ASSERT_EQ(g.BlockingDependents(*g.Find("rs-1")).size(), 1u);

  rec = {};
  g.Process(Event(gc::GraphEvent::Type::kUpdate, "ReplicaSet", "s", "other", "rs-2", {}, {"orphan"}, true));
  EXPECT_EQ(rec.orphans, std::vector<std::string>{"rs-2"});

  // The pod's deletion frees the owner waiting for it.
  rec = {};
  g.Process(Event(gc::GraphEvent::Type::kDelete, "Pod", "s", "p", "pod-1", {Ref("ReplicaSet", "rs", "rs-1")}));
  EXPECT_EQ(rec.deletes, std::vector<std::string>{"rs-1"});
  EXPECT_TRUE(g.BlockingDependents(*g.Find("rs-1")).empty());
}

TEST(AbsentOwnerCacheTest, EvictsTheLeastRecentlyUsed) {
  gc::AbsentOwnerCache cache(2);
  gc::ObjectIdentity a{"ns", "ReplicaSet", "a", "apps/v1", "1"}, b = a, c = a;
  b.uid = "2";
  c.uid = "3";
  cache.Add(a);
  cache.Add(b);
  EXPECT_TRUE(cache.Has(a));  // a is now the most recent
  cache.Add(c);
  EXPECT_TRUE(cache.Has(a));
  EXPECT_FALSE(cache.Has(b));
  EXPECT_TRUE(cache.Has(c));
}

// ---- Scale ----------------------------------------------------------------------------------

TEST(GarbageCollectorScaleTest, DeploymentOfAThousandPods) {
  constexpr int kPods = 1000;
  Harness h;
  client::ObjectPtr deploy = h.Create("Deployment", "", "big");
  client::ObjectPtr rs = h.Create("ReplicaSet", "", "big-1", {RefTo(*deploy)});
  std::vector<client::ObjectPtr> pods;
  for (int i = 0; i < kPods; ++i) pods.push_back(h.Create("Pod", "", "big-1-" + std::to_string(i), {RefTo(*rs)}));
  h.WaitQuiescent();
  h.env.api.ResetCalls();

  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(h.env.api.Delete(ResourceOf(deploy->GetDescriptor()), "default", "big").ok());
  const client::ResourceInfo& pods_resource = ResourceOf(corev1::Pod::descriptor());
  ASSERT_TRUE(WaitFor([&] { return h.env.api.Objects(pods_resource).empty() && h.Gone(rs); }, std::chrono::seconds(60)))
      << h.env.api.Objects(pods_resource).size() << " pods left";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  h.WaitQuiescent();
  const int64_t gets = h.env.api.Calls(client::FakeApi::Verb::kGet);
  const int64_t deletes = h.env.api.Calls(client::FakeApi::Verb::kDelete);
  std::cout << "[gc-scale] Deployment -> ReplicaSet -> " << kPods << " pods collected in " << ms << " ms with "
            << deletes << " DELETEs and " << gets << " GETs (workers " << h.env.settings.concurrent_gc_syncs << ")\n";
  // One DELETE per object (the Deployment's own included) and no GET per pod: the pods and their
  // vanished owner come from the informer caches and the absent-owner cache.
  EXPECT_EQ(deletes, kPods + 2);
  EXPECT_LT(gets, 50);
}

}  // namespace
}  // namespace ck::controller_manager
