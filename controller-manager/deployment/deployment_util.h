// The Deployment controller's arithmetic and bookkeeping (upstream pkg/controller/deployment/util):
// maxSurge/maxUnavailable resolution, how far the new ReplicaSet may grow, proportional shares
// when a deployment is scaled mid-rollout, which ReplicaSet is "new", revision and replica
// annotations, the Available/Progressing conditions and the status computed from ReplicaSets.
// Everything here is a pure function over the objects passed in, so the table-driven tests can
// check upstream's numbers without an API. ReplicaSet lists may hold nullptr (upstream appends a
// nil new ReplicaSet to `allRSs`); every function skips it.
// Threading: pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <google/protobuf/map.h>

#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/intstr.pb.h"
#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::controller_manager::deployment {

namespace appsv1 = ::k8s::io::api::apps::v1;
namespace corev1 = ::k8s::io::api::core::v1;
namespace intstr = ::k8s::io::apimachinery::pkg::util::intstr;

using ReplicaSetPtr = std::shared_ptr<const appsv1::ReplicaSet>;
using ReplicaSets = std::vector<ReplicaSetPtr>;

// Labels and annotations (upstream names; kubectl rollout history/undo reads them).
inline constexpr char kPodTemplateHashLabel[] = "pod-template-hash";
inline constexpr char kRevisionAnnotation[] = "deployment.kubernetes.io/revision";
inline constexpr char kRevisionHistoryAnnotation[] = "deployment.kubernetes.io/revision-history";
inline constexpr char kDesiredReplicasAnnotation[] = "deployment.kubernetes.io/desired-replicas";
inline constexpr char kMaxReplicasAnnotation[] = "deployment.kubernetes.io/max-replicas";
inline constexpr char kRollbackToAnnotation[] = "deprecated.deployment.rollback.to";
inline constexpr char kLastAppliedConfigAnnotation[] = "kubectl.kubernetes.io/last-applied-configuration";
// Upstream maxRevHistoryLengthInChars: the revision-history annotation stays under ~2000 chars.
inline constexpr size_t kMaxRevisionHistoryChars = 2000;

inline constexpr char kRollingUpdate[] = "RollingUpdate";
inline constexpr char kRecreate[] = "Recreate";

// Condition types and reasons (upstream deploymentutil constants; kubectl shows them).
inline constexpr char kAvailable[] = "Available";
inline constexpr char kProgressing[] = "Progressing";
inline constexpr char kReplicaFailure[] = "ReplicaFailure";
inline constexpr char kMinimumReplicasAvailable[] = "MinimumReplicasAvailable";
inline constexpr char kMinimumReplicasUnavailable[] = "MinimumReplicasUnavailable";
inline constexpr char kNewReplicaSetReason[] = "NewReplicaSetCreated";
inline constexpr char kFoundNewReplicaSetReason[] = "FoundNewReplicaSet";
inline constexpr char kReplicaSetUpdatedReason[] = "ReplicaSetUpdated";
inline constexpr char kNewReplicaSetAvailableReason[] = "NewReplicaSetAvailable";
inline constexpr char kTimedOutReason[] = "ProgressDeadlineExceeded";
inline constexpr char kPausedReason[] = "DeploymentPaused";
inline constexpr char kResumedReason[] = "DeploymentResumed";
inline constexpr char kFailedReplicaSetCreateReason[] = "ReplicaSetCreateError";

// ---- Spec --------------------------------------------------------------------------------------

// Fills what apps/v1 defaulting (SetDefaults_Deployment) fills when absent: replicas 1, strategy
// RollingUpdate with maxUnavailable/maxSurge 25%, revisionHistoryLimit 10, progressDeadlineSeconds
// 600. The apiserver already did this for stored objects; the controller applies it again so that
// an object written without defaulting behaves the same.
void SetDefaults(appsv1::Deployment* d);

// spec.replicas of a ReplicaSet (absent: 1, the apps/v1 default).
int32_t SpecReplicas(const appsv1::ReplicaSet& rs);
bool IsRollingUpdate(const appsv1::Deployment& d);
// progressDeadlineSeconds is set and not MaxInt32 (upstream HasProgressDeadline).
bool HasProgressDeadline(const appsv1::Deployment& d);
bool HasRevisionHistoryLimit(const appsv1::Deployment& d);

// ---- Rolling-update arithmetic -----------------------------------------------------------------

