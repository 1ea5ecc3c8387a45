#include "common/api/internal/json_runtime.h"

namespace ck::api::internal {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

}  // namespace

std::string_view JsonTypeName(JsonValue v) {
  switch (v.type()) {
    case simdjson::dom::element_type::ARRAY: return "array";
    case simdjson::dom::element_type::OBJECT: return "object";
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE: return "number";
    case simdjson::dom::element_type::STRING: return "string";
    case simdjson::dom::element_type::BOOL: return "bool";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
  }
  return "value";
}

std::string NumberText(JsonValue v) {
  switch (v.type()) {
    case simdjson::dom::element_type::INT64: return std::to_string(v.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64: return std::to_string(v.get_uint64().value_unsafe());
    default: {
      std::string s;
      JsonWriter::AppendGoFloat(&s, v.get_double().value_unsafe(), false);
      return s;
    }
  }
}

void DecodeContext::Problem(std::string_view what, std::string_view key, const PathNode* at) {
  PathNode node{at, key, -1, false};
  std::string m(what);
  m += " field \"";
  m += PathString(&node);
  m += '"';
  problems.push_back(std::move(m));
}

void DecodeContext::TypeMeta(std::string_view key, JsonValue v) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return;
  std::string* out = key == "kind" ? kind : api_version;
  if (out != nullptr) out->assign(s);
}

Status DecodeContext::TypeError(JsonValue v, std::string_view go_type, const PathNode* at) const {
  std::string m = "json: cannot unmarshal ";
  m.append(JsonTypeName(v));
  m += " into Go struct field ";
  m.append(root_name);
  m += '.';
  m += PathString(at);
  m += " of type ";
  m.append(go_type);
  return BadRequest(std::move(m));
}

Status DecodeContext::NumberError(JsonValue v, std::string_view go_type, const PathNode* at) const {
  if (v.type() != simdjson::dom::element_type::INT64 && v.type() != simdjson::dom::element_type::UINT64 &&
      v.type() != simdjson::dom::element_type::DOUBLE) {
    return TypeError(v, go_type, at);
  }
  std::string m = "json: cannot unmarshal number ";
  m += NumberText(v);
  m += " into Go struct field ";
  m.append(root_name);
  m += '.';
  m += PathString(at);
  m += " of type ";
  m.append(go_type);
  return BadRequest(std::move(m));
}

Status DecodeContext::ValueError(std::string_view what, const PathNode* at) {
  std::string m = PathString(at);
  m += ": ";
  m.append(what);
  return BadRequest(std::move(m));
}

Status WriteRawJson(JsonValue v, JsonWriter& w, int depth, const PathNode* at) {
  if (depth > kMaxJsonDepth) return DecodeContext::DepthError(at);
  switch (v.type()) {
    case simdjson::dom::element_type::NULL_VALUE: w.Null(); return Status::Ok();
    case simdjson::dom::element_type::BOOL: w.Bool(v.get_bool().value_unsafe()); return Status::Ok();
    case simdjson::dom::element_type::STRING: w.String(v.get_string().value_unsafe()); return Status::Ok();
    case simdjson::dom::element_type::INT64: w.Int(v.get_int64().value_unsafe()); return Status::Ok();
    case simdjson::dom::element_type::UINT64: w.Uint(v.get_uint64().value_unsafe()); return Status::Ok();
    case simdjson::dom::element_type::DOUBLE: w.Double(v.get_double().value_unsafe()); return Status::Ok();
    case simdjson::dom::element_type::ARRAY: {
      simdjson::dom::array a = v.get_array().value_unsafe();
      w.StartArray();
      for (JsonValue e : a) CK_RETURN_IF_ERROR(WriteRawJson(e, w, depth + 1, at));
      w.EndArray();
      return Status::Ok();
    }
    case simdjson::dom::element_type::OBJECT: {
      simdjson::dom::object o = v.get_object().value_unsafe();
      w.StartObject();
      for (simdjson::dom::key_value_pair kv : o) {
        w.Key(kv.key);
        CK_RETURN_IF_ERROR(WriteRawJson(kv.value, w, depth + 1, at));
      }
      w.EndObject();
      return Status::Ok();
    }
  }
  return Status::Ok();
}

Status ReadBytes(JsonValue v, std::string* out, DecodeContext& c, const PathNode* at) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) return c.TypeError(v, "[]uint8", at);
  size_t bad = 0;
  if (!DecodeBase64(s, out, &bad)) {
    return DecodeContext::ValueError("illegal base64 data at input byte " + std::to_string(bad), at);
  }
  return Status::Ok();
}

void WriteQuantityString(const std::string& s, JsonWriter& w) {
  if (s.empty()) {
    w.String("0");
    return;
  }
  Result<Quantity> q = Quantity::Parse(s);
  if (q.ok()) {
    w.String(q->String());
  } else {
    w.String(s);  // not a quantity: written as stored rather than lost
  }
}

Status ReadQuantityString(JsonValue v, std::string* out, DecodeContext& c, const PathNode* at) {
  std::string_view text;
  std::string number;
  if (v.get_string().get(text) == simdjson::SUCCESS) {
    while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
    while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  } else if (v.is_number()) {
    number = NumberText(v);
    text = number;
  } else {
    return c.TypeError(v, "resource.Quantity", at);
  }
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return DecodeContext::ValueError(q.status().message(), at);
  *out = q->String();
  return Status::Ok();
}

void WriteRawJsonText(const std::string& raw, std::string_view type_name, JsonWriter& w) {
  size_t i = raw.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) {
    w.Null();
    return;
  }
  char c = raw[i];
  if (!(c == '{' || c == '[' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' || (c >= '0' && c <= '9'))) {
    w.Fail("embedded object in " + std::string(type_name) + " is not JSON");
    w.Null();
    return;
  }
  w.RawValue(raw);
}

}  // namespace ck::api::internal
