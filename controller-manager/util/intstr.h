// IntOrString values that are "an absolute number or a percentage of a total" (maxSurge,
// maxUnavailable, minAvailable): upstream intstr.GetScaledValueFromIntOrPercent.
// Threading: pure functions.
#pragma once

#include "common/api/proto/intstr.pb.h"
#include "common/base/status.h"

namespace ck::controller_manager {

using IntOrString = ::k8s::io::apimachinery::pkg::util::intstr::IntOrString;

// True when the value is a string ("25%"), i.e. a percentage.
bool IsPercent(const IntOrString& value);
// An int as itself; "N%" as N percent of `total`, rounded up or down. BadRequest for a string
// that is not "<int>%" (`invalid value for IntOrString: invalid value "x": ...`).
Result<int> ScaledValueFromIntOrPercent(const IntOrString& value, int total, bool round_up);
IntOrString FromInt(int value);
IntOrString FromString(std::string value);

}  // namespace ck::controller_manager
