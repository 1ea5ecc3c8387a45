// FakeApi: an in-memory ApiClient that behaves like ck-apiserver (and kube-apiserver) for unit
// tests of informers, controllers, leader election and the event recorder, on a FakeClock.
//
// Like the real server: one global revision counter for all resources; resourceVersion is that
// revision as a decimal string; create sets uid, creationTimestamp (from the injected clock),
// generation and a name from generateName; errors carry upstream's codes and messages
// (AlreadyExists, NotFound, Conflict on a stale metadata.resourceVersion); lists and watches honour
// label and field selectors, limit/continue (consistent snapshot pages) and metadata_only; a watch
// from a resourceVersion replays the history after it, and one older than the history window ends
// with a 410 (kGone) ERROR event; finalizers and graceful pod deletion keep a deleted object with
// a deletionTimestamp. Test controls inject failures, dropped watches, compaction and bookmarks.
// Not served: server-side apply conflicts (apply is create-or-merge), exact lists of old
// revisions, admission, defaulting and validation beyond the name.
// Threading: every method is safe from any thread; one mutex guards the state. The request hook
// runs on the caller's thread without that mutex held. Watch streams may outlive the FakeApi.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/api_client.h"

namespace ck::client {

class FakeApi final : public ApiClient {
 public:
  enum class Verb {
    kGet,
    kList,
    kWatch,
    kCreate,
    kUpdate,
    kPatch,
    kCreateSubresource,
    kDelete,
    kDeleteCollection
  };
  static constexpr int kVerbCount = 9;

  // One request as the hook sees it, before it is served.
  struct Request {
    Verb verb = Verb::kGet;
    std::string resource;  // GroupResource(): "pods", "leases.coordination.k8s.io"
    std::string ns;
    std::string name;         // "" for list, watch, deletecollection and create with generateName
    std::string subresource;  // "status", "scale", "binding", ...
  };
  // Returns OK to let the request proceed, or the Status the request fails with.
  using RequestHook = std::function<Status(const Request&)>;

  // Default number of events kept for watches from an older resourceVersion (across all resources).
  static constexpr size_t kDefaultHistoryWindow = 1000;

  // `clock` stamps creationTimestamp/deletionTimestamp and times watch timeouts; `random` draws
  // uids and generateName suffixes (a fixed-seed FakeRandom when not given). Both must outlive
  // the FakeApi and its watches.
  explicit FakeApi(Clock& clock);
  FakeApi(Clock& clock, Random& random);
  ~FakeApi() override;

  // ApiClient (see api_client.h).
  Result<ObjectPtr> Get(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                        const GetOptions& options = {}) override;
  Result<ObjectList> List(const ResourceInfo& resource, const std::string& ns,
                          const ListOptions& options = {}) override;
  // rv "" or "0": ADDED for every matching object, then live events. rv N: the history after N,
  // then live events; N older than the history window: the first Next() is kGone. The watch
  // ends (Next() == nullopt) after timeout_seconds on the clock; 0 means never.
  Result<std::unique_ptr<WatchStream>> Watch(const ResourceInfo& resource, const std::string& ns,
                                             const ListOptions& options) override;
  Result<ObjectPtr> Create(const ResourceInfo& resource, const std::string& ns,
                           const google::protobuf::Message& object,
                           const WriteOptions& options = {}) override;
  Result<ObjectPtr> Update(const ResourceInfo& resource, const std::string& ns,
                           const google::protobuf::Message& object, const std::string& subresource = "",
                           const WriteOptions& options = {}) override;
  // kJson, kMerge and kStrategicMerge patch the object's JSON as the apiserver does; kApply
  // creates the object from the body when absent and merge-patches it otherwise.
  Result<ObjectPtr> Patch(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                          PatchType type, const std::string& body, const std::string& subresource = "",
                          const WriteOptions& options = {}) override;
  // pods/binding (sets spec.nodeName once) and pods/eviction (deletes the pod); both answer a
  // Success Status object. Others: NotFound.
  Result<ObjectPtr> CreateSubresource(const ResourceInfo& resource, const std::string& ns,
                                      const std::string& name, const std::string& subresource,
                                      const google::protobuf::Message& object,
                                      const WriteOptions& options = {}) override;
  Result<ObjectPtr> Delete(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                           const DeleteOptions& options = {}) override;
  Status DeleteCollection(const ResourceInfo& resource, const std::string& ns,
                          const ListOptions& list_options, const DeleteOptions& options = {}) override;

  // ---- Test controls ----

