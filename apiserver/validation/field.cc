#include "apiserver/validation/field.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <set>

#include "common/base/strings.h"

namespace ck::apiserver {

std::string FieldError::Reason() const {
  switch (type) {
    case Type::kRequired: return "FieldValueRequired";
    case Type::kInvalid: return "FieldValueInvalid";
    case Type::kDuplicate: return "FieldValueDuplicate";
    case Type::kNotSupported: return "FieldValueNotSupported";
    case Type::kForbidden: return "FieldValueForbidden";
    case Type::kTooLong: return "FieldValueTooLong";
    case Type::kTooMany: return "FieldValueTooMany";
    case Type::kNotFound: return "FieldValueNotFound";
  }
  return "FieldValueInvalid";
}

namespace {

std::string_view TypeText(FieldError::Type t) {
  switch (t) {
    case FieldError::Type::kRequired: return "Required value";
    case FieldError::Type::kInvalid: return "Invalid value";
    case FieldError::Type::kDuplicate: return "Duplicate value";
    case FieldError::Type::kNotSupported: return "Unsupported value";
    case FieldError::Type::kForbidden: return "Forbidden";
    case FieldError::Type::kTooLong: return "Too long";
    case FieldError::Type::kTooMany: return "Too many";
    case FieldError::Type::kNotFound: return "Not found";
  }
  return "Invalid value";
}

}  // namespace

// Upstream's field.Error.ErrorBody: Required, Forbidden and TooLong never print the value.
std::string FieldError::Message() const {
  std::string s(TypeText(type));
  bool omit_value = type == Type::kRequired || type == Type::kForbidden || type == Type::kTooLong || value.empty();
  if (!omit_value) {
    s += ": ";
    s += value;
  }
  if (!detail.empty()) {
    s += ": ";
    s += detail;
  }
  return s;
}

std::string FieldError::ToString() const { return field + ": " + Message(); }

// Upstream's errors.NewInvalid: `<GroupKind> "<name>" is invalid: <aggregate>`; the aggregate of
// one error is that error, of several a bracketed, comma-separated list without duplicates.
std::string InvalidMessage(std::string_view kind, std::string_view name, const FieldErrors& errors) {
  std::string out(kind);
  out += ' ';
  AppendQuoted(out, name);
  out += " is invalid";
  std::vector<std::string> msgs;
  std::set<std::string> seen;
  for (const auto& e : errors) {
    std::string m = e.ToString();
    if (seen.insert(m).second) msgs.push_back(std::move(m));
  }
  if (msgs.empty()) return out;
  out += ": ";
  if (msgs.size() == 1) return out + msgs[0];
  out += '[';
  for (size_t i = 0; i < msgs.size(); ++i) {
    if (i > 0) out += ", ";
    out += msgs[i];
  }
  out += ']';
  return out;
}

std::string QualifiedKind(const ResourceInfo& resource) {
  return resource.group.empty() ? resource.kind : resource.kind + "." + resource.group;
}

namespace validation {

FieldError Required(const Path& p, std::string detail) {
  return {FieldError::Type::kRequired, p.str(), "", std::move(detail)};
}
FieldError Invalid(const Path& p, std::string value, std::string detail) {
  return {FieldError::Type::kInvalid, p.str(), std::move(value), std::move(detail)};
}
FieldError Duplicate(const Path& p, std::string value) {
  return {FieldError::Type::kDuplicate, p.str(), std::move(value), ""};
}
FieldError NotSupported(const Path& p, std::string value, const std::vector<std::string>& supported) {
  std::string detail;
  if (!supported.empty()) {
    detail = "supported values: ";
    for (size_t i = 0; i < supported.size(); ++i) {
      if (i > 0) detail += ", ";
      detail += Q(supported[i]);
    }
  }
  return {FieldError::Type::kNotSupported, p.str(), std::move(value), std::move(detail)};
}
FieldError Forbidden(const Path& p, std::string detail) {
  return {FieldError::Type::kForbidden, p.str(), "", std::move(detail)};
}
FieldError TooLong(const Path& p, int64_t max_bytes) {
  return {FieldError::Type::kTooLong, p.str(), "", "must have at most " + std::to_string(max_bytes) + " bytes"};
}
FieldError TooMany(const Path& p, int64_t actual, int64_t max) {
  return {FieldError::Type::kTooMany, p.str(), std::to_string(actual), "must have at most " + std::to_string(max) + " items"};
}
FieldError NotFound(const Path& p, std::string value) {
  return {FieldError::Type::kNotFound, p.str(), std::move(value), ""};
}

// Go's strconv.Quote for valid UTF-8 input.
std::string Q(std::string_view s) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string Num(int64_t v) { return std::to_string(v); }

std::string GoMap(const google::protobuf::Map<std::string, std::string>& m) {
  if (m.empty()) return "map[string]string(nil)";
  std::string out = "map[string]string{";
  bool first = true;
  for (const auto& k : SortedKeys(m)) {
    if (!first) out += ", ";
    first = false;
    out += Q(k) + ":" + Q(m.at(k));
  }
  return out + "}";
}

std::string GoStrings(const std::vector<std::string>& v) {
  if (v.empty()) return "[]string(nil)";
  std::string out = "[]string{";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ", ";
    out += Q(v[i]);
  }
  return out + "}";
}

std::string GoStrings(const google::protobuf::RepeatedPtrField<std::string>& v) {
  return GoStrings(std::vector<std::string>(v.begin(), v.end()));
}

std::string GoLabelSelector(const LabelSelector& s) {
  std::string out = "v1.LabelSelector{MatchLabels:" + GoMap(s.matchlabels()) + ", MatchExpressions:";
  if (s.matchexpressions().empty()) {
    out += "[]v1.LabelSelectorRequirement(nil)";
  } else {
    out += "[]v1.LabelSelectorRequirement{";
    for (int i = 0; i < s.matchexpressions_size(); ++i) {
      const auto& r = s.matchexpressions(i);
      if (i > 0) out += ", ";
      out += "v1.LabelSelectorRequirement{Key:" + Q(r.key()) + ", Operator:" + Q(r.operator_()) +
             ", Values:" + GoStrings(r.values()) + "}";
    }
    out += "}";
  }
  return out + "}";
}

std::string GoIntOrString(const IntOrString& v) {
  return "intstr.IntOrString{Type:" + std::to_string(v.type()) + ", IntVal:" + std::to_string(v.intval()) +
         ", StrVal:" + Q(v.strval()) + "}";
}

int64_t IntValue(const IntOrString& v) {
  if (!IsStr(v)) return v.intval();
  auto n = ParseInt(v.strval());
  return n ? *n : 0;
}

namespace {

// The wire encoding with map entries sorted by key: equal messages give equal bytes.
std::string DeterministicBytes(const google::protobuf::Message& m) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    m.SerializePartialToCodedStream(&coded);
  }
  return out;
}

}  // namespace

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return a.GetDescriptor() == b.GetDescriptor() && DeterministicBytes(a) == DeterministicBytes(b);
}

}  // namespace validation
}  // namespace ck::apiserver
