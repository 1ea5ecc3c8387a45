// Named threads and a small fixed-size worker pool (STYLE.md #9: threads are few and named).
// ThreadPool::Post is safe from any thread; tasks run in FIFO order on `size` workers.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ck {

// Names the calling thread (visible in top -H, gdb and the log's thread column); at most 15 chars.
void SetCurrentThreadName(const std::string& name);

class ThreadPool {
 public:
  ThreadPool(std::string name, int size);
  ~ThreadPool();  // runs the queued tasks, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Post(std::function<void()> task);
  size_t queued() const;

 private:
  void Loop();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  bool stopping_ = false;                    // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace ck
