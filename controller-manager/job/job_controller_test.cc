// JobController on FakeApi and a fake clock: the completed-index intervals and the pod failure
// backoff as tables; a Job of 20 completions at parallelism 5 whose pods partly fail (counted
// once each through uncountedTerminatedPods and the tracking finalizer, replaced only after
// 10 s, 20 s of backoff); backoffLimit exceeded; an Indexed Job filling completedIndexes;
// activeDeadlineSeconds (driven step by step and through the workers' timer); suspend and
// resume; the finalizer of an orphaned pod.
#include "controller-manager/job/job_controller.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/api/object.h"
#include "common/client/cache/cache_test_util.h"
#include "common/client/cache/meta.h"
#include "controller-manager/testing/controller_test_env.h"

namespace ck::controller_manager {
namespace {

using namespace std::chrono_literals;
using client::FakeApi;
using client::testing::WaitFor;

const client::ResourceInfo& Res(const google::protobuf::Descriptor* d) {
  return client::SharedInformerFactory::ResourceOfMessage(d->full_name());
}

// A Job with a manual selector (the FakeApi does not generate one): pods labelled job-name=<name>.
class JobBuilder {
 public:
  explicit JobBuilder(std::string name) {
    job_.mutable_metadata()->set_name(name);
    job_.mutable_metadata()->set_namespace_("default");
    auto* spec = job_.mutable_spec();
    spec->set_manualselector(true);
    (*spec->mutable_selector()->mutable_matchlabels())["job-name"] = name;
    (*spec->mutable_template_()->mutable_metadata()->mutable_labels())["job-name"] = name;
    auto* c = spec->mutable_template_()->mutable_spec()->add_containers();
    c->set_name("main");
    c->set_image("registry.example.com/work:1");
    spec->mutable_template_()->mutable_spec()->set_restartpolicy("Never");
    spec->set_backofflimit(6);
    spec->set_completionmode("NonIndexed");
  }
  JobBuilder& Completions(int32_t n) {
    job_.mutable_spec()->set_completions(n);
    return *this;
  }
  JobBuilder& Parallelism(int32_t n) {
    job_.mutable_spec()->set_parallelism(n);
    return *this;
  }
  JobBuilder& BackoffLimit(int32_t n) {
    job_.mutable_spec()->set_backofflimit(n);
    return *this;
  }
  JobBuilder& Indexed() {
    job_.mutable_spec()->set_completionmode("Indexed");
    return *this;
  }
  JobBuilder& ActiveDeadlineSeconds(int64_t s) {
    job_.mutable_spec()->set_activedeadlineseconds(s);
    return *this;
  }
  JobBuilder& Suspend(bool s) {
    job_.mutable_spec()->set_suspend(s);
    return *this;
  }
  operator batchv1::Job() const { return job_; }  // NOLINT: the builder stands for the Job

 private:
  batchv1::Job job_;
};

class Harness {
 public:
  Harness() {
    controller = std::make_unique<JobController>(env.context);
    env.StartInformers(controller->Informers());
  }

