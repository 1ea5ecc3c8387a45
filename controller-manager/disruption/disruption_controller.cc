#include "controller-manager/disruption/disruption_controller.h"

#include <set>

#include "common/api/label_selector.h"
#include "common/api/object.h"
#include "common/base/log.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/intstr.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager {

namespace policyv1 = ::k8s::io::api::policy::v1;
namespace appsv1 = ::k8s::io::api::apps::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

namespace {

// policy/v1: a nil selector selects nothing; an empty one every pod of the namespace.
bool Selects(const policyv1::PodDisruptionBudget& pdb, const corev1::Pod& pod) {
  if (!pdb.spec().has_selector()) return false;
  Result<api::LabelSelector> sel = api::LabelSelector::FromProto(&pdb.spec().selector());
  return sel.ok() && sel->Matches(pod.metadata().labels());
}

void SetCondition(policyv1::PodDisruptionBudgetStatus* st, bool allowed, const std::string& reason,
                  const std::string& message, int64_t generation, const metav1::Time& now,
                  const policyv1::PodDisruptionBudgetStatus& old) {
  metav1::Condition c;
  c.set_type("DisruptionAllowed");
  c.set_status(allowed ? "True" : "False");
  c.set_reason(reason);
  c.set_message(message);
  c.set_observedgeneration(generation);
  *c.mutable_lasttransitiontime() = now;
  for (const auto& prev : old.conditions()) {
    if (prev.type() == "DisruptionAllowed" && prev.status() == c.status()) {
      *c.mutable_lasttransitiontime() = prev.lasttransitiontime();  // unchanged status keeps its time
    }
  }
  st->clear_conditions();
  *st->add_conditions() = c;
}

}  // namespace

DisruptionController::DisruptionController(ControllerContext& context, int workers)
    : ManagedController(client::ControllerOptions{
          .name = "disruption", .workers = workers, .clock = &context.clock, .registry = &context.metrics}),
      api_(context.api),
      clock_(context.clock),
      budgets_(context.informers.ForKind<Budget>()),
      pods_(context.informers.ForKind<Pod>()),
      replica_sets_(context.informers.ForKind<appsv1::ReplicaSet>()),
      deployments_(context.informers.ForKind<appsv1::Deployment>()),
      stateful_sets_(context.informers.ForKind<appsv1::StatefulSet>()) {
  Handle(budgets_, client::TypedEventHandler<Budget>{
      .on_add = [this](const auto& pdb, bool) { Enqueue(api::ObjectKey(pdb->metadata())); },
      .on_update = [this](const auto&, const auto& pdb) { Enqueue(api::ObjectKey(pdb->metadata())); },
      .on_delete = [this](const auto& pdb, bool) { Enqueue(api::ObjectKey(pdb->metadata())); },
  });
  Handle(pods_, client::TypedEventHandler<Pod>{
      .on_add = [this](const auto& pod, bool) { EnqueueBudgetsOf(*pod); },
      .on_update =
          [this](const auto& old, const auto& pod) {
            EnqueueBudgetsOf(*pod);
            // A pod whose labels changed may have left a budget.
            if (!SameLabels(old->metadata().labels(), pod->metadata().labels())) EnqueueBudgetsOf(*old);
          },
      .on_delete = [this](const auto& pod, bool) { EnqueueBudgetsOf(*pod); },
  });
}

DisruptionController::~DisruptionController() {
  RemoveHandlers();
  Stop();
}

std::vector<client::SharedIndexInformer*> DisruptionController::Informers() const {
  return {&budgets_.Informer(), &pods_.Informer(), &replica_sets_.Informer(), &deployments_.Informer(),
          &stateful_sets_.Informer()};
}

void DisruptionController::EnqueueBudgetsOf(const Pod& pod) {
  for (const auto& pdb : budgets_.Lister().Namespace(pod.metadata().namespace_()).List()) {
    if (Selects(*pdb, pod)) Enqueue(api::ObjectKey(pdb->metadata()));
  }
}

Result<int> DisruptionController::ExpectedScale(const Budget& pdb, const std::vector<std::shared_ptr<const Pod>>& pods) {
  std::set<std::string> counted;  // controller uids
  int expected = 0;
  const std::string& ns = pdb.metadata().namespace_();
  for (const auto& pod : pods) {
    const metav1::OwnerReference* ref = api::GetControllerOf(pod->metadata());
    if (ref == nullptr) {
      return NotFound("found no controller ref for pod \"" + pod->metadata().name() + "\"");
    }
    std::string uid = ref->uid();
    int scale = -1;
    if (ref->kind() == "ReplicaSet") {
      auto rs = replica_sets_.Lister().Get(ns, ref->name());
      if (rs.ok() && (*rs)->metadata().uid() == ref->uid()) {
        // A Deployment's ReplicaSet counts as the Deployment (its scale is what the user set).
        const metav1::OwnerReference* owner = api::GetControllerOf((*rs)->metadata());
        if (owner != nullptr && owner->kind() == "Deployment") {
          auto d = deployments_.Lister().Get(ns, owner->name());
          if (d.ok() && (*d)->metadata().uid() == owner->uid()) {
            uid = owner->uid();
            scale = (*d)->spec().has_replicas() ? (*d)->spec().replicas() : 1;
          }
        } else {
          scale = (*rs)->spec().has_replicas() ? (*rs)->spec().replicas() : 1;
        }
      }
    } else if (ref->kind() == "StatefulSet") {
      auto sts = stateful_sets_.Lister().Get(ns, ref->name());
      if (sts.ok() && (*sts)->metadata().uid() == ref->uid()) {
        scale = (*sts)->spec().has_replicas() ? (*sts)->spec().replicas() : 1;
      }
    }
    if (scale < 0) {
      return NotFound("found no controllers for pod \"" + pod->metadata().name() + "\"");
    }
    if (counted.insert(uid).second) expected += scale;
  }
  return expected;
}

