#include "common/client/tools/event_recorder.h"

#include <google/protobuf/descriptor.h>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/thread.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

const ResourceInfo& EventsResource() {
  const ResourceInfo* r = api::FindResource("", "v1", "events");
  CK_CHECK(r != nullptr) << "events missing from the resource table";
  return *r;
}

// Failures of the connection rather than answers of the server: worth another try.
bool Retryable(Code code) {
  return code == Code::kUnavailable || code == Code::kTimeout || code == Code::kTooManyRequests;
}

}  // namespace

EventBroadcaster::EventBroadcaster(ApiClient& api, Clock& clock, EventBroadcasterOptions options,
                                   Random& random)
    : api_(api),
      clock_(clock),
      options_(options),
      random_(random),
      correlator_(clock, options.correlator),
      events_(EventsResource()) {}

EventBroadcaster::~EventBroadcaster() { Shutdown(); }

void EventBroadcaster::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable() || shutdown_) return;
  thread_ = std::thread([this] { Loop(); });
}

void EventBroadcaster::Shutdown() {
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
  }
  wakeup_.Notify();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

EventRecorder EventBroadcaster::NewRecorder(EventSource source) {
  return EventRecorder(this, std::move(source));
}

EventBroadcaster::Stats EventBroadcaster::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void EventBroadcaster::Enqueue(corev1::Event event) {
  {
    std::lock_guard lock(mu_);
    if (shutdown_ || queue_.size() >= options_.queue_size) {
      ++stats_.dropped;
      return;
    }
    queue_.push_back(std::move(event));
    ++stats_.queued;
  }
  wakeup_.Notify();
}

void EventBroadcaster::Loop() {
  SetCurrentThreadName("ck-events");
  const MonoTime kNever = clock_.Monotonic() + std::chrono::hours(24 * 365 * 10);
  for (;;) {
    corev1::Event event;
    {
      std::unique_lock lock(mu_);
      while (queue_.empty() && !shutdown_) {
        lock.unlock();
        clock_.WaitUntil(wakeup_, kNever);
        lock.lock();
      }
      if (shutdown_) {
        stats_.dropped += static_cast<int64_t>(queue_.size());
        queue_.clear();
        return;
      }
      event = std::move(queue_.front());
      queue_.pop_front();
    }
    EventCorrelator::Result r = correlator_.Correlate(event);
    if (r.skip) {
      std::lock_guard lock(mu_);
      ++stats_.skipped;
      ++stats_.processed;
      continue;
    }
    Status error;
    for (int tries = 1;; ++tries) {
      if (WriteOnce(r, &error)) break;
      bool give_up = tries >= options_.max_tries;
      if (!give_up) {
        // The first wait is random so that clients do not retry in step after an outage.
        Duration wait = tries == 1
                            ? std::chrono::duration_cast<Duration>(options_.retry_interval * random_.Double())
                            : options_.retry_interval;
        MonoTime until = clock_.Monotonic() + wait;
        while (!ShuttingDown() && clock_.Monotonic() < until) clock_.WaitUntil(wakeup_, until);
        give_up = ShuttingDown();
      }
      if (give_up) {
        CK_LOG_ERROR("Unable to write event (retry limit exceeded or shutting down)", "event",
                     r.event.metadata().name(), "err", error.ToString());
        std::lock_guard lock(mu_);
        ++stats_.failed;
        break;
      }
    }
    std::lock_guard lock(mu_);
    ++stats_.processed;
  }
}

bool EventBroadcaster::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutdown_;
}

