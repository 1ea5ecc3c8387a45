#include "apiserver/server/fields.h"

#include <google/protobuf/descriptor.h>

#include <unordered_map>

#include "common/base/strings.h"

namespace ck::apiserver {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// Upstream's selectable fields per group/resource (pkg/registry/*/strategy.go GetAttrs and the
// field label conversion functions). Keyed by "group/resource".
const std::unordered_map<std::string, std::vector<std::string>>& KindFields() {
  static const auto* m = new std::unordered_map<std::string, std::vector<std::string>>{
      {"/pods",
       {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
        "status.phase", "status.podIP", "status.nominatedNodeName"}},
      {"/events",
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type"}},
      {"/nodes", {"spec.unschedulable"}},
      {"/namespaces", {"status.phase"}},
      {"/secrets", {"type"}},
      {"/services", {"spec.clusterIP", "spec.type"}},
      {"/replicationcontrollers", {"status.replicas"}},
      {"apps/replicasets", {"status.replicas"}},
      {"batch/jobs", {"status.successful"}},
      {"events.k8s.io/events",
       {"regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "regarding.apiVersion",
        "regarding.resourceVersion", "regarding.fieldPath", "reason", "reportingController", "type"}},
  };
  return *m;
}

// The value of a dotted path of proto field names as upstream prints it in a field set.
std::string ValueAt(const Message& root, std::string_view path) {
  const Message* m = &root;
  std::vector<std::string_view> parts = Split(path, '.');
  for (size_t i = 0; i < parts.size(); ++i) {
    const FieldDescriptor* f = m->GetDescriptor()->FindFieldByName(std::string(parts[i]));
    if (f == nullptr || f->is_repeated()) return "";
    const auto* r = m->GetReflection();
    if (i + 1 < parts.size()) {
      if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return "";
      m = &r->GetMessage(*m, f);
      continue;
    }
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return r->GetString(*m, f);
      case FieldDescriptor::CPPTYPE_BOOL:
        return r->GetBool(*m, f) ? "true" : "false";
      case FieldDescriptor::CPPTYPE_INT32:
        return std::to_string(r->GetInt32(*m, f));
      case FieldDescriptor::CPPTYPE_INT64:
        return std::to_string(r->GetInt64(*m, f));
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        // events' "source" is the component of an EventSource.
        const Message& sub = r->GetMessage(*m, f);
        const FieldDescriptor* c = sub.GetDescriptor()->FindFieldByName("component");
        return c ? sub.GetReflection()->GetString(sub, c) : "";
      }
      default:
        return "";
    }
  }
  return "";
}

const std::vector<std::string>& Empty() {
  static const std::vector<std::string> e;
  return e;
}

}  // namespace

const std::vector<std::string>& SelectableFields(const ResourceInfo& resource) {
  auto it = KindFields().find(resource.group + "/" + resource.resource);
  return it == KindFields().end() ? Empty() : it->second;
}

Status CheckFieldSelector(const ResourceInfo& resource, const api::FieldSelector& selector) {
  const std::vector<std::string>& own = SelectableFields(resource);
  for (const api::FieldSelector::Term& t : selector.terms()) {
    if (t.field == "metadata.name" || t.field == "metadata.namespace") continue;
    bool found = false;
    for (const std::string& f : own) found = found || f == t.field;
    if (!found) return Status(Code::kBadRequest, "field label not supported: " + t.field);
  }
  return Status::Ok();
}

std::map<std::string, std::string> FieldSetOf(const Message& object, const api::FieldSelector& selector) {
  std::map<std::string, std::string> set;
  for (const api::FieldSelector::Term& t : selector.terms()) {
    if (!set.count(t.field)) set.emplace(t.field, ValueAt(object, t.field));
  }
  return set;
}

}  // namespace ck::apiserver
