// The garbage collector's dependency graph (upstream garbagecollector's graph.go and
// graph_builder.go): one node per object uid holding the ownerReferences the object carries and
// the uids of the objects that name it as an owner. A node is "virtual" while it stands for an
// owner known only from a dependent's ownerReference; an informer event for that uid makes it
// observed, a virtual delete event (the collector verified the owner absent) removes it.
//
// GraphBuilder::Process applies one informer (or virtual) event to the graph and reports what must
// be looked at through GraphActions: dependents of a vanished owner, owners waiting for their
// dependents (foregroundDeletion), owners to orphan (orphan finalizer), identities verified absent.
// Threading: not synchronized; the GarbageCollector holds its graph mutex around every call.
#pragma once

#include <compare>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/api/proto/meta_v1.pb.h"
#include "common/client/api_client.h"

namespace ck::controller_manager::gc {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

inline constexpr char kForegroundFinalizer[] = "foregroundDeletion";
inline constexpr char kOrphanFinalizer[] = "orphan";

// What an object (or an owner reference, with the namespace of the referring object) points at:
// upstream's objectReference. Ordered as upstream compares alternates: namespace, kind, name,
// apiVersion, then uid.
struct ObjectIdentity {
  std::string ns;
  std::string kind;
  std::string name;
  std::string api_version;
  std::string uid;

  auto operator<=>(const ObjectIdentity&) const = default;
  // "[apps/v1/ReplicaSet, namespace: shop, name: web-1, uid: 1234]" (upstream's String()).
  std::string ToString() const;
};

// apiVersion, kind, name and uid of `ref`, in namespace `ns`.
ObjectIdentity OwnerCoordinates(const metav1::OwnerReference& ref, std::string ns = "");
// Upstream ownerReferenceMatchesCoordinates: same uid, name, kind and apiVersion.
bool MatchesCoordinates(const metav1::OwnerReference& ref, const ObjectIdentity& id);

struct GraphNode {
  ObjectIdentity identity;
  std::vector<metav1::OwnerReference> owners;
  std::set<std::string> dependents;  // uids of the nodes that list this one as an owner
  bool is_virtual = false;           // not observed through an informer yet
  bool being_deleted = false;        // deletionTimestamp seen
  bool deleting_dependents = false;  // deletionTimestamp and the foregroundDeletion finalizer seen
};

// One change the graph builder applies: an informer's add/update/delete of an object (with its
// PartialObjectMetadata, and the previous state for updates), or a virtual delete the collector
// made up after verifying `identity` absent (object and old_object null).
struct GraphEvent {
  enum class Type { kAdd, kUpdate, kDelete };
  Type type = Type::kAdd;
  bool is_virtual = false;
  ObjectIdentity identity;  // apiVersion and kind from the informer's resource
  client::ObjectPtr object;
  client::ObjectPtr old_object;
};

// What the builder asks of the collector; called with the graph mutex held, so they only queue.
struct GraphActions {
  std::function<void(const std::string& uid)> attempt_to_delete;
  std::function<void(const std::string& uid)> attempt_to_delete_rate_limited;
  std::function<void(const std::string& uid)> attempt_to_orphan;
  std::function<void(const ObjectIdentity& absent)> absent_owner;
  // `dependent` names as owner `owner`, a namespaced object of another namespace.
  std::function<void(const ObjectIdentity& dependent, const metav1::OwnerReference& owner)> invalid_namespace_owner_ref;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(GraphActions actions) : actions_(std::move(actions)) {}

  void Process(const GraphEvent& event);

  const GraphNode* Find(const std::string& uid) const;
  size_t size() const { return nodes_.size(); }
  // The dependents of `owner` whose reference to it has blockOwnerDeletion=true.
  std::vector<const GraphNode*> BlockingDependents(const GraphNode& owner) const;

 private:
  GraphNode* Mutable(const std::string& uid);
  void AddDependentToOwners(GraphNode& node, const std::vector<metav1::OwnerReference>& owners);
  void RemoveDependentFromOwners(const GraphNode& node, const std::vector<metav1::OwnerReference>& owners);
  void AddUnblockedOwnersToDeleteQueue(const std::vector<metav1::OwnerReference>& removed,
                                       const std::vector<std::pair<metav1::OwnerReference, metav1::OwnerReference>>& changed);
  void ProcessTransitions(const metav1::ObjectMeta* old_meta, const metav1::ObjectMeta& meta, GraphNode& node);
  void ProcessDelete(const GraphEvent& event, GraphNode& existing);
  void ReportInvalidNamespaceOwnerRef(const GraphNode& dependent, const std::string& owner_uid);
  // Splits `owner`'s dependents into those whose reference matches `identity` and those whose
  // reference (or namespace) disagrees; a dependent can be in both.
  void PartitionDependents(const GraphNode& owner, const ObjectIdentity& identity, std::vector<std::string>* matching,
                           std::vector<std::string>* nonmatching) const;
  std::optional<ObjectIdentity> AlternateOwnerIdentity(const std::vector<std::string>& dependents,
                                                       const ObjectIdentity& absent) const;

  GraphActions actions_;
  std::unordered_map<std::string, GraphNode> nodes_;  // by uid
};

// Owners verified absent (upstream absentOwnerCache, an LRU of 500): spares a GET per dependent
// when a thousand pods lose the same ReplicaSet.
// Threading: safe from any thread.
class AbsentOwnerCache {
 public:
  explicit AbsentOwnerCache(size_t capacity = 500) : capacity_(capacity) {}
  void Add(const ObjectIdentity& id);
  bool Has(const ObjectIdentity& id);

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::list<ObjectIdentity> order_;                                           // guarded by mu_; front = newest
  std::map<ObjectIdentity, std::list<ObjectIdentity>::iterator> entries_;  // guarded by mu_
};

bool HasFinalizer(const metav1::ObjectMeta& meta, std::string_view finalizer);

}  // namespace ck::controller_manager::gc