bool EventBroadcaster::WriteOnce(const EventCorrelator::Result& r, Status* error) {
  const std::string& ns = r.event.metadata().namespace_();
  Result<ObjectPtr> written = Status(Code::kNotFound, "");
  bool patched = false;
  if (!r.patch.empty()) {
    written = api_.Patch(events_, ns, r.event.metadata().name(), PatchType::kStrategicMerge, r.patch);
    patched = written.ok();
  }
  // A new event, or one whose earlier occurrence is gone (expired by its TTL): create it.
  if (r.patch.empty() || (!written.ok() && written.status().code() == Code::kNotFound)) {
    corev1::Event create = r.event;
    create.mutable_metadata()->clear_resourceversion();
    written = api_.Create(events_, ns, create);
  }
  if (written.ok()) {
    correlator_.UpdateState(static_cast<const corev1::Event&>(**written));
    std::lock_guard lock(mu_);
    ++(patched ? stats_.patched : stats_.created);
    return true;
  }
  *error = written.status();
  if (Retryable(error->code())) return false;
  if (error->code() == Code::kAlreadyExists) {
    CK_VLOG(5, "Server rejected event (will not retry!)", "event", r.event.metadata().name(), "err",
            error->ToString());
  } else {
    CK_LOG_ERROR("Server rejected event (will not retry!)", "event", r.event.metadata().name(), "err",
                 error->ToString());
  }
  std::lock_guard lock(mu_);
  ++stats_.failed;
  return true;
}

// ---- EventRecorder ----

Result<corev1::ObjectReference> EventRecorder::ReferenceTo(const google::protobuf::Message& object) {
  const std::string& type = object.GetDescriptor()->full_name();
  const ResourceInfo* resource = nullptr;
  for (const ResourceInfo& r : api::AllResources()) {
    if (r.proto_type == type) {
      resource = &r;
      break;
    }
  }
  const google::protobuf::FieldDescriptor* f = object.GetDescriptor()->FindFieldByName("metadata");
  if (resource == nullptr || f == nullptr || f->message_type() != metav1::ObjectMeta::descriptor()) {
    return BadRequest("no API kind for message type " + type);
  }
  const auto& meta = static_cast<const metav1::ObjectMeta&>(object.GetReflection()->GetMessage(object, f));
  corev1::ObjectReference ref;
  ref.set_kind(resource->kind);
  ref.set_apiversion(resource->GroupVersion());
  ref.set_namespace_(meta.namespace_());
  ref.set_name(meta.name());
  ref.set_uid(meta.uid());
  ref.set_resourceversion(meta.resourceversion());
  return ref;
}

void EventRecorder::Event(const google::protobuf::Message& object, std::string_view type,
                          std::string_view reason, std::string_view message) const {
  Result<corev1::ObjectReference> ref = ReferenceTo(object);
  if (!ref.ok()) {
    CK_LOG_ERROR("Could not construct reference, will not report event", "reason", reason, "err",
                 ref.status().ToString());
    return;
  }
  Event(*ref, type, reason, message);
}

void EventRecorder::Event(const corev1::ObjectReference& ref, std::string_view type, std::string_view reason,
                          std::string_view message) const {
  if (type != kEventNormal && type != kEventWarning) {
    CK_LOG_ERROR("Unsupported event type", "type", type, "reason", reason);
    std::lock_guard lock(broadcaster_->mu_);
    ++broadcaster_->stats_.dropped;
    return;
  }
  const WallTime now = broadcaster_->clock_.Now();
  corev1::Event e;
  e.mutable_metadata()->set_name(NewEventName(ref.name(), now));
  // Events about cluster-scoped objects live in "default".
  e.mutable_metadata()->set_namespace_(ref.namespace_().empty() ? "default" : ref.namespace_());
  *e.mutable_involvedobject() = ref;
  e.set_reason(std::string(reason));
  e.set_message(std::string(message));
  api::SetWholeSeconds(e.mutable_firsttimestamp(), now);
  api::SetWholeSeconds(e.mutable_lasttimestamp(), now);
  e.set_count(1);
  e.set_type(std::string(type));
  e.mutable_source()->set_component(source_.component);
  e.mutable_source()->set_host(source_.host);
  e.set_reportingcomponent(source_.component);
  e.set_reportinginstance(source_.host);
  broadcaster_->Enqueue(std::move(e));
}

}  // namespace ck::client
