#include "apiserver/patch/json_util.h"

#include <rapidjson/error/error.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/base/strings.h"

namespace ck::apiserver::patch::internal {
namespace {

// encoding/json's quoteChar: the offending byte in single quotes.
std::string QuoteChar(unsigned char c) {
  if (c == '\'') return "'\\''";
  if (c == '"') return "'\"'";
  if (c >= 0x80) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "'\\u%04x'", c);
    return buf;
  }
  std::string quoted;
  AppendQuoted(quoted, std::string_view(reinterpret_cast<const char*>(&c), 1));
  return "'" + quoted.substr(1, quoted.size() - 2) + "'";
}

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string DescribeParseError(std::string_view text, rapidjson::ParseErrorCode code, size_t offset) {
  constexpr std::string_view kEnd = "unexpected end of JSON input";
  auto at = [&](size_t i) -> std::string {
    return i < text.size() ? "invalid character " + QuoteChar(static_cast<unsigned char>(text[i])) : "";
  };
  switch (code) {
    case rapidjson::kParseErrorDocumentEmpty:
      return std::string(kEnd);
    case rapidjson::kParseErrorDocumentRootNotSingular:
      return at(offset) + " after top-level value";
    case rapidjson::kParseErrorObjectMissName:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " looking for beginning of object key string";
    case rapidjson::kParseErrorObjectMissColon:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " after object key";
    case rapidjson::kParseErrorObjectMissCommaOrCurlyBracket:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " after object key:value pair";
    case rapidjson::kParseErrorArrayMissCommaOrSquareBracket:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " after array element";
    case rapidjson::kParseErrorStringEscapeInvalid:
      // RapidJSON points at the backslash; Go names the character after it.
      if (offset + 1 >= text.size()) return std::string(kEnd);
      return at(offset + 1) + " in string escape code";
    case rapidjson::kParseErrorStringUnicodeEscapeInvalidHex: {
      size_t i = offset + 2;  // past "\u"
      while (i < text.size() && i < offset + 6 && IsHex(text[i])) ++i;
      if (i >= text.size()) return std::string(kEnd);
      return at(i) + " in \\u hexadecimal character escape";
    }
    case rapidjson::kParseErrorStringUnicodeSurrogateInvalid:
      return "invalid surrogate pair in string escape";
    case rapidjson::kParseErrorStringMissQuotationMark:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " in string literal";
    case rapidjson::kParseErrorStringInvalidEncoding:
      if (offset < text.size() && static_cast<unsigned char>(text[offset]) < 0x20) {
        return at(offset) + " in string literal";
      }
      return "invalid UTF-8 in string";
    case rapidjson::kParseErrorNumberTooBig:
      return "number out of range";
    case rapidjson::kParseErrorNumberMissFraction:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " after decimal point in numeric literal";
    case rapidjson::kParseErrorNumberMissExponent:
      if (offset >= text.size()) return std::string(kEnd);
      return at(offset) + " in exponent of numeric literal";
    case rapidjson::kParseErrorValueInvalid:
    default: {
      if (offset >= text.size()) return std::string(kEnd);
      // Inside a literal Go says which letter it expected: "in literal null (expecting 'l')".
      for (std::string_view literal : {"true", "false", "null"}) {
        for (size_t k = literal.size() - 1; k >= 1; --k) {
          if (offset >= k && text.substr(offset - k, k) == literal.substr(0, k)) {
            return at(offset) + " in literal " + std::string(literal) + " (expecting '" + literal[k] + "')";
          }
        }
      }
      return at(offset) + " looking for beginning of value";
    }
  }
}

// RapidJSON turns an escaped lone low surrogate ("\udc00") into the three bytes of a surrogate,
// which is not UTF-8; Go decodes it as U+FFFD, which also takes three bytes.
void FixLoneSurrogates(const Value& v) {
  if (!v.IsString() || v.GetStringLength() < 3) return;
  char* s = const_cast<char*>(v.GetString());  // the pool's (or the value's own) writable bytes
  const size_t n = v.GetStringLength();
  for (size_t i = 0; i + 2 < n; ++i) {
    if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) {
      s[i] = static_cast<char>(0xEF);
      s[i + 1] = static_cast<char>(0xBF);
      s[i + 2] = static_cast<char>(0xBD);
      i += 2;
    }
  }
}

