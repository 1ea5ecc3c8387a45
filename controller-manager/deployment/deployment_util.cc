#include "controller-manager/deployment/deployment_util.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include <google/protobuf/util/message_differencer.h>

#include "common/api/object.h"
#include "common/base/log.h"
#include "common/base/strings.h"

namespace ck::controller_manager::deployment {

namespace {

constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();

void SetPercent(intstr::IntOrString* v, const char* percent) {
  v->set_type(1);
  v->set_strval(percent);
  v->clear_intval();
}

// Floor and ceiling of a / b for b > 0 and any sign of a (Go's math.Floor/Ceil of the quotient;
// exact, since the product fits an int64).
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t CeilDiv(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Go's integer.RoundToInt32: halves round away from zero.
int32_t RoundToInt32(double a) { return static_cast<int32_t>(a < 0 ? a - 0.5 : a + 0.5); }

std::optional<int32_t> Int32Annotation(const appsv1::ReplicaSet& rs, const char* key) {
  auto it = rs.metadata().annotations().find(key);
  if (it == rs.metadata().annotations().end()) return std::nullopt;
  std::optional<int64_t> v = ParseInt(it->second);
  if (!v || *v < std::numeric_limits<int32_t>::min() || *v > kMaxInt32) {
    CK_VLOG(2, "Cannot convert annotation to int32", "replicaSet", rs.metadata().name(), "annotation", key);
    return std::nullopt;
  }
  return static_cast<int32_t>(*v);
}

// Upstream annotationsToSkip: what a ReplicaSet never copies from its deployment.
bool SkipCopyAnnotation(const std::string& key) {
  return key == kLastAppliedConfigAnnotation || key == kRevisionAnnotation || key == kRevisionHistoryAnnotation ||
         key == kDesiredReplicasAnnotation || key == kMaxReplicasAnnotation || key == kRollbackToAnnotation;
}

bool CopyDeploymentAnnotations(const appsv1::Deployment& d, appsv1::ReplicaSet* rs) {
  bool changed = false;
  auto* annotations = rs->mutable_metadata()->mutable_annotations();
  for (const auto& [key, value] : d.metadata().annotations()) {
    if (SkipCopyAnnotation(key)) continue;
    auto it = annotations->find(key);
    if (it != annotations->end() && it->second == value) continue;
    (*annotations)[key] = value;
    changed = true;
  }
  return changed;
}

int64_t Nanos(const ::k8s::io::apimachinery::pkg::apis::meta::v1::Time& t) {
  return t.seconds() * 1000000000 + t.nanos();
}

}  // namespace

// ---- Spec --------------------------------------------------------------------------------------

void SetDefaults(appsv1::Deployment* d) {
  auto* spec = d->mutable_spec();
  if (!spec->has_replicas()) spec->set_replicas(1);
  auto* strategy = spec->mutable_strategy();
  if (strategy->type().empty()) strategy->set_type(kRollingUpdate);
  if (strategy->type() == kRollingUpdate) {
    auto* ru = strategy->mutable_rollingupdate();
    if (!ru->has_maxunavailable()) SetPercent(ru->mutable_maxunavailable(), "25%");
    if (!ru->has_maxsurge()) SetPercent(ru->mutable_maxsurge(), "25%");
  }
  if (!spec->has_revisionhistorylimit()) spec->set_revisionhistorylimit(10);
  if (!spec->has_progressdeadlineseconds()) spec->set_progressdeadlineseconds(600);
}

int32_t SpecReplicas(const appsv1::ReplicaSet& rs) { return rs.spec().has_replicas() ? rs.spec().replicas() : 1; }

bool IsRollingUpdate(const appsv1::Deployment& d) { return d.spec().strategy().type() == kRollingUpdate; }

bool HasProgressDeadline(const appsv1::Deployment& d) {
  return d.spec().has_progressdeadlineseconds() && d.spec().progressdeadlineseconds() != kMaxInt32;
}

bool HasRevisionHistoryLimit(const appsv1::Deployment& d) {
  return d.spec().has_revisionhistorylimit() && d.spec().revisionhistorylimit() != kMaxInt32;
}

// ---- Rolling-update arithmetic -----------------------------------------------------------------

Result<int32_t> ScaledValueFromIntOrPercent(const intstr::IntOrString& value, int32_t total, bool round_up) {
  if (value.type() == 0) return value.intval();
  if (value.type() != 1) return BadRequest("invalid value for IntOrString: invalid type: neither int nor percentage");
  std::string_view s = value.strval();
  if (!s.ends_with('%')) return BadRequest("invalid value for IntOrString: invalid type: string is not a percentage");
  s.remove_suffix(1);
  std::optional<int64_t> percent = ParseInt(s);
  if (!percent || *percent < std::numeric_limits<int32_t>::min() || *percent > kMaxInt32) {
    return BadRequest("invalid value for IntOrString: invalid value \"" + value.strval() + "\"");
  }
  int64_t product = *percent * static_cast<int64_t>(total);
  return static_cast<int32_t>(round_up ? CeilDiv(product, 100) : FloorDiv(product, 100));
}

Result<Fenceposts> ResolveFenceposts(const intstr::IntOrString* max_surge, const intstr::IntOrString* max_unavailable,
                                     int32_t desired) {
  intstr::IntOrString zero;
  zero.set_type(0);
  zero.set_intval(0);
  Fenceposts f;
  CK_ASSIGN_OR_RETURN(f.max_surge, ScaledValueFromIntOrPercent(max_surge ? *max_surge : zero, desired, true));
  CK_ASSIGN_OR_RETURN(f.max_unavailable,
                      ScaledValueFromIntOrPercent(max_unavailable ? *max_unavailable : zero, desired, false));
  // Validation forbids 0/0, but rounding maxUnavailable down can still reach it.
  if (f.max_surge == 0 && f.max_unavailable == 0) f.max_unavailable = 1;
  return f;
}

namespace {
Result<Fenceposts> FencepostsOf(const appsv1::Deployment& d) {
  const auto& ru = d.spec().strategy().rollingupdate();
  return ResolveFenceposts(ru.has_maxsurge() ? &ru.maxsurge() : nullptr,
                           ru.has_maxunavailable() ? &ru.maxunavailable() : nullptr, d.spec().replicas());
}
}  // namespace

int32_t MaxUnavailable(const appsv1::Deployment& d) {
  if (!IsRollingUpdate(d) || d.spec().replicas() == 0) return 0;
  Result<Fenceposts> f = FencepostsOf(d);  // a bad value is caught by validation
  if (!f.ok()) return 0;
  return std::min(f->max_unavailable, d.spec().replicas());
}

int32_t MaxSurge(const appsv1::Deployment& d) {
  if (!IsRollingUpdate(d)) return 0;
  Result<Fenceposts> f = FencepostsOf(d);
  return f.ok() ? f->max_surge : 0;
}

int32_t MinAvailable(const appsv1::Deployment& d) {
  if (!IsRollingUpdate(d)) return 0;
  return d.spec().replicas() - MaxUnavailable(d);
}

Result<int32_t> NewRSNewReplicas(const appsv1::Deployment& d, const ReplicaSets& all, const appsv1::ReplicaSet& new_rs) {
  const std::string& type = d.spec().strategy().type();
  if (type == kRecreate) return d.spec().replicas();
  if (type != kRollingUpdate) return BadRequest("deployment type " + type + " isn't supported");
  const auto& ru = d.spec().strategy().rollingupdate();
  if (!ru.has_maxsurge()) return BadRequest("nil value for IntOrString");
  CK_ASSIGN_OR_RETURN(int32_t max_surge, ScaledValueFromIntOrPercent(ru.maxsurge(), d.spec().replicas(), true));
  int32_t current = ReplicaCount(all);
  int32_t max_total = d.spec().replicas() + max_surge;
  if (current >= max_total) return SpecReplicas(new_rs);  // cannot scale up
  // Scale up by what the surge leaves free, but not beyond the desired count.
  int32_t scale_up = std::min(max_total - current, d.spec().replicas() - SpecReplicas(new_rs));
  return SpecReplicas(new_rs) + scale_up;
}

namespace {
// Upstream getReplicaSetFraction: the change this ReplicaSet's size needs to keep its share when
// the deployment's maximum size goes from the max-replicas annotation to replicas + maxSurge.
int32_t ReplicaSetFraction(const appsv1::ReplicaSet& rs, const appsv1::Deployment& d) {
  const int32_t size = SpecReplicas(rs);
  if (d.spec().replicas() == 0) return -size;  // scaling to zero: all of it goes
  const int32_t deployment_max = d.spec().replicas() + MaxSurge(d);
  // Without the annotation (edited by hand) fall back to the deployment's current size; the
  // bounds in GetProportion keep the result within limits.
  const int32_t before = MaxReplicasAnnotation(rs).value_or(d.status().replicas());
  if (before == 0) return 0;  // no share to scale from; the leftover goes to the largest set
  double new_size = static_cast<double>(static_cast<int64_t>(size) * deployment_max) / static_cast<double>(before);
  return RoundToInt32(new_size) - size;
}
}  // namespace

int32_t GetProportion(const appsv1::ReplicaSet* rs, const appsv1::Deployment& d, int32_t to_add, int32_t added) {
  if (rs == nullptr || SpecReplicas(*rs) == 0 || to_add == 0 || to_add == added) return 0;
  int32_t fraction = ReplicaSetFraction(*rs, d);
  int32_t allowed = to_add - added;
  // Never add (or remove) more than is left to add (or remove).
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

ProportionalPlan PlanProportionalScale(const appsv1::Deployment& d, ReplicaSets active) {
  ProportionalPlan plan;
  const int32_t replicas = d.spec().replicas();
  const int32_t allowed = replicas > 0 ? replicas + MaxSurge(d) : 0;
  const int32_t to_add = allowed - ReplicaCount(active);
  if (to_add > 0) {
    SortBySizeNewer(&active);  // equal sizes: newer ones grow first
    plan.operation = "up";
  } else if (to_add < 0) {
    SortBySizeOlder(&active);  // equal sizes: older ones shrink first
    plan.operation = "down";
  }
  int32_t added = 0;
  for (const auto& rs : active) {
    int32_t size = SpecReplicas(*rs);
    if (to_add != 0) {
      const int32_t proportion = GetProportion(rs.get(), d, to_add, added);
      size += proportion;
      added += proportion;
    }
    plan.sizes.emplace_back(rs, size);
  }
  if (!plan.sizes.empty() && to_add != 0) {
    plan.sizes[0].second = std::max(0, plan.sizes[0].second + to_add - added);
  }
  return plan;
}

// ---- ReplicaSet lists --------------------------------------------------------------------------

int32_t ReplicaCount(const ReplicaSets& list) {
  int32_t n = 0;
  for (const auto& rs : list) n += rs ? SpecReplicas(*rs) : 0;
  return n;
}
int32_t ActualReplicaCount(const ReplicaSets& list) {
  int32_t n = 0;
  for (const auto& rs : list) n += rs ? rs->status().replicas() : 0;
  return n;
}
int32_t ReadyReplicaCount(const ReplicaSets& list) {
  int32_t n = 0;
  for (const auto& rs : list) n += rs ? rs->status().readyreplicas() : 0;
  return n;
}
int32_t AvailableReplicaCount(const ReplicaSets& list) {
  int32_t n = 0;
  for (const auto& rs : list) n += rs ? rs->status().availablereplicas() : 0;
  return n;
}

ReplicaSets FilterActive(const ReplicaSets& list) {
  ReplicaSets out;
  for (const auto& rs : list) {
    if (rs && SpecReplicas(*rs) > 0) out.push_back(rs);
  }
  return out;
}

bool CreatedBefore(const appsv1::ReplicaSet& a, const appsv1::ReplicaSet& b) {
  int64_t ta = Nanos(a.metadata().creationtimestamp());
  int64_t tb = Nanos(b.metadata().creationtimestamp());
  if (ta == tb) return a.metadata().name() < b.metadata().name();
  return ta < tb;
}

void SortByCreationTimestamp(ReplicaSets* list) {
  std::sort(list->begin(), list->end(), [](const ReplicaSetPtr& a, const ReplicaSetPtr& b) { return CreatedBefore(*a, *b); });
}

void SortBySizeOlder(ReplicaSets* list) {
  std::sort(list->begin(), list->end(), [](const ReplicaSetPtr& a, const ReplicaSetPtr& b) {
    if (SpecReplicas(*a) == SpecReplicas(*b)) return CreatedBefore(*a, *b);
    return SpecReplicas(*a) > SpecReplicas(*b);
  });
}

void SortBySizeNewer(ReplicaSets* list) {
  std::sort(list->begin(), list->end(), [](const ReplicaSetPtr& a, const ReplicaSetPtr& b) {
    if (SpecReplicas(*a) == SpecReplicas(*b)) return CreatedBefore(*b, *a);
    return SpecReplicas(*a) > SpecReplicas(*b);
  });
}

void SortByRevision(ReplicaSets* list) {
  // An unparsable revision sorts as 0 (upstream falls back to creation order for it), which
  // keeps the order a strict weak one.
  auto rev = [](const ReplicaSetPtr& rs) {
    Result<int64_t> r = Revision(rs->metadata().annotations());
    return r.ok() ? *r : 0;
  };
  std::sort(list->begin(), list->end(), [&](const ReplicaSetPtr& a, const ReplicaSetPtr& b) {
    int64_t ra = rev(a), rb = rev(b);
    if (ra != rb) return ra < rb;
    return CreatedBefore(*a, *b);
  });
}

// ---- Revisions and the new ReplicaSet ----------------------------------------------------------

Result<int64_t> Revision(const google::protobuf::Map<std::string, std::string>& annotations) {
  auto it = annotations.find(kRevisionAnnotation);
  if (it == annotations.end()) return int64_t{0};
  std::optional<int64_t> v = ParseInt(it->second);
  if (!v) return BadRequest("strconv.ParseInt: parsing \"" + it->second + "\": invalid syntax");
  return *v;
}

int64_t MaxRevision(const ReplicaSets& list) {
  int64_t max = 0;
  for (const auto& rs : list) {
    if (!rs) continue;
    Result<int64_t> v = Revision(rs->metadata().annotations());
    if (!v.ok()) {
      CK_VLOG(4, "Couldn't parse revision for replica set", "replicaSet", rs->metadata().name(), "err",
              v.status().message());
      continue;
    }
    max = std::max(max, *v);
  }
  return max;
}

bool EqualIgnoreHash(const corev1::PodTemplateSpec& a, const corev1::PodTemplateSpec& b) {
  corev1::PodTemplateSpec ca = a, cb = b;
  ca.mutable_metadata()->mutable_labels()->erase(kPodTemplateHashLabel);
  cb.mutable_metadata()->mutable_labels()->erase(kPodTemplateHashLabel);
  return google::protobuf::util::MessageDifferencer::Equivalent(ca, cb);
}

ReplicaSetPtr FindNewReplicaSet(const appsv1::Deployment& d, const ReplicaSets& list) {
  ReplicaSets sorted;
  for (const auto& rs : list) {
    if (rs) sorted.push_back(rs);
  }
  SortByCreationTimestamp(&sorted);
  // Several may match (upstream #40415); the oldest one wins, deterministically.
  for (const auto& rs : sorted) {
    if (EqualIgnoreHash(rs->spec().template_(), d.spec().template_())) return rs;
  }
  return nullptr;
}

ReplicaSets FindOldReplicaSets(const appsv1::Deployment& d, const ReplicaSets& list) {
  ReplicaSetPtr new_rs = FindNewReplicaSet(d, list);
  ReplicaSets old;
  for (const auto& rs : list) {
    if (!rs || (new_rs && rs->metadata().uid() == new_rs->metadata().uid())) continue;
    old.push_back(rs);
  }
  return old;
}

ReplicaSetPtr FindActiveOrLatest(const ReplicaSetPtr& new_rs, ReplicaSets old_rss) {
  if (!new_rs && old_rss.empty()) return nullptr;
  SortByCreationTimestamp(&old_rss);
  std::reverse(old_rss.begin(), old_rss.end());  // newest first
  ReplicaSets all = old_rss;
  all.push_back(new_rs);
  ReplicaSets active = FilterActive(all);
  switch (active.size()) {
    case 0:
      // None active: the newest one takes the whole count.
      return new_rs ? new_rs : old_rss[0];
    case 1:
      return active[0];
    default:
      return nullptr;
  }
}

bool SetNewReplicaSetAnnotations(const appsv1::Deployment& d, appsv1::ReplicaSet* rs, const std::string& new_revision,
                                 bool exists, size_t max_history_chars) {
  bool changed = CopyDeploymentAnnotations(d, rs);
  auto* annotations = rs->mutable_metadata()->mutable_annotations();
  auto it = annotations->find(kRevisionAnnotation);
  const bool had_revision = it != annotations->end();
  const std::string old_revision = had_revision ? it->second : "";
  int64_t old_value = 0;
  if (!old_revision.empty()) {
    std::optional<int64_t> parsed = ParseInt(old_revision);
    if (!parsed) {
      CK_LOG_INFO("Updating replica set revision OldRevision not int", "replicaSet", rs->metadata().name());
      return false;
    }
    old_value = *parsed;
  }
  std::optional<int64_t> new_value = ParseInt(new_revision);
  if (!new_value) {
    CK_LOG_INFO("Updating replica set revision NewRevision not int", "replicaSet", rs->metadata().name());
    return false;
  }
  // The new ReplicaSet's revision must be the highest; it only ever goes up (old ReplicaSets
  // deleted after it was set can make new_revision smaller).
  if (old_value < *new_value) {
    (*annotations)[kRevisionAnnotation] = new_revision;
    changed = true;
  }
  // A ReplicaSet that had a revision and gets a higher one is being rolled back to: keep the
  // revisions it had, within the length limit, dropping the oldest first.
  if (had_revision && old_value < *new_value) {
    auto h = annotations->find(kRevisionHistoryAnnotation);
    const std::string history = h != annotations->end() ? h->second : std::string();
    if (history.empty()) {
      (*annotations)[kRevisionHistoryAnnotation] = old_revision;
    } else {
      std::vector<std::string_view> parts = Split(history, ',');
      size_t total = history.size() + old_revision.size() + 1;
      size_t start = 0;
      while (total > max_history_chars && start < parts.size()) {
        total -= parts[start].size() + 1;
        ++start;
      }
      if (total <= max_history_chars) {
        std::vector<std::string> kept(parts.begin() + static_cast<std::ptrdiff_t>(start), parts.end());
        kept.push_back(old_revision);
        (*annotations)[kRevisionHistoryAnnotation] = Join(kept, ",");
      } else {
        CK_LOG_INFO("Not appending revision due to revision history length limit reached", "revisionHistoryLimit",
                    static_cast<int64_t>(max_history_chars));
      }
    }
  }
  if (!exists && SetReplicasAnnotations(rs, d.spec().replicas(), d.spec().replicas() + MaxSurge(d))) changed = true;
  return changed;
}

bool SetReplicasAnnotations(appsv1::ReplicaSet* rs, int32_t desired, int32_t max_replicas) {
  bool changed = false;
  auto* annotations = rs->mutable_metadata()->mutable_annotations();
  const std::string desired_text = std::to_string(desired);
  if (auto it = annotations->find(kDesiredReplicasAnnotation); it == annotations->end() || it->second != desired_text) {
    (*annotations)[kDesiredReplicasAnnotation] = desired_text;
    changed = true;
  }
  const std::string max_text = std::to_string(max_replicas);
  if (auto it = annotations->find(kMaxReplicasAnnotation); it == annotations->end() || it->second != max_text) {
    (*annotations)[kMaxReplicasAnnotation] = max_text;
    changed = true;
  }
  return changed;
}

bool ReplicasAnnotationsNeedUpdate(const appsv1::ReplicaSet& rs, int32_t desired, int32_t max_replicas) {
  const auto& annotations = rs.metadata().annotations();
  auto d = annotations.find(kDesiredReplicasAnnotation);
  if (d == annotations.end() || d->second != std::to_string(desired)) return true;
  auto m = annotations.find(kMaxReplicasAnnotation);
  return m == annotations.end() || m->second != std::to_string(max_replicas);
}

std::optional<int32_t> DesiredReplicasAnnotation(const appsv1::ReplicaSet& rs) {
  return Int32Annotation(rs, kDesiredReplicasAnnotation);
}

std::optional<int32_t> MaxReplicasAnnotation(const appsv1::ReplicaSet& rs) {
  return Int32Annotation(rs, kMaxReplicasAnnotation);
}

bool SetDeploymentRevision(appsv1::Deployment* d, const std::string& revision) {
  auto* annotations = d->mutable_metadata()->mutable_annotations();
  auto it = annotations->find(kRevisionAnnotation);
  if (it != annotations->end() && it->second == revision) return false;
  (*annotations)[kRevisionAnnotation] = revision;
  return true;
}

bool IsSaturated(const appsv1::Deployment& d, const appsv1::ReplicaSet* rs) {
  if (rs == nullptr) return false;
  std::optional<int32_t> desired = DesiredReplicasAnnotation(*rs);
  if (!desired) return false;
  const int32_t replicas = d.spec().replicas();
  return SpecReplicas(*rs) == replicas && *desired == replicas && rs->status().availablereplicas() == replicas;
}

// ---- Conditions and status ---------------------------------------------------------------------

appsv1::DeploymentCondition NewCondition(std::string_view type, std::string_view status, std::string_view reason,
                                         std::string_view message, WallTime now) {
  appsv1::DeploymentCondition c;
  c.set_type(std::string(type));
  c.set_status(std::string(status));
  c.set_reason(std::string(reason));
  c.set_message(std::string(message));
  WallTime seconds = std::chrono::floor<std::chrono::seconds>(now);
  *c.mutable_lastupdatetime() = api::MakeTime(seconds);
  *c.mutable_lasttransitiontime() = api::MakeTime(seconds);
  return c;
}

const appsv1::DeploymentCondition* GetCondition(const appsv1::DeploymentStatus& status, std::string_view type) {
  for (const auto& c : status.conditions()) {
    if (c.type() == type) return &c;
  }
  return nullptr;
}

void SetCondition(appsv1::DeploymentStatus* status, appsv1::DeploymentCondition condition) {
  const appsv1::DeploymentCondition* current = GetCondition(*status, condition.type());
  if (current != nullptr && current->status() == condition.status() && current->reason() == condition.reason()) return;
  // The transition time moves only with the status.
  if (current != nullptr && current->status() == condition.status()) {
    *condition.mutable_lasttransitiontime() = current->lasttransitiontime();
  }
  RemoveCondition(status, condition.type());
  *status->add_conditions() = std::move(condition);
}

void RemoveCondition(appsv1::DeploymentStatus* status, std::string_view type) {
  auto* conditions = status->mutable_conditions();
  for (int i = conditions->size() - 1; i >= 0; --i) {
    if (conditions->Get(i).type() == type) conditions->erase(conditions->begin() + i);
  }
}

appsv1::DeploymentCondition ReplicaSetToDeploymentCondition(const appsv1::ReplicaSetCondition& c) {
  appsv1::DeploymentCondition out;
  out.set_type(c.type());
  out.set_status(c.status());
  out.set_reason(c.reason());
  out.set_message(c.message());
  *out.mutable_lastupdatetime() = c.lasttransitiontime();
  *out.mutable_lasttransitiontime() = c.lasttransitiontime();
  return out;
}

appsv1::DeploymentStatus CalculateStatus(const ReplicaSets& all, const ReplicaSetPtr& new_rs,
                                         const appsv1::Deployment& d, WallTime now) {
  const int32_t available = AvailableReplicaCount(all);
  const int32_t total = ReplicaCount(all);
  appsv1::DeploymentStatus status;
  status.set_observedgeneration(d.metadata().generation());
  status.set_replicas(ActualReplicaCount(all));
  status.set_updatedreplicas(ActualReplicaCount({new_rs}));
  status.set_readyreplicas(ReadyReplicaCount(all));
  status.set_availablereplicas(available);
  // More available than desired happens while scaling down; that is no unavailability.
  status.set_unavailablereplicas(std::max(0, total - available));
  if (d.status().has_collisioncount()) status.set_collisioncount(d.status().collisioncount());
  *status.mutable_conditions() = d.status().conditions();
  if (available >= d.spec().replicas() - MaxUnavailable(d)) {
    SetCondition(&status, NewCondition(kAvailable, "True", kMinimumReplicasAvailable,
                                       "Deployment has minimum availability.", now));
  } else {
    SetCondition(&status, NewCondition(kAvailable, "False", kMinimumReplicasUnavailable,
                                       "Deployment does not have minimum availability.", now));
  }
  return status;
}

bool StatusEqual(const appsv1::DeploymentStatus& a, const appsv1::DeploymentStatus& b) {
  return google::protobuf::util::MessageDifferencer::Equivalent(a, b);
}

bool DeploymentComplete(const appsv1::Deployment& d, const appsv1::DeploymentStatus& status) {
  const int32_t replicas = d.spec().replicas();
  return status.updatedreplicas() == replicas && status.replicas() == replicas &&
         status.availablereplicas() == replicas && status.observedgeneration() >= d.metadata().generation();
}

bool DeploymentProgressing(const appsv1::Deployment& d, const appsv1::DeploymentStatus& status) {
  const appsv1::DeploymentStatus& old = d.status();
  const int32_t old_old_replicas = old.replicas() - old.updatedreplicas();
  const int32_t new_old_replicas = status.replicas() - status.updatedreplicas();
  return status.updatedreplicas() > old.updatedreplicas() || new_old_replicas < old_old_replicas ||
         status.readyreplicas() > old.readyreplicas() || status.availablereplicas() > old.availablereplicas();
}

bool DeploymentTimedOut(const appsv1::Deployment& d, const appsv1::DeploymentStatus& status, WallTime now) {
  if (!HasProgressDeadline(d)) return false;
  const appsv1::DeploymentCondition* c = GetCondition(status, kProgressing);
  if (c == nullptr) return false;
  // A finished rollout is not re-judged: a resync may see the new ReplicaSet before the cache
  // sees the condition that marks the new rollout.
  if (c->reason() == kNewReplicaSetAvailableReason) return false;
  if (c->reason() == kTimedOutReason) return true;
  // Since the last progress, creation attempt or resume.
  WallTime from = api::WallTimeOf(c->lastupdatetime());
  return from + std::chrono::seconds(d.spec().progressdeadlineseconds()) < now;
}

}  // namespace ck::controller_manager::deployment
