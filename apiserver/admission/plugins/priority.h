// Priority (mutating + validating): upstream's plugin/pkg/admission/priority.
// Admit, pod CREATE: spec.priorityClassName names a PriorityClass (scheduling.k8s.io/v1) whose
// value becomes spec.priority and whose preemptionPolicy becomes spec.preemptionPolicy; with no
// name, the global default class (globalDefault true; the lowest value if a race made several)
// is used and named, else priority 0. Errors (Forbidden, upstream wording): `no PriorityClass
// with name x was found`; a pod that sets spec.priority (or spec.preemptionPolicy) itself to
// something other than the class's value. Pod UPDATE keeps the stored priority when the new
// object drops it.
// Validate, PriorityClass CREATE/UPDATE: only one class may be globalDefault.
// SystemPriorityClasses(): the two classes the apiserver creates at start.
// Threading: stateless apart from the source; safe from any thread.
#pragma once

#include <vector>

#include "apiserver/admission/admission.h"
#include "common/api/proto/scheduling_v1.pb.h"

namespace ck::apiserver::admission::plugins {

inline constexpr int32_t kSystemCriticalPriority = 2'000'000'000;

// system-node-critical (2000001000) and system-cluster-critical (2000000000), with upstream's
// descriptions and preemptionPolicy PreemptLowerPriority.
std::vector<::k8s::io::api::scheduling::v1::PriorityClass> SystemPriorityClasses();

class Priority final : public Plugin {
 public:
  explicit Priority(const ObjectSource& source) : source_(source) {}
  std::string_view name() const override { return "Priority"; }
  bool mutating() const override { return true; }
  Status Admit(const Attributes& a, Context& ctx) override;
  Status Validate(const Attributes& a, Context& ctx) override;

 private:
  // The globalDefault class with the lowest value, or null.
  ObjectRef DefaultClass() const;

  const ObjectSource& source_;
};

}  // namespace ck::apiserver::admission::plugins
