#include "common/client/tools/event_recorder.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <thread>

#include "common/api/object.h"
#include "common/api/testing/builders.h"
#include "common/client/testing/fake_api.h"

namespace ck::client {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
using api::testing::MakeNode;
using api::testing::MakePod;
using std::chrono::minutes;
using std::chrono::seconds;

const ResourceInfo& Events() { return *api::FindResource("", "v1", "events"); }
const ResourceInfo& Pods() { return *api::FindResource("", "v1", "pods"); }

template <typename F>
bool WaitFor(F cond) {
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (!cond()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class EventRecorderTest : public ::testing::Test {
 protected:
  EventRecorderTest() { broadcaster_.Start(); }

  ObjectPtr Pod(const std::string& name) {
    Result<ObjectPtr> pod = api_.Create(Pods(), "shop", MakePod(name).Namespace("shop").Obj());
    EXPECT_TRUE(pod.ok());
    return *pod;
  }
  void WaitProcessed(int64_t n) {
    ASSERT_TRUE(WaitFor([&] { return broadcaster_.stats().processed >= n; }))
        << "processed " << broadcaster_.stats().processed << " of " << n;
  }
  std::vector<corev1::Event> StoredEvents(const std::string& ns) {
    std::vector<corev1::Event> out;
    Result<ObjectList> list = api_.List(Events(), ns);
    EXPECT_TRUE(list.ok());
    for (const ObjectPtr& o : list->items) out.push_back(static_cast<const corev1::Event&>(*o));
    return out;
  }

  FakeClock clock_;
  FakeApi api_{clock_};
  FakeRandom random_;
  EventBroadcaster broadcaster_{api_, clock_, {}, random_};
  EventRecorder recorder_ = broadcaster_.NewRecorder({"default-scheduler", "node-1"});
};

TEST_F(EventRecorderTest, WritesACoreV1EventAboutTheObject) {
  ObjectPtr pod = Pod("web");
  const WallTime t0 = clock_.Now();
  recorder_.Event(*pod, kEventNormal, "Scheduled", "Successfully assigned shop/web to node-1");
  Result<ObjectPtr> node = api_.Create(*api::FindResource("", "v1", "nodes"), "", MakeNode("node-1").Obj());
  recorder_.Event(**node, kEventWarning, "NodeNotReady", "Node node-1 status is now: NodeNotReady");
  WaitProcessed(2);

  std::vector<corev1::Event> events = StoredEvents("shop");
  ASSERT_EQ(events.size(), 1u);
  const corev1::Event& e = events[0];
  EXPECT_EQ(e.metadata().name().rfind("web.", 0), 0u);
  EXPECT_GT(e.metadata().name().size(), 4u);
  EXPECT_EQ(e.metadata().name().find_first_not_of("0123456789abcdef", 4), std::string::npos);
  EXPECT_EQ(e.involvedobject().kind(), "Pod");
  EXPECT_EQ(e.involvedobject().apiversion(), "v1");
  EXPECT_EQ(e.involvedobject().namespace_(), "shop");
  EXPECT_EQ(e.involvedobject().name(), "web");
  EXPECT_EQ(e.involvedobject().uid(), static_cast<const corev1::Pod&>(*pod).metadata().uid());
  EXPECT_EQ(e.type(), "Normal");
  EXPECT_EQ(e.reason(), "Scheduled");
  EXPECT_EQ(e.message(), "Successfully assigned shop/web to node-1");
  EXPECT_EQ(e.source().component(), "default-scheduler");
  EXPECT_EQ(e.source().host(), "node-1");
  EXPECT_EQ(e.reportingcomponent(), "default-scheduler");
  EXPECT_EQ(e.reportinginstance(), "node-1");
  EXPECT_EQ(e.count(), 1);
  EXPECT_EQ(api::WallTimeOf(e.firsttimestamp()), t0);
  EXPECT_EQ(api::WallTimeOf(e.lasttimestamp()), t0);

  // Events about cluster-scoped objects go to "default".
  std::vector<corev1::Event> defaults = StoredEvents("default");
  ASSERT_EQ(defaults.size(), 1u);
  EXPECT_EQ(defaults[0].involvedobject().kind(), "Node");
  EXPECT_EQ(defaults[0].type(), "Warning");
  EXPECT_EQ(broadcaster_.stats().created, 2);
}

TEST_F(EventRecorderTest, IdenticalEventsBecomeOneEventWithACount) {
  ObjectPtr pod = Pod("web");
  const WallTime t0 = clock_.Now();
  for (int i = 0; i < 3; ++i) {
    recorder_.Event(*pod, kEventWarning, "BackOff", "Back-off restarting failed container");
    clock_.Advance(seconds(5));
  }
  WaitProcessed(3);
  std::vector<corev1::Event> events = StoredEvents("shop");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count(), 3);
  EXPECT_EQ(api::WallTimeOf(events[0].firsttimestamp()), t0);
  EXPECT_EQ(api::WallTimeOf(events[0].lasttimestamp()), t0 + seconds(10));
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreate, "events"), 1);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kPatch, "events"), 2);
  EXPECT_EQ(broadcaster_.stats().patched, 2);
}