  bool Mirrors(const client::SharedIndexInformer& informer, const client::ResourceInfo& r) {
    std::vector<client::ObjectPtr> objects = env.api.Objects(r);
    const client::Indexer& indexer = informer.GetIndexer();
    if (indexer.size() != objects.size()) return false;
    for (const client::ObjectPtr& o : objects) {
      client::ObjectPtr cached = indexer.Get(client::KeyOf(*o));
      if (cached == nullptr || client::ResourceVersionOf(*cached) != client::ResourceVersionOf(*o)) return false;
    }
    return true;
  }
  void WaitCaughtUp() {
    std::vector<client::SharedIndexInformer*> informers = controller->Informers();
    CK_CHECK(WaitFor([&] {
      return Mirrors(*informers[0], Res(batchv1::Job::descriptor())) &&
             Mirrors(*informers[1], Res(corev1::Pod::descriptor()));
    })) << "informers did not catch up";
  }
  // One Sync once the informers saw every write so far and the handlers counted the pods this
  // controller made or deleted (what a worker does after the events).
  Status Sync(const std::string& key = "default/work") {
    WaitCaughtUp();
    if (!key.starts_with(kOrphanPodKeyPrefix)) {
      CK_CHECK(WaitFor([&] { return controller->SatisfiedExpectationsForTesting(key); })) << "expectations of " << key;
    }
    return controller->SyncForTesting(key);
  }
  void CreateJob(const batchv1::Job& job) {
    env.Create(job);
    WaitCaughtUp();
  }
  batchv1::Job Job(const std::string& name = "work") {
    Result<batchv1::Job> job = env.Get<batchv1::Job>("default", name);
    CK_CHECK(job.ok()) << job.status().message();
    return *job;
  }
  std::vector<corev1::Pod> Pods() { return env.List<corev1::Pod>("default"); }
  std::vector<corev1::Pod> RunningPods() {
    std::vector<corev1::Pod> out;
    for (corev1::Pod& p : Pods()) {
      if (p.status().phase() != "Succeeded" && p.status().phase() != "Failed" && !p.metadata().has_deletiontimestamp()) {
        out.push_back(std::move(p));
      }
    }
    std::sort(out.begin(), out.end(), [](const corev1::Pod& a, const corev1::Pod& b) {
      return a.metadata().name() < b.metadata().name();
    });
    return out;
  }
  // The kubelet's part: the pod ended in `phase`, its container finished now.
  void Finish(const corev1::Pod& pod, const std::string& phase) {
    Result<corev1::Pod> current = env.Get<corev1::Pod>("default", pod.metadata().name());
    CK_CHECK(current.ok()) << current.status().message();
    corev1::Pod next = *current;
    next.mutable_status()->set_phase(phase);
    auto* cs = next.mutable_status()->add_containerstatuses();
    cs->set_name("main");
    auto* terminated = cs->mutable_state()->mutable_terminated();
    terminated->set_exitcode(phase == "Succeeded" ? 0 : 1);
    *terminated->mutable_finishedat() = api::MakeTime(env.clock.Now());
    Result<client::ObjectPtr> updated = env.api.Update(Res(corev1::Pod::descriptor()), "default", next, "status");
    CK_CHECK(updated.ok()) << updated.status().message();
  }
  int64_t PodCreates() { return env.api.Calls(FakeApi::Verb::kCreate, "pods"); }
  std::multiset<std::string> EventMessages(const std::string& reason, size_t n) {
    std::multiset<std::string> out;
    EXPECT_TRUE(WaitFor([&] { return env.Events(reason).size() >= n; })) << reason;
    for (const auto& e : env.Events(reason)) out.insert(e.message());
    return out;
  }

