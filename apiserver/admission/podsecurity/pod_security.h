// PodSecurity: the validating admission plugin that applies the Pod Security Standards by
// namespace label (upstream k8s.io/pod-security-admission). A namespace labelled
//   pod-security.kubernetes.io/<mode>: privileged|baseline|restricted
//   pod-security.kubernetes.io/<mode>-version: latest|v1.x        (mode: enforce, warn, audit)
// gets, for each pod CREATE/UPDATE (and pods/ephemeralcontainers):
//   enforce -> Forbidden `pods "x" is forbidden: violates PodSecurity "restricted:latest": ...`
//   warn    -> Context::warnings `would violate PodSecurity "baseline:latest": ...`
//   audit   -> Context::audit_annotations["pod-security.kubernetes.io/audit-violations"]
// Workload kinds with a pod template (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job,
// CronJob, ReplicationController, PodTemplate) get warn and audit only, never enforce. A
// namespace write with invalid labels is Invalid; changing the enforce level warns about
// existing pods that would violate it. Absent labels mean privileged:latest; invalid levels or
// versions on an existing namespace are evaluated as restricted:latest (fail closed). Pod
// updates that change neither images nor ephemeral containers are not re-evaluated. Nothing is
// exempt unless Options name it. Namespaces and pods are read from the ObjectSource.
// Threading: immutable after construction; Validate is safe from many threads.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/podsecurity/policy.h"

namespace ck::apiserver::podsecurity {

inline constexpr std::string_view kLabelPrefix = "pod-security.kubernetes.io/";
inline constexpr std::string_view kAuditViolationsAnnotation = "pod-security.kubernetes.io/audit-violations";
inline constexpr std::string_view kEnforcePolicyAnnotation = "pod-security.kubernetes.io/enforce-policy";
inline constexpr std::string_view kExemptAnnotation = "pod-security.kubernetes.io/exempt";

// The policy of one namespace, one LevelVersion per mode.
struct NamespacePolicy {
  LevelVersion enforce, warn, audit;
};
// From namespace labels. Invalid values are reported in `errors` ("metadata.labels[...]: Invalid
// value: ...") and evaluated as restricted:latest.
NamespacePolicy PolicyFromLabels(const google::protobuf::Map<std::string, std::string>& labels,
                                 std::vector<std::string>* errors);

class PodSecurity : public admission::Plugin {
 public:
  struct Options {
    std::set<std::string, std::less<>> exempt_usernames;
    std::set<std::string, std::less<>> exempt_namespaces;
    std::set<std::string, std::less<>> exempt_runtime_classes;
    // Existing pods listed in the warning for an enforce-level change (upstream evaluates a bounded number).
    size_t max_existing_pods = 3000;
  };
  // `source` must outlive the plugin.
  explicit PodSecurity(const admission::ObjectSource* source) : PodSecurity(source, Options{}) {}
  PodSecurity(const admission::ObjectSource* source, Options options);

  std::string_view name() const override { return "PodSecurity"; }
  Status Validate(const admission::Attributes& a, admission::Context& ctx) override;

 private:
  Status ValidatePod(const admission::Attributes& a, admission::Context& ctx);
  Status ValidatePodController(const admission::Attributes& a, admission::Context& ctx);
  Status ValidateNamespace(const admission::Attributes& a, admission::Context& ctx);
  // The namespace's policy; Internal when the namespace is not known.
  Result<NamespacePolicy> PolicyOf(const std::string& ns) const;

  const admission::ObjectSource* source_;
  Options options_;
};

}  // namespace ck::apiserver::podsecurity
