#include "apiserver/admission/webhook/mutating_webhook.h"

#include <rapidjson/document.h>

#include <set>

#include "apiserver/admission/webhook/matching.h"
#include "apiserver/patch/patch.h"
#include "common/api/codec.h"

namespace ck::apiserver::admission::webhook {
namespace {

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The number of operations of a JSON patch, or an error when it is not a JSON array (upstream
// decodes the patch before applying it: "received undecodable patch in webhook response").
Result<int> CountOperations(const std::string& patch) {
  rapidjson::Document doc;
  doc.Parse(patch.data(), patch.size());
  if (doc.HasParseError() || !doc.IsArray()) return BadRequest("the patch is not a JSON array");
  return static_cast<int>(doc.Size());
}

}  // namespace

Status MutatingWebhookPlugin::CallOne(const Hook& hook, const Attributes& a, int round, int index, Context& ctx,
                                      bool* called, bool* changed) {
  *called = false;
  *changed = false;
  HookOutcome outcome = dispatcher_.Call(hook, a);
  if (outcome.kind == HookOutcome::Kind::kSkipped) return Status::Ok();
  *called = true;
  const std::string plugin(name());
  bool mutated = false;
  if (outcome.kind == HookOutcome::Kind::kAllowed && !outcome.response.patch.empty()) {
    Result<int> ops = CountOperations(outcome.response.patch);
    if (!ops.ok()) {
      outcome = Dispatcher::Failure(hook, "received undecodable patch in webhook response: " + ops.status().message());
    } else if (*ops > 0 && outcome.response.patch_type != "JSONPatch") {
      outcome = Dispatcher::Failure(hook, "unsupported patch type \"" + outcome.response.patch_type + "\"");
    } else if (*ops > 0) {
      if (a.object == nullptr) {
        return Internal("Internal error occurred: admission webhook \"" + hook.name +
                        "\" attempted to modify the object, which is not supported for this operation");
      }
      const ResourceInfo& r = *a.resource;
      const SubresourceInfo* sub = a.subresource.empty() ? nullptr : r.FindSubresource(a.subresource);
      std::string kind = sub && !sub->kind.empty() ? sub->kind : r.kind;
      std::string api_version = sub && !sub->kind.empty() ? (sub->group.empty() ? sub->version : sub->group + "/" + sub->version)
                                                          : r.GroupVersion();
      Result<std::string> before = api::ToJson(*a.object, {.kind = kind, .api_version = api_version});
      if (!before.ok()) return Internal("Internal error occurred: " + before.status().message());
      Result<std::string> patched = patch::ApplyJsonPatch(*before, outcome.response.patch);
      if (!patched.ok()) return Internal("Internal error occurred: " + patched.status().message());
      std::unique_ptr<Message> fresh(a.object->New());
      api::DecodeOptions options;
      options.field_validation = api::FieldValidation::kIgnore;
      if (Status s = api::FromJson(*patched, fresh.get(), options); !s.ok()) {
        return Internal("Internal error occurred: " + s.message());
      }
      Result<std::string> after = api::ToJson(*fresh, {.kind = kind, .api_version = api_version});
      mutated = !after.ok() || *after != *before;
      if (mutated) a.object->CopyFrom(*fresh);
      ctx.trace.push_back(plugin + ": " + hook.name + " patched (" + std::to_string(*ops) + " ops)");
    }
  }
  Dispatcher::Record(outcome, hook, plugin, round, index, ctx);
  if (outcome.kind == HookOutcome::Kind::kAllowed) {
    ctx.audit_annotations["mutation.webhook.admission.k8s.io/round_" + std::to_string(round) + "_index_" +
                          std::to_string(index)] = "{\"configuration\":" + JsonString(hook.configuration) +
                                                   ",\"webhook\":" + JsonString(hook.name) +
                                                   ",\"mutated\":" + (mutated ? "true" : "false") + "}";
  }
  *changed = mutated;
  if (outcome.kind == HookOutcome::Kind::kRejected || outcome.kind == HookOutcome::Kind::kFailed) {
    return outcome.status;
  }
  return Status::Ok();
}

Status MutatingWebhookPlugin::Admit(const Attributes& a, Context& ctx) {
  if (a.resource == nullptr || IsExemptResource(*a.resource)) return Status::Ok();
  std::vector<HookRef> hooks = dispatcher_.Hooks();
  std::vector<size_t> reinvocable;  // IfNeeded webhooks called so far
  std::set<size_t> reinvoke;        // ... that a later webhook's change requires calling again
  for (size_t i = 0; i < hooks.size(); ++i) {
    bool called = false, changed = false;
    CK_RETURN_IF_ERROR(CallOne(*hooks[i], a, 0, static_cast<int>(i), ctx, &called, &changed));
    if (changed) reinvoke.insert(reinvocable.begin(), reinvocable.end());
    if (called && hooks[i]->reinvoke_if_needed) reinvocable.push_back(i);
  }
  for (size_t i : reinvoke) {
    bool called = false, changed = false;
    ctx.trace.push_back(std::string(name()) + ": reinvoking " + hooks[i]->name);
    CK_RETURN_IF_ERROR(CallOne(*hooks[i], a, 1, static_cast<int>(i), ctx, &called, &changed));
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::admission::webhook
