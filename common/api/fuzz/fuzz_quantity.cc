// libFuzzer target: quantity parsing. A parsed quantity prints to text that parses back to the
// same value and the same text; comparison and arithmetic stay exact.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/api/quantity.h"
#include "common/base/check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ck::Result<ck::api::Quantity> q = ck::api::Quantity::Parse(text);
  if (!q.ok()) {
    CK_CHECK(q.status().code() == ck::Code::kBadRequest);
    return 0;
  }
  std::string s = q->String();
  ck::Result<ck::api::Quantity> again = ck::api::Quantity::Parse(s);
  CK_CHECK(again.ok()) << "\"" << s << "\" from \"" << text << "\" does not parse: " << again.status().ToString();
  CK_CHECK(again->Cmp(*q) == 0) << s;
  // As upstream, a binary-SI value that is not a multiple of 1024 prints without a suffix and
  // reads back as decimal SI ("34562.5Ki" -> "35392000" -> "35392k"); from there it is stable.
  ck::Result<ck::api::Quantity> third = ck::api::Quantity::Parse(again->String());
  CK_CHECK(third.ok() && third->String() == again->String()) << s << " -> " << again->String();
  ck::Result<ck::api::Quantity> canonical = ck::api::Quantity::Parse(q->CanonicalString());
  CK_CHECK(canonical.ok() && canonical->Cmp(*q) == 0) << q->CanonicalString();

  ck::api::Quantity sum = *q;
  if (sum.Add(*q)) {
    CK_CHECK(q->Sign() == 0 || sum.Cmp(*q) == q->Sign()) << "adding " << s << " to itself";
    CK_CHECK(sum.Sub(*q));
    CK_CHECK(sum.Cmp(*q) == 0) << s;
  }
  (void)q->Value();
  (void)q->MilliValue();
  return 0;
}
