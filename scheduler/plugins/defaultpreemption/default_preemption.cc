// DefaultPreemption (default_preemption.h): upstream's preemption Evaluator (Preempt,
// findCandidates, DryRunPreemption, SelectCandidate, prepareCandidate) and DefaultPreemption's
// SelectVictimsOnNode / PodEligibleToPreemptOthers, in one plugin.
#include "scheduler/plugins/defaultpreemption/default_preemption.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

#include "common/api/api_resources.h"
#include "common/api/codec.h"
#include "common/api/conditions.h"
#include "common/api/object.h"
#include "common/api/pod.h"
#include "common/base/log.h"
#include "common/base/random.h"
#include "common/base/strings.h"
#include "common/client/api_client.h"
#include "common/client/cache/indexer.h"
#include "common/client/tools/event_recorder.h"
#include "scheduler/framework/parallelizer.h"

namespace ck::scheduler::plugins {

namespace {

constexpr std::string_view kPreemptionPrefix = "preemption: ";


const client::ResourceInfo& PodsResource() {
  static const client::ResourceInfo* pods = api::FindResource("", "v1", "pods");
  CK_CHECK(pods != nullptr) << "pods missing from the resource table";
  return *pods;
}

bool BeingDeleted(const corev1::Pod& pod) {
  return pod.metadata().has_deletiontimestamp() && !api::IsZeroTime(pod.metadata().deletiontimestamp());
}

// Upstream podTerminatingByPreemption: being deleted, and its DisruptionTarget condition says the
// scheduler preempted it.
bool PodTerminatingByPreemption(const corev1::Pod& pod) {
  if (!BeingDeleted(pod)) return false;
  const corev1::PodCondition* c = api::FindCondition(pod.status().conditions(), kDisruptionTarget);
  return c != nullptr && c->status() == "True" && c->reason() == kPreemptionByScheduler;
}

// Upstream FitError.Error() with no PreFilter message: "0/N nodes are available: <count reason>,
// ... ." with the counts sorted as strings; nodes without a verdict count as "Preemption is not
// helpful for scheduling".
std::string FitErrorMessage(size_t num_all_nodes, const NodeToVerdict& statuses) {
  std::map<std::string, size_t> counts;
  for (const auto& [node, verdict] : statuses) {
    for (const std::string& reason : verdict.reasons()) ++counts[reason];
  }
  if (statuses.size() < num_all_nodes)
    counts[std::string(kPreemptionNotHelpful)] += num_all_nodes - statuses.size();
  std::vector<std::string> parts;
  parts.reserve(counts.size());
  for (const auto& [reason, n] : counts) parts.push_back(std::to_string(n) + " " + reason);
  std::sort(parts.begin(), parts.end());
  std::string msg = "0/" + std::to_string(num_all_nodes) + " nodes are available:";
  if (!parts.empty()) msg += " " + Join(parts, ", ") + ".";
  return msg;
}

// utilerrors.NewAggregate(...).Error(): one message as is, several (deduplicated) as "[a, b]".
std::string AggregateMessage(const std::vector<std::string>& errors) {
  std::vector<std::string> unique;
  for (const auto& e : errors) {
    if (std::find(unique.begin(), unique.end(), e) == unique.end()) unique.push_back(e);
  }
  if (unique.size() == 1) return unique[0];
  return "[" + Join(unique, ", ") + "]";
}

}  // namespace

DefaultPreemption::DefaultPreemption(DefaultPreemptionArgs args, Handle& handle)
    : args_(args), handle_(handle) {}

Result<std::unique_ptr<Plugin>> NewDefaultPreemption(const PluginArgs& args, Handle& handle) {
  Result<DefaultPreemptionArgs> parsed = ParseDefaultPreemptionArgs(args);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<Plugin>(std::make_unique<DefaultPreemption>(*parsed, handle));
}

Verdict DefaultPreemption::PostFilter(CycleState& state, const PodInfo& pod_info,
                                      const NodeToVerdict& filtered, PostFilterResult* result) {
  const WallTime now = handle_.clock().Now();
  // The freshest copy of the preemptor (its nominatedNodeName may have moved since it was queued).
  PodPtr pod = pod_info.pod;
  if (const client::Indexer* pods = handle_.listers().pods; pods != nullptr) {
    auto latest = std::dynamic_pointer_cast<const corev1::Pod>(pods->Get(pod_info.ns(), pod_info.name()));
    if (latest != nullptr && latest->metadata().uid() == pod_info.uid()) pod = std::move(latest);
  }

  // 1) Is the pod allowed to preempt at all?
  std::string not_eligible;
  if (!PodEligibleToPreemptOthers(*pod, filtered, &not_eligible)) {
    CK_VLOG(5, "Pod is not eligible for preemption", "pod", pod_info.Key(), "reason", not_eligible);
    return Verdict::Unschedulable(std::string(kPreemptionPrefix) + not_eligible);
  }

  // 2) Candidates: only nodes where removing pods may help (Filter said Unschedulable).
  const auto& all_nodes = handle_.snapshot().List();
  if (all_nodes.empty()) return Verdict::Error(std::string(kPreemptionPrefix) + "no nodes available");
  std::vector<const NodeInfo*> potential;
  for (const auto& node : all_nodes) {
    auto it = filtered.find(node->name());
    if (it != filtered.end() && it->second.code() == VerdictCode::kUnschedulable)
      potential.push_back(node.get());
  }
  NodeToVerdict statuses;
  std::vector<std::string> errors;
  std::vector<Candidate> candidates;
  if (potential.empty()) {
    CK_VLOG(3, "Preemption will not help schedule pod on any node", "pod", pod_info.Key());
  } else {
    const std::vector<PdbInfo> pdbs = PdbsFromLister(handle_.listers().pod_disruption_budgets);
    candidates = DryRunPreemption(state, pod_info, potential, pdbs, now, &statuses, &errors);
  }
  if (candidates.empty()) {
    if (!errors.empty()) return Verdict::Error(std::string(kPreemptionPrefix) + AggregateMessage(errors));
    CK_VLOG(2, "No preemption candidate is found; preemption is not helpful for scheduling", "pod",
            pod_info.Key());
    // Upstream also asks to clear the pod's nominatedNodeName here: "" is what the result carries.
    result->nominated_node_name.clear();
    return Verdict::Unschedulable(std::string(kPreemptionPrefix) +
                                  FitErrorMessage(all_nodes.size(), statuses));
  }

  // 3) The best candidate, 4) its victims evicted.
  const Candidate& best = candidates[PickOneNodeForPreemption(candidates, now)];
  CK_VLOG(2, "the target node for the preemption is determined", "node", best.node, "pod", pod_info.Key(),
          "victims", static_cast<int64_t>(best.victims.size()));
  Status prepared = PrepareCandidate(best, *pod);
  if (!prepared.ok()) return Verdict::Error(std::string(kPreemptionPrefix) + prepared.message());
  result->nominated_node_name = best.node;
  return Verdict::Success();
}

bool DefaultPreemption::PodEligibleToPreemptOthers(const corev1::Pod& pod, const NodeToVerdict& filtered,
                                                   std::string* reason) const {
  if (pod.spec().has_preemptionpolicy() && pod.spec().preemptionpolicy() == "Never") {
    *reason = std::string(kNotEligiblePreemptNever);
    return false;
  }
  const std::string& nominated = pod.status().nominatednodename();
  if (nominated.empty()) return true;
  // If Filter found the nominated node UnschedulableAndUnresolvable, preempting again elsewhere is
  // the only way forward. A node absent from the map reads as UnschedulableAndUnresolvable upstream.
  auto it = filtered.find(nominated);
  if (it == filtered.end() || it->second.code() == VerdictCode::kUnschedulableAndUnresolvable) return true;
  // Victims of an earlier preemption still terminating there: wait for them instead of preempting more.
  if (const NodeInfo* node = handle_.snapshot().Get(nominated); node != nullptr) {
    const int32_t priority = api::PodPriority(pod);
    for (const PodInfoPtr& p : node->pods()) {
      if (p->priority() < priority && PodTerminatingByPreemption(*p->pod)) {
        *reason = std::string(kNotEligibleTerminating);
        return false;
      }
    }
  }
  return true;
}

int32_t DefaultPreemption::CalculateNumCandidates(int32_t num_nodes) const {
  int64_t n = static_cast<int64_t>(num_nodes) * args_.min_candidate_nodes_percentage / 100;
  n = std::max<int64_t>(n, args_.min_candidate_nodes_absolute);
  n = std::min<int64_t>(n, num_nodes);
  return static_cast<int32_t>(n);
}

std::vector<Candidate> DefaultPreemption::DryRunPreemption(CycleState& state, const PodInfo& pod,
                                                           const std::vector<const NodeInfo*>& potential,
                                                           const std::vector<PdbInfo>& pdbs, WallTime now,
                                                           NodeToVerdict* statuses,
                                                           std::vector<std::string>* errors) {
  const size_t n = potential.size();
  const size_t offset = static_cast<size_t>(handle_.random().Uniform(n));
  const size_t wanted = static_cast<size_t>(CalculateNumCandidates(static_cast<int32_t>(n)));
  CK_VLOG(5, "Dry run the preemption", "potentialNodesNumber", static_cast<int64_t>(n), "pdbsNumber",
          static_cast<int64_t>(pdbs.size()), "offset", static_cast<int64_t>(offset), "candidatesNumber",
          static_cast<int64_t>(wanted));

  std::mutex mu;
  std::vector<Candidate> non_violating;  // guarded by mu
  std::vector<Candidate> violating;      // guarded by mu
  std::atomic<bool> stop{false};
  auto check_node = [&](size_t i) {
    const NodeInfo& original = *potential[(offset + i) % n];
    std::shared_ptr<NodeInfo> node = original.Clone();
    std::unique_ptr<CycleState> state_copy = state.Clone();
    std::vector<PodInfoPtr> victims;
    int64_t violations = 0;
    Verdict v = SelectVictimsOnNode(*state_copy, pod, *node, pdbs, now, &victims, &violations);
    if (v.IsSuccess() && victims.empty()) {
      v = Verdict::Error("expected at least one victim pod on node " + JsonString(original.name()));
    }
    std::lock_guard lock(mu);
    if (v.IsSuccess()) {
      // Each list holds at most `wanted` candidates (upstream candidateList).
      auto& list = violations == 0 ? non_violating : violating;
      if (list.size() < wanted) list.push_back(Candidate{original.name(), std::move(victims), violations});
      if (!non_violating.empty() && non_violating.size() + violating.size() >= wanted) {
        stop.store(true, std::memory_order_relaxed);
      }
      return;
    }
    if (v.IsError()) errors->push_back(v.Message());
    (*statuses)[original.name()] = std::move(v);
  };
  handle_.parallelizer().Until(n, check_node, &stop);

  // Every call has returned: the lists are ours alone now.
  for (auto& c : violating) non_violating.push_back(std::move(c));
  return non_violating;
}

Verdict DefaultPreemption::SelectVictimsOnNode(CycleState& state, const PodInfo& pod, NodeInfo& node,
                                               const std::vector<PdbInfo>& pdbs, WallTime now,
                                               std::vector<PodInfoPtr>* victims,
                                               int64_t* num_pdb_violations) const {
  victims->clear();
  *num_pdb_violations = 0;
  auto remove_pod = [&](const PodInfoPtr& p) -> Status {
    Status st = node.RemovePod(p->uid());
    if (!st.ok()) return st;
    Verdict v = handle_.RunPreFilterExtensionRemovePod(state, pod, p, node);
    return v.IsSuccess() ? Status::Ok() : Internal(v.Message());
  };
  auto add_pod = [&](const PodInfoPtr& p) -> Status {
    node.AddPod(p);
    Verdict v = handle_.RunPreFilterExtensionAddPod(state, pod, p, node);
    return v.IsSuccess() ? Status::Ok() : Internal(v.Message());
  };

  // First remove every pod preemption may evict and see whether the pod fits without them.
  const int32_t priority = pod.priority();
  std::vector<PodInfoPtr> potential;
  for (const PodInfoPtr& p : node.pods()) {
    if (p->priority() < priority) potential.push_back(p);
  }
  if (potential.empty()) return Verdict::UnschedulableAndUnresolvable(std::string(kNoPreemptionVictims));
  for (const PodInfoPtr& p : potential) {
    Status st = remove_pod(p);
    if (!st.ok()) return Verdict::Error(st);
  }
  // Not fitting now means this node cannot help. (Affinity of the pod to one of the victims is
  // not considered, as upstream: such a pod is not worth the cost.)
  Verdict fits = handle_.RunFilterPluginsWithNominatedPods(state, pod, node);
  if (!fits.IsSuccess()) return fits;

  // Give back as many pods as possible, most important first; those whose eviction would violate a
  // PDB get the first chance.
  std::stable_sort(potential.begin(), potential.end(), [&](const PodInfoPtr& a, const PodInfoPtr& b) {
    return MoreImportantPod(*a->pod, *b->pod, now);
  });
  std::vector<PodInfoPtr> violating;
  std::vector<PodInfoPtr> non_violating;
  FilterPodsWithPdbViolation(potential, pdbs, &violating, &non_violating);
  auto reprieve = [&](const PodInfoPtr& p, bool* kept) -> Status {
    Status st = add_pod(p);
    if (!st.ok()) return st;
    *kept = handle_.RunFilterPluginsWithNominatedPods(state, pod, node).IsSuccess();
    if (!*kept) {
      st = remove_pod(p);
      if (!st.ok()) return st;
      victims->push_back(p);
      CK_VLOG(5, "Pod is a potential preemption victim on node", "pod", p->Key(), "node", node.name());
    }
    return Status::Ok();
  };
  for (const PodInfoPtr& p : violating) {
    bool kept = false;
    Status st = reprieve(p, &kept);
    if (!st.ok()) return Verdict::Error(st);
    if (!kept) ++*num_pdb_violations;
  }
  for (const PodInfoPtr& p : non_violating) {
    bool kept = false;
    Status st = reprieve(p, &kept);
    if (!st.ok()) return Verdict::Error(st);
  }
  // Two passes may have interleaved the order: keep victims most important first.
  if (!violating.empty() && !non_violating.empty()) {
    std::stable_sort(victims->begin(), victims->end(), [&](const PodInfoPtr& a, const PodInfoPtr& b) {
      return MoreImportantPod(*a->pod, *b->pod, now);
    });
  }
  return Verdict::Success();
}

Status DefaultPreemption::PrepareCandidate(const Candidate& candidate, const corev1::Pod& preemptor) {
  std::vector<const corev1::Pod*> to_preempt;
  for (const PodInfoPtr& v : candidate.victims) {
    // Graceful deletion already started: another call would change nothing.
    if (BeingDeleted(*v->pod)) {
      CK_VLOG(2, "Victim Pod is already being deleted, skipping the API call for it", "node", candidate.node,
              "victim", v->Key());
      continue;
    }
    to_preempt.push_back(v->pod.get());
  }
  std::mutex mu;
  Status first_error;  // guarded by mu
  std::atomic<bool> stop{false};
  handle_.parallelizer().Until(
      to_preempt.size(),
      [&](size_t i) {
        Status st = PreemptPod(candidate, preemptor, *to_preempt[i]);
        if (st.ok()) return;
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = st;
        stop.store(true, std::memory_order_relaxed);
      },
      &stop);
  {
    std::lock_guard lock(mu);
    if (!first_error.ok()) return first_error;
  }

  // Lower-priority pods nominated to this node may no longer fit there: drop their nomination so
  // they look for another node now rather than after the victims are gone.
  PodNominator* nominator = handle_.nominator();
  client::ApiClient* api = handle_.api();
  if (nominator != nullptr && api != nullptr) {
    const int32_t priority = api::PodPriority(preemptor);
    for (const PodInfoPtr& p : nominator->NominatedPodsForNode(candidate.node)) {
      if (p->priority() >= priority || p->pod->status().nominatednodename().empty()) continue;
      auto patched = api->Patch(PodsResource(), p->ns(), p->name(), client::PatchType::kStrategicMerge,
                                R"({"status":{"nominatedNodeName":null}})", "status");
      // Not critical: the pod keeps a stale nomination until its next attempt.
      if (!patched.ok()) {
        CK_LOG_ERROR("Cannot clear 'NominatedNodeName' field", "pod", p->Key(), "err",
                     patched.status().ToString());
      }
    }
  }
  return Status::Ok();
}

Status DefaultPreemption::PreemptPod(const Candidate& candidate, const corev1::Pod& preemptor,
                                     const corev1::Pod& victim) {
  client::ApiClient* api = handle_.api();
  if (api == nullptr) return Internal("preemption needs an API client to delete victims");
  const std::string& ns = victim.metadata().namespace_();
  const std::string& name = victim.metadata().name();
  const std::string victim_key = ns + "/" + name;

  // DisruptionTarget=True (PreemptionByScheduler) first, so that controllers and the kubelet see
  // why the pod goes (upstream PreemptPod; apipod.UpdatePodCondition decides whether to write).
  const std::string& scheduler_name =
      preemptor.spec().schedulername().empty() ? handle_.profile_name() : preemptor.spec().schedulername();
  corev1::PodCondition condition;
  condition.set_type(std::string(kDisruptionTarget));
  condition.set_status("True");
  condition.set_reason(std::string(kPreemptionByScheduler));
  condition.set_message(scheduler_name + ": preempting to accommodate a higher priority pod");
  const corev1::PodCondition* existing = api::FindCondition(victim.status().conditions(), kDisruptionTarget);
  bool update = true;
  if (existing != nullptr && existing->status() == condition.status()) {
    *condition.mutable_lasttransitiontime() = existing->lasttransitiontime();
    update = existing->reason() != condition.reason() || existing->message() != condition.message() ||
             !api::IsZeroTime(existing->lastprobetime());
  } else {
    *condition.mutable_lasttransitiontime() = api::Now(handle_.clock());
  }
  if (update) {
    Result<std::string> json = api::ToJson(condition);
    if (!json.ok()) return json.status();
    const std::string body = R"({"status":{"conditions":[)" + *json + "]}}";
    auto patched = api->Patch(PodsResource(), ns, name, client::PatchType::kStrategicMerge, body, "status");
    if (!patched.ok()) {
      if (patched.status().code() != Code::kNotFound) {
        CK_LOG_ERROR("Could not add DisruptionTarget condition due to preemption", "victim", victim_key,
                     "err", patched.status().ToString());
        return patched.status();
      }
      CK_VLOG(2, "Victim Pod is already deleted", "victim", victim_key, "node", candidate.node);
      return Status::Ok();
    }
  }
  auto deleted = api->Delete(PodsResource(), ns, name);
  if (!deleted.ok()) {
    if (deleted.status().code() != Code::kNotFound) {
      CK_LOG_ERROR("Tried to preempted pod", "pod", victim_key, "err", deleted.status().ToString());
      return deleted.status();
    }
    CK_VLOG(2, "Victim Pod is already deleted", "victim", victim_key, "node", candidate.node);
    return Status::Ok();
  }
  CK_VLOG(2, "Preemptor Pod preempted victim Pod", "victim", victim_key, "node", candidate.node);
  if (client::EventRecorder* events = handle_.events(); events != nullptr) {
    events->Event(victim, client::kEventNormal, "Preempted",
                  "Preempted by pod " + preemptor.metadata().uid() + " on node " + candidate.node);
  }
  return Status::Ok();
}

}  // namespace ck::scheduler::plugins
