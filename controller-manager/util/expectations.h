// ControllerExpectations: how many creates and deletes a controller has asked for and not yet
// seen in its informer (upstream controller_utils ControllerExpectations). A controller that
// acted on key K records what it expects; the informer's handlers count the observations down;
// the next Sync(K) acts again only once the expectations are met or have expired (5 minutes, as
// upstream), so a lagging cache never makes it create twice. UidTrackingExpectations also tracks
// which pods it deleted, so a deletion is counted once even when seen as both an update with a
// deletionTimestamp and a delete.
// Threading: every method is safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/base/clock.h"

namespace ck::controller_manager {

class ControllerExpectations {
 public:
  static constexpr Duration kDefaultTtl = std::chrono::minutes(5);  // upstream ExpectationsTimeout

  explicit ControllerExpectations(Clock& clock, Duration ttl = kDefaultTtl) : clock_(clock), ttl_(ttl) {}

  // Replaces K's expectations with `adds` creates (or `dels` deletes) still to be observed.
  void ExpectCreations(const std::string& key, int adds) { Set(key, adds, 0); }
  void ExpectDeletions(const std::string& key, int dels) { Set(key, 0, dels); }
  void SetExpectations(const std::string& key, int adds, int dels) { Set(key, adds, dels); }
  // Adds to (raise) or takes from (lower) K's outstanding counts; lowering is what a failed
  // create or delete does, and what an observation does.
  void RaiseExpectations(const std::string& key, int adds, int dels);
  void LowerExpectations(const std::string& key, int adds, int dels);
  void CreationObserved(const std::string& key) { LowerExpectations(key, 1, 0); }
  void DeletionObserved(const std::string& key) { LowerExpectations(key, 0, 1); }

  // True when K has no record, its counts are at or below zero, or the record is older than the
  // TTL (then the controller acts again, as upstream: a lost watch event must not block it).
  bool SatisfiedExpectations(const std::string& key) const;
  // Forgets K (its object was deleted).
  void DeleteExpectations(const std::string& key);
  // K's outstanding counts; {0, 0} when none.
  std::pair<int, int> Pending(const std::string& key) const;

 private:
  struct Record {
    int adds = 0;
    int dels = 0;
    MonoTime timestamp;
  };
  void Set(const std::string& key, int adds, int dels);

  Clock& clock_;
  const Duration ttl_;
  mutable std::mutex mu_;
  std::map<std::string, Record> records_;  // guarded by mu_
};

class UidTrackingExpectations {
 public:
  explicit UidTrackingExpectations(Clock& clock, Duration ttl = ControllerExpectations::kDefaultTtl)
      : expectations_(clock, ttl) {}

  ControllerExpectations& counts() { return expectations_; }
  bool SatisfiedExpectations(const std::string& key) const { return expectations_.SatisfiedExpectations(key); }
  void ExpectCreations(const std::string& key, int adds) { expectations_.ExpectCreations(key, adds); }
  void CreationObserved(const std::string& key) { expectations_.CreationObserved(key); }
  void LowerExpectations(const std::string& key, int adds, int dels) { expectations_.LowerExpectations(key, adds, dels); }
  // Expects the deletion of the pods named by `pod_keys` ("ns/name").
  void ExpectDeletions(const std::string& key, const std::vector<std::string>& pod_keys);
  // Counts the deletion of `pod_key` once, when it was one K expected.
  void DeletionObserved(const std::string& key, const std::string& pod_key);
  void DeleteExpectations(const std::string& key);

 private:
  ControllerExpectations expectations_;
  mutable std::mutex mu_;
  std::map<std::string, std::set<std::string>> uids_;  // guarded by mu_: pods whose deletion K expects
};

}  // namespace ck::controller_manager
