// FakeHandle: the framework Handle for plugin unit tests. It holds what a plugin may ask for — a
// Snapshot, Listers, an optional ApiClient and EventRecorder, a FakeClock, a FakeRandom, an inline
// Parallelizer(1) and an in-memory PodNominator — and runs a list of PreFilter/Filter plugins the
// test gives it, with the framework's rules (Skip, nominated pods, the PreFilter extensions), so
// that tests of preemption-like plugins can call RunFilterPluginsWithNominatedPods.
//   FakeHandle handle(Snapshot::FromObjects(pods, nodes));
//   handle.SetPreFilterPlugins({&fit}); handle.SetFilterPlugins({&fit});
//   PreFilterResult r; Verdict v = handle.RunPreFilterPlugins(state, *pod, &r);
// Plugins passed in are not owned and must outlive their use. Not thread-safe (tests drive it
// from one thread), except FakePodNominator, which locks.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/framework/snapshot.h"

namespace ck::scheduler::testing {

// A PodNominator in a map: node -> nominated pods, in the order they were nominated.
class FakePodNominator final : public PodNominator {
 public:
  std::vector<PodInfoPtr> NominatedPodsForNode(const std::string& node) const override;
  // Moves an existing nomination of the same pod (by uid); node "" only removes it.
  void AddNominatedPod(const PodInfoPtr& pod, const std::string& node) override;
  void DeleteNominatedPodIfExists(const corev1::Pod& pod) override;
  // The node `uid` is nominated to, or "".
  std::string NominatedNodeOf(const std::string& uid) const;

 private:
  void RemoveLocked(const std::string& uid);
  mutable std::mutex mu_;
  std::map<std::string, std::vector<PodInfoPtr>> by_node_;  // guarded by mu_
  std::map<std::string, std::string> node_of_;              // guarded by mu_; uid -> node
};

class FakeHandle final : public Handle {
 public:
  FakeHandle();
  explicit FakeHandle(Snapshot snapshot);

  // ---- set-up ----
  void SetSnapshot(Snapshot snapshot) { snapshot_ = std::move(snapshot); }
  Snapshot& mutable_snapshot() { return snapshot_; }
  Listers& mutable_listers() { return listers_; }
  void set_api(client::ApiClient* api) { api_ = api; }
  void set_events(client::EventRecorder* events) { events_ = events; }
  void set_profile_name(std::string name) { profile_name_ = std::move(name); }
  // The plugins the Run* methods call, in this order.
  void SetPreFilterPlugins(std::vector<PreFilterPlugin*> plugins) { pre_filter_plugins_ = std::move(plugins); }
  void SetFilterPlugins(std::vector<FilterPlugin*> plugins) { filter_plugins_ = std::move(plugins); }

  FakeClock& fake_clock() { return clock_; }
  FakeRandom& fake_random() { return random_; }
  FakePodNominator& fake_nominator() { return nominator_; }

  // ---- Handle ----
  const Snapshot& snapshot() const override { return snapshot_; }
  const Listers& listers() const override { return listers_; }
  client::ApiClient* api() override { return api_; }
  client::EventRecorder* events() override { return events_; }
  PodNominator* nominator() override { return &nominator_; }
  Clock& clock() override { return clock_; }
  Random& random() override { return random_; }
  Parallelizer& parallelizer() override { return parallelizer_; }
  const std::string& profile_name() const override { return profile_name_; }

  // AddPod/RemovePod of every PreFilter plugin with extensions whose PreFilter did not Skip; the
  // first failure becomes an Error naming the plugin.
  Verdict RunPreFilterExtensionAddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                      const NodeInfo& node) override;
  Verdict RunPreFilterExtensionRemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                         const NodeInfo& node) override;
  // Upstream's two passes: first with the node's nominated pods of equal or higher priority added
  // (to a clone of the node and of the state), then, if that passed and some were added, without.
  Verdict RunFilterPluginsWithNominatedPods(CycleState& state, const PodInfo& pod, const NodeInfo& node) override;

  // ---- the framework's loops, for tests ----
  // PreFilter of each plugin in order: Skip adds the plugin to state.skip_filter_plugins; the
  // first rejection (with the plugin recorded) or error ends the run. `result` (may be null)
  // receives the intersection of the plugins' node lists.
  Verdict RunPreFilterPlugins(CycleState& state, const PodInfo& pod, PreFilterResult* result);
  // Filter of each plugin not skipped, in order; the first verdict that is not Success is
  // returned with its plugin (a non-rejection becomes an Error).
  Verdict RunFilterPlugins(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const;
  // RunFilterPluginsWithNominatedPods over the snapshot's nodes (only those in `narrowed` when it
  // names some), in snapshot order: the names that pass; the others' verdicts in *rejected.
  std::vector<std::string> FeasibleNodes(CycleState& state, const PodInfo& pod, const PreFilterResult& narrowed,
                                         NodeToVerdict* rejected = nullptr);

 private:
  Snapshot snapshot_;
  Listers listers_;
  client::ApiClient* api_ = nullptr;
  client::EventRecorder* events_ = nullptr;
  FakeClock clock_;
  FakeRandom random_;
  Parallelizer parallelizer_{1, "fake-handle"};
  FakePodNominator nominator_;
  std::string profile_name_ = "default-scheduler";
  std::vector<PreFilterPlugin*> pre_filter_plugins_;
  std::vector<FilterPlugin*> filter_plugins_;
};

}  // namespace ck::scheduler::testing
