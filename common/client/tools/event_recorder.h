// EventBroadcaster and EventRecorder: core/v1 Events about objects, written in the background
// (client-go tools/record). A component creates one EventBroadcaster, Start()s it, and hands
// EventRecorders (one per source component) to its controllers:
//   recorder.Event(pod, kEventNormal, "Scheduled", "Successfully assigned shop/web-1 to node-1");
// Event() builds the Event (name "<object>.<hex>", namespace of the object or "default",
// involvedObject, source, reportingController/Instance, first/lastTimestamp from the clock, count 1)
// and puts it on a bounded queue; it never blocks and never fails: a full queue or an invalid
// type drops the event (counted in stats()). One sending thread takes events off the queue, runs
// them through the EventCorrelator (aggregation, dedupe as a PATCH of count, spam filter) and
// writes them: POST, or PATCH then POST when the event is gone. Transport failures (kUnavailable,
// kTimeout, kTooManyRequests) are retried up to 12 times, 10 s apart (the first wait jittered);
// answers from the server (AlreadyExists, Invalid, Forbidden, ...) are final, as upstream.
// Threading: Event() and stats() are safe from any thread; the broadcaster must outlive its
// recorders and Start()/Shutdown() are called by its owner.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/api/proto/core_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/client/api_client.h"
#include "common/client/tools/event_correlator.h"

namespace ck::client {

inline constexpr std::string_view kEventNormal = "Normal";
inline constexpr std::string_view kEventWarning = "Warning";

// Who reports: upstream's EventSource (the component, e.g. "default-scheduler", and the host).
struct EventSource {
  std::string component;
  std::string host;
};

struct EventBroadcasterOptions {
  size_t queue_size = 1000;  // upstream maxQueuedEvents
  int max_tries = 12;        // upstream maxTriesPerEvent
  Duration retry_interval = std::chrono::seconds(10);
  EventCorrelatorOptions correlator;
};

class EventRecorder;

class EventBroadcaster {
 public:
  // Counters since construction.
  struct Stats {
    int64_t queued = 0;     // accepted by Event()
    int64_t dropped = 0;    // queue full or invalid type
    int64_t skipped = 0;    // spam filter
    int64_t created = 0;    // POSTs that succeeded
    int64_t patched = 0;    // PATCHes that succeeded
    int64_t failed = 0;     // given up (server refused, or out of tries, or shut down)
    int64_t processed = 0;  // taken off the queue and finished (skipped + created + patched + failed)
  };

  // `api`, `clock` and `random` (jitter of the first retry) must outlive the broadcaster.
  EventBroadcaster(ApiClient& api, Clock& clock, EventBroadcasterOptions options = {},
                   Random& random = RealRandom::Get());
  ~EventBroadcaster();  // Shutdown()
  EventBroadcaster(const EventBroadcaster&) = delete;
  EventBroadcaster& operator=(const EventBroadcaster&) = delete;

  // Starts the sending thread ("ck-events"). Events recorded before Start() wait in the queue.
  void Start();
  // Stops the sending thread after the write in flight; events still queued are dropped
  // (upstream's Shutdown). Idempotent.
  void Shutdown();

  // A recorder for one source; cheap to copy.
  EventRecorder NewRecorder(EventSource source);

  Stats stats() const;

 private:
  friend class EventRecorder;
  void Enqueue(k8s::io::api::core::v1::Event event);
  void Loop();
  bool ShuttingDown() const;
  // Writes one correlated event; true when done with it (written or refused for good).
  bool WriteOnce(const EventCorrelator::Result& r, Status* error);

  ApiClient& api_;
  Clock& clock_;
  const EventBroadcasterOptions options_;
  Random& random_;
  EventCorrelator correlator_;
  const ResourceInfo& events_;
  Wakeup wakeup_;

  mutable std::mutex mu_;
  std::deque<k8s::io::api::core::v1::Event> queue_;  // guarded by mu_
  bool shutdown_ = false;                            // guarded by mu_
  Stats stats_;                                      // guarded by mu_
  std::thread thread_;
};

class EventRecorder {
 public:
  // Records an event about the object `ref` points to. `type` is kEventNormal or kEventWarning.
  void Event(const k8s::io::api::core::v1::ObjectReference& ref, std::string_view type,
             std::string_view reason, std::string_view message) const;
  // Records an event about `object` (any API kind; the reference is built from its metadata and
  // the resource table). Dropped with an error log when the kind is not served.
  void Event(const google::protobuf::Message& object, std::string_view type, std::string_view reason,
             std::string_view message) const;

  // client-go's reference.GetReference: kind, apiVersion, namespace, name, uid, resourceVersion.
  // BadRequest when the message is not a served kind.
  static Result<k8s::io::api::core::v1::ObjectReference> ReferenceTo(const google::protobuf::Message& object);

 private:
  friend class EventBroadcaster;
  EventRecorder(EventBroadcaster* broadcaster, EventSource source)
      : broadcaster_(broadcaster), source_(std::move(source)) {}
  EventBroadcaster* broadcaster_;
  EventSource source_;
};

}  // namespace ck::client
