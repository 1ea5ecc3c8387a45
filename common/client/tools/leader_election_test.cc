#include "common/client/tools/leader_election.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>

#include "common/api/object.h"
#include "common/client/testing/fake_api.h"
#include "common/client/testing/settle_clock.h"

namespace ck::client {

// Readable test names in gtest's failure output.
void PrintTo(const LeaderElectionTimings& t, std::ostream* os) {
  using Ms = std::chrono::milliseconds;
  *os << std::chrono::duration_cast<Ms>(t.lease_duration).count() << "ms/"
      << std::chrono::duration_cast<Ms>(t.renew_deadline).count() << "ms/"
      << std::chrono::duration_cast<Ms>(t.retry_period).count() << "ms";
}

namespace {

namespace coordv1 = ::k8s::io::api::coordination::v1;
using std::chrono::milliseconds;
using std::chrono::seconds;

const ResourceInfo& Leases() { return *api::FindResource("coordination.k8s.io", "v1", "leases"); }

WallTime WallOf(const k8s::io::apimachinery::pkg::apis::meta::v1::MicroTime& t) {
  return WallTime(std::chrono::duration_cast<WallTime::duration>(seconds(t.seconds()) +
                                                                 std::chrono::nanoseconds(t.nanos())));
}

// One process campaigning: its elector on its own thread, and what its callbacks saw.
struct Candidate {
  std::string id;
  metrics::Registry registry;
  std::unique_ptr<LeaderElector> elector;
  std::thread thread;
  std::atomic<bool> running{false};
  std::atomic<bool> leading{false};
  std::mutex mu;
  std::optional<WallTime> started_at;    // guarded by mu
  std::optional<WallTime> stopped_at;    // guarded by mu
  std::vector<std::string> new_leaders;  // guarded by mu
  std::function<void()> on_stopped_extra;

  void Start() {
    running = true;
    thread = std::thread([this] {
      elector->Run();
      running = false;
    });
  }
  void StopAndJoin() {
    if (elector) elector->Stop();
    if (thread.joinable()) thread.join();
  }
  std::optional<WallTime> started() {
    std::lock_guard lock(mu);
    return started_at;
  }
  std::optional<WallTime> stopped() {
    std::lock_guard lock(mu);
    return stopped_at;
  }
  double Metric() {
    return registry.GaugeFamily("leader_election_master_status", "", {"name"})
        .With({"kube-scheduler"})
        .Value();
  }
};

class LeaderElectionTest : public ::testing::TestWithParam<LeaderElectionTimings> {
 protected:
  ~LeaderElectionTest() override {
    for (auto& c : candidates_) c->StopAndJoin();
  }

  const LeaderElectionTimings& timings() const { return GetParam(); }
  Duration step() const { return timings().retry_period / 20; }

  LeaderElectionConfig Config(const std::string& id, Candidate* c) {
    LeaderElectionConfig config;
    config.lease_namespace = "kube-system";
    config.lease_name = "kube-scheduler";
    config.identity = id;
    config.timings = timings();
    config.callbacks.on_started_leading = [this, c] {
      std::lock_guard lock(c->mu);
      c->started_at = fake_.Now();
      c->leading = true;
    };
    config.callbacks.on_stopped_leading = [this, c] {
      if (c->on_stopped_extra) c->on_stopped_extra();
      std::lock_guard lock(c->mu);
      c->stopped_at = fake_.Now();
      c->leading = false;
    };
    config.callbacks.on_new_leader = [c](const std::string& holder) {
      std::lock_guard lock(c->mu);
      c->new_leaders.push_back(holder);
    };
    return config;
  }

  Candidate& Add(const std::string& id, bool release_on_cancel = false) {
    candidates_.push_back(std::make_unique<Candidate>());
    Candidate& c = *candidates_.back();
    c.id = id;
    LeaderElectionConfig config = Config(id, &c);
    config.release_on_cancel = release_on_cancel;
    auto elector = LeaderElector::Create(api_, clock_, config, random_, c.registry);
    EXPECT_TRUE(elector.ok()) << elector.status().ToString();
    c.elector = std::move(*elector);
    return c;
  }

