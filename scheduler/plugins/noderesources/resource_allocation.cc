// The shared resource scorer and args helpers (resource_allocation.h), with upstream's formulas:
//   LeastAllocated   sum_i(weight_i * (alloc_i - req_i) * 100 / alloc_i) / sum(weight)  (0 when req > alloc)
//   MostAllocated    sum_i(weight_i * min(req_i, alloc_i) * 100 / alloc_i) / sum(weight)
//   RequestedToCapacityRatio  round(sum_i(weight_i * shape(req_i * 100 / alloc_i)) / sum(weight)),
//                    counting only resources whose shape score is above zero
//   BalancedAllocation (1 - std deviation of min(req_i / alloc_i, 1)) * 100
// All divisions but the last two are integer divisions, as upstream's int64 arithmetic.
#include "scheduler/plugins/noderesources/resource_allocation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/base/check.h"
#include "common/base/strings.h"

namespace ck::scheduler::plugins {

std::vector<ResourceSpec> DefaultResourceSpecs() { return {{"cpu", 1}, {"memory", 1}}; }

ResourceAllocationScorer::ResourceAllocationScorer(ScoringFunction function, std::vector<ResourceSpec> resources,
                                                   bool use_requested, std::vector<UtilizationShapePoint> shape)
    : function_(function), resources_(std::move(resources)), use_requested_(use_requested) {
  entries_.reserve(resources_.size());
  for (const ResourceSpec& r : resources_) {
    Entry e;
    e.name = r.name;
    e.weight = r.weight;
    e.scalar_name = IsScalarResourceName(r.name);
    if (r.name == "cpu") {
      e.slot = Slot::kCpu;
    } else if (r.name == "memory") {
      e.slot = Slot::kMemory;
    } else if (r.name == "ephemeral-storage") {
      e.slot = Slot::kEphemeralStorage;
    }
    entries_.push_back(std::move(e));
  }
  if (function_ == ScoringFunction::kRequestedToCapacityRatio) {
    CK_CHECK(!shape.empty()) << "RequestedToCapacityRatio needs a shape";
    for (UtilizationShapePoint p : shape) {
      p.score = static_cast<int32_t>(p.score * (kMaxNodeScore / kMaxCustomPriorityScore));
      shape_.push_back(p);
    }
  }
}

std::vector<int64_t> ResourceAllocationScorer::PodRequests(const PodInfo& pod) const {
  const Resource& requests = use_requested_ ? pod.requests : pod.non_zero_requests;
  std::vector<int64_t> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) {
    switch (e.slot) {
      case Slot::kCpu:
        out.push_back(requests.milli_cpu);
        break;
      case Slot::kMemory:
        out.push_back(requests.memory);
        break;
      case Slot::kEphemeralStorage:
        out.push_back(requests.ephemeral_storage);
        break;
      case Slot::kScalar:
        out.push_back(requests.Get(e.name));
        break;
    }
  }
  return out;
}

bool ResourceAllocationScorer::IsBestEffort(std::span<const int64_t> pod_requests) {
  for (int64_t r : pod_requests) {
    if (r != 0) return false;
  }
  return true;
}

ResourceAllocationScorer::Amounts ResourceAllocationScorer::AllocatableAndRequested(const NodeInfo& node,
                                                                                    const Entry& e,
                                                                                    int64_t pod_request) const {
  // An extended resource the pod does not ask for says nothing about this node.
  if (pod_request == 0 && e.scalar_name) return {};
  const Resource& alloc = node.allocatable();
  const Resource& requested = use_requested_ ? node.requested() : node.non_zero_requested();
  switch (e.slot) {
    case Slot::kCpu:
      return {alloc.milli_cpu, requested.milli_cpu + pod_request};
    case Slot::kMemory:
      return {alloc.memory, requested.memory + pod_request};
    case Slot::kEphemeralStorage:
      return {alloc.ephemeral_storage, node.requested().ephemeral_storage + pod_request};
    case Slot::kScalar: {
      auto it = alloc.scalar.find(e.name);
      if (it == alloc.scalar.end()) return {};
      auto used = node.requested().scalar.find(e.name);
      return {it->second, (used == node.requested().scalar.end() ? 0 : used->second) + pod_request};
    }
  }
  return {};
}

