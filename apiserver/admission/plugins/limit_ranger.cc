#include "apiserver/admission/plugins/limit_ranger.h"

#include <cstdio>
#include <limits>
#include <set>
#include <vector>

#include "apiserver/admission/plugins/util.h"
#include "common/api/object.h"
#include "common/api/proto/core_v1.pb.h"

namespace ck::apiserver::admission::plugins {
namespace {

namespace corev1 = ::k8s::io::api::core::v1;

constexpr int64_t kMaxMilliValue = std::numeric_limits<int64_t>::max() / 1000;

// One LimitRange item, parsed, with LimitRange defaulting applied.
struct Item {
  std::string type;
  ResourceList max, min, default_limit, default_request, max_ratio;
};

// The items of every LimitRange of the namespace, one vector per LimitRange.
Result<std::vector<std::vector<Item>>> LoadRanges(const ObjectSource& source, std::string_view ns) {
  std::vector<std::vector<Item>> ranges;
  for (const ObjectRef& obj : source.List("limitranges", ns)) {
    const auto* lr = As<corev1::LimitRange>(obj.get());
    if (lr == nullptr) continue;
    std::string what = "limitrange " + lr->metadata().name();
    std::vector<Item> items;
    for (const auto& li : lr->spec().limits()) {
      Item it;
      it.type = li.type();
      CK_ASSIGN_OR_RETURN(it.max, ParseList(li.max(), what));
      CK_ASSIGN_OR_RETURN(it.min, ParseList(li.min(), what));
      CK_ASSIGN_OR_RETURN(it.default_limit, ParseList(li.default_(), what));
      CK_ASSIGN_OR_RETURN(it.default_request, ParseList(li.defaultrequest(), what));
      CK_ASSIGN_OR_RETURN(it.max_ratio, ParseList(li.maxlimitrequestratio(), what));
      if (it.type == "Container") {  // SetDefaults_LimitRangeItem
        for (const auto& [k, v] : it.max) it.default_limit.emplace(k, v);
        for (const auto& [k, v] : it.default_limit) it.default_request.emplace(k, v);
        for (const auto& [k, v] : it.min) it.default_request.emplace(k, v);
      }
      items.push_back(std::move(it));
    }
    ranges.push_back(std::move(items));
  }
  return ranges;
}

// requestLimitEnforcedValues: milli-units when nothing overflows, else whole units.
void Values(const Quantity& req, const Quantity& lim, const Quantity& enforced, int64_t* r, int64_t* l, int64_t* e) {
  *r = req.Value();
  *l = lim.Value();
  *e = enforced.Value();
  if (*r <= kMaxMilliValue && *l <= kMaxMilliValue && *e <= kMaxMilliValue) {
    *r = req.MilliValue();
    *l = lim.MilliValue();
    *e = enforced.MilliValue();
  }
}

const Quantity* Find(const ResourceList& list, const std::string& name) {
  auto it = list.find(name);
  return it == list.end() ? nullptr : &it->second;
}

using Errors = std::vector<std::string>;

void MinConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                   const ResourceList& requests, const ResourceList& limits, Errors* errs) {
  const Quantity* req = Find(requests, name);
  const Quantity* lim = Find(limits, name);
  int64_t r, l, e;
  Values(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced, &r, &l, &e);
  const std::string prefix = "minimum " + name + " usage per " + type + " is " + enforced.String();
  if (req == nullptr) {
    errs->push_back(prefix + ".  No request is specified");
  } else if (r < e) {
    errs->push_back(prefix + ", but request is " + req->String());
  } else if (lim != nullptr && l < e) {
    errs->push_back(prefix + ", but limit is " + lim->String());
  }
}

void MaxConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                   const ResourceList& requests, const ResourceList& limits, Errors* errs) {
  const Quantity* req = Find(requests, name);
  const Quantity* lim = Find(limits, name);
  int64_t r, l, e;
  Values(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced, &r, &l, &e);
  const std::string prefix = "maximum " + name + " usage per " + type + " is " + enforced.String();
  if (lim == nullptr) {
    errs->push_back(prefix + ".  No limit is specified");
  } else if (l > e) {
    errs->push_back(prefix + ", but limit is " + lim->String());
  } else if (req != nullptr && r > e) {
    errs->push_back(prefix + ", but request is " + req->String());
  }
}