  testing::ControllerTestEnv env;
  std::unique_ptr<JobController> controller;  // destroyed before env
};

const batchv1::JobCondition* Cond(const batchv1::Job& job, std::string_view type) {
  return FindJobCondition(job.status(), type);
}

bool HasFinalizer(const corev1::Pod& pod) { return HasJobTrackingFinalizer(pod); }

// ---- Pure arithmetic ------------------------------------------------------------------------------

TEST(IndexIntervalsTest, ParseWithAndString) {
  struct Case {
    std::string text;
    int completions;
    std::vector<int> add;
    std::string want;
    int total;
  };
  const std::vector<Case> cases = {
      {"", 5, {}, "", 0},
      {"", 5, {3}, "3", 1},
      {"", 5, {0, 1}, "0,1", 2},  // two adjacent indexes print as a list, as upstream
      {"", 5, {0, 1, 2}, "0-2", 3},
      {"1", 5, {0}, "0,1", 2},
      {"0,1", 5, {2}, "0-2", 3},
      {"0-2", 10, {4, 5}, "0-2,4,5", 5},
      {"0-2,4,5", 10, {3}, "0-5", 6},
      {"0-2,7", 10, {7, 7, 8}, "0-2,7,8", 5},  // repeated indexes are harmless
      {"1,3-5,7", 6, {}, "1,3-5", 4},           // beyond completions is dropped
      {"1,x,3", 6, {}, "1,3", 2},               // a corrupt part is skipped
      {"2-1,4", 6, {}, "4", 1},
      {"0-99999", 100000, {}, "0-99999", 100000},
  };
  for (const Case& c : cases) {
    IndexIntervals iv = IndexIntervals::Parse(c.text, c.completions).With(c.add);
    EXPECT_EQ(iv.String(), c.want) << c.text;
    EXPECT_EQ(iv.Total(), c.total) << c.text;
    for (int ix : c.add) EXPECT_TRUE(iv.Has(ix)) << c.text << " " << ix;
  }
  IndexIntervals iv = IndexIntervals::Parse("1,3-5", 10);
  EXPECT_FALSE(iv.Has(0));
  EXPECT_TRUE(iv.Has(1));
  EXPECT_FALSE(iv.Has(2));
  EXPECT_TRUE(iv.Has(4));
  EXPECT_FALSE(iv.Has(6));
}

TEST(JobBackoffTest, DelayDoublesFromTenSecondsUpToTheCap) {
  const WallTime t0 = FakeClock().Now();
  struct Case {
    int32_t failures;
    Duration since_failure;
    Duration want;
  };
  const std::vector<Case> cases = {
      {0, 0s, 0s},  {1, 0s, 10s},  {1, 4s, 6s},    {1, 10s, 0s},  {1, 11s, 0s},   {2, 0s, 20s},
      {3, 0s, 40s}, {4, 0s, 80s},  {5, 0s, 160s},  {6, 0s, 320s}, {7, 0s, 600s},  {8, 0s, 600s},
      {30, 0s, 600s}, {7, 599s, 1s}, {2, 25s, 0s},
  };
  for (const Case& c : cases) {
    JobBackoffRecord r{c.failures, t0};
    EXPECT_EQ(RemainingBackoff(r, t0 + c.since_failure), c.want) << c.failures << " failures";
  }
  EXPECT_EQ(RemainingBackoff(JobBackoffRecord{}, t0), 0s);
}

corev1::Pod FinishedPod(const std::string& name, const std::string& phase, WallTime at) {
  corev1::Pod p;
  p.mutable_metadata()->set_name(name);
  p.mutable_status()->set_phase(phase);
  auto* cs = p.mutable_status()->add_containerstatuses();
  *cs->mutable_state()->mutable_terminated()->mutable_finishedat() = api::MakeTime(at);
  return p;
}

TEST(JobBackoffTest, SuccessResetsExceptLaterFailures) {
  const WallTime t0 = FakeClock().Now();
  corev1::Pod f1 = FinishedPod("f1", "Failed", t0);
  corev1::Pod f2 = FinishedPod("f2", "Failed", t0 + 5s);
  corev1::Pod s1 = FinishedPod("s1", "Succeeded", t0 + 3s);
  JobBackoffRecord r = NextBackoffRecord({}, {}, {&f2, &f1});
  EXPECT_EQ(r.failures_after_last_success, 2);
  EXPECT_EQ(r.last_failure_time, t0 + 5s);
  // s1 finished between f1 and f2: only f2 still counts.
  JobBackoffRecord mixed = NextBackoffRecord({3, t0 - 60s}, {&s1}, {&f1, &f2});
  EXPECT_EQ(mixed.failures_after_last_success, 1);
  EXPECT_EQ(mixed.last_failure_time, t0 + 5s);
  JobBackoffRecord reset = NextBackoffRecord({3, t0}, {&s1}, {});
  EXPECT_EQ(reset.failures_after_last_success, 0);
  EXPECT_FALSE(reset.last_failure_time.has_value());
  EXPECT_EQ(PodGenerateNameWithIndex("work", 7), "work-7-");
  EXPECT_EQ(PodGenerateNameWithIndex(std::string(60, 'a'), 12), std::string(54, 'a') + "-12-");
}

// ---- The controller ---------------------------------------------------------------------------------

TEST(JobControllerTest, ParallelJobCountsFailuresOnceAndBacksOff) {
  Harness h;
  h.CreateJob(JobBuilder("work").Completions(20).Parallelism(5).BackoffLimit(6));
  const WallTime start = h.env.clock.Now();

  ASSERT_TRUE(h.Sync().ok());
  std::vector<corev1::Pod> pods = h.RunningPods();
  ASSERT_EQ(pods.size(), 5u);
  for (const corev1::Pod& p : pods) {
    EXPECT_TRUE(p.metadata().name().starts_with("work-")) << p.metadata().name();
    EXPECT_TRUE(HasFinalizer(p));
    const metav1::OwnerReference* ref = api::GetControllerOf(p.metadata());
    ASSERT_NE(ref, nullptr);
    EXPECT_EQ(ref->kind(), "Job");
    EXPECT_EQ(ref->name(), "work");
    EXPECT_EQ(p.metadata().labels().at("job-name"), "work");
  }
  batchv1::Job job = h.Job();
  EXPECT_EQ(job.status().active(), 5);
  EXPECT_EQ(job.status().ready(), 0);
  EXPECT_EQ(api::WallTimeOf(job.status().starttime()), start);
  EXPECT_TRUE(job.status().has_uncountedterminatedpods());
  auto created = h.EventMessages("SuccessfulCreate", 5);
  EXPECT_EQ(created.count("Created pod: " + pods[0].metadata().name()), 1u);

  // A Sync with nothing new changes nothing (expectations met, counts stable).
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.PodCreates(), 5);

