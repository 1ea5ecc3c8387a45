#include "controller-manager/util/intstr.h"

#include <cmath>
#include <cstdlib>

namespace ck::controller_manager {

bool IsPercent(const IntOrString& value) { return value.type() == 1; }

Result<int> ScaledValueFromIntOrPercent(const IntOrString& value, int total, bool round_up) {
  if (!IsPercent(value)) return value.intval();
  const std::string& s = value.strval();
  if (s.size() < 2 || s.back() != '%') {
    return BadRequest("invalid value for IntOrString: invalid type: string is not a percentage");
  }
  char* end = nullptr;
  long percent = std::strtol(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() - 1) {
    return BadRequest("invalid value for IntOrString: invalid value \"" + s + "\": not an integer percentage");
  }
  // Integer arithmetic: percent * total / 100, rounded as asked (no floating point surprises).
  long long scaled = static_cast<long long>(percent) * total;
  long long q = scaled / 100;
  if (round_up && scaled % 100 != 0 && scaled > 0) ++q;
  return static_cast<int>(q);
}

IntOrString FromInt(int value) {
  IntOrString v;
  v.set_type(0);
  v.set_intval(value);
  return v;
}

IntOrString FromString(std::string value) {
  IntOrString v;
  v.set_type(1);
  v.set_strval(std::move(value));
  return v;
}

}  // namespace ck::controller_manager