  int Running() const {
    int n = 0;
    for (const auto& c : candidates_) n += c->running ? 1 : 0;
    return n;
  }
  void Settle() {
    ASSERT_TRUE(clock_.WaitSettled([this] { return Running(); })) << "workers did not settle";
  }

  // Advances the clock one step at a time (letting every elector react in between) until `done`
  // holds or `limit` passes; `invariant` is checked after every step. Returns whether done held.
  bool StepUntil(
      const std::function<bool()>& done, Duration limit, const std::function<void()>& invariant = [] {}) {
    MonoTime end = fake_.Monotonic() + limit;
    while (!done()) {
      if (fake_.Monotonic() >= end) return false;
      clock_.Advance(step());
      if (!clock_.WaitSettled([this] { return Running(); })) {
        ADD_FAILURE() << "workers did not settle";
        return false;
      }
      invariant();
      if (::testing::Test::HasFailure()) return false;
    }
    return true;
  }

  coordv1::Lease Lease() {
    Result<ObjectPtr> o = api_.Get(Leases(), "kube-system", "kube-scheduler");
    EXPECT_TRUE(o.ok()) << o.status().ToString();
    return o.ok() ? static_cast<const coordv1::Lease&>(**o) : coordv1::Lease();
  }

  // A lease held by `holder`, renewed long ago by the wall clock.
  void SeedLease(const std::string& holder, int32_t transitions) {
    coordv1::Lease lease;
    lease.mutable_metadata()->set_name("kube-scheduler");
    lease.mutable_spec()->set_holderidentity(holder);
    lease.mutable_spec()->set_leasedurationseconds(
        static_cast<int32_t>(std::chrono::duration_cast<seconds>(timings().lease_duration).count()));
    lease.mutable_spec()->mutable_renewtime()->set_seconds(
        std::chrono::duration_cast<seconds>((fake_.Now() - std::chrono::hours(1)).time_since_epoch())
            .count());
    lease.mutable_spec()->set_leasetransitions(transitions);
    ASSERT_TRUE(api_.Create(Leases(), "kube-system", lease).ok());
  }

