#include "common/api/yaml.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

#include <simdjson.h>
#include <yaml-cpp/yaml.h>

#include "common/api/internal/json_path.h"
#include "common/api/internal/json_runtime.h"
#include "common/api/internal/json_syntax.h"
#include "common/api/internal/json_writer.h"

namespace ck::api {
namespace {

using internal::JsonWriter;

constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kFloatTag = "tag:yaml.org,2002:float";
constexpr std::string_view kBoolTag = "tag:yaml.org,2002:bool";
constexpr std::string_view kNullTag = "tag:yaml.org,2002:null";

// A resolved YAML scalar.
struct Scalar {
  enum Kind { kNull, kBool, kInt, kUint, kFloat, kString } kind = kString;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double f = 0;
};

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return 99;
}

// strconv.ParseUint(s, base, 64) without sign; base 0 reads a 0x / 0o / 0b / 0 prefix.
bool ParseUintGo(std::string_view s, int base, uint64_t* out) {
  if (s.empty()) return false;
  if (base == 0) {
    base = 10;
    if (s[0] == '0') {
      if (s.size() >= 3 && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && (s[1] == 'o' || s[1] == 'O')) {
        base = 8;
        s.remove_prefix(2);
      } else if (s.size() >= 3 && (s[1] == 'b' || s[1] == 'B')) {
        base = 2;
        s.remove_prefix(2);
      } else if (s.size() > 1) {
        base = 8;
        s.remove_prefix(1);
      }
    }
  }
  if (s.empty()) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = DigitValue(c);
    if (d >= base) return false;
    if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base)) return false;
    v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}

// strconv.ParseInt(s, base, 64): an optional sign, then ParseUint's digits.
bool ParseIntGo(std::string_view s, int base, int64_t* out) {
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t u;
  if (!ParseUintGo(s, base, &u)) return false;
  if (neg) {
    if (u > uint64_t{1} << 63) return false;
    *out = static_cast<int64_t>(0 - u);
  } else {
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(u);
  }
  return true;
}

// go-yaml v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsYamlFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  } else {
    if (!digits()) return false;
    if (i < s.size() && s[i] == '.') {
      ++i;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// strconv.ParseFloat for the decimal syntax above; out-of-range values fail, as in Go.
bool ParseFloatGo(std::string_view s, double* out) {
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || (errno == ERANGE && std::isinf(v))) return false;
  *out = v;
  return true;
}

// go-yaml v2's resolve() for an untagged plain scalar.
Scalar ResolvePlain(std::string_view in) {
  Scalar s;
  if (in.empty() || in == "~" || in == "null" || in == "Null" || in == "NULL") {
    s.kind = Scalar::kNull;
    return s;
  }
  static const std::map<std::string_view, bool> kBools = {
      {"y", true},  {"Y", true},  {"yes", true},  {"Yes", true},  {"YES", true},  {"true", true},
      {"True", true}, {"TRUE", true}, {"on", true}, {"On", true}, {"ON", true},
      {"n", false}, {"N", false}, {"no", false}, {"No", false}, {"NO", false}, {"false", false},
      {"False", false}, {"FALSE", false}, {"off", false}, {"Off", false}, {"OFF", false}};
  if (auto it = kBools.find(in); it != kBools.end()) {
    s.kind = Scalar::kBool;
    s.b = it->second;
    return s;
  }
  static const std::map<std::string_view, double> kFloats = {
      {".nan", NAN}, {".NaN", NAN}, {".NAN", NAN}, {".inf", INFINITY}, {".Inf", INFINITY},
      {".INF", INFINITY}, {"+.inf", INFINITY}, {"+.Inf", INFINITY}, {"+.INF", INFINITY},
      {"-.inf", -INFINITY}, {"-.Inf", -INFINITY}, {"-.INF", -INFINITY}};
  if (auto it = kFloats.find(in); it != kFloats.end()) {
    s.kind = Scalar::kFloat;
    s.f = it->second;
    return s;
  }
  char c = in[0];
  if (c == '.') {
    if (IsYamlFloat(in) && ParseFloatGo(in, &s.f)) s.kind = Scalar::kFloat;
    return s;
  }
  if (!(c == '+' || c == '-' || (c >= '0' && c <= '9'))) return s;
  std::string plain;
  plain.reserve(in.size());
  for (char ch : in) {
    if (ch != '_') plain += ch;
  }
  if (ParseIntGo(plain, 0, &s.i)) {
    s.kind = Scalar::kInt;
    return s;
  }
  if (ParseUintGo(plain, 0, &s.u)) {
    s.kind = Scalar::kUint;
    return s;
  }
  if (IsYamlFloat(plain) && ParseFloatGo(plain, &s.f)) {
    s.kind = Scalar::kFloat;
    return s;
  }
  if (plain.size() > 3 && plain.compare(0, 3, "-0b") == 0 && ParseIntGo("-" + plain.substr(3), 2, &s.i)) {
    s.kind = Scalar::kInt;
    return s;
  }
  return s;
}

