// Parallelizer (parallelizer.h).
#include "scheduler/framework/parallelizer.h"

#include <algorithm>
#include <cmath>

#include "common/base/thread.h"

namespace ck::scheduler {

Parallelizer::Parallelizer(int parallelism, std::string thread_name) : parallelism_(std::max(1, parallelism)) {
  for (int i = 1; i < parallelism_; ++i) {
    workers_.emplace_back([this, name = thread_name + "-" + std::to_string(i)] {
      SetCurrentThreadName(name);
      WorkerLoop();
    });
  }
}

Parallelizer::~Parallelizer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void Parallelizer::Drain(Job& job) {
  while (true) {
    if (job.stop != nullptr && job.stop->load(std::memory_order_relaxed)) return;
    size_t begin = job.next.fetch_add(job.chunk, std::memory_order_relaxed);
    if (begin >= job.n) return;
    size_t end = std::min(job.n, begin + job.chunk);
    for (size_t i = begin; i < end; ++i) {
      if (job.stop != nullptr && job.stop->load(std::memory_order_relaxed)) return;
      (*job.fn)(i);
    }
  }
}

void Parallelizer::WorkerLoop() {
  uint64_t seen = 0;
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || (job_ != nullptr && job_seq_ != seen); });
    if (stopping_) return;
    seen = job_seq_;
    Job* job = job_;
    ++active_;
    lock.unlock();
    Drain(*job);
    lock.lock();
    if (--active_ == 0) done_cv_.notify_all();
  }
}

void Parallelizer::Until(size_t n, const std::function<void(size_t)>& fn, const std::atomic<bool>* stop) {
  if (n == 0) return;
  Job job;
  job.n = n;
  job.fn = &fn;
  job.stop = stop;
  // Upstream chunkSizeFor: about sqrt(n), at most n/parallelism + 1.
  size_t s = static_cast<size_t>(std::sqrt(static_cast<double>(n)));
  job.chunk = std::max<size_t>(1, std::min(s, n / parallelism_ + 1));
  if (parallelism_ == 1 || n == 1) {
    Drain(job);
    return;
  }
  {
    std::lock_guard lock(mu_);
    job_ = &job;
    ++job_seq_;
  }
  cv_.notify_all();
  Drain(job);
  std::unique_lock lock(mu_);
  // Workers that have not picked the job up yet must not start it after we return.
  job_ = nullptr;
  done_cv_.wait(lock, [&] { return active_ == 0; });
}

}  // namespace ck::scheduler
