#include "controller-manager/garbagecollector/garbage_collector.h"

#include <algorithm>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "common/client/cache/meta.h"

namespace ck::controller_manager {

namespace corev1 = ::k8s::io::api::core::v1;
using gc::GraphEvent;
using gc::ObjectIdentity;

namespace {

constexpr char kDeletePrefix[] = "delete/";
constexpr char kOrphanPrefix[] = "orphan/";
// Upstream retries a finalizer removal on conflicts (retry.DefaultBackoff: 4 steps); so do we,
// re-reading the object each time.
constexpr int kFinalizerRetries = 5;
// Graph events applied per acquisition of the graph mutex.
constexpr size_t kGraphBatch = 256;

ObjectIdentity IdentityOf(const client::ResourceInfo& r, const metav1::ObjectMeta& meta) {
  return ObjectIdentity{meta.namespace_(), r.kind, meta.name(), r.GroupVersion(), meta.uid()};
}

bool SameOwners(const metav1::ObjectMeta& a, const metav1::ObjectMeta& b) {
  if (a.ownerreferences_size() != b.ownerreferences_size()) return false;
  for (int i = 0; i < a.ownerreferences_size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(a.ownerreferences(i), b.ownerreferences(i))) return false;
  }
  return true;
}

// Only ownerReferences, deletion and finalizers matter to the graph (upstream's TODO: skip the
// rest); status updates of pods and lease renewals are dropped here.
bool GraphRelevantChange(const metav1::ObjectMeta& old_meta, const metav1::ObjectMeta& meta) {
  return old_meta.uid() != meta.uid() || old_meta.has_deletiontimestamp() != meta.has_deletiontimestamp() ||
         !std::equal(old_meta.finalizers().begin(), old_meta.finalizers().end(), meta.finalizers().begin(),
                     meta.finalizers().end()) ||
         !SameOwners(old_meta, meta);
}

// {"metadata":{"ownerReferences":[{"$patch":"delete","uid":"a"},...],"uid":"<object>"}}
std::string DeleteOwnerRefsPatch(const std::string& object_uid, const std::vector<std::string>& owner_uids) {
  std::string p = R"({"metadata":{"ownerReferences":[)";
  for (size_t i = 0; i < owner_uids.size(); ++i) {
    if (i > 0) p += ',';
    p += R"({"$patch":"delete","uid":)" + JsonString(owner_uids[i]) + "}";
  }
  p += R"(],"uid":)" + JsonString(object_uid) + "}}";
  return p;
}

// Sets blockOwnerDeletion=false on every blocking reference (merged by uid).
std::string UnblockOwnerRefsPatch(const std::string& object_uid, const metav1::ObjectMeta& meta) {
  std::string p = R"({"metadata":{"ownerReferences":[)";
  bool first = true;
  for (const auto& ref : meta.ownerreferences()) {
    if (!ref.blockownerdeletion()) continue;
    if (!first) p += ',';
    first = false;
    p += R"({"uid":)" + JsonString(ref.uid()) + R"(,"blockOwnerDeletion":false})";
  }
  p += R"(],"uid":)" + JsonString(object_uid) + "}}";
  return p;
}

}  // namespace

std::vector<const client::ResourceInfo*> GarbageCollector::MonitoredResources() {
  std::vector<const client::ResourceInfo*> out;
  for (const client::ResourceInfo& r : api::AllResources()) {
    if (r.storage_prefix.empty() || r.resource == "events") continue;
    if (!r.HasVerb("delete") || !r.HasVerb("list") || !r.HasVerb("watch")) continue;
    out.push_back(&r);
  }
  return out;
}

