#include "apiserver/admission/admission.h"

namespace ck::apiserver::admission {

std::string_view OperationName(Operation op) {
  switch (op) {
    case Operation::kCreate: return "CREATE";
    case Operation::kUpdate: return "UPDATE";
    case Operation::kDelete: return "DELETE";
    case Operation::kConnect: return "CONNECT";
  }
  return "CREATE";
}

Status Chain::Admit(const Attributes& a, Context& ctx) const {
  for (const auto& p : plugins_) {
    if (!p->mutating()) continue;
    Status s = p->Admit(a, ctx);
    if (!s.ok()) {
      ctx.trace.push_back(std::string(p->name()) + ": rejected: " + s.message());
      return s;
    }
  }
  return Status::Ok();
}

Status Chain::Validate(const Attributes& a, Context& ctx) const {
  for (const auto& p : plugins_) {
    if (!p->validating()) continue;
    Status s = p->Validate(a, ctx);
    if (!s.ok()) {
      ctx.trace.push_back(std::string(p->name()) + ": rejected: " + s.message());
      return s;
    }
  }
  return Status::Ok();
}

std::vector<std::string_view> Chain::names() const {
  std::vector<std::string_view> out;
  for (const auto& p : plugins_) out.push_back(p->name());
  return out;
}

}  // namespace ck::apiserver::admission
