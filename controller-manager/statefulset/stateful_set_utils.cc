#include "controller-manager/statefulset/stateful_set_utils.h"

#include <map>

#include <nlohmann/json.hpp>

#include "common/api/codec.h"
#include "common/base/strings.h"
#include "controller-manager/util/controller_ref.h"
#include "controller-manager/util/history.h"
#include "controller-manager/util/pod_control.h"
#include "controller-manager/util/pod_util.h"

namespace ck::controller_manager::statefulset {

appsv1::StatefulSet WithDefaults(const appsv1::StatefulSet& set) {
  appsv1::StatefulSet out = set;
  auto* spec = out.mutable_spec();
  if (!spec->has_replicas()) spec->set_replicas(1);
  if (spec->podmanagementpolicy().empty()) spec->set_podmanagementpolicy("OrderedReady");
  auto* strategy = spec->mutable_updatestrategy();
  if (strategy->type().empty()) {
    strategy->set_type("RollingUpdate");
    strategy->mutable_rollingupdate();
  }
  if (strategy->type() == "RollingUpdate" && strategy->has_rollingupdate() &&
      !strategy->rollingupdate().has_partition()) {
    strategy->mutable_rollingupdate()->set_partition(0);
  }
  if (!spec->has_revisionhistorylimit()) spec->set_revisionhistorylimit(10);
  auto* retention = spec->mutable_persistentvolumeclaimretentionpolicy();
  if (retention->whendeleted().empty()) retention->set_whendeleted("Retain");
  if (retention->whenscaled().empty()) retention->set_whenscaled("Retain");
  return out;
}

int StartOrdinal(const appsv1::StatefulSet& set) {
  return set.spec().has_ordinals() ? set.spec().ordinals().start() : 0;
}

int EndOrdinal(const appsv1::StatefulSet& set) { return StartOrdinal(set) + set.spec().replicas() - 1; }

bool AllowsBurst(const appsv1::StatefulSet& set) { return set.spec().podmanagementpolicy() == "Parallel"; }

ParentAndOrdinal ParseParentAndOrdinal(std::string_view pod_name) {
  // `(.*)-([0-9]+)$` with a greedy prefix: the last '-' followed by digits only.
  size_t dash = pod_name.rfind('-');
  if (dash == std::string_view::npos || dash + 1 == pod_name.size()) return {};
  std::string_view digits = pod_name.substr(dash + 1);
  for (char c : digits) {
    if (c < '0' || c > '9') return {};
  }
  ParentAndOrdinal out;
  out.parent = std::string(pod_name.substr(0, dash));
  std::optional<int64_t> n = ParseInt(digits);
  if (n && *n <= INT32_MAX) out.ordinal = static_cast<int>(*n);
  return out;
}

int OrdinalOf(const corev1::Pod& pod) { return ParseParentAndOrdinal(pod.metadata().name()).ordinal; }

bool IsMemberOf(const appsv1::StatefulSet& set, const corev1::Pod& pod) {
  return ParseParentAndOrdinal(pod.metadata().name()).parent == set.metadata().name();
}

bool PodInOrdinalRange(const corev1::Pod& pod, const appsv1::StatefulSet& set) {
  int ordinal = OrdinalOf(pod);
  return ordinal >= StartOrdinal(set) && ordinal <= EndOrdinal(set);
}

std::string PodName(const appsv1::StatefulSet& set, int ordinal) {
  return set.metadata().name() + "-" + std::to_string(ordinal);
}

std::string ClaimName(const appsv1::StatefulSet& set, const corev1::PersistentVolumeClaim& claim, int ordinal) {
  return claim.metadata().name() + "-" + set.metadata().name() + "-" + std::to_string(ordinal);
}

bool IdentityMatches(const appsv1::StatefulSet& set, const corev1::Pod& pod) {
  ParentAndOrdinal po = ParseParentAndOrdinal(pod.metadata().name());
  if (po.ordinal < 0 || po.parent != set.metadata().name()) return false;
  if (pod.metadata().name() != PodName(set, po.ordinal)) return false;
  if (pod.metadata().namespace_() != set.metadata().namespace_()) return false;
  auto it = pod.metadata().labels().find(kPodNameLabel);
  return it != pod.metadata().labels().end() && it->second == pod.metadata().name();
}

bool StorageMatches(const appsv1::StatefulSet& set, const corev1::Pod& pod) {
  int ordinal = OrdinalOf(pod);
  if (ordinal < 0) return false;
  std::map<std::string, const corev1::Volume*> volumes;
  for (const corev1::Volume& v : pod.spec().volumes()) volumes[v.name()] = &v;
  for (const corev1::PersistentVolumeClaim& claim : set.spec().volumeclaimtemplates()) {
    auto it = volumes.find(claim.metadata().name());
    if (it == volumes.end() || !it->second->volumesource().has_persistentvolumeclaim() ||
        it->second->volumesource().persistentvolumeclaim().claimname() != ClaimName(set, claim, ordinal)) {
      return false;
    }
  }
  return true;
}

void UpdateIdentity(const appsv1::StatefulSet& set, corev1::Pod* pod) {
  int ordinal = OrdinalOf(*pod);
  auto* meta = pod->mutable_metadata();
  meta->set_name(PodName(set, ordinal));
  meta->set_namespace_(set.metadata().namespace_());
  (*meta->mutable_labels())[kPodNameLabel] = meta->name();
  (*meta->mutable_labels())[kPodIndexLabel] = std::to_string(ordinal);
}

void UpdateStorage(const appsv1::StatefulSet& set, corev1::Pod* pod) {
  int ordinal = OrdinalOf(*pod);
  std::map<std::string, bool> templated;
  google::protobuf::RepeatedPtrField<corev1::Volume> volumes;
  for (const corev1::PersistentVolumeClaim& claim : set.spec().volumeclaimtemplates()) {
    if (templated[claim.metadata().name()]) continue;
    templated[claim.metadata().name()] = true;
    corev1::Volume* v = volumes.Add();
    v->set_name(claim.metadata().name());
    auto* source = v->mutable_volumesource()->mutable_persistentvolumeclaim();
    source->set_claimname(ClaimName(set, claim, ordinal));
    source->set_readonly(false);
  }
  for (const corev1::Volume& v : pod->spec().volumes()) {
    if (!templated.contains(v.name())) *volumes.Add() = v;
  }
  *pod->mutable_spec()->mutable_volumes() = std::move(volumes);
}

corev1::Pod NewStatefulSetPod(const appsv1::StatefulSet& set, int ordinal) {
  corev1::Pod pod = PodFromTemplate(set.spec().template_(), set.metadata().name(), NewControllerRef(set));
  pod.mutable_metadata()->set_name(PodName(set, ordinal));
  // initIdentity: hostname and subdomain are set on creation only (they are immutable after).
  UpdateIdentity(set, &pod);
  pod.mutable_spec()->set_hostname(pod.metadata().name());
  pod.mutable_spec()->set_subdomain(set.spec().servicename());
  UpdateStorage(set, &pod);
  return pod;
}

corev1::Pod NewVersionedStatefulSetPod(const appsv1::StatefulSet& current_set, const appsv1::StatefulSet& update_set,
                                       const std::string& current_revision, const std::string& update_revision,
                                       int ordinal) {
  const auto& strategy = current_set.spec().updatestrategy();
  const int start = StartOrdinal(current_set);
  // Upstream's condition, operator precedence included: (RollingUpdate && no rollingUpdate &&
  // below currentReplicas) || (rollingUpdate set && below the partition).
  bool at_current =
      (strategy.type() == "RollingUpdate" && !strategy.has_rollingupdate() &&
       ordinal < start + current_set.status().currentreplicas()) ||
      (strategy.has_rollingupdate() && ordinal < start + strategy.rollingupdate().partition());
  corev1::Pod pod = NewStatefulSetPod(at_current ? current_set : update_set, ordinal);
  SetPodRevision(&pod, at_current ? current_revision : update_revision);
  return pod;
}

std::string PodRevision(const corev1::Pod& pod) {
  auto it = pod.metadata().labels().find(kRevisionLabel);
  return it == pod.metadata().labels().end() ? "" : it->second;
}

void SetPodRevision(corev1::Pod* pod, const std::string& revision) {
  (*pod->mutable_metadata()->mutable_labels())[kRevisionLabel] = revision;
}

bool IsRunningAndReady(const corev1::Pod& pod) { return pod.status().phase() == "Running" && IsPodReady(pod); }

bool IsRunningAndAvailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now) {
  return pod.status().phase() == "Running" && IsPodAvailable(pod, min_ready_seconds, now);
}