  // Two succeed, then one fails a second later.
  h.Finish(pods[0], "Succeeded");
  h.Finish(pods[1], "Succeeded");
  h.env.clock.Advance(1s);
  h.Finish(pods[2], "Failed");
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  EXPECT_EQ(job.status().succeeded(), 2);
  EXPECT_EQ(job.status().failed(), 1);
  EXPECT_EQ(job.status().uncountedterminatedpods().succeeded_size(), 0);
  EXPECT_EQ(job.status().uncountedterminatedpods().failed_size(), 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(HasFinalizer(*h.env.Get<corev1::Pod>("default", pods[i].metadata().name()))) << i;
  }
  EXPECT_EQ(h.PodCreates(), 5);  // the replacements wait for the backoff
  EXPECT_EQ(h.controller->BackoffRecordForTesting("default/work").failures_after_last_success, 1);

  h.env.clock.Advance(9s);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.PodCreates(), 5);  // 9 s after the failure: still backing off
  EXPECT_EQ(h.Job().status().failed(), 1);  // counted once, not again

  h.env.clock.Advance(1s);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.PodCreates(), 8);  // 10 s: three new pods, five active again
  EXPECT_EQ(h.RunningPods().size(), 5u);
  EXPECT_EQ(h.Job().status().active(), 5);

  // A second failure in a row: 20 s.
  h.Finish(h.RunningPods()[0], "Failed");
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.Job().status().failed(), 2);
  EXPECT_EQ(h.controller->BackoffRecordForTesting("default/work").failures_after_last_success, 2);
  h.env.clock.Advance(19s);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.PodCreates(), 8);
  h.env.clock.Advance(1s);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.PodCreates(), 9);

  // From now on everything succeeds: successes reset the backoff and the Job completes.
  for (int round = 0; round < 10 && h.Job().status().succeeded() < 20; ++round) {
    h.env.clock.Advance(1s);
    for (const corev1::Pod& p : h.RunningPods()) h.Finish(p, "Succeeded");
    ASSERT_TRUE(h.Sync().ok());
    ASSERT_LE(h.RunningPods().size(), 5u);
  }
  job = h.Job();
  EXPECT_EQ(job.status().succeeded(), 20);
  EXPECT_EQ(job.status().failed(), 2);
  EXPECT_EQ(job.status().active(), 0);
  EXPECT_EQ(h.PodCreates(), 22);  // 20 successes + 2 failures, nothing more
  ASSERT_NE(Cond(job, kJobSuccessCriteriaMet), nullptr);
  EXPECT_EQ(Cond(job, kJobSuccessCriteriaMet)->reason(), "CompletionsReached");
  ASSERT_NE(Cond(job, kJobComplete), nullptr);
  EXPECT_EQ(Cond(job, kJobComplete)->status(), "True");
  EXPECT_EQ(Cond(job, kJobComplete)->reason(), "CompletionsReached");
  EXPECT_EQ(Cond(job, kJobComplete)->message(), "Reached expected number of succeeded pods");
  EXPECT_EQ(api::WallTimeOf(job.status().completiontime()), h.env.clock.Now());
  EXPECT_EQ(Cond(job, kJobFailed), nullptr);
  for (const corev1::Pod& p : h.Pods()) EXPECT_FALSE(HasFinalizer(p)) << p.metadata().name();
  EXPECT_EQ(h.EventMessages("Completed", 1), std::multiset<std::string>{"Job completed"});

  // Finished: later Syncs create nothing.
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(h.PodCreates(), 22);
}

