#include "apiserver/patch/json_util.h"

#include <rapidjson/error/error.h>
#include <rapidjson/internal/dtoa.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
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
    case rapidjson::kParseErrorNumberTooBig: {
      size_t end = offset;
      while (end < text.size() && std::strchr("0123456789+-.eE", text[end]) != nullptr && text[end] != '\0')
        ++end;
      return "json: cannot unmarshal number " + std::string(text.substr(offset, end - offset)) +
             " into Go value of type float64";
    }
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
  for (char* p = s;
       (p = static_cast<char*>(std::memchr(p, 0xED, static_cast<size_t>(s + n - p)))) != nullptr;) {
    if (p + 2 >= s + n) break;
    if (static_cast<unsigned char>(p[1]) >= 0xA0) {
      p[0] = static_cast<char>(0xEF);
      p[1] = static_cast<char>(0xBF);
      p[2] = static_cast<char>(0xBD);
    }
    p += 3;
  }
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. ASCII runs go 8
// bytes at a time.
bool ValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t chunk;
      std::memcpy(&chunk, s + i, 8);
      if ((chunk & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (i + len > n || s[i + 1] < lo || s[i + 1] > hi) return false;
    for (size_t k = 2; k < len; ++k) {
      if (s[i + k] < 0x80 || s[i + k] > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

bool IsDropped(const std::vector<rapidjson::SizeType>& drop, rapidjson::SizeType i) {
  return std::find(drop.begin(), drop.end(), i) != drop.end();
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
      drop.clear();
      auto begin = v->MemberBegin();
      const rapidjson::SizeType n = v->MemberCount();
      if (n <= 16) {  // small objects: pairwise, no allocation
        for (rapidjson::SizeType i = 1; i < n; ++i) {
          for (rapidjson::SizeType j = 0; j < i; ++j) {
            if (begin[j].name == begin[i].name && !IsDropped(drop, j)) {
              begin[j].value = std::move(begin[i].value);
              drop.push_back(i);
              break;
            }
          }
        }
      } else {
        seen.clear();
        for (rapidjson::SizeType i = 0; i < n; ++i) {
          auto [it, fresh] = seen.emplace(Str(begin[i].name), i);
          if (!fresh) {
            begin[it->second].value = std::move(begin[i].value);
            drop.push_back(i);
          }
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
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
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
  if (!ValidUtf8(text)) {
    // Rare: parse again with RapidJSON's (slower) validation to say where.
    constexpr unsigned kValidate = rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;
    doc->Parse<kValidate>(text.data(), text.size());
    if (doc->HasParseError()) {
      return BadRequest(DescribeParseError(text, doc->GetParseError(), doc->GetErrorOffset()));
    }
    return BadRequest("invalid UTF-8 in JSON text");
  }
  // In situ, from a copy in the request's pool: strings point into it instead of being copied.
  char* buffer = static_cast<char*>(doc->GetAllocator().Malloc(text.size() + 1));
  std::memcpy(buffer, text.data(), text.size());
  buffer[text.size()] = '\0';
  doc->ParseInsitu<rapidjson::kParseIterativeFlag>(buffer);
  if (doc->HasParseError()) {
    return BadRequest(DescribeParseError(text, doc->GetParseError(), doc->GetErrorOffset()));
  }
  if (Depth(*doc) > kMaxDepth) return BadRequest("exceeded max depth");
  return Normalize(*doc);
}

namespace {

void WriteString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of bytes that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void WriteValue(const Value& v, std::string& out) {
  char buf[32];
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out += "null";
      return;
    case rapidjson::kFalseType:
      out += "false";
      return;
    case rapidjson::kTrueType:
      out += "true";
      return;
    case rapidjson::kStringType:
      WriteString(Str(v), out);
      return;
    case rapidjson::kNumberType: {
      char* end;
      if (v.IsInt64()) {
        end = std::to_chars(buf, buf + sizeof(buf), v.GetInt64()).ptr;
      } else if (v.IsUint64()) {
        end = std::to_chars(buf, buf + sizeof(buf), v.GetUint64()).ptr;
      } else {
        end = rapidjson::internal::dtoa(v.GetDouble(), buf);  // shortest round trip, as RapidJSON's Writer
      }
      out.append(buf, static_cast<size_t>(end - buf));
      return;
    }
    case rapidjson::kArrayType: {
      out.push_back('[');
      bool first = true;
      for (const Value& e : v.GetArray()) {
        if (!first) out.push_back(',');
        first = false;
        WriteValue(e, out);
      }
      out.push_back(']');
      return;
    }
    case rapidjson::kObjectType: {
      out.push_back('{');
      bool first = true;
      for (const auto& m : v.GetObject()) {
        if (!first) out.push_back(',');
        first = false;
        WriteString(Str(m.name), out);
        out.push_back(':');
        WriteValue(m.value, out);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

std::string Write(const Value& v) {
  std::string out;
  out.reserve(4096);
  WriteValue(v, out);
  return out;
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