GarbageCollector::GarbageCollector(ControllerContext& context)
    : ManagedController(client::ControllerOptions{.name = "garbage_collector_attempt_to_delete",
                                                  .workers = context.settings.concurrent_gc_syncs,
                                                  .clock = &context.clock,
                                                  .registry = &context.metrics}),
      api_(context.api),
      recorder_(context.Recorder("garbage-collector-controller")),
      enabled_(context.settings.enable_garbage_collector),
      graph_(gc::GraphActions{
          .attempt_to_delete = [this](const std::string& uid) { Enqueue(kDeletePrefix + uid); },
          .attempt_to_delete_rate_limited = [this](const std::string& uid) { EnqueueRateLimited(kDeletePrefix + uid); },
          .attempt_to_orphan = [this](const std::string& uid) { Enqueue(kOrphanPrefix + uid); },
          .absent_owner = [this](const ObjectIdentity& id) { absent_owners_.Add(id); },
          .invalid_namespace_owner_ref =
              [this](const ObjectIdentity& dependent, const metav1::OwnerReference& owner) {
                ReportInvalidNamespaceOwnerRef(dependent, owner);
              },
      }) {
  if (!enabled_) {
    CK_LOG_INFO("Garbage collector disabled (--enable-garbage-collector=false): no resource is monitored");
    return;
  }
  for (const client::ResourceInfo* r : MonitoredResources()) {
    client::TypedInformer<metav1::PartialObjectMetadata> informer = context.informers.MetadataFor(*r);
    Handle(informer, client::TypedEventHandler<metav1::PartialObjectMetadata>{
        .on_add = [this, r](const auto& obj, bool) {
          PushGraphEvent(GraphEvent{GraphEvent::Type::kAdd, false, IdentityOf(*r, obj->metadata()), obj, nullptr});
        },
        .on_update = [this, r](const auto& old_obj, const auto& obj) {
          if (!GraphRelevantChange(old_obj->metadata(), obj->metadata())) return;
          PushGraphEvent(GraphEvent{GraphEvent::Type::kUpdate, false, IdentityOf(*r, obj->metadata()), obj, old_obj});
        },
        .on_delete = [this, r](const auto& obj, bool) {
          PushGraphEvent(GraphEvent{GraphEvent::Type::kDelete, false, IdentityOf(*r, obj->metadata()), obj, nullptr});
        },
    });
    informers_.emplace(r->GroupResource(), informer);
  }
  graph_thread_ = std::thread([this] { GraphLoop(); });
}

GarbageCollector::~GarbageCollector() {
  RemoveHandlers();
  Stop();
  {
    std::lock_guard lock(events_mu_);
    stopping_ = true;
  }
  events_cv_.notify_all();
  if (graph_thread_.joinable()) graph_thread_.join();
}

std::vector<client::SharedIndexInformer*> GarbageCollector::Informers() const {
  std::vector<client::SharedIndexInformer*> out;
  for (const auto& [name, informer] : informers_) out.push_back(&informer.Informer());
  return out;
}

// ---- Graph ---------------------------------------------------------------------------------

void GarbageCollector::PushGraphEvent(GraphEvent event) {
  {
    std::lock_guard lock(events_mu_);
    events_.push_back(std::move(event));
  }
  events_cv_.notify_one();
}