TEST(JobControllerTest, BackoffLimitExceededFailsTheJobAndDeletesActivePods) {
  Harness h;
  h.CreateJob(JobBuilder("work").Completions(20).Parallelism(5).BackoffLimit(2));
  ASSERT_TRUE(h.Sync().ok());
  std::vector<corev1::Pod> pods = h.RunningPods();
  ASSERT_EQ(pods.size(), 5u);

  // Two failures stay within the limit.
  h.Finish(pods[0], "Failed");
  h.Finish(pods[1], "Failed");
  ASSERT_TRUE(h.Sync().ok());
  batchv1::Job job = h.Job();
  EXPECT_EQ(job.status().failed(), 2);
  EXPECT_EQ(Cond(job, kJobFailureTarget), nullptr);

  // The third exceeds backoffLimit 2.
  h.Finish(pods[2], "Failed");
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  const batchv1::JobCondition* target = Cond(job, kJobFailureTarget);
  ASSERT_NE(target, nullptr);
  EXPECT_EQ(target->status(), "True");
  EXPECT_EQ(target->reason(), "BackoffLimitExceeded");
  EXPECT_EQ(target->message(), "Job has reached the specified backoff limit");
  // The two running pods were deleted and, once the Job failed, counted as failed too.
  EXPECT_EQ(job.status().failed(), 5);
  EXPECT_EQ(job.status().active(), 0);
  EXPECT_TRUE(h.RunningPods().empty());
  EXPECT_EQ(h.EventMessages("SuccessfulDelete", 2).size(), 2u);
  // Failed waits until no pod is terminating.
  EXPECT_EQ(Cond(job, kJobFailed), nullptr);

  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  const batchv1::JobCondition* failed = Cond(job, kJobFailed);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->reason(), "BackoffLimitExceeded");
  EXPECT_EQ(failed->message(), "Job has reached the specified backoff limit");
  EXPECT_EQ(job.status().failed(), 5);
  EXPECT_FALSE(job.status().has_completiontime());
  EXPECT_EQ(h.EventMessages("BackoffLimitExceeded", 1),
            std::multiset<std::string>{"Job has reached the specified backoff limit"});
  EXPECT_EQ(h.PodCreates(), 5);
}

TEST(JobControllerTest, IndexedJobFillsCompletedIndexes) {
  Harness h;
  h.CreateJob(JobBuilder("idx").Completions(5).Parallelism(3).Indexed());
  ASSERT_TRUE(h.Sync("default/idx").ok());
  auto by_index = [&] {
    std::map<int, corev1::Pod> out;
    for (corev1::Pod& p : h.RunningPods()) out[CompletionIndexOf(p)] = p;
    return out;
  };
  std::map<int, corev1::Pod> pods = by_index();
  ASSERT_EQ(pods.size(), 3u);
  for (int ix = 0; ix < 3; ++ix) {
    ASSERT_TRUE(pods.count(ix)) << ix;
    const corev1::Pod& p = pods[ix];
    const std::string value = std::to_string(ix);
    EXPECT_EQ(p.metadata().annotations().at("batch.kubernetes.io/job-completion-index"), value);
    EXPECT_EQ(p.metadata().labels().at("batch.kubernetes.io/job-completion-index"), value);
    EXPECT_EQ(p.spec().hostname(), "idx-" + value);
    EXPECT_TRUE(p.metadata().name().starts_with("idx-" + value + "-")) << p.metadata().name();
    ASSERT_EQ(p.spec().containers(0).env_size(), 1);
    const corev1::EnvVar& env = p.spec().containers(0).env(0);
    EXPECT_EQ(env.name(), "JOB_COMPLETION_INDEX");
    EXPECT_EQ(env.valuefrom().fieldref().fieldpath(), "metadata.labels['batch.kubernetes.io/job-completion-index']");
  }

  struct Step {
    int finish;                  // the index whose pod succeeds
    std::string completed;       // status.completedIndexes afterwards
    std::set<int> running;       // indexes with a running pod afterwards
  };
  const std::vector<Step> steps = {
      {1, "1", {0, 2, 3}},
      {0, "0,1", {2, 3, 4}},
      {3, "0,1,3", {2, 4}},
      {2, "0-3", {4}},
      {4, "0-4", {}},
  };
  for (const Step& step : steps) {
    h.Finish(by_index().at(step.finish), "Succeeded");
    ASSERT_TRUE(h.Sync("default/idx").ok());
    batchv1::Job job = h.Job("idx");
    EXPECT_EQ(job.status().completedindexes(), step.completed) << "after index " << step.finish;
    EXPECT_EQ(job.status().succeeded(), IndexIntervals::Parse(step.completed, 5).Total());
    std::set<int> running;
    for (const auto& [ix, p] : by_index()) running.insert(ix);
    EXPECT_EQ(running, step.running) << "after index " << step.finish;
  }
  batchv1::Job job = h.Job("idx");
  ASSERT_NE(Cond(job, kJobComplete), nullptr);
  EXPECT_EQ(job.status().succeeded(), 5);
  EXPECT_EQ(h.PodCreates(), 5);
}