int64_t ResourceAllocationScorer::BrokenLinear(int64_t p) const {
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (p <= shape_[i].utilization) {
      if (i == 0) return shape_[0].score;
      const int64_t x0 = shape_[i - 1].utilization, y0 = shape_[i - 1].score;
      const int64_t x1 = shape_[i].utilization, y1 = shape_[i].score;
      return y0 + (y1 - y0) * (p - x0) / (x1 - x0);
    }
  }
  return shape_.back().score;
}

int64_t ResourceAllocationScorer::Score(const NodeInfo& node, std::span<const int64_t> pod_requests) const {
  CK_CHECK(pod_requests.size() == entries_.size()) << "pod requests for " << pod_requests.size() << " resources, scorer has "
                                                   << entries_.size();
  if (function_ == ScoringFunction::kBalancedAllocation) return BalancedScore(node, pod_requests);

  int64_t node_score = 0;
  int64_t weight_sum = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Amounts a = AllocatableAndRequested(node, entries_[i], pod_requests[i]);
    if (a.allocatable == 0) continue;
    const int64_t weight = entries_[i].weight;
    int64_t resource_score = 0;
    switch (function_) {
      case ScoringFunction::kLeastAllocated:
        resource_score = a.requested > a.allocatable ? 0 : (a.allocatable - a.requested) * kMaxNodeScore / a.allocatable;
        break;
      case ScoringFunction::kMostAllocated:
        // Requests may exceed capacity: pods without requests count 100m / 200Mi.
        resource_score = std::min(a.requested, a.allocatable) * kMaxNodeScore / a.allocatable;
        break;
      case ScoringFunction::kRequestedToCapacityRatio:
        resource_score = a.requested > a.allocatable ? BrokenLinear(kMaxUtilization)
                                                     : BrokenLinear(a.requested * kMaxUtilization / a.allocatable);
        // Upstream leaves resources that score zero out of the weight sum.
        if (resource_score <= 0) continue;
        break;
      case ScoringFunction::kBalancedAllocation:
        break;
    }
    node_score += resource_score * weight;
    weight_sum += weight;
  }
  if (weight_sum == 0) return 0;
  if (function_ == ScoringFunction::kRequestedToCapacityRatio) {
    return static_cast<int64_t>(std::round(static_cast<double>(node_score) / static_cast<double>(weight_sum)));
  }
  return node_score / weight_sum;
}

int64_t ResourceAllocationScorer::BalancedScore(const NodeInfo& node, std::span<const int64_t> pod_requests) const {
  auto fraction = [&](size_t i, double* f) {
    const Amounts a = AllocatableAndRequested(node, entries_[i], pod_requests[i]);
    if (a.allocatable == 0) return false;
    *f = std::min(1.0, static_cast<double>(a.requested) / static_cast<double>(a.allocatable));
    return true;
  };
  int n = 0;
  double total = 0, first = 0, second = 0;
  for (size_t i = 0; i < entries_.size(); ++i) {
    double f;
    if (!fraction(i, &f)) continue;
    if (n == 0) first = f;
    if (n == 1) second = f;
    total += f;
    ++n;
  }
  double std_dev = 0;
  if (n == 2) {
    // Two resources (the usual cpu and memory): the deviation is half their distance.
    std_dev = std::fabs((first - second) / 2);
  } else if (n > 2) {
    const double mean = total / n;
    double sum = 0;
    for (size_t i = 0; i < entries_.size(); ++i) {
      double f;
      if (!fraction(i, &f)) continue;
      sum = sum + (f - mean) * (f - mean);
    }
    std_dev = std::sqrt(sum / n);
  }
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
}

// ---- args helpers ----

std::string GoQuote(std::string_view s) {
  std::string out;
  AppendQuoted(out, s);
  return out;
}

std::string ChildPath(const std::string& parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  return parent + "." + std::string(child);
}

void ArgsErrors::Invalid(const std::string& path, const std::string& rendered_value, std::string_view detail) {
  errors_.push_back(path + ": Invalid value: " + rendered_value + ": " + std::string(detail));
}

void ArgsErrors::Required(const std::string& path, std::string_view detail) {
  errors_.push_back(path + ": Required value" + (detail.empty() ? "" : ": " + std::string(detail)));
}

void ArgsErrors::Duplicate(const std::string& path, const std::string& rendered_value) {
  errors_.push_back(path + ": Duplicate value: " + rendered_value);
}