  FakeClock fake_;
  SettleClock clock_{fake_};
  FakeApi api_{fake_};
  FakeRandom random_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
};

INSTANTIATE_TEST_SUITE_P(Profiles, LeaderElectionTest,
                         ::testing::Values(LeaderElectionTimings::Default(),
                                           LeaderElectionTimings::Teaching()),
                         [](const ::testing::TestParamInfo<LeaderElectionTimings>& info) {
                           return info.param.lease_duration == seconds(15) ? std::string("Default")
                                                                           : std::string("Teaching");
                         });

TEST_P(LeaderElectionTest, ValidatesTimingsAndConfig) {
  Candidate c;
  LeaderElectionConfig config = Config("a", &c);
  auto with = [&](auto change) {
    LeaderElectionConfig copy = config;
    change(copy);
    return LeaderElector::Create(api_, clock_, copy, random_, c.registry).status();
  };
  EXPECT_EQ(with([](auto& x) { x.timings.renew_deadline = x.timings.lease_duration; }),
            Invalid("leaseDuration must be greater than renewDeadline"));
  EXPECT_EQ(with([](auto& x) { x.timings.retry_period = x.timings.renew_deadline; }),
            Invalid("renewDeadline must be greater than retryPeriod*JitterFactor"));
  EXPECT_EQ(with([](auto& x) { x.timings.lease_duration += milliseconds(500); }),
            Invalid("leaseDuration must be a whole number of seconds"));
  EXPECT_EQ(with([](auto& x) { x.identity.clear(); }), Invalid("Lock identity is empty"));
  EXPECT_EQ(with([](auto& x) { x.callbacks.on_started_leading = nullptr; }),
            Invalid("OnStartedLeading callback must not be nil"));
  EXPECT_TRUE(with([](auto&) {}).ok());
}

TEST_P(LeaderElectionTest, FirstCandidateCreatesTheLeaseAndRenewsIt) {
  Candidate& a = Add("a");
  WallTime t0 = fake_.Now();
  a.Start();
  Settle();
  ASSERT_TRUE(a.leading);
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_EQ(a.elector->GetLeader(), "a");
  EXPECT_EQ(a.Metric(), 1);
  coordv1::Lease lease = Lease();
  EXPECT_EQ(lease.spec().holderidentity(), "a");
  EXPECT_EQ(lease.spec().leasedurationseconds(),
            std::chrono::duration_cast<seconds>(timings().lease_duration).count());
  EXPECT_EQ(lease.spec().leasetransitions(), 0);
  EXPECT_EQ(WallOf(lease.spec().acquiretime()), t0);
  EXPECT_EQ(WallOf(lease.spec().renewtime()), t0);

  // One retry period later it has renewed; acquireTime stays.
  ASSERT_TRUE(StepUntil([&] { return WallOf(Lease().spec().renewtime()) > t0; }, timings().retry_period * 2));
  lease = Lease();
  EXPECT_EQ(WallOf(lease.spec().renewtime()), t0 + timings().retry_period);
  EXPECT_EQ(WallOf(lease.spec().acquiretime()), t0);
  EXPECT_EQ(lease.spec().holderidentity(), "a");
  std::lock_guard lock(a.mu);
  EXPECT_EQ(a.new_leaders, std::vector<std::string>{"a"});
}

// Rule (a) and rule (b) in one hand-over: the leader's renewals fail; it stops acting at its renew
// deadline; the waiting candidate takes over only a full lease duration after it last saw a
// renewal, so the two never act at the same time.
TEST_P(LeaderElectionTest, HandOverWhenTheLeaderCannotRenew) {
  Candidate& a = Add("a");
  a.Start();
  Settle();
  ASSERT_TRUE(a.leading);
  Candidate& b = Add("b");
  b.Start();
  Settle();
  EXPECT_FALSE(b.leading);
  EXPECT_EQ(b.elector->GetLeader(), "a");

  api_.FailNext(FakeApi::Verb::kUpdate, Unavailable("apiserver unreachable"), 100000);
  ASSERT_TRUE(StepUntil([&] { return a.stopped().has_value(); }, timings().lease_duration,
                        [&] { EXPECT_FALSE(b.leading) << "two leaders"; }));
  const WallTime last_renew = WallOf(Lease().spec().renewtime());
  // (a): stopped no later than RenewDeadline after the last successful renew (one step of slack
  // for the stepping), so strictly before the lease can expire for anyone.
  EXPECT_LE(*a.stopped() - last_renew, timings().renew_deadline + step());
  EXPECT_GE(*a.stopped() - last_renew, timings().renew_deadline);
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.Metric(), 0);

