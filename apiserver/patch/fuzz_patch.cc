// libFuzzer target: the three patch engines on arbitrary documents and patches.
// Input: one byte choosing the engine (JSON patch, merge patch, strategic merge patch for a Pod or
// a Deployment), then the document, a NUL byte, and the patch (no NUL: the patch is "{}").
// Checks: no crash; a failure carries one of the codes kube-apiserver answers a PATCH with; a
// result is valid JSON; a merge patch made of the document itself is idempotent.
#include <rapidjson/document.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apiserver/patch/patch.h"
#include "common/api/proto/apps_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/base/check.h"

namespace {

using ck::Result;

void CheckJson(const std::string& text) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  CK_CHECK(!d.HasParseError()) << "not JSON: " << text;
}

void CheckError(const ck::Status& s) {
  const int code = s.http_status();
  CK_CHECK(code == 400 || code == 413 || code == 422 || code == 500) << s.ToString();
  CK_CHECK(!s.message().empty());
}

bool SameJson(const std::string& a, const std::string& b) {
  rapidjson::Document da, db;
  da.Parse<rapidjson::kParseIterativeFlag>(a.data(), a.size());
  db.Parse<rapidjson::kParseIterativeFlag>(b.data(), b.size());
  return !da.HasParseError() && !db.HasParseError() && da == db;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int mode = data[0] % 4;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t nul = rest.find('\0');
  const std::string_view doc = rest.substr(0, nul);
  const std::string_view patch =
      nul == std::string_view::npos ? std::string_view("{}") : rest.substr(nul + 1);

  namespace p = ck::apiserver::patch;
  Result<std::string> out = ck::Internal("unset");
  switch (mode) {
    case 0:
      out = p::ApplyJsonPatch(doc, patch);
      break;
    case 1:
      out = p::ApplyMergePatch(doc, patch);
      break;
    case 2:
      out = p::ApplyStrategicMergePatch(doc, patch, k8s::io::api::core::v1::Pod::descriptor());
      break;
    default:
      out = p::ApplyStrategicMergePatch(doc, patch, k8s::io::api::apps::v1::Deployment::descriptor());
      break;
  }
  if (out.ok()) {
    CheckJson(*out);
  } else {
    CheckError(out.status());
  }

  // Merge patch is idempotent: merging the document into itself twice changes nothing more.
  Result<std::string> once = p::ApplyMergePatch(doc, doc);
  if (once.ok()) {
    CheckJson(*once);
    Result<std::string> twice = p::ApplyMergePatch(*once, doc);
    CK_CHECK(twice.ok()) << twice.status().ToString();
    CK_CHECK(SameJson(*once, *twice)) << *once << " then " << *twice;
  }
  return 0;
}
