// Per-kind defaulting and validation of ck-apiserver, with upstream Kubernetes semantics.
//
// The request path calls ApplyDefaults on every create and update (after decoding, before
// admission), then ValidateObject (or ValidateStatusUpdate for the status subresource). A non-empty
// FieldErrors becomes a 422 Invalid Status whose message is InvalidMessage(...) and whose
// details.causes are the errors' {Reason(), Message(), field}. Field paths, values and messages
// are spelled as kube-apiserver spells them, so kubectl prints the same text.
// All functions are pure (no I/O except the time zone lookup of CronJob.spec.timeZone, which
// reads /usr/share/zoneinfo) and safe to call from any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "apiserver/resources.h"
#include "common/api/proto/meta_v1.pb.h"

namespace ck::apiserver {

// One field-level validation error (upstream k8s.io/apimachinery/pkg/util/validation/field.Error).
struct FieldError {
  enum class Type { kRequired, kInvalid, kDuplicate, kNotSupported, kForbidden, kTooLong, kTooMany, kNotFound };
  Type type = Type::kInvalid;
  std::string field;   // "spec.containers[0].image", "metadata.name", "[]" for the whole object
  std::string value;   // the bad value as upstream renders it (`"x"`, `-1`, `map[string]string{...}`);
                       // "" when the message carries no value
  std::string detail;  // extra text, e.g. the DNS-1123 explanation or "supported values: ..."

  // "FieldValueRequired", "FieldValueInvalid", ... (the StatusCause reason).
  std::string Reason() const;
  // Upstream's ErrorBody: "Required value", `Invalid value: "x": <detail>`, `Duplicate value: "a"`,
  // `Unsupported value: "x": supported values: "A", "B"`, "Forbidden: <detail>", ...
  std::string Message() const;
  // "<field>: <Message()>".
  std::string ToString() const;

  friend bool operator==(const FieldError&, const FieldError&) = default;
};
using FieldErrors = std::vector<FieldError>;

// Fills upstream defaults in place (SetDefaults_* of core/v1, apps/v1, batch/v1, networking/v1,
// rbac/v1, policy/v1, scheduling/v1, discovery/v1, admissionregistration/v1), recursively, e.g. a
// Pod gets restartPolicy Always, dnsPolicy ClusterFirst, terminationGracePeriodSeconds 30, ...
// Two things upstream does in the create strategy are done here too because validation depends
// on them: a Job whose metadata.uid is set and whose spec.manualSelector is not true gets the
// generated selector and template labels (batch.kubernetes.io/controller-uid, .../job-name), and
// a Service's clusterIP/clusterIPs are synced when one of them is empty.
// `object` must be the message named by resource.proto_type; other kinds are left alone.
void ApplyDefaults(const ResourceInfo& resource, google::protobuf::Message* object);

// Validates a whole object on create (`old_object` == nullptr) or update (`old_object` is the
// stored object, already defaulted). Kinds without specific rules get metadata validation.
FieldErrors ValidateObject(const ResourceInfo& resource, const google::protobuf::Message& object,
                           const google::protobuf::Message* old_object);

// Validates an update through the status subresource: metadata update rules plus the kind's
// status rules. Upstream ignores spec changes made through /status; PrepareStatusUpdate does that.
FieldErrors ValidateStatusUpdate(const ResourceInfo& resource, const google::protobuf::Message& object,
                                 const google::protobuf::Message& old_object);

// Copies every top-level field except `metadata` and `status` from `old_object` into `object`, as
// upstream's status strategies do before validating a /status update.
void PrepareStatusUpdate(const google::protobuf::Message& old_object, google::protobuf::Message* object);

// Defaults the body of a subresource request: authentication/v1 TokenRequest gets
// spec.expirationSeconds 3600. Other bodies are left alone.
void ApplySubresourceDefaults(const SubresourceInfo& subresource, google::protobuf::Message* object);

// Validates the body of a subresource request other than status: autoscaling/v1 Scale (metadata,
// spec.replicas >= 0) and authentication/v1 TokenRequest (spec.expirationSeconds from 10 minutes
// to 2^32 seconds). Other bodies (policy/v1 Eviction, ...) have no rules, as upstream.
FieldErrors ValidateSubresource(const SubresourceInfo& subresource, const google::protobuf::Message& object);

// Name and metadata rules of `resource` on create: name (or generateName) with the kind's name
// rule (DNS-1123 subdomain for most kinds; DNS-1123 label for namespaces, DNS-1035 label for
// services, path segment for RBAC kinds, ...), namespace present exactly when requires_namespace,
// labels, annotations (keys and total size <= 256 KiB), ownerReferences, finalizers, generation.
FieldErrors ValidateObjectMeta(const ResourceInfo& resource, const k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta& meta,
                               bool requires_namespace);

// The message of a 422 Status, upstream's format: `Pod "x" is invalid: spec.containers[0].image:
// Required value`, or for several `Pod "x" is invalid: [a: Required value, b: Invalid value: ...]`.
// `kind` is the qualified kind as upstream prints it (QualifiedKind): "Pod", "Deployment.apps".
// Identical messages are reported once, as upstream's ErrorList.ToAggregate does.
std::string InvalidMessage(std::string_view kind, std::string_view name, const FieldErrors& errors);

// "Pod", "Deployment.apps", "Role.rbac.authorization.k8s.io": the GroupKind string of a 422.
std::string QualifiedKind(const ResourceInfo& resource);

}  // namespace ck::apiserver
