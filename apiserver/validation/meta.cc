#include "apiserver/validation/meta.h"

#include <algorithm>
#include <ctime>
#include <set>

namespace ck::apiserver::validation {

namespace {

constexpr int64_t kTotalAnnotationSizeLimit = 256 * 1024;
constexpr size_t kFieldManagerMaxLength = 128;
constexpr size_t kMaxSubresourceNameLength = 256;

using k8s::io::apimachinery::pkg::apis::meta::v1::OwnerReference;

std::string GoBoolPtr(bool has, bool v) { return has ? std::string("&") + (v ? "true" : "false") : "(*bool)(nil)"; }

std::string GoOwnerReference(const OwnerReference& r) {
  return "v1.OwnerReference{APIVersion:" + Q(r.apiversion()) + ", Kind:" + Q(r.kind()) + ", Name:" + Q(r.name()) +
         ", UID:" + Q(r.uid()) + ", Controller:" + GoBoolPtr(r.has_controller(), r.controller()) +
         ", BlockOwnerDeletion:" + GoBoolPtr(r.has_blockownerdeletion(), r.blockownerdeletion()) + "}";
}

// schema.FromAPIVersionAndKind: "apps/v1" -> group apps, version v1; "v1" -> group "", version v1.
void SplitAPIVersion(std::string_view api_version, std::string* group, std::string* version) {
  size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    group->clear();
    *version = std::string(api_version);
  } else {
    *group = std::string(api_version.substr(0, slash));
    *version = std::string(api_version.substr(slash + 1));
  }
}

FieldErrors ValidateOwnerReferences(const google::protobuf::RepeatedPtrField<OwnerReference>& refs, const Path& path) {
  FieldErrors errs;
  std::string first_controller;
  for (const auto& ref : refs) {
    std::string group, version;
    SplitAPIVersion(ref.apiversion(), &group, &version);
    if (version.empty()) errs.push_back(Invalid(path.Child("apiVersion"), Q(ref.apiversion()), "version must not be empty"));
    if (ref.kind().empty()) errs.push_back(Invalid(path.Child("kind"), Q(ref.kind()), "must not be empty"));
    if (ref.name().empty()) errs.push_back(Invalid(path.Child("name"), Q(ref.name()), "must not be empty"));
    if (ref.uid().empty()) errs.push_back(Invalid(path.Child("uid"), Q(ref.uid()), "must not be empty"));
    if (group.empty() && version == "v1" && ref.kind() == "Event") {
      errs.push_back(Invalid(path, GoOwnerReference(ref), "/v1, Kind=Event is disallowed from being an owner"));
    }
    if (ref.has_controller() && ref.controller()) {
      std::string current = ref.kind() + "/" + ref.name();
      if (!first_controller.empty()) {
        std::string all = "[]v1.OwnerReference{";
        for (int i = 0; i < refs.size(); ++i) all += (i > 0 ? ", " : "") + GoOwnerReference(refs.Get(i));
        all += "}";
        errs.push_back(Invalid(path, all,
                               "Only one reference can have Controller set to true. Found \"true\" in references for " +
                                   first_controller + " and " + current));
      } else {
        first_controller = current;
      }
    }
  }
  return errs;
}

bool IsStandardFinalizer(std::string_view f) { return f == "kubernetes" || f == "orphan" || f == "foregroundDeletion"; }

FieldErrors ValidateFinalizers(const google::protobuf::RepeatedPtrField<std::string>& finalizers, const Path& path,
                               bool kube_finalizers) {
  FieldErrors errs;
  bool orphan = false, foreground = false;
  for (int i = 0; i < finalizers.size(); ++i) {
    const std::string& f = finalizers.Get(i);
    Msgs msgs = IsQualifiedName(f);
    for (auto& m : msgs) errs.push_back(Invalid(path, Q(f), m));
    if (f == "orphan") orphan = true;
    if (f == "foregroundDeletion") foreground = true;
    if (kube_finalizers && f.find('/') == std::string::npos && !IsStandardFinalizer(f)) {
      errs.push_back(Invalid(path.Index(i), Q(f), "name is neither a standard finalizer name nor is it fully qualified"));
    }
  }
  if (orphan && foreground) {
    errs.push_back(Invalid(path, GoStrings(finalizers), "finalizer orphan and foregroundDeletion cannot be both set"));
  }
  return errs;
}

FieldErrors ValidateManagedFields(const ObjectMeta& meta, const Path& path) {
  FieldErrors errs;
  for (int i = 0; i < meta.managedfields_size(); ++i) {
    const auto& f = meta.managedfields(i);
    Path p = path.Index(i);
    if (f.operation() != "Apply" && f.operation() != "Update") {
      errs.push_back(Invalid(p.Child("operation"), Q(f.operation()), "must be `Apply` or `Update`"));
    }
    if (!f.fieldstype().empty() && f.fieldstype() != "FieldsV1") {
      errs.push_back(Invalid(p.Child("fieldsType"), Q(f.fieldstype()), "must be `FieldsV1`"));
    }
    if (f.manager().size() > kFieldManagerMaxLength) errs.push_back(TooLong(p.Child("manager"), kFieldManagerMaxLength));
    if (f.subresource().size() > kMaxSubresourceNameLength) {
      errs.push_back(TooLong(p.Child("subresource"), kMaxSubresourceNameLength));
    }
  }
  return errs;
}

// Everything both create and update check.
FieldErrors ValidateMetaCommon(const ObjectMeta& meta, const Path& path, bool kube_finalizers) {
  FieldErrors errs;
  Append(errs, ValidateLabels(meta.labels(), path.Child("labels")));
  Append(errs, ValidateAnnotations(meta.annotations(), path.Child("annotations")));
  Append(errs, ValidateOwnerReferences(meta.ownerreferences(), path.Child("ownerReferences")));
  Append(errs, ValidateFinalizers(meta.finalizers(), path.Child("finalizers"), kube_finalizers));
  Append(errs, ValidateManagedFields(meta, path.Child("managedFields")));
  return errs;
}

bool TimeEqual(bool has_a, const k8s::io::apimachinery::pkg::apis::meta::v1::Time& a, bool has_b,
               const k8s::io::apimachinery::pkg::apis::meta::v1::Time& b) {
  if (has_a != has_b) return false;
  return !has_a || (a.seconds() == b.seconds() && a.nanos() == b.nanos());
}

}  // namespace

