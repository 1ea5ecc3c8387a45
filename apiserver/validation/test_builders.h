// Test-only builders of valid API objects and functions that run validation on them, shared by the
// validation tests: MakePod("web").Image("nginx:1.27").Port(80).Build() gives a defaulted Pod
// that passes validation, so each test changes one thing and checks the one error it causes.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "apiserver/resources.h"
#include "common/base/check.h"
#include "apiserver/validation/kinds.h"
#include "apiserver/validation/validation.h"

namespace ck::apiserver::testing {

namespace v = ck::apiserver::validation;
namespace corev1 = k8s::io::api::core::v1;

inline const ResourceInfo& Resource(std::string_view group, std::string_view kind) {
  const ResourceInfo* r = FindResourceByKind(group, "v1", kind);
  CK_CHECK(r != nullptr) << "no resource for kind " << kind;
  return *r;
}

// Defaults then validates (create when old == nullptr); returns the errors as "<field>: <message>".
template <typename T>
std::vector<std::string> Errors(std::string_view group, std::string_view kind, T obj, const T* old = nullptr) {
  const ResourceInfo& r = Resource(group, kind);
  ApplyDefaults(r, &obj);
  std::vector<std::string> out;
  for (const auto& e : ValidateObject(r, obj, old)) out.push_back(e.ToString());
  return out;
}

// True if some error string starts with `prefix`.
inline bool Has(const std::vector<std::string>& errs, std::string_view prefix) {
  for (const auto& e : errs) {
    if (e.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

inline std::string Dump(const std::vector<std::string>& errs) {
  std::string out;
  for (const auto& e : errs) out += "\n  " + e;
  return out.empty() ? " (no errors)" : out;
}

inline void SetMeta(v::ObjectMeta* m, const std::string& name, const std::string& ns) {
  m->set_name(name);
  if (!ns.empty()) m->set_namespace_(ns);
}

// A container with a name and an image.
inline corev1::Container MakeContainer(const std::string& name, const std::string& image = "nginx:1.27") {
  corev1::Container c;
  c.set_name(name);
  c.set_image(image);
  return c;
}

class PodBuilder {
 public:
  explicit PodBuilder(const std::string& name) {
    SetMeta(pod_.mutable_metadata(), name, "default");
    *pod_.mutable_spec()->add_containers() = MakeContainer("app");
  }
  PodBuilder& Image(const std::string& image) {
    pod_.mutable_spec()->mutable_containers(0)->set_image(image);
    return *this;
  }
  PodBuilder& Label(const std::string& k, const std::string& val) {
    (*pod_.mutable_metadata()->mutable_labels())[k] = val;
    return *this;
  }
  PodBuilder& Port(int32_t port, const std::string& name = "") {
    auto* p = pod_.mutable_spec()->mutable_containers(0)->add_ports();
    p->set_containerport(port);
    if (!name.empty()) p->set_name(name);
    return *this;
  }
  PodBuilder& Cpu(const std::string& request, const std::string& limit = "") {
    auto* r = pod_.mutable_spec()->mutable_containers(0)->mutable_resources();
    (*r->mutable_requests())["cpu"].set_string(request);
    if (!limit.empty()) (*r->mutable_limits())["cpu"].set_string(limit);
    return *this;
  }
  corev1::Pod Build() const { return pod_; }
  corev1::PodSpec Spec() const { return pod_.spec(); }

 private:
  corev1::Pod pod_;
};

inline PodBuilder MakePod(const std::string& name) { return PodBuilder(name); }

// A pod template labelled app=<app>.
inline corev1::PodTemplateSpec MakeTemplate(const std::string& app) {
  corev1::PodTemplateSpec t;
  (*t.mutable_metadata()->mutable_labels())["app"] = app;
  *t.mutable_spec()->add_containers() = MakeContainer(app);
  return t;
}

inline v::appsv1::Deployment MakeDeployment(const std::string& name, const std::string& app = "web") {
  v::appsv1::Deployment d;
  SetMeta(d.mutable_metadata(), name, "default");
  (*d.mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = app;
  *d.mutable_spec()->mutable_template_() = MakeTemplate(app);
  return d;
}

inline v::batchv1::Job MakeJob(const std::string& name) {
  v::batchv1::Job j;
  SetMeta(j.mutable_metadata(), name, "default");
  j.mutable_metadata()->set_uid("3b6e2d5c-0000-4000-8000-000000000001");
  corev1::PodTemplateSpec t;
  *t.mutable_spec()->add_containers() = MakeContainer("work", "busybox:1.36");
  t.mutable_spec()->set_restartpolicy("Never");
  *j.mutable_spec()->mutable_template_() = t;
  return j;
}

inline v::batchv1::CronJob MakeCronJob(const std::string& name, const std::string& schedule) {
  v::batchv1::CronJob c;
  SetMeta(c.mutable_metadata(), name, "default");
  c.mutable_spec()->set_schedule(schedule);
  auto* t = c.mutable_spec()->mutable_jobtemplate()->mutable_spec()->mutable_template_();
  *t->mutable_spec()->add_containers() = MakeContainer("work", "busybox:1.36");
  t->mutable_spec()->set_restartpolicy("OnFailure");
  return c;
}

inline corev1::Service MakeService(const std::string& name, int32_t port = 80) {
  corev1::Service s;
  SetMeta(s.mutable_metadata(), name, "default");
  (*s.mutable_spec()->mutable_selector())["app"] = name;
  s.mutable_spec()->add_ports()->set_port(port);
  return s;
}

// Marks `obj` as stored: a resourceVersion and uid, as the apiserver leaves them.
template <typename T>
T Stored(T obj) {
  obj.mutable_metadata()->set_resourceversion("42");
  if (obj.metadata().uid().empty()) obj.mutable_metadata()->set_uid("0f9f7c9e-0000-4000-8000-0000000000aa");
  return obj;
}

// Defaults an object as the apiserver would before storing it.
template <typename T>
T Defaulted(std::string_view group, std::string_view kind, T obj) {
  ApplyDefaults(Resource(group, kind), &obj);
  return obj;
}

// The errors as "<field>: <message>" strings.
inline std::vector<std::string> Strings(const FieldErrors& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.ToString());
  return out;
}

}  // namespace ck::apiserver::testing
