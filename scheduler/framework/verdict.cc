// Verdict helpers (verdict.h).
#include "scheduler/framework/verdict.h"

#include "common/base/strings.h"

namespace ck::scheduler {

std::string_view VerdictCodeName(VerdictCode code) {
  switch (code) {
    case VerdictCode::kSuccess: return "Success";
    case VerdictCode::kError: return "Error";
    case VerdictCode::kUnschedulable: return "Unschedulable";
    case VerdictCode::kUnschedulableAndUnresolvable: return "UnschedulableAndUnresolvable";
    case VerdictCode::kWait: return "Wait";
    case VerdictCode::kSkip: return "Skip";
    case VerdictCode::kPending: return "Pending";
  }
  return "Unknown";
}

std::string Verdict::Message() const { return Join(reasons_, ", "); }

ck::Status Verdict::AsStatus() const {
  if (code_ != VerdictCode::kError) return ck::Status::Ok();
  return ck::Status(Code::kInternal, Message());
}

std::string Verdict::String() const {
  std::string out(VerdictCodeName(code_));
  if (!reasons_.empty()) out += ": " + Message();
  return out;
}

}  // namespace ck::scheduler