void GarbageCollector::GraphLoop() {
  SetCurrentThreadName("gc-graph");
  std::unique_lock lock(events_mu_);
  while (true) {
    events_cv_.wait(lock, [this] { return stopping_ || !events_.empty(); });
    if (stopping_) return;
    std::vector<GraphEvent> batch;
    while (!events_.empty() && batch.size() < kGraphBatch) {
      batch.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    graph_busy_ = true;
    lock.unlock();
    {
      std::lock_guard graph_lock(graph_mu_);
      for (const GraphEvent& event : batch) graph_.Process(event);
    }
    lock.lock();
    graph_busy_ = false;
  }
}

void GarbageCollector::EnqueueVirtualDelete(const ObjectIdentity& id) {
  PushGraphEvent(GraphEvent{GraphEvent::Type::kDelete, true, id, nullptr, nullptr});
}

std::optional<GarbageCollector::NodeView> GarbageCollector::View(const std::string& uid) const {
  std::lock_guard lock(graph_mu_);
  const gc::GraphNode* node = graph_.Find(uid);
  if (node == nullptr) return std::nullopt;
  return NodeView{node->identity, node->is_virtual, node->being_deleted, node->deleting_dependents};
}

void GarbageCollector::ReportInvalidNamespaceOwnerRef(const ObjectIdentity& dependent,
                                                      const metav1::OwnerReference& owner) {
  corev1::ObjectReference ref;
  ref.set_kind(dependent.kind);
  ref.set_apiversion(dependent.api_version);
  ref.set_namespace_(dependent.ns);
  ref.set_name(dependent.name);
  ref.set_uid(dependent.uid);
  ObjectIdentity invalid = gc::OwnerCoordinates(owner, dependent.ns);
  recorder_.Event(ref, client::kEventWarning, "OwnerRefInvalidNamespace",
                  "ownerRef " + invalid.ToString() + " does not exist in namespace \"" + dependent.ns + "\"");
}

// ---- Workers -------------------------------------------------------------------------------

Status GarbageCollector::Sync(const std::string& key) {
  in_flight_.fetch_add(1);
  struct Done {
    std::atomic<int>& n;
    ~Done() { n.fetch_sub(1); }
  } done{in_flight_};
  std::string_view k = key;
  if (k.starts_with(kDeletePrefix)) return AttemptToDeleteWorker(std::string(k.substr(sizeof(kDeletePrefix) - 1)));
  if (k.starts_with(kOrphanPrefix)) return AttemptToOrphanWorker(std::string(k.substr(sizeof(kOrphanPrefix) - 1)));
  return Status::Ok();
}

Status GarbageCollector::AttemptToDeleteWorker(const std::string& uid) {
  // A node gone from the graph was deleted (or verified absent) meanwhile: nothing to do.
  std::optional<NodeView> item = View(uid);
  if (!item) return Status::Ok();
  Result<Outcome> outcome = AttemptToDeleteItem(*item);
  if (!outcome.ok()) {
    CK_VLOG(2, "error syncing item", "item", item->identity.ToString(), "err", outcome.status().message());
    return outcome.status();
  }
  if (*outcome != Outcome::kDone) return Status::Ok();
  // A virtual node is looked at again until an informer observes it or the API says it is gone;
  // otherwise one added and removed while a watch was down would stay forever (upstream 56121).
  std::optional<NodeView> now = View(uid);
  if (now && now->is_virtual) {
    return Unavailable("item " + now->identity.ToString() + " hasn't been observed via informer yet");
  }
  return Status::Ok();
}

Result<GarbageCollector::Outcome> GarbageCollector::AttemptToDeleteItem(const NodeView& item) {
  CK_VLOG(4, "Processing item", "item", item.identity.ToString(), "virtual", item.is_virtual);
  // Being deleted is a one-way trip: wait for the final deletion, then handle the dependents.
  if (item.being_deleted && !item.deleting_dependents) return Outcome::kDone;
  CK_ASSIGN_OR_RETURN(const client::ResourceInfo* r, ResourceFor(item.identity.api_version, item.identity.kind));
  // A namespaced kind without a namespace: a cluster-scoped object named it as owner. Retrying
  // cannot help.
  if (r->namespaced && item.identity.ns.empty()) return Outcome::kInvalidOwnerScope;
  Result<client::ObjectPtr> latest = GetObject(item.identity, *r, !item.is_virtual);
  if (!latest.ok()) {
    if (latest.status().code() != Code::kNotFound) return latest.status();
    CK_VLOG(5, "item not found, generating a virtual delete event", "item", item.identity.ToString());
    EnqueueVirtualDelete(item.identity);
    return Outcome::kVirtualDeleteEnqueued;
  }
  const metav1::ObjectMeta& meta = api::MetaOf(**latest);
  if (meta.uid() != item.identity.uid) {
    CK_VLOG(5, "UID doesn't match, item not found, generating a virtual delete event", "item",
            item.identity.ToString());
    EnqueueVirtualDelete(item.identity);
    return Outcome::kVirtualDeleteEnqueued;
  }
  if (item.deleting_dependents) {
    CK_RETURN_IF_ERROR(ProcessDeletingDependentsItem(item));
    return Outcome::kDone;
  }
  if (meta.ownerreferences_size() == 0) {
    CK_VLOG(4, "item doesn't have an owner, continue on next item", "item", item.identity.ToString());
    return Outcome::kDone;
  }

  std::vector<std::string> solid, dangling, waiting;
  for (const auto& ref : meta.ownerreferences()) {
    CK_ASSIGN_OR_RETURN(RefClass c, Classify(ref, item));
    switch (c) {
      case RefClass::kInvalidOwnerScope:
        return Outcome::kInvalidOwnerScope;
      case RefClass::kDangling:
        dangling.push_back(ref.uid());
        break;
      case RefClass::kWaitingForDependents:
        waiting.push_back(ref.uid());
        break;
      case RefClass::kSolid:
        solid.push_back(ref.uid());
        break;
    }
  }

  if (!solid.empty()) {
    if (dangling.empty() && waiting.empty()) return Outcome::kDone;
    // Some owner lives: the item stays, without the references to absent owners and to owners
    // waiting for their dependents (they would otherwise wait for it forever).
    CK_VLOG(2, "remove dangling references and waiting references for item", "item", item.identity.ToString());
    std::vector<std::string> remove = dangling;
    remove.insert(remove.end(), waiting.begin(), waiting.end());
    Status s = PatchObject(item.identity, *r, DeleteOwnerRefsPatch(item.identity.uid, remove));
    if (s.code() == Code::kNotFound) {
      EnqueueVirtualDelete(item.identity);
      return Outcome::kVirtualDeleteEnqueued;
    }
    CK_RETURN_IF_ERROR(s);
    return Outcome::kDone;
  }

  bool has_dependents = false, dependent_deleting_dependents = false;
  {
    std::lock_guard lock(graph_mu_);
    if (const gc::GraphNode* node = graph_.Find(item.identity.uid)) {
      has_dependents = !node->dependents.empty();
      for (const std::string& dep : node->dependents) {
        const gc::GraphNode* d = graph_.Find(dep);
        if (d != nullptr && d->deleting_dependents) dependent_deleting_dependents = true;
      }
    }
  }
  std::string policy;
  if (!waiting.empty() && has_dependents) {
    const bool blocks = std::any_of(meta.ownerreferences().begin(), meta.ownerreferences().end(),
                                    [](const metav1::OwnerReference& ref) { return ref.blockownerdeletion(); });
    if (dependent_deleting_dependents && blocks) {
      // An owner and a dependent both wait for their dependents: a cycle is possible, so this
      // item's references stop blocking before it is deleted in the foreground.
      CK_VLOG(2, "processing item, some of its owners and its dependent have FinalizerDeletingDependents, to prevent "
                 "potential cycle, its ownerReferences are going to be modified to be non-blocking",
              "item", item.identity.ToString());
      CK_RETURN_IF_ERROR(PatchObject(item.identity, *r, UnblockOwnerRefsPatch(item.identity.uid, meta)));
    }
    // Its own dependents go first; its deletion event brings it back to
    // ProcessDeletingDependentsItem.
    policy = "Foreground";
  } else if (gc::HasFinalizer(meta, gc::kOrphanFinalizer)) {
    policy = "Orphan";  // a finalizer already on the object is honoured
  } else if (gc::HasFinalizer(meta, gc::kForegroundFinalizer)) {
    policy = "Foreground";
  } else {
    policy = "Background";
  }
  CK_VLOG(2, "Deleting item", "item", item.identity.ToString(), "propagationPolicy", policy);
  Status s = DeleteObject(item.identity, *r, meta, policy);
  if (s.code() == Code::kNotFound) {
    EnqueueVirtualDelete(item.identity);
    return Outcome::kVirtualDeleteEnqueued;
  }
  CK_RETURN_IF_ERROR(s);
  return Outcome::kDone;
}

Status GarbageCollector::ProcessDeletingDependentsItem(const NodeView& item) {
  std::vector<std::string> to_delete;
  bool none_blocking = false;
  {
    std::lock_guard lock(graph_mu_);
    const gc::GraphNode* node = graph_.Find(item.identity.uid);
    if (node == nullptr) return Status::Ok();
    std::vector<const gc::GraphNode*> blocking = graph_.BlockingDependents(*node);
    none_blocking = blocking.empty();
    for (const gc::GraphNode* dep : blocking) {
      if (!dep->deleting_dependents) to_delete.push_back(dep->identity.uid);
    }
  }
  if (none_blocking) {
    CK_VLOG(2, "remove DeleteDependents finalizer for item", "item", item.identity.ToString());
    return RemoveFinalizer(item.identity, gc::kForegroundFinalizer);
  }
  for (const std::string& uid : to_delete) Enqueue(kDeletePrefix + uid);
  return Status::Ok();
}

Status GarbageCollector::AttemptToOrphanWorker(const std::string& uid) {
  ObjectIdentity owner;
  std::vector<ObjectIdentity> dependents;
  {
    std::lock_guard lock(graph_mu_);
    const gc::GraphNode* node = graph_.Find(uid);
    if (node == nullptr) return Status::Ok();
    owner = node->identity;
    for (const std::string& dep : node->dependents) {
      if (const gc::GraphNode* d = graph_.Find(dep)) dependents.push_back(d->identity);
    }
  }
  std::vector<std::string> errors;
  for (const ObjectIdentity& dep : dependents) {
    Result<const client::ResourceInfo*> r = ResourceFor(dep.api_version, dep.kind);
    Status s = r.ok() ? PatchObject(dep, **r, DeleteOwnerRefsPatch(dep.uid, {owner.uid})) : r.status();
    // A missing reference is no error for a strategic merge patch; a missing dependent is fine too.
    if (!s.ok() && s.code() != Code::kNotFound) errors.push_back("orphaning " + dep.ToString() + " failed, " + s.message());
  }
  if (!errors.empty()) {
    return Internal("failed to orphan dependents of owner " + owner.ToString() + ", got errors: " +
                    Join(errors, ", "));
  }
  CK_VLOG(5, "successfully updated all dependents", "owner", owner.ToString());
  Status s = RemoveFinalizer(owner, gc::kOrphanFinalizer);
  if (!s.ok()) return s.WithPrefix("removeOrphanFinalizer for " + owner.ToString() + " failed");
  return Status::Ok();
}

Result<GarbageCollector::RefClass> GarbageCollector::Classify(const metav1::OwnerReference& ref, const NodeView& item) {
  ObjectIdentity key = gc::OwnerCoordinates(ref);
  if (absent_owners_.Has(key)) return RefClass::kDangling;  // an absent cluster-scoped owner
  key.ns = item.identity.ns;
  if (absent_owners_.Has(key)) return RefClass::kDangling;  // absent in the item's namespace
  CK_ASSIGN_OR_RETURN(const client::ResourceInfo* r, ResourceFor(ref.apiversion(), ref.kind()));
  if (!r->namespaced) key.ns.clear();
  if (item.identity.ns.empty() && r->namespaced) {
    CK_VLOG(2, "item is cluster-scoped, but refers to a namespaced owner", "item", item.identity.ToString(), "owner",
            key.ToString());
    return RefClass::kInvalidOwnerScope;
  }
  // A namespaced owner is looked up in the item's own namespace: one elsewhere does not count.
  Result<client::ObjectPtr> owner = GetObject(key, *r, /*allow_cache=*/true);
  if (!owner.ok()) {
    if (owner.status().code() != Code::kNotFound) return owner.status();
    absent_owners_.Add(key);
    CK_VLOG(5, "item's owner is not found", "item", item.identity.ToString(), "owner", key.ToString());
    return RefClass::kDangling;
  }
  const metav1::ObjectMeta& meta = api::MetaOf(**owner);
  if (meta.uid() != ref.uid()) {
    absent_owners_.Add(key);
    CK_VLOG(5, "item's owner is not found, UID mismatch", "item", item.identity.ToString(), "owner", key.ToString());
    return RefClass::kDangling;
  }
  if (meta.has_deletiontimestamp() && gc::HasFinalizer(meta, gc::kForegroundFinalizer)) {
    return RefClass::kWaitingForDependents;
  }
  return RefClass::kSolid;
}

// ---- API -----------------------------------------------------------------------------------

Result<const client::ResourceInfo*> GarbageCollector::ResourceFor(const std::string& api_version,
                                                                  const std::string& kind) {
  std::string_view group, version = api_version;
  if (size_t slash = api_version.find('/'); slash != std::string::npos) {
    group = std::string_view(api_version).substr(0, slash);
    version = std::string_view(api_version).substr(slash + 1);
  }
  const client::ResourceInfo* r = api::FindResourceByKind(group, version, kind);
  if (r == nullptr) return Internal("unable to get REST mapping for " + api_version + "/" + kind);
  return r;
}

Result<client::ObjectPtr> GarbageCollector::GetObject(const ObjectIdentity& id, const client::ResourceInfo& r,
                                                      bool allow_cache) {
  const std::string ns = r.namespaced ? id.ns : "";
  if (allow_cache) {
    auto it = informers_.find(r.GroupResource());
    if (it != informers_.end()) {
      client::ObjectPtr cached = it->second.Informer().GetIndexer().Get(ns, id.name);
      if (cached != nullptr && api::MetaOf(*cached).uid() == id.uid) return cached;
    }
  }
  client::GetOptions options;
  options.metadata_only = true;
  return api_.Get(r, ns, id.name, options);
}

Status GarbageCollector::DeleteObject(const ObjectIdentity& id, const client::ResourceInfo& r,
                                      const metav1::ObjectMeta& latest, const std::string& policy) {
  const std::string ns = r.namespaced ? id.ns : "";
  client::DeleteOptions options;
  options.precondition_uid = id.uid;
  options.precondition_resource_version = latest.resourceversion();
  options.propagation_policy = policy;
  Result<client::ObjectPtr> deleted = api_.Delete(r, ns, id.name, options);
  if (deleted.ok()) return Status::Ok();
  if (deleted.status().code() != Code::kConflict || latest.resourceversion().empty()) return deleted.status();
  // The object changed since it was read: still delete it when its owners did not.
  client::GetOptions get;
  get.metadata_only = true;
  Result<client::ObjectPtr> live = api_.Get(r, ns, id.name, get);
  if (!live.ok() && live.status().code() == Code::kNotFound) return Status::Ok();
  if (live.ok()) {
    const metav1::ObjectMeta& m = api::MetaOf(**live);
    if (m.uid() == id.uid && m.resourceversion() != latest.resourceversion() && SameOwners(m, latest)) {
      options.precondition_resource_version.clear();
      Result<client::ObjectPtr> again = api_.Delete(r, ns, id.name, options);
      return again.status();
    }
  }
  return deleted.status();
}

Status GarbageCollector::PatchObject(const ObjectIdentity& id, const client::ResourceInfo& r, const std::string& body) {
  const std::string ns = r.namespaced ? id.ns : "";
  return api_.Patch(r, ns, id.name, client::PatchType::kStrategicMerge, body).status();
}

Status GarbageCollector::RemoveFinalizer(const ObjectIdentity& id, const std::string& finalizer) {
  CK_ASSIGN_OR_RETURN(const client::ResourceInfo* r, ResourceFor(id.api_version, id.kind));
  const std::string ns = r->namespaced ? id.ns : "";
  for (int attempt = 0; attempt < kFinalizerRetries; ++attempt) {
    client::GetOptions get;
    get.metadata_only = true;
    Result<client::ObjectPtr> object = api_.Get(*r, ns, id.name, get);
    if (!object.ok()) {
      if (object.status().code() == Code::kNotFound) return Status::Ok();
      return object.status().WithPrefix("cannot finalize owner " + id.ToString() +
                                        ", because cannot get it. The garbage collector will retry later");
    }
    const metav1::ObjectMeta& meta = api::MetaOf(**object);
    if (meta.uid() != id.uid || !gc::HasFinalizer(meta, finalizer)) {
      CK_VLOG(5, "finalizer already removed from object", "finalizer", finalizer, "object", id.ToString());
      return Status::Ok();
    }
    std::vector<std::string> rest;
    for (const std::string& f : meta.finalizers()) {
      if (f != finalizer) rest.push_back(JsonString(f));
    }
    // A merge patch with the resourceVersion read: a concurrent change is a conflict, read again.
    std::string body = R"({"metadata":{"resourceVersion":)" + JsonString(meta.resourceversion()) +
                       R"(,"finalizers":)" + (rest.empty() ? std::string("null") : "[" + Join(rest, ",") + "]") + "}}";
    Result<client::ObjectPtr> patched = api_.Patch(*r, ns, id.name, client::PatchType::kMerge, body);
    if (patched.ok() || patched.status().code() == Code::kNotFound) return Status::Ok();
    if (patched.status().code() != Code::kConflict) return patched.status();
  }
  return Conflict("updateMaxRetries(" + std::to_string(kFinalizerRetries) +
                  ") has reached. The garbage collector will retry later for owner " + id.ToString());
}

// ---- Test hooks ----------------------------------------------------------------------------

bool GarbageCollector::IdleForTesting() const {
  {
    std::lock_guard lock(events_mu_);
    if (!events_.empty() || graph_busy_) return false;
  }
  auto& queue = const_cast<GarbageCollector*>(this)->queue();
  return queue.Len() == 0 && queue.PendingLen() == 0 && in_flight_.load() == 0;
}

std::optional<gc::GraphNode> GarbageCollector::NodeForTesting(const std::string& uid) const {
  std::lock_guard lock(graph_mu_);
  const gc::GraphNode* node = graph_.Find(uid);
  if (node == nullptr) return std::nullopt;
  return *node;
}

}  // namespace ck::controller_manager