TEST(JobControllerTest, IndexedJobDeletesDuplicateIndexes) {
  Harness h;
  h.CreateJob(JobBuilder("idx").Completions(3).Parallelism(3).Indexed());
  ASSERT_TRUE(h.Sync("default/idx").ok());
  ASSERT_EQ(h.RunningPods().size(), 3u);
  // A second pod for index 1 (say, a restarted controller raced itself).
  corev1::Pod dup = h.RunningPods()[0];
  for (const corev1::Pod& p : h.RunningPods()) {
    if (CompletionIndexOf(p) == 1) dup = p;
  }
  dup.mutable_metadata()->set_name("idx-1-dup");
  dup.mutable_metadata()->clear_uid();
  dup.mutable_metadata()->clear_resourceversion();
  dup.mutable_metadata()->clear_creationtimestamp();
  h.env.Create(dup);
  ASSERT_TRUE(h.Sync("default/idx").ok());
  std::map<int, int> per_index;
  for (const corev1::Pod& p : h.RunningPods()) ++per_index[CompletionIndexOf(p)];
  EXPECT_EQ(per_index, (std::map<int, int>{{0, 1}, {1, 1}, {2, 1}}));
  EXPECT_EQ(h.Job("idx").status().failed(), 0);  // a removed duplicate is no failure
}

TEST(JobControllerTest, ActiveDeadlineSecondsFailsTheJob) {
  Harness h;
  h.CreateJob(JobBuilder("work").Completions(4).Parallelism(2).ActiveDeadlineSeconds(30));
  ASSERT_TRUE(h.Sync().ok());
  ASSERT_EQ(h.RunningPods().size(), 2u);
  h.env.clock.Advance(29s);
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_EQ(Cond(h.Job(), kJobFailureTarget), nullptr);
  EXPECT_EQ(h.RunningPods().size(), 2u);

  h.env.clock.Advance(1s);
  ASSERT_TRUE(h.Sync().ok());
  batchv1::Job job = h.Job();
  ASSERT_NE(Cond(job, kJobFailureTarget), nullptr);
  EXPECT_EQ(Cond(job, kJobFailureTarget)->reason(), "DeadlineExceeded");
  EXPECT_TRUE(h.RunningPods().empty());
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  ASSERT_NE(Cond(job, kJobFailed), nullptr);
  EXPECT_EQ(Cond(job, kJobFailed)->reason(), "DeadlineExceeded");
  EXPECT_EQ(Cond(job, kJobFailed)->message(), "Job was active longer than specified deadline");
  EXPECT_EQ(job.status().failed(), 2);
  EXPECT_EQ(h.EventMessages("DeadlineExceeded", 1),
            std::multiset<std::string>{"Job was active longer than specified deadline"});
}

