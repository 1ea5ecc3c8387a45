// EndpointSliceTracker: the EndpointSlices the EndpointSlice controller itself wrote or deleted,
// per Service (upstream k8s.io/endpointslice/util EndpointSliceTracker). It tells a Sync that the
// informer cache still lags the controller's own writes (StaleSlices: retry later instead of
// acting on old state, which would create duplicate slices), and tells the slice handlers which
// events are echoes of the controller's own writes (ShouldSync false) and which deletions were
// expected.
// Upstream compares metadata.generation. ck-apiserver does not bump an EndpointSlice's generation
// (it has no spec), so versions here are the resourceVersion read as a number: a store revision,
// which only grows.
// Threading: safe from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/discovery_v1.pb.h"

namespace ck::controller_manager::endpoints {

namespace corev1 = ::k8s::io::api::core::v1;
namespace discv1 = ::k8s::io::api::discovery::v1;

class EndpointSliceTracker {
 public:
  // The slice is tracked (written or deleted by this controller, not yet seen deleted).
  bool Has(const discv1::EndpointSlice& slice) const;
  // The slice changed since this controller last wrote it (or was never written by it).
  bool ShouldSync(const discv1::EndpointSlice& slice) const;
  // The cache is behind for `service`: a listed slice is older than written or expected deleted,
  // or a written slice is missing from `slices`.
  bool StaleSlices(const corev1::Service& service,
                   const std::vector<std::shared_ptr<const discv1::EndpointSlice>>& slices) const;
  // Records a slice as the API returned it after a create or update.
  void Update(const discv1::EndpointSlice& slice);
  // Records that this controller deleted the slice.
  void ExpectDeletion(const discv1::EndpointSlice& slice);
  // Forgets a deleted slice; true when the deletion was expected (or the slice was never written
  // here), false when someone else deleted a slice this controller wrote.
  bool HandleDeletion(const discv1::EndpointSlice& slice);
  void DeleteService(const std::string& ns, const std::string& name);

  // The resourceVersion as a number (0 when it is not one).
  static int64_t VersionOf(const discv1::EndpointSlice& slice);

 private:
  static constexpr int64_t kDeletionExpected = -1;
  // "ns/<kubernetes.io/service-name label>".
  static std::string ServiceKeyOf(const discv1::EndpointSlice& slice);

  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, int64_t>> versions_by_service_;  // guarded by mu_; key -> uid -> version
};

}  // namespace ck::controller_manager::endpoints