TEST_F(EventRecorderTest, SimilarEventsWithDifferentMessagesAreCombined) {
  ObjectPtr pod = Pod("web");
  for (int i = 1; i <= 12; ++i) {
    recorder_.Event(*pod, kEventWarning, "FailedScheduling",
                    "0/3 nodes are available: attempt " + std::to_string(i));
  }
  WaitProcessed(12);
  std::vector<corev1::Event> events = StoredEvents("shop");
  // Nine events of their own, then one combined event for the 10th, 11th and 12th.
  ASSERT_EQ(events.size(), 10u);
  int combined = 0;
  for (const corev1::Event& e : events) {
    if (e.message().rfind(EventCorrelator::kCombinedPrefix, 0) != 0) {
      EXPECT_EQ(e.count(), 1);
      continue;
    }
    ++combined;
    EXPECT_EQ(e.message(), "(combined from similar events): 0/3 nodes are available: attempt 12");
    EXPECT_EQ(e.count(), 3);
    EXPECT_EQ(e.reason(), "FailedScheduling");
  }
  EXPECT_EQ(combined, 1);

  // After the 10-minute window a message is its own event again.
  clock_.Advance(minutes(11));
  recorder_.Event(*pod, kEventWarning, "FailedScheduling", "0/3 nodes are available: later");
  WaitProcessed(13);
  events = StoredEvents("shop");
  ASSERT_EQ(events.size(), 11u);
  bool found = false;
  for (const corev1::Event& e : events) found = found || e.message() == "0/3 nodes are available: later";
  EXPECT_TRUE(found);
}

TEST_F(EventRecorderTest, SpamFilterAllows25PerObjectThenOneEveryFiveMinutes) {
  ObjectPtr web = Pod("web");
  ObjectPtr db = Pod("db");
  for (int i = 1; i <= 30; ++i) recorder_.Event(*web, kEventNormal, "Reason" + std::to_string(i), "message");
  WaitProcessed(30);
  EXPECT_EQ(broadcaster_.stats().created, 25);
  EXPECT_EQ(broadcaster_.stats().skipped, 5);
  // Another object has its own bucket.
  recorder_.Event(*db, kEventNormal, "Started", "message");
  WaitProcessed(31);
  EXPECT_EQ(broadcaster_.stats().created, 26);

  clock_.Advance(minutes(5));
  recorder_.Event(*web, kEventNormal, "Again1", "message");
  recorder_.Event(*web, kEventNormal, "Again2", "message");
  WaitProcessed(33);
  EXPECT_EQ(broadcaster_.stats().created, 27);
  EXPECT_EQ(broadcaster_.stats().skipped, 6);
  EXPECT_EQ(StoredEvents("shop").size(), 27u);
}

TEST_F(EventRecorderTest, RecordingNeverBlocksAndDropsWhenTheQueueIsFull) {
  EventBroadcasterOptions options;
  options.queue_size = 10;
  EventBroadcaster small(api_, clock_, options, random_);
  small.Start();
  EventRecorder recorder = small.NewRecorder({"kubelet", "node-1"});

  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<bool> entered{false};
  api_.SetRequestHook([&](const FakeApi::Request& r) {
    if (r.resource == "events") {
      entered = true;
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return open; });
    }
    return Status::Ok();
  });
  ObjectPtr pod = Pod("web");
  recorder.Event(*pod, kEventNormal, "Pulling", "first");  // taken by the sender, which then hangs
  ASSERT_TRUE(WaitFor([&] { return entered.load(); }));

  auto burst = std::async(std::launch::async, [&] {
    for (int i = 0; i < 15; ++i) recorder.Event(*pod, kEventNormal, "Reason" + std::to_string(i), "m");
  });
  ASSERT_EQ(burst.wait_for(seconds(20)), std::future_status::ready) << "Event() blocked";
  EXPECT_EQ(small.stats().queued, 11);
  EXPECT_EQ(small.stats().dropped, 5);

  {
    std::lock_guard lock(mu);
    open = true;
  }
  cv.notify_all();
  ASSERT_TRUE(WaitFor([&] { return small.stats().processed == 11; }));
  EXPECT_EQ(small.stats().created, 11);
  small.Shutdown();
  api_.SetRequestHook(nullptr);
}

