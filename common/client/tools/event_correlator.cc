#include "common/client/tools/event_correlator.h"

#include <atomic>
#include <cstdio>

#include "common/api/object.h"
#include "common/api/time_format.h"
#include "common/base/strings.h"

namespace ck::client {

namespace corev1 = ::k8s::io::api::core::v1;

std::string NewEventName(const std::string& object_name, WallTime now) {
  static std::atomic<int64_t> last{0};
  int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  int64_t prev = last.load();
  int64_t chosen;
  do {
    chosen = std::max(nanos, prev + 1);
  } while (!last.compare_exchange_weak(prev, chosen));
  char hex[32];
  snprintf(hex, sizeof(hex), "%llx", static_cast<unsigned long long>(chosen));
  return object_name + "." + hex;
}

std::string EventKey(const corev1::Event& e) {
  const corev1::ObjectReference& o = e.involvedobject();
  return e.source().component() + e.source().host() + o.kind() + o.namespace_() + o.name() + o.fieldpath() +
         o.uid() + o.apiversion() + e.type() + e.reason() + e.message();
}

std::string SpamKey(const corev1::Event& e) {
  const corev1::ObjectReference& o = e.involvedobject();
  return e.source().component() + e.source().host() + o.kind() + o.namespace_() + o.name() + o.uid() +
         o.apiversion();
}

std::string AggregateKey(const corev1::Event& e) {
  const corev1::ObjectReference& o = e.involvedobject();
  return e.source().component() + e.source().host() + o.kind() + o.namespace_() + o.name() + o.uid() +
         o.apiversion() + e.type() + e.reason() + e.reportingcomponent() + e.reportinginstance();
}

EventCorrelator::EventCorrelator(Clock& clock, EventCorrelatorOptions options)
    : clock_(clock),
      options_(options),
      aggregates_(options.lru_cache_size),
      logs_(options.lru_cache_size),
      spam_(options.lru_cache_size) {}

EventCorrelator::Result EventCorrelator::Correlate(const corev1::Event& incoming) {
  std::lock_guard lock(mu_);
  const WallTime now = clock_.Now();
  Result result;

  // 1. Aggregate events that differ only in message.
  std::string cache_key = EventKey(incoming);
  corev1::Event event = incoming;
  {
    const std::string aggregate_key = AggregateKey(incoming);
    AggregateRecord* record = aggregates_.Get(aggregate_key);
    const MonoTime mono = clock_.Monotonic();
    if (record == nullptr || mono - record->last > options_.max_interval) {
      record = &aggregates_.Add(aggregate_key, AggregateRecord{});
    }
    record->messages.insert(incoming.message());
    record->last = mono;
    if (static_cast<int>(record->messages.size()) >= options_.max_events) {
      // Keep the set from growing past the threshold.
      record->messages.erase(record->messages.begin());
      event = corev1::Event();
      event.mutable_metadata()->set_name(NewEventName(incoming.involvedobject().name(), now));
      event.mutable_metadata()->set_namespace_(incoming.metadata().namespace_());
      event.set_count(1);
      api::SetWholeSeconds(event.mutable_firsttimestamp(), now);
      *event.mutable_involvedobject() = incoming.involvedobject();
      api::SetWholeSeconds(event.mutable_lasttimestamp(), now);
      event.set_message(kCombinedPrefix + incoming.message());
      event.set_type(incoming.type());
      event.set_reason(incoming.reason());
      *event.mutable_source() = incoming.source();
      cache_key = aggregate_key;
    }
  }

  // 2. Dedupe against what was already written: a PATCH of count, lastTimestamp and message.
  if (EventLog* last = logs_.Get(cache_key); last != nullptr && last->count > 0) {
    event.mutable_metadata()->set_name(last->name);
    event.mutable_metadata()->set_resourceversion(last->resource_version);
    *event.mutable_firsttimestamp() = last->first_timestamp;
    event.set_count(last->count + 1);
    std::string patch = "{\"count\":" + std::to_string(event.count()) + ",\"lastTimestamp\":";
    AppendJsonString(patch, api::FormatRfc3339(api::TimestampOf(event.lasttimestamp())));
    if (!event.message().empty()) {
      patch += ",\"message\":";
      AppendJsonString(patch, event.message());
    }
    patch += "}";
    result.patch = std::move(patch);
  }
  logs_.Add(cache_key, EventLog{event.count(), event.firsttimestamp(), event.metadata().name(),
                                event.metadata().resourceversion()});

  // 3. Spam filter per source + object (after counting, as upstream).
  const std::string spam_key = SpamKey(event);
  std::shared_ptr<TokenBucket>* bucket = spam_.Get(spam_key);
  if (bucket == nullptr) {
    bucket =
        &spam_.Add(spam_key, std::make_shared<TokenBucket>(options_.spam_qps, options_.spam_burst, clock_));
  }
  if (!(*bucket)->TryAccept()) {
    result.skip = true;
    return result;
  }
  result.event = std::move(event);
  return result;
}

void EventCorrelator::UpdateState(const corev1::Event& event) {
  std::lock_guard lock(mu_);
  logs_.Add(EventKey(event), EventLog{event.count(), event.firsttimestamp(), event.metadata().name(),
                                      event.metadata().resourceversion()});
}

}  // namespace ck::client
