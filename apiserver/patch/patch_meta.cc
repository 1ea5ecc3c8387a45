#include "apiserver/patch/patch_meta.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "common/api/proto/options.pb.h"

namespace ck::apiserver::patch {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

constexpr PatchStrategy kMerge = PatchStrategy::kMerge;

// Upstream's struct tags, read from k8s.io/api types.go (1.32) for every type in
// common/api/proto. Lists not named here are replaced whole; objects are merged key by key.
const std::unordered_map<std::string_view, FieldPatchTags>& TagTable() {
  static const auto* table = new std::unordered_map<std::string_view, FieldPatchTags>{
      // meta/v1
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers", {kMerge, false, ""}},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.ownerReferences", {kMerge, false, "uid"}},
      // core/v1: pods
      {"k8s.io.api.core.v1.PodSpec.volumes", {kMerge, true, "name"}},
      {"k8s.io.api.core.v1.PodSpec.initContainers", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.PodSpec.containers", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.PodSpec.ephemeralContainers", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.PodSpec.imagePullSecrets", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.PodSpec.hostAliases", {kMerge, false, "ip"}},
      {"k8s.io.api.core.v1.PodSpec.topologySpreadConstraints", {kMerge, false, "topologyKey"}},
      {"k8s.io.api.core.v1.PodSpec.schedulingGates", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.PodSpec.resourceClaims", {kMerge, true, "name"}},
      {"k8s.io.api.core.v1.Container.ports", {kMerge, false, "containerPort"}},
      {"k8s.io.api.core.v1.Container.env", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.Container.volumeMounts", {kMerge, false, "mountPath"}},
      {"k8s.io.api.core.v1.Container.volumeDevices", {kMerge, false, "devicePath"}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.ports", {kMerge, false, "containerPort"}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.env", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.volumeMounts", {kMerge, false, "mountPath"}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.volumeDevices", {kMerge, false, "devicePath"}},
      {"k8s.io.api.core.v1.ContainerStatus.volumeMounts", {kMerge, false, "mountPath"}},
      {"k8s.io.api.core.v1.ContainerStatus.allocatedResourcesStatus", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.PodStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.PodStatus.podIPs", {kMerge, false, "ip"}},
      {"k8s.io.api.core.v1.PodStatus.hostIPs", {kMerge, false, "ip"}},
      {"k8s.io.api.core.v1.PodStatus.resourceClaimStatuses", {kMerge, true, "name"}},
      // core/v1: everything else
      {"k8s.io.api.core.v1.NodeSpec.podCIDRs", {kMerge, false, ""}},
      {"k8s.io.api.core.v1.NodeStatus.addresses", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.NodeStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.ServiceSpec.ports", {kMerge, false, "port"}},
      {"k8s.io.api.core.v1.ServiceStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.ServiceAccount.secrets", {kMerge, false, "name"}},
      {"k8s.io.api.core.v1.NamespaceStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.PersistentVolumeClaimStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.ReplicationControllerStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.core.v1.ComponentStatus.conditions", {kMerge, false, "type"}},
      // apps/v1
      {"k8s.io.api.apps.v1.DeploymentSpec.strategy", {PatchStrategy::kNone, true, ""}},
      {"k8s.io.api.apps.v1.DeploymentStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.apps.v1.ReplicaSetStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.apps.v1.StatefulSetStatus.conditions", {kMerge, false, "type"}},
      {"k8s.io.api.apps.v1.DaemonSetStatus.conditions", {kMerge, false, "type"}},
      // batch/v1
      {"k8s.io.api.batch.v1.JobStatus.conditions", {kMerge, false, "type"}},
      // policy/v1
      {"k8s.io.api.policy.v1.PodDisruptionBudgetSpec.selector", {PatchStrategy::kReplace, false, ""}},
      {"k8s.io.api.policy.v1.PodDisruptionBudgetStatus.conditions", {kMerge, false, "type"}},
      // admissionregistration.k8s.io/v1
      {"k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration.Webhooks",
       {kMerge, false, "name"}},
      {"k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration.Webhooks", {kMerge, false, "name"}},
      {"k8s.io.api.admissionregistration.v1.ValidatingWebhook.matchConditions", {kMerge, false, "name"}},
      {"k8s.io.api.admissionregistration.v1.MutatingWebhook.matchConditions", {kMerge, false, "name"}},
  };
  return *table;
}

// Messages whose JSON is not an object of their fields (quantities, times, embedded JSON, string
// lists): below them nothing is known, as for an unknown field.
bool IsOpaque(const Descriptor* d) {
  static const auto* names = new std::unordered_set<std::string_view>{
      "k8s.io.apimachinery.pkg.apis.meta.v1.Time",       "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
      "k8s.io.apimachinery.pkg.apis.meta.v1.Duration",   "k8s.io.apimachinery.pkg.api.resource.Quantity",
      "k8s.io.apimachinery.pkg.util.intstr.IntOrString", "k8s.io.apimachinery.pkg.runtime.RawExtension",
      "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",   "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs",
      "k8s.io.api.authentication.v1.ExtraValue",         "k8s.io.api.authorization.v1.ExtraValue",
  };
  return names->count(d->full_name()) > 0;
}

bool IsInline(const FieldDescriptor* fd) {
  return fd->type() == FieldDescriptor::TYPE_MESSAGE &&
         fd->options().GetExtension(ck::api::go) == ck::api::INLINE;
}

// JSON name -> field of one message, INLINE members promoted (Go's embedded structs).
using FieldIndex = std::unordered_map<std::string_view, const FieldDescriptor*>;

void AddFields(const Descriptor* d, FieldIndex* index, int depth) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* fd = d->field(i);
    if (IsInline(fd)) {
      if (depth < 8) AddFields(fd->message_type(), index, depth + 1);
      continue;
    }
    index->emplace(JsonName(fd), fd);  // an outer field shadows a promoted one, as in Go
  }
}

const FieldIndex& IndexOf(const Descriptor* d) {
  // Per thread: no locking on the request path; the descriptors live for the process.
  thread_local std::unordered_map<const Descriptor*, std::unique_ptr<FieldIndex>> cache;
  std::unique_ptr<FieldIndex>& slot = cache[d];
  if (!slot) {
    slot = std::make_unique<FieldIndex>();
    AddFields(d, slot.get(), 0);
  }
  return *slot;
}

// The schema of one value (one element, for a list) of field `fd`.
Schema ValueSchema(const FieldDescriptor* fd) {
  if (fd->is_map()) return Schema{nullptr, fd->message_type()->map_value()};
  if (fd->type() == FieldDescriptor::TYPE_MESSAGE && !IsOpaque(fd->message_type())) {
    return Schema{fd->message_type(), nullptr};
  }
  return Schema{};
}

// reflect.Kind of one value (one element, for a list) of `fd` in the Go type.
std::string_view GoKind(const FieldDescriptor* fd) {
  if (fd->is_map()) return "map";
  switch (fd->type()) {
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP: {
      std::string_view name = fd->message_type()->full_name();
      if (name == "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs" ||
          (name.size() > 11 && name.substr(name.size() - 11) == ".ExtraValue")) {
        return "slice";
      }
      return "struct";
    }
    case FieldDescriptor::TYPE_STRING:
    case FieldDescriptor::TYPE_ENUM:
      return "string";
    case FieldDescriptor::TYPE_BYTES:
      return "slice";
    case FieldDescriptor::TYPE_BOOL:
      return "bool";
    case FieldDescriptor::TYPE_DOUBLE:
      return "float64";
    case FieldDescriptor::TYPE_FLOAT:
      return "float32";
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
      return "int64";
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      return "uint64";
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      return "uint32";
    default:
      return "int32";
  }
}

}  // namespace

const FieldPatchTags* LookupPatchTags(const FieldDescriptor* field) {
  const auto& table = TagTable();
  auto it = table.find(field->full_name());
  return it == table.end() ? nullptr : &it->second;
}

std::vector<std::string_view> TaggedFieldNames() {
  std::vector<std::string_view> names;
  for (const auto& entry : TagTable()) names.push_back(entry.first);
  return names;
}

std::string_view JsonName(const FieldDescriptor* field) {
  return field->has_json_name() ? field->json_name() : field->name();
}

Schema SchemaFor(const Descriptor* type) {
  if (type == nullptr || IsOpaque(type)) return Schema{};
  return Schema{type, nullptr};
}

FieldMeta LookupField(const Schema& schema, std::string_view key) {
  FieldMeta meta;
  const FieldDescriptor* fd = nullptr;
  if (schema.map_value != nullptr) {
    fd = schema.map_value;
  } else if (schema.message != nullptr) {
    const FieldIndex& index = IndexOf(schema.message);
    auto it = index.find(key);
    if (it == index.end()) return meta;
    fd = it->second;
    if (const FieldPatchTags* tags = LookupPatchTags(fd)) meta.tags = *tags;
  } else {
    return meta;
  }
  meta.found = true;
  meta.repeated = fd->is_repeated() && !fd->is_map();
  meta.schema = ValueSchema(fd);
  meta.go_kind = GoKind(fd);
  return meta;
}

std::string_view SchemaKind(const Schema& schema) {
  if (schema.message != nullptr) return "struct";
  if (schema.map_value != nullptr) return "map";
  return "";
}

}  // namespace ck::apiserver::patch
