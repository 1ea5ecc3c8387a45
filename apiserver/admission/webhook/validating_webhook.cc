#include "apiserver/admission/webhook/validating_webhook.h"

#include <thread>

#include "apiserver/admission/webhook/matching.h"

namespace ck::apiserver::admission::webhook {

Status ValidatingWebhookPlugin::Validate(const Attributes& a, Context& ctx) {
  if (a.resource == nullptr || IsExemptResource(*a.resource)) return Status::Ok();
  std::vector<HookRef> hooks = dispatcher_.Hooks();
  // Matching first, on this thread: a matching error refuses the write before any call.
  std::vector<size_t> relevant;
  for (size_t i = 0; i < hooks.size(); ++i) {
    Result<bool> applies = dispatcher_.Applies(*hooks[i], a);
    if (!applies.ok()) return applies.status();
    if (*applies) relevant.push_back(i);
  }
  if (relevant.empty()) return Status::Ok();

  std::vector<HookOutcome> outcomes(relevant.size());
  if (relevant.size() == 1) {
    outcomes[0] = dispatcher_.Invoke(*hooks[relevant[0]], a);
  } else {
    std::vector<std::jthread> calls;
    calls.reserve(relevant.size());
    for (size_t k = 0; k < relevant.size(); ++k) {
      calls.emplace_back([&, k] { outcomes[k] = dispatcher_.Invoke(*hooks[relevant[k]], a); });
    }
  }  // the jthreads join here

  Status first_error;
  for (size_t k = 0; k < relevant.size(); ++k) {
    const Hook& hook = *hooks[relevant[k]];
    Dispatcher::Record(outcomes[k], hook, name(), 0, static_cast<int>(relevant[k]), ctx);
    const auto kind = outcomes[k].kind;
    if (first_error.ok() && (kind == HookOutcome::Kind::kRejected || kind == HookOutcome::Kind::kFailed)) {
      first_error = outcomes[k].status;
    }
  }
  return first_error;
}

}  // namespace ck::apiserver::admission::webhook
