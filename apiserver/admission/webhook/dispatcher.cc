#include "apiserver/admission/webhook/dispatcher.h"

#include <algorithm>

#include "common/base/log.h"

namespace ck::apiserver::admission::webhook {

HookOutcome Dispatcher::Failure(const Hook& hook, const std::string& reason) {
  HookOutcome out;
  std::string message = "failed calling webhook \"" + hook.name + "\": " + reason;
  if (hook.ignore_failures) {
    CK_LOG_WARNING("Failed calling webhook, failing open", "webhook", hook.name, "err", message);
    out.kind = HookOutcome::Kind::kFailedOpen;
    out.status = Internal(message);
  } else {
    CK_LOG_WARNING("Failed calling webhook, failing closed", "webhook", hook.name, "err", message);
    out.kind = HookOutcome::Kind::kFailed;
    out.status = Internal("Internal error occurred: " + message);
  }
  return out;
}

HookOutcome Dispatcher::Call(const Hook& hook, const Attributes& a) {
  Result<bool> applies = Applies(hook, a);
  if (!applies.ok()) {
    HookOutcome out;
    out.kind = HookOutcome::Kind::kFailed;
    out.status = applies.status();
    return out;
  }
  if (!*applies) return HookOutcome{};  // kSkipped
  return Invoke(hook, a);
}

HookOutcome Dispatcher::Invoke(const Hook& hook, const Attributes& a) {
  HookOutcome out;
  if (a.dry_run) {
    if (!hook.side_effects) return Failure(hook, "Webhook SideEffects is nil");
    if (*hook.side_effects != "None" && *hook.side_effects != "NoneOnDryRun") {
      out.kind = HookOutcome::Kind::kFailed;
      out.status = BadRequest("admission webhook \"" + hook.name + "\" does not support dry run");
      return out;
    }
  }
  if (!hook.review_versions.empty() &&
      std::find(hook.review_versions.begin(), hook.review_versions.end(), "v1") == hook.review_versions.end()) {
    return Failure(hook, "could not create admission objects: webhook does not accept known AdmissionReview versions (v1)");
  }
  const std::string uid = NewUid(random_);
  Result<std::string> body = BuildReviewRequest(a, uid);
  if (!body.ok()) return Failure(hook, "could not create admission objects: " + body.status().message());

  auto answer = client_.Call(hook, uid, *body);
  if (auto* failure = std::get_if<CallFailure>(&answer)) return Failure(hook, failure->reason);
  out.response = std::move(std::get<ReviewResponse>(answer));
  if (out.response.allowed) {
    out.kind = HookOutcome::Kind::kAllowed;
  } else {
    out.kind = HookOutcome::Kind::kRejected;
    out.status = DenialStatus(hook.name, out.response.status);
  }
  return out;
}

void Dispatcher::Record(const HookOutcome& outcome, const Hook& hook, std::string_view plugin, int round, int index,
                        Context& ctx) {
  if (outcome.kind == HookOutcome::Kind::kAllowed || outcome.kind == HookOutcome::Kind::kRejected) {
    for (const auto& w : outcome.response.warnings) ctx.warnings.push_back(w);
    for (const auto& [key, value] : outcome.response.audit_annotations) {
      ctx.audit_annotations[hook.name + "/" + key] = value;
    }
  }
  if (outcome.kind == HookOutcome::Kind::kFailedOpen) {
    std::string kind = hook.type == HookType::kMutating ? "mutation" : "validating";
    ctx.audit_annotations["failed-open." + kind + ".webhook.admission.k8s.io/round_" + std::to_string(round) +
                          "_index_" + std::to_string(index)] = hook.name;
    ctx.trace.push_back(std::string(plugin) + ": " + hook.name + " failed open: " + outcome.status.message());
  }
}

}  // namespace ck::apiserver::admission::webhook
