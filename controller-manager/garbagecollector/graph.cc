#include "controller-manager/garbagecollector/graph.h"

#include <algorithm>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/object.h"
#include "common/base/log.h"

namespace ck::controller_manager::gc {

namespace {

bool BeingDeleted(const metav1::ObjectMeta& meta) { return meta.has_deletiontimestamp(); }

bool SameRef(const metav1::OwnerReference& a, const metav1::OwnerReference& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

bool Blocks(const metav1::OwnerReference& ref) { return ref.has_blockownerdeletion() && ref.blockownerdeletion(); }

// Upstream deletionStartsWithFinalizer: the object is being deleted with `finalizer` now and was
// not (or did not have it) before.
bool DeletionStartsWithFinalizer(const metav1::ObjectMeta* old_meta, const metav1::ObjectMeta& meta,
                                 std::string_view finalizer) {
  if (!BeingDeleted(meta) || !HasFinalizer(meta, finalizer)) return false;
  if (old_meta == nullptr) return true;
  return !BeingDeleted(*old_meta) || !HasFinalizer(*old_meta, finalizer);
}

}  // namespace

bool HasFinalizer(const metav1::ObjectMeta& meta, std::string_view finalizer) {
  return std::find(meta.finalizers().begin(), meta.finalizers().end(), finalizer) != meta.finalizers().end();
}

std::string ObjectIdentity::ToString() const {
  return "[" + api_version + "/" + kind + ", namespace: " + ns + ", name: " + name + ", uid: " + uid + "]";
}

ObjectIdentity OwnerCoordinates(const metav1::OwnerReference& ref, std::string ns) {
  return ObjectIdentity{std::move(ns), ref.kind(), ref.name(), ref.apiversion(), ref.uid()};
}

bool MatchesCoordinates(const metav1::OwnerReference& ref, const ObjectIdentity& id) {
  return ref.uid() == id.uid && ref.name() == id.name && ref.kind() == id.kind && ref.apiversion() == id.api_version;
}

// ---- GraphBuilder ----------------------------------------------------------------------------

const GraphNode* GraphBuilder::Find(const std::string& uid) const {
  auto it = nodes_.find(uid);
  return it == nodes_.end() ? nullptr : &it->second;
}

GraphNode* GraphBuilder::Mutable(const std::string& uid) {
  auto it = nodes_.find(uid);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<const GraphNode*> GraphBuilder::BlockingDependents(const GraphNode& owner) const {
  std::vector<const GraphNode*> out;
  for (const std::string& uid : owner.dependents) {
    const GraphNode* dep = Find(uid);
    if (dep == nullptr) continue;
    for (const auto& ref : dep->owners) {
      if (ref.uid() == owner.identity.uid && Blocks(ref)) {
        out.push_back(dep);
        break;
      }
    }
  }
  return out;
}

void GraphBuilder::Process(const GraphEvent& event) {
  const metav1::ObjectMeta* meta = event.object ? &api::MetaOf(*event.object) : nullptr;
  const metav1::ObjectMeta* old_meta = event.old_object ? &api::MetaOf(*event.old_object) : nullptr;
  GraphNode* existing = Mutable(event.identity.uid);

  if (existing != nullptr && !event.is_virtual && existing->is_virtual) {
    // The first informer event for a uid known only from references: the object's real
    // coordinates replace the guessed ones, and dependents that guessed wrong are re-checked.
    const ObjectIdentity& observed = event.identity;
    if (observed != existing->identity) {
      std::vector<std::string> matching, nonmatching;
      PartitionDependents(*existing, observed, &matching, &nonmatching);
      for (const std::string& dep_uid : nonmatching) {
        const GraphNode* dep = Find(dep_uid);
        if (dep == nullptr) continue;
        if (!observed.ns.empty() && dep->identity.ns != observed.ns) {
          CK_VLOG(2, "item references an owner but does not match namespaces", "item", dep->identity.ToString(),
                  "owner", observed.ToString());
          ReportInvalidNamespaceOwnerRef(*dep, observed.uid);
        }
        actions_.attempt_to_delete(dep_uid);
      }
      CK_VLOG(2, "replacing virtual item with observed item", "virtual", existing->identity.ToString(), "observed",
              observed.ToString());
      existing->identity = observed;
    }
    existing->is_virtual = false;
  }

  switch (event.type) {
    case GraphEvent::Type::kAdd:
    case GraphEvent::Type::kUpdate: {
      if (meta == nullptr) return;
      if (existing == nullptr) {
        GraphNode node;
        node.identity = event.identity;
        node.owners.assign(meta->ownerreferences().begin(), meta->ownerreferences().end());
        node.being_deleted = BeingDeleted(*meta);
        node.deleting_dependents = node.being_deleted && HasFinalizer(*meta, kForegroundFinalizer);
        const std::string uid = node.identity.uid;
        GraphNode& inserted = nodes_.emplace(uid, std::move(node)).first->second;
        AddDependentToOwners(inserted, inserted.owners);
        // An informer may fold a creation and a deletion into one event.
        ProcessTransitions(old_meta, *meta, inserted);
        return;
      }
      if (!event.is_virtual && (existing->identity.api_version != event.identity.api_version ||
                                existing->identity.kind != event.identity.kind)) {
        existing->identity.api_version = event.identity.api_version;
        existing->identity.kind = event.identity.kind;
      }
      // Owner reference changes (by uid): added, removed, changed.
      std::vector<metav1::OwnerReference> added, removed;
      std::vector<std::pair<metav1::OwnerReference, metav1::OwnerReference>> changed;
      std::map<std::string, const metav1::OwnerReference*> old_by_uid;
      for (const auto& ref : existing->owners) old_by_uid[ref.uid()] = &ref;
      for (const auto& ref : meta->ownerreferences()) {
        auto it = old_by_uid.find(ref.uid());
        if (it == old_by_uid.end()) {
          added.push_back(ref);
          continue;
        }
        if (!SameRef(*it->second, ref)) changed.emplace_back(*it->second, ref);
        old_by_uid.erase(it);
      }
      for (const auto& [uid, ref] : old_by_uid) removed.push_back(*ref);
      if (!added.empty() || !removed.empty() || !changed.empty()) {
        // Owners waiting for their dependents may be unblocked by this change.
        AddUnblockedOwnersToDeleteQueue(removed, changed);
        existing->owners.assign(meta->ownerreferences().begin(), meta->ownerreferences().end());
        AddDependentToOwners(*existing, added);
        RemoveDependentFromOwners(*existing, removed);
      }
      if (BeingDeleted(*meta)) existing->being_deleted = true;
      ProcessTransitions(old_meta, *meta, *existing);
      return;
    }
    case GraphEvent::Type::kDelete:
      if (existing == nullptr) {
        CK_VLOG(5, "item doesn't exist in the graph, this shouldn't happen", "item", event.identity.uid);
        return;
      }
      ProcessDelete(event, *existing);
      return;
  }
}

void GraphBuilder::ProcessDelete(const GraphEvent& event, GraphNode& existing) {
  bool remove = true;
  if (event.is_virtual) {
    const ObjectIdentity& deleted = event.identity;
    if (existing.is_virtual) {
      // Dependents may disagree on the owner's coordinates: only those matching the identity
      // verified absent are re-checked; the node stays for the others.
      std::vector<std::string> matching, nonmatching;
      PartitionDependents(existing, deleted, &matching, &nonmatching);
      if (!nonmatching.empty()) {
        remove = false;
        if (!matching.empty()) {
          actions_.absent_owner(deleted);
          for (const std::string& dep : matching) actions_.attempt_to_delete(dep);
        }
        if (existing.identity == deleted) {
          if (std::optional<ObjectIdentity> replacement = AlternateOwnerIdentity(nonmatching, deleted)) {
            existing.identity = *replacement;
            actions_.attempt_to_delete_rate_limited(existing.identity.uid);
          }
        }
      }
    } else if (existing.identity != deleted) {
      // An observed node is not removed by a virtual delete of other coordinates.
      remove = false;
      std::vector<std::string> matching, nonmatching;
      PartitionDependents(existing, deleted, &matching, &nonmatching);
      if (!matching.empty()) {
        actions_.absent_owner(deleted);
        for (const std::string& dep : matching) actions_.attempt_to_delete(dep);
      }
    }
  }
  if (!remove) return;

  GraphNode gone = std::move(existing);
  nodes_.erase(gone.identity.uid);
  RemoveDependentFromOwners(gone, gone.owners);
  if (!gone.dependents.empty()) actions_.absent_owner(event.identity);
  for (const std::string& dep : gone.dependents) actions_.attempt_to_delete(dep);
  // An owner waiting for its dependents may now be free to go.
  for (const auto& ref : gone.owners) {
    const GraphNode* owner = Find(ref.uid());
    if (owner != nullptr && owner->deleting_dependents) actions_.attempt_to_delete(ref.uid());
  }
}

void GraphBuilder::AddDependentToOwners(GraphNode& node, const std::vector<metav1::OwnerReference>& owners) {
  // Whether some owner already in the graph disagrees with this dependent's reference to it.
  bool potentially_invalid = false;
  for (const auto& ref : owners) {
    GraphNode* owner = Mutable(ref.uid());
    const bool created = owner == nullptr;
    if (created) {
      GraphNode v;
      v.identity = OwnerCoordinates(ref, node.identity.ns);
      v.is_virtual = true;
      CK_VLOG(5, "add virtual item", "identity", v.identity.ToString());
      owner = &nodes_.emplace(ref.uid(), std::move(v)).first->second;
    }
    owner->dependents.insert(node.identity.uid);
    if (created) {
      // The collector GETs it: a virtual delete follows when the API confirms it absent.
      actions_.attempt_to_delete(ref.uid());
      continue;
    }
    if (potentially_invalid) continue;
    const bool owner_namespaced = !owner->identity.ns.empty();
    if (owner_namespaced && owner->identity.ns != node.identity.ns) {
      if (!owner->is_virtual) {
        CK_VLOG(2, "item references an owner but does not match namespaces", "item", node.identity.ToString(), "owner",
                owner->identity.ToString());
        ReportInvalidNamespaceOwnerRef(node, ref.uid());
      }
      potentially_invalid = true;
    } else if (!MatchesCoordinates(ref, owner->identity)) {
      potentially_invalid = true;
    } else if (!owner_namespaced && owner->identity.ns != node.identity.ns && owner->is_virtual) {
      // A virtual cluster-scoped guess that may really be a namespaced owner of a cluster-scoped
      // dependent (upstream issue 98040): verify.
      potentially_invalid = true;
    }
  }
  if (potentially_invalid) actions_.attempt_to_delete(node.identity.uid);
}

void GraphBuilder::RemoveDependentFromOwners(const GraphNode& node, const std::vector<metav1::OwnerReference>& owners) {
  for (const auto& ref : owners) {
    if (GraphNode* owner = Mutable(ref.uid())) owner->dependents.erase(node.identity.uid);
  }
}

void GraphBuilder::AddUnblockedOwnersToDeleteQueue(
    const std::vector<metav1::OwnerReference>& removed,
    const std::vector<std::pair<metav1::OwnerReference, metav1::OwnerReference>>& changed) {
  for (const auto& ref : removed) {
    if (Blocks(ref) && Find(ref.uid()) != nullptr) actions_.attempt_to_delete(ref.uid());
  }
  for (const auto& [old_ref, new_ref] : changed) {
    if (Blocks(old_ref) && !Blocks(new_ref) && Find(new_ref.uid()) != nullptr) actions_.attempt_to_delete(new_ref.uid());
  }
}

void GraphBuilder::ProcessTransitions(const metav1::ObjectMeta* old_meta, const metav1::ObjectMeta& meta,
                                      GraphNode& node) {
  if (DeletionStartsWithFinalizer(old_meta, meta, kOrphanFinalizer)) {
    CK_VLOG(5, "add item to attemptToOrphan", "item", node.identity.ToString());
    actions_.attempt_to_orphan(node.identity.uid);
    return;
  }
  if (DeletionStartsWithFinalizer(old_meta, meta, kForegroundFinalizer)) {
    CK_VLOG(2, "add item to attemptToDelete, because it's waiting for its dependents to be deleted", "item",
            node.identity.ToString());
    node.deleting_dependents = true;
    for (const std::string& dep : node.dependents) actions_.attempt_to_delete(dep);
    actions_.attempt_to_delete(node.identity.uid);
  }
}

void GraphBuilder::ReportInvalidNamespaceOwnerRef(const GraphNode& dependent, const std::string& owner_uid) {
  for (const auto& ref : dependent.owners) {
    if (ref.uid() == owner_uid) {
      actions_.invalid_namespace_owner_ref(dependent.identity, ref);
      return;
    }
  }
}

void GraphBuilder::PartitionDependents(const GraphNode& owner, const ObjectIdentity& identity,
                                       std::vector<std::string>* matching, std::vector<std::string>* nonmatching) const {
  const bool owner_namespaced = !identity.ns.empty();
  for (const std::string& uid : owner.dependents) {
    const GraphNode* dep = Find(uid);
    if (dep == nullptr) continue;
    bool found_match = false, found_mismatch = false;
    if (owner_namespaced && identity.ns != dep->identity.ns) {
      // A namespaced owner can only be referenced from its own namespace.
      found_mismatch = true;
    } else {
      for (const auto& ref : dep->owners) {
        if (ref.uid() != identity.uid) continue;
        if (MatchesCoordinates(ref, identity)) {
          found_match = true;
        } else {
          found_mismatch = true;
        }
      }
    }
    if (found_match) matching->push_back(uid);
    if (found_mismatch) nonmatching->push_back(uid);
  }
}

std::optional<ObjectIdentity> GraphBuilder::AlternateOwnerIdentity(const std::vector<std::string>& dependents,
                                                                   const ObjectIdentity& absent) const {
  const bool absent_cluster_scoped = absent.ns.empty();
  std::set<ObjectIdentity> seen{absent};
  std::optional<ObjectIdentity> first, first_following;
  for (const std::string& uid : dependents) {
    const GraphNode* dep = Find(uid);
    if (dep == nullptr) continue;
    for (const auto& ref : dep->owners) {
      if (ref.uid() != absent.uid) continue;
      if (MatchesCoordinates(ref, absent) && (absent_cluster_scoped || absent.ns == dep->identity.ns)) continue;
      ObjectIdentity candidate = OwnerCoordinates(ref, dep->identity.ns);
      // The verified identity says this apiVersion/kind is cluster-scoped.
      if (absent_cluster_scoped && candidate.api_version == absent.api_version && candidate.kind == absent.kind) {
        candidate.ns.clear();
      }
      if (!seen.insert(candidate).second) continue;
      if (!first || candidate < *first) first = candidate;
      if (absent < candidate && (!first_following || candidate < *first_following)) first_following = candidate;
    }
  }
  return first_following ? first_following : first;
}

// ---- AbsentOwnerCache ------------------------------------------------------------------------

void AbsentOwnerCache::Add(const ObjectIdentity& id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.push_front(id);
  entries_[id] = order_.begin();
  if (entries_.size() > capacity_) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
}

bool AbsentOwnerCache::Has(const ObjectIdentity& id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

}  // namespace ck::controller_manager::gc
