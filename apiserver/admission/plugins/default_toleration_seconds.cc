#include "apiserver/admission/plugins/default_toleration_seconds.h"

#include "apiserver/admission/plugins/util.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::admission::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

constexpr std::string_view kNotReady = "node.kubernetes.io/not-ready";
constexpr std::string_view kUnreachable = "node.kubernetes.io/unreachable";

bool Tolerates(const corev1::Pod& pod, std::string_view key) {
  for (const auto& t : pod.spec().tolerations()) {
    if ((t.key() == key || t.key().empty()) && (t.effect() == "NoExecute" || t.effect().empty())) return true;
  }
  return false;
}

void Add(corev1::Pod* pod, std::string_view key, int64_t seconds) {
  auto* t = pod->mutable_spec()->add_tolerations();
  t->set_key(std::string(key));
  t->set_operator_("Exists");
  t->set_effect("NoExecute");
  t->set_tolerationseconds(seconds);
}

}  // namespace

Status DefaultTolerationSeconds::Admit(const Attributes& a, Context& ctx) {
  if (!IsResource(a, "", "pods") || !a.subresource.empty() || a.operation != Operation::kCreate) return Status::Ok();
  auto* pod = As<corev1::Pod>(a.object);
  if (pod == nullptr) return Status::Ok();
  std::string added;
  if (!Tolerates(*pod, kNotReady)) {
    Add(pod, kNotReady, seconds_);
    added = "not-ready";
  }
  if (!Tolerates(*pod, kUnreachable)) {
    Add(pod, kUnreachable, seconds_);
    added += std::string(added.empty() ? "" : ", ") + "unreachable";
  }
  if (!added.empty()) {
    ctx.trace.push_back("DefaultTolerationSeconds: tolerate " + added + " for " +
                        std::to_string(seconds_) + "s");
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::admission::plugins
