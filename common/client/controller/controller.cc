#include "common/client/controller/controller.h"

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/thread.h"

namespace ck::client {

namespace {

Clock& ClockOr(Clock* clock) { return clock ? *clock : RealClock::Get(); }

std::unique_ptr<RateLimiter> LimiterOr(std::unique_ptr<RateLimiter> limiter, Clock& clock) {
  return limiter ? std::move(limiter) : DefaultControllerRateLimiter(clock);
}

}  // namespace

Controller::Controller(ControllerOptions options)
    : name_(options.name),
      workers_(std::max(1, options.workers)),
      max_retries_(options.max_retries),
      clock_(ClockOr(options.clock)),
      queue_(clock_, LimiterOr(std::move(options.rate_limiter), clock_),
             QueueOptions{.name = options.name, .registry = options.registry}) {}

Controller::~Controller() { Stop(); }

Status Controller::Start(const std::vector<SharedIndexInformer*>& informers, Duration sync_timeout) {
  RealClock& real = RealClock::Get();
  if (!WaitForCacheSync(informers, real, real.Monotonic() + sync_timeout)) {
    return Unavailable("controller " + name_ + ": caches did not sync");
  }
  CK_LOG_INFO("Caches are synced", "controller", name_);
  for (int i = 0; i < workers_; ++i) {
    threads_.emplace_back([this, i] {
      SetCurrentThreadName((name_ + "-" + std::to_string(i)).substr(0, 15));
      Worker();
    });
  }
  return Status::Ok();
}

void Controller::Stop() {
  queue_.ShutDownWithDrain();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void Controller::Enqueue(const std::string& key) { queue_.Add(key); }
void Controller::EnqueueAfter(const std::string& key, Duration delay) { queue_.AddAfter(key, delay); }
void Controller::EnqueueRateLimited(const std::string& key) { queue_.AddRateLimited(key); }

void Controller::EnqueueObject(const ObjectPtr& object) {
  if (object) queue_.Add(api::ObjectKey(api::MetaOf(*object)));
}

void Controller::EnqueueDeleted(const DeletedObject& deleted) {
  if (const auto* tombstone = std::get_if<DeletedFinalStateUnknown>(&deleted)) {
    queue_.Add(tombstone->key);
  } else {
    EnqueueObject(std::get<ObjectPtr>(deleted));
  }
}

EventHandler Controller::EnqueueHandler() {
  return EventHandler{
      .on_add = [this](const ObjectPtr& obj, bool) { EnqueueObject(obj); },
      .on_update = [this](const ObjectPtr&, const ObjectPtr& obj) { EnqueueObject(obj); },
      .on_delete = [this](const DeletedObject& deleted) { EnqueueDeleted(deleted); },
  };
}

void Controller::Worker() {
  while (std::optional<std::string> key = queue_.Get()) {
    Status s = Sync(*key);
    if (s.ok()) {
      queue_.Forget(*key);
    } else if (max_retries_ >= 0 && queue_.NumRequeues(*key) >= max_retries_) {
      CK_LOG_INFO("Dropping key out of the queue", "controller", name_, "key", *key, "err", s.message());
      queue_.Forget(*key);
    } else {
      CK_VLOG(2, "Requeue after error", "controller", name_, "key", *key, "err", s.message());
      queue_.AddRateLimited(*key);
    }
    queue_.Done(*key);
  }
}

}  // namespace ck::client
