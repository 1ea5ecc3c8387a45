// libFuzzer target: label and field selector parsing. A parsed selector prints to text that
// parses back to the same requirements, and evaluating it never fails.
#include <algorithm>
#include <cstddef>
#include <tuple>
#include <cstdint>
#include <map>
#include <string>

#include "common/api/field_selector.h"
#include "common/api/label_selector.h"
#include "common/base/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}, {"n", "3"}};

  ck::Result<ck::api::LabelSelector> l = ck::api::LabelSelector::Parse(text);
  if (l.ok()) {
    ck::Result<ck::api::LabelSelector> again = ck::api::LabelSelector::Parse(l->String());
    CK_CHECK(again.ok()) << "\"" << l->String() << "\": " << again.status().ToString();
    CK_CHECK(again->requirements() == l->requirements()) << l->String();
    CK_CHECK(again->Matches(labels) == l->Matches(labels));
  } else {
    CK_CHECK(l.status().code() == ck::Code::kBadRequest);
  }

  ck::Result<ck::api::FieldSelector> f = ck::api::FieldSelector::Parse(text);
  if (f.ok()) {
    ck::Result<ck::api::FieldSelector> again = ck::api::FieldSelector::Parse(f->String());
    CK_CHECK(again.ok()) << "\"" << f->String() << "\": " << again.status().ToString();
    // The printed form may list terms in another order ("==" prints as "=", and terms are sorted
    // by their text), so compare the terms as sets.
    auto sorted = [](std::vector<ck::api::FieldSelector::Term> t) {
      std::sort(t.begin(), t.end(), [](const auto& a, const auto& b) {
        return std::tie(a.field, a.negated, a.value) < std::tie(b.field, b.negated, b.value);
      });
      return t;
    };
    CK_CHECK(sorted(again->terms()) == sorted(f->terms())) << f->String();
    (void)f->Matches(labels);
  } else {
    CK_CHECK(f.status().code() == ck::Code::kBadRequest);
  }
  return 0;
}