// With workers running, nothing but the clock moves the Job: the deadline timer fires on the
// fake clock, and a failed pod is replaced when its backoff ends.
TEST(JobControllerTest, WorkersFireDeadlineAndBackoffTimers) {
  testing::ControllerTestEnv env;
  JobController controller(env.context);
  env.Start(controller);
  auto job_of = [&](const std::string& name) { return *env.Get<batchv1::Job>("default", name); };
  auto pods_of = [&](const std::string& name) { return env.List<corev1::Pod>("default", "job-name=" + name); };
  // The caches hold exactly what the API holds. Checked before the clock moves: a Sync on a stale
  // cache fails its status write with a Conflict, and its retry waits for the (fake) clock.
  auto mirrors = [&](const client::SharedIndexInformer& informer, const client::ResourceInfo& r) {
    std::vector<client::ObjectPtr> objects = env.api.Objects(r);
    if (informer.GetIndexer().size() != objects.size()) return false;
    for (const client::ObjectPtr& o : objects) {
      client::ObjectPtr cached = informer.GetIndexer().Get(client::KeyOf(*o));
      if (cached == nullptr || client::ResourceVersionOf(*cached) != client::ResourceVersionOf(*o)) return false;
    }
    return true;
  };
  auto caught_up = [&] {
    return mirrors(*controller.Informers()[0], Res(batchv1::Job::descriptor())) &&
           mirrors(*controller.Informers()[1], Res(corev1::Pod::descriptor()));
  };

  env.Create(static_cast<batchv1::Job>(JobBuilder("deadline").Completions(1).ActiveDeadlineSeconds(60)));
  env.Create(static_cast<batchv1::Job>(JobBuilder("retry").Completions(1)));
  ASSERT_TRUE(WaitFor([&] {
    return pods_of("deadline").size() == 1 && pods_of("retry").size() == 1 &&
           job_of("deadline").status().active() == 1 && job_of("retry").status().active() == 1 && caught_up();
  }));

  // The retry pod fails. Its event reaches the workers batched by a second on the clock, and the
  // test cannot tell when the handler has run; so it enqueues the Job itself once the caches have
  // the failed pod (the handler's own enqueue changes nothing).
  corev1::Pod failed = pods_of("retry")[0];
  failed.mutable_status()->set_phase("Failed");
  *failed.mutable_status()->add_containerstatuses()->mutable_state()->mutable_terminated()->mutable_finishedat() =
      api::MakeTime(env.clock.Now());
  ASSERT_TRUE(env.api.Update(Res(corev1::Pod::descriptor()), "default", failed, "status").ok());
  ASSERT_TRUE(WaitFor(caught_up));
  controller.Enqueue("default/retry");
  ASSERT_TRUE(WaitFor([&] { return job_of("retry").status().failed() == 1 && caught_up(); }));
  env.clock.Advance(9s);  // 9 s after the failure: no replacement can be made yet
  EXPECT_EQ(pods_of("retry").size(), 1u);
  ASSERT_TRUE(WaitFor(caught_up));
  env.clock.Advance(1s);  // 10 s: the backoff timer fires
  // The 9 s step woke the pod event's delayed enqueue, and that Sync may still be setting its
  // 1 s timer when the clock moves again (then from the later time; seen under a loaded
  // ctest -j2): keep the clock moving, a second per look, until the replacement is made.
  ASSERT_TRUE(WaitFor([&] {
    if (pods_of("retry").size() == 2) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the workers' turn
    if (pods_of("retry").size() == 2) return true;
    env.clock.Advance(1s);
    return false;
  }));

  // The deadline timer was set by the first Sync, at the start.
  ASSERT_TRUE(WaitFor(caught_up));
  env.clock.Advance(50s);
  // A Sync still running while the clock moved sets its timer from the later time (seen under a
  // loaded ctest -j2): keep the clock moving, a second per look, until the workers fire it.
  ASSERT_TRUE(WaitFor([&] {
    if (Cond(job_of("deadline"), kJobFailureTarget) != nullptr) return true;
    env.clock.Advance(1s);
    return false;
  }));
  // Once that Sync is done (its pod gone and counted) and the caches show it, a Sync records Failed.
  ASSERT_TRUE(WaitFor([&] {
    batchv1::Job job = job_of("deadline");
    return pods_of("deadline").empty() && job.status().failed() == 1 &&
           job.status().uncountedterminatedpods().failed_size() == 0 && caught_up();
  }));
  controller.Enqueue("default/deadline");
  ASSERT_TRUE(WaitFor([&] { return Cond(job_of("deadline"), kJobFailed) != nullptr; }));
  EXPECT_EQ(Cond(job_of("deadline"), kJobFailed)->reason(), "DeadlineExceeded");
}

