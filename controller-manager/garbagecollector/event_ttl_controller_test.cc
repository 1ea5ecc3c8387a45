// EventTtlController on FakeApi and the fake clock: a table of core/v1 and events.k8s.io/v1
// Events whose last occurrence (the newest of lastTimestamp, eventTime, series.lastObservedTime;
// else creationTimestamp) decides when they go, checked at start and after the clock moves past
// each expiry; an Event that recurs (its lastTimestamp moves) lives on; ExpiryOf itself.
#include "controller-manager/garbagecollector/event_ttl_controller.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/api/object.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace eventsv1 = ::k8s::io::api::events::v1;
using namespace std::chrono_literals;
using client::testing::WaitFor;
using testing::ResourceOf;

struct EventSpec {
  std::string name;
  bool new_api = false;  // events.k8s.io/v1 instead of core/v1
  // Offsets from the start of the test; unset: the field stays empty.
  std::optional<Duration> last_timestamp;  // lastTimestamp / deprecatedLastTimestamp
  std::optional<Duration> event_time;
  std::optional<Duration> series_last_observed;
  // When it must be gone: 0 at once, 1 after the first clock step, 2 after the second.
  int gone_after_step;
};

// The TTL is 1 h; step 1 moves the clock 55 min, step 2 another 6 min.
const std::vector<EventSpec>& Specs() {
  static const std::vector<EventSpec> kSpecs = {
      {"old-last-timestamp", false, -2h, {}, {}, 0},
      {"old-event-time", false, {}, -90min, {}, 0},
      {"old-but-recurring-series", false, -2h, -2h, -10min, 1},
      {"ten-minutes-old", false, -10min, {}, {}, 1},
      {"brand-new", false, 0min, {}, {}, 2},
      {"creation-timestamp-only", false, {}, {}, {}, 2},
      {"new-api-old", true, {}, -2h, {}, 0},
      {"new-api-half-hour-old", true, {}, -30min, {}, 1},
      {"new-api-deprecated-last-timestamp", true, -61min, -3h, {}, 0},
      {"new-api-fresh", true, {}, -1min, {}, 2},
  };
  return kSpecs;
}

template <typename T>
void SetMicro(T* t, WallTime when) {
  api::Timestamp ts = api::ToTimestamp(when);
  t->set_seconds(ts.seconds);
  t->set_nanos(ts.nanos / 1000 * 1000);
}

class EventTtlTest : public ::testing::Test {
 protected:
  static ControllerSettings Settings() {
    ControllerSettings s;
    s.event_ttl = 1h;
    return s;
  }

  void CreateAll() {
    const WallTime t0 = env.clock.Now();
    for (const EventSpec& spec : Specs()) {
      if (spec.new_api) {
        eventsv1::Event e;
        e.mutable_metadata()->set_name(spec.name);
        e.set_reason("Test");
        if (spec.last_timestamp) api::SetTime(e.mutable_deprecatedlasttimestamp(), t0 + *spec.last_timestamp);
        if (spec.event_time) SetMicro(e.mutable_eventtime(), t0 + *spec.event_time);
        if (spec.series_last_observed) SetMicro(e.mutable_series()->mutable_lastobservedtime(), t0 + *spec.series_last_observed);
        env.Create(e);
      } else {
        corev1::Event e;
        e.mutable_metadata()->set_name(spec.name);
        e.set_reason("Test");
        if (spec.last_timestamp) api::SetTime(e.mutable_lasttimestamp(), t0 + *spec.last_timestamp);
        if (spec.event_time) SetMicro(e.mutable_eventtime(), t0 + *spec.event_time);
        if (spec.series_last_observed) SetMicro(e.mutable_series()->mutable_lastobservedtime(), t0 + *spec.series_last_observed);
        env.Create(e);
      }
    }
  }