NameRule NameRuleFor(const ResourceInfo& r) {
  if (r.group.empty() && r.kind == "Namespace") return NameRule::kDNSLabel;
  if (r.group.empty() && r.kind == "Service") return NameRule::kDNS1035Label;
  if (r.group == "apps" && r.kind == "StatefulSet") return NameRule::kDNSLabel;
  if (r.group == "rbac.authorization.k8s.io") return NameRule::kPathSegment;
  return NameRule::kDNSSubdomain;
}

FieldErrors ValidateMeta(const ObjectMeta& meta, bool requires_namespace, NameRule rule, const Path& path,
                         bool kube_finalizers) {
  FieldErrors errs;
  if (!meta.generatename().empty()) {
    for (auto& m : ValidateName(rule, meta.generatename(), true)) {
      errs.push_back(Invalid(path.Child("generateName"), Q(meta.generatename()), m));
    }
  }
  if (meta.name().empty()) {
    // The name is generated from generateName when the object is stored.
    if (meta.generatename().empty()) errs.push_back(Required(path.Child("name"), "name or generateName is required"));
  } else {
    for (auto& m : ValidateName(rule, meta.name(), false)) errs.push_back(Invalid(path.Child("name"), Q(meta.name()), m));
  }
  if (requires_namespace) {
    if (meta.namespace_().empty()) {
      errs.push_back(Required(path.Child("namespace")));
    } else {
      for (auto& m : ValidateName(NameRule::kDNSLabel, meta.namespace_(), false)) {
        errs.push_back(Invalid(path.Child("namespace"), Q(meta.namespace_()), m));
      }
    }
  } else if (!meta.namespace_().empty()) {
    errs.push_back(Forbidden(path.Child("namespace"), "not allowed on this type"));
  }
  Append(errs, ValidateNonnegative(meta.generation(), path.Child("generation")));
  Append(errs, ValidateMetaCommon(meta, path, kube_finalizers));
  return errs;
}

