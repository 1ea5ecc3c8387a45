#include "examples/sidecar-injector/injector.h"

#include "common/api/codec.h"
#include "common/api/proto/admission_v1.pb.h"

namespace ck::examples::sidecar {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;
namespace admv1 = ::k8s::io::api::admission::v1;

// A JSON Pointer segment: "~" -> "~0", "/" -> "~1" (RFC 6901).
std::string PointerSegment(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

bool AnnotationIs(const corev1::Pod& pod, std::string_view key, std::string_view value) {
  auto it = pod.metadata().annotations().find(std::string(key));
  return it != pod.metadata().annotations().end() && it->second == value;
}

}  // namespace

corev1::Container SidecarContainer(const SidecarOptions& options) {
  corev1::Container c;
  c.set_name(options.name);
  c.set_image(options.image);
  const std::string port = std::to_string(options.port);
  c.add_command("sh");
  c.add_command("-c");
  c.add_command("mkdir -p /tmp/metrics && echo 'ck_sidecar_up 1' > /tmp/metrics/metrics && exec httpd -f -p " + port +
                " -h /tmp/metrics");
  auto* p = c.add_ports();
  p->set_name("metrics");
  p->set_containerport(options.port);
  p->set_protocol("TCP");
  return c;
}

Result<std::string> SidecarPatch(const corev1::Pod& pod, const SidecarOptions& options) {
  if (!AnnotationIs(pod, kMonitoringAnnotation, "true")) return std::string();
  if (AnnotationIs(pod, kInjectedAnnotation, "true")) return std::string();
  for (const auto& c : pod.spec().containers()) {
    if (c.name() == options.name) return std::string();
  }
  CK_ASSIGN_OR_RETURN(std::string container, api::ToJson(SidecarContainer(options)));
  // The monitoring annotation is there, so /metadata/annotations exists and a member can be added.
  return R"([{"op":"add","path":"/spec/containers/-","value":)" + container + R"(},)" +
         R"({"op":"add","path":"/metadata/annotations/)" + PointerSegment(kInjectedAnnotation) +
         R"(","value":"true"}])";
}

Result<std::string> Review(std::string_view body, const SidecarOptions& options) {
  admv1::AdmissionReview review;
  api::DecodeOptions decode;
  decode.field_validation = api::FieldValidation::kIgnore;
  CK_RETURN_IF_ERROR(api::FromJson(body, &review, decode));
  if (!review.has_request()) return BadRequest("not an AdmissionReview request: no request");
  const admv1::AdmissionRequest& req = review.request();

  admv1::AdmissionReview answer;
  admv1::AdmissionResponse* res = answer.mutable_response();
  res->set_uid(req.uid());
  res->set_allowed(true);
  if (req.kind().group().empty() && req.kind().kind() == "Pod" && !req.object().raw().empty()) {
    corev1::Pod pod;
    CK_RETURN_IF_ERROR(api::FromJson(req.object().raw(), &pod, decode));
    CK_ASSIGN_OR_RETURN(std::string patch, SidecarPatch(pod, options));
    if (!patch.empty()) {
      res->set_patchtype("JSONPatch");
      res->set_patch(patch);
    }
  }
  return api::ToJson(answer, {.kind = "AdmissionReview", .api_version = "admission.k8s.io/v1"});
}

}  // namespace ck::examples::sidecar