// Brings a parsed document to what a Go decoder holds. A Go map keeps the last of repeated keys
// where RapidJSON keeps them all: every object is folded to one member per key (at the first
// position, with the last value). A number beyond float64 is an error in Go; RapidJSON reads it
// as infinity.
Status Normalize(Value& root) {
  if (root.IsDouble() && !std::isfinite(root.GetDouble())) {
    return BadRequest("json: cannot unmarshal number into Go value of type float64");
  }
  FixLoneSurrogates(root);
  std::vector<Value*> stack{&root};
  std::unordered_map<std::string_view, rapidjson::SizeType> seen;
  std::vector<rapidjson::SizeType> drop;
  while (!stack.empty()) {
    Value* v = stack.back();
    stack.pop_back();
    if (v->IsArray()) {
      for (Value& e : v->GetArray()) {
        FixLoneSurrogates(e);
        if (e.IsObject() || e.IsArray()) stack.push_back(&e);
        if (e.IsDouble() && !std::isfinite(e.GetDouble())) {
          return BadRequest("json: cannot unmarshal number into Go value of type float64");
        }
      }
      continue;
    }
    if (!v->IsObject()) continue;
    for (auto& m : v->GetObject()) {
      FixLoneSurrogates(m.name);
      FixLoneSurrogates(m.value);
    }
    if (v->MemberCount() > 1) {
      seen.clear();
      drop.clear();
      auto begin = v->MemberBegin();
      for (rapidjson::SizeType i = 0; i < v->MemberCount(); ++i) {
        auto [it, fresh] = seen.emplace(Str(begin[i].name), i);
        if (!fresh) {
          begin[it->second].value = std::move(begin[i].value);
          drop.push_back(i);
        }
      }
      for (auto d = drop.rbegin(); d != drop.rend(); ++d) v->EraseMember(v->MemberBegin() + *d);
    }
    for (auto& m : v->GetObject()) {
      if (m.value.IsObject() || m.value.IsArray()) stack.push_back(&m.value);
      if (m.value.IsDouble() && !std::isfinite(m.value.GetDouble())) {
        return BadRequest("json: cannot unmarshal number into Go value of type float64");
      }
    }
  }
  return Status::Ok();
}

// fmt's %v of a float64: strconv 'g' with the shortest digits, exponent form below 1e-4 and from
// 1e+06 up ("1e+06", "1.5e-07", "123456").
std::string GoFloat(double d) {
  if (d == 0) return std::signbit(d) ? "-0" : "0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<size_t>(res.ptr - buf));
  std::string out;
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  size_t e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e)) {
    if (c != '.') digits.push_back(c);
  }
  int exp = std::stoi(std::string(sci.substr(e + 1)));
  if (exp < -4 || exp >= 6) {
    out.push_back(digits[0]);
    if (digits.size() > 1) out += "." + digits.substr(1);
    out.push_back('e');
    out.push_back(exp < 0 ? '-' : '+');
    std::string ed = std::to_string(exp < 0 ? -exp : exp);
    if (ed.size() < 2) ed = "0" + ed;
    return out + ed;
  }
  if (exp < 0) return out + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  size_t int_len = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0');
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

std::string GoScalar(const Value& v) {
  switch (KindOf(v)) {
    case Kind::kNull:
      return "<nil>";
    case Kind::kBool:
      return v.GetBool() ? "true" : "false";
    case Kind::kInt:
      return std::to_string(v.GetInt64());
    case Kind::kFloat:
      return GoFloat(v.GetDouble());
    case Kind::kString:
      return std::string(Str(v));
    default:
      return "";
  }
}

std::string GoFormatVerb(const Value& v, bool s_verb) {
  if (v.IsObject()) {
    std::vector<std::pair<std::string_view, const Value*>> members;
    for (const auto& m : v.GetObject()) members.emplace_back(Str(m.name), &m.value);
    std::sort(members.begin(), members.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string out = "map[";
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out.append(members[i].first);
      out.push_back(':');
      out += GoFormatVerb(*members[i].second, s_verb);
    }
    return out + "]";
  }
  if (v.IsArray()) {
    std::string out = "[";
    bool first = true;
    for (const Value& e : v.GetArray()) {
      if (!first) out.push_back(' ');
      first = false;
      out += GoFormatVerb(e, s_verb);
    }
    return out + "]";
  }
  if (!s_verb || v.IsString()) return GoScalar(v);
  if (v.IsNull()) return "%!s(<nil>)";
  return "%!s(" + GoTypeName(v) + "=" + GoScalar(v) + ")";
}

}  // namespace

