// Parallelizer: runs a function over 0..n-1 on a few named worker threads plus the caller
// (upstream framework/parallelize). Filter and Score use it to cover the nodes on both cores.
// Pieces are handed out in chunks (about sqrt(n), as upstream's chunkSizeFor) from one atomic
// counter; `stop` lets the function end the run early (enough feasible nodes found).
// Threading: Until may be called from one thread at a time per Parallelizer (the scheduling loop);
// the function runs concurrently on up to `parallelism` threads and must be thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ck::scheduler {

class Parallelizer {
 public:
  // `parallelism` threads work on each call, the caller being one of them (1 = run inline).
  explicit Parallelizer(int parallelism = 2, std::string thread_name = "sched-worker");
  ~Parallelizer();
  Parallelizer(const Parallelizer&) = delete;
  Parallelizer& operator=(const Parallelizer&) = delete;

  // Calls fn(i) for every i in [0, n) unless `stop` (may be null) turns true, then returns once
  // every started call has finished.
  void Until(size_t n, const std::function<void(size_t)>& fn, const std::atomic<bool>* stop = nullptr);
  int parallelism() const { return parallelism_; }

 private:
  struct Job {
    size_t n = 0;
    size_t chunk = 1;
    const std::function<void(size_t)>* fn = nullptr;
    const std::atomic<bool>* stop = nullptr;
    std::atomic<size_t> next{0};
  };
  void WorkerLoop();
  static void Drain(Job& job);

  const int parallelism_;
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable cv_;
  Job* job_ = nullptr;       // guarded by mu_; the current call's job
  uint64_t job_seq_ = 0;     // guarded by mu_; bumped per call so each worker joins each job once
  int active_ = 0;           // guarded by mu_; workers still inside the current job
  std::condition_variable done_cv_;
  bool stopping_ = false;    // guarded by mu_
};

}  // namespace ck::scheduler