FieldErrors ValidateMetaUpdate(const ObjectMeta& meta, const ObjectMeta& old, const Path& path, bool kube_finalizers) {
  FieldErrors errs;
  if (old.has_deletiontimestamp()) {
    std::set<std::string> before(old.finalizers().begin(), old.finalizers().end());
    std::set<std::string> extra;
    for (const auto& f : meta.finalizers()) {
      if (!before.count(f)) extra.insert(f);
    }
    if (!extra.empty()) {
      errs.push_back(Forbidden(path.Child("finalizers"),
                               "no new finalizers can be added if the object is being deleted, found new finalizers " +
                                   GoStrings(std::vector<std::string>(extra.begin(), extra.end()))));
    }
  }
  if (meta.resourceversion().empty()) {
    errs.push_back(Invalid(path.Child("resourceVersion"), Q(meta.resourceversion()), "must be specified for an update"));
  }
  if (meta.generation() < old.generation()) {
    errs.push_back(Invalid(path.Child("generation"), Num(meta.generation()), "must not be decremented"));
  }
  Append(errs, ValidateImmutable(meta.name() == old.name(), Q(meta.name()), path.Child("name")));
  Append(errs, ValidateImmutable(meta.namespace_() == old.namespace_(), Q(meta.namespace_()), path.Child("namespace")));
  Append(errs, ValidateImmutable(meta.uid() == old.uid(), Q(meta.uid()), path.Child("uid")));
  Append(errs, ValidateImmutable(TimeEqual(meta.has_creationtimestamp(), meta.creationtimestamp(),
                                           old.has_creationtimestamp(), old.creationtimestamp()),
                                 GoTime(meta.creationtimestamp().seconds(), meta.creationtimestamp().nanos()),
                                 path.Child("creationTimestamp")));
  Append(errs, ValidateImmutable(TimeEqual(meta.has_deletiontimestamp(), meta.deletiontimestamp(),
                                           old.has_deletiontimestamp(), old.deletiontimestamp()),
                                 meta.has_deletiontimestamp()
                                     ? GoTime(meta.deletiontimestamp().seconds(), meta.deletiontimestamp().nanos())
                                     : "null",
                                 path.Child("deletionTimestamp")));
  bool grace_equal = meta.has_deletiongraceperiodseconds() == old.has_deletiongraceperiodseconds() &&
                     meta.deletiongraceperiodseconds() == old.deletiongraceperiodseconds();
  Append(errs, ValidateImmutable(grace_equal,
                                 meta.has_deletiongraceperiodseconds() ? Num(meta.deletiongraceperiodseconds()) : "null",
                                 path.Child("deletionGracePeriodSeconds")));
  Append(errs, ValidateMetaCommon(meta, path, kube_finalizers));
  return errs;
}

FieldErrors ValidateLabelName(std::string_view key, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsQualifiedName(key)) errs.push_back(Invalid(path, Q(key), m));
  return errs;
}

FieldErrors ValidateLabels(const StringMap& labels, const Path& path) {
  FieldErrors errs;
  for (const auto& k : SortedKeys(labels)) {
    Append(errs, ValidateLabelName(k, path));
    for (auto& m : IsLabelValue(labels.at(k))) errs.push_back(Invalid(path, Q(labels.at(k)), m));
  }
  return errs;
}

FieldErrors ValidateAnnotations(const StringMap& annotations, const Path& path) {
  FieldErrors errs;
  int64_t total = 0;
  for (const auto& k : SortedKeys(annotations)) {
    // The rule is QualifiedName except that case does not matter.
    std::string lower = k;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    for (auto& m : IsQualifiedName(lower)) errs.push_back(Invalid(path, Q(k), m));
    total += static_cast<int64_t>(k.size() + annotations.at(k).size());
  }
  if (total > kTotalAnnotationSizeLimit) errs.push_back(TooLong(path, kTotalAnnotationSizeLimit));
  return errs;
}

FieldErrors ValidateQualifiedNameField(std::string_view value, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsQualifiedName(value)) errs.push_back(Invalid(path, Q(value), m));
  return errs;
}

FieldErrors ValidateDNS1123LabelField(std::string_view value, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsDNS1123Label(value)) errs.push_back(Invalid(path, Q(value), m));
  return errs;
}

FieldErrors ValidateDNS1123SubdomainField(std::string_view value, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsDNS1123Subdomain(value)) errs.push_back(Invalid(path, Q(value), m));
  return errs;
}

