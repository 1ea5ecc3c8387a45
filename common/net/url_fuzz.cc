// libFuzzer target: URL and query parsing must never crash, and whatever decodes must
// re-encode to something that decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "common/net/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (auto decoded = ck::net::PercentDecode(input)) {
    auto again = ck::net::PercentDecode(ck::net::PercentEncode(*decoded));
    CK_CHECK(again && *again == *decoded) << "percent-encoding did not round-trip";
  }
  if (auto q = ck::net::Query::Parse(input)) {
    for (const auto& [k, v] : q->entries()) {
      CK_CHECK(q->Get(k).has_value()) << "parsed key not found";
      (void)v;
    }
  }
  if (auto segments = ck::net::SplitPath(input)) {
    for (const auto& s : *segments) CK_CHECK(!s.empty()) << "empty path segment";
  }
  return 0;
}