TEST(JobControllerTest, SuspendDeletesPodsWithoutCountingAndResumeRestarts) {
  Harness h;
  h.CreateJob(JobBuilder("work").Completions(3).Parallelism(2).Suspend(true));
  ASSERT_TRUE(h.Sync().ok());
  batchv1::Job job = h.Job();
  EXPECT_TRUE(h.Pods().empty());
  EXPECT_FALSE(job.status().has_starttime());
  ASSERT_NE(Cond(job, kJobSuspended), nullptr);
  EXPECT_EQ(Cond(job, kJobSuspended)->status(), "True");
  EXPECT_EQ(Cond(job, kJobSuspended)->reason(), "JobSuspended");
  EXPECT_EQ(h.EventMessages("Suspended", 1), std::multiset<std::string>{"Job suspended"});

  h.env.clock.Advance(5s);
  job.mutable_spec()->set_suspend(false);
  ASSERT_TRUE(h.env.api.Update(Res(batchv1::Job::descriptor()), "default", job).ok());
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  EXPECT_EQ(h.RunningPods().size(), 2u);
  EXPECT_EQ(Cond(job, kJobSuspended)->status(), "False");
  EXPECT_EQ(Cond(job, kJobSuspended)->reason(), "JobResumed");
  EXPECT_EQ(api::WallTimeOf(job.status().starttime()), h.env.clock.Now());
  EXPECT_EQ(h.EventMessages("Resumed", 1), std::multiset<std::string>{"Job resumed"});

  // Suspending again deletes the running pods, and they are no failures.
  job.mutable_spec()->set_suspend(true);
  ASSERT_TRUE(h.env.api.Update(Res(batchv1::Job::descriptor()), "default", job).ok());
  ASSERT_TRUE(h.Sync().ok());
  EXPECT_TRUE(h.RunningPods().empty());
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  EXPECT_EQ(job.status().failed(), 0);
  EXPECT_EQ(job.status().active(), 0);
  EXPECT_EQ(Cond(job, kJobSuspended)->status(), "True");
}

TEST(JobControllerTest, OrphanedPodLosesItsFinalizer) {
  Harness h;
  h.CreateJob(JobBuilder("work").Completions(1));
  ASSERT_TRUE(h.Sync().ok());
  ASSERT_EQ(h.Pods().size(), 1u);
  corev1::Pod pod = h.Pods()[0];
  ASSERT_TRUE(HasFinalizer(pod));
  // The informers (and the expectation counting) saw the pod before its Job goes away.
  h.WaitCaughtUp();
  ASSERT_TRUE(WaitFor([&] { return h.controller->SatisfiedExpectationsForTesting("default/work"); }));
  // Deleted without the garbage collector: the pod is left behind with the finalizer.
  ASSERT_TRUE(h.env.api.Delete(Res(batchv1::Job::descriptor()), "default", "work").ok());
  ASSERT_TRUE(h.Sync().ok());  // the Job is gone: its bookkeeping goes too
  ASSERT_TRUE(h.Sync(std::string(kOrphanPodKeyPrefix) + "default/" + pod.metadata().name()).ok());
  EXPECT_FALSE(HasFinalizer(*h.env.Get<corev1::Pod>("default", pod.metadata().name())));
}

TEST(JobControllerTest, FailedStatusWriteIsRetriedWithoutDoubleCounting) {
  Harness h;
  h.CreateJob(JobBuilder("work").Completions(2).Parallelism(2));
  ASSERT_TRUE(h.Sync().ok());
  std::vector<corev1::Pod> pods = h.RunningPods();
  ASSERT_EQ(pods.size(), 2u);
  h.Finish(pods[0], "Succeeded");
  // The second status write of the Sync (after the finalizer went) fails: the uid stays in
  // uncountedTerminatedPods while the pod no longer holds the finalizer.
  std::atomic<int> status_writes{0};
  h.env.api.SetRequestHook([&](const FakeApi::Request& r) -> Status {
    if (r.verb == FakeApi::Verb::kUpdate && r.resource == "jobs.batch" && r.subresource == "status" &&
        ++status_writes == 2) {
      return Unavailable("etcd down");
    }
    return Status::Ok();
  });
  Status first = h.Sync();
  h.env.api.SetRequestHook(nullptr);
  EXPECT_FALSE(first.ok());
  batchv1::Job job = h.Job();
  EXPECT_EQ(job.status().uncountedterminatedpods().succeeded_size(), 1);
  EXPECT_EQ(job.status().succeeded(), 0);
  EXPECT_FALSE(HasFinalizer(*h.env.Get<corev1::Pod>("default", pods[0].metadata().name())));
  ASSERT_TRUE(h.Sync().ok());
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  EXPECT_EQ(job.status().succeeded(), 1);
  EXPECT_EQ(job.status().uncountedterminatedpods().succeeded_size(), 0);
  h.Finish(pods[1], "Succeeded");
  ASSERT_TRUE(h.Sync().ok());
  job = h.Job();
  EXPECT_EQ(job.status().succeeded(), 2);
  EXPECT_NE(Cond(job, kJobComplete), nullptr);
}

}  // namespace
}  // namespace ck::controller_manager
