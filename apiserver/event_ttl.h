// EventTtl: Events are deleted --event-ttl after they last occurred (1 h; 10 min with the
// teaching profile). kube-apiserver writes every Event with an etcd lease of --event-ttl and etcd
// drops it when the lease runs out; the store has no leases, so this follows the Events in the
// watch cache and deletes each one from the store once its time is up, with the revision it was
// seen at as a precondition (an Event written again meanwhile has a later expiry of its own).
// Like a lease running out, the delete goes around the REST layer: no admission, and watchers
// see a DELETED event.
//
// An Event's expiry is counted from its last occurrence: the newest of lastTimestamp, eventTime
// and series.lastObservedTime, else creationTimestamp. A write that records a new occurrence
// moves those timestamps and so renews the Event, as a new lease does upstream, and the rule
// gives the same expiries after a restart (leases persist in etcd).
//
// Both kinds of Event are covered: core/v1 and events.k8s.io/v1, which are stored apart.
// Threading: Start() and Stop() from one thread; the watch sink runs on the cache's dispatch
// thread and only records expiries; deletes run on the EventTtl's own thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "apiserver/watch_cache.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "store/store.h"

namespace ck::apiserver {

class EventTtl {
 public:
  // ttl <= 0 keeps Events for good.
  EventTtl(WatchCache* cache, store::Store* store, Clock* clock, Duration ttl);
  ~EventTtl();

  Status Start();
  void Stop();

  static WallTime ExpiryOf(const ::k8s::io::api::core::v1::Event& event, Duration ttl);
  // Events waiting for their expiry (for tests and metrics).
  size_t pending() const;

 private:
  struct Entry {
    int64_t revision = 0;
    std::multimap<WallTime, std::string>::iterator at;
  };
  void OnEvent(const CacheEvent& e);
  void Loop();

  WatchCache* cache_;
  store::Store* store_;
  Clock* clock_;
  const Duration ttl_;

  mutable std::mutex mu_;
  std::multimap<WallTime, std::string> by_expiry_;  // guarded by mu_
  std::unordered_map<std::string, Entry> entries_;  // guarded by mu_; by store key
  bool stopping_ = false;                           // guarded by mu_
  Wakeup wakeup_;
  std::vector<std::unique_ptr<CacheWatch>> watches_;  // core/v1 and events.k8s.io/v1
  std::thread thread_;
};

}  // namespace ck::apiserver
