// GarbageCollector ("garbage-collector-controller"): deletes objects whose owners are gone and
// carries out foreground and orphan deletion (upstream pkg/controller/garbagecollector).
//   metadata informers of every deletable kind -> graph events -> one "gc-graph" thread keeps the
//   ownerReferences graph (graph.h) -> keys "delete/<uid>" and "orphan/<uid>" -> workers:
//   delete/<uid>: the object's owners are all gone -> DELETE it (Background, or the policy its
//     finalizers ask for); some gone -> patch the dangling references away; it waits for its
//     dependents (foregroundDeletion) -> delete the blocking ones, drop the finalizer when none is left.
//   orphan/<uid>: remove the owner's reference from every dependent, then the `orphan` finalizer.
// Owners and the object itself are read from the informer caches when there (a delete carries uid
// and resourceVersion preconditions, so a stale cache never deletes the wrong state) and GET as
// metadata otherwise; owners verified absent are remembered (AbsentOwnerCache).
// With settings.enable_garbage_collector false the collector watches nothing and does nothing.
// Threading: handlers only queue graph events; the graph thread is the only writer of the graph;
// workers read it under graph_mu_ and talk to the API without it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/api/proto/meta_v1.pb.h"
#include "controller-manager/controller_table.h"
#include "controller-manager/garbagecollector/graph.h"

namespace ck::controller_manager {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

class GarbageCollector final : public ManagedController {
 public:
  explicit GarbageCollector(ControllerContext& context);
  ~GarbageCollector() override;

  std::vector<client::SharedIndexInformer*> Informers() const override;

  // Every served resource the collector tracks: stored, with delete, list and watch, except
  // Events (upstream's ignored resources).
  static std::vector<const client::ResourceInfo*> MonitoredResources();

  // ---- Test hooks ----
  // No graph event waiting or being applied, no key queued, delayed or being synced.
  bool IdleForTesting() const;
  // A copy of the graph node of `uid`, if any.
  std::optional<gc::GraphNode> NodeForTesting(const std::string& uid) const;

 protected:
  // `key` is "delete/<uid>" (attemptToDelete) or "orphan/<uid>" (attemptToOrphan).
  Status Sync(const std::string& key) override;

 private:
  enum class Outcome { kDone, kVirtualDeleteEnqueued, kInvalidOwnerScope };
  enum class RefClass { kSolid, kDangling, kWaitingForDependents, kInvalidOwnerScope };
  struct NodeView {
    gc::ObjectIdentity identity;
    bool is_virtual = false;
    bool being_deleted = false;
    bool deleting_dependents = false;
  };

  void PushGraphEvent(gc::GraphEvent event);
  void GraphLoop();
  std::optional<NodeView> View(const std::string& uid) const;

  Status AttemptToDeleteWorker(const std::string& uid);
  Result<Outcome> AttemptToDeleteItem(const NodeView& item);
  Status ProcessDeletingDependentsItem(const NodeView& item);
  Status AttemptToOrphanWorker(const std::string& uid);
  Result<RefClass> Classify(const metav1::OwnerReference& ref, const NodeView& item);

  // The object of `id` from its informer's cache (when `allow_cache` and it is there with the same
  // uid), else GET as metadata.
  Result<client::ObjectPtr> GetObject(const gc::ObjectIdentity& id, const client::ResourceInfo& r, bool allow_cache);
  // DELETE with uid and resourceVersion preconditions; on a resourceVersion conflict the object is
  // read again and deleted (uid precondition only) when its ownerReferences are unchanged.
  Status DeleteObject(const gc::ObjectIdentity& id, const client::ResourceInfo& r, const metav1::ObjectMeta& latest,
                      const std::string& policy);
  // Strategic merge patch of `id` (its uid in the patch is a precondition).
  Status PatchObject(const gc::ObjectIdentity& id, const client::ResourceInfo& r, const std::string& body);
  Status RemoveFinalizer(const gc::ObjectIdentity& id, const std::string& finalizer);
  void EnqueueVirtualDelete(const gc::ObjectIdentity& id);
  void ReportInvalidNamespaceOwnerRef(const gc::ObjectIdentity& dependent, const metav1::OwnerReference& owner);

  static Result<const client::ResourceInfo*> ResourceFor(const std::string& api_version, const std::string& kind);

  client::ApiClient& api_;
  client::EventRecorder recorder_;
  const bool enabled_;
  std::map<std::string, client::TypedInformer<metav1::PartialObjectMetadata>> informers_;  // by GroupResource()
  gc::AbsentOwnerCache absent_owners_;

  mutable std::mutex graph_mu_;
  gc::GraphBuilder graph_;  // guarded by graph_mu_

  mutable std::mutex events_mu_;
  std::condition_variable events_cv_;
  std::deque<gc::GraphEvent> events_;  // guarded by events_mu_
  bool graph_busy_ = false;            // guarded by events_mu_
  bool stopping_ = false;              // guarded by events_mu_
  std::thread graph_thread_;

  std::atomic<int> in_flight_{0};
};

}  // namespace ck::controller_manager
