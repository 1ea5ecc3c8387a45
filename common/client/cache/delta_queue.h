// DeltaQueue: the queue between an informer's reflector and its processing thread (the role of
// client-go's DeltaFIFO). The reflector pushes every change in the order it saw them; the
// processing thread pops them one by one and applies them to the indexer. Unlike DeltaFIFO it does
// not merge changes per key: the order is the server's, across keys too, and a Replace is one entry
// whose deletions are worked out against the indexer when it is applied (exact, because the
// indexer then holds everything pushed before it).
// Threading: Push from one thread, Pop from another; Close from any.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/client/cache/store.h"

namespace ck::client {

struct Delta {
  enum class Type { kAdded, kUpdated, kDeleted, kReplaced, kBookmark };
  Type type = Type::kAdded;
  ObjectPtr object;                 // kAdded, kUpdated, kDeleted
  std::vector<ObjectPtr> objects;   // kReplaced: the complete content
  std::string resource_version;     // kReplaced, kBookmark
};

class DeltaQueue : public ReflectorStore {
 public:
  void Add(ObjectPtr object) override;
  void Update(ObjectPtr object) override;
  void Delete(ObjectPtr object) override;
  void Replace(std::vector<ObjectPtr> objects, std::string resource_version) override;
  void Bookmark(std::string resource_version) override;

  // The oldest delta; blocks while the queue is empty. nullopt once closed, or (with a deadline)
  // when `deadline` passes on `clock` first.
  std::optional<Delta> Pop();
  std::optional<Delta> PopUntil(Clock& clock, MonoTime deadline);
  // Wakes a Pop without a delta (the caller re-reads its deadlines).
  void Interrupt();
  // Pops return nullopt from now on; pending deltas are dropped.
  void Close();
  size_t size() const;

 private:
  void Push(Delta delta);

  mutable std::mutex mu_;
  std::condition_variable cv_;   // Pop without deadline
  Wakeup wakeup_;                // PopUntil on a clock
  std::deque<Delta> deltas_;     // guarded by mu_
  bool closed_ = false;          // guarded by mu_
  bool interrupted_ = false;     // guarded by mu_
};

}  // namespace ck::client
