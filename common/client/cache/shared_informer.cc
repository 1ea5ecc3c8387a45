#include "common/client/cache/shared_informer.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <unordered_set>

#include "common/base/log.h"
#include "common/base/thread.h"
#include "common/client/cache/meta.h"

namespace ck::client {

namespace {
// client-go's minimumResyncPeriod.
constexpr Duration kMinResync = std::chrono::seconds(1);
}  // namespace

namespace internal {

struct Notification {
  enum class Kind { kAdd, kUpdate, kDelete };
  Kind kind = Kind::kAdd;
  ObjectPtr old_obj;  // kUpdate
  ObjectPtr obj;      // kAdd, kUpdate (the new object)
  bool is_initial_list = false;
  DeletedObject deleted;  // kDelete
};

// One handler with its own unbounded buffer and thread (client-go's processorListener), so that a
// slow handler never holds up the informer or the other handlers.
class ProcessorListener : public std::enable_shared_from_this<ProcessorListener> {
 public:
  ProcessorListener(EventHandler handler, Duration resync_period)
      : resync_period(resync_period), handler_(std::move(handler)) {}

  ~ProcessorListener() { Stop(); }

  void Start(const std::string& thread_name) {
    std::lock_guard lock(mu_);
    if (stopping_ || thread_.joinable()) return;
    // The thread keeps the listener alive: a handler may remove itself and drop the last reference.
    thread_ = std::thread([self = shared_from_this(), thread_name] {
      SetCurrentThreadName(thread_name);
      self->Run();
    });
  }

  // Drops what is not delivered yet and joins the thread (detaches it when called from a handler).
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      pending_.clear();
    }
    cv_.notify_all();
    if (!thread_.joinable()) return;
    if (thread_.get_id() == std::this_thread::get_id()) {
      thread_.detach();
    } else {
      thread_.join();
    }
  }

  void Push(Notification n) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      pending_.push_back(std::move(n));
    }
    cv_.notify_one();
  }

  bool HasSynced() const {
    int64_t target = sync_target.load();
    return target >= 0 && delivered_.load() >= target;
  }

  // Guarded by the informer's process_mu_.
  const Duration resync_period;
  MonoTime next_resync;
  int64_t pushed = 0;
  // The number of notifications that make up this handler's initial list; -1 until known.
  std::atomic<int64_t> sync_target{-1};

 private:
  void Run() {
    while (true) {
      Notification n;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
        if (stopping_) return;
        n = std::move(pending_.front());
        pending_.pop_front();
      }
      switch (n.kind) {
        case Notification::Kind::kAdd:
          if (handler_.on_add) handler_.on_add(n.obj, n.is_initial_list);
          break;
        case Notification::Kind::kUpdate:
          if (handler_.on_update) handler_.on_update(n.old_obj, n.obj);
          break;
        case Notification::Kind::kDelete:
          if (handler_.on_delete) handler_.on_delete(n.deleted);
          break;
      }
      ++delivered_;
    }
  }

  const EventHandler handler_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Notification> pending_;  // guarded by mu_
  bool stopping_ = false;             // guarded by mu_
  std::atomic<int64_t> delivered_{0};
  std::thread thread_;
};

}  // namespace internal

using internal::Notification;
using internal::ProcessorListener;

bool HandlerRegistration::HasSynced() const { return listener_ != nullptr && listener_->HasSynced(); }

SharedIndexInformer::SharedIndexInformer(ApiClient& client, ResourceInfo resource, Clock& clock, Random& random,
                                         InformerOptions options)
    : resource_(std::move(resource)),
      clock_(clock),
      options_(std::move(options)),
      indexer_(options_.indexers),
      reflector_(client, resource_, queue_, clock, random, options_.list_watch) {}

SharedIndexInformer::~SharedIndexInformer() { Stop(); }

HandlerRegistration SharedIndexInformer::AddEventHandler(EventHandler handler) {
  return AddEventHandler(std::move(handler), options_.resync_period);
}