// intstr.GetScaledValueFromIntOrPercent: an int as is; "N%" of `total`, rounded up or down.
// BadRequest `invalid value for IntOrString: invalid type: string is not a percentage` otherwise.
Result<int32_t> ScaledValueFromIntOrPercent(const intstr::IntOrString& value, int32_t total, bool round_up);

struct Fenceposts {
  int32_t max_surge = 0;
  int32_t max_unavailable = 0;
  friend bool operator==(const Fenceposts&, const Fenceposts&) = default;
};
// Upstream ResolveFenceposts: surge rounds up, unavailable rounds down (absent values are 0); when
// both come out 0, unavailable is 1 (surge might be blocked by quota).
Result<Fenceposts> ResolveFenceposts(const intstr::IntOrString* max_surge, const intstr::IntOrString* max_unavailable,
                                     int32_t desired);
// How many pods may be unavailable during the rollout: 0 unless RollingUpdate with replicas > 0,
// and never more than spec.replicas (upstream MaxUnavailable).
int32_t MaxUnavailable(const appsv1::Deployment& d);
// How many pods may exist above spec.replicas: 0 unless RollingUpdate (upstream MaxSurge).
int32_t MaxSurge(const appsv1::Deployment& d);
// spec.replicas - MaxUnavailable for RollingUpdate, 0 otherwise.
int32_t MinAvailable(const appsv1::Deployment& d);
// The size the new ReplicaSet may grow to now (upstream NewRSNewReplicas): RollingUpdate grows it
// by what maxSurge leaves free above the current total, never beyond spec.replicas; Recreate
// gives spec.replicas. BadRequest for another strategy or a bad maxSurge.
Result<int32_t> NewRSNewReplicas(const appsv1::Deployment& d, const ReplicaSets& all, const appsv1::ReplicaSet& new_rs);

// Upstream GetProportion: how many of the `to_add` replicas (negative when scaling down) this
// ReplicaSet takes, from its share of the size the deployment had (its max-replicas annotation),
// bounded by what is left after `added`.
int32_t GetProportion(const appsv1::ReplicaSet* rs, const appsv1::Deployment& d, int32_t to_add, int32_t added);

// Upstream scale()'s proportional step, for a RollingUpdate deployment with several active
// ReplicaSets (`active`): the size each should get so that the total becomes replicas + maxSurge
// (0 when replicas is 0), each keeping its share. Returned in the order they are written: largest
// first (equal sizes newest first when growing, oldest first when shrinking); rounding leftovers
// go to the first. `operation` is "up", "down" or "" (no change in total).
struct ProportionalPlan {
  std::string operation;
  std::vector<std::pair<ReplicaSetPtr, int32_t>> sizes;
};
ProportionalPlan PlanProportionalScale(const appsv1::Deployment& d, ReplicaSets active);

// ---- ReplicaSet lists --------------------------------------------------------------------------

int32_t ReplicaCount(const ReplicaSets& list);           // sum of spec.replicas
int32_t ActualReplicaCount(const ReplicaSets& list);     // sum of status.replicas
int32_t ReadyReplicaCount(const ReplicaSets& list);      // sum of status.readyReplicas
int32_t AvailableReplicaCount(const ReplicaSets& list);  // sum of status.availableReplicas
// The non-null ReplicaSets with spec.replicas > 0 (upstream FilterActiveReplicaSets).
ReplicaSets FilterActive(const ReplicaSets& list);

// Orders of upstream's sort types (nullptr never passed).
bool CreatedBefore(const appsv1::ReplicaSet& a, const appsv1::ReplicaSet& b);  // oldest first, then by name
void SortByCreationTimestamp(ReplicaSets* list);
// Larger first; equal sizes oldest first (scaling down) or newest first (scaling up).
void SortBySizeOlder(ReplicaSets* list);
void SortBySizeNewer(ReplicaSets* list);
// Lowest revision first, then oldest (upstream ReplicaSetsByRevision).
void SortByRevision(ReplicaSets* list);

// ---- Revisions and the new ReplicaSet ----------------------------------------------------------

