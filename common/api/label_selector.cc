#include "common/api/label_selector.h"

#include <algorithm>

#include "common/api/proto/meta_v1.pb.h"
#include "common/base/strings.h"

namespace ck::api {
namespace {

namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;

// ---- Validation (k8s.io/apimachinery/pkg/util/validation) --------------------------------------

std::string RegexError(std::string msg, std::string_view fmt, std::initializer_list<std::string_view> examples) {
  msg += " (e.g. ";
  bool first = true;
  for (std::string_view e : examples) {
    if (!first) msg += " or ";
    first = false;
    msg += "'";
    msg.append(e);
    msg += "', ";
  }
  msg += "regex used for validation is '";
  msg.append(fmt);
  msg += "')";
  return msg;
}

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (label.empty() || !lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    for (char c : label) {
      if (!lower_alnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

constexpr std::string_view kQualifiedNameFmt = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr std::string_view kQualifiedNameMsg =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

// field.Invalid(path, value, detail).Error()
std::string InvalidValue(std::string_view path, std::string_view value, std::string_view detail) {
  std::string m(path);
  m += ": Invalid value: ";
  m += JsonString(value);
  m += ": ";
  m.append(detail);
  return m;
}

// ---- Lexer and parser (k8s.io/apimachinery/pkg/labels) ----------------------------------------

enum class Tok { kError, kEnd, kClosePar, kComma, kDoesNotExist, kDoubleEquals, kEquals, kGreater, kIdentifier, kIn, kLess, kNotEquals, kNotIn, kOpenPar };

struct Item {
  Tok tok;
  std::string literal;
  size_t offset;
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) { return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<'; }

bool LookupToken(std::string_view s, Tok* t) {
  static const std::pair<std::string_view, Tok> kTokens[] = {
      {")", Tok::kClosePar}, {",", Tok::kComma},       {"!", Tok::kDoesNotExist}, {"==", Tok::kDoubleEquals},
      {"=", Tok::kEquals},   {">", Tok::kGreater},     {"in", Tok::kIn},          {"<", Tok::kLess},
      {"!=", Tok::kNotEquals}, {"notin", Tok::kNotIn}, {"(", Tok::kOpenPar}};
  for (const auto& [text, tok] : kTokens) {
    if (text == s) {
      *t = tok;
      return true;
    }
  }
  return false;
}

std::vector<Item> Lex(std::string_view s) {
  std::vector<Item> items;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsWhitespace(s[i])) ++i;
    if (i >= s.size()) {
      items.push_back({Tok::kEnd, "", s.size()});
      return items;
    }
    size_t start = i;
    if (IsSpecial(s[i])) {
      // The longest run of special characters that still forms a token.
      Tok last = Tok::kError;
      size_t last_end = i;
      std::string buf;
      while (i < s.size() && IsSpecial(s[i])) {
        buf += s[i];
        Tok t;
        if (LookupToken(buf, &t)) {
          last = t;
          last_end = i + 1;
        } else if (last != Tok::kError) {
          break;
        }
        ++i;
      }
      if (last == Tok::kError) {
        items.push_back({Tok::kError, "error expected: keyword found '" + buf + "'", start});
        i = start + buf.size();
      } else {
        items.push_back({last, std::string(s.substr(start, last_end - start)), start});
        i = last_end;
      }
      continue;
    }
    while (i < s.size() && !IsSpecial(s[i]) && !IsWhitespace(s[i])) ++i;
    std::string lit(s.substr(start, i - start));
    Tok t;
    if (LookupToken(lit, &t)) {
      items.push_back({t, lit, start});
    } else {
      items.push_back({Tok::kIdentifier, lit, start});
    }
  }
}

class Parser {
 public:
  explicit Parser(std::string_view s) : items_(Lex(s)) {}

  Status Parse(std::vector<Requirement>* out) {
    while (true) {
      const Item& it = Lookahead(true);
      switch (Kind(it, true)) {
        case Tok::kIdentifier:
        case Tok::kDoesNotExist: {
          Requirement r;
          Status s = ParseRequirement(&r);
          if (!s.ok()) return BadRequest("unable to parse requirement: " + s.message());
          out->push_back(std::move(r));
          const Item& next = Consume(true);
          switch (Kind(next, true)) {
            case Tok::kEnd:
              return Status::Ok();
            case Tok::kComma: {
              const Item& after = Lookahead(true);
              Tok k = Kind(after, true);
              if (k != Tok::kIdentifier && k != Tok::kDoesNotExist) {
                return Error(after, "expected: identifier after ','");
              }
              break;
            }
            default:
              return Error(next, "expected: ',' or 'end of string'");
          }
          break;
        }
        case Tok::kEnd:
          return Status::Ok();
        default:
          return Error(it, "expected: !, identifier, or 'end of string'");
      }
    }
  }

 private:
  // In a value position "in" and "notin" are plain identifiers.
  static Tok Kind(const Item& it, bool values) {
    if (values && (it.tok == Tok::kIn || it.tok == Tok::kNotIn)) return Tok::kIdentifier;
    return it.tok;
  }
  const Item& Lookahead(bool) const { return items_[pos_]; }
  const Item& Consume(bool) {
    const Item& it = items_[pos_];
    if (pos_ + 1 < items_.size()) ++pos_;
    return it;
  }

  static std::string Where(const Item& it) { return " (at offset " + std::to_string(it.offset) + ")"; }
  static Status Error(const Item& it, std::string_view expected, bool colon = true) {
    std::string m = "found '" + it.literal + "'" + (colon ? ", " : " ");
    m.append(expected);
    return BadRequest(m + Where(it));
  }

  Status ParseRequirement(Requirement* r) {
    bool does_not_exist = false;
    const Item* it = &Consume(true);
    if (it->tok == Tok::kDoesNotExist) {
      does_not_exist = true;
      it = &Consume(true);
    }
    if (Kind(*it, true) != Tok::kIdentifier) return Error(*it, "expected: identifier");
    std::vector<std::string> errs = ValidateLabelKey(it->literal);
    if (!errs.empty()) return BadRequest(InvalidValue("key", it->literal, Join(errs, "; ")) + Where(*it));
    r->key = it->literal;
    Tok next = Kind(Lookahead(true), true);
    if (next == Tok::kEnd || next == Tok::kComma) {
      r->op = does_not_exist ? SelectorOp::kDoesNotExist : SelectorOp::kExists;
      return Validate(*r, it);
    }
    // As upstream, a leading '!' is forgotten once an operator follows ("!a=b" is "a=b").
    const Item& op = Consume(false);
    switch (op.tok) {
      case Tok::kIn: r->op = SelectorOp::kIn; break;
      case Tok::kEquals: r->op = SelectorOp::kEquals; break;
      case Tok::kDoubleEquals: r->op = SelectorOp::kDoubleEquals; break;
      case Tok::kGreater: r->op = SelectorOp::kGreaterThan; break;
      case Tok::kLess: r->op = SelectorOp::kLessThan; break;
      case Tok::kNotIn: r->op = SelectorOp::kNotIn; break;
      case Tok::kNotEquals: r->op = SelectorOp::kNotEquals; break;
      default: return Error(op, "expected: in, notin, =, ==, !=, gt, lt");
    }
    std::vector<std::string> values;
    if (r->op == SelectorOp::kIn || r->op == SelectorOp::kNotIn) {
      CK_RETURN_IF_ERROR(ParseValues(&values));
    } else {
      CK_RETURN_IF_ERROR(ParseExactValue(&values));
    }
    std::sort(values.begin(), values.end());
    values.erase(std::unique(values.begin(), values.end()), values.end());
    r->values = std::move(values);
    return Validate(*r, &op);
  }

  static Status Validate(const Requirement& r, const Item* at);

  Status ParseValues(std::vector<std::string>* out) {
    const Item& open = Consume(true);
    if (open.tok != Tok::kOpenPar) return Error(open, "expected: '('", false);
    const Item& first = Lookahead(true);
    switch (Kind(first, true)) {
      case Tok::kIdentifier:
      case Tok::kComma: {
        CK_RETURN_IF_ERROR(ParseIdentifiersList(out));
        const Item& close = Consume(true);
        if (close.tok != Tok::kClosePar) return Error(close, "expected: ')'");
        return Status::Ok();
      }
      case Tok::kClosePar:
        Consume(true);
        out->push_back("");
        return Status::Ok();
      default:
        return Error(first, "expected: ',', ')' or identifier");
    }
  }

  Status ParseIdentifiersList(std::vector<std::string>* out) {
    while (true) {
      const Item& it = Consume(true);
      switch (Kind(it, true)) {
        case Tok::kIdentifier: {
          out->push_back(it.literal);
          const Item& next = Lookahead(true);
          switch (Kind(next, true)) {
            case Tok::kComma: continue;
            case Tok::kClosePar: return Status::Ok();
            default: return Error(next, "expected: ',' or ')'");
          }
        }
        case Tok::kComma: {
          if (out->empty()) out->push_back("");  // "(,"
          Tok next = Kind(Lookahead(true), true);
          if (next == Tok::kClosePar) {
            out->push_back("");  // ",)"
            return Status::Ok();
          }
          if (next == Tok::kComma) out->push_back("");  // ",,"
          break;
        }
        default:
          return Error(it, "expected: ',', or identifier");
      }
    }
  }

  Status ParseExactValue(std::vector<std::string>* out) {
    Tok next = Kind(Lookahead(true), true);
    if (next == Tok::kEnd || next == Tok::kComma) {
      out->push_back("");
      return Status::Ok();
    }
    const Item& it = Consume(true);
    if (Kind(it, true) == Tok::kIdentifier) {
      out->push_back(it.literal);
      return Status::Ok();
    }
    return Error(it, "expected: identifier");
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

// NewRequirement's checks; errors joined as field.ErrorList.ToAggregate() does.
std::vector<std::string> RequirementErrors(const Requirement& r) {
  std::vector<std::string> errs;
  std::vector<std::string> key_errs = ValidateLabelKey(r.key);
  if (!key_errs.empty()) errs.push_back(InvalidValue("key", r.key, Join(key_errs, "; ")));
  const std::string values = "values";
  switch (r.op) {
    case SelectorOp::kIn:
    case SelectorOp::kNotIn:
      if (r.values.empty()) errs.push_back("values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty");
      break;
    case SelectorOp::kEquals:
    case SelectorOp::kDoubleEquals:
    case SelectorOp::kNotEquals:
      if (r.values.size() != 1) errs.push_back("values: Invalid value: exact-match compatibility requires one single value");
      break;
    case SelectorOp::kExists:
    case SelectorOp::kDoesNotExist:
      if (!r.values.empty()) errs.push_back("values: Invalid value: values set must be empty for exists and does not exist");
      break;
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan:
      if (r.values.size() != 1) errs.push_back("values: Invalid value: for 'Gt', 'Lt' operators, exactly one value is required");
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (!ParseInt(r.values[i]).has_value()) {
          errs.push_back(InvalidValue("values[" + std::to_string(i) + "]", r.values[i],
                                      "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      }
      break;
  }
  for (size_t i = 0; i < r.values.size(); ++i) {
    std::vector<std::string> v = ValidateLabelValue(r.values[i]);
    if (!v.empty()) {
      errs.push_back(InvalidValue("values[" + std::to_string(i) + "][" + r.key + "]", r.values[i], Join(v, "; ")));
    }
  }
  return errs;
}

std::string Aggregate(const std::vector<std::string>& errs) {
  if (errs.size() == 1) return errs[0];
  return "[" + Join(errs, ", ") + "]";
}

Status Parser::Validate(const Requirement& r, const Item* at) {
  std::vector<std::string> errs = RequirementErrors(r);
  if (errs.empty()) return Status::Ok();
  return BadRequest(Aggregate(errs) + Where(*at));
}

void SortByKey(std::vector<Requirement>* rs) {
  std::stable_sort(rs->begin(), rs->end(), [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
}

bool HasValue(const Requirement& r, const std::string& v) {
  return std::find(r.values.begin(), r.values.end(), v) != r.values.end();
}

bool RequirementMatches(const Requirement& r, const void* labels, LabelLookup lookup) {
  const std::string* v = lookup(labels, r.key);
  switch (r.op) {
    case SelectorOp::kIn:
    case SelectorOp::kEquals:
    case SelectorOp::kDoubleEquals:
      return v != nullptr && HasValue(r, *v);
    case SelectorOp::kNotIn:
    case SelectorOp::kNotEquals:
      return v == nullptr || !HasValue(r, *v);
    case SelectorOp::kExists:
      return v != nullptr;
    case SelectorOp::kDoesNotExist:
      return v == nullptr;
    case SelectorOp::kGreaterThan:
    case SelectorOp::kLessThan: {
      if (v == nullptr || r.values.size() != 1) return false;
      std::optional<int64_t> have = ParseInt(*v), want = ParseInt(r.values[0]);
      if (!have || !want) return false;
      return r.op == SelectorOp::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

}  // namespace

std::vector<std::string> ValidateLabelKey(std::string_view key) {
  std::vector<std::string> errs;
  std::vector<std::string_view> parts = Split(key, '/');
  std::string_view name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    std::string_view prefix = parts[0];
    name = parts[1];
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else if (prefix.size() > 253) {
      errs.push_back("prefix part must be no more than 253 characters");
    } else if (!IsDns1123Subdomain(prefix)) {
      errs.push_back("prefix part " + RegexError("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                                                 "characters, '-' or '.', and must start and end with an alphanumeric character",
                                                 "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
                                                 {"example.com"}));
    }
  } else {
    errs.push_back("a qualified name " + RegexError(std::string(kQualifiedNameMsg), kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}) +
                   " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')");
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back("name part must be no more than 63 characters");
  }
  if (!IsQualifiedNamePart(name)) {
    errs.push_back("name part " + RegexError(std::string(kQualifiedNameMsg), kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}));
  }
  return errs;
}

std::vector<std::string> ValidateLabelValue(std::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back("must be no more than 63 characters");
  if (!value.empty() && !IsQualifiedNamePart(value)) {
    errs.push_back(RegexError("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                              "'.', and must start and end with an alphanumeric character",
                              "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?", {"MyValue", "my_value", "12345"}));
  }
  return errs;
}

std::string Requirement::String() const {
  std::string s;
  if (op == SelectorOp::kDoesNotExist) s += '!';
  s += key;
  switch (op) {
    case SelectorOp::kEquals: s += '='; break;
    case SelectorOp::kDoubleEquals: s += "=="; break;
    case SelectorOp::kNotEquals: s += "!="; break;
    case SelectorOp::kIn: s += " in "; break;
    case SelectorOp::kNotIn: s += " notin "; break;
    case SelectorOp::kGreaterThan: s += '>'; break;
    case SelectorOp::kLessThan: s += '<'; break;
    case SelectorOp::kExists:
    case SelectorOp::kDoesNotExist: return s;
  }
  bool set = op == SelectorOp::kIn || op == SelectorOp::kNotIn;
  if (set) s += '(';
  std::vector<std::string> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  s += Join(sorted, ",");
  if (set) s += ')';
  return s;
}

LabelSelector LabelSelector::Nothing() {
  LabelSelector s;
  s.nothing_ = true;
  return s;
}

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector s;
  Parser p(text);
  CK_RETURN_IF_ERROR(p.Parse(&s.requirements_));
  SortByKey(&s.requirements_);
  return s;
}

Result<LabelSelector> LabelSelector::FromProto(const metav1::LabelSelector* ps) {
  if (ps == nullptr) return Nothing();
  LabelSelector s;
  if (ps->matchlabels_size() == 0 && ps->matchexpressions_size() == 0) return s;
  std::vector<std::pair<std::string, std::string>> labels(ps->matchlabels().begin(), ps->matchlabels().end());
  std::sort(labels.begin(), labels.end());
  for (const auto& [k, v] : labels) {
    CK_RETURN_IF_ERROR(s.Add(Requirement{k, SelectorOp::kEquals, {v}}));
  }
  for (const metav1::LabelSelectorRequirement& e : ps->matchexpressions()) {
    Requirement r;
    r.key = e.key();
    const std::string& op = e.operator_();
    if (op == "In") r.op = SelectorOp::kIn;
    else if (op == "NotIn") r.op = SelectorOp::kNotIn;
    else if (op == "Exists") r.op = SelectorOp::kExists;
    else if (op == "DoesNotExist") r.op = SelectorOp::kDoesNotExist;
    else return BadRequest(JsonString(op) + " is not a valid label selector operator");
    r.values.assign(e.values().begin(), e.values().end());
    CK_RETURN_IF_ERROR(s.Add(std::move(r)));
  }
  return s;
}

LabelSelector LabelSelector::FromSet(const std::map<std::string, std::string>& set) {
  LabelSelector s;
  for (const auto& [k, v] : set) s.requirements_.push_back(Requirement{k, SelectorOp::kEquals, {v}});
  return s;
}

Status LabelSelector::Add(Requirement r) {
  std::vector<std::string> errs = RequirementErrors(r);
  if (!errs.empty()) return BadRequest(Aggregate(errs));
  requirements_.push_back(std::move(r));
  SortByKey(&requirements_);
  return Status::Ok();
}

bool LabelSelector::Matches(const void* labels, LabelLookup lookup) const {
  if (nothing_) return false;
  for (const Requirement& r : requirements_) {
    if (!RequirementMatches(r, labels, lookup)) return false;
  }
  return true;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  return Matches(&labels, [](const void* l, std::string_view key) -> const std::string* {
    const auto& m = *static_cast<const std::map<std::string, std::string>*>(l);
    auto it = m.find(std::string(key));
    return it == m.end() ? nullptr : &it->second;
  });
}

bool LabelSelector::Matches(const google::protobuf::Map<std::string, std::string>& labels) const {
  return Matches(&labels, [](const void* l, std::string_view key) -> const std::string* {
    const auto& m = *static_cast<const google::protobuf::Map<std::string, std::string>*>(l);
    auto it = m.find(std::string(key));
    return it == m.end() ? nullptr : &it->second;
  });
}

std::string LabelSelector::String() const {
  std::string s;
  for (size_t i = 0; i < requirements_.size(); ++i) {
    if (i > 0) s += ',';
    s += requirements_[i].String();
  }
  return s;
}

std::optional<std::string> LabelSelector::RequiresExactMatch(std::string_view key) const {
  for (const Requirement& r : requirements_) {
    if (r.key != key) continue;
    if ((r.op == SelectorOp::kEquals || r.op == SelectorOp::kDoubleEquals || r.op == SelectorOp::kIn) &&
        r.values.size() == 1) {
      return r.values[0];
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::string FormatLabelSelector(const metav1::LabelSelector* s) {
  Result<LabelSelector> sel = LabelSelector::FromProto(s);
  if (!sel.ok()) return "<error>";
  std::string text = sel->String();
  return text.empty() ? "<none>" : text;
}

}  // namespace ck::api
