// SyncSpinner: SCHED_IDLE threads that poll while a sync is in flight (see sync_spinner.h).
#include "store/sync_spinner.h"

#include <pthread.h>
#include <sched.h>

namespace ck::store {

SyncSpinner::SyncSpinner(int threads, std::chrono::microseconds max_spin) : max_spin_(max_spin) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

SyncSpinner::~SyncSpinner() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : threads_) t.join();
}

void SyncSpinner::Begin() {
  if (threads_.empty()) return;
  if (active_.fetch_add(1) == 0) {
    generation_.fetch_add(1);
    generation_.notify_all();
  }
}

void SyncSpinner::End() {
  if (threads_.empty()) return;
  active_.fetch_sub(1);
}

void SyncSpinner::Run() {
  sched_param param{};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);  // best effort
  int seen = generation_.load();
  while (!stop_.load()) {
    generation_.wait(seen);
    seen = generation_.load();
    auto deadline = std::chrono::steady_clock::now() + max_spin_;
    while (active_.load(std::memory_order_relaxed) > 0 && !stop_.load(std::memory_order_relaxed)) {
      for (int i = 0; i < 64; ++i) __builtin_ia32_pause();
      if (std::chrono::steady_clock::now() > deadline) break;
    }
  }
}

}  // namespace ck::store