bool IsFailed(const corev1::Pod& pod) { return pod.status().phase() == "Failed"; }
bool IsSucceeded(const corev1::Pod& pod) { return pod.status().phase() == "Succeeded"; }
bool IsTerminating(const corev1::Pod& pod) { return pod.metadata().has_deletiontimestamp(); }

bool IsUnavailable(const corev1::Pod& pod, int32_t min_ready_seconds, WallTime now) {
  return !IsRunningAndAvailable(pod, min_ready_seconds, now) || IsTerminating(pod);
}

Result<std::string> RevisionPatch(const appsv1::StatefulSet& set) {
  CK_ASSIGN_OR_RETURN(std::string template_json, api::ToJson(set.spec().template_()));
  // Upstream round-trips the set through map[string]interface{}, so the stored JSON has every
  // object's keys sorted; nlohmann's default object is a std::map and prints them the same way.
  nlohmann::json tmpl = nlohmann::json::parse(template_json, nullptr, /*allow_exceptions=*/false);
  if (tmpl.is_discarded() || !tmpl.is_object()) return Internal("statefulset: pod template did not encode as a JSON object");
  tmpl["$patch"] = "replace";
  nlohmann::json patch = nlohmann::json::object();
  patch["spec"]["template"] = std::move(tmpl);
  return patch.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<appsv1::ControllerRevision> NewRevision(const appsv1::StatefulSet& set, int64_t revision,
                                               int32_t collision_count) {
  CK_ASSIGN_OR_RETURN(std::string patch, RevisionPatch(set));
  std::map<std::string, std::string> labels(set.spec().template_().metadata().labels().begin(),
                                            set.spec().template_().metadata().labels().end());
  appsv1::ControllerRevision cr = NewControllerRevision(set, std::move(patch), labels, revision, collision_count);
  for (const auto& [k, v] : set.metadata().annotations()) (*cr.mutable_metadata()->mutable_annotations())[k] = v;
  return cr;
}

Result<appsv1::StatefulSet> ApplyRevision(const appsv1::StatefulSet& set, const appsv1::ControllerRevision& revision) {
  const std::string& raw = revision.data().raw();
  nlohmann::json data = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  auto bad = [&] { return Internal("statefulset: revision " + revision.metadata().name() + " holds no pod template"); };
  if (data.is_discarded() || !data.is_object()) return bad();
  auto spec = data.find("spec");
  if (spec == data.end() || !spec->is_object()) return bad();
  auto tmpl = spec->find("template");
  if (tmpl == spec->end() || !tmpl->is_object()) return bad();
  // The patch replaces the whole template ("$patch":"replace"), so applying it is decoding it.
  nlohmann::json template_only = *tmpl;
  template_only.erase("$patch");
  appsv1::StatefulSet out = set;
  api::DecodeOptions options;
  options.field_validation = api::FieldValidation::kIgnore;
  Status decoded = api::FromJson(template_only.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                 out.mutable_spec()->mutable_template_(), options);
  if (!decoded.ok()) return Internal("statefulset: revision " + revision.metadata().name() + ": " + decoded.message());
  return out;
}

void CompleteRollingUpdate(const appsv1::StatefulSet& set, appsv1::StatefulSetStatus* status) {
  const int32_t replicas = set.spec().replicas();
  if (set.spec().updatestrategy().type() == "RollingUpdate" && status->updatedreplicas() == replicas &&
      status->readyreplicas() == replicas && status->replicas() == replicas) {
    status->set_currentreplicas(status->updatedreplicas());
    status->set_currentrevision(status->updaterevision());
  }
}

bool InconsistentStatus(const appsv1::StatefulSet& set, const appsv1::StatefulSetStatus& status) {
  const appsv1::StatefulSetStatus& s = set.status();
  return status.observedgeneration() > s.observedgeneration() || status.replicas() != s.replicas() ||
         status.currentreplicas() != s.currentreplicas() || status.readyreplicas() != s.readyreplicas() ||
         status.updatedreplicas() != s.updatedreplicas() || status.currentrevision() != s.currentrevision() ||
         status.availablereplicas() != s.availablereplicas() || status.updaterevision() != s.updaterevision();
}

}  // namespace ck::controller_manager::statefulset
