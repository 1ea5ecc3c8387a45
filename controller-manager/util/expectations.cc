#include "controller-manager/util/expectations.h"

namespace ck::controller_manager {

void ControllerExpectations::Set(const std::string& key, int adds, int dels) {
  std::lock_guard lock(mu_);
  records_[key] = Record{adds, dels, clock_.Monotonic()};
}

void ControllerExpectations::RaiseExpectations(const std::string& key, int adds, int dels) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return;  // upstream: raising a missing record is a no-op
  it->second.adds += adds;
  it->second.dels += dels;
}

void ControllerExpectations::LowerExpectations(const std::string& key, int adds, int dels) {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return;
  it->second.adds -= adds;
  it->second.dels -= dels;
}

bool ControllerExpectations::SatisfiedExpectations(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return true;  // never set, or deleted: act
  const Record& r = it->second;
  if (r.adds <= 0 && r.dels <= 0) return true;
  return clock_.Monotonic() - r.timestamp > ttl_;  // expired: a missed event must not block forever
}

void ControllerExpectations::DeleteExpectations(const std::string& key) {
  std::lock_guard lock(mu_);
  records_.erase(key);
}

std::pair<int, int> ControllerExpectations::Pending(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = records_.find(key);
  if (it == records_.end()) return {0, 0};
  return {it->second.adds, it->second.dels};
}

void UidTrackingExpectations::ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys) {
  {
    std::lock_guard lock(mu_);
    uids_[key] = std::set<std::string>(pod_keys.begin(), pod_keys.end());
  }
  expectations_.ExpectDeletions(key, static_cast<int>(pod_keys.size()));
}

void UidTrackingExpectations::DeletionObserved(const std::string& key, const std::string& pod_key) {
  bool expected = false;
  {
    std::lock_guard lock(mu_);
    auto it = uids_.find(key);
    if (it != uids_.end()) expected = it->second.erase(pod_key) > 0;
  }
  if (expected) expectations_.DeletionObserved(key);
}

void UidTrackingExpectations::DeleteExpectations(const std::string& key) {
  {
    std::lock_guard lock(mu_);
    uids_.erase(key);
  }
  expectations_.DeleteExpectations(key);
}

}  // namespace ck::controller_manager