void ArgsErrors::NotSupported(const std::string& path, const std::string& rendered_value,
                              const std::vector<std::string>& supported) {
  std::vector<std::string> quoted;
  for (const auto& s : supported) quoted.push_back(GoQuote(s));
  errors_.push_back(path + ": Unsupported value: " + rendered_value + ": supported values: " + Join(quoted, ", "));
}

void ArgsErrors::UnknownField(const std::string& path) { errors_.push_back("unknown field " + GoQuote(path)); }

ck::Status ArgsErrors::ToStatus(std::string_view kind) const {
  if (errors_.empty()) return ck::Status::Ok();
  std::string msg = std::string(kind) + ": ";
  msg += errors_.size() == 1 ? errors_[0] : "[" + Join(errors_, ", ") + "]";
  return ck::Invalid(std::move(msg));
}

namespace {

std::string Rendered(const YAML::Node& node) {
  if (node.IsScalar()) return GoQuote(node.Scalar());
  if (node.IsSequence()) return "<list>";
  if (node.IsMap()) return "<map>";
  return "null";
}

}  // namespace

bool CheckFields(const YAML::Node& node, const std::string& path, std::initializer_list<std::string_view> known,
                 ArgsErrors* errors) {
  if (!node.IsMap()) {
    errors->Invalid(path.empty() ? "args" : path, Rendered(node), "must be a map");
    return false;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
    bool ok = false;
    for (std::string_view k : known) ok = ok || key == k;
    if (!ok) errors->UnknownField(ChildPath(path, key));
  }
  return true;
}

std::optional<int64_t> DecodeInt(const YAML::Node& node, const std::string& path, ArgsErrors* errors) {
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsScalar()) {
    errors->Invalid(path, Rendered(node), "must be an integer");
    return std::nullopt;
  }
  std::optional<int64_t> v = ParseInt(node.Scalar());
  if (!v) errors->Invalid(path, Rendered(node), "must be an integer");
  return v;
}

std::optional<std::string> DecodeString(const YAML::Node& node, const std::string& path, ArgsErrors* errors) {
  if (!node.IsDefined() || node.IsNull()) return std::nullopt;
  if (!node.IsScalar()) {
    errors->Invalid(path, Rendered(node), "must be a string");
    return std::nullopt;
  }
  return node.Scalar();
}

std::vector<std::string> DecodeStringList(const YAML::Node& node, const std::string& path, ArgsErrors* errors) {
  std::vector<std::string> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    errors->Invalid(path, Rendered(node), "must be a list");
    return out;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    auto s = DecodeString(node[i], path + "[" + std::to_string(i) + "]", errors);
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

std::vector<ResourceSpec> DecodeResourceSpecs(const YAML::Node& node, const std::string& path, ArgsErrors* errors) {
  std::vector<ResourceSpec> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsSequence()) {
    errors->Invalid(path, Rendered(node), "must be a list");
    return out;
  }
  for (size_t i = 0; i < node.size(); ++i) {
    const std::string item = path + "[" + std::to_string(i) + "]";
    const YAML::Node r = node[i];
    if (!CheckFields(r, item, {"name", "weight"}, errors)) continue;
    ResourceSpec spec;
    spec.name = DecodeString(r["name"], ChildPath(item, "name"), errors).value_or("");
    spec.weight = DecodeInt(r["weight"], ChildPath(item, "weight"), errors).value_or(0);
    out.push_back(std::move(spec));
  }
  return out;
}

namespace {

constexpr std::string_view kQualifiedNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character "
    "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
constexpr std::string_view kDns1123SubdomainMsg =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsDns1123Subdomain(std::string_view s) {
  for (std::string_view label : Split(s, '.')) {
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> QualifiedNameErrors(std::string_view value) {
  std::vector<std::string> errs;
  std::vector<std::string_view> parts = Split(value, '/');
  std::string_view name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    std::string_view prefix = parts[0];
    name = parts[1];
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      if (prefix.size() > 253) errs.push_back("prefix part must be no more than 253 characters");
      if (!IsDns1123Subdomain(prefix)) errs.push_back("prefix part " + std::string(kDns1123SubdomainMsg));
    }
  } else {
    return {"a qualified name " + std::string(kQualifiedNameMsg) +
            " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"};
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part must be no more than 63 characters");
  }
  if (!IsQualifiedNamePart(name)) errs.push_back("name part " + std::string(kQualifiedNameMsg));
  return errs;
}

}  // namespace ck::scheduler::plugins
