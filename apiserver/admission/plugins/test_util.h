// Test helpers for the built-in admission plugins: Attributes for a write, and small builders for
// the objects the plugins read (namespaces, service accounts, limit ranges, quotas, classes).
// Test-only; single-threaded use per value.
#pragma once

#include <string>

#include "apiserver/admission/admission.h"
#include "apiserver/admission/testing/fake_source.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/resources.h"
#include "common/api/proto/scheduling_v1.pb.h"
#include "common/api/testing/builders.h"

namespace ck::apiserver::admission::plugins::testing {

namespace corev1 = ::k8s::io::api::core::v1;
namespace schedulingv1 = ::k8s::io::api::scheduling::v1;
using admission::testing::FakeObjectSource;
using api::testing::MakePod;

inline const ResourceInfo* Res(std::string_view group, std::string_view plural) {
  const ResourceInfo* r = FindResource(group, "v1", plural);
  CK_CHECK(r != nullptr) << plural;
  return r;
}

inline Attributes Attrs(Operation op, const ResourceInfo* resource, std::string ns, std::string name, Message* object,
                        const Message* old_object = nullptr) {
  Attributes a;
  a.operation = op;
  a.resource = resource;
  a.namespace_ = std::move(ns);
  a.name = std::move(name);
  a.object = object;
  a.old_object = old_object;
  return a;
}

// A pod create in `pod`'s namespace ("default" when unset).
inline Attributes PodCreate(corev1::Pod* pod) {
  if (pod->metadata().namespace_().empty()) pod->mutable_metadata()->set_namespace_("default");
  return Attrs(Operation::kCreate, Res("", "pods"), pod->metadata().namespace_(), pod->metadata().name(), pod);
}

inline corev1::Namespace MakeNamespace(std::string name, std::string phase = "Active") {
  corev1::Namespace ns;
  ns.mutable_metadata()->set_name(std::move(name));
  ns.mutable_status()->set_phase(std::move(phase));
  return ns;
}

inline corev1::ServiceAccount MakeServiceAccount(std::string ns, std::string name) {
  corev1::ServiceAccount sa;
  sa.mutable_metadata()->set_namespace_(std::move(ns));
  sa.mutable_metadata()->set_name(std::move(name));
  return sa;
}

inline void SetList(api::ProtoResourceList* list, std::initializer_list<std::pair<std::string, std::string>> kv) {
  for (const auto& [k, v] : kv) (*list)[k].set_string(v);
}

inline corev1::ResourceQuota MakeQuota(std::string ns, std::string name,
                                       std::initializer_list<std::pair<std::string, std::string>> hard,
                                       std::initializer_list<std::pair<std::string, std::string>> used = {}) {
  corev1::ResourceQuota q;
  q.mutable_metadata()->set_namespace_(std::move(ns));
  q.mutable_metadata()->set_name(std::move(name));
  SetList(q.mutable_spec()->mutable_hard(), hard);
  SetList(q.mutable_status()->mutable_hard(), hard);
  SetList(q.mutable_status()->mutable_used(), used);
  return q;
}

inline schedulingv1::PriorityClass MakeClass(std::string name, int32_t value, bool global_default = false) {
  schedulingv1::PriorityClass pc;
  pc.mutable_metadata()->set_name(std::move(name));
  pc.set_value(value);
  pc.set_globaldefault(global_default);
  return pc;
}

}  // namespace ck::apiserver::admission::plugins::testing
