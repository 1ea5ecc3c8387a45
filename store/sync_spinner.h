// SyncSpinner: keeps otherwise idle CPUs polling while a WAL sync is in flight.
//
// On virtual machines an idle vCPU halts, and the completion of a sync then waits for the host
// to resume it: on this project's machines a 0.4 ms fdatasync becomes 4 ms (measured; see
// README.md). Runtimes that spin before parking (Go's scheduler, so etcd; RocksDB's adaptive
// yield for its write group) avoid this. The spinners run at SCHED_IDLE, so they only ever use
// CPU time nobody else wants, spin at most `max_spin` per sync, and park on a futex between syncs.
// Threading: Begin/End from any thread; the destructor stops and joins the spinners.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace ck::store {

class SyncSpinner {
 public:
  // `threads` spinners (0: none; Begin/End are then free).
  explicit SyncSpinner(int threads,
                       std::chrono::microseconds max_spin = std::chrono::milliseconds(20));
  ~SyncSpinner();
  SyncSpinner(const SyncSpinner&) = delete;
  SyncSpinner& operator=(const SyncSpinner&) = delete;

  void Begin();  // a sync starts
  void End();    // it finished

  // Marks a sync for the lifetime of the object (when `enabled`).
  class Scope {
   public:
    explicit Scope(SyncSpinner& s, bool enabled = true) : s_(enabled ? &s : nullptr) {
      if (s_) s_->Begin();
    }
    ~Scope() {
      if (s_) s_->End();
    }

   private:
    SyncSpinner* s_;
  };

 private:
  void Run();

  const std::chrono::microseconds max_spin_;
  std::atomic<int> active_{0};      // syncs in flight
  std::atomic<int> generation_{0};  // bumped when syncs start after a quiet period; spinners wait on it
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace ck::store