Status Parse(std::string_view text, Document* doc) {
  // A raw NUL can never be part of a JSON text, and RapidJSON's stream would take it for the end.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    return BadRequest("invalid character '\\x00' looking for beginning of value");
  }
  constexpr unsigned kFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
  doc->Parse<kFlags>(text.data(), text.size());
  if (doc->HasParseError()) {
    return BadRequest(DescribeParseError(text, doc->GetParseError(), doc->GetErrorOffset()));
  }
  if (Depth(*doc) > kMaxDepth) return BadRequest("exceeded max depth");
  return Normalize(*doc);
}

std::string Write(const Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

Kind KindOf(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return Kind::kNull;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return Kind::kBool;
    case rapidjson::kObjectType:
      return Kind::kObject;
    case rapidjson::kArrayType:
      return Kind::kArray;
    case rapidjson::kStringType:
      return Kind::kString;
    case rapidjson::kNumberType:
      return v.IsInt64() ? Kind::kInt : Kind::kFloat;
  }
  return Kind::kNull;
}

bool GoEqual(const Value& a, const Value& b) {
  Kind k = KindOf(a);
  if (k != KindOf(b)) return false;
  switch (k) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.GetBool() == b.GetBool();
    case Kind::kInt:
      return a.GetInt64() == b.GetInt64();
    case Kind::kFloat:
      return a.GetDouble() == b.GetDouble();
    case Kind::kString:
      return Str(a) == Str(b);
    case Kind::kArray: {
      if (a.Size() != b.Size()) return false;
      for (rapidjson::SizeType i = 0; i < a.Size(); ++i) {
        if (!GoEqual(a[i], b[i])) return false;
      }
      return true;
    }
    case Kind::kObject: {
      if (a.MemberCount() != b.MemberCount()) return false;
      for (const auto& m : a.GetObject()) {
        auto it = Find(b, Str(m.name));
        if (it == b.MemberEnd() || !GoEqual(m.value, it->value)) return false;
      }
      return true;
    }
  }
  return false;
}

std::string GoFormat(const Value& v) { return GoFormatVerb(v, /*s_verb=*/false); }
std::string GoFormatS(const Value& v) { return GoFormatVerb(v, /*s_verb=*/true); }

std::string GoTypeName(const Value& v) {
  switch (KindOf(v)) {
    case Kind::kNull:
      return "%!s(<nil>)";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int64";
    case Kind::kFloat:
      return "float64";
    case Kind::kString:
      return "string";
    case Kind::kObject:
      return "map[string]interface {}";
    case Kind::kArray:
      return "[]interface {}";
  }
  return "";
}

std::string_view GoValueWord(const Value& v) {
  switch (KindOf(v)) {
    case Kind::kObject:
      return "object";
    case Kind::kArray:
      return "array";
    case Kind::kString:
      return "string";
    case Kind::kBool:
      return "bool";
    case Kind::kNull:
      return "null";
    default:
      return "number";
  }
}

int Depth(const Value& v) {
  int max_depth = 0;
  std::vector<std::pair<const Value*, int>> stack{{&v, 0}};
  while (!stack.empty()) {
    auto [cur, d] = stack.back();
    stack.pop_back();
    if (cur->IsObject()) {
      max_depth = std::max(max_depth, d + 1);
      for (const auto& m : cur->GetObject()) {
        if (m.value.IsObject() || m.value.IsArray()) stack.emplace_back(&m.value, d + 1);
      }
    } else if (cur->IsArray()) {
      max_depth = std::max(max_depth, d + 1);
      for (const Value& e : cur->GetArray()) {
        if (e.IsObject() || e.IsArray()) stack.emplace_back(&e, d + 1);
      }
    }
  }
  return max_depth;
}

Value::MemberIterator Find(Value& obj, std::string_view key) { return obj.FindMember(Value(Ref(key))); }
Value::ConstMemberIterator Find(const Value& obj, std::string_view key) {
  return obj.FindMember(Value(Ref(key)));
}

}  // namespace ck::apiserver::patch::internal