// The revision annotation; 0 when absent. BadRequest when it is not a number.
Result<int64_t> Revision(const google::protobuf::Map<std::string, std::string>& annotations);
// The largest revision among `list` (unparsable ones skipped).
int64_t MaxRevision(const ReplicaSets& list);
// The two templates are equal once the pod-template-hash label is dropped from both (unset and
// empty fields count as equal, like apimachinery's semantic DeepEqual).
bool EqualIgnoreHash(const corev1::PodTemplateSpec& a, const corev1::PodTemplateSpec& b);
// The oldest ReplicaSet whose template equals the deployment's (EqualIgnoreHash); nullptr if none.
ReplicaSetPtr FindNewReplicaSet(const appsv1::Deployment& d, const ReplicaSets& list);
// Every ReplicaSet of `list` except the new one (upstream FindOldReplicaSets' allOldRSs).
ReplicaSets FindOldReplicaSets(const appsv1::Deployment& d, const ReplicaSets& list);
// The newest active one when exactly one is active; the new (else newest old) one when none is;
// nullptr when several are (upstream FindActiveOrLatest).
ReplicaSetPtr FindActiveOrLatest(const ReplicaSetPtr& new_rs, ReplicaSets old_rss);

// Upstream SetNewReplicaSetAnnotations: copies the deployment's annotations (except
// last-applied-configuration and the deployment.kubernetes.io/* ones), raises the revision to
// `new_revision` when lower (remembering the old one in revision-history, as kubectl rollout undo
// leaves it), and for a ReplicaSet about to be created (`exists` false) sets desired/max
// replicas. Returns whether anything changed.
bool SetNewReplicaSetAnnotations(const appsv1::Deployment& d, appsv1::ReplicaSet* rs, const std::string& new_revision,
                                 bool exists, size_t max_history_chars = kMaxRevisionHistoryChars);
// desired-replicas / max-replicas annotations; returns whether they changed.
bool SetReplicasAnnotations(appsv1::ReplicaSet* rs, int32_t desired, int32_t max_replicas);
bool ReplicasAnnotationsNeedUpdate(const appsv1::ReplicaSet& rs, int32_t desired, int32_t max_replicas);
std::optional<int32_t> DesiredReplicasAnnotation(const appsv1::ReplicaSet& rs);
std::optional<int32_t> MaxReplicasAnnotation(const appsv1::ReplicaSet& rs);
// Sets the deployment's revision annotation; returns whether it changed.
bool SetDeploymentRevision(appsv1::Deployment* d, const std::string& revision);
// The new ReplicaSet has spec.replicas, desired-replicas and availableReplicas all equal to the
// deployment's spec.replicas (upstream IsSaturated).
bool IsSaturated(const appsv1::Deployment& d, const appsv1::ReplicaSet* rs);

// ---- Conditions and status ---------------------------------------------------------------------

// A condition with lastUpdateTime = lastTransitionTime = `now` (whole seconds, as stored).
appsv1::DeploymentCondition NewCondition(std::string_view type, std::string_view status, std::string_view reason,
                                         std::string_view message, WallTime now);
const appsv1::DeploymentCondition* GetCondition(const appsv1::DeploymentStatus& status, std::string_view type);
// Upstream SetDeploymentCondition: nothing when status and reason are unchanged; otherwise the
// condition replaces the old one at the end of the list, keeping lastTransitionTime when the
// status is the same.
void SetCondition(appsv1::DeploymentStatus* status, appsv1::DeploymentCondition condition);
void RemoveCondition(appsv1::DeploymentStatus* status, std::string_view type);
// A ReplicaSet's ReplicaFailure condition as a deployment condition.
appsv1::DeploymentCondition ReplicaSetToDeploymentCondition(const appsv1::ReplicaSetCondition& c);

// Upstream calculateStatus: counts from the ReplicaSets, the deployment's conditions with
// Available set from MinAvailable, collisionCount kept.
appsv1::DeploymentStatus CalculateStatus(const ReplicaSets& all, const ReplicaSetPtr& new_rs,
                                         const appsv1::Deployment& d, WallTime now);
// Equal as API objects (unset and zero fields alike).
bool StatusEqual(const appsv1::DeploymentStatus& a, const appsv1::DeploymentStatus& b);
// All replicas updated and available and no old ones left, for the current generation.
bool DeploymentComplete(const appsv1::Deployment& d, const appsv1::DeploymentStatus& status);
// `status` shows progress over d.status: more updated, ready or available replicas, or fewer old.
bool DeploymentProgressing(const appsv1::Deployment& d, const appsv1::DeploymentStatus& status);
// The Progressing condition of `status` last moved more than progressDeadlineSeconds before `now`
// (never after NewReplicaSetAvailable; always once ProgressDeadlineExceeded).
bool DeploymentTimedOut(const appsv1::Deployment& d, const appsv1::DeploymentStatus& status, WallTime now);

}  // namespace ck::controller_manager::deployment