Status DisruptionController::Sync(const std::string& key) {
  CK_ASSIGN_OR_RETURN(auto name, api::SplitObjectKey(key));
  Result<std::shared_ptr<const Budget>> got = budgets_.Lister().Get(name.first, name.second);
  if (got.status().code() == Code::kNotFound) return Status::Ok();
  CK_RETURN_IF_ERROR(got.status());
  const Budget& pdb = **got;
  const WallTime now = clock_.Now();

  std::vector<std::shared_ptr<const Pod>> pods;
  {
    for (auto& p : pods_.Lister().Namespace(pdb.metadata().namespace_()).List()) {
      if (Selects(pdb, *p)) pods.push_back(std::move(p));
    }
  }

  // Expected and desired healthy pods (upstream getExpectedPodCount).
  int expected = 0, desired = 0;
  const auto& spec = pdb.spec();
  if (spec.has_maxunavailable()) {
    Result<int> scale = ExpectedScale(pdb, pods);
    if (!scale.ok()) return FailSafe(pdb, scale.status().message());
    expected = *scale;
    Result<int> max_unavailable = ScaledValueFromIntOrPercent(spec.maxunavailable(), expected, true);
    if (!max_unavailable.ok()) return FailSafe(pdb, max_unavailable.status().message());
    desired = std::max(0, expected - *max_unavailable);
  } else if (spec.has_minavailable() && !IsPercent(spec.minavailable())) {
    expected = static_cast<int>(pods.size());
    desired = spec.minavailable().intval();
  } else if (spec.has_minavailable()) {
    Result<int> scale = ExpectedScale(pdb, pods);
    if (!scale.ok()) return FailSafe(pdb, scale.status().message());
    expected = *scale;
    Result<int> min_available = ScaledValueFromIntOrPercent(spec.minavailable(), expected, true);
    if (!min_available.ok()) return FailSafe(pdb, min_available.status().message());
    desired = *min_available;
  }

  // Evictions the apiserver recorded and the pod has not yet shown (upstream buildDisruptedPodMap).
  policyv1::PodDisruptionBudgetStatus st;
  std::optional<WallTime> recheck;
  std::set<std::string> disrupted;
  for (const auto& [pod_name, when] : pdb.status().disruptedpods()) {
    bool live = false;
    for (const auto& p : pods) {
      if (p->metadata().name() == pod_name && !p->metadata().has_deletiontimestamp()) live = true;
    }
    if (!live) continue;  // gone or being deleted: the eviction took effect
    WallTime expires = api::WallTimeOf(when) + kDeletionTimeout;
    if (expires <= now) {
      CK_LOG_WARNING("Pod was expected to be deleted but it was not, skipping", "pod", pod_name, "pdb", key);
      continue;
    }
    (*st.mutable_disruptedpods())[pod_name] = when;
    disrupted.insert(pod_name);
    if (!recheck || expires < *recheck) recheck = expires;
  }
  int healthy = 0;
  for (const auto& p : pods) {
    if (p->metadata().has_deletiontimestamp() || disrupted.count(p->metadata().name())) continue;
    if (IsPodReady(*p)) ++healthy;
  }
  const int allowed = std::max(0, healthy - desired);
  st.set_observedgeneration(pdb.metadata().generation());
  st.set_disruptionsallowed(allowed);
  st.set_currenthealthy(healthy);
  st.set_desiredhealthy(desired);
  st.set_expectedpods(expected);
  SetCondition(&st, allowed > 0, allowed > 0 ? "SufficientPods" : "InsufficientPods", "",
               pdb.metadata().generation(), api::MakeTime(now), pdb.status());
  CK_RETURN_IF_ERROR(WriteStatus(pdb, std::move(st)));
  if (recheck) EnqueueAfter(key, *recheck - now);
  return Status::Ok();
}

Status DisruptionController::FailSafe(const Budget& pdb, const std::string& message) {
  CK_LOG_WARNING("Failed to sync PodDisruptionBudget", "pdb", api::ObjectKey(pdb.metadata()), "err", message);
  policyv1::PodDisruptionBudgetStatus st = pdb.status();
  st.set_observedgeneration(pdb.metadata().generation());
  st.set_disruptionsallowed(0);
  SetCondition(&st, false, "SyncFailed", message, pdb.metadata().generation(), api::MakeTime(clock_.Now()),
               pdb.status());
  return WriteStatus(pdb, std::move(st));
}

Status DisruptionController::WriteStatus(const Budget& pdb, policyv1::PodDisruptionBudgetStatus status) {
  std::string a, b;
  pdb.status().SerializeToString(&a);
  status.SerializeToString(&b);
  if (a == b) return Status::Ok();
  Budget next = pdb;
  *next.mutable_status() = std::move(status);
  const client::ResourceInfo& r = client::SharedInformerFactory::ResourceOfMessage(Budget::descriptor()->full_name());
  Result<client::ObjectPtr> updated = api_.Update(r, pdb.metadata().namespace_(), next, "status");
  // A conflict means the apiserver just recorded an eviction: the informer brings it, and the
  // queue retries this key.
  return updated.status();
}

}  // namespace ck::controller_manager
