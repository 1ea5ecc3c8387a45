#include "apiserver/discovery/openapi.h"

#include <google/protobuf/descriptor.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <set>

#include "apiserver/discovery/api_comments.h"
#include "apiserver/discovery/json_builder.h"
#include "apiserver/discovery/media_type.h"
#include "common/api/proto/options.pb.h"
#include "common/api/proto/proto_files.h"

namespace ck::apiserver::discovery {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

constexpr std::string_view kMeta = "k8s.io.apimachinery.pkg.apis.meta.v1.";
constexpr std::string_view kNoSuchPath = "the server could not find the requested resource";

// ---------------------------------------------------------------------------------------------
// Facts about fields that a .proto cannot carry: upstream's patchStrategy / patchMergeKey struct
// tags (read by `kubectl apply` to build strategic merge patches) and the +listType markers.
// Keyed by "<message full name>.<field name>".
struct PatchInfo {
  std::string_view strategy;               // x-kubernetes-patch-strategy ("merge", "merge,retainKeys", ...)
  std::string_view merge_key;              // x-kubernetes-patch-merge-key
  std::string_view list_type;              // x-kubernetes-list-type ("map", "set", "atomic")
  std::vector<std::string_view> map_keys;  // x-kubernetes-list-map-keys
};

const std::map<std::string_view, PatchInfo>& PatchTable() {
  static const auto* table = new std::map<std::string_view, PatchInfo>{
      // meta/v1
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers", {"merge", "", "set", {}}},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.ownerReferences", {"merge", "uid", "map", {"uid"}}},
      // core/v1 pods
      {"k8s.io.api.core.v1.PodSpec.volumes", {"merge,retainKeys", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodSpec.initContainers", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodSpec.containers", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodSpec.ephemeralContainers", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodSpec.imagePullSecrets", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodSpec.hostAliases", {"merge", "ip", "map", {"ip"}}},
      {"k8s.io.api.core.v1.PodSpec.tolerations", {"", "", "atomic", {}}},
      {"k8s.io.api.core.v1.PodSpec.topologySpreadConstraints",
       {"merge", "topologyKey", "map", {"topologyKey", "whenUnsatisfiable"}}},
      {"k8s.io.api.core.v1.PodSpec.schedulingGates", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodSpec.resourceClaims", {"merge,retainKeys", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.Container.ports",
       {"merge", "containerPort", "map", {"containerPort", "protocol"}}},
      {"k8s.io.api.core.v1.Container.env", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.Container.volumeMounts", {"merge", "mountPath", "map", {"mountPath"}}},
      {"k8s.io.api.core.v1.Container.volumeDevices", {"merge", "devicePath", "map", {"devicePath"}}},
      {"k8s.io.api.core.v1.Container.command", {"", "", "atomic", {}}},
      {"k8s.io.api.core.v1.Container.args", {"", "", "atomic", {}}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.ports",
       {"merge", "containerPort", "map", {"containerPort", "protocol"}}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.env", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.volumeMounts",
       {"merge", "mountPath", "map", {"mountPath"}}},
      {"k8s.io.api.core.v1.EphemeralContainerCommon.volumeDevices",
       {"merge", "devicePath", "map", {"devicePath"}}},
      {"k8s.io.api.core.v1.ContainerStatus.allocatedResourcesStatus", {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.core.v1.PodStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.PodStatus.podIPs", {"merge", "ip", "map", {"ip"}}},
      {"k8s.io.api.core.v1.PodStatus.hostIPs", {"merge", "ip", "atomic", {}}},
      {"k8s.io.api.core.v1.PodStatus.resourceClaimStatuses", {"merge,retainKeys", "name", "map", {"name"}}},
      // core/v1 others
      {"k8s.io.api.core.v1.NodeSpec.podCIDRs", {"merge", "", "set", {}}},
      {"k8s.io.api.core.v1.NodeStatus.addresses", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.NodeStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.ServiceSpec.ports", {"merge", "port", "map", {"port", "protocol"}}},
      {"k8s.io.api.core.v1.ServiceStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.ServiceAccount.secrets", {"merge", "name", "", {}}},
      {"k8s.io.api.core.v1.NamespaceStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.PersistentVolumeClaimStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.ReplicationControllerStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.core.v1.ComponentStatus.conditions", {"merge", "type", "map", {"type"}}},
      // apps/v1
      {"k8s.io.api.apps.v1.DeploymentSpec.strategy", {"retainKeys", "", "", {}}},
      {"k8s.io.api.apps.v1.DeploymentStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.apps.v1.ReplicaSetStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.apps.v1.StatefulSetStatus.conditions", {"merge", "type", "map", {"type"}}},
      {"k8s.io.api.apps.v1.DaemonSetStatus.conditions", {"merge", "type", "map", {"type"}}},
      // batch/v1
      {"k8s.io.api.batch.v1.JobStatus.conditions", {"merge", "type", "atomic", {}}},
      // policy/v1
      {"k8s.io.api.policy.v1.PodDisruptionBudgetSpec.selector", {"replace", "", "", {}}},
      {"k8s.io.api.policy.v1.PodDisruptionBudgetStatus.conditions", {"merge", "type", "map", {"type"}}},
      // admissionregistration.k8s.io/v1
      {"k8s.io.api.admissionregistration.v1.MutatingWebhookConfiguration.Webhooks",
       {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.admissionregistration.v1.ValidatingWebhookConfiguration.Webhooks",
       {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.admissionregistration.v1.MutatingWebhook.matchConditions",
       {"merge", "name", "map", {"name"}}},
      {"k8s.io.api.admissionregistration.v1.ValidatingWebhook.matchConditions",
       {"merge", "name", "map", {"name"}}},
  };
  return *table;
}

// Short descriptions for the fields that every kind has and for the ones people ask `kubectl
// explain` about most; everything else falls back to the .proto comments.
std::string_view FieldDescription(const FieldDescriptor* f) {
  static const auto* by_field = new std::map<std::string_view, std::string_view>{
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.name",
       "Name of the object, unique within its namespace (or the cluster, for cluster-scoped kinds). Cannot "
       "be "
       "updated."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.generateName",
       "Prefix from which the server builds a unique name when name is empty."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.namespace",
       "Namespace the object lives in; empty for cluster-scoped kinds."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.uid",
       "Unique identifier set by the server at creation."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.resourceVersion",
       "Opaque version of the object, changed on every write; used for optimistic concurrency and watches."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.generation",
       "Sequence number of the desired state; incremented by the server when spec changes."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.creationTimestamp",
       "Server time at which the object was created."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.deletionTimestamp",
       "Time after which the object will be deleted; set when a graceful deletion is requested."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.labels",
       "Key/value pairs used to organize and select objects (label selectors)."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.annotations",
       "Unstructured key/value data set by tools and users; not used for selection."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.ownerReferences",
       "Objects this object depends on; the garbage collector deletes it when all owners are gone."},
      {"k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta.finalizers",
       "Entries that must be removed before the object is deleted from storage."},
      {"k8s.io.api.core.v1.PodSpec.containers", "The containers of the pod. There must be at least one."},
      {"k8s.io.api.core.v1.PodSpec.initContainers",
       "Containers run to completion, in order, before the containers start."},
      {"k8s.io.api.core.v1.PodSpec.volumes", "Volumes that containers of the pod can mount."},
      {"k8s.io.api.core.v1.PodSpec.nodeName", "Node the pod is bound to; set by the scheduler."},
      {"k8s.io.api.core.v1.PodSpec.nodeSelector",
       "Labels a node must have for the pod to be scheduled on it."},
      {"k8s.io.api.core.v1.PodSpec.restartPolicy",
       "Restart policy for the containers of the pod: Always, OnFailure or Never. Default: Always."},
      {"k8s.io.api.core.v1.PodSpec.serviceAccountName", "Name of the ServiceAccount the pod runs as."},
      {"k8s.io.api.core.v1.Container.name",
       "Name of the container, unique within the pod. Cannot be updated."},
      {"k8s.io.api.core.v1.Container.image", "Container image name."},
      {"k8s.io.api.core.v1.Container.command",
       "Entrypoint array, not run in a shell. The image's ENTRYPOINT is used when empty."},
      {"k8s.io.api.core.v1.Container.args",
       "Arguments to the entrypoint. The image's CMD is used when empty."},
      {"k8s.io.api.core.v1.Container.ports", "Ports the container exposes, for information."},
      {"k8s.io.api.core.v1.Container.env", "Environment variables to set in the container."},
      {"k8s.io.api.core.v1.Container.resources",
       "Compute resources (cpu, memory) the container requests and is limited to."},
      {"k8s.io.api.core.v1.Container.volumeMounts",
       "Volumes of the pod to mount into the container's filesystem."},
      {"k8s.io.api.core.v1.Container.imagePullPolicy", "Always, Never or IfNotPresent."},
      {"k8s.io.api.core.v1.ResourceRequirements.limits",
       "Maximum amount of each compute resource (cpu, memory, ...) the container may use."},
      {"k8s.io.api.core.v1.ResourceRequirements.requests",
       "Amount of each compute resource the container needs; the scheduler places the pod by it."},
      {"k8s.io.api.apps.v1.DeploymentStrategy.type", "Recreate or RollingUpdate. Default: RollingUpdate."},
      {"k8s.io.api.apps.v1.DeploymentSpec.replicas", "Number of desired pods. Defaults to 1."},
      {"k8s.io.api.apps.v1.DeploymentSpec.selector", "Label selector of the pods the deployment manages."},
      {"k8s.io.api.apps.v1.DeploymentSpec.template", "Template of the pods the deployment creates."},
  };
  auto it = by_field->find(f->full_name());
  if (it != by_field->end()) return it->second;
  std::string_view comment = ApiComment(f->full_name());
  if (!comment.empty()) return comment;
  if (f->name() == "metadata") {
    return f->message_type() && f->message_type()->name() == "ListMeta"
               ? "Standard list metadata."
               : "Standard object metadata: name, namespace, labels, annotations, ...";
  }
  if (f->name() == "spec") return "The desired state of the object, written by its owner.";
  if (f->name() == "status")
    return "The most recently observed state of the object, written by the system. Read-only.";
  if (f->name() == "items" && f->is_repeated()) return "The objects of the list.";
  if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_map())
    return ApiComment(f->message_type()->full_name());
  return {};
}

constexpr std::string_view kApiVersionDescription =
    "The versioned schema of this representation of an object (\"v1\", \"apps/v1\"). Servers convert "
    "recognized schemas to the latest internal value and may reject unrecognized values.";
constexpr std::string_view kKindDescription =
    "The REST resource this object represents, in CamelCase. Servers may infer it from the endpoint the "
    "client submits requests to. Cannot be updated.";

ck::api::GoField GoOf(const FieldDescriptor* f) { return f->options().GetExtension(ck::api::go); }

// Messages whose JSON form is not an object of their fields (codec special cases).
bool IsStringArrayWrapper(const Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "k8s.io.apimachinery.pkg.apis.meta.v1.Verbs" ||
         n == "k8s.io.api.authentication.v1.ExtraValue" || n == "k8s.io.api.authorization.v1.ExtraValue";
}

// The schema of a message that the codec writes as a scalar (Time, Quantity, ...), or null.
Json SpecialSchema(const Descriptor* d) {
  const std::string& n = d->full_name();
  Json s = Json::Object();
  if (n == std::string(kMeta) + "Time" || n == std::string(kMeta) + "MicroTime") {
    s["type"] = "string";
    s["format"] = "date-time";
  } else if (n == std::string(kMeta) + "Duration") {
    s["type"] = "string";
  } else if (n == std::string(kMeta) + "FieldsV1" || n == "k8s.io.apimachinery.pkg.runtime.RawExtension") {
    s["type"] = "object";
  } else if (n == "k8s.io.apimachinery.pkg.api.resource.Quantity") {
    // As upstream's v3 documents: a string ("100m", "1Gi") or a plain number.
    Json one = Json::Array();
    Json a = Json::Object();
    a["type"] = "string";
    Json b = Json::Object();
    b["type"] = "number";
    one.Push(std::move(a));
    one.Push(std::move(b));
    s["oneOf"] = std::move(one);
  } else if (n == "k8s.io.apimachinery.pkg.util.intstr.IntOrString") {
    s["format"] = "int-or-string";
    Json one = Json::Array();
    Json a = Json::Object();
    a["type"] = "integer";
    Json b = Json::Object();
    b["type"] = "string";
    one.Push(std::move(a));
    one.Push(std::move(b));
    s["oneOf"] = std::move(one);
    s["x-kubernetes-int-or-string"] = true;
  } else {
    return Json();
  }
  return s;
}

Json ScalarSchema(const FieldDescriptor* f) {
  Json s = Json::Object();
  switch (f->type()) {
    case FieldDescriptor::TYPE_STRING:
      s["type"] = "string";
      break;
    case FieldDescriptor::TYPE_BYTES:
      s["type"] = "string";
      s["format"] = "byte";
      break;
    case FieldDescriptor::TYPE_BOOL:
      s["type"] = "boolean";
      break;
    case FieldDescriptor::TYPE_INT32:
    case FieldDescriptor::TYPE_SINT32:
    case FieldDescriptor::TYPE_SFIXED32:
    case FieldDescriptor::TYPE_UINT32:
    case FieldDescriptor::TYPE_FIXED32:
      s["type"] = "integer";
      s["format"] = "int32";
      break;
    case FieldDescriptor::TYPE_INT64:
    case FieldDescriptor::TYPE_SINT64:
    case FieldDescriptor::TYPE_SFIXED64:
    case FieldDescriptor::TYPE_UINT64:
    case FieldDescriptor::TYPE_FIXED64:
      s["type"] = "integer";
      s["format"] = "int64";
      break;
    case FieldDescriptor::TYPE_DOUBLE:
    case FieldDescriptor::TYPE_FLOAT:
      s["type"] = "number";
      s["format"] = "double";
      break;
    case FieldDescriptor::TYPE_ENUM:
      s["type"] = "string";
      break;
    default:
      CK_CHECK(false) << "not a scalar: " << f->full_name();
  }
  return s;
}

Json Ref(const Descriptor* d) {
  Json r = Json::Object();
  r["$ref"] = "#/components/schemas/" + SchemaName(d->full_name());
  return r;
}

// Builds components.schemas for the messages reachable from a set of roots.
class SchemaSet {
 public:
  // GVKs to tag each message with (x-kubernetes-group-version-kind).
  void Tag(const Descriptor* d, Json gvk) {
    auto& list = gvks_[d->full_name()];
    std::string text = gvk.Dump();
    for (const auto& g : list) {
      if (g.Dump() == text) return;
    }
    list.push_back(std::move(gvk));
  }
  // Messages that carry TypeMeta upstream (apiVersion and kind members).
  void MarkKind(const Descriptor* d) { kinds_.insert(d->full_name()); }

  void Add(const Descriptor* d) {
    if (IsStringArrayWrapper(d)) return;
    std::string name = SchemaName(d->full_name());
    if (schemas_.count(name) != 0) return;
    schemas_[name] = Json();  // placeholder: stops recursion on cycles
    schemas_[name] = MessageSchema(d);
  }

  Json Take() {
    Json out = Json::Object();
    for (auto& [name, schema] : schemas_) out[name] = std::move(schema);
    return out;
  }

 private:
  Json MessageSchema(const Descriptor* d) {
    Json s = SpecialSchema(d);
    std::string_view desc = ApiComment(d->full_name());
    if (!s.is_null()) {
      if (!desc.empty()) s["description"] = desc;
      return s;
    }
    s = Json::Object();
    if (!desc.empty()) s["description"] = desc;
    std::map<std::string, Json> props;  // sorted, as upstream writes them
    std::vector<std::string> required;
    if (kinds_.count(d->full_name()) != 0) {
      Json av = Json::Object();
      av["description"] = kApiVersionDescription;
      av["type"] = "string";
      props["apiVersion"] = std::move(av);
      Json k = Json::Object();
      k["description"] = kKindDescription;
      k["type"] = "string";
      props["kind"] = std::move(k);
    }
    AddProperties(d, &props, &required);
    Json p = Json::Object();
    for (auto& [k, v] : props) p[k] = std::move(v);
    s["properties"] = std::move(p);
    if (!required.empty()) {
      Json r = Json::Array();
      for (const auto& n : required) r.Push(n);
      s["required"] = std::move(r);
    }
    s["type"] = "object";
    auto it = gvks_.find(d->full_name());
    if (it != gvks_.end()) {
      Json g = Json::Array();
      for (const auto& v : it->second) g.Push(v);
      s["x-kubernetes-group-version-kind"] = std::move(g);
    }
    return s;
  }

  // Fields of `d` as properties; INLINE members contribute their own fields (Volume.volumeSource).
  void AddProperties(const Descriptor* d, std::map<std::string, Json>* props,
                     std::vector<std::string>* required) {
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      ck::api::GoField go = GoOf(f);
      if (go == ck::api::INLINE && f->message_type() != nullptr) {
        AddProperties(f->message_type(), props, required);
        continue;
      }
      bool is_message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated();
      if ((go == ck::api::ALWAYS && !is_message && f->name() != "metadata") ||
          (go == ck::api::NULLABLE && !f->is_repeated())) {
        required->push_back(f->json_name());
      }
      (*props)[f->json_name()] = FieldSchema(f);
    }
  }

  // The schema of one value of `f` (an element for repeated fields, the value for maps).
  Json ValueSchema(const FieldDescriptor* f, bool value_struct) {
    if (f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) return ScalarSchema(f);
    const Descriptor* m = f->message_type();
    if (IsStringArrayWrapper(m)) {
      Json a = Json::Object();
      Json items = Json::Object();
      items["type"] = "string";
      a["items"] = std::move(items);
      a["type"] = "array";
      return a;
    }
    Add(m);
    if (!value_struct) return Ref(m);
    Json s = Json::Object();
    Json all = Json::Array();
    all.Push(Ref(m));
    s["allOf"] = std::move(all);
    s["default"] = Json::Object();
    return s;
  }

  Json FieldSchema(const FieldDescriptor* f) {
    std::string_view desc = FieldDescription(f);
    auto patch_it = PatchTable().find(f->full_name());
    const PatchInfo* patch = patch_it == PatchTable().end() ? nullptr : &patch_it->second;
    Json s = Json::Object();
    if (f->is_map()) {
      const FieldDescriptor* value = f->message_type()->map_value();
      s["additionalProperties"] = ValueSchema(value, false);
      if (!desc.empty()) s["description"] = desc;
      s["type"] = "object";
    } else if (f->is_repeated()) {
      if (!desc.empty()) s["description"] = desc;
      // Go slices of structs hold values: upstream gives each element "default": {}.
      s["items"] = ValueSchema(f, f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE);
      s["type"] = "array";
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
               !IsStringArrayWrapper(f->message_type())) {
      // A reference with siblings must be wrapped in allOf (OpenAPI 3.0 ignores $ref siblings).
      Add(f->message_type());
      Json all = Json::Array();
      all.Push(Ref(f->message_type()));
      s["allOf"] = std::move(all);
      if (GoOf(f) == ck::api::ALWAYS && SpecialSchema(f->message_type()).is_null())
        s["default"] = Json::Object();
      if (!desc.empty()) s["description"] = desc;
    } else {
      s = ValueSchema(f, false);
      if (!desc.empty()) s["description"] = desc;
    }
    if (patch != nullptr) {
      if (!patch->map_keys.empty()) {
        Json keys = Json::Array();
        for (auto k : patch->map_keys) keys.Push(k);
        s["x-kubernetes-list-map-keys"] = std::move(keys);
      }
      if (!patch->list_type.empty()) s["x-kubernetes-list-type"] = patch->list_type;
      if (!patch->merge_key.empty()) s["x-kubernetes-patch-merge-key"] = patch->merge_key;
      if (!patch->strategy.empty()) s["x-kubernetes-patch-strategy"] = patch->strategy;
    }
    return s;
  }

  std::map<std::string, Json> schemas_;
  std::map<std::string, std::vector<Json>> gvks_;
  std::set<std::string> kinds_;
};

// ---------------------------------------------------------------------------------------------
// Paths and operations.

std::string Capitalize(std::string_view s) {
  std::string out(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// "CoreV1", "AppsV1", "RbacAuthorizationV1" (operation ids) and "core_v1", "rbacAuthorization_v1" (tags).
std::string GroupWord(std::string_view group) {
  if (group.empty()) return "Core";
  std::string_view g = group;
  constexpr std::string_view kSuffix = ".k8s.io";
  if (g.size() > kSuffix.size() && g.substr(g.size() - kSuffix.size()) == kSuffix)
    g.remove_suffix(kSuffix.size());
  std::string out;
  size_t start = 0;
  while (start <= g.size()) {
    size_t dot = g.find('.', start);
    if (dot == std::string_view::npos) dot = g.size();
    out += Capitalize(g.substr(start, dot - start));
    start = dot + 1;
  }
  return out;
}

std::string Tag(const ResourceInfo& r) {
  std::string w = GroupWord(r.group);
  w[0] = static_cast<char>(w[0] - 'A' + 'a');
  return w + "_" + r.version;
}

Json Gvk(std::string_view group, std::string_view version, std::string_view kind) {
  Json g = Json::Object();
  g["group"] = group;
  g["kind"] = kind;
  g["version"] = version;
  return g;
}

struct ParamDef {
  std::string_view name;
  std::string_view type;  // "string", "boolean", "integer"
  std::string_view description;
};

const std::map<std::string_view, ParamDef>& Params() {
  static const auto* params = new std::map<std::string_view, ParamDef>{
      {"pretty", {"pretty", "string", "If 'true', the output is pretty printed."}},
      {"dryRun",
       {"dryRun", "string",
        "When present, modifications are not persisted. Valid value: All (process every stage of the "
        "request)."}},
      {"fieldManager",
       {"fieldManager", "string", "Name of the actor making the change, recorded in managed fields."}},
      {"fieldValidation",
       {"fieldValidation", "string",
        "What the server does with unknown or duplicate fields in the body: Ignore (drop them), Warn (drop "
        "them "
        "and send a Warning header per field) or Strict (fail the request with 400 BadRequest)."}},
      {"force", {"force", "boolean", "Force an Apply request to take fields owned by other managers."}},
      {"gracePeriodSeconds",
       {"gracePeriodSeconds", "integer", "Seconds before the object is deleted; 0 deletes immediately."}},
      {"orphanDependents", {"orphanDependents", "boolean", "Deprecated: use propagationPolicy."}},
      {"propagationPolicy",
       {"propagationPolicy", "string",
        "Whether and how dependents are garbage collected: Orphan, Background or Foreground."}},
      {"allowWatchBookmarks", {"allowWatchBookmarks", "boolean", "Ask for BOOKMARK events in a watch."}},
      {"continue", {"continue", "string", "Token from a previous paged list, to fetch the next page."}},
      {"fieldSelector", {"fieldSelector", "string", "Select objects by their fields (metadata.name=x)."}},
      {"labelSelector", {"labelSelector", "string", "Select objects by their labels (app=web,tier!=db)."}},
      {"limit", {"limit", "integer", "Maximum number of objects in one list response."}},
      {"resourceVersion",
       {"resourceVersion", "string", "Which version of the data the list or watch starts from."}},
      {"resourceVersionMatch",
       {"resourceVersionMatch", "string", "How resourceVersion applies to a list: Exact or NotOlderThan."}},
      {"sendInitialEvents",
       {"sendInitialEvents", "boolean",
        "Start a watch with synthetic ADDED events for the current objects."}},
      {"timeoutSeconds", {"timeoutSeconds", "integer", "Time limit of the list or watch call."}},
      {"watch", {"watch", "boolean", "Watch for changes instead of listing."}},
      {"container", {"container", "string", "The container to use; defaults to the only container."}},
      {"follow", {"follow", "boolean", "Keep streaming the log."}},
      {"insecureSkipTLSVerifyBackend",
       {"insecureSkipTLSVerifyBackend", "boolean", "Do not verify the serving certificate of the kubelet."}},
      {"limitBytes", {"limitBytes", "integer", "Stop after this many bytes of log."}},
      {"previous", {"previous", "boolean", "The log of the previous, terminated container."}},
      {"sinceSeconds", {"sinceSeconds", "integer", "Only log lines newer than this many seconds."}},
      {"tailLines", {"tailLines", "integer", "Only the last lines of the log."}},
      {"timestamps", {"timestamps", "boolean", "Prefix every line with an RFC 3339 timestamp."}},
      {"command", {"command", "string", "Command to run, one argument per parameter."}},
      {"stderr", {"stderr", "boolean", "Redirect the standard error stream."}},
      {"stdin", {"stdin", "boolean", "Redirect the standard input stream."}},
      {"stdout", {"stdout", "boolean", "Redirect the standard output stream."}},
      {"tty", {"tty", "boolean", "Allocate a terminal."}},
      {"ports", {"ports", "integer", "Ports to forward."}},
      {"path", {"path", "string", "Path to forward to."}},
  };
  return *params;
}

Json QueryParam(std::string_view name) {
  auto it = Params().find(name);
  CK_CHECK(it != Params().end()) << "unknown parameter " << std::string(name);
  Json p = Json::Object();
  p["description"] = it->second.description;
  p["in"] = "query";
  p["name"] = name;
  Json schema = Json::Object();
  schema["type"] = it->second.type;
  schema["uniqueItems"] = true;
  p["schema"] = std::move(schema);
  return p;
}

Json PathParam(std::string_view name, std::string description) {
  Json p = Json::Object();
  p["description"] = std::move(description);
  p["in"] = "path";
  p["name"] = name;
  p["required"] = true;
  Json schema = Json::Object();
  schema["type"] = "string";
  schema["uniqueItems"] = true;
  p["schema"] = std::move(schema);
  return p;
}

Json Params(std::initializer_list<std::string_view> names) {
  Json a = Json::Array();
  for (auto n : names) a.Push(QueryParam(n));
  return a;
}

// The content map of a request or response whose body is `schema` (a $ref or inline schema).
Json Content(const Json& schema, const std::vector<std::string_view>& types) {
  Json c = Json::Object();
  for (auto t : types) {
    Json entry = Json::Object();
    entry["schema"] = schema;
    c[t] = std::move(entry);
  }
  return c;
}

const std::vector<std::string_view>& ResponseTypes() {
  static const auto* types = new std::vector<std::string_view>{
      "application/json", "application/vnd.kubernetes.protobuf", "application/yaml"};
  return *types;
}

Json Responses(std::initializer_list<std::pair<std::string_view, std::string_view>> codes, const Json& schema,
               const std::vector<std::string_view>& types = ResponseTypes()) {
  Json r = Json::Object();
  for (const auto& [code, text] : codes) {
    Json entry = Json::Object();
    if (!schema.is_null()) entry["content"] = Content(schema, types);
    entry["description"] = text;
    r[code] = std::move(entry);
  }
  Json unauthorized = Json::Object();
  unauthorized["description"] = "Unauthorized";
  r["401"] = std::move(unauthorized);
  return r;
}

Json RequestBody(const Json& schema, const std::vector<std::string_view>& types = {"*/*"}) {
  Json b = Json::Object();
  b["content"] = Content(schema, types);
  b["required"] = true;
  return b;
}

Json SchemaRef(std::string_view proto_full_name) {
  Json r = Json::Object();
  r["$ref"] = "#/components/schemas/" + SchemaName(proto_full_name);
  return r;
}

Json StringSchema() {
  Json s = Json::Object();
  s["type"] = "string";
  return s;
}

struct Op {
  std::string verb;  // "get", "post", "put", "patch", "delete"
  std::string description;
  std::string operation_id;
  std::string action;  // x-kubernetes-action
  Json gvk;
  Json parameters = Json::Array();
  Json request_body;  // null when none
  Json responses;
};

Json OpJson(const Op& op, const std::string& tag) {
  Json o = Json::Object();
  o["description"] = op.description;
  o["operationId"] = op.operation_id;
  if (op.parameters.size() != 0) o["parameters"] = op.parameters;
  if (!op.request_body.is_null()) o["requestBody"] = op.request_body;
  o["responses"] = op.responses;
  Json tags = Json::Array();
  tags.Push(tag);
  o["tags"] = std::move(tags);
  o["x-kubernetes-action"] = op.action;
  if (!op.gvk.is_null()) o["x-kubernetes-group-version-kind"] = op.gvk;
  return o;
}

// The protobuf message of a kind served under group/version (subresource kinds live in other
// packages: autoscaling/v1 Scale, policy/v1 Eviction, authentication.k8s.io/v1 TokenRequest).
const Descriptor* KindMessage(std::string_view group, std::string_view version, std::string_view kind) {
  std::string pkg = "k8s.io.api.";
  if (group.empty()) {
    pkg += "core";
  } else {
    size_t dot = group.find('.');
    pkg += std::string(group.substr(0, dot));
  }
  pkg += "." + std::string(version) + "." + std::string(kind);
  return DescriptorPool::generated_pool()->FindMessageTypeByName(pkg);
}

class GroupVersionDoc {
 public:
  GroupVersionDoc(const GroupInfo& g, const OpenApiOptions& options) : group_(g), options_(options) {
    base_ = g.name.empty() ? "/api/" + g.version : "/apis/" + g.name + "/" + g.version;
  }

  Status AddResource(const ResourceInfo& r) {
    const Descriptor* kind = DescriptorPool::generated_pool()->FindMessageTypeByName(r.proto_type);
    if (kind == nullptr) return Internal("OpenAPI: no message " + r.proto_type + " for " + r.GroupResource());
    schemas_.MarkKind(kind);
    schemas_.Tag(kind, Gvk(r.group, r.version, r.kind));
    schemas_.Add(kind);
    const Descriptor* list = nullptr;
    if (!r.list_proto_type.empty()) {
      list = DescriptorPool::generated_pool()->FindMessageTypeByName(r.list_proto_type);
      if (list == nullptr) return Internal("OpenAPI: no message " + r.list_proto_type);
      schemas_.MarkKind(list);
      schemas_.Tag(list, Gvk(r.group, r.version, r.kind + "List"));
      schemas_.Add(list);
    }
    AddResourcePaths(r, kind, list);
    for (const auto& s : r.subresources) AddSubresourcePaths(r, s);
    return Status::Ok();
  }

  std::string Render() {
    // Types every group version's operations refer to.
    for (std::string_view n : {"Status", "DeleteOptions", "Patch", "APIResourceList"}) {
      const Descriptor* d =
          DescriptorPool::generated_pool()->FindMessageTypeByName(std::string(kMeta) + std::string(n));
      CK_CHECK(d != nullptr) << "meta.v1." << std::string(n) << " missing";
      if (n != "Patch") schemas_.MarkKind(d);
      schemas_.Add(d);
    }
    // GET <base>/: the group version's resource list.
    Op get;
    get.verb = "get";
    get.description = "get available resources";
    get.operation_id = "get" + GroupWord(group_.name) + Capitalize(group_.version) + "APIResources";
    get.action = "";
    get.responses = Responses({{"200", "OK"}}, SchemaRef(std::string(kMeta) + "APIResourceList"));
    Json root_item = Json::Object();
    Json o = OpJson(get, TagOf());
    o.Erase("x-kubernetes-action");
    root_item["get"] = std::move(o);
    paths_[base_ + "/"] = std::move(root_item);

    Json doc = Json::Object();
    Json components = Json::Object();
    components["schemas"] = schemas_.Take();
    Json security = Json::Object();
    Json bearer = Json::Object();
    bearer["description"] = "Bearer Token authentication";
    bearer["in"] = "header";
    bearer["name"] = "authorization";
    bearer["type"] = "apiKey";
    security["BearerToken"] = std::move(bearer);
    components["securitySchemes"] = std::move(security);
    doc["components"] = std::move(components);
    Json info = Json::Object();
    info["title"] = options_.title;
    info["version"] = options_.version;
    doc["info"] = std::move(info);
    doc["openapi"] = "3.0.0";
    Json paths = Json::Object();
    for (auto& [p, item] : paths_) paths[p] = std::move(item);
    doc["paths"] = std::move(paths);
    Json sec = Json::Array();
    Json req = Json::Object();
    req["BearerToken"] = Json::Array();
    sec.Push(std::move(req));
    doc["security"] = std::move(sec);
    return doc.Dump();
  }

 private:
  std::string TagOf() const {
    ResourceInfo fake;
    fake.group = group_.name;
    fake.version = group_.version;
    return Tag(fake);
  }

  std::string OpId(std::string_view verb, const ResourceInfo& r, std::string_view middle,
                   std::string_view suffix) {
    return std::string(verb) + GroupWord(r.group) + Capitalize(r.version) + std::string(middle) +
           (r.namespaced ? "Namespaced" : "") + r.kind + std::string(suffix);
  }

  Json& Item(const std::string& path, Json common_params) {
    Json& item = paths_[path];
    if (item.is_null()) {
      item = Json::Object();
      if (common_params.size() != 0) item["parameters"] = std::move(common_params);
    }
    return item;
  }

  Json CollectionParams(const ResourceInfo& r) {
    Json a = Json::Array();
    if (r.namespaced)
      a.Push(PathParam("namespace", "object name and auth scope, such as for teams and projects"));
    a.Push(QueryParam("pretty"));
    return a;
  }

  Json ItemParams(const ResourceInfo& r) {
    Json a = Json::Array();
    a.Push(PathParam("name", "name of the " + r.kind));
    if (r.namespaced)
      a.Push(PathParam("namespace", "object name and auth scope, such as for teams and projects"));
    a.Push(QueryParam("pretty"));
    return a;
  }

  void Put(Json& item, const Op& op) { item[op.verb] = OpJson(op, tag_); }

  void AddResourcePaths(const ResourceInfo& r, const Descriptor* kind, const Descriptor* list) {
    tag_ = Tag(r);
    std::string collection = base_ + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource;
    std::string item = collection + "/{name}";
    Json kind_ref = Ref(kind);
    Json gvk = Gvk(r.group, r.version, r.kind);
    Json status_ref = SchemaRef(std::string(kMeta) + "Status");
    Json delete_body = RequestBody(SchemaRef(std::string(kMeta) + "DeleteOptions"));

    if (r.HasVerb("list") && list != nullptr) {
      Op op;
      op.verb = "get";
      op.description = "list or watch objects of kind " + r.kind;
      op.operation_id = OpId("list", r, "", "");
      op.action = "list";
      op.gvk = gvk;
      op.parameters =
          Params({"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
                  "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds", "watch"});
      op.responses = Responses(
          {{"200", "OK"}}, Ref(list),
          {"application/json", "application/json;stream=watch", "application/vnd.kubernetes.protobuf",
           "application/vnd.kubernetes.protobuf;stream=watch", "application/yaml"});
      Put(Item(collection, CollectionParams(r)), op);
      if (r.namespaced) {
        // GET <base>/<resource>: the same list across every namespace.
        Op all = op;
        all.operation_id = "list" + GroupWord(r.group) + Capitalize(r.version) + r.kind + "ForAllNamespaces";
        all.parameters = Params({"allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
                                 "pretty", "resourceVersion", "resourceVersionMatch", "sendInitialEvents",
                                 "timeoutSeconds", "watch"});
        Put(Item(base_ + "/" + r.resource, Json::Array()), all);
      }
    }
    if (r.HasVerb("create")) {
      Op op;
      op.verb = "post";
      op.description =
          "create " +
          std::string(std::string_view("aeiouAEIOU").find(r.kind[0]) != std::string_view::npos ? "an "
                                                                                               : "a ") +
          r.kind;
      op.operation_id = OpId("create", r, "", "");
      op.action = "post";
      op.gvk = gvk;
      op.parameters = Params({"dryRun", "fieldManager", "fieldValidation"});
      op.request_body = RequestBody(kind_ref);
      op.responses = Responses({{"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}}, kind_ref);
      Put(Item(collection, CollectionParams(r)), op);
    }
    if (r.HasVerb("deletecollection")) {
      Op op;
      op.verb = "delete";
      op.description = "delete collection of " + r.kind;
      op.operation_id = OpId("delete", r, "Collection", "");
      op.action = "deletecollection";
      op.gvk = gvk;
      op.parameters = Params({"continue", "dryRun", "fieldSelector", "gracePeriodSeconds", "labelSelector",
                              "limit", "orphanDependents", "propagationPolicy", "resourceVersion",
                              "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds"});
      op.request_body = delete_body;
      op.responses = Responses({{"200", "OK"}}, status_ref);
      Put(Item(collection, CollectionParams(r)), op);
    }
    if (r.HasVerb("get")) {
      Op op;
      op.verb = "get";
      op.description = "read the specified " + r.kind;
      op.operation_id = OpId("read", r, "", "");
      op.action = "get";
      op.gvk = gvk;
      op.responses = Responses({{"200", "OK"}}, kind_ref);
      Put(Item(item, ItemParams(r)), op);
    }
    if (r.HasVerb("update")) {
      Op op;
      op.verb = "put";
      op.description = "replace the specified " + r.kind;
      op.operation_id = OpId("replace", r, "", "");
      op.action = "put";
      op.gvk = gvk;
      op.parameters = Params({"dryRun", "fieldManager", "fieldValidation"});
      op.request_body = RequestBody(kind_ref);
      op.responses = Responses({{"200", "OK"}, {"201", "Created"}}, kind_ref);
      Put(Item(item, ItemParams(r)), op);
    }
    if (r.HasVerb("delete")) {
      Op op;
      op.verb = "delete";
      op.description =
          "delete " +
          std::string(std::string_view("aeiouAEIOU").find(r.kind[0]) != std::string_view::npos ? "an "
                                                                                               : "a ") +
          r.kind;
      op.operation_id = OpId("delete", r, "", "");
      op.action = "delete";
      op.gvk = gvk;
      op.parameters = Params({"dryRun", "gracePeriodSeconds", "orphanDependents", "propagationPolicy"});
      op.request_body = delete_body;
      op.responses = Responses({{"200", "OK"}, {"202", "Accepted"}}, status_ref);
      Put(Item(item, ItemParams(r)), op);
    }
    if (r.HasVerb("patch"))
      Put(Item(item, ItemParams(r)), PatchOp(r, "", gvk, kind_ref, "the specified " + r.kind));
  }

  // PATCH with every patch type kubectl sends and the fieldValidation parameter (kubectl checks
  // for it before it leaves validation to the server).
  Op PatchOp(const ResourceInfo& r, std::string_view sub, Json gvk, Json body_ref, std::string what) {
    Op op;
    op.verb = "patch";
    op.description = "partially update " + std::string(sub.empty() ? "" : std::string(sub) + " of ") + what;
    op.operation_id = OpId("patch", r, "", Capitalize(sub));
    op.action = "patch";
    op.gvk = std::move(gvk);
    op.parameters = Params({"dryRun", "fieldManager", "fieldValidation", "force"});
    op.request_body = RequestBody(SchemaRef(std::string(kMeta) + "Patch"),
                                  {"application/apply-patch+yaml", "application/json-patch+json",
                                   "application/merge-patch+json", "application/strategic-merge-patch+json"});
    op.responses = Responses({{"200", "OK"}, {"201", "Created"}}, body_ref);
    return op;
  }

  void AddSubresourcePaths(const ResourceInfo& r, const SubresourceInfo& s) {
    std::string path =
        base_ + (r.namespaced ? "/namespaces/{namespace}/" : "/") + r.resource + "/{name}/" + s.name;
    Json params = Json::Array();
    params.Push(PathParam("name", "name of the " + s.kind));
    if (r.namespaced)
      params.Push(PathParam("namespace", "object name and auth scope, such as for teams and projects"));
    Json gvk = Gvk(s.group, s.version, s.kind);
    const Descriptor* msg = KindMessage(s.group, s.version, s.kind);
    bool connect = s.kind.size() > 7 && s.kind.substr(s.kind.size() - 7) == "Options";
    if (msg != nullptr && !connect) {
      schemas_.MarkKind(msg);
      schemas_.Tag(msg, Gvk(s.group, s.version, s.kind));
      schemas_.Add(msg);
    }
    Json body_ref = msg != nullptr ? Ref(msg) : StringSchema();
    Json& item = Item(path, params);
    std::string sub = Capitalize(s.name);
    std::string what = "the specified " + r.kind;

    if (s.name == "log") {
      item["parameters"].Push(QueryParam("pretty"));
      Op op;
      op.verb = "get";
      op.description = "read log of " + what;
      op.operation_id = OpId("read", r, "", "Log");
      op.action = "get";
      op.gvk = Gvk(r.group, r.version, r.kind);
      op.parameters = Params({"container", "follow", "insecureSkipTLSVerifyBackend", "limitBytes", "previous",
                              "sinceSeconds", "tailLines", "timestamps"});
      op.responses = Responses(
          {{"200", "OK"}}, StringSchema(),
          {"text/plain", "application/json", "application/yaml", "application/vnd.kubernetes.protobuf"});
      Put(item, op);
      return;
    }
    if (connect) {
      std::vector<std::string_view> qp;
      if (s.name == "exec") qp = {"command", "container", "stderr", "stdin", "stdout", "tty"};
      if (s.name == "attach") qp = {"container", "stderr", "stdin", "stdout", "tty"};
      if (s.name == "portforward") qp = {"ports"};
      if (s.name == "proxy") qp = {"path"};
      for (const auto& verb : s.verbs) {
        std::string http = verb == "create"   ? "post"
                           : verb == "get"    ? "get"
                           : verb == "update" ? "put"
                                              : verb;
        Op op;
        op.verb = http;
        op.description = "connect " +
                         std::string(http == "post"    ? "POST"
                                     : http == "get"   ? "GET"
                                     : http == "put"   ? "PUT"
                                     : http == "patch" ? "PATCH"
                                                       : "DELETE") +
                         " requests to " + s.name + " of " + r.kind;
        op.operation_id = "connect" + GroupWord(r.group) + Capitalize(r.version) + Capitalize(http) +
                          (r.namespaced ? "Namespaced" : "") + r.kind + sub;
        op.action = "connect";
        op.gvk = gvk;
        Json a = Json::Array();
        for (auto n : qp) a.Push(QueryParam(n));
        op.parameters = std::move(a);
        op.responses = Responses({{"200", "OK"}}, StringSchema(), {"*/*"});
        Put(item, op);
      }
      return;
    }
    item["parameters"].Push(QueryParam("pretty"));
    for (const auto& verb : s.verbs) {
      Op op;
      op.gvk = gvk;
      if (verb == "get") {
        op.verb = "get";
        op.description = "read " + s.name + " of " + what;
        op.operation_id = OpId("read", r, "", sub);
        op.action = "get";
        op.responses = Responses({{"200", "OK"}}, body_ref);
      } else if (verb == "update") {
        op.verb = "put";
        op.description = "replace " + s.name + " of " + what;
        op.operation_id = OpId("replace", r, "", sub);
        op.action = "put";
        op.parameters = Params({"dryRun", "fieldManager", "fieldValidation"});
        op.request_body = RequestBody(body_ref);
        op.responses = Responses({{"200", "OK"}, {"201", "Created"}}, body_ref);
      } else if (verb == "patch") {
        op = PatchOp(r, s.name, gvk, body_ref, what);
      } else if (verb == "create") {
        op.verb = "post";
        op.description = "create " + s.name + " of " + r.kind;
        op.operation_id = OpId("create", r, "", sub);
        op.action = "post";
        op.parameters = Params({"dryRun", "fieldManager", "fieldValidation"});
        op.request_body = RequestBody(body_ref);
        op.responses = Responses({{"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}}, body_ref);
      } else {
        continue;
      }
      Put(item, op);
    }
  }

  GroupInfo group_;
  OpenApiOptions options_;
  std::string base_;
  std::string tag_;
  SchemaSet schemas_;
  std::map<std::string, Json> paths_;
};

std::string HexSha512(std::string_view data) {
  unsigned char digest[SHA512_DIGEST_LENGTH];
  SHA512(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(2 * SHA512_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

// RFC 1123 date in GMT one calendar year after `t` (Go's t.AddDate(1, 0, 0)), as HTTP headers
// want it: "Mon, 02 Jan 2006 15:04:05 GMT".
std::string HttpDateOneYearAfter(WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  tm.tm_year += 1;
  secs = timegm(&tm);  // normalizes Feb 29 to Mar 1, as Go does
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(buf, n);
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  size_t start = 0;
  while (start <= if_none_match.size()) {
    size_t comma = if_none_match.find(',', start);
    if (comma == std::string_view::npos) comma = if_none_match.size();
    std::string_view t = if_none_match.substr(start, comma - start);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.substr(0, 2) == "W/") t.remove_prefix(2);
    if (t == "*" || t == etag) return true;
    start = comma + 1;
  }
  return false;
}

bool AcceptsJson(std::string_view accept) {
  if (accept.empty()) return true;
  for (const MediaRange& m : ParseAccept(accept)) {
    if (m.q <= 0) continue;
    if ((m.type == "application" || m.type == "*") && (m.subtype == "json" || m.subtype == "*")) return true;
  }
  return false;
}

}  // namespace

std::string SchemaName(std::string_view proto_full_name) {
  constexpr std::string_view kPrefix = "k8s.io.";
  if (proto_full_name.substr(0, kPrefix.size()) == kPrefix) {
    return "io.k8s." + std::string(proto_full_name.substr(kPrefix.size()));
  }
  return std::string(proto_full_name);
}

Result<OpenApiV3> OpenApiV3::Build(const std::vector<ResourceInfo>& resources,
                                   const std::vector<GroupInfo>& groups, const OpenApiOptions& options) {
  api::AllApiProtoFiles();  // links every generated file into the pool
  OpenApiV3 out;
  Json root_paths = Json::Object();
  for (const GroupInfo& g : groups) {
    GroupVersionDoc doc(g, options);
    for (const ResourceInfo& r : resources) {
      if (r.group == g.name && r.version == g.version) CK_RETURN_IF_ERROR(doc.AddResource(r));
    }
    std::string gv_path = g.name.empty() ? "api/" + g.version : "apis/" + g.name + "/" + g.version;
    Doc d;
    d.body = doc.Render();
    d.hash = HexSha512(d.body);
    Json entry = Json::Object();
    entry["serverRelativeURL"] = "/openapi/v3/" + gv_path + "?hash=" + d.hash;
    root_paths[gv_path] = std::move(entry);
    out.docs_[gv_path] = std::move(d);
  }
  Json root = Json::Object();
  root["paths"] = std::move(root_paths);
  out.root_ = root.Dump();
  return out;
}

const std::string* OpenApiV3::Document(std::string_view gv_path) const {
  auto it = docs_.find(gv_path);
  return it == docs_.end() ? nullptr : &it->second.body;
}

std::string_view OpenApiV3::Hash(std::string_view gv_path) const {
  auto it = docs_.find(gv_path);
  return it == docs_.end() ? std::string_view() : std::string_view(it->second.hash);
}

Result<OpenApiReply> OpenApiV3::Serve(std::string_view path, std::string_view query_hash,
                                      std::string_view accept, std::string_view if_none_match,
                                      WallTime now) const {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  constexpr std::string_view kPrefix = "/openapi/v3";
  if (path.substr(0, kPrefix.size()) != kPrefix) return NotFound(std::string(kNoSuchPath));
  if (!AcceptsJson(accept)) {
    return Status(Code::kNotAcceptable, "only the following media types are accepted: application/json");
  }
  OpenApiReply reply;
  if (path == kPrefix) {
    reply.body = &root_;
    return reply;
  }
  if (path.size() <= kPrefix.size() + 1 || path[kPrefix.size()] != '/')
    return NotFound(std::string(kNoSuchPath));
  auto it = docs_.find(path.substr(kPrefix.size() + 1));
  if (it == docs_.end()) return NotFound(std::string(kNoSuchPath));
  const Doc& doc = it->second;
  std::string etag = "\"" + doc.hash + "\"";
  reply.headers.emplace_back("ETag", etag);
  if (!query_hash.empty()) {
    if (query_hash != doc.hash) {
      reply.status = 301;
      reply.headers.emplace_back("Location", "/openapi/v3/" + it->first + "?hash=" + doc.hash);
      return reply;
    }
    reply.headers.emplace_back("Vary", "Accept");
    reply.headers.emplace_back("Cache-Control", "public, immutable");
    reply.headers.emplace_back("Expires", HttpDateOneYearAfter(now));
  }
  if (!if_none_match.empty() && EtagMatches(if_none_match, etag)) {
    reply.status = 304;
    return reply;
  }
  reply.body = &doc.body;
  return reply;
}

}  // namespace ck::apiserver::discovery
