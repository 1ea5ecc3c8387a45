// EventCorrelator: what the event recorder does to an Event before it writes it, so that a
// component in a hot loop cannot flood the API server (client-go tools/record/events_cache.go):
//  1. aggregate: events that differ only in message (same source, object, type, reason) are
//     counted per 10-minute window; from the 10th distinct message on, the event becomes
//     "(combined from similar events): <message>", one shared event for the whole group;
//  2. dedupe: an event identical to one already written (same source, object, fieldPath, type,
//     reason, message) becomes a strategic-merge PATCH of that event's count, lastTimestamp and
//     message instead of a new object;
//  3. spam filter: a token bucket per source + object (burst 25, refilled 1 per 5 minutes) skips
//     what exceeds it.
// Caches are LRUs of 4096 entries each. Times come from the injected clock.
// Threading: safe from any thread (one mutex); the recorder calls it from its sending thread.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/client/flowcontrol/token_bucket.h"

namespace ck::client {

struct EventCorrelatorOptions {
  size_t lru_cache_size = 4096;
  int max_events = 10;                               // distinct messages before combining
  Duration max_interval = std::chrono::minutes(10);  // a group older than this starts afresh
  int spam_burst = 25;
  double spam_qps = 1.0 / 300.0;
};

// A small least-recently-used map (golang/groupcache/lru's behaviour): Get refreshes an entry, Add
// inserts or replaces it, and the oldest entry goes when the capacity is exceeded.
template <typename V>
class LruCache {
 public:
  explicit LruCache(size_t capacity) : capacity_(capacity) {}
  V* Get(const std::string& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  V& Add(const std::string& key, V value) {
    if (V* existing = Get(key)) {
      *existing = std::move(value);
      return *existing;
    }
    order_.emplace_front(key, std::move(value));
    index_[key] = order_.begin();
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
    return order_.front().second;
  }
  size_t size() const { return order_.size(); }

 private:
  size_t capacity_;
  std::list<std::pair<std::string, V>> order_;  // most recent first
  std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
};

class EventCorrelator {
 public:
  struct Result {
    k8s::io::api::core::v1::Event event;  // to create (patch empty) or whose patch to send
    std::string patch;                    // strategic merge patch JSON for an existing event
    bool skip = false;                    // dropped by the spam filter
  };

  explicit EventCorrelator(Clock& clock, EventCorrelatorOptions options = {});

  Result Correlate(const k8s::io::api::core::v1::Event& event);
  // Records what the server answered (its name, count, resourceVersion) for later dedupe.
  void UpdateState(const k8s::io::api::core::v1::Event& event);

  // Prefix of a combined event's message.
  static constexpr const char* kCombinedPrefix = "(combined from similar events): ";

 private:
  struct AggregateRecord {
    std::set<std::string> messages;
    MonoTime last;
  };
  struct EventLog {
    int32_t count = 0;
    k8s::io::apimachinery::pkg::apis::meta::v1::Time first_timestamp;
    std::string name;
    std::string resource_version;
  };

  Clock& clock_;
  const EventCorrelatorOptions options_;
  std::mutex mu_;
  LruCache<AggregateRecord> aggregates_;         // guarded by mu_
  LruCache<EventLog> logs_;                      // guarded by mu_
  LruCache<std::shared_ptr<TokenBucket>> spam_;  // guarded by mu_
};

// "<object>.<hex nanoseconds>" (upstream's event name), made unique within the process: when two
// events share a clock instant (a FakeClock), the later one takes the next nanosecond.
std::string NewEventName(const std::string& object_name, WallTime now);

// The keys the correlator groups by, as upstream builds them (exposed for tests).
std::string EventKey(const k8s::io::api::core::v1::Event& e);      // everything but timestamps and count
std::string SpamKey(const k8s::io::api::core::v1::Event& e);       // source + object
std::string AggregateKey(const k8s::io::api::core::v1::Event& e);  // EventKey without message

}  // namespace ck::client
