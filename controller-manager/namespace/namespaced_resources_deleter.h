// NamespacedResourcesDeleter: empties a namespace that is being deleted and then releases it
// (upstream pkg/controller/namespace/deletion). One Delete(name):
//   1. GET the namespace; nothing to do unless it has a deletionTimestamp;
//   2. status.phase = Terminating (PUT namespaces/<name>/status);
//   3. for every namespaced resource that can be deleted: deletecollection (Background), else list
//      and delete each; estimate how long terminating pods still take; list what is left;
//   4. write the deletion conditions (NamespaceDeletionDiscoveryFailure, ...GVParsingFailure,
//      ...ContentFailure, NamespaceContentRemaining, NamespaceFinalizersRemaining) as upstream;
//   5. nothing left: remove the `kubernetes` token from spec.finalizers through
//      PUT namespaces/<name>/finalize; the apiserver removes the namespace once none remain.
// The resources come from the static table (common/api/api_resources.h): there is no discovery
// to fail, so NamespaceDeletionDiscoveryFailure is always False.
// Threading: Delete may run on several workers at once (for different namespaces).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/client/api_client.h"

namespace ck::controller_manager {

// The finalizer token the namespace controller owns in spec.finalizers.
inline constexpr char kNamespaceFinalizerToken[] = "kubernetes";

class NamespacedResourcesDeleter {
 public:
  // `api` and `clock` must outlive the deleter.
  NamespacedResourcesDeleter(client::ApiClient& api, Clock& clock, std::string finalizer_token = kNamespaceFinalizerToken);

  // Deletes the content of namespace `name` and finalizes it. Returns 0 when there is nothing
  // (more) to do, or the estimated seconds until the remaining content is gone (terminating pods,
  // finalizers): the caller looks again later (upstream requeues after estimate/2 + 1 s). An error
  // means some step failed; the caller retries with backoff.
  Result<int64_t> Delete(const std::string& name);

  // The resources emptied: namespaced, stored, with the delete verb, in table order.
  static std::vector<const client::ResourceInfo*> DeletableResources();

 private:
  using Namespace = k8s::io::api::core::v1::Namespace;
  struct ResourceOutcome {
    int64_t estimate = 0;  // seconds
    int remaining = 0;
    std::map<std::string, int> finalizers;  // finalizer -> objects still carrying it
    Status error;
  };
  enum class Op { kList, kDeleteCollection };

  // Runs `fn` on the namespace, reading it again after a conflict (its uid must not change).
  Result<Namespace> RetryOnConflict(Namespace ns, const std::function<Result<Namespace>(const Namespace&)>& fn);
  Result<Namespace> MarkTerminating(const Namespace& ns);
  Result<Namespace> Finalize(const Namespace& ns);
  // Updates *ns to what the status write returned (so that finalizing does not conflict with it).
  Result<int64_t> DeleteAllContent(Namespace* ns);
  ResourceOutcome DeleteAllContentForResource(const client::ResourceInfo& r, const std::string& ns, WallTime deleted_at);
  Result<int64_t> EstimateGracefulTerminationForPods(const std::string& ns, WallTime deleted_at);
  // True when the server took the deletecollection; false when it does not serve it.
  Result<bool> DeleteCollection(const client::ResourceInfo& r, const std::string& ns);
  Status DeleteEachItem(const client::ResourceInfo& r, const std::string& ns);
  // The metadata of what is left; nullopt when the resource cannot be listed.
  Result<std::optional<std::vector<client::ObjectPtr>>> ListCollection(const client::ResourceInfo& r,
                                                                       const std::string& ns);
  bool Supported(Op op, const client::ResourceInfo& r);
  void SetNotSupported(Op op, const client::ResourceInfo& r);

  client::ApiClient& api_;
  Clock& clock_;
  const std::string finalizer_token_;
  const client::ResourceInfo& namespaces_;
  const client::ResourceInfo& pods_;

  std::mutex mu_;
  std::set<std::pair<Op, std::string>> not_supported_;  // guarded by mu_; (op, GroupResource())
};

}  // namespace ck::controller_manager
