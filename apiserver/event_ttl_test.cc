// EventTtl on a MemoryStore, the watch cache and the fake clock: a table of Events whose last
// occurrence (the newest of lastTimestamp, eventTime, series.lastObservedTime; else
// creationTimestamp) decides when they leave the store, checked at start and after the clock
// moves past each expiry; an Event written again with a later occurrence lives on; other objects
// are never touched; ExpiryOf itself.
#include "apiserver/event_ttl.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "apiserver/object.h"
#include "common/api/object.h"
#include "common/api/proto/events_v1.pb.h"
#include "common/api/time_format.h"
#include "store/memory_store.h"
#include "tests/testutil/testutil.h"

namespace ck::apiserver {
namespace {

using namespace std::chrono_literals;
namespace corev1 = k8s::io::api::core::v1;
namespace eventsv1 = k8s::io::api::events::v1;
using testutil::WaitUntil;

struct EventSpec {
  std::string name;
  // Offsets from the start of the test; unset: the field stays empty.
  std::optional<Duration> last_timestamp;
  std::optional<Duration> event_time;
  std::optional<Duration> series_last_observed;
  // When it must be gone: 0 at once, 1 after the first clock step, 2 after the second.
  int gone_after_step;
};

// The TTL is 1 h; step 1 moves the clock 55 min, step 2 another 6 min. Every Event was created
// 3 h before the test starts, which counts only when no occurrence is recorded.
const std::vector<EventSpec>& Specs() {
  static const std::vector<EventSpec> kSpecs = {
      {"old-last-timestamp", -2h, {}, {}, 0},
      {"old-event-time", {}, -90min, {}, 0},
      {"old-but-recurring-series", -2h, -2h, -10min, 1},
      {"ten-minutes-old", -10min, {}, {}, 1},
      {"brand-new", 0min, {}, {}, 2},
      {"half-hour-old-event-time", {}, -30min, {}, 1},
      {"creation-timestamp-only", {}, {}, {}, 0},
  };
  return kSpecs;
}

std::string EventKey(const std::string& name) { return "/registry/events/default/" + name; }

class EventTtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = store::NewMemoryStore();
    WatchCacheOptions wo;
    wo.clock = &clock_;
    cache_ = std::make_unique<WatchCache>(store_.get(), wo);
  }
  void TearDown() override {
    if (ttl_) ttl_->Stop();
  }