  api_.ClearFailures();
  ASSERT_TRUE(StepUntil([&] { return b.leading.load(); }, timings().lease_duration * 2));
  // (b): the candidate saw that renewal no earlier than it was written, and waited a lease duration.
  EXPECT_GE(*b.started() - last_renew, timings().lease_duration);
  EXPECT_LT(*a.stopped(), *b.started());
  coordv1::Lease lease = Lease();
  EXPECT_EQ(lease.spec().holderidentity(), "b");
  EXPECT_EQ(lease.spec().leasetransitions(), 1);
  EXPECT_EQ(WallOf(lease.spec().acquiretime()), *b.started());
  EXPECT_EQ(b.Metric(), 1);
  std::lock_guard lock(b.mu);
  EXPECT_EQ(b.new_leaders, (std::vector<std::string>{"a", "b"}));
}

// Rule (b): a stale renewTime in the object does not shorten the wait; the candidate counts from
// when it first saw the record on its own clock.
TEST_P(LeaderElectionTest, NewCandidateWaitsALeaseDurationFromItsOwnObservation) {
  SeedLease("old", 4);  // renewTime an hour ago
  const MonoTime t0 = fake_.Monotonic();
  Candidate& b = Add("b");
  b.Start();
  Settle();
  ASSERT_FALSE(b.leading);
  ASSERT_TRUE(StepUntil([&] { return b.leading.load(); }, timings().lease_duration * 2,
                        [&] {
                          if (fake_.Monotonic() < t0 + timings().lease_duration) {
                            EXPECT_FALSE(b.leading) << "acted before expiry";
                          }
                        }));
  coordv1::Lease lease = Lease();
  EXPECT_EQ(lease.spec().holderidentity(), "b");
  EXPECT_EQ(lease.spec().leasetransitions(), 5);
}

TEST_P(LeaderElectionTest, ASeenRenewalRestartsTheCandidatesWait) {
  SeedLease("old", 0);
  const MonoTime t0 = fake_.Monotonic();
  Candidate& b = Add("b");
  b.Start();
  Settle();
  // The old holder renews shortly before the lease would expire.
  const Duration before_expiry = timings().lease_duration - timings().retry_period * 3;
  ASSERT_FALSE(StepUntil([&] { return b.leading.load(); }, before_expiry));
  coordv1::Lease renewed = Lease();
  renewed.mutable_spec()->mutable_renewtime()->set_seconds(renewed.spec().renewtime().seconds() + 1);
  ASSERT_TRUE(api_.Update(Leases(), "kube-system", renewed).ok());
  const MonoTime renewed_at = fake_.Monotonic();
  ASSERT_TRUE(StepUntil([&] { return b.leading.load(); }, timings().lease_duration * 2,
                        [&] {
                          if (fake_.Monotonic() < renewed_at + timings().lease_duration) {
                            EXPECT_FALSE(b.leading) << "acted before expiry";
                          }
                        }));
  EXPECT_GT(fake_.Monotonic(), t0 + timings().lease_duration);
}

TEST_P(LeaderElectionTest, ReleaseOnCancelHandsOverWithoutWaiting) {
  Candidate& a = Add("a", /*release_on_cancel=*/true);
  a.Start();
  Settle();
  ASSERT_TRUE(a.leading);
  Candidate& b = Add("b");
  b.Start();
  Settle();
  std::string holder_while_stopping;
  a.on_stopped_extra = [&] { holder_while_stopping = Lease().spec().holderidentity(); };
  const WallTime stop_at = fake_.Now();
  a.StopAndJoin();
  EXPECT_EQ(holder_while_stopping, "a");  // stopped acting before releasing
  coordv1::Lease released = Lease();
  EXPECT_EQ(released.spec().holderidentity(), "");
  EXPECT_EQ(released.spec().leasedurationseconds(), 1);
  EXPECT_EQ(*a.stopped(), stop_at);

  // The successor takes it at its next attempt, not a lease duration later.
  const auto next_attempt =
      std::chrono::duration_cast<Duration>(timings().retry_period * (1 + LeaderElector::kJitterFactor));
  ASSERT_TRUE(StepUntil([&] { return b.leading.load(); }, next_attempt));
  EXPECT_EQ(Lease().spec().holderidentity(), "b");
  EXPECT_EQ(Lease().spec().leasetransitions(), 1);
}

TEST_P(LeaderElectionTest, CancelWithoutReleaseLeavesTheLeaseToExpire) {
  Candidate& a = Add("a");
  a.Start();
  Settle();
  Candidate& b = Add("b");
  b.Start();
  Settle();
  a.StopAndJoin();
  EXPECT_EQ(Lease().spec().holderidentity(), "a");
  const WallTime last_renew = WallOf(Lease().spec().renewtime());
  ASSERT_TRUE(StepUntil([&] { return b.leading.load(); }, timings().lease_duration * 2));
  EXPECT_GE(*b.started() - last_renew, timings().lease_duration);
}

// Two candidates race for an expired lease: the loser's write carries a stale resourceVersion,
// gets 409, and it stays a candidate behind the winner.
TEST_P(LeaderElectionTest, ConflictMeansSomeoneElseWon) {
  SeedLease("old", 0);
  std::atomic<bool> raced{false};
  api_.SetRequestHook([&](const FakeApi::Request& r) {
    if (r.verb == FakeApi::Verb::kUpdate && r.resource == "leases.coordination.k8s.io" &&
        !raced.exchange(true)) {
      // "c" writes first.
      coordv1::Lease lease = Lease();
      lease.mutable_spec()->set_holderidentity("c");
      lease.mutable_spec()->set_leasetransitions(1);
      EXPECT_TRUE(api_.Update(Leases(), "kube-system", lease).ok());
    }
    return Status::Ok();
  });
  Candidate& b = Add("b");
  b.Start();
  Settle();
  ASSERT_FALSE(
      StepUntil([&] { return b.leading.load(); }, timings().lease_duration + timings().retry_period * 6));
  EXPECT_TRUE(raced);
  EXPECT_EQ(api_.Calls(FakeApi::Verb::kUpdate, "leases.coordination.k8s.io"), 2);  // c's and b's
  EXPECT_EQ(Lease().spec().holderidentity(), "c");
  EXPECT_EQ(b.elector->GetLeader(), "c");
  std::lock_guard lock(b.mu);
  EXPECT_EQ(b.new_leaders, (std::vector<std::string>{"old", "c"}));
}

// A leader that finds its lease taken (409 on renew, then another holder) stops at once instead of
// waiting for its renew deadline.
TEST_P(LeaderElectionTest, LeaderStopsAtOnceWhenTheLeaseIsTaken) {
  Candidate& a = Add("a");
  a.Start();
  Settle();
  ASSERT_TRUE(a.leading);
  coordv1::Lease stolen = Lease();
  stolen.mutable_spec()->set_holderidentity("x");
  ASSERT_TRUE(api_.Update(Leases(), "kube-system", stolen).ok());
  const WallTime taken_at = fake_.Now();
  ASSERT_TRUE(StepUntil([&] { return a.stopped().has_value(); }, timings().renew_deadline));
  EXPECT_LE(*a.stopped() - taken_at, timings().retry_period + step());
  EXPECT_EQ(a.elector->GetLeader(), "x");
  EXPECT_EQ(Lease().spec().holderidentity(), "x");
}

// Rule (a) does not depend on the renew call returning: IsLeader() turns false at the deadline
// while the call hangs, and the leader stops when it returns, even if the write went through.
TEST_P(LeaderElectionTest, IsLeaderTurnsFalseAtTheDeadlineWhileARenewHangs) {
  std::atomic<bool> hang{false};
  std::atomic<bool> hanging{false};
  std::mutex gate_mu;
  std::condition_variable gate;
  bool open = false;
  api_.SetRequestHook([&](const FakeApi::Request& r) {
    if (r.verb == FakeApi::Verb::kUpdate && hang) {
      hanging = true;
      std::unique_lock lock(gate_mu);
      gate.wait(lock, [&] { return open; });
    }
    return Status::Ok();
  });
  Candidate& a = Add("a");
  a.Start();
  Settle();
  ASSERT_TRUE(a.leading);
  const MonoTime acquired = fake_.Monotonic();
  hang = true;
  clock_.Advance(timings().retry_period);
  auto deadline = std::chrono::steady_clock::now() + seconds(20);
  while (!hanging && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_TRUE(hanging);
  EXPECT_TRUE(a.elector->IsLeader());
  clock_.Advance(acquired + timings().renew_deadline - fake_.Monotonic());
  EXPECT_FALSE(a.elector->IsLeader());
  {
    std::lock_guard lock(gate_mu);
    open = true;
  }
  gate.notify_all();
  Settle();
  EXPECT_TRUE(a.stopped().has_value());
  EXPECT_FALSE(a.running);
}

}  // namespace
}  // namespace ck::client
