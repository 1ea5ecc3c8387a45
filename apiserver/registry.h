// Registry: the generic create / get / update / delete of every stored kind, over the store and
// the watch cache, with upstream's object life rules (genericregistry.Store's role):
//
// - create: namespace from the request, name from generateName (5 characters of
//   "bcdfghjklmnpqrstvwxz2456789"), uid, creationTimestamp, generation 1, status reset for kinds
//   whose status is written through /status, defaults, validation (422 with causes), then an
//   atomic "create if absent" (409 AlreadyExists otherwise);
// - update: optimistic concurrency on metadata.resourceVersion (409 Conflict when stale; retried
//   internally when the caller gave none), uid/creationTimestamp kept, metadata.generation bumped
//   only when spec changes, status kept on the main resource and only status taken on /status;
//   an update that changes nothing writes nothing; an update that leaves an object with a
//   deletionTimestamp and no finalizers deletes it;
// - delete: preconditions (uid, resourceVersion), graceful pod deletion (deletionTimestamp +
//   deletionGracePeriodSeconds while the kubelet stops the containers; unscheduled or finished pods
//   go at once), finalizers and propagationPolicy (Foreground adds "foregroundDeletion", Orphan
//   adds "orphan"), otherwise removed at once.
// Reads are consistent: the cache is synced to the store's revision before it answers.
// Threading: safe from any thread; each call blocks on at most one durable store write.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/object.h"
#include "apiserver/resources.h"
#include "apiserver/watch_cache.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "store/store.h"

namespace ck::apiserver {

// What a failed call tells the client besides its Status (meta/v1 StatusDetails).
struct StatusCause {
  std::string reason, message, field;
};
struct ErrorDetails {
  std::string name, group, kind;  // kind is the resource's plural for NotFound ("pods"), its Kind for 422
  std::vector<StatusCause> causes;
  int retry_after_seconds = 0;
};

// Admission of one write (apiserver/admission, bound by the REST layer to the request's user,
// operation and subresource). The registry calls:
// - Mutate after its own defaulting (create: once, before allocation and validation; update: on
//   every attempt, after the caller's change); defaults are applied again afterwards, so what a
//   mutating plugin or webhook adds is defaulted like the rest;
// - Validate after validation, inside every transaction attempt, with that attempt's compares and
//   ops (ResourceQuota adds its quota update there). A delete has object == nullptr; compares and
//   ops are given only to the write that removes the object (not to a graceful or finalizer delete).
// When the transaction fails on a compare while the object itself did not change (a quota or an
// address taken concurrently), the attempt is repeated on fresh state.
class WriteAdmission {
 public:
  virtual ~WriteAdmission() = default;
  virtual Status Mutate(const ResourceInfo& r, const Message* old_object, Message* object, ErrorDetails* details) = 0;
  virtual Status Validate(const ResourceInfo& r, const Message* old_object, const Message* object,
                          std::vector<store::Compare>* compares, std::vector<store::Op>* ops,
                          ErrorDetails* details) = 0;
};

struct WriteOptions {
  bool dry_run = false;
  std::string subresource;  // "", "status", or "binding" (no update validation)
  WriteAdmission* admission = nullptr;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // "", "Background", "Foreground", "Orphan"
  std::optional<std::string> precondition_uid;
  std::optional<std::string> precondition_resource_version;
  bool dry_run = false;
  WriteAdmission* admission = nullptr;  // Validate(old, nullptr) before the delete is written
};

struct DeleteResult {
  std::shared_ptr<const Message> object;  // the deleted object, or the object now terminating
  bool deleted = false;                   // false: still there (finalizers or graceful deletion)
};

// Extra store operations a write must commit atomically with the object (Service IP and
// NodePort allocations, apiserver/allocation/). Called where upstream calls BeginCreate and
// BeginUpdate: after defaulting, before validation, so it may fill allocated fields that
// validation requires (clusterIP, healthCheckNodePort). Not called for /status writes.
// - create: old_object == nullptr; update: both set; removal (a delete, or an update that drops
//   the last finalizer of a deleting object): new_object == nullptr.
// - It may change new_object and append compares and ops; they join the object's transaction
//   (discarded on dry-run or when validation fails). On error the write fails with that Status
//   (details filled like a validation failure).
// - When the transaction fails on one of its compares while the object itself did not change (an
//   address taken concurrently), the write is retried and the hook called again with the object
//   as the caller gave it.
using AllocationHook = std::function<Status(const ResourceInfo& resource, const Message* old_object,
                                            Message* new_object, std::vector<store::Compare>* compares,
                                            std::vector<store::Op>* ops, ErrorDetails* details)>;

class Registry {
 public:
  Registry(store::Store* store, WatchCache* cache, Clock* clock, Random* random);

  // `applies` names the resources the hook may change (all when empty); a create of any other
  // resource skips the copy it would otherwise keep to undo the hook on a retry.
  void SetAllocationHook(AllocationHook hook, std::function<bool(const ResourceInfo&)> applies = nullptr) {
    allocation_hook_ = std::move(hook);
    allocation_applies_ = std::move(applies);
  }

  Result<std::shared_ptr<const Message>> Create(const ResourceInfo& resource, const std::string& ns,
                                                std::unique_ptr<Message> object, const WriteOptions& options,
                                                ErrorDetails* details = nullptr);
  Result<std::shared_ptr<const Message>> Get(const ResourceInfo& resource, const std::string& ns,
                                             const std::string& name, ErrorDetails* details = nullptr);
  // Replaces the object (PUT). `object`'s name and namespace must match the URL's.
  Result<std::shared_ptr<const Message>> Update(const ResourceInfo& resource, const std::string& ns,
                                                const std::string& name, std::unique_ptr<Message> object,
                                                const WriteOptions& options, ErrorDetails* details = nullptr);
  // Reads the current object, lets `mutate` change a copy, and writes it with the update rules;
  // retried on concurrent changes (patches, subresources). `mutate` may be called more than once.
  using Mutator = std::function<Status(Message* object)>;
  Result<std::shared_ptr<const Message>> GuaranteedUpdate(const ResourceInfo& resource, const std::string& ns,
                                                          const std::string& name, const Mutator& mutate,
                                                          const WriteOptions& options, ErrorDetails* details = nullptr);
  Result<DeleteResult> Delete(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                              const DeleteOptions& options, ErrorDetails* details = nullptr);

  // Upstream's messages, shared with the HTTP layer.
  static Status NotFoundError(const ResourceInfo& r, const std::string& name, ErrorDetails* details);
  static Status ConflictError(const ResourceInfo& r, const std::string& name, ErrorDetails* details);

 private:
  Result<std::shared_ptr<const Message>> Write(const ResourceInfo& resource, const std::string& ns,
                                               const std::string& name, std::unique_ptr<Message> desired,
                                               bool caller_gave_rv, const WriteOptions& options, ErrorDetails* details,
                                               const Mutator* mutate);
  Status Validate(const ResourceInfo& r, const Message& obj, const Message* old, bool status_only,
                  ErrorDetails* details);
  std::string NewUid();
  std::string GenerateName(const std::string& base);
  class StateLocks;
  static constexpr size_t kStateStripes = 64;
  std::mutex state_mu_[kStateStripes];

  store::Store* store_;
  WatchCache* cache_;
  Clock* clock_;
  Random* random_;
  AllocationHook allocation_hook_;
  std::function<bool(const ResourceInfo&)> allocation_applies_;
};

// RFC 3339 seconds of a wall time, for metav1.Time fields.
int64_t UnixSeconds(WallTime t);

}  // namespace ck::apiserver
