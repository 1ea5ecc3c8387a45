// ApiClient: the seam between every component and the API server (client-go's rest.Interface
// and dynamic client in one). Objects travel as protobuf messages of their kind (or
// PartialObjectMetadata for metadata-only requests) and are shared read-only once returned.
//
// Two implementations: RestApiClient (common/client/rest/, HTTPS to ck-apiserver with QPS limit,
// retries and Retry-After) and FakeApi (common/client/testing/, in memory, for unit tests with a
// fake clock, able to inject 410s and dropped watches). The typed Client<T>, reflectors,
// informers, leader election and the event recorder are all written against this interface.
//
// Errors keep the Kubernetes reason: a 404 is Code::kNotFound, a 409 Conflict kConflict, a 410
// kGone, and so on, with the server's message.
// Threading: implementations are safe to call from many threads at once; a WatchStream belongs to
// one reader thread, and Stop() may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "common/api/api_resources.h"
#include "common/base/status.h"

namespace ck::client {

using api::ResourceInfo;

// An API object as returned by the server. Never mutated after it is returned: caches and
// listers hand the same object to many readers. Copy it (New + CopyFrom) to change it.
using ObjectPtr = std::shared_ptr<const google::protobuf::Message>;

// Query options of list and watch (metav1.ListOptions).
struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;        // "" most recent (consistent), "0" any cached, N not older than N
  std::string resource_version_match;  // "", "NotOlderThan", "Exact"
  int64_t limit = 0;                   // list page size; 0 means everything
  std::string continue_token;
  int64_t timeout_seconds = 0;         // watch: the server ends the watch after this long; 0 = server default
  bool allow_watch_bookmarks = false;
  // Ask for PartialObjectMetadata(List) instead of full objects (metadata-only informers).
  bool metadata_only = false;
};

struct GetOptions {
  std::string resource_version;
  bool metadata_only = false;
  std::string subresource;  // "status" (the object), "scale" (autoscaling/v1 Scale); "" the object
};

struct WriteOptions {
  bool dry_run = false;                // dryRun=All
  std::string field_manager;           // fieldManager=
  std::string field_validation;        // "", "Ignore", "Warn", "Strict"
  bool force = false;                  // server-side apply: force=true
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;      // "", "Orphan", "Background", "Foreground"
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

enum class PatchType {
  kJson,            // application/json-patch+json
  kMerge,           // application/merge-patch+json
  kStrategicMerge,  // application/strategic-merge-patch+json
  kApply,           // application/apply-patch+yaml (server-side apply)
};

// One page (or all) of a list: the items, the list's resourceVersion, and the continue token when
// more pages remain.
struct ObjectList {
  std::vector<ObjectPtr> items;
  std::string resource_version;
  std::string continue_token;
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted, kBookmark };
  Type type = Type::kAdded;
  // The object (for a bookmark: an object of the kind carrying only metadata.resourceVersion and,
  // for the end of the initial events, the k8s.io/initial-events-end annotation).
  ObjectPtr object;
};

// Stop() may race Next() on another thread, but not the stream's destruction: the owner stops,
// then joins its reader, then destroys the stream.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The next event. nullopt when the server ended the watch normally (timeout, shutdown: the
  // caller watches again from its last resourceVersion). An ERROR event is returned as its
  // Status (code kGone for "too old resource version": the caller must relist); a broken
  // connection is kUnavailable. After Stop(), Next() returns kUnavailable "stopped".
  virtual Result<std::optional<WatchEvent>> Next() = 0;
  virtual void Stop() = 0;
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // `ns` is ignored for cluster-scoped resources; "" for a namespaced resource means all
  // namespaces (list, watch, deletecollection only).
  virtual Result<ObjectPtr> Get(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                                const GetOptions& options = {}) = 0;
  virtual Result<ObjectList> List(const ResourceInfo& resource, const std::string& ns,
                                  const ListOptions& options = {}) = 0;
  virtual Result<std::unique_ptr<WatchStream>> Watch(const ResourceInfo& resource, const std::string& ns,
                                                     const ListOptions& options) = 0;
  // Create takes the object's namespace from `ns` (metadata.namespace, when set, must match).
  virtual Result<ObjectPtr> Create(const ResourceInfo& resource, const std::string& ns,
                                   const google::protobuf::Message& object, const WriteOptions& options = {}) = 0;
  // PUT of the object, or of its `subresource` ("status", "scale"); the name comes from the
  // object's metadata (for scale, from `name`).
  virtual Result<ObjectPtr> Update(const ResourceInfo& resource, const std::string& ns,
                                   const google::protobuf::Message& object, const std::string& subresource = "",
                                   const WriteOptions& options = {}) = 0;
  virtual Result<ObjectPtr> Patch(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                                  PatchType type, const std::string& body, const std::string& subresource = "",
                                  const WriteOptions& options = {}) = 0;
  // POST to a subresource of a named object: pods/binding, pods/eviction,
  // serviceaccounts/token. Returns what the server answered (a Status object for binding and
  // eviction, a TokenRequest for token).
  virtual Result<ObjectPtr> CreateSubresource(const ResourceInfo& resource, const std::string& ns,
                                              const std::string& name, const std::string& subresource,
                                              const google::protobuf::Message& object,
                                              const WriteOptions& options = {}) = 0;
  // Returns the object as the server answered the delete (with deletionTimestamp set when it
  // is only being deleted gracefully or held by finalizers), or nullptr when the server answered
  // with a Status.
  virtual Result<ObjectPtr> Delete(const ResourceInfo& resource, const std::string& ns, const std::string& name,
                                   const DeleteOptions& options = {}) = 0;
  virtual Status DeleteCollection(const ResourceInfo& resource, const std::string& ns,
                                  const ListOptions& list_options, const DeleteOptions& options = {}) = 0;
};

}  // namespace ck::client