HandlerRegistration SharedIndexInformer::AddEventHandler(EventHandler handler, Duration resync_period) {
  if (resync_period > Duration::zero() && resync_period < kMinResync) resync_period = kMinResync;
  auto listener = std::make_shared<ProcessorListener>(std::move(handler), resync_period);
  {
    std::lock_guard lock(process_mu_);
    listener->next_resync = clock_.Monotonic() + resync_period;
    if (synced_) {
      // Late joiner: the current content, as if it had been there for the initial list.
      for (ObjectPtr& obj : indexer_.List()) {
        listener->Push(Notification{Notification::Kind::kAdd, nullptr, std::move(obj), true, {}});
        ++listener->pushed;
      }
      listener->sync_target = listener->pushed;
    }
    listeners_.push_back(listener);
    if (started_ && !stopped_) listener->Start(("ih-" + resource_.resource).substr(0, 15));
  }
  if (resync_period > Duration::zero()) queue_.Interrupt();  // the processing thread re-reads deadlines
  return HandlerRegistration(listener);
}

void SharedIndexInformer::RemoveEventHandler(const HandlerRegistration& registration) {
  if (registration.listener_ == nullptr) return;
  {
    std::lock_guard lock(process_mu_);
    std::erase(listeners_, registration.listener_);
  }
  registration.listener_->Stop();
}

void SharedIndexInformer::Start() {
  std::lock_guard lock(process_mu_);
  if (stopped_) {
    CK_LOG_WARNING("Informer already stopped", "resource", resource_.GroupResource());
    return;
  }
  if (started_.exchange(true)) return;
  for (auto& listener : listeners_) listener->Start(("ih-" + resource_.resource).substr(0, 15));
  processor_ = std::thread([this] {
    SetCurrentThreadName(("ip-" + resource_.resource).substr(0, 15));
    ProcessLoop();
  });
  reflector_.Start();
}

void SharedIndexInformer::Stop() {
  if (stopped_.exchange(true)) return;
  reflector_.Stop();
  queue_.Close();
  if (processor_.joinable()) processor_.join();
  std::vector<std::shared_ptr<ProcessorListener>> listeners;
  {
    std::lock_guard lock(process_mu_);
    listeners = listeners_;
  }
  for (auto& listener : listeners) listener->Stop();
  NotifySyncWaiters();
}

void SharedIndexInformer::AddSyncWaiter(Wakeup* wakeup) {
  std::lock_guard lock(waiters_mu_);
  sync_waiters_.push_back(wakeup);
}

void SharedIndexInformer::RemoveSyncWaiter(Wakeup* wakeup) {
  std::lock_guard lock(waiters_mu_);
  std::erase(sync_waiters_, wakeup);
}

void SharedIndexInformer::NotifySyncWaiters() {
  std::lock_guard lock(waiters_mu_);
  for (Wakeup* w : sync_waiters_) w->Notify();
}

std::optional<MonoTime> SharedIndexInformer::NextResyncLocked() const {
  std::optional<MonoTime> next;
  for (const auto& listener : listeners_) {
    if (listener->resync_period <= Duration::zero()) continue;
    if (!next || listener->next_resync < *next) next = listener->next_resync;
  }
  return next;
}

void SharedIndexInformer::ProcessLoop() {
  while (!stopped_) {
    std::optional<MonoTime> next_resync;
    {
      std::lock_guard lock(process_mu_);
      next_resync = NextResyncLocked();
    }
    std::optional<Delta> delta = next_resync ? queue_.PopUntil(clock_, *next_resync) : queue_.Pop();
    if (stopped_) return;
    std::lock_guard lock(process_mu_);
    if (delta) ApplyLocked(std::move(*delta));
    ResyncDueLocked();
  }
}

void SharedIndexInformer::ApplyLocked(Delta delta) {
  auto distribute = [&](const Notification& n) {
    for (auto& listener : listeners_) {
      listener->Push(n);
      ++listener->pushed;
    }
  };
  switch (delta.type) {
    case Delta::Type::kAdded:
    case Delta::Type::kUpdated: {
      // Decided by the cache, not the event type: an Added for a cached key is an update.
      ObjectPtr old_obj = indexer_.Get(KeyOf(*delta.object));
      indexer_.Update(delta.object);
      if (old_obj != nullptr) {
        distribute(Notification{Notification::Kind::kUpdate, std::move(old_obj), std::move(delta.object), false, {}});
      } else {
        distribute(Notification{Notification::Kind::kAdd, nullptr, std::move(delta.object), false, {}});
      }
      return;
    }
    case Delta::Type::kDeleted: {
      indexer_.Delete(delta.object);
      Notification n{Notification::Kind::kDelete, nullptr, nullptr, false, DeletedObject(std::move(delta.object))};
      distribute(n);
      return;
    }
    case Delta::Type::kReplaced:
      ApplyReplaceLocked(std::move(delta.objects), std::move(delta.resource_version));
      return;
    case Delta::Type::kBookmark:
      indexer_.Bookmark(std::move(delta.resource_version));
      return;
  }
}