  bool Exists(const EventSpec& spec) {
    const client::ResourceInfo& r =
        spec.new_api ? ResourceOf(eventsv1::Event::descriptor()) : ResourceOf(corev1::Event::descriptor());
    return env.api.Get(r, "default", spec.name).ok();
  }
  // Every event due by `step` is gone and every other one is still there.
  bool MatchesStep(int step, std::string* why) {
    for (const EventSpec& spec : Specs()) {
      bool want_gone = spec.gone_after_step <= step;
      if (Exists(spec) == want_gone) {
        *why = spec.name + (want_gone ? " still exists" : " was deleted") + " at step " + std::to_string(step);
        return false;
      }
    }
    return true;
  }
  // Waits until the controller has nothing due: every event is in its informer and no key is
  // queued or being processed (delayed keys wait for the clock).
  void WaitSettled(EventTtlController& c) {
    ASSERT_TRUE(WaitFor([&] {
      size_t in_api = env.api.Objects(ResourceOf(corev1::Event::descriptor())).size() +
                      env.api.Objects(ResourceOf(eventsv1::Event::descriptor())).size();
      size_t cached = 0;
      for (auto* informer : c.Informers()) cached += informer->GetIndexer().size();
      return in_api == cached && c.queue().Len() == 0;
    }));
  }

  testing::ControllerTestEnv env{Settings()};
};

TEST_F(EventTtlTest, DeletesEachEventATtlAfterItsLastOccurrence) {
  CreateAll();
  EventTtlController c(env.context);
  env.Start(c);
  std::string why;
  ASSERT_TRUE(WaitFor([&] { return MatchesStep(0, &why); })) << why;
  WaitSettled(c);
  EXPECT_TRUE(MatchesStep(0, &why)) << why;

  env.clock.Advance(55min);
  ASSERT_TRUE(WaitFor([&] { return MatchesStep(1, &why); })) << why;
  WaitSettled(c);
  EXPECT_TRUE(MatchesStep(1, &why)) << why;

  env.clock.Advance(6min);
  ASSERT_TRUE(WaitFor([&] { return MatchesStep(2, &why); })) << why;
}

TEST_F(EventTtlTest, ARecurringEventLivesOnFromItsLastOccurrence) {
  const WallTime t0 = env.clock.Now();
  corev1::Event e;
  e.mutable_metadata()->set_name("backoff");
  e.set_reason("BackOff");
  e.set_count(1);
  api::SetTime(e.mutable_lasttimestamp(), t0 - 50min);
  corev1::Event created = env.Create(e);
  EventTtlController c(env.context);
  env.Start(c);
  WaitSettled(c);

  // It recurs 5 minutes later (before it expires at +10 min): the recorder bumps count and
  // lastTimestamp, so it now expires at +65 min.
  env.clock.Advance(5min);
  corev1::Event recurred = created;
  recurred.set_count(2);
  api::SetTime(recurred.mutable_lasttimestamp(), env.clock.Now());
  ASSERT_TRUE(env.api.Update(ResourceOf(corev1::Event::descriptor()), "default", recurred).ok());
  WaitSettled(c);

  // Past the first occurrence's expiry, not the second's.
  env.clock.Advance(35min);
  WaitSettled(c);
  EXPECT_TRUE(env.Get<corev1::Event>("default", "backoff").ok());
  env.clock.Advance(26min);
  EXPECT_TRUE(WaitFor([&] { return !env.Get<corev1::Event>("default", "backoff").ok(); }));
}

TEST(EventTtlExpiryTest, LastOccurrenceWinsAndCreationIsTheFallback) {
  const WallTime t0 = FakeClock().Now();
  corev1::Event e;
  api::SetTime(e.mutable_metadata()->mutable_creationtimestamp(), t0 - 3h);
  api::SetTime(e.mutable_lasttimestamp(), t0 - 2h);
  EXPECT_EQ(EventTtlController::ExpiryOf(e, 1h), t0 - 1h);
  SetMicro(e.mutable_eventtime(), t0);
  EXPECT_EQ(EventTtlController::ExpiryOf(e, 1h), t0 + 1h);
  corev1::Event bare;
  api::SetTime(bare.mutable_metadata()->mutable_creationtimestamp(), t0 - 3h);
  EXPECT_EQ(EventTtlController::ExpiryOf(bare, 1h), t0 - 2h);
  eventsv1::Event n;
  api::SetTime(n.mutable_metadata()->mutable_creationtimestamp(), t0);
  SetMicro(n.mutable_series()->mutable_lastobservedtime(), t0 - 20min);
  EXPECT_EQ(EventTtlController::ExpiryOf(n, 1h), t0 + 40min);
}

}  // namespace
}  // namespace ck::controller_manager
