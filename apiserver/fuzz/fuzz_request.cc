// libFuzzer target: the routing and parsing of a request line, as ck-apiserver does it for every
// request: the query string, RequestInfo from method + path, the resource lookup, label and field
// selectors from the query, and continue tokens. Nothing may crash; whatever parses must be
// internally consistent.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apiserver/request_info.h"
#include "apiserver/resources.h"
#include "apiserver/server/fields.h"
#include "apiserver/server/wire.h"
#include "common/api/field_selector.h"
#include "common/api/label_selector.h"
#include "common/base/check.h"
#include "common/net/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // "METHOD target": the first space splits the method from the target.
  size_t sp = in.find(' ');
  std::string_view method = sp == std::string_view::npos ? "GET" : in.substr(0, sp);
  std::string_view target = sp == std::string_view::npos ? in : in.substr(sp + 1);
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view raw_query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  std::optional<ck::net::Query> query = ck::net::Query::Parse(raw_query);
  if (!query) return 0;
  ck::Result<ck::apiserver::RequestInfo> info = ck::apiserver::ParseRequestInfo(method, path, *query);
  if (!info.ok()) {
    CK_CHECK(info.status().code() == ck::Code::kBadRequest) << info.status().ToString();
    return 0;
  }
  if (!info->is_resource_request) return 0;
  CK_CHECK(!info->resource.empty());
  CK_CHECK(info->api_prefix == "api" || info->api_prefix == "apis");
  const ck::apiserver::ResourceInfo* r =
      ck::apiserver::FindResource(info->api_group, info->api_version, info->resource);
  if (r == nullptr) return 0;
  if (auto l = query->Get("labelSelector")) {
    ck::Result<ck::api::LabelSelector> s = ck::api::LabelSelector::Parse(*l);
    if (s.ok()) CK_CHECK(ck::api::LabelSelector::Parse(s->String()).ok()) << s->String();
  }
  if (auto f = query->Get("fieldSelector")) {
    ck::Result<ck::api::FieldSelector> s = ck::api::FieldSelector::Parse(*f);
    if (s.ok()) (void)ck::apiserver::CheckFieldSelector(*r, *s);
  }
  if (auto c = query->Get("continue")) {
    ck::Result<ck::apiserver::ContinueToken> t = ck::apiserver::DecodeContinue(*c);
    if (t.ok()) {
      // What we decode we could have written: encoding it again gives a token that decodes the same.
      std::string again = ck::apiserver::EncodeContinue(t->revision, t->start_after);
      ck::Result<ck::apiserver::ContinueToken> t2 = ck::apiserver::DecodeContinue(again);
      CK_CHECK(t2.ok() && t2->revision == t->revision && t2->start_after == t->start_after);
    }
  }
  return 0;
}