void SharedIndexInformer::ApplyReplaceLocked(std::vector<ObjectPtr> objects, std::string resource_version) {
  bool initial = !synced_;
  std::vector<Notification> notifications;
  notifications.reserve(initial ? objects.size() : 0);
  std::unordered_set<std::string> listed;
  listed.reserve(objects.size());
  for (ObjectPtr& obj : objects) {
    std::string key = KeyOf(*obj);
    ObjectPtr old_obj = initial ? nullptr : indexer_.Get(key);
    listed.insert(std::move(key));
    if (old_obj == nullptr) {
      notifications.push_back(Notification{Notification::Kind::kAdd, nullptr, obj, initial, {}});
    } else if (ResourceVersionOf(*old_obj) != ResourceVersionOf(*obj)) {
      notifications.push_back(Notification{Notification::Kind::kUpdate, std::move(old_obj), obj, false, {}});
    } else {
      // Same resourceVersion: unchanged while the watch was down. Keep the object handlers
      // already hold, so that a later update's `old` is the very object they saw.
      obj = std::move(old_obj);
    }
  }
  if (!initial) {
    // Gone while the watch was down: the delete itself was missed, so the last known state travels
    // in a tombstone.
    for (ObjectPtr& old_obj : indexer_.List()) {
      std::string key = KeyOf(*old_obj);
      if (listed.count(key) != 0) continue;
      notifications.push_back(Notification{Notification::Kind::kDelete, nullptr, nullptr, false,
                                           DeletedFinalStateUnknown{std::move(key), std::move(old_obj)}});
    }
  }
  indexer_.Replace(std::move(objects), std::move(resource_version));
  for (const Notification& n : notifications) {
    for (auto& listener : listeners_) {
      listener->Push(n);
      ++listener->pushed;
    }
  }
  if (initial) {
    for (auto& listener : listeners_) {
      if (listener->sync_target.load() < 0) listener->sync_target = listener->pushed;
    }
    synced_ = true;
    NotifySyncWaiters();
    CK_VLOG(1, "Informer synced", "resource", resource_.GroupResource(), "objects",
            static_cast<uint64_t>(indexer_.size()));
  }
}

void SharedIndexInformer::ResyncDueLocked() {
  MonoTime now = clock_.Monotonic();
  std::vector<ObjectPtr> objects;
  bool listed = false;
  for (auto& listener : listeners_) {
    if (listener->resync_period <= Duration::zero() || listener->next_resync > now) continue;
    if (!listed) {
      objects = indexer_.List();
      listed = true;
    }
    for (const ObjectPtr& obj : objects) {
      listener->Push(Notification{Notification::Kind::kUpdate, obj, obj, false, {}});
      ++listener->pushed;
    }
    listener->next_resync = now + listener->resync_period;
  }
}

bool WaitForCacheSync(const std::vector<SharedIndexInformer*>& informers, Clock& clock, MonoTime deadline) {
  Wakeup wakeup;
  for (SharedIndexInformer* informer : informers) informer->AddSyncWaiter(&wakeup);
  bool synced = false;
  while (true) {
    synced = std::all_of(informers.begin(), informers.end(), [](SharedIndexInformer* i) { return i->HasSynced(); });
    if (synced) break;
    bool stopped = std::any_of(informers.begin(), informers.end(), [](SharedIndexInformer* i) {
      return i->IsStopped() && !i->HasSynced();
    });
    if (stopped || clock.Monotonic() >= deadline) break;
    clock.WaitUntil(wakeup, deadline);
  }
  for (SharedIndexInformer* informer : informers) informer->RemoveSyncWaiter(&wakeup);
  return synced;
}

}  // namespace ck::client