FieldErrors ValidateNameField(NameRule rule, std::string_view value, const Path& path) {
  FieldErrors errs;
  for (auto& m : ValidateName(rule, value, false)) errs.push_back(Invalid(path, Q(value), m));
  return errs;
}

FieldErrors ValidateIPField(std::string_view value, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsValidIP(value)) errs.push_back(Invalid(path, Q(value), m));
  return errs;
}

FieldErrors ValidateCIDRField(std::string_view value, const Path& path) {
  FieldErrors errs;
  for (auto& m : IsValidCIDR(value)) errs.push_back(Invalid(path, Q(value), m));
  return errs;
}

FieldErrors ValidateLabelSelector(const LabelSelector* s, const Path& path, bool allow_invalid_values) {
  FieldErrors errs;
  if (s == nullptr) return errs;
  Append(errs, ValidateLabels(s->matchlabels(), path.Child("matchLabels")));
  for (int i = 0; i < s->matchexpressions_size(); ++i) {
    const auto& r = s->matchexpressions(i);
    Path p = path.Child("matchExpressions").Index(i);
    const std::string& op = r.operator_();
    if (op == "In" || op == "NotIn") {
      if (r.values().empty()) {
        errs.push_back(Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!r.values().empty()) {
        errs.push_back(Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
    } else {
      errs.push_back(Invalid(p.Child("operator"), Q(op), "not a valid selector operator"));
    }
    Append(errs, ValidateLabelName(r.key(), p.Child("key")));
    if (!allow_invalid_values) {
      for (int j = 0; j < r.values_size(); ++j) {
        for (auto& m : IsLabelValue(r.values(j))) errs.push_back(Invalid(p.Child("values").Index(j), Q(r.values(j)), m));
      }
    }
  }
  return errs;
}

std::optional<Selector> Selector::From(const LabelSelector* s) {
  Selector sel;
  if (s == nullptr) {
    sel.nothing_ = true;
    return sel;
  }
  if (s->matchlabels().empty() && s->matchexpressions().empty()) {
    sel.everything_ = true;
    return sel;
  }
  // labels.NewRequirement rejects what ValidateLabelSelector reports; mirror the conversion errors.
  for (const auto& k : SortedKeys(s->matchlabels())) {
    if (!IsQualifiedName(k).empty() || !IsLabelValue(s->matchlabels().at(k)).empty()) return std::nullopt;
  }
  for (const auto& r : s->matchexpressions()) {
    const std::string& op = r.operator_();
    if (op == "In" || op == "NotIn") {
      if (r.values().empty()) return std::nullopt;
    } else if (op == "Exists" || op == "DoesNotExist") {
      if (!r.values().empty()) return std::nullopt;
    } else {
      return std::nullopt;
    }
    if (!IsQualifiedName(r.key()).empty()) return std::nullopt;
    for (const auto& v : r.values()) {
      if (!IsLabelValue(v).empty()) return std::nullopt;
    }
  }
  sel.s_ = s;
  return sel;
}

bool Selector::Matches(const StringMap& labels) const {
  if (nothing_) return false;
  if (everything_) return true;
  for (const auto& [k, v] : s_->matchlabels()) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  for (const auto& r : s_->matchexpressions()) {
    auto it = labels.find(r.key());
    bool has = it != labels.end();
    bool in = has && std::find(r.values().begin(), r.values().end(), it->second) != r.values().end();
    const std::string& op = r.operator_();
    if (op == "In" && !in) return false;
    if (op == "NotIn" && in) return false;
    if (op == "Exists" && !has) return false;
    if (op == "DoesNotExist" && has) return false;
  }
  return true;
}

FieldErrors ValidateNonnegative(int64_t value, const Path& path) {
  if (value >= 0) return {};
  return {Invalid(path, Num(value), "must be greater than or equal to 0")};
}

FieldErrors ValidateImmutable(bool equal, std::string rendered_new, const Path& path) {
  if (equal) return {};
  return {Invalid(path, std::move(rendered_new), "field is immutable")};
}

std::string GoTime(int64_t seconds, int32_t nanos) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  std::string out = buf;
  if (nanos > 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09d", nanos);
    std::string f = frac;
    while (!f.empty() && f.back() == '0') f.pop_back();
    out += f;
  }
  return out + " +0000 UTC";
}

}  // namespace ck::apiserver::validation
