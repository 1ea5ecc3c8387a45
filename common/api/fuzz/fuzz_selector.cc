// libFuzzer target: label and field selector parsing. A parsed selector prints to text that
// parses back to the same requirements, and evaluating it never fails.
#include <cstddef>
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
    CK_CHECK(again->terms() == f->terms()) << f->String();
    (void)f->Matches(labels);
  } else {
    CK_CHECK(f.status().code() == ck::Code::kBadRequest);
  }
  return 0;
}
