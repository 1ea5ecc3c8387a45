#include "controller-manager/daemonset/failed_pods_backoff.h"

#include <algorithm>

namespace ck::controller_manager::daemonset {

bool FailedPodsBackoff::IsInBackOffSinceUpdate(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  MonoTime now = clock_.Monotonic();
  if (Expired(it->second, now)) return false;
  return now - it->second.last_update < it->second.backoff;
}

Duration FailedPodsBackoff::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  return it == entries_.end() ? Duration{0} : it->second.backoff;
}

void FailedPodsBackoff::Next(const std::string& id) {
  std::lock_guard lock(mu_);
  MonoTime now = clock_.Monotonic();
  auto it = entries_.find(id);
  if (it == entries_.end() || Expired(it->second, now)) {
    entries_[id] = Entry{initial_, now};
    return;
  }
  it->second.backoff = std::min(it->second.backoff * 2, max_);
  it->second.last_update = now;
}

void FailedPodsBackoff::GC() {
  std::lock_guard lock(mu_);
  MonoTime now = clock_.Monotonic();
  std::erase_if(entries_, [&](const auto& kv) { return Expired(kv.second, now); });
}

size_t FailedPodsBackoff::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace ck::controller_manager::daemonset
