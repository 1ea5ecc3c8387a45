#include "common/client/cache/delta_queue.h"

namespace ck::client {

void DeltaQueue::Push(Delta delta) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    deltas_.push_back(std::move(delta));
  }
  cv_.notify_one();
  wakeup_.Notify();
}

void DeltaQueue::Add(ObjectPtr object) { Push(Delta{Delta::Type::kAdded, std::move(object), {}, {}}); }
void DeltaQueue::Update(ObjectPtr object) { Push(Delta{Delta::Type::kUpdated, std::move(object), {}, {}}); }
void DeltaQueue::Delete(ObjectPtr object) { Push(Delta{Delta::Type::kDeleted, std::move(object), {}, {}}); }
void DeltaQueue::Replace(std::vector<ObjectPtr> objects, std::string resource_version) {
  Push(Delta{Delta::Type::kReplaced, nullptr, std::move(objects), std::move(resource_version)});
}
void DeltaQueue::Bookmark(std::string resource_version) {
  Push(Delta{Delta::Type::kBookmark, nullptr, {}, std::move(resource_version)});
}

std::optional<Delta> DeltaQueue::Pop() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return closed_ || interrupted_ || !deltas_.empty(); });
  interrupted_ = false;
  if (closed_ || deltas_.empty()) return std::nullopt;
  Delta delta = std::move(deltas_.front());
  deltas_.pop_front();
  return delta;
}

std::optional<Delta> DeltaQueue::PopUntil(Clock& clock, MonoTime deadline) {
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (closed_) return std::nullopt;
      if (!deltas_.empty()) {
        Delta delta = std::move(deltas_.front());
        deltas_.pop_front();
        return delta;
      }
      if (interrupted_) {
        interrupted_ = false;
        return std::nullopt;
      }
    }
    if (clock.Monotonic() >= deadline) return std::nullopt;
    clock.WaitUntil(wakeup_, deadline);
  }
}

void DeltaQueue::Interrupt() {
  {
    std::lock_guard lock(mu_);
    interrupted_ = true;
  }
  cv_.notify_one();
  wakeup_.Notify();
}

void DeltaQueue::Close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    deltas_.clear();
  }
  cv_.notify_all();
  wakeup_.Notify();
}

size_t DeltaQueue::size() const {
  std::lock_guard lock(mu_);
  return deltas_.size();
}

}  // namespace ck::client