  // The next `n` calls of `verb` (on `resource` = GroupResource() only, when not empty) fail with
  // `status` before doing anything. Failures queue up in the order given.
  void FailNext(Verb verb, Status status, int n = 1, std::string resource = "");
  // Forgets the failures not yet used.
  void ClearFailures();
  // Every open watch breaks: its next Next() returns kUnavailable (queued events are lost, as
  // with a dropped connection).
  void DropWatches();
  // Forgets all watch history: a watch from any resourceVersion before the current revision gets
  // kGone, and continue tokens of earlier lists expire (kGone).
  void CompactHistory();
  // Keeps the last `n` events for watches from an older resourceVersion (trims at once).
  void SetHistoryWindow(size_t n);
  // Sends a BOOKMARK carrying the current revision to every open watch that allowed bookmarks.
  void SendBookmarks();
  // Called at the start of every request (nullptr removes it).
  void SetRequestHook(RequestHook hook);

  // Calls made so far (failed ones included), in total or on one GroupResource().
  int64_t Calls(Verb verb) const;
  int64_t Calls(Verb verb, const std::string& resource) const;
  void ResetCalls();
  // The current revision (the resourceVersion of the latest write).
  int64_t revision() const;
  // Watches neither stopped nor ended nor dropped.
  int open_watches() const;
  // The objects of `resource` currently stored, in key order (namespace/name).
  std::vector<ObjectPtr> Objects(const ResourceInfo& resource) const;

  static const char* VerbName(Verb verb);

 private:
  struct WatchState;
  class Stream;
  struct HistoryEntry {
    int64_t revision = 0;
    std::string resource;  // GroupResource()
    WatchEvent::Type type = WatchEvent::Type::kAdded;
    ObjectPtr object;    // after the change (for kDeleted: the last state, with the deletion revision)
    ObjectPtr previous;  // before the change (null for kAdded)
  };
  struct Failure {
    Verb verb;
    std::string resource;
    Status status;
  };
  using ObjectMap = std::map<std::string, ObjectPtr>;  // "ns/name" or "name" -> object

  Status Begin(Verb verb, const ResourceInfo& resource, const std::string& ns, const std::string& name,
               const std::string& subresource = "");
  // Helpers below run with mu_ held.
  ObjectMap& Bucket(const ResourceInfo& resource);
  const ObjectMap* FindBucket(const ResourceInfo& resource) const;
  Result<ObjectPtr> CreateLocked(const ResourceInfo& resource, const std::string& ns,
                                 const google::protobuf::Message& object, bool dry_run);
  Result<ObjectPtr> UpdateLocked(const ResourceInfo& resource, const std::string& ns,
                                 const google::protobuf::Message& object, const std::string& subresource,
                                 bool dry_run);
  // Writes `next` over `current` (or deletes when `next` has a deletionTimestamp and no
  // finalizers); `next` carries everything but the new resourceVersion.
  ObjectPtr CommitUpdate(const ResourceInfo& resource, const std::string& key, const ObjectPtr& current,
                         std::unique_ptr<google::protobuf::Message> next, bool dry_run);
  Result<ObjectPtr> DeleteLocked(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                                 const DeleteOptions& options);
  ObjectPtr RemoveLocked(const ResourceInfo& resource, const std::string& key, const ObjectPtr& current);
  void Record(const ResourceInfo& resource, WatchEvent::Type type, ObjectPtr object, ObjectPtr previous);
  void TrimHistory();
  std::string NewUid();
  std::string GenerateName(const std::string& base);

  Clock& clock_;
  std::unique_ptr<Random> own_random_;
  Random& random_;

  mutable std::mutex mu_;
  // guarded by mu_. Starts at 1 like etcd: a list never answers resourceVersion "0", which a
  // watch would read as "any state" and answer with the current objects instead of the changes.
  int64_t revision_ = 1;
  std::map<std::string, ObjectMap> objects_;       // guarded by mu_; by GroupResource()
  std::deque<HistoryEntry> history_;               // guarded by mu_
  size_t history_window_ = kDefaultHistoryWindow;  // guarded by mu_
  // A watch from revision R needs every event after R: possible when R >= history_start_.
  int64_t history_start_ = 0;  // guarded by mu_
  // Snapshots behind continue tokens: GroupResource() -> revision -> objects at that revision.
  std::map<std::string, std::map<int64_t, std::shared_ptr<const ObjectMap>>> snapshots_;  // guarded by mu_
  std::vector<std::shared_ptr<WatchState>> watches_;                                      // guarded by mu_
  std::deque<Failure> failures_;                                                          // guarded by mu_
  std::map<std::pair<Verb, std::string>, int64_t> calls_;                                 // guarded by mu_
  RequestHook hook_;                                                                      // guarded by mu_
};

}  // namespace ck::client
