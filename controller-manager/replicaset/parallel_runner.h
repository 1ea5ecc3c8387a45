// ParallelRunner: a small pool of named threads kept for the life of a controller, on which
// ManageReplicas fans out its pod creates and deletes. Starting fresh threads for every batch
// (upstream starts a goroutine per call) costs a thread start, a stack and a malloc arena each;
// scaling a ReplicaSet by 500 runs nine batches, so the threads are made once instead.
// SlowStartBatch here is upstream's slowStartBatch on top of it.
// Threading: Run and SlowStartBatch may be called from many threads at once; their calls share
// the pool (each caller also works on its own calls, so a call never waits for a free thread).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/base/status.h"

namespace ck::controller_manager {

class ParallelRunner {
 public:
  // `threads` helpers named `name` (at most 15 characters are kept); 0 runs everything on the caller.
  ParallelRunner(int threads, std::string name);
  ~ParallelRunner();  // finishes the calls in flight, then joins
  ParallelRunner(const ParallelRunner&) = delete;
  ParallelRunner& operator=(const ParallelRunner&) = delete;

  // Calls fn(i) for every i in [0, count), at most `parallelism` at once (the caller's thread
  // included), and returns when every call has returned.
  void Run(int count, int parallelism, const std::function<void(int)>& fn);

 private:
  struct Job;
  void Loop();
  static void Work(Job& job);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> tokens_;  // guarded by mu_: one per helper a Run asks for
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

// Upstream slowStartBatch: calls `fn` `count` times in batches of `initial_batch`, then twice the
// last size (1, 2, 4, ...), each batch's calls at most `parallelism` at once on `runner`; stops
// after the first batch with a failure. Returns the successful calls and the first error.
std::pair<int, Status> SlowStartBatch(ParallelRunner& runner, int count, int initial_batch, int parallelism,
                                      const std::function<Status()>& fn);

}  // namespace ck::controller_manager
