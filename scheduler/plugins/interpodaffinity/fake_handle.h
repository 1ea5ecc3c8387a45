// A framework Handle for InterPodAffinity's tests and benchmark: a snapshot the test sets, a
// namespace lister it may fill, a real Parallelizer, fake clock and random, and no API. The
// preemption helpers are not used by this plugin and answer Success.
// Threading: set up before use; then read-only, like the real handle during a cycle.
#pragma once

#include <string>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/parallelizer.h"

namespace ck::scheduler::plugins::testing {

class FakeHandle final : public Handle {
 public:
  explicit FakeHandle(int parallelism = 2) : parallelizer_(parallelism, "ipa-test") {}

  void set_snapshot(Snapshot snapshot) { snapshot_ = std::move(snapshot); }
  // For tests that change the cluster between cycles, as the cache does.
  Snapshot& mutable_snapshot() { return snapshot_; }
  Listers& mutable_listers() { return listers_; }

  const Snapshot& snapshot() const override { return snapshot_; }
  const Listers& listers() const override { return listers_; }
  client::ApiClient* api() override { return nullptr; }
  client::EventRecorder* events() override { return nullptr; }
  PodNominator* nominator() override { return nullptr; }
  Clock& clock() override { return clock_; }
  Random& random() override { return random_; }
  Parallelizer& parallelizer() override { return parallelizer_; }
  const std::string& profile_name() const override { return profile_; }
  Verdict RunPreFilterExtensionAddPod(CycleState&, const PodInfo&, const PodInfoPtr&, const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunPreFilterExtensionRemovePod(CycleState&, const PodInfo&, const PodInfoPtr&, const NodeInfo&) override {
    return Verdict::Success();
  }
  Verdict RunFilterPluginsWithNominatedPods(CycleState&, const PodInfo&, const NodeInfo&) override {
    return Verdict::Success();
  }

 private:
  Snapshot snapshot_;
  Listers listers_;
  FakeClock clock_;
  FakeRandom random_;
  Parallelizer parallelizer_;
  std::string profile_ = "default-scheduler";
};

}  // namespace ck::scheduler::plugins::testing
