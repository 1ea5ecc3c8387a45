// Construction, the constraints a pod is judged by (its own or the cluster defaults), the default
// selector, and the events that can make a rejected pod schedulable. The extension points live in
// filtering.cc (PreFilter/Filter/AddPod/RemovePod) and scoring.cc (PreScore/Score/NormalizeScore).
#include "scheduler/plugins/podtopologyspread/pod_topology_spread.h"

#include <map>
#include <string>
#include <utility>

#include "common/api/object.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/client/cache/indexer.h"

namespace ck::scheduler::plugins {

namespace appsv1 = ::k8s::io::api::apps::v1;
using podtopologyspread_internal::Constraint;
using podtopologyspread_internal::FilterConstraints;
using podtopologyspread_internal::kLabelHostname;
using podtopologyspread_internal::kLabelTopologyZone;
using podtopologyspread_internal::kScheduleAnyway;

namespace {

// systemDefaultConstraints.
podtopologyspread_internal::ApiConstraints SystemDefaultConstraints() {
  podtopologyspread_internal::ApiConstraints out;
  corev1::TopologySpreadConstraint* host = out.Add();
  host->set_topologykey(std::string(kLabelHostname));
  host->set_whenunsatisfiable(std::string(kScheduleAnyway));
  host->set_maxskew(3);
  corev1::TopologySpreadConstraint* zone = out.Add();
  zone->set_topologykey(std::string(kLabelTopologyZone));
  zone->set_whenunsatisfiable(std::string(kScheduleAnyway));
  zone->set_maxskew(5);
  return out;
}

// The objects of `indexer` in namespace `ns` (by the namespace index when it has one).
std::vector<client::ObjectPtr> ListInNamespace(const client::Indexer& indexer, const std::string& ns) {
  Result<std::vector<client::ObjectPtr>> by_index = indexer.ByIndex(client::kNamespaceIndex, ns);
  if (by_index.ok()) return std::move(by_index).value();
  std::vector<client::ObjectPtr> out;
  for (client::ObjectPtr& o : indexer.List()) {
    const auto* meta = o->GetDescriptor()->FindFieldByName("metadata");
    if (meta == nullptr) continue;
    const auto& m = static_cast<const ::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta&>(
        o->GetReflection()->GetMessage(*o, meta));
    if (m.namespace_() == ns) out.push_back(std::move(o));
  }
  return out;
}

template <typename T>
std::shared_ptr<const T> GetAs(const client::Indexer* indexer, const std::string& ns,
                               const std::string& name) {
  if (indexer == nullptr) return nullptr;
  client::ObjectPtr o = indexer->Get(ns, name);
  return std::dynamic_pointer_cast<const T>(o);
}

}  // namespace

PodTopologySpread::PodTopologySpread(Handle& handle, PodTopologySpreadArgs args) : handle_(handle) {
  if (args.defaulting_type == kSystemDefaulting) {
    default_constraints_ = SystemDefaultConstraints();
    system_defaulted_ = true;
  } else {
    default_constraints_ = std::move(args.default_constraints);
  }
}

Result<std::unique_ptr<Plugin>> NewPodTopologySpread(const PluginArgs& args, Handle& handle) {
  Result<PodTopologySpreadArgs> parsed = ParsePodTopologySpreadArgs(args);
  if (!parsed.ok()) return parsed.status();
  return std::unique_ptr<Plugin>(std::make_unique<PodTopologySpread>(handle, std::move(parsed).value()));
}

Result<std::vector<Constraint>> PodTopologySpread::ConstraintsFor(const corev1::Pod& pod,
                                                                  std::string_view action) const {
  const auto& labels = pod.metadata().labels();
  const std::string kind = action == podtopologyspread_internal::kDoNotSchedule ? "hard" : "soft";
  if (pod.spec().topologyspreadconstraints_size() > 0) {
    Result<std::vector<Constraint>> own =
        FilterConstraints(pod.spec().topologyspreadconstraints(), labels, action);
    if (!own.ok()) return own.status().WithPrefix("obtaining pod's " + kind + " topology spread constraints");
    return own;
  }
  // buildDefaultConstraints.
  Result<std::vector<Constraint>> defaults = FilterConstraints(default_constraints_, labels, action);
  if (!defaults.ok())
    return defaults.status().WithPrefix("setting default " + kind + " topology spread constraints");
  if (defaults->empty()) return defaults;
  api::LabelSelector selector = DefaultSelector(pod);
  if (selector.Empty()) return std::vector<Constraint>{};
  for (Constraint& c : *defaults) c.selector = selector;
  return defaults;
}

api::LabelSelector PodTopologySpread::DefaultSelector(const corev1::Pod& pod) const {
  const Listers& listers = handle_.listers();
  const std::string& ns = pod.metadata().namespace_();
  // Services, RCs, RSs and SSs that select the pod cannot disagree, so merging is safe.
  std::map<std::string, std::string> label_set;
  if (listers.services != nullptr) {
    for (const client::ObjectPtr& o : ListInNamespace(*listers.services, ns)) {
      const auto* svc = dynamic_cast<const corev1::Service*>(o.get());
      // A Service without a selector selects nothing, not everything.
      if (svc == nullptr || svc->spec().selector().empty()) continue;
      bool match = true;
      for (const auto& [k, v] : svc->spec().selector()) {
        const std::string* have = podtopologyspread_internal::FindLabel(pod.metadata().labels(), k);
        if (have == nullptr || *have != v) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      for (const auto& [k, v] : svc->spec().selector()) label_set[k] = v;
    }
  }
  api::LabelSelector selector = api::LabelSelector::FromSet(label_set);

  const auto* owner = api::GetControllerOf(pod.metadata());
  if (owner == nullptr) return selector;
  const std::string& api_version = owner->apiversion();
  const std::string& kind = owner->kind();
  if (api_version == "v1" && kind == "ReplicationController") {
    if (auto rc = GetAs<corev1::ReplicationController>(listers.replication_controllers, ns, owner->name())) {
      for (const auto& [k, v] : rc->spec().selector()) label_set[k] = v;
      selector = api::LabelSelector::FromSet(label_set);
    }
  } else if (api_version == "apps/v1" && (kind == "ReplicaSet" || kind == "StatefulSet")) {
    // The controller's selector requirements are added to the Services' ones; a nil selector
    // (selects nothing) adds none.
    std::shared_ptr<const google::protobuf::Message> owner_obj;
    const ::k8s::io::apimachinery::pkg::apis::meta::v1::LabelSelector* owner_selector = nullptr;
    if (kind == "ReplicaSet") {
      if (auto rs = GetAs<appsv1::ReplicaSet>(listers.replica_sets, ns, owner->name())) {
        owner_selector = rs->spec().has_selector() ? &rs->spec().selector() : nullptr;
        owner_obj = std::move(rs);
      }
    } else if (auto ss = GetAs<appsv1::StatefulSet>(listers.stateful_sets, ns, owner->name())) {
      owner_selector = ss->spec().has_selector() ? &ss->spec().selector() : nullptr;
      owner_obj = std::move(ss);
    }
    if (owner_obj != nullptr) {
      Result<api::LabelSelector> parsed = api::LabelSelector::FromProto(owner_selector);
      if (parsed.ok() && !parsed->MatchesNothing()) {
        for (const api::Requirement& r : parsed->requirements()) selector.Add(r).IgnoreError();
      }
    }
  }
  return selector;
}

std::vector<ClusterEvent> PodTopologySpread::EventsToRegister() const {
  // Pods: an added or deleted pod, or one whose labels changed, moves the domain counts.
  // Nodes: added, deleted, relabelled (topology keys) or retainted (nodeTaintsPolicy) nodes
  // change the domains.
  const uint32_t pod_actions = kActionAdd | kActionDelete | kActionUpdatePodLabel;
  return {
      ClusterEvent{EventResource::kPod, pod_actions, "Pod"},
      ClusterEvent{EventResource::kAssignedPod, pod_actions, "AssignedPod"},
      ClusterEvent{EventResource::kNode,
                   kActionAdd | kActionDelete | kActionUpdateNodeLabel | kActionUpdateNodeTaint, "Node"},
  };
}

}  // namespace ck::scheduler::plugins