std::string Where(const YAML::Mark& m) {
  if (m.is_null()) return "";
  return " (line " + std::to_string(m.line + 1) + ")";
}

// strconv.FormatFloat(f, 'g', -1, 32): a float key as sigs.k8s.io/yaml turns it into a string.
std::string FloatKey(double d) {
  float f = static_cast<float>(d);  // rounded to 32 bits first, so 1e300 becomes +Inf
  if (std::isnan(f)) return ".nan";
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::scientific);
  std::string sci(buf, r.ptr);  // d.ddde[+-]xx
  size_t e = sci.find('e');
  if (e == std::string::npos) return sci;
  int exp = std::atoi(sci.c_str() + e + 1);
  if (exp < -4 || exp >= 6) {
    // Go writes at least two exponent digits, like C.
    return sci;
  }
  r = std::to_chars(buf, buf + sizeof buf, f, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

class Converter {
 public:
  explicit Converter(size_t input_size) : max_output_(input_size * 100 + (1 << 20)) {}

  Status Node(const YAML::Node& n, JsonWriter& w, int depth) {
    if (depth > internal::kMaxJsonDepth) return BadRequest("yaml: exceeded max depth" + Where(n.Mark()));
    if (w.out()->size() > max_output_) return BadRequest("yaml: document contains excessive aliasing");
    switch (n.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        w.Null();
        return Status::Ok();
      case YAML::NodeType::Scalar:
        return ScalarValue(n, w);
      case YAML::NodeType::Sequence: {
        w.StartArray();
        for (YAML::Node e : n) CK_RETURN_IF_ERROR(Node(e, w, depth + 1));
        w.EndArray();
        return Status::Ok();
      }
      case YAML::NodeType::Map: {
        std::map<std::string, YAML::Node> members;
        CK_RETURN_IF_ERROR(CollectMap(n, &members, depth));
        w.StartObject();
        for (const auto& [key, value] : members) {
          w.Key(key);
          CK_RETURN_IF_ERROR(Node(value, w, depth + 1));
        }
        w.EndObject();
        return Status::Ok();
      }
    }
    return Status::Ok();
  }

 private:
  // Resolves the scalar per its tag: "!" is a quoted or block scalar (always a string), "?" a
  // plain scalar, tag:yaml.org,2002:* an explicit type.
  Result<Scalar> Resolve(const YAML::Node& n) {
    const std::string& tag = n.Tag();
    const std::string& text = n.Scalar();
    Scalar s;
    if (tag == "?") return ResolvePlain(text);
    if (tag == kNullTag || tag == kBoolTag || tag == kIntTag || tag == kFloatTag) {
      Scalar r = ResolvePlain(text);
      bool ok = (tag == kNullTag && r.kind == Scalar::kNull) || (tag == kBoolTag && r.kind == Scalar::kBool) ||
                (tag == kIntTag && (r.kind == Scalar::kInt || r.kind == Scalar::kUint)) ||
                (tag == kFloatTag && (r.kind == Scalar::kFloat || r.kind == Scalar::kInt || r.kind == Scalar::kUint));
      if (!ok) {
        return BadRequest("yaml: cannot decode `" + text + "` as a !!" + tag.substr(tag.rfind(':') + 1) +
                          Where(n.Mark()));
      }
      if (tag == kFloatTag && r.kind == Scalar::kInt) {
        r.kind = Scalar::kFloat;
        r.f = static_cast<double>(r.i);
      } else if (tag == kFloatTag && r.kind == Scalar::kUint) {
        r.kind = Scalar::kFloat;
        r.f = static_cast<double>(r.u);
      }
      return r;
    }
    return s;  // "!", !!str, !!binary, !!timestamp and custom tags: the text as a string
  }

  Status ScalarValue(const YAML::Node& n, JsonWriter& w) {
    CK_ASSIGN_OR_RETURN(Scalar s, Resolve(n));
    switch (s.kind) {
      case Scalar::kNull: w.Null(); break;
      case Scalar::kBool: w.Bool(s.b); break;
      case Scalar::kInt: w.Int(s.i); break;
      case Scalar::kUint: w.Uint(s.u); break;
      case Scalar::kFloat:
        if (std::isnan(s.f) || std::isinf(s.f)) {
          return BadRequest(std::string("json: unsupported value: ") +
                            (std::isnan(s.f) ? "NaN" : (s.f > 0 ? "+Inf" : "-Inf")) + Where(n.Mark()));
        }
        w.Double(s.f);
        break;
      case Scalar::kString: w.String(n.Scalar()); break;
    }
    return Status::Ok();
  }

  Result<std::string> KeyString(const YAML::Node& k) {
    if (k.Type() != YAML::NodeType::Scalar) return BadRequest("yaml: unsupported map key" + Where(k.Mark()));
    CK_ASSIGN_OR_RETURN(Scalar s, Resolve(k));
    switch (s.kind) {
      case Scalar::kString: return k.Scalar();
      case Scalar::kInt: return std::to_string(s.i);
      case Scalar::kUint: return std::to_string(s.u);
      case Scalar::kBool: return std::string(s.b ? "true" : "false");
      case Scalar::kFloat: return FloatKey(s.f);
      case Scalar::kNull: break;
    }
    return BadRequest("yaml: unsupported map key: null" + Where(k.Mark()));
  }

  static bool IsMergeKey(const YAML::Node& k) {
    return k.Type() == YAML::NodeType::Scalar && k.Tag() == "?" && k.Scalar() == "<<";
  }

  // Members of a mapping in go-yaml v2's order of assignment: a later key replaces an earlier one,
  // and `<<: *base` assigns base's members where it stands (`<<: [*a, *b]` lets a win over b).
  Status CollectMap(const YAML::Node& n, std::map<std::string, YAML::Node>* out, int depth) {
    if (depth > internal::kMaxJsonDepth) return BadRequest("yaml: exceeded max depth" + Where(n.Mark()));
    for (auto it = n.begin(); it != n.end(); ++it) {
      YAML::Node key = it->first;
      YAML::Node value = it->second;
      if (IsMergeKey(key)) {
        if (value.IsMap()) {
          CK_RETURN_IF_ERROR(CollectMap(value, out, depth + 1));
        } else if (value.IsSequence()) {
          for (size_t i = value.size(); i-- > 0;) {
            if (!value[i].IsMap()) {
              return BadRequest("yaml: map merge requires map or sequence of maps as the value" + Where(key.Mark()));
            }
            CK_RETURN_IF_ERROR(CollectMap(value[i], out, depth + 1));
          }
        } else {
          return BadRequest("yaml: map merge requires map or sequence of maps as the value" + Where(key.Mark()));
        }
        continue;
      }
      CK_ASSIGN_OR_RETURN(std::string k, KeyString(key));
      (*out)[std::move(k)] = value;
    }
    return Status::Ok();
  }

  size_t max_output_;
};

std::string_view TrimLeft(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  return s.substr(i);
}

struct Chunk {
  std::string_view text;
  int first_line;  // 0-based line of the chunk's first line in the whole input
};

// Splits a stream on lines that start with "---" followed by nothing but spaces or a comment
// (k8s.io/apimachinery/pkg/util/yaml.YAMLReader); other text after "---" is an error there too.
Result<std::vector<Chunk>> SplitDocuments(std::string_view yaml) {
  std::vector<Chunk> chunks;
  size_t start = 0, pos = 0;
  int line = 0, start_line = 0;
  while (pos <= yaml.size()) {
    size_t eol = yaml.find('\n', pos);
    std::string_view l = yaml.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    if (l.substr(0, 3) == "---") {
      std::string_view rest = l.substr(3);
      size_t k = rest.find_first_not_of(" \t\r");
      if (k != std::string_view::npos && rest[k] != '#') {
        return BadRequest("yaml: line " + std::to_string(line + 1) + ": invalid document separator: " + std::string(l));
      }
      chunks.push_back({yaml.substr(start, pos - start), start_line});
      start = eol == std::string_view::npos ? yaml.size() : eol + 1;
      start_line = line + 1;
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
    ++line;
  }
  chunks.push_back({yaml.substr(start), start_line});
  return chunks;
}

// A stream of JSON values (kubectl reads input that starts with '{' as JSON).
Result<std::vector<std::string>> JsonDocuments(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json.data(), json.size());
  simdjson::dom::document_stream stream;
  if (parser.parse_many(padded, std::max<size_t>(padded.size(), 1)).get(stream) != simdjson::SUCCESS) {
    return BadRequest("json: " + internal::DescribeJsonSyntaxError(json, "cannot parse the JSON stream"));
  }
  std::vector<std::string> docs;
  for (auto doc : stream) {
    simdjson::dom::element e;
    if (doc.get(e) != simdjson::SUCCESS) {
      return BadRequest("json: " + internal::DescribeJsonSyntaxError(json, simdjson::error_message(doc.error())));
    }
    if (internal::IsNull(e)) continue;
    std::string out;
    JsonWriter w(&out);
    CK_RETURN_IF_ERROR(internal::WriteRawJson(e, w, 0, nullptr));
    docs.push_back(std::move(out));
  }
  if (stream.truncated_bytes() > 0) {
    return BadRequest("json: " + internal::DescribeJsonSyntaxError(json, "unexpected end of JSON input"));
  }
  return docs;
}

}  // namespace

