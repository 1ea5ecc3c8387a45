// Label selectors: parsed from their text form ("app=web,tier in (a,b),!canary"), built from a
// metav1.LabelSelector (matchLabels/matchExpressions), printed back, and evaluated against labels,
// with k8s.io/apimachinery/pkg/labels semantics:
//   =, ==, in          the label exists and has one of the values
//   !=, notin          the label is absent or has none of the values
//   key / !key         the label exists / does not exist
//   >, <               the label exists and its integer value is greater / less
// Requirements are kept sorted by key (String() is deterministic). Keys must be qualified names
// ([prefix/]name) and values valid label values; parse errors name the bad token and its offset.
// A LabelSelector is a plain value; not synchronized.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/map.h>

#include "common/base/status.h"

namespace k8s::io::apimachinery::pkg::apis::meta::v1 {
class LabelSelector;
}

namespace ck::api {

enum class SelectorOp { kEquals, kDoubleEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreaterThan, kLessThan };

struct Requirement {
  std::string key;
  SelectorOp op = SelectorOp::kExists;
  std::vector<std::string> values;  // as given; printed sorted

  // `app=web`, `tier in (a,b)`, `!canary`, `replicas>2`.
  std::string String() const;
  friend bool operator==(const Requirement&, const Requirement&) = default;
};

// Looks up one label: the value, or nullptr when the label is absent.
using LabelLookup = const std::string* (*)(const void* labels, std::string_view key);

class LabelSelector {
 public:
  // Matches everything (the empty selector).
  LabelSelector() = default;
  static LabelSelector Everything() { return LabelSelector(); }
  // Matches nothing (a nil metav1.LabelSelector).
  static LabelSelector Nothing();

  // Parses the text form. "" is Everything. BadRequest like upstream's, with where it went wrong:
  //   `unable to parse requirement: found ',', expected: identifier (at offset 4)`
  //   `unable to parse requirement: key: Invalid value: "-x": name part must consist of ...`
  static Result<LabelSelector> Parse(std::string_view text);

  // The requirements of matchLabels and matchExpressions (LabelSelectorAsSelector): a null pointer
  // is Nothing, an empty selector Everything. Invalid ("\"Foo\" is not a valid label selector
  // operator", In with no values, ...) is BadRequest.
  static Result<LabelSelector> FromProto(const k8s::io::apimachinery::pkg::apis::meta::v1::LabelSelector* s);

  // Every label of the set must equal the given value (SelectorFromSet; not validated).
  static LabelSelector FromSet(const std::map<std::string, std::string>& set);

  // Adds a requirement after validating it as upstream's NewRequirement does.
  Status Add(Requirement r);

  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool Matches(const google::protobuf::Map<std::string, std::string>& labels) const;
  bool Matches(const void* labels, LabelLookup lookup) const;

  // True for Everything (no requirements).
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool MatchesNothing() const { return nothing_; }
  // Requirements joined by ",", e.g. "app=web,tier in (a,b)"; "" for Everything and Nothing.
  std::string String() const;
  // The single value `key` must have (from =, == or a one-value in), if any.
  std::optional<std::string> RequiresExactMatch(std::string_view key) const;
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;  // sorted by key
  bool nothing_ = false;
};

// metav1.FormatLabelSelector: the text form, "<none>" when empty, "<error>" when invalid.
std::string FormatLabelSelector(const k8s::io::apimachinery::pkg::apis::meta::v1::LabelSelector* s);

// Validation used by selectors (and by API validation): upstream's messages, e.g.
// `name part must be no more than 63 characters`. Empty vector = valid.
std::vector<std::string> ValidateLabelKey(std::string_view key);
std::vector<std::string> ValidateLabelValue(std::string_view value);

}  // namespace ck::api
