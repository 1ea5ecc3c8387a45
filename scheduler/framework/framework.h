// Framework: one scheduling profile's plugins, placed at their extension points, and the code that
// runs each point (upstream frameworkruntime.frameworkImpl). Built from the registry table and a
// ProfileConfig; it is also the Handle its plugins see.
//   Placement follows KubeSchedulerConfiguration v1's multiPoint rule: every plugin of
//   `multi_point` runs at every extension point it implements, unless that point disables it
//   (by name, or "*" for all multiPoint plugins); plugins enabled at one point run there only,
//   before the multiPoint ones. Score weights come from the enabling entry (default 1).
// Threading: the Run* methods of the scheduling cycle are called by the one scheduling loop;
// Filter and Score fan out on the Parallelizer. The binding-cycle methods (WaitOnPermit, PreBind,
// Bind, PostBind) run on binding threads, several pods at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/status.h"
#include "common/metrics/metrics.h"
#include "scheduler/framework/interface.h"
#include "scheduler/framework/parallelizer.h"
#include "scheduler/framework/registry.h"

namespace ck::scheduler {

// The extension points, by their config names.
inline constexpr const char* kExtensionPoints[] = {"queueSort", "preFilter", "filter", "postFilter", "preScore",
                                                   "score", "reserve", "permit", "preBind", "bind", "postBind"};

struct PluginRef {
  std::string name;
  int32_t weight = 0;  // score weight; 0 = unset (1)
};

struct PluginSetConfig {
  std::vector<PluginRef> enabled;
  std::vector<std::string> disabled;  // "*" disables every multiPoint plugin at this point
};

// One profile of the configuration (upstream KubeSchedulerProfile), after defaulting.
struct ProfileConfig {
  std::string scheduler_name = "default-scheduler";
  std::optional<int32_t> percentage_of_nodes_to_score;
  std::vector<PluginRef> multi_point;
  std::map<std::string, PluginSetConfig> points;  // extension point name -> enabled/disabled
  std::map<std::string, PluginArgs> plugin_args;  // plugin name -> args
};

// What the framework needs from the scheduler around it. Pointers may be null in unit tests.
struct FrameworkDeps {
  Clock* clock = nullptr;
  Random* random = nullptr;
  Parallelizer* parallelizer = nullptr;
  client::ApiClient* api = nullptr;
  client::EventRecorder* events = nullptr;
  PodNominator* nominator = nullptr;
  Listers listers;
  metrics::Registry* metrics = nullptr;
};

// The scores of one node (upstream NodePluginScores): per score plugin in plugin order (weighted),
// and their sum.
struct NodePluginScores {
  const NodeInfo* node = nullptr;
  std::vector<int64_t> scores;
  int64_t total = 0;
};

class Framework final : public Handle {
 public:
  // Instantiates every plugin the profile names (once each) and places it. Invalid for an unknown
  // plugin, a plugin enabled at a point it does not implement, missing queueSort/bind plugins,
  // more than one queueSort plugin, a weight outside 1..100 or bad plugin args.
  static Result<std::unique_ptr<Framework>> Create(const Registry& registry, const ProfileConfig& profile,
                                                   FrameworkDeps deps);
  ~Framework() override;

  // ---- scheduling cycle ----
  // The snapshot this cycle reads; set by the scheduler before PreFilter.
  void SetSnapshot(const Snapshot* snapshot) { snapshot_ = snapshot; }

