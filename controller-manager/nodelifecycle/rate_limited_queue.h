// RateLimitedTimedQueue: the per-zone queue of nodes waiting for a NoExecute taint (upstream
// nodelifecycle/scheduler RateLimitedTimedQueue over a UniqueQueue). Nodes come out in the order
// they were added (or became due again after a failed attempt), at most one per token of a
// token bucket of `qps` tokens per second and burst 1; qps 0 stops all tainting (a zone in full
// disruption of a cluster where every zone is down). A node stays "added" after it was processed
// until Remove(): Add() of it again is a no-op, so a tainted node is not tainted twice.
// Threading: not synchronized; the node lifecycle controller's evictor mutex guards each queue.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "common/base/clock.h"

namespace ck::controller_manager {

class RateLimitedTimedQueue {
 public:
  // What an attempt answers: done (drop the node from the queue), or retry after `retry_after`.
  struct Outcome {
    bool done = true;
    Duration retry_after{0};
  };
  using Action = std::function<Outcome(const std::string& node_name, const std::string& uid)>;

  RateLimitedTimedQueue(Clock& clock, double qps);

  // Queues the node unless it was added since the last Remove(); returns whether it was added.
  bool Add(const std::string& node_name, const std::string& uid);
  // Takes the node out of the queue and forgets it was added; false when it was not added.
  bool Remove(const std::string& node_name);
  // Forgets every node.
  void Clear();

  // Runs `action` on the due nodes, earliest first, while the bucket has a token (each attempt
  // takes one, as upstream, whether or not it taints).
  void Try(const Action& action);

  // Replaces the bucket by one of `qps` (burst 1, full unless the old one was empty: a node
  // waiting for a token keeps waiting). No-op when the rate does not change.
  void SwapLimiter(double qps);
  double qps() const { return qps_; }

  // Nodes waiting in the queue (not those already processed).
  size_t Len() const { return queue_.size(); }
  // How long until the next attempt can happen: nullopt when nothing waits or the rate is 0.
  std::optional<Duration> NextAttemptIn() const;

 private:
  struct Entry {
    std::string name;
    std::string uid;
    MonoTime process_at;
    uint64_t sequence;
  };
  using Position = std::pair<MonoTime, uint64_t>;

  void Refill();
  bool TryAccept();

  Clock& clock_;
  double qps_;
  double tokens_;
  MonoTime last_refill_;
  uint64_t next_sequence_ = 0;
  std::map<Position, Entry> queue_;  // due order
  // Every node added since its last Remove, with its place in queue_ (none once processed).
  std::map<std::string, std::optional<Position>> added_;
};

}  // namespace ck::controller_manager