// For PVCs: the max applies to what the user requested.
void MaxRequestConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                          const ResourceList& requests, Errors* errs) {
  const Quantity* req = Find(requests, name);
  int64_t r, l, e;
  Values(req ? *req : Quantity(), Quantity(), enforced, &r, &l, &e);
  const std::string prefix = "maximum " + name + " usage per " + type + " is " + enforced.String();
  if (req == nullptr) {
    errs->push_back(prefix + ".  No request is specified");
  } else if (r > e) {
    errs->push_back(prefix + ", but request is " + req->String());
  }
}

void RatioConstraint(const std::string& type, const std::string& name, const Quantity& enforced,
                     const ResourceList& requests, const ResourceList& limits, Errors* errs) {
  const Quantity* req = Find(requests, name);
  const Quantity* lim = Find(limits, name);
  int64_t r, l, e;
  Values(req ? *req : Quantity(), lim ? *lim : Quantity(), enforced, &r, &l, &e);
  const std::string prefix = name + " max limit to request ratio per " + type + " is " + enforced.String();
  if (req == nullptr || r == 0) {
    errs->push_back(prefix + ", but no request is specified or request is 0");
    return;
  }
  if (lim == nullptr || l == 0) {
    errs->push_back(prefix + ", but no limit is specified or limit is 0");
    return;
  }
  double observed = static_cast<double>(l) / static_cast<double>(r);
  const double display = observed;
  double max_ratio = static_cast<double>(enforced.Value());
  if (enforced.Value() <= kMaxMilliValue) {
    observed *= 1000;
    max_ratio = static_cast<double>(enforced.MilliValue());
  }
  if (observed > max_ratio) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%f", display);
    errs->push_back(prefix + ", but provided ratio is " + buf);
  }
}

void CheckBounds(const Item& item, const ResourceList& requests, const ResourceList& limits, Errors* errs) {
  for (const auto& [k, v] : item.min) MinConstraint(item.type, k, v, requests, limits, errs);
  for (const auto& [k, v] : item.max) MaxConstraint(item.type, k, v, requests, limits, errs);
  for (const auto& [k, v] : item.max_ratio) RatioConstraint(item.type, k, v, requests, limits, errs);
}

// utilerrors.NewAggregate(...).Error(): one message as is, several de-duplicated in "[a, b]".
std::string Aggregate(const Errors& errs) {
  std::set<std::string> seen;
  std::string out;
  for (const auto& e : errs) {
    if (!seen.insert(e).second) continue;
    if (seen.size() > 1) out += ", ";
    out += e;
  }
  return seen.size() == 1 ? out : "[" + out + "]";
}

Status ValidatePod(const std::vector<Item>& items, const corev1::Pod& pod, Errors* errs) {
  for (const Item& item : items) {
    if (item.type == "Container") {
      auto check = [&](const corev1::Container& c) -> Status {
        CK_ASSIGN_OR_RETURN(ResourceList requests, ParseList(c.resources().requests(), "container " + c.name()));
        CK_ASSIGN_OR_RETURN(ResourceList limits, ParseList(c.resources().limits(), "container " + c.name()));
        CheckBounds(item, requests, limits, errs);
        return Status::Ok();
      };
      for (const auto& c : pod.spec().containers()) CK_RETURN_IF_ERROR(check(c));
      for (const auto& c : pod.spec().initcontainers()) CK_RETURN_IF_ERROR(check(c));
    } else if (item.type == "Pod") {
      Result<ResourceList> requests = api::PodRequests(pod);
      Result<ResourceList> limits = api::PodLimits(pod);
      if (!requests.ok()) return requests.status();
      if (!limits.ok()) return limits.status();
      CheckBounds(item, *requests, *limits, errs);
    }
  }
  return Status::Ok();
}

void ValidateClaim(const std::vector<Item>& items, const ResourceList& requests, Errors* errs) {
  for (const Item& item : items) {
    if (item.type != "PersistentVolumeClaim") continue;
    // Limits on a claim are not user input: min and max look at the requests.
    for (const auto& [k, v] : item.min) MinConstraint(item.type, k, v, requests, ResourceList(), errs);
    for (const auto& [k, v] : item.max) MaxRequestConstraint(item.type, k, v, requests, errs);
  }
}