  bool QueueSortLess(const QueuedPodInfo& a, const QueuedPodInfo& b) const;
  // Runs PreFilter plugins; Skip puts the plugin in state.skip_filter_plugins. A rejection or an
  // error stops at that plugin (its name in the verdict). Intersects the PreFilterResults: an
  // empty intersection is UnschedulableAndUnresolvable.
  Verdict RunPreFilterPlugins(CycleState& state, const PodInfo& pod, PreFilterResult* result);
  // The Filter plugins in order, stopping at the first that does not pass (its name recorded).
  Verdict RunFilterPlugins(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const;
  bool HasFilterPlugins() const { return !filter_.empty(); }
  bool HasScorePlugins() const { return !score_.empty(); }
  bool HasPostFilterPlugins() const { return !post_filter_.empty(); }
  // PostFilter plugins until one succeeds (then `result` holds its nomination).
  Verdict RunPostFilterPlugins(CycleState& state, const PodInfo& pod, const NodeToVerdict& filtered,
                               PostFilterResult* result);
  Verdict RunPreScorePlugins(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes);
  // Score plugins over `nodes` in parallel, NormalizeScore, weights. Error when a plugin fails or
  // a normalized score leaves [0, 100].
  Verdict RunScorePlugins(const CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes,
                          std::vector<NodePluginScores>* out);
  // Names of the score plugins in the order of NodePluginScores::scores, with their weights.
  const std::vector<std::pair<std::string, int32_t>>& ScorePluginNames() const { return score_names_; }
  Verdict RunReservePluginsReserve(CycleState& state, const PodInfo& pod, const std::string& node);
  void RunReservePluginsUnreserve(CycleState& state, const PodInfo& pod, const std::string& node);
  // Permit: Success, a rejection, or Wait (the pod is then waiting; see WaitOnPermit).
  Verdict RunPermitPlugins(CycleState& state, const PodInfo& pod, const std::string& node);

  // ---- binding cycle ----
  // Blocks while the pod is waiting on Permit; Success when allowed, the rejection otherwise
  // (Unschedulable "rejected due to timeout after waiting 10s at plugin X" on timeout).
  Verdict WaitOnPermit(const PodInfo& pod);
  // Lets a waiting pod through for `plugin` / rejects it. False when the pod is not waiting.
  bool AllowWaitingPod(const std::string& uid, const std::string& plugin);
  bool RejectWaitingPod(const std::string& uid, const std::string& plugin, const std::string& message);
  Verdict RunPreBindPlugins(CycleState& state, const PodInfo& pod, const std::string& node);
  // Bind plugins until one does not Skip.
  Verdict RunBindPlugins(CycleState& state, const PodInfo& pod, const std::string& node);
  void RunPostBindPlugins(CycleState& state, const PodInfo& pod, const std::string& node);

  // Plugin name -> the cluster events it registered (for the queue's moves).
  std::map<std::string, std::vector<ClusterEvent>> EventsToRegister() const;
  // Names of the plugins at each extension point, for logs and /debug.
  std::map<std::string, std::vector<std::string>> ListPlugins() const;
  std::optional<int32_t> percentage_of_nodes_to_score() const { return percentage_; }

  // ---- Handle ----
  const Snapshot& snapshot() const override;
  const Listers& listers() const override { return deps_.listers; }
  client::ApiClient* api() override { return deps_.api; }
  client::EventRecorder* events() override { return deps_.events; }
  PodNominator* nominator() override { return deps_.nominator; }
  Clock& clock() override { return *deps_.clock; }
  Random& random() override { return *deps_.random; }
  Parallelizer& parallelizer() override { return *deps_.parallelizer; }
  const std::string& profile_name() const override { return profile_name_; }
  Verdict RunPreFilterExtensionAddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                      const NodeInfo& node) override;
  Verdict RunPreFilterExtensionRemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                         const NodeInfo& node) override;
  Verdict RunFilterPluginsWithNominatedPods(CycleState& state, const PodInfo& pod, const NodeInfo& node) override;

 private:
  explicit Framework(FrameworkDeps deps);
  Status Place(const Registry& registry, const ProfileConfig& profile);
  void ObservePoint(const char* point, const Verdict& v, MonoTime start);

  struct WaitingPod {
    std::map<std::string, MonoTime> pending;  // plugin -> deadline
    std::optional<Verdict> outcome;
  };

  FrameworkDeps deps_;
  std::unique_ptr<Clock> owned_clock_;
  std::unique_ptr<Random> owned_random_;
  std::unique_ptr<Parallelizer> owned_parallelizer_;
  std::string profile_name_;
  std::optional<int32_t> percentage_;
  const Snapshot* snapshot_ = nullptr;

  std::vector<std::unique_ptr<Plugin>> plugins_;  // owns every instance
  QueueSortPlugin* queue_sort_ = nullptr;
  std::vector<PreFilterPlugin*> pre_filter_;
  std::vector<FilterPlugin*> filter_;
  std::vector<PostFilterPlugin*> post_filter_;
  std::vector<PreScorePlugin*> pre_score_;
  std::vector<ScorePlugin*> score_;
  std::vector<int32_t> score_weights_;
  std::vector<std::pair<std::string, int32_t>> score_names_;
  std::vector<ReservePlugin*> reserve_;
  std::vector<PermitPlugin*> permit_;
  std::vector<PreBindPlugin*> pre_bind_;
  std::vector<BindPlugin*> bind_;
  std::vector<PostBindPlugin*> post_bind_;

  metrics::Family<metrics::Histogram>* point_duration_ = nullptr;  // extension_point, status, profile

  std::mutex waiting_mu_;
  std::condition_variable waiting_cv_;
  std::unordered_map<std::string, WaitingPod> waiting_;  // guarded by waiting_mu_; uid -> state
};

// percentageOfNodesToScore's rule (upstream numFeasibleNodesToFind): every node below 100 nodes;
// otherwise `percentage` (or, when unset or <= 0, 50 - nodes/125 with a floor of 5) percent of
// them, at least 100.
int64_t NumFeasibleNodesToFind(std::optional<int32_t> percentage, int64_t num_all_nodes);

}  // namespace ck::scheduler
