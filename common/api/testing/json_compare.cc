#include "common/api/testing/json_compare.h"

#include <fstream>
#include <map>
#include <sstream>

#include <simdjson.h>

#include "common/api/internal/json_runtime.h"
#include "common/api/internal/json_writer.h"

namespace ck::api::testing {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

bool IsNumber(element e) {
  return e.type() == element_type::INT64 || e.type() == element_type::UINT64 || e.type() == element_type::DOUBLE;
}

std::string Short(element e) {
  std::string s;
  internal::JsonWriter w(&s);
  (void)internal::WriteRawJson(e, w, 0, nullptr);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

std::string Diff(element a, element b, const std::string& path) {
  std::string at = path.empty() ? "<root>" : path;
  if (IsNumber(a) && IsNumber(b)) {
    if (a.type() != element_type::DOUBLE && b.type() != element_type::DOUBLE) {
      if (a.type() == b.type()) {
        bool same = a.type() == element_type::INT64 ? a.get_int64().value_unsafe() == b.get_int64().value_unsafe()
                                                   : a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe();
        if (same) return "";
      }
      // An int64 and a uint64 can only be equal when both fit int64, and then both parse as int64.
      return at + ": " + Short(a) + " != " + Short(b);
    }
    if (a.get_double().value_unsafe() == b.get_double().value_unsafe()) return "";
    return at + ": " + Short(a) + " != " + Short(b);
  }
  if (a.type() != b.type()) return at + ": " + Short(a) + " != " + Short(b);
  switch (a.type()) {
    case element_type::OBJECT: {
      std::map<std::string_view, element> ma, mb;
      simdjson::dom::object oa = a.get_object().value_unsafe(), ob = b.get_object().value_unsafe();
      for (auto kv : oa) ma[kv.key] = kv.value;
      for (auto kv : ob) mb[kv.key] = kv.value;
      for (const auto& [k, v] : ma) {
        std::string p = path.empty() ? std::string(k) : path + "." + std::string(k);
        auto it = mb.find(k);
        if (it == mb.end()) return p + ": missing in actual (expected " + Short(v) + ")";
        std::string d = Diff(v, it->second, p);
        if (!d.empty()) return d;
      }
      for (const auto& [k, v] : mb) {
        if (ma.count(k) == 0) {
          return (path.empty() ? std::string(k) : path + "." + std::string(k)) + ": unexpected in actual (" +
                 Short(v) + ")";
        }
      }
      return "";
    }
    case element_type::ARRAY: {
      std::vector<element> va, vb;
      simdjson::dom::array aa = a.get_array().value_unsafe(), ab = b.get_array().value_unsafe();
      for (element e : aa) va.push_back(e);
      for (element e : ab) vb.push_back(e);
      if (va.size() != vb.size()) {
        return at + ": " + std::to_string(va.size()) + " elements != " + std::to_string(vb.size());
      }
      for (size_t i = 0; i < va.size(); ++i) {
        std::string d = Diff(va[i], vb[i], path + "[" + std::to_string(i) + "]");
        if (!d.empty()) return d;
      }
      return "";
    }
    case element_type::STRING:
      return a.get_string().value_unsafe() == b.get_string().value_unsafe() ? "" : at + ": " + Short(a) + " != " + Short(b);
    case element_type::BOOL:
      return a.get_bool().value_unsafe() == b.get_bool().value_unsafe() ? "" : at + ": " + Short(a) + " != " + Short(b);
    default:
      return "";
  }
}

}  // namespace

std::string JsonDiff(std::string_view expected, std::string_view actual) {
  simdjson::dom::parser pa, pb;
  simdjson::padded_string sa(expected.data(), expected.size()), sb(actual.data(), actual.size());
  element a, b;
  if (pa.parse(sa).get(a) != simdjson::SUCCESS) return "expected is not JSON";
  if (pb.parse(sb).get(b) != simdjson::SUCCESS) return "actual is not JSON";
  return Diff(a, b, "");
}

Result<std::vector<std::string>> SplitJsonStream(std::string_view stream) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(stream.data(), stream.size());
  simdjson::dom::document_stream docs;
  if (parser.parse_many(padded, std::max<size_t>(padded.size(), 1)).get(docs) != simdjson::SUCCESS) {
    return BadRequest("not a JSON stream");
  }
  std::vector<std::string> out;
  for (auto doc : docs) {
    element e;
    if (doc.get(e) != simdjson::SUCCESS) return BadRequest("not a JSON stream");
    std::string s;
    internal::JsonWriter w(&s);
    CK_RETURN_IF_ERROR(internal::WriteRawJson(e, w, 0, nullptr));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return BadRequest("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace ck::api::testing
