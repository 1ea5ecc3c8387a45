// Framework (framework.h): plugin placement from a profile and the runner of each extension point.
#include "scheduler/framework/framework.h"

#include <algorithm>
#include <set>

#include "common/base/check.h"
#include "common/base/strings.h"

namespace ck::scheduler {

namespace {

template <typename T>
T* As(Plugin* p) {
  return dynamic_cast<T*>(p);
}

// Does `plugin` implement the extension point `point`?
bool Implements(Plugin* p, std::string_view point) {
  if (point == "queueSort") return As<QueueSortPlugin>(p) != nullptr;
  if (point == "preFilter") return As<PreFilterPlugin>(p) != nullptr;
  if (point == "filter") return As<FilterPlugin>(p) != nullptr;
  if (point == "postFilter") return As<PostFilterPlugin>(p) != nullptr;
  if (point == "preScore") return As<PreScorePlugin>(p) != nullptr;
  if (point == "score") return As<ScorePlugin>(p) != nullptr;
  if (point == "reserve") return As<ReservePlugin>(p) != nullptr;
  if (point == "permit") return As<PermitPlugin>(p) != nullptr;
  if (point == "preBind") return As<PreBindPlugin>(p) != nullptr;
  if (point == "bind") return As<BindPlugin>(p) != nullptr;
  if (point == "postBind") return As<PostBindPlugin>(p) != nullptr;
  return false;
}

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

int64_t NumFeasibleNodesToFind(std::optional<int32_t> percentage, int64_t num_all_nodes) {
  constexpr int64_t kMinFeasibleNodesToFind = 100;
  constexpr int64_t kMinFeasibleNodesPercentageToFind = 5;
  constexpr int64_t kBasePercentageOfNodesToScore = 50;
  if (num_all_nodes < kMinFeasibleNodesToFind) return num_all_nodes;
  int64_t adaptive = percentage.value_or(0);
  if (adaptive <= 0) {
    adaptive = kBasePercentageOfNodesToScore - num_all_nodes / 125;
    if (adaptive < kMinFeasibleNodesPercentageToFind) adaptive = kMinFeasibleNodesPercentageToFind;
  }
  if (adaptive >= 100) return num_all_nodes;
  int64_t n = num_all_nodes * adaptive / 100;
  return std::max(n, kMinFeasibleNodesToFind);
}

PreFilterResult PreFilterResult::Merge(const PreFilterResult& other) const {
  if (AllNodes()) return other;
  if (other.AllNodes()) return *this;
  PreFilterResult out;
  out.node_names.emplace();
  for (const auto& n : *node_names) {
    if (other.node_names->count(n) > 0) out.node_names->insert(n);
  }
  return out;
}

Framework::Framework(FrameworkDeps deps) : deps_(std::move(deps)) {
  if (deps_.clock == nullptr) deps_.clock = &RealClock::Get();
  if (deps_.random == nullptr) deps_.random = &RealRandom::Get();
  if (deps_.parallelizer == nullptr) {
    owned_parallelizer_ = std::make_unique<Parallelizer>(1);
    deps_.parallelizer = owned_parallelizer_.get();
  }
}

Framework::~Framework() = default;

Result<std::unique_ptr<Framework>> Framework::Create(const Registry& registry, const ProfileConfig& profile,
                                                     FrameworkDeps deps) {
  std::unique_ptr<Framework> f(new Framework(std::move(deps)));
  f->profile_name_ = profile.scheduler_name;
  f->percentage_ = profile.percentage_of_nodes_to_score;
  if (f->deps_.metrics != nullptr) {
    f->point_duration_ = &f->deps_.metrics->HistogramFamily(
        "scheduler_framework_extension_point_duration_seconds",
        "Latency for running all plugins of a specific extension point.", {"extension_point", "status", "profile"},
        metrics::ExponentialBuckets(0.0001, 2, 12));
  }
  CK_RETURN_IF_ERROR(f->Place(registry, profile));
  return f;
}

Status Framework::Place(const Registry& registry, const ProfileConfig& profile) {
  const std::string where = "profile \"" + profile.scheduler_name + "\": ";
  std::map<std::string, Plugin*> instances;
  auto instance = [&](const std::string& name) -> Result<Plugin*> {
    if (auto it = instances.find(name); it != instances.end()) return it->second;
    auto entry = std::find_if(registry.begin(), registry.end(), [&](const RegistryEntry& e) { return e.name == name; });
    if (entry == registry.end()) return Status(Code::kInvalid, where + "plugin \"" + name + "\" does not exist");
    PluginArgs args;
    if (auto a = profile.plugin_args.find(name); a != profile.plugin_args.end()) args = a->second;
    auto made = entry->factory(args, *this);
    if (!made.ok()) return Status(Code::kInvalid, where + "plugin \"" + name + "\": " + made.status().message());
    Plugin* raw = made->get();
    plugins_.push_back(std::move(*made));
    instances[name] = raw;
    return raw;
  };
  for (const auto& plugin_args : profile.plugin_args) {
    const std::string& name = plugin_args.first;
    bool named = std::any_of(profile.multi_point.begin(), profile.multi_point.end(),
                             [&](const PluginRef& r) { return r.name == name; });
    for (const auto& [point, set] : profile.points) {
      named = named || std::any_of(set.enabled.begin(), set.enabled.end(), [&](const PluginRef& r) { return r.name == name; });
    }
    if (!named) {
      bool known = std::any_of(registry.begin(), registry.end(), [&](const RegistryEntry& e) { return e.name == name; });
      if (!known) return Status(Code::kInvalid, where + "pluginConfig: plugin \"" + name + "\" does not exist");
    }
  }
  for (const auto& [point, set] : profile.points) {
    if (std::find(std::begin(kExtensionPoints), std::end(kExtensionPoints), point) == std::end(kExtensionPoints)) {
      return Status(Code::kInvalid, where + "unknown extension point \"" + point + "\"");
    }
  }

  for (const char* point : kExtensionPoints) {
    auto set_it = profile.points.find(point);
    const PluginSetConfig empty;
    const PluginSetConfig& set = set_it == profile.points.end() ? empty : set_it->second;
    bool disable_all = std::find(set.disabled.begin(), set.disabled.end(), "*") != set.disabled.end();
    std::vector<PluginRef> chosen;
    std::set<std::string> seen;
    for (const auto& ref : set.enabled) {
      if (!seen.insert(ref.name).second) {
        return Status(Code::kInvalid, where + point + ": plugin \"" + ref.name + "\" is enabled twice");
      }
      CK_ASSIGN_OR_RETURN(Plugin * p, instance(ref.name));
      if (!Implements(p, point)) {
        return Status(Code::kInvalid, where + "plugin \"" + ref.name + "\" does not extend " + point + " plugin");
      }
      chosen.push_back(ref);
    }
    if (!disable_all) {
      for (const auto& ref : profile.multi_point) {
        if (std::find(set.disabled.begin(), set.disabled.end(), ref.name) != set.disabled.end()) continue;
        if (seen.count(ref.name) > 0) continue;  // the point's own entry takes precedence
        CK_ASSIGN_OR_RETURN(Plugin * p, instance(ref.name));
        if (!Implements(p, point)) continue;
        seen.insert(ref.name);
        chosen.push_back(ref);
      }
    }
    for (const auto& ref : chosen) {
      Plugin* p = instances.at(ref.name);
      std::string_view pt = point;
      if (pt == "queueSort") {
        if (queue_sort_ != nullptr) return Status(Code::kInvalid, where + "only one queueSort plugin can be enabled");
        queue_sort_ = As<QueueSortPlugin>(p);
      } else if (pt == "preFilter") {
        pre_filter_.push_back(As<PreFilterPlugin>(p));
      } else if (pt == "filter") {
        filter_.push_back(As<FilterPlugin>(p));
      } else if (pt == "postFilter") {
        post_filter_.push_back(As<PostFilterPlugin>(p));
      } else if (pt == "preScore") {
        pre_score_.push_back(As<PreScorePlugin>(p));
      } else if (pt == "score") {
        int32_t w = ref.weight == 0 ? 1 : ref.weight;
        if (w < 1 || w > 100) {
          return Status(Code::kInvalid, where + "score plugin \"" + ref.name + "\" weight " + std::to_string(w) +
                                            " is out of range 1-100");
        }
        score_.push_back(As<ScorePlugin>(p));
        score_weights_.push_back(w);
        score_names_.emplace_back(ref.name, w);
      } else if (pt == "reserve") {
        reserve_.push_back(As<ReservePlugin>(p));
      } else if (pt == "permit") {
        permit_.push_back(As<PermitPlugin>(p));
      } else if (pt == "preBind") {
        pre_bind_.push_back(As<PreBindPlugin>(p));
      } else if (pt == "bind") {
        bind_.push_back(As<BindPlugin>(p));
      } else if (pt == "postBind") {
        post_bind_.push_back(As<PostBindPlugin>(p));
      }
    }
  }
  if (queue_sort_ == nullptr) return Status(Code::kInvalid, where + "no queueSort plugin is enabled");
  if (bind_.empty()) return Status(Code::kInvalid, where + "at least one bind plugin is needed");
  return Status::Ok();
}

void Framework::ObservePoint(const char* point, const Verdict& v, MonoTime start) {
  if (point_duration_ == nullptr) return;
  point_duration_->With({point, std::string(VerdictCodeName(v.code())), profile_name_})
      .Observe(Seconds(deps_.clock->Monotonic() - start));
}

const Snapshot& Framework::snapshot() const {
  static const Snapshot kEmpty;
  return snapshot_ != nullptr ? *snapshot_ : kEmpty;
}

bool Framework::QueueSortLess(const QueuedPodInfo& a, const QueuedPodInfo& b) const { return queue_sort_->Less(a, b); }

Verdict Framework::RunPreFilterPlugins(CycleState& state, const PodInfo& pod, PreFilterResult* result) {
  MonoTime start = deps_.clock->Monotonic();
  PreFilterResult merged;
  std::vector<std::string> narrowing;
  Verdict out;
  for (PreFilterPlugin* p : pre_filter_) {
    PreFilterResult r;
    Verdict v = p->PreFilter(state, pod, snapshot(), &r);
    if (v.IsSkip()) {
      state.skip_filter_plugins.insert(std::string(p->Name()));
      continue;
    }
    if (!v.IsSuccess()) {
      v.WithPlugin(p->Name());
      if (v.IsError()) v = Verdict::Error("running PreFilter plugin \"" + std::string(p->Name()) + "\": " + v.Message()).WithPlugin(p->Name());
      out = v;
      break;
    }
    if (!r.AllNodes()) {
      narrowing.emplace_back(p->Name());
      merged = merged.Merge(r);
      if (merged.node_names->empty()) {
        out = Verdict::UnschedulableAndUnresolvable("node(s) didn't satisfy plugin(s) [" + Join(narrowing, " ") +
                                                    "] simultaneously")
                  .WithPlugin(p->Name());
        break;
      }
    }
  }
  if (out.IsSuccess()) *result = std::move(merged);
  ObservePoint("PreFilter", out, start);
  return out;
}

Verdict Framework::RunFilterPlugins(const CycleState& state, const PodInfo& pod, const NodeInfo& node) const {
  for (FilterPlugin* p : filter_) {
    if (!state.skip_filter_plugins.empty() && state.skip_filter_plugins.count(p->Name()) > 0) continue;
    Verdict v = p->Filter(state, pod, node);
    if (!v.IsSuccess()) {
      v.WithPlugin(p->Name());
      if (v.IsError()) {
        return Verdict::Error("running \"" + std::string(p->Name()) + "\" filter plugin: " + v.Message())
            .WithPlugin(p->Name());
      }
      return v;
    }
  }
  return Verdict::Success();
}

Verdict Framework::RunFilterPluginsWithNominatedPods(CycleState& state, const PodInfo& pod, const NodeInfo& node) {
  // Upstream's two passes: with the nominated pods of equal or higher priority added (so this pod
  // does not take what a preemptor was promised), then without them (so that inter-pod affinity
  // with a nominated pod is not relied on). Both must pass.
  std::vector<PodInfoPtr> nominated;
  if (deps_.nominator != nullptr) {
    for (auto& p : deps_.nominator->NominatedPodsForNode(node.name())) {
      if (p->uid() != pod.uid() && p->priority() >= pod.priority()) nominated.push_back(std::move(p));
    }
  }
  if (nominated.empty()) return RunFilterPlugins(state, pod, node);
  auto with = node.Clone();
  auto with_state = state.Clone();
  for (const auto& p : nominated) {
    with->AddPod(p);
    Verdict v = RunPreFilterExtensionAddPod(*with_state, pod, p, *with);
    if (!v.IsSuccess()) return v;
  }
  Verdict first = RunFilterPlugins(*with_state, pod, *with);
  if (!first.IsSuccess()) return first;
  return RunFilterPlugins(state, pod, node);
}

Verdict Framework::RunPreFilterExtensionAddPod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                               const NodeInfo& node) {
  for (PreFilterPlugin* p : pre_filter_) {
    if (!p->HasPreFilterExtensions()) continue;
    if (state.skip_filter_plugins.count(p->Name()) > 0) continue;
    Verdict v = p->AddPod(state, pod, other, node);
    if (!v.IsSuccess()) return Verdict::Error("running AddPod on PreFilter plugin \"" + std::string(p->Name()) + "\": " + v.Message());
  }
  return Verdict::Success();
}

Verdict Framework::RunPreFilterExtensionRemovePod(CycleState& state, const PodInfo& pod, const PodInfoPtr& other,
                                                  const NodeInfo& node) {
  for (PreFilterPlugin* p : pre_filter_) {
    if (!p->HasPreFilterExtensions()) continue;
    if (state.skip_filter_plugins.count(p->Name()) > 0) continue;
    Verdict v = p->RemovePod(state, pod, other, node);
    if (!v.IsSuccess()) return Verdict::Error("running RemovePod on PreFilter plugin \"" + std::string(p->Name()) + "\": " + v.Message());
  }
  return Verdict::Success();
}

Verdict Framework::RunPostFilterPlugins(CycleState& state, const PodInfo& pod, const NodeToVerdict& filtered,
                                        PostFilterResult* result) {
  MonoTime start = deps_.clock->Monotonic();
  std::vector<std::string> reasons;
  Verdict out(VerdictCode::kUnschedulable, {});
  for (PostFilterPlugin* p : post_filter_) {
    PostFilterResult r;
    Verdict v = p->PostFilter(state, pod, filtered, &r);
    if (v.IsSuccess()) {
      *result = std::move(r);
      out = v.WithPlugin(p->Name());
      break;
    }
    if (v.IsError()) {
      out = v.WithPlugin(p->Name());
      break;
    }
    for (const auto& reason : v.reasons()) reasons.push_back(reason);
    out = Verdict(v.code(), reasons).WithPlugin(p->Name());
  }
  ObservePoint("PostFilter", out, start);
  return out;
}

Verdict Framework::RunPreScorePlugins(CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes) {
  MonoTime start = deps_.clock->Monotonic();
  Verdict out;
  for (PreScorePlugin* p : pre_score_) {
    Verdict v = p->PreScore(state, pod, nodes);
    if (v.IsSkip()) {
      state.skip_score_plugins.insert(std::string(p->Name()));
      continue;
    }
    if (!v.IsSuccess()) {
      out = Verdict::Error("running PreScore plugin \"" + std::string(p->Name()) + "\": " + v.Message()).WithPlugin(p->Name());
      break;
    }
  }
  ObservePoint("PreScore", out, start);
  return out;
}

Verdict Framework::RunScorePlugins(const CycleState& state, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes,
                                   std::vector<NodePluginScores>* out) {
  MonoTime start = deps_.clock->Monotonic();
  const size_t np = score_.size();
  out->assign(nodes.size(), NodePluginScores{});
  for (size_t i = 0; i < nodes.size(); ++i) {
    (*out)[i].node = nodes[i];
    (*out)[i].scores.assign(np, 0);
  }
  std::vector<bool> active(np);
  for (size_t j = 0; j < np; ++j) active[j] = state.skip_score_plugins.count(score_[j]->Name()) == 0;

  std::mutex err_mu;
  Verdict error;
  std::atomic<bool> failed{false};
  deps_.parallelizer->Until(
      nodes.size(),
      [&](size_t i) {
        for (size_t j = 0; j < np; ++j) {
          if (!active[j]) continue;
          int64_t s = 0;
          Verdict v = score_[j]->Score(state, pod, *nodes[i], &s);
          if (!v.IsSuccess()) {
            std::lock_guard lock(err_mu);
            if (!failed.exchange(true)) {
              error = Verdict::Error("running Score plugin \"" + std::string(score_[j]->Name()) + "\": " + v.Message())
                          .WithPlugin(score_[j]->Name());
            }
            return;
          }
          (*out)[i].scores[j] = s;
        }
      },
      &failed);
  if (failed) {
    ObservePoint("Score", error, start);
    return error;
  }
  // NormalizeScore per plugin, then the weights (upstream runs both per plugin in parallel; with
  // a handful of plugins the loop is cheaper than the hand-off).
  std::vector<NodeScore> column(nodes.size());
  for (size_t j = 0; j < np; ++j) {
    if (!active[j]) continue;
    ScorePlugin* p = score_[j];
    if (p->HasNormalizeScore()) {
      for (size_t i = 0; i < nodes.size(); ++i) column[i] = NodeScore{nodes[i]->name(), (*out)[i].scores[j]};
      Verdict v = p->NormalizeScore(state, pod, column);
      if (!v.IsSuccess()) {
        Verdict e = Verdict::Error("running Normalize on Score plugin \"" + std::string(p->Name()) + "\": " + v.Message());
        ObservePoint("Score", e, start);
        return e;
      }
      for (size_t i = 0; i < nodes.size(); ++i) (*out)[i].scores[j] = column[i].score;
    }
    for (size_t i = 0; i < nodes.size(); ++i) {
      int64_t s = (*out)[i].scores[j];
      if (s < kMinNodeScore || s > kMaxNodeScore) {
        Verdict e = Verdict::Error("plugin \"" + std::string(p->Name()) + "\" returns an invalid score " +
                                   std::to_string(s) + ", it should in the range of [0, 100] after normalizing");
        ObservePoint("Score", e, start);
        return e;
      }
      (*out)[i].scores[j] = s * score_weights_[j];
      (*out)[i].total += (*out)[i].scores[j];
    }
  }
  ObservePoint("Score", Verdict::Success(), start);
  return Verdict::Success();
}

Verdict Framework::RunReservePluginsReserve(CycleState& state, const PodInfo& pod, const std::string& node) {
  MonoTime start = deps_.clock->Monotonic();
  Verdict out;
  for (ReservePlugin* p : reserve_) {
    Verdict v = p->Reserve(state, pod, node);
    if (!v.IsSuccess()) {
      out = v.WithPlugin(p->Name());
      if (v.IsError()) out = Verdict::Error("running Reserve plugin \"" + std::string(p->Name()) + "\": " + v.Message()).WithPlugin(p->Name());
      break;
    }
  }
  ObservePoint("Reserve", out, start);
  return out;
}

void Framework::RunReservePluginsUnreserve(CycleState& state, const PodInfo& pod, const std::string& node) {
  MonoTime start = deps_.clock->Monotonic();
  for (auto it = reserve_.rbegin(); it != reserve_.rend(); ++it) (*it)->Unreserve(state, pod, node);
  ObservePoint("Unreserve", Verdict::Success(), start);
}

Verdict Framework::RunPermitPlugins(CycleState& state, const PodInfo& pod, const std::string& node) {
  MonoTime start = deps_.clock->Monotonic();
  std::map<std::string, MonoTime> waits;
  Verdict out;
  for (PermitPlugin* p : permit_) {
    Duration timeout{0};
    Verdict v = p->Permit(state, pod, node, &timeout);
    if (v.IsWait()) {
      // Upstream caps a permit wait at 15 minutes.
      timeout = std::min<Duration>(timeout, std::chrono::minutes(15));
      waits[std::string(p->Name())] = deps_.clock->Monotonic() + timeout;
      continue;
    }
    if (!v.IsSuccess()) {
      out = v.WithPlugin(p->Name());
      if (v.IsError()) out = Verdict::Error("running Permit plugin \"" + std::string(p->Name()) + "\": " + v.Message()).WithPlugin(p->Name());
      break;
    }
  }
  if (out.IsSuccess() && !waits.empty()) {
    std::lock_guard lock(waiting_mu_);
    waiting_[pod.uid()] = WaitingPod{std::move(waits), std::nullopt};
    out = Verdict::Wait();
  }
  ObservePoint("Permit", out, start);
  return out;
}

Verdict Framework::WaitOnPermit(const PodInfo& pod) {
  std::unique_lock lock(waiting_mu_);
  auto it = waiting_.find(pod.uid());
  if (it == waiting_.end()) return Verdict::Success();
  while (true) {
    it = waiting_.find(pod.uid());
    WaitingPod& w = it->second;
    if (w.outcome.has_value()) {
      Verdict v = *w.outcome;
      waiting_.erase(it);
      return v;
    }
    if (w.pending.empty()) {
      waiting_.erase(it);
      return Verdict::Success();
    }
    auto first = std::min_element(w.pending.begin(), w.pending.end(),
                                  [](const auto& a, const auto& b) { return a.second < b.second; });
    MonoTime now = deps_.clock->Monotonic();
    if (now >= first->second) {
      Verdict v = Verdict::Unschedulable("rejected due to timeout after waiting at plugin " + first->first)
                      .WithPlugin(first->first);
      waiting_.erase(it);
      return v;
    }
    // Waiting on the real condition variable with the fake clock's remaining time is fine for the
    // real clock; a FakeClock user allows or rejects the pod explicitly.
    waiting_cv_.wait_for(lock, std::min<Duration>(first->second - now, std::chrono::milliseconds(100)));
  }
}

bool Framework::AllowWaitingPod(const std::string& uid, const std::string& plugin) {
  std::lock_guard lock(waiting_mu_);
  auto it = waiting_.find(uid);
  if (it == waiting_.end()) return false;
  it->second.pending.erase(plugin);
  waiting_cv_.notify_all();
  return true;
}

bool Framework::RejectWaitingPod(const std::string& uid, const std::string& plugin, const std::string& message) {
  std::lock_guard lock(waiting_mu_);
  auto it = waiting_.find(uid);
  if (it == waiting_.end()) return false;
  it->second.outcome = Verdict::Unschedulable(message).WithPlugin(plugin);
  waiting_cv_.notify_all();
  return true;
}

Verdict Framework::RunPreBindPlugins(CycleState& state, const PodInfo& pod, const std::string& node) {
  MonoTime start = deps_.clock->Monotonic();
  Verdict out;
  for (PreBindPlugin* p : pre_bind_) {
    Verdict v = p->PreBind(state, pod, node);
    if (!v.IsSuccess()) {
      out = v.WithPlugin(p->Name());
      if (v.IsError()) out = Verdict::Error("running PreBind plugin \"" + std::string(p->Name()) + "\": " + v.Message()).WithPlugin(p->Name());
      break;
    }
  }
  ObservePoint("PreBind", out, start);
  return out;
}

Verdict Framework::RunBindPlugins(CycleState& state, const PodInfo& pod, const std::string& node) {
  MonoTime start = deps_.clock->Monotonic();
  Verdict out = Verdict::Skip();
  for (BindPlugin* p : bind_) {
    Verdict v = p->Bind(state, pod, node);
    if (v.IsSkip()) continue;
    out = v.WithPlugin(p->Name());
    if (v.IsError()) out = Verdict::Error("binding rejected: running Bind plugin \"" + std::string(p->Name()) + "\": " + v.Message()).WithPlugin(p->Name());
    break;
  }
  ObservePoint("Bind", out, start);
  return out;
}

void Framework::RunPostBindPlugins(CycleState& state, const PodInfo& pod, const std::string& node) {
  for (PostBindPlugin* p : post_bind_) p->PostBind(state, pod, node);
}

std::map<std::string, std::vector<ClusterEvent>> Framework::EventsToRegister() const {
  std::map<std::string, std::vector<ClusterEvent>> out;
  for (const auto& p : plugins_) {
    if (auto* e = dynamic_cast<const EnqueueExtensions*>(p.get())) out[std::string(p->Name())] = e->EventsToRegister();
  }
  return out;
}

std::map<std::string, std::vector<std::string>> Framework::ListPlugins() const {
  std::map<std::string, std::vector<std::string>> out;
  auto names = [](const auto& list) {
    std::vector<std::string> v;
    for (const auto* p : list) v.emplace_back(p->Name());
    return v;
  };
  out["queueSort"] = {std::string(queue_sort_->Name())};
  out["preFilter"] = names(pre_filter_);
  out["filter"] = names(filter_);
  out["postFilter"] = names(post_filter_);
  out["preScore"] = names(pre_score_);
  out["score"] = names(score_);
  out["reserve"] = names(reserve_);
  out["permit"] = names(permit_);
  out["preBind"] = names(pre_bind_);
  out["bind"] = names(bind_);
  out["postBind"] = names(post_bind_);
  return out;
}

}  // namespace ck::scheduler