// Sets what `defaults` has and the container lacks; appends "<names> request|limit for <what> <c>".
void Merge(corev1::Container* c, const ResourceList& default_limits, const ResourceList& default_requests,
           const std::string& what, std::vector<std::string>* notes) {
  auto* res = c->mutable_resources();
  // upstream pod defaulting (SetDefaults_Pod): a limit without a request is also the request.
  for (const auto& [k, v] : res->limits()) {
    if (!res->requests().contains(k)) (*res->mutable_requests())[k] = v;
  }
  std::vector<std::string> set_requests, set_limits;
  for (const auto& [k, v] : default_limits) {
    if (res->limits().contains(k)) continue;
    (*res->mutable_limits())[k].set_string(v.String());
    set_limits.push_back(k);
  }
  for (const auto& [k, v] : default_requests) {
    if (res->requests().contains(k)) continue;
    (*res->mutable_requests())[k].set_string(v.String());
    set_requests.push_back(k);
  }
  auto join = [](const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
  };
  if (!set_requests.empty()) notes->push_back(join(set_requests) + " request for " + what + " " + c->name());
  if (!set_limits.empty()) notes->push_back(join(set_limits) + " limit for " + what + " " + c->name());
}

// SupportsAttributes: the main resource, CREATE or UPDATE, but not pod updates (containers are
// immutable), and not objects already being deleted.
bool Applies(const Attributes& a) {
  if (!a.subresource.empty() || a.object == nullptr) return false;
  if (a.operation != Operation::kCreate && a.operation != Operation::kUpdate) return false;
  if (IsResource(a, "", "pods") && a.operation == Operation::kUpdate) return false;
  if (a.old_object != nullptr) {
    const auto* meta = api::FindMeta(*a.old_object);
    if (meta != nullptr && meta->has_deletiontimestamp()) return false;
  }
  return true;
}

}  // namespace

Status LimitRanger::Admit(const Attributes& a, Context& ctx) {
  if (!Applies(a) || !IsResource(a, "", "pods")) return Status::Ok();
  auto* pod = As<corev1::Pod>(a.object);
  if (pod == nullptr) return Status::Ok();
  CK_ASSIGN_OR_RETURN(std::vector<std::vector<Item>> ranges, LoadRanges(source_, a.namespace_));
  if (ranges.empty()) return Status::Ok();
  // defaultContainerResourceRequirements per LimitRange; the first one that names a resource wins,
  // since a later merge only fills what is still missing.
  std::vector<std::string> notes;
  for (const auto& items : ranges) {
    ResourceList limits, requests;
    for (const Item& item : items) {
      if (item.type != "Container") continue;
      for (const auto& [k, v] : item.default_request) requests[k] = v;
      for (const auto& [k, v] : item.default_limit) limits[k] = v;
    }
    for (auto& c : *pod->mutable_spec()->mutable_containers()) Merge(&c, limits, requests, "container", &notes);
    for (auto& c : *pod->mutable_spec()->mutable_initcontainers()) Merge(&c, limits, requests, "init container", &notes);
  }
  if (!notes.empty()) {
    std::string value = "LimitRanger plugin set: ";
    for (size_t i = 0; i < notes.size(); ++i) value += (i ? "; " : "") + notes[i];
    (*pod->mutable_metadata()->mutable_annotations())[std::string(kLimitRangerAnnotation)] = value;
    ctx.trace.push_back(value);
  }
  return Status::Ok();
}

Status LimitRanger::Validate(const Attributes& a, Context& ctx) {
  (void)ctx;
  if (!Applies(a)) return Status::Ok();
  const auto* pod = IsResource(a, "", "pods") ? As<corev1::Pod>(a.object) : nullptr;
  const auto* pvc = IsResource(a, "", "persistentvolumeclaims") ? As<corev1::PersistentVolumeClaim>(a.object) : nullptr;
  if (pod == nullptr && pvc == nullptr) return Status::Ok();
  CK_ASSIGN_OR_RETURN(std::vector<std::vector<Item>> ranges, LoadRanges(source_, a.namespace_));
  for (const auto& items : ranges) {  // the first LimitRange that refuses answers
    Errors errs;
    if (pod != nullptr) {
      Status s = ValidatePod(items, *pod, &errs);
      if (!s.ok()) return ForbiddenFor(a, s.message());
    } else {
      Result<ResourceList> requests = ParseList(pvc->spec().resources().requests(), "requests");
      if (!requests.ok()) return ForbiddenFor(a, requests.status().message());
      ValidateClaim(items, *requests, &errs);
    }
    if (!errs.empty()) return ForbiddenFor(a, Aggregate(errs));
  }
  return Status::Ok();
}

}  // namespace ck::apiserver::admission::plugins
