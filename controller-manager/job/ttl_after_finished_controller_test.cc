// TtlAfterFinishedController on FakeApi and a fake clock: which Jobs expire when (a table), the
// fresh read before deleting, the delete's uid precondition and propagation, and the timer the
// workers wait on.
#include "controller-manager/job/ttl_after_finished_controller.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "common/api/object.h"
#include "common/client/cache/cache_test_util.h"
#include "controller-manager/job/job_util.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

using namespace std::chrono_literals;
using client::FakeApi;
using client::testing::WaitFor;

const client::ResourceInfo& Jobs() {
  return client::SharedInformerFactory::ResourceOfMessage(batchv1::Job::descriptor()->full_name());
}

// A Job named `name` that finished (`condition` True) at `finished`, with `ttl` when set.
batchv1::Job FinishedJob(const std::string& name, std::optional<int32_t> ttl, std::string condition,
                         std::optional<WallTime> finished) {
  batchv1::Job job;
  job.mutable_metadata()->set_name(name);
  job.mutable_metadata()->set_namespace_("default");
  if (ttl) job.mutable_spec()->set_ttlsecondsafterfinished(*ttl);
  if (!condition.empty()) {
    auto* c = job.mutable_status()->add_conditions();
    c->set_type(condition);
    c->set_status("True");
    if (finished) *c->mutable_lasttransitiontime() = api::MakeTime(*finished);
  }
  return job;
}

bool Deleting(testing::ControllerTestEnv& env, const std::string& name) {
  Result<batchv1::Job> job = env.Get<batchv1::Job>("default", name);
  return !job.ok() || job->metadata().has_deletiontimestamp();
}

TEST(TtlAfterFinishedTest, DeletesExactlyWhenTheTtlExpires) {
  struct Case {
    std::string name;
    std::optional<int32_t> ttl;
    std::string condition;  // "" = not finished
    Duration finished_ago;
    bool deleted;
  };
  const std::vector<Case> cases = {
      {"complete-expired", 100, "Complete", 100s, true},
      {"complete-one-second-left", 100, "Complete", 99s, false},
      {"failed-expired", 10, "Failed", 11s, true},
      {"zero-ttl", 0, "Complete", 0s, true},
      {"no-ttl", std::nullopt, "Complete", 1000s, false},
      {"running", 0, "", 1000s, false},
      {"suspended-not-finished", 0, "Suspended", 1000s, false},
      {"finished-in-the-future", 10, "Complete", -5s, false},
  };
  testing::ControllerTestEnv env;
  TtlAfterFinishedController controller(env.context);
  const WallTime now = env.clock.Now();
  for (const Case& c : cases) env.Create(FinishedJob(c.name, c.ttl, c.condition, now - c.finished_ago));
  env.StartInformers(controller.Informers());
  ASSERT_TRUE(WaitFor([&] { return controller.Informers()[0]->GetIndexer().size() == cases.size(); }));
  for (const Case& c : cases) {
    ASSERT_TRUE(controller.SyncForTesting("default/" + c.name).ok()) << c.name;
    EXPECT_EQ(Deleting(env, c.name), c.deleted) << c.name;
  }
  // Foreground, as upstream: the Job waits for the garbage collector to delete its pods.
  batchv1::Job deleted = *env.Get<batchv1::Job>("default", "complete-expired");
  ASSERT_EQ(deleted.metadata().finalizers_size(), 1);
  EXPECT_EQ(deleted.metadata().finalizers(0), "foregroundDeletion");
}

TEST(TtlAfterFinishedTest, MissingFinishTimeIsAnError) {
  testing::ControllerTestEnv env;
  TtlAfterFinishedController controller(env.context);
  env.Create(FinishedJob("no-time", 5, "Complete", std::nullopt));
  env.StartInformers(controller.Informers());
  ASSERT_TRUE(WaitFor([&] { return controller.Informers()[0]->GetIndexer().size() == 1; }));
  EXPECT_FALSE(controller.SyncForTesting("default/no-time").ok());
  EXPECT_FALSE(Deleting(env, "no-time"));
}

TEST(TtlAfterFinishedTest, FreshReadWinsOverAStaleCache) {
  // The informers watch env.api (the cache); the controller's client is `fresh` (the server's
  // latest state), so the two disagree as a lagging cache would.
  testing::ControllerTestEnv env;
  FakeApi fresh(env.clock, env.random);
  ControllerContext context{fresh, env.factory, env.clock, env.random, env.registry, env.events, env.settings, ""};
  TtlAfterFinishedController controller(context);
  const WallTime now = env.clock.Now();
  env.Create(FinishedJob("raised", 10, "Complete", now - 60s));   // cached: expired
  env.Create(FinishedJob("lowered", 3600, "Complete", now - 60s));  // cached: not yet
  ASSERT_TRUE(fresh.Create(Jobs(), "default", FinishedJob("raised", 3600, "Complete", now - 60s)).ok());
  ASSERT_TRUE(fresh.Create(Jobs(), "default", FinishedJob("lowered", 10, "Complete", now - 60s)).ok());
  env.StartInformers(controller.Informers());
  ASSERT_TRUE(WaitFor([&] { return controller.Informers()[0]->GetIndexer().size() == 2; }));

  ASSERT_TRUE(controller.SyncForTesting("default/raised").ok());
  EXPECT_TRUE(fresh.Get(Jobs(), "default", "raised").ok());
  EXPECT_FALSE(api::MetaOf(**fresh.Get(Jobs(), "default", "raised")).has_deletiontimestamp());
  // The cache decides whether to look at all: a Job not expired in the cache waits for its timer.
  ASSERT_TRUE(controller.SyncForTesting("default/lowered").ok());
  EXPECT_FALSE(api::MetaOf(**fresh.Get(Jobs(), "default", "lowered")).has_deletiontimestamp());
  EXPECT_EQ(fresh.Calls(FakeApi::Verb::kDelete), 0);
}

TEST(TtlAfterFinishedTest, WorkersDeleteWhenTheTimerFires) {
  testing::ControllerTestEnv env;
  TtlAfterFinishedController controller(env.context);
  env.Start(controller);
  const WallTime now = env.clock.Now();
  env.Create(FinishedJob("done", 30, "Complete", now - 10s));
  // The Job is seen and its timer set for 20 s from now; nothing happens before.
  ASSERT_TRUE(WaitFor([&] { return controller.Informers()[0]->GetIndexer().size() == 1; }));
  env.clock.Advance(19s);
  EXPECT_FALSE(Deleting(env, "done"));
  env.clock.Advance(1s);
  EXPECT_TRUE(WaitFor([&] { return Deleting(env, "done"); }));
}

}  // namespace
}  // namespace ck::controller_manager
