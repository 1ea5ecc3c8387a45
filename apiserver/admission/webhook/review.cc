#include "apiserver/admission/webhook/review.h"

#include <cstdio>

#include "common/api/codec.h"
#include "common/api/proto/admission_v1.pb.h"

namespace ck::apiserver::admission::webhook {
namespace {

namespace admv1 = ::k8s::io::api::admission::v1;

struct Gvk {
  std::string group, version, kind;
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// The kind of the object a write carries: the subresource's (pods/binding is a Binding,
// deployments/scale an autoscaling/v1 Scale) or the resource's.
Gvk ObjectKind(const Attributes& a) {
  Gvk gvk{a.resource->group, a.resource->version, a.resource->kind};
  if (!a.subresource.empty()) {
    if (const SubresourceInfo* sub = a.resource->FindSubresource(a.subresource); sub && !sub->kind.empty()) {
      gvk = {sub->group, sub->version, sub->kind};
    }
  }
  return gvk;
}

std::string OptionsJson(const Attributes& a) {
  std::string kind;
  switch (a.operation) {
    case Operation::kCreate: kind = "CreateOptions"; break;
    case Operation::kUpdate: kind = "UpdateOptions"; break;
    case Operation::kDelete: kind = "DeleteOptions"; break;
    case Operation::kConnect: return "";
  }
  std::string out = R"({"kind":")" + kind + R"(","apiVersion":"meta.k8s.io/v1")";
  if (a.dry_run) out += R"(,"dryRun":["All"])";
  return out + "}";
}

}  // namespace

std::string NewUid(Random& random) {
  uint64_t hi = random.Next(), lo = random.Next();
  hi = (hi & ~0xF000ull) | 0x4000ull;                            // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48);            // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xFFFF), static_cast<unsigned>(hi & 0xFFFF),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

Result<std::string> BuildReviewRequest(const Attributes& a, std::string_view uid) {
  admv1::AdmissionReview review;
  admv1::AdmissionRequest* r = review.mutable_request();
  r->set_uid(std::string(uid));
  const Gvk kind = ObjectKind(a);
  for (auto* k : {r->mutable_kind(), r->mutable_requestkind()}) {
    k->set_group(kind.group);
    k->set_version(kind.version);
    k->set_kind(kind.kind);
  }
  for (auto* res : {r->mutable_resource(), r->mutable_requestresource()}) {
    res->set_group(a.resource->group);
    res->set_version(a.resource->version);
    res->set_resource(a.resource->resource);
  }
  if (!a.subresource.empty()) {
    r->set_subresource(a.subresource);
    r->set_requestsubresource(a.subresource);
  }
  if (!a.name.empty()) r->set_name(a.name);
  if (!a.namespace_.empty()) r->set_namespace_(a.namespace_);
  r->set_operation(std::string(OperationName(a.operation)));
  auto* user = r->mutable_userinfo();
  if (a.user != nullptr) {
    if (!a.user->name.empty()) user->set_username(a.user->name);
    if (!a.user->uid.empty()) user->set_uid(a.user->uid);
    for (const auto& g : a.user->groups) user->add_groups(g);
    for (const auto& [key, values] : a.user->extra) {
      auto& items = (*user->mutable_extra())[key];
      for (const auto& v : values) items.add_items(v);
    }
  }
  if (a.object != nullptr) {
    CK_ASSIGN_OR_RETURN(std::string json, api::ToJson(*a.object, {.kind = kind.kind, .api_version = kind.ApiVersion()}));
    r->mutable_object()->set_raw(std::move(json));
  }
  if (a.old_object != nullptr) {
    // The stored object is always the main resource's kind.
    Gvk old{a.resource->group, a.resource->version, a.resource->kind};
    CK_ASSIGN_OR_RETURN(std::string json, api::ToJson(*a.old_object, {.kind = old.kind, .api_version = old.ApiVersion()}));
    r->mutable_oldobject()->set_raw(std::move(json));
  }
  r->set_dryrun(a.dry_run);
  r->mutable_options()->set_raw(OptionsJson(a));
  return api::ToJson(review, {.kind = "AdmissionReview", .api_version = "admission.k8s.io/v1"});
}

Result<ReviewResponse> VerifyReviewResponse(std::string_view body, std::string_view uid, bool mutating) {
  admv1::AdmissionReview review;
  api::TypeMeta type;
  api::DecodeOptions options;
  options.field_validation = api::FieldValidation::kIgnore;
  options.type_meta = &type;
  CK_RETURN_IF_ERROR(api::FromJson(body, &review, options));
  if (!review.has_response()) return BadRequest("webhook response was absent");
  const admv1::AdmissionResponse& r = review.response();
  if (r.uid() != uid) {
    return BadRequest("expected response.uid=\"" + std::string(uid) + "\", got \"" + r.uid() + "\"");
  }
  if (type.api_version != "admission.k8s.io/v1" || type.kind != "AdmissionReview") {
    // Go prints a GroupVersionKind as "group/version, Kind=kind".
    std::string got = type.api_version;
    if (got.find('/') == std::string::npos) got = "/" + got;
    return BadRequest("expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got " + got +
                      ", Kind=" + type.kind);
  }
  ReviewResponse out;
  if (mutating) {
    if (!r.patch().empty() && !r.has_patchtype()) return BadRequest("webhook returned response.patch but not response.patchType");
    if (r.patch().empty() && r.has_patchtype()) return BadRequest("webhook returned response.patchType but not response.patch");
    if (r.has_patchtype() && r.patchtype().empty()) {
      return BadRequest("webhook returned invalid response.patchType of \"\"");
    }
    out.patch = r.patch();
    out.patch_type = r.patchtype();
  } else {
    if (!r.patch().empty()) return BadRequest("validating webhook may not return response.patch");
    if (r.has_patchtype()) return BadRequest("validating webhook may not return response.patchType");
  }
  out.allowed = r.allowed();
  if (r.has_status()) out.status = r.status();
  out.warnings.assign(r.warnings().begin(), r.warnings().end());
  out.audit_annotations.insert(r.auditannotations().begin(), r.auditannotations().end());
  return out;
}

Code CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400: return Code::kBadRequest;
    case 401: return Code::kUnauthorized;
    case 403: return Code::kForbidden;
    case 404: return Code::kNotFound;
    case 405: return Code::kMethodNotAllowed;
    case 406: return Code::kNotAcceptable;
    case 409: return Code::kConflict;
    case 410: return Code::kGone;
    case 413: return Code::kRequestEntityTooLarge;
    case 415: return Code::kUnsupportedMediaType;
    case 422: return Code::kInvalid;
    case 429: return Code::kTooManyRequests;
    case 503: return Code::kUnavailable;
    case 504: return Code::kTimeout;
    default: return http_status >= 500 ? Code::kInternal : Code::kBadRequest;
  }
}

Status DenialStatus(std::string_view webhook, const std::optional<api::metav1::Status>& status) {
  const std::string denied = "admission webhook \"" + std::string(webhook) + "\" denied the request";
  std::string message;
  if (status && !status->message().empty()) {
    message = denied + ": " + status->message();
  } else if (status && !status->reason().empty()) {
    message = denied + ": " + status->reason();
  } else {
    message = denied + " without explanation";
  }
  // A denial never answers below 400 (kubernetes/kubernetes#77022).
  int code = status ? status->code() : 0;
  if (code < 400) code = 400;
  return Status(CodeForHttpStatus(code), std::move(message));
}

}  // namespace ck::apiserver::admission::webhook
