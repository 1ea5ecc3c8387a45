#include "common/client/testing/settle_clock.h"

namespace ck::client {

int SettleClock::Register(MonoTime deadline) {
  std::lock_guard lock(mu_);
  int id = next_id_++;
  deadlines_[id] = deadline;
  cv_.notify_all();
  return id;
}

void SettleClock::Unregister(int id) {
  std::lock_guard lock(mu_);
  deadlines_.erase(id);
  cv_.notify_all();
}

void SettleClock::SleepUntil(MonoTime deadline) {
  int id = Register(deadline);
  fake_.SleepUntil(deadline);
  Unregister(id);
}

bool SettleClock::WaitUntil(Wakeup& wakeup, MonoTime deadline) {
  int id = Register(deadline);
  bool notified = fake_.WaitUntil(wakeup, deadline);
  Unregister(id);
  return notified;
}

bool SettleClock::SettledLocked(int n) const {
  if (static_cast<int>(deadlines_.size()) != n) return false;
  const MonoTime now = fake_.Monotonic();
  for (const auto& [id, deadline] : deadlines_) {
    if (deadline <= now) return false;
  }
  // Registered is not yet blocked: the FakeClock must count every one of them as a sleeper.
  return fake_.sleepers() >= n;
}

bool SettleClock::Settled(int n) const {
  std::lock_guard lock(mu_);
  return SettledLocked(n);
}

bool SettleClock::WaitSettled(const std::function<int()>& n, std::chrono::steady_clock::duration timeout) {
  auto give_up = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  while (!SettledLocked(n())) {
    // Short real-time slices: the predicate also depends on n() and on the FakeClock's sleepers.
    if (cv_.wait_for(lock, std::chrono::milliseconds(1)) == std::cv_status::timeout &&
        std::chrono::steady_clock::now() > give_up) {
      return false;
    }
  }
  return true;
}

}  // namespace ck::client
