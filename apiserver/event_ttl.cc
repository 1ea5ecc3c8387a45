// EventTtl (event_ttl.h).
#include "apiserver/event_ttl.h"

#include <algorithm>
#include <vector>

#include "common/api/object.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/log.h"

namespace ck::apiserver {

namespace corev1 = ::k8s::io::api::core::v1;
namespace eventsv1 = ::k8s::io::api::events::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

namespace {

// core/v1 and events.k8s.io/v1 Events are stored apart.
constexpr const char* kEventPrefixes[] = {"/registry/events/", "/registry/events.k8s.io/events/"};

// The later of `t` and `when` (an unset time does not count).
void Newest(WallTime* t, const metav1::Time& when) {
  if (!api::IsZeroTime(when)) *t = std::max(*t, api::WallTimeOf(when));
}
void Newest(WallTime* t, const metav1::MicroTime& when) {
  if ((when.has_seconds() || when.has_nanos()) && when.seconds() != api::kGoZeroTimeSeconds) {
    *t = std::max(*t, api::FromTimestamp(api::Timestamp{when.seconds(), when.nanos()}));
  }
}

WallTime Expiry(WallTime last, const metav1::ObjectMeta& meta, Duration ttl) {
  if (last == WallTime{}) Newest(&last, meta.creationtimestamp());
  return last + std::chrono::duration_cast<WallTime::duration>(ttl);
}

// The expiry of a cached Event, whichever of the two Event types the cache decoded it as.
std::optional<WallTime> ExpiryOfMessage(const google::protobuf::Message& m, Duration ttl) {
  if (const auto* e = dynamic_cast<const corev1::Event*>(&m)) return EventTtl::ExpiryOf(*e, ttl);
  if (const auto* e = dynamic_cast<const eventsv1::Event*>(&m)) {
    WallTime last{};
    Newest(&last, e->deprecatedlasttimestamp());
    Newest(&last, e->eventtime());
    if (e->has_series()) Newest(&last, e->series().lastobservedtime());
    return Expiry(last, e->metadata(), ttl);
  }
  return std::nullopt;
}

}  // namespace

WallTime EventTtl::ExpiryOf(const corev1::Event& event, Duration ttl) {
  WallTime last{};
  Newest(&last, event.lasttimestamp());
  Newest(&last, event.eventtime());
  if (event.has_series()) Newest(&last, event.series().lastobservedtime());
  return Expiry(last, event.metadata(), ttl);
}

EventTtl::EventTtl(WatchCache* cache, store::Store* store, Clock* clock, Duration ttl)
    : cache_(cache), store_(store), clock_(clock), ttl_(ttl) {}

EventTtl::~EventTtl() { Stop(); }

Status EventTtl::Start() {
  if (ttl_ <= Duration::zero()) return Status::Ok();
  for (const char* prefix : kEventPrefixes) {
    CacheWatchOptions o;
    o.prefix = prefix;
    o.send_initial = true;
    CK_ASSIGN_OR_RETURN(std::unique_ptr<CacheWatch> w, cache_->Watch(o, [this](const CacheEvent& e) {
      OnEvent(e);
      return true;
    }));
    watches_.push_back(std::move(w));
  }
  thread_ = std::thread([this] { Loop(); });
  return Status::Ok();
}

void EventTtl::Stop() {
  watches_.clear();  // no sink call runs after this
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wakeup_.Notify();
  if (thread_.joinable()) thread_.join();
}

size_t EventTtl::pending() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

void EventTtl::OnEvent(const CacheEvent& e) {
  if (e.type == WatchEventType::kBookmark || !e.object) return;
  const std::string& key = e.object->key();
  std::optional<WallTime> expiry;
  if (e.type != WatchEventType::kDeleted) expiry = ExpiryOfMessage(*e.object->object(), ttl_);
  bool earliest = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(key); it != entries_.end()) {
      by_expiry_.erase(it->second.at);
      entries_.erase(it);
    }
    if (!expiry) return;
    auto at = by_expiry_.emplace(*expiry, key);
    entries_.emplace(key, Entry{e.object->revision(), at});
    earliest = at == by_expiry_.begin();
  }
  if (earliest) wakeup_.Notify();
}

void EventTtl::Loop() {
  for (;;) {
    std::vector<std::pair<std::string, int64_t>> due;
    MonoTime deadline;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      const WallTime now = clock_->Now();
      for (auto it = by_expiry_.begin(); it != by_expiry_.end() && it->first <= now;) {
        auto entry = entries_.find(it->second);
        due.emplace_back(it->second, entry->second.revision);
        entries_.erase(entry);
        it = by_expiry_.erase(it);
      }
      // Checked again at least every minute, so that a wall clock set forward is noticed.
      Duration wait = std::chrono::minutes(1);
      if (!by_expiry_.empty()) {
        wait = std::min(wait, std::chrono::duration_cast<Duration>(by_expiry_.begin()->first - now));
      }
      deadline = clock_->Monotonic() + wait;
    }
    for (const auto& [key, revision] : due) {
      // Only the version that expired: one written since carries its own expiry.
      auto r = store_->Txn({store::Compare::ModRevisionIs(key, revision)}, {store::Op::Delete(key)}, {});
      if (!r.ok()) {
        CK_LOG_WARNING("Cannot delete an expired event; trying again in 10 s", "key", key, "err",
                       r.status().message());
        std::lock_guard lock(mu_);
        if (!entries_.contains(key)) {
          entries_.emplace(key, Entry{revision, by_expiry_.emplace(clock_->Now() + std::chrono::seconds(10), key)});
        }
      } else if (r->succeeded) {
        CK_VLOG(4, "Deleted expired event", "key", key, "revision", revision);
      }
    }
    if (!due.empty()) continue;
    clock_->WaitUntil(wakeup_, deadline);
  }
}

}  // namespace ck::apiserver