Result<std::vector<std::string>> YamlToJsonDocuments(std::string_view yaml) {
  std::string_view head = TrimLeft(yaml);
  if (!head.empty() && head[0] == '{') {
    Result<std::vector<std::string>> docs = JsonDocuments(yaml);
    if (docs.ok()) return docs;
    // Not JSON after all: a YAML flow mapping, read below.
  }
  // Documents are split on `---` lines first, as kubectl's YAMLReader does, and each is parsed
  // on its own (yaml-cpp's LoadAll never returns on some malformed streams, e.g. ",").
  CK_ASSIGN_OR_RETURN(std::vector<Chunk> chunks, SplitDocuments(yaml));
  std::vector<YAML::Node> nodes;
  for (const Chunk& c : chunks) {
    try {
      nodes.push_back(YAML::Load(std::string(c.text)));
    } catch (const YAML::Exception& e) {
      std::string m = "yaml: line " + std::to_string(c.first_line + e.mark.line + 1) + ", column " +
                      std::to_string(e.mark.column + 1) + ": " + e.msg;
      return BadRequest(std::move(m));
    }
  }
  std::vector<std::string> docs;
  Converter converter(yaml.size());
  for (const YAML::Node& n : nodes) {
    if (!n.IsDefined() || n.IsNull()) continue;
    std::string out;
    JsonWriter w(&out);
    try {
      CK_RETURN_IF_ERROR(converter.Node(n, w, 0));
    } catch (const YAML::Exception& e) {
      return BadRequest("yaml: " + e.msg);
    }
    if (out == "null") continue;
    docs.push_back(std::move(out));
  }
  return docs;
}

Result<std::string> YamlToJson(std::string_view yaml) {
  CK_ASSIGN_OR_RETURN(std::vector<std::string> docs, YamlToJsonDocuments(yaml));
  if (docs.size() != 1) {
    return BadRequest("expected exactly one YAML document, found " + std::to_string(docs.size()));
  }
  return std::move(docs[0]);
}

}  // namespace ck::api