TEST_F(EventRecorderTest, TransportErrorsAreRetriedOnTheClockServerAnswersAreNot) {
  ObjectPtr pod = Pod("web");
  api_.FailNext(FakeApi::Verb::kCreate, Unavailable("connection refused"), 2, "events");
  recorder_.Event(*pod, kEventNormal, "Pulled", "Container image pulled");
  // First failure, then a jittered wait of at most the retry interval.
  ASSERT_TRUE(
      WaitFor([&] { return api_.Calls(FakeApi::Verb::kCreate, "events") == 1 && clock_.sleepers() == 1; }));
  clock_.Advance(seconds(10));
  ASSERT_TRUE(
      WaitFor([&] { return api_.Calls(FakeApi::Verb::kCreate, "events") == 2 && clock_.sleepers() == 1; }));
  EXPECT_EQ(broadcaster_.stats().processed, 0);
  clock_.Advance(seconds(10));
  WaitProcessed(1);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreate, "events"), 3);
  EXPECT_EQ(broadcaster_.stats().created, 1);
  EXPECT_EQ(StoredEvents("shop").size(), 1u);

  api_.FailNext(FakeApi::Verb::kCreate, Forbidden("events is forbidden"), 1, "events");
  recorder_.Event(*pod, kEventNormal, "Created", "Created container main");
  WaitProcessed(2);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreate, "events"), 4);
  EXPECT_EQ(broadcaster_.stats().failed, 1);
}

TEST_F(EventRecorderTest, AnEventGoneFromTheServerIsCreatedAgain) {
  ObjectPtr pod = Pod("web");
  recorder_.Event(*pod, kEventWarning, "Unhealthy", "Readiness probe failed");
  WaitProcessed(1);
  std::vector<corev1::Event> events = StoredEvents("shop");
  ASSERT_EQ(events.size(), 1u);
  // The event TTL removed it.
  ASSERT_TRUE(api_.Delete(Events(), "shop", events[0].metadata().name()).ok());
  recorder_.Event(*pod, kEventWarning, "Unhealthy", "Readiness probe failed");
  WaitProcessed(2);
  events = StoredEvents("shop");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count(), 2);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kPatch, "events"), 1);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kCreate, "events"), 2);
}

TEST_F(EventRecorderTest, InvalidTypeIsDropped) {
  ObjectPtr pod = Pod("web");
  recorder_.Event(*pod, "Bogus", "Reason", "message");
  EXPECT_EQ(broadcaster_.stats().dropped, 1);
  EXPECT_EQ(broadcaster_.stats().queued, 0);
  Result<corev1::ObjectReference> ref = EventRecorder::ReferenceTo(k8s::io::api::core::v1::PodSpec());
  EXPECT_EQ(ref.status().code(), Code::kBadRequest);
}

TEST(EventCorrelatorTest, KeysFollowUpstream) {
  corev1::Event e;
  e.mutable_source()->set_component("kubelet");
  e.mutable_involvedobject()->set_name("web");
  e.mutable_involvedobject()->set_fieldpath("spec.containers{main}");
  e.set_reason("BackOff");
  e.set_message("m");
  corev1::Event other = e;
  other.set_message("n");
  EXPECT_NE(EventKey(e), EventKey(other));
  EXPECT_EQ(AggregateKey(e), AggregateKey(other));
  EXPECT_EQ(SpamKey(e), SpamKey(other));
  other.set_reason("Pulled");
  EXPECT_NE(AggregateKey(e), AggregateKey(other));
  EXPECT_EQ(SpamKey(e), SpamKey(other));

  FakeClock clock;
  EXPECT_NE(NewEventName("web", clock.Now()), NewEventName("web", clock.Now()));
}

}  // namespace
}  // namespace ck::client
