#include "controller-manager/replicaset/parallel_runner.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>

namespace ck::controller_manager {

// One Run: its calls are handed out by `next`; whoever takes an index past `count` stops. A
// token still queued after Run returned finds nothing left and never touches `fn`.
struct ParallelRunner::Job {
  const std::function<void(int)>* fn = nullptr;
  int count = 0;
  std::atomic<int> next{0};
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;  // guarded by mu: calls returned
};

ParallelRunner::ParallelRunner(int threads, std::string name) {
  if (name.size() > 15) name.resize(15);  // the kernel's limit for thread names
  threads_.reserve(static_cast<size_t>(std::max(threads, 0)));
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this] { Loop(); });
    pthread_setname_np(threads_.back().native_handle(), name.c_str());
  }
}

ParallelRunner::~ParallelRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void ParallelRunner::Work(Job& job) {
  int finished = 0;
  for (int i = job.next.fetch_add(1); i < job.count; i = job.next.fetch_add(1)) {
    (*job.fn)(i);
    ++finished;
  }
  if (finished == 0) return;
  std::lock_guard lock(job.mu);
  job.done += finished;
  if (job.done == job.count) job.cv.notify_all();
}

void ParallelRunner::Loop() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !tokens_.empty(); });
      if (tokens_.empty()) return;  // stopping, nothing left
      job = std::move(tokens_.front());
      tokens_.pop_front();
    }
    Work(*job);
  }
}

void ParallelRunner::Run(int count, int parallelism, const std::function<void(int)>& fn) {
  if (count <= 0) return;
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->count = count;
  const int helpers = std::min({count, std::max(parallelism, 1), static_cast<int>(threads_.size()) + 1}) - 1;
  if (helpers > 0) {
    {
      std::lock_guard lock(mu_);
      for (int i = 0; i < helpers; ++i) tokens_.push_back(job);
    }
    if (helpers == 1) {
      cv_.notify_one();
    } else {
      cv_.notify_all();
    }
  }
  Work(*job);
  std::unique_lock lock(job->mu);
  job->cv.wait(lock, [&] { return job->done == job->count; });
}

std::pair<int, Status> SlowStartBatch(ParallelRunner& runner, int count, int initial_batch, int parallelism,
                                      const std::function<Status()>& fn) {
  int remaining = count;
  int successes = 0;
  for (int batch = std::min(remaining, std::max(initial_batch, 1)); batch > 0;
       batch = std::min(2 * batch, remaining)) {
    std::atomic<int> ok{0};
    std::mutex mu;
    Status first_error;  // guarded by mu
    runner.Run(batch, parallelism, [&](int) {
      Status s = fn();
      if (s.ok()) {
        ++ok;
        return;
      }
      std::lock_guard lock(mu);
      if (first_error.ok()) first_error = std::move(s);
    });
    successes += ok.load();
    if (!first_error.ok()) return {successes, first_error};
    remaining -= batch;
  }
  return {successes, Status::Ok()};
}

}  // namespace ck::controller_manager
