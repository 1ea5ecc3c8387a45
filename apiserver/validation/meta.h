// Validators shared by every kind: ObjectMeta on create and update, labels, annotations, label
// selectors and their matching, and the small generic rules (non-negative, immutable).
// Internal to apiserver/validation; pure functions.
#pragma once

#include <optional>
#include <string>

#include "apiserver/validation/field.h"
#include "apiserver/validation/names.h"

namespace ck::apiserver::validation {

using StringMap = google::protobuf::Map<std::string, std::string>;

// Which name rule a kind uses for metadata.name (upstream's ValidateXName funcs).
NameRule NameRuleFor(const ResourceInfo& resource);

// ObjectMeta on create (upstream core ValidateObjectMeta): name/generateName, namespace presence,
// generation, labels, annotations, ownerReferences, finalizers, managedFields. `kube_finalizers`
// adds core's "neither a standard finalizer name nor fully qualified" rule.
FieldErrors ValidateMeta(const ObjectMeta& meta, bool requires_namespace, NameRule rule, const Path& path,
                         bool kube_finalizers = true);
// ObjectMeta on update: immutable identity fields, resourceVersion present, generation not
// decremented, no new finalizers once deleting, plus labels/annotations/ownerReferences again.
FieldErrors ValidateMetaUpdate(const ObjectMeta& meta, const ObjectMeta& old, const Path& path,
                               bool kube_finalizers = true);

FieldErrors ValidateLabels(const StringMap& labels, const Path& path);
FieldErrors ValidateAnnotations(const StringMap& annotations, const Path& path);
// A label key (qualified name) at `path`.
FieldErrors ValidateLabelName(std::string_view key, const Path& path);
FieldErrors ValidateQualifiedNameField(std::string_view value, const Path& path);
FieldErrors ValidateDNS1123LabelField(std::string_view value, const Path& path);
FieldErrors ValidateDNS1123SubdomainField(std::string_view value, const Path& path);
// Runs a name rule and reports each message as Invalid(path, value).
FieldErrors ValidateNameField(NameRule rule, std::string_view value, const Path& path);
FieldErrors ValidateIPField(std::string_view value, const Path& path);
FieldErrors ValidateCIDRField(std::string_view value, const Path& path);

// metav1 LabelSelector validation; `selector` may be null (nothing to validate).
FieldErrors ValidateLabelSelector(const LabelSelector* selector, const Path& path, bool allow_invalid_values = false);

// metav1.LabelSelectorAsSelector: null is "nothing" (matches no labels), an empty selector is
// "everything". Returns nullopt when the selector cannot be converted (bad operator, ...).
class Selector {
 public:
  static std::optional<Selector> From(const LabelSelector* s);
  bool Empty() const { return everything_; }  // labels.Selector.Empty(): true only for everything
  bool Matches(const StringMap& labels) const;

 private:
  bool nothing_ = false;
  bool everything_ = false;
  const LabelSelector* s_ = nullptr;
};

FieldErrors ValidateNonnegative(int64_t value, const Path& path);  // "must be greater than or equal to 0"
// Invalid(path, rendered_new, "field is immutable") when !equal.
FieldErrors ValidateImmutable(bool equal, std::string rendered_new, const Path& path);

// Go's time.Time.String() of a metav1.Time-like {seconds, nanos}, in UTC.
std::string GoTime(int64_t seconds, int32_t nanos);

}  // namespace ck::apiserver::validation
