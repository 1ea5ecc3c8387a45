#include "apiserver/admission/podsecurity/pod_security.h"

#include <algorithm>
#include <map>
#include <vector>

#include "common/api/object.h"
#include "common/base/check.h"

namespace ck::apiserver::podsecurity {
namespace {

const corev1::PodTemplateSpec* FindTemplate(const google::protobuf::Message& m, int depth = 0);

// The pod template of a workload object, found by reflection: `template` at the top (PodTemplate),
// under `spec` (Deployment, ReplicaSet, ...), or under spec.jobTemplate.spec (CronJob).
const corev1::PodTemplateSpec* FindTemplate(const google::protobuf::Message& m, int depth) {
  if (depth > 3) return nullptr;
  const auto* desc = m.GetDescriptor();
  const auto* refl = m.GetReflection();
  if (const auto* f = desc->FindFieldByName("template");
      f != nullptr && f->message_type() == corev1::PodTemplateSpec::descriptor() && refl->HasField(m, f)) {
    return dynamic_cast<const corev1::PodTemplateSpec*>(&refl->GetMessage(m, f));
  }
  for (const char* name : {"spec", "jobTemplate"}) {
    const auto* f = desc->FindFieldByName(name);
    if (f == nullptr || f->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE || f->is_repeated()) continue;
    if (!refl->HasField(m, f)) continue;
    if (const auto* t = FindTemplate(refl->GetMessage(m, f), depth + 1)) return t;
  }
  return nullptr;
}

bool IsPodController(const ResourceInfo& r) {
  if (r.group.empty()) return r.resource == "podtemplates" || r.resource == "replicationcontrollers";
  if (r.group == "apps") {
    return r.resource == "deployments" || r.resource == "replicasets" || r.resource == "statefulsets" ||
           r.resource == "daemonsets";
  }
  if (r.group == "batch") return r.resource == "jobs" || r.resource == "cronjobs";
  return false;
}

template <typename C>
bool ImagesDiffer(const C& a, const C& b) {
  if (a.size() != b.size()) return true;
  for (int i = 0; i < a.size(); ++i) {
    if (a[i].image() != b[i].image()) return true;
  }
  return false;
}

// upstream isSignificantPodUpdate: most of a pod's spec is immutable; only image changes and new
// or changed ephemeral containers can make it less secure.
bool IsSignificantPodUpdate(const corev1::Pod& pod, const corev1::Pod& old) {
  if (ImagesDiffer(pod.spec().containers(), old.spec().containers())) return true;
  if (ImagesDiffer(pod.spec().initcontainers(), old.spec().initcontainers())) return true;
  for (const auto& ec : pod.spec().ephemeralcontainers()) {
    const auto& name = ec.ephemeralcontainercommon().name();
    auto it = std::find_if(old.spec().ephemeralcontainers().begin(), old.spec().ephemeralcontainers().end(),
                           [&](const auto& o) { return o.ephemeralcontainercommon().name() == name; });
    if (it == old.spec().ephemeralcontainers().end()) return true;
    if (it->SerializeAsString() != ec.SerializeAsString()) return true;
  }
  return false;
}

std::string ObjectName(const admission::Attributes& a, const metav1::ObjectMeta& meta) {
  if (!a.name.empty()) return a.name;
  return meta.name().empty() ? meta.generatename() : meta.name();
}

}  // namespace

NamespacePolicy PolicyFromLabels(const google::protobuf::Map<std::string, std::string>& labels,
                                 std::vector<std::string>* errors) {
  NamespacePolicy p;
  auto read = [&](std::string_view mode, LevelVersion* out) {
    const std::string level_key = std::string(kLabelPrefix) + std::string(mode);
    const std::string version_key = level_key + "-version";
    bool invalid = false;
    if (auto it = labels.find(level_key); it != labels.end()) {
      auto level = ParseLevel(it->second);
      if (level.ok()) {
        out->level = *level;
      } else {
        invalid = true;
        if (errors) {
          errors->push_back("metadata.labels[" + level_key + "]: Invalid value: \"" + it->second +
                            "\": " + level.status().message());
        }
      }
    }
    if (auto it = labels.find(version_key); it != labels.end()) {
      auto version = ParseVersion(it->second);
      if (version.ok()) {
        out->version = *version;
      } else {
        invalid = true;
        if (errors) {
          errors->push_back("metadata.labels[" + version_key + "]: Invalid value: \"" + it->second +
                            "\": " + version.status().message());
        }
      }
    }
    if (invalid) *out = LevelVersion{Level::kRestricted, "latest"};
  };
  read("enforce", &p.enforce);
  read("warn", &p.warn);
  read("audit", &p.audit);
  return p;
}

PodSecurity::PodSecurity(const admission::ObjectSource* source, Options options)
    : source_(source), options_(std::move(options)) {
  CK_CHECK(source_ != nullptr);
}

Status PodSecurity::Validate(const admission::Attributes& a, admission::Context& ctx) {
  if (a.resource == nullptr) return Status::Ok();
  if (a.operation != admission::Operation::kCreate && a.operation != admission::Operation::kUpdate) {
    return Status::Ok();
  }
  const ResourceInfo& r = *a.resource;
  if (r.group.empty() && r.resource == "namespaces") return ValidateNamespace(a, ctx);
  if (a.user != nullptr && options_.exempt_usernames.count(a.user->name) > 0) return Status::Ok();
  if (options_.exempt_namespaces.count(a.namespace_) > 0) return Status::Ok();
  if (r.group.empty() && r.resource == "pods") {
    if (!a.subresource.empty() && a.subresource != "ephemeralcontainers") return Status::Ok();
    return ValidatePod(a, ctx);
  }
  if (a.subresource.empty() && IsPodController(r)) return ValidatePodController(a, ctx);
  return Status::Ok();
}

Result<NamespacePolicy> PodSecurity::PolicyOf(const std::string& ns) const {
  auto ref = source_->Get("namespaces", "", ns);
  if (ref == nullptr) return Internal("failed to lookup namespace \"" + ns + "\"");
  return PolicyFromLabels(api::MetaOf(*ref).labels(), nullptr);
}

Status PodSecurity::ValidatePod(const admission::Attributes& a, admission::Context& ctx) {
  const auto* pod = dynamic_cast<const corev1::Pod*>(a.object);
  if (pod == nullptr) return Status::Ok();
  if (a.operation == admission::Operation::kUpdate) {
    const auto* old = dynamic_cast<const corev1::Pod*>(a.old_object);
    if (old != nullptr && !IsSignificantPodUpdate(*pod, *old)) return Status::Ok();
  }
  if (pod->spec().has_runtimeclassname() && options_.exempt_runtime_classes.count(pod->spec().runtimeclassname()) > 0) {
    return Status::Ok();
  }
  auto policy = PolicyOf(a.namespace_);
  if (!policy.ok()) return policy.status();
  const NamespacePolicy& p = *policy;
  ctx.audit_annotations[std::string(kEnforcePolicyAnnotation)] = p.enforce.String();

  const auto enforce = CheckPod(p.enforce.level, pod->metadata(), pod->spec());
  if (!enforce.empty()) {
    return Forbidden("pods \"" + ObjectName(a, pod->metadata()) + "\" is forbidden: violates PodSecurity \"" +
                     p.enforce.String() + "\": " + FormatViolations(enforce));
  }
  const auto audit = p.audit == p.enforce ? enforce : CheckPod(p.audit.level, pod->metadata(), pod->spec());
  if (!audit.empty()) {
    ctx.audit_annotations[std::string(kAuditViolationsAnnotation)] =
        "would violate PodSecurity \"" + p.audit.String() + "\": " + FormatViolations(audit);
  }
  const auto warn = CheckPod(p.warn.level, pod->metadata(), pod->spec());
  if (!warn.empty()) {
    ctx.warnings.push_back("would violate PodSecurity \"" + p.warn.String() + "\": " + FormatViolations(warn));
  }
  return Status::Ok();
}

Status PodSecurity::ValidatePodController(const admission::Attributes& a, admission::Context& ctx) {
  if (a.object == nullptr) return Status::Ok();
  const corev1::PodTemplateSpec* tmpl = FindTemplate(*a.object);
  if (tmpl == nullptr) return Status::Ok();
  auto policy = PolicyOf(a.namespace_);
  if (!policy.ok()) return policy.status();
  const NamespacePolicy& p = *policy;
  const auto audit = CheckPod(p.audit.level, tmpl->metadata(), tmpl->spec());
  if (!audit.empty()) {
    ctx.audit_annotations[std::string(kAuditViolationsAnnotation)] =
        "would violate PodSecurity \"" + p.audit.String() + "\": " + FormatViolations(audit);
  }
  const auto warn = CheckPod(p.warn.level, tmpl->metadata(), tmpl->spec());
  if (!warn.empty()) {
    ctx.warnings.push_back("would violate PodSecurity \"" + p.warn.String() + "\": " + FormatViolations(warn));
  }
  return Status::Ok();
}

Status PodSecurity::ValidateNamespace(const admission::Attributes& a, admission::Context& ctx) {
  if (!a.subresource.empty() || a.object == nullptr) return Status::Ok();
  const auto& meta = api::MetaOf(*a.object);
  std::vector<std::string> errors;
  const NamespacePolicy p = PolicyFromLabels(meta.labels(), &errors);
  if (!errors.empty()) {
    std::string msg = "namespaces \"" + meta.name() + "\" is invalid: ";
    for (size_t i = 0; i < errors.size(); ++i) msg += (i ? ", " : "") + errors[i];
    return Status(Code::kInvalid, msg);
  }
  if (a.operation != admission::Operation::kUpdate || a.old_object == nullptr) return Status::Ok();
  const NamespacePolicy old = PolicyFromLabels(api::MetaOf(*a.old_object).labels(), nullptr);
  if (p.enforce == old.enforce || p.enforce.level == Level::kPrivileged) return Status::Ok();
  if (options_.exempt_namespaces.count(meta.name()) > 0) return Status::Ok();

  // Warn about existing pods that the new enforce level would reject; pods with the same
  // violations are grouped under the first one ("web-1 (and 2 other pods): ...").
  auto pods = source_->List("pods", meta.name());
  std::sort(pods.begin(), pods.end(),
            [](const auto& x, const auto& y) { return api::MetaOf(*x).name() < api::MetaOf(*y).name(); });
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // reasons -> pod names
  size_t evaluated = 0;
  for (const auto& ref : pods) {
    if (evaluated++ >= options_.max_existing_pods) break;
    const auto* pod = dynamic_cast<const corev1::Pod*>(ref.get());
    if (pod == nullptr) continue;
    if (pod->spec().has_runtimeclassname() && options_.exempt_runtime_classes.count(pod->spec().runtimeclassname())) {
      continue;
    }
    const auto violations = CheckPod(p.enforce.level, pod->metadata(), pod->spec());
    if (violations.empty()) continue;
    const std::string reasons = FormatReasons(violations);
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == reasons; });
    if (it == groups.end()) {
      groups.push_back({reasons, {pod->metadata().name()}});
    } else {
      it->second.push_back(pod->metadata().name());
    }
  }
  if (groups.empty()) return Status::Ok();
  ctx.warnings.push_back("existing pods in namespace \"" + meta.name() + "\" violate the new PodSecurity enforce level \"" +
                         p.enforce.String() + "\"");
  for (const auto& [reasons, names] : groups) {
    std::string who = names.front();
    if (names.size() == 2) who += " (and 1 other pod)";
    if (names.size() > 2) who += " (and " + std::to_string(names.size() - 1) + " other pods)";
    ctx.warnings.push_back(who + ": " + reasons);
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::podsecurity