  corev1::Event MakeEvent(const EventSpec& spec, WallTime t0) {
    corev1::Event e;
    e.mutable_metadata()->set_name(spec.name);
    e.mutable_metadata()->set_namespace_("default");
    api::SetTime(e.mutable_metadata()->mutable_creationtimestamp(), t0 - 3h);
    e.set_reason("Test");
    if (spec.last_timestamp) api::SetTime(e.mutable_lasttimestamp(), t0 + *spec.last_timestamp);
    if (spec.event_time) api::SetMicroTime(e.mutable_eventtime(), t0 + *spec.event_time);
    if (spec.series_last_observed) api::SetMicroTime(e.mutable_series()->mutable_lastobservedtime(), t0 + *spec.series_last_observed);
    return e;
  }
  int64_t Write(const corev1::Event& e) {
    return *store_->Put(EventKey(e.metadata().name()), EncodeForStorage(e));
  }
  void StartTtl() {
    ASSERT_TRUE(cache_->Start().ok());
    ttl_ = std::make_unique<EventTtl>(cache_.get(), store_.get(), &clock_, 1h);
    ASSERT_TRUE(ttl_->Start().ok());
  }
  bool Exists(const std::string& name) { return store_->Get(EventKey(name)).ok(); }
  // Every event due by `step` is gone and every other one is still there.
  bool MatchesStep(int step, std::string* why) {
    for (const EventSpec& spec : Specs()) {
      bool want_gone = spec.gone_after_step <= step;
      if (Exists(spec.name) == want_gone) {
        *why = spec.name + (want_gone ? " still exists" : " was deleted") + " at step " + std::to_string(step);
        return false;
      }
    }
    return true;
  }
  // The EventTtl thread sleeps until its next expiry, with every due Event handled.
  void WaitSettled(size_t pending) {
    ASSERT_TRUE(WaitUntil([&] { return clock_.sleepers() > 0 && ttl_->pending() == pending; }, 5s));
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<WatchCache> cache_;
  std::unique_ptr<EventTtl> ttl_;
};

TEST_F(EventTtlTest, DeletesEachEventATtlAfterItsLastOccurrence) {
  const WallTime t0 = clock_.Now();
  for (const EventSpec& spec : Specs()) Write(MakeEvent(spec, t0));
  corev1::ConfigMap cm;
  cm.mutable_metadata()->set_name("not-an-event");
  ASSERT_TRUE(store_->Put("/registry/configmaps/default/not-an-event", EncodeForStorage(cm)).ok());
  StartTtl();
  std::string why;
  ASSERT_TRUE(WaitUntil([&] { return MatchesStep(0, &why); }, 5s)) << why;
  WaitSettled(4);
  EXPECT_TRUE(MatchesStep(0, &why)) << why;

  clock_.Advance(55min);
  ASSERT_TRUE(WaitUntil([&] { return MatchesStep(1, &why); }, 5s)) << why;
  WaitSettled(1);
  EXPECT_TRUE(MatchesStep(1, &why)) << why;

  clock_.Advance(6min);
  ASSERT_TRUE(WaitUntil([&] { return MatchesStep(2, &why); }, 5s)) << why;
  EXPECT_TRUE(store_->Get("/registry/configmaps/default/not-an-event").ok());
}

TEST_F(EventTtlTest, AnEventWrittenAgainLivesOnFromItsLastOccurrence) {
  const WallTime t0 = clock_.Now();
  EventSpec spec{"backoff", -50min, {}, {}, 0};
  corev1::Event e = MakeEvent(spec, t0);
  e.set_count(1);
  Write(e);
  StartTtl();
  WaitSettled(1);

  // It recurs 5 minutes later (before it expires at +10 min): the recorder bumps count and
  // lastTimestamp, so it now expires at +65 min.
  clock_.Advance(5min);
  e.set_count(2);
  api::SetTime(e.mutable_lasttimestamp(), clock_.Now());
  int64_t rev = Write(e);
  ASSERT_TRUE(cache_->WaitFor(rev, 5s).ok());
  WaitSettled(1);

  // Past the first occurrence's expiry, not the second's.
  clock_.Advance(35min);
  WaitSettled(1);
  EXPECT_TRUE(Exists("backoff"));
  clock_.Advance(26min);
  EXPECT_TRUE(WaitUntil([&] { return !Exists("backoff"); }, 5s));
}

TEST_F(EventTtlTest, EventsOfTheEventsApiExpireToo) {
  const WallTime t0 = clock_.Now();
  eventsv1::Event e;
  e.mutable_metadata()->set_name("new-api");
  e.mutable_metadata()->set_namespace_("default");
  api::SetTime(e.mutable_metadata()->mutable_creationtimestamp(), t0 - 3h);
  api::SetTime(e.mutable_deprecatedlasttimestamp(), t0 - 61min);
  api::SetMicroTime(e.mutable_eventtime(), t0 - 30min);
  const std::string key = "/registry/events.k8s.io/events/default/new-api";
  ASSERT_TRUE(store_->Put(key, EncodeForStorage(e)).ok());
  StartTtl();
  WaitSettled(1);
  EXPECT_TRUE(store_->Get(key).ok());
  clock_.Advance(31min);
  EXPECT_TRUE(WaitUntil([&] { return !store_->Get(key).ok(); }, 5s));
}

TEST_F(EventTtlTest, AnEventDeletedBeforeItsExpiryIsForgotten) {
  Write(MakeEvent(EventSpec{"short-lived", 0min, {}, {}, 0}, clock_.Now()));
  StartTtl();
  WaitSettled(1);
  int64_t rev = store_->Txn({}, {store::Op::Delete(EventKey("short-lived"))}, {}).value().revision;
  ASSERT_TRUE(cache_->WaitFor(rev, 5s).ok());
  WaitSettled(0);
}

TEST(EventTtlExpiryTest, LastOccurrenceWinsAndCreationIsTheFallback) {
  const WallTime t0 = FakeClock().Now();
  corev1::Event e;
  api::SetTime(e.mutable_metadata()->mutable_creationtimestamp(), t0 - 3h);
  EXPECT_EQ(EventTtl::ExpiryOf(e, 1h), t0 - 2h);
  api::SetTime(e.mutable_lasttimestamp(), t0 - 2h);
  EXPECT_EQ(EventTtl::ExpiryOf(e, 1h), t0 - 1h);
  api::SetMicroTime(e.mutable_eventtime(), t0 - 30min);
  EXPECT_EQ(EventTtl::ExpiryOf(e, 1h), t0 + 30min);
  api::SetMicroTime(e.mutable_series()->mutable_lastobservedtime(), t0 - 5min);
  EXPECT_EQ(EventTtl::ExpiryOf(e, 1h), t0 + 55min);
  EXPECT_EQ(EventTtl::ExpiryOf(e, 10min), t0 + 5min);
}

}  // namespace
}  // namespace ck::apiserver
