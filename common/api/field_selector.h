// Field selectors ("metadata.name=web,status.phase!=Failed"), with
// k8s.io/apimachinery/pkg/fields semantics: terms joined by ",", each `field=value`,
// `field==value` or `field!=value`; ',' '=' and '\' in a value are escaped with '\'. A field
// missing from the object's field set compares as "". Terms are kept sorted, so String() is
// deterministic. A FieldSelector is a plain value; not synchronized.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ck::api {

class FieldSelector {
 public:
  struct Term {
    std::string field;
    bool negated = false;  // !=
    std::string value;     // unescaped
    friend bool operator==(const Term&, const Term&) = default;
  };

  // Matches everything.
  FieldSelector() = default;
  static FieldSelector Everything() { return FieldSelector(); }
  static FieldSelector OneTermEqual(std::string field, std::string value);

  // "" is Everything. BadRequest in upstream's words plus where:
  //   `invalid selector: 'a'; can't understand 'a' (at offset 0)`
  //   `invalid field selector: invalid escape sequence: \x (at offset 9)`
  static Result<FieldSelector> Parse(std::string_view text);

  // Evaluates against an object's field set, e.g. {"metadata.name": "web", "spec.nodeName": ""}.
  bool Matches(const std::map<std::string, std::string>& fields) const;
  bool Empty() const { return terms_.empty(); }
  // "metadata.name=web,status.phase!=Failed", values escaped again.
  std::string String() const;
  // The value `field` must equal, when a `field=value` term requires one.
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;
  const std::vector<Term>& terms() const { return terms_; }

 private:
  std::vector<Term> terms_;
};

// Escapes '\', ',' and '=' in a field selector value.
std::string EscapeFieldSelectorValue(std::string_view v);

}  // namespace ck::api
