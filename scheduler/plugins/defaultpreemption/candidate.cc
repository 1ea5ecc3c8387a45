// Candidate ordering and PDB accounting (candidate.h).
#include "scheduler/plugins/defaultpreemption/candidate.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <memory>
#include <tuple>

#include "common/api/object.h"
#include "common/api/pod.h"
#include "common/api/proto/policy_v1.pb.h"
#include "common/base/check.h"
#include "common/client/cache/indexer.h"

namespace ck::scheduler::plugins {

namespace policyv1 = ::k8s::io::api::policy::v1;

std::vector<PdbInfo> PdbsFromLister(const client::Indexer* lister) {
  std::vector<PdbInfo> out;
  if (lister == nullptr) return out;
  std::vector<std::shared_ptr<const policyv1::PodDisruptionBudget>> pdbs;
  for (const client::ObjectPtr& obj : lister->List()) {
    auto pdb = std::dynamic_pointer_cast<const policyv1::PodDisruptionBudget>(obj);
    if (pdb != nullptr) pdbs.push_back(std::move(pdb));
  }
  // Key order, so that the budget a pod uses up does not depend on the cache's hash order.
  std::sort(pdbs.begin(), pdbs.end(), [](const auto& a, const auto& b) {
    return std::tie(a->metadata().namespace_(), a->metadata().name()) <
           std::tie(b->metadata().namespace_(), b->metadata().name());
  });
  out.reserve(pdbs.size());
  for (const auto& pdb : pdbs) {
    const auto& spec = pdb->spec();
    auto selector = api::LabelSelector::FromProto(spec.has_selector() ? &spec.selector() : nullptr);
    // An invalid selector does not match the pod; a nil or empty one matches nothing.
    if (!selector.ok() || selector->Empty() || selector->MatchesNothing()) continue;
    PdbInfo info;
    info.ns = pdb->metadata().namespace_();
    info.selector = std::move(*selector);
    info.disruptions_allowed = pdb->status().disruptionsallowed();
    for (const auto& [name, when] : pdb->status().disruptedpods()) info.disrupted_pods.insert(name);
    out.push_back(std::move(info));
  }
  return out;
}

WallTime PodStartTime(const corev1::Pod& pod, WallTime now) {
  if (pod.status().has_starttime() && !api::IsZeroTime(pod.status().starttime())) {
    return api::WallTimeOf(pod.status().starttime());
  }
  return now;
}

namespace {
}  // namespace

bool MoreImportantPod(const corev1::Pod& a, const corev1::Pod& b, WallTime now) {
  const int32_t pa = api::PodPriority(a);
  const int32_t pb = api::PodPriority(b);
  if (pa != pb) return pa > pb;
  return PodStartTime(a, now) < PodStartTime(b, now);
}

void FilterPodsWithPdbViolation(const std::vector<PodInfoPtr>& pods, const std::vector<PdbInfo>& pdbs,
                                std::vector<PodInfoPtr>* violating, std::vector<PodInfoPtr>* non_violating) {
  std::vector<int32_t> allowed(pdbs.size());
  for (size_t i = 0; i < pdbs.size(); ++i) allowed[i] = pdbs[i].disruptions_allowed;
  for (const PodInfoPtr& pi : pods) {
    const corev1::Pod& pod = *pi->pod;
    bool violated = false;
    // A pod without labels matches no PDB.
    if (!pod.metadata().labels().empty()) {
      for (size_t i = 0; i < pdbs.size(); ++i) {
        const PdbInfo& pdb = pdbs[i];
        if (pdb.ns != pod.metadata().namespace_()) continue;
        if (!pdb.selector.Matches(pod.metadata().labels())) continue;
        // Already in disruptedPods: the apiserver counted this eviction; do not count it twice.
        if (pdb.disrupted_pods.count(pod.metadata().name()) != 0) continue;
        if (--allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : non_violating)->push_back(pi);
  }
}

size_t PickOneNodeForPreemption(const std::vector<Candidate>& candidates, WallTime now) {
  CK_CHECK(!candidates.empty()) << "no candidates to pick from";
  if (candidates.size() == 1) return 0;

  // Each score function prefers higher scores; the next one breaks the ties of the previous.
  auto fewest_pdb_violations = [&](const Candidate& c) -> int64_t { return -c.num_pdb_violations; };
  auto lowest_highest_priority = [&](const Candidate& c) -> int64_t {
    return -static_cast<int64_t>(api::PodPriority(*c.victims.front()->pod));
  };
  auto smallest_priority_sum = [&](const Candidate& c) -> int64_t {
    // MaxInt32+1 added to each priority keeps every term positive: more pods never sum smaller.
    int64_t sum = 0;
    for (const auto& v : c.victims) {
      sum += static_cast<int64_t>(api::PodPriority(*v->pod)) +
             static_cast<int64_t>(std::numeric_limits<int32_t>::max()) + 1;
    }
    return -sum;
  };
  auto fewest_victims = [&](const Candidate& c) -> int64_t {
    return -static_cast<int64_t>(c.victims.size());
  };
  auto latest_start = [&](const Candidate& c) -> int64_t {
    // The earliest start among the highest-priority victims (upstream GetEarliestPodStartTime).
    int32_t max_priority = api::PodPriority(*c.victims.front()->pod);
    WallTime earliest = PodStartTime(*c.victims.front()->pod, now);
    for (const auto& v : c.victims) {
      const int32_t p = api::PodPriority(*v->pod);
      const WallTime start = PodStartTime(*v->pod, now);
      if (p == max_priority) {
        earliest = std::min(earliest, start);
      } else if (p > max_priority) {
        max_priority = p;
        earliest = start;
      }
    }
    return std::chrono::duration_cast<std::chrono::nanoseconds>(earliest.time_since_epoch()).count();
  };
  const std::function<int64_t(const Candidate&)> score_funcs[] = {
      fewest_pdb_violations, lowest_highest_priority, smallest_priority_sum, fewest_victims, latest_start};

  std::vector<size_t> remaining(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i) remaining[i] = i;
  std::vector<size_t> best;
  for (const auto& score : score_funcs) {
    best.clear();
    int64_t max_score = std::numeric_limits<int64_t>::min();
    for (size_t i : remaining) {
      const Candidate& c = candidates[i];
      CK_CHECK(!c.victims.empty()) << "candidate " << c.node << " has no victims";
      const int64_t s = score(c);
      if (s > max_score) {
        max_score = s;
        best.clear();
      }
      if (s == max_score) best.push_back(i);
    }
    if (best.size() == 1) return best[0];
    remaining.swap(best);
  }
  return remaining.front();
}

}  // namespace ck::scheduler::plugins
