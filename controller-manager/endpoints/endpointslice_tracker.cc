#include "controller-manager/endpoints/endpointslice_tracker.h"

#include <charconv>

#include "common/api/object.h"
#include "controller-manager/endpoints/endpoints_util.h"

namespace ck::controller_manager::endpoints {

int64_t EndpointSliceTracker::VersionOf(const discv1::EndpointSlice& slice) {
  const std::string& rv = slice.metadata().resourceversion();
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), v);
  if (ec != std::errc() || ptr != rv.data() + rv.size()) return 0;
  return v;
}

std::string EndpointSliceTracker::ServiceKeyOf(const discv1::EndpointSlice& slice) {
  auto it = slice.metadata().labels().find(std::string(kLabelServiceName));
  std::string name = it == slice.metadata().labels().end() ? "" : it->second;
  return api::ObjectKey(slice.metadata().namespace_(), name);
}

bool EndpointSliceTracker::Has(const discv1::EndpointSlice& slice) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto service = versions_by_service_.find(ServiceKeyOf(slice));
  return service != versions_by_service_.end() && service->second.count(slice.metadata().uid()) > 0;
}

bool EndpointSliceTracker::ShouldSync(const discv1::EndpointSlice& slice) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto service = versions_by_service_.find(ServiceKeyOf(slice));
  if (service == versions_by_service_.end()) return true;
  auto it = service->second.find(slice.metadata().uid());
  return it == service->second.end() || VersionOf(slice) > it->second;
}

bool EndpointSliceTracker::StaleSlices(const corev1::Service& service,
                                       const std::vector<std::shared_ptr<const discv1::EndpointSlice>>& slices) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto tracked = versions_by_service_.find(api::ObjectKey(service.metadata()));
  if (tracked == versions_by_service_.end()) return false;
  std::map<std::string, int64_t> listed;
  for (const auto& slice : slices) {
    listed[slice->metadata().uid()] = VersionOf(*slice);
    auto it = tracked->second.find(slice->metadata().uid());
    if (it != tracked->second.end() && (it->second == kDeletionExpected || it->second > VersionOf(*slice))) return true;
  }
  for (const auto& [uid, version] : tracked->second) {
    if (version != kDeletionExpected && !listed.count(uid)) return true;
  }
  return false;
}

void EndpointSliceTracker::Update(const discv1::EndpointSlice& slice) {
  std::lock_guard<std::mutex> lock(mu_);
  versions_by_service_[ServiceKeyOf(slice)][slice.metadata().uid()] = VersionOf(slice);
}

void EndpointSliceTracker::ExpectDeletion(const discv1::EndpointSlice& slice) {
  std::lock_guard<std::mutex> lock(mu_);
  versions_by_service_[ServiceKeyOf(slice)][slice.metadata().uid()] = kDeletionExpected;
}

bool EndpointSliceTracker::HandleDeletion(const discv1::EndpointSlice& slice) {
  std::lock_guard<std::mutex> lock(mu_);
  auto service = versions_by_service_.find(ServiceKeyOf(slice));
  if (service == versions_by_service_.end()) return true;
  auto it = service->second.find(slice.metadata().uid());
  if (it == service->second.end()) return true;
  bool expected = it->second == kDeletionExpected;
  service->second.erase(it);
  return expected;
}

void EndpointSliceTracker::DeleteService(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  versions_by_service_.erase(api::ObjectKey(ns, name));
}

}  // namespace ck::controller_manager::endpoints
