#include "common/api/field_selector.h"

#include <algorithm>

namespace ck::api {
namespace {

struct RawTerm {
  std::string_view text;
  size_t offset;
};

// Splits on commas that are not escaped with '\'.
std::vector<RawTerm> SplitTerms(std::string_view s) {
  std::vector<RawTerm> terms;
  if (s.empty()) return terms;
  size_t start = 0;
  bool in_slash = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (in_slash) {
      in_slash = false;
    } else if (s[i] == '\\') {
      in_slash = true;
    } else if (s[i] == ',') {
      terms.push_back({s.substr(start, i - start), start});
      start = i + 1;
    }
  }
  terms.push_back({s.substr(start), start});
  return terms;
}

Status Unescape(std::string_view v, size_t offset, std::string* out) {
  out->clear();
  bool in_slash = false;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (in_slash) {
      if (c != '\\' && c != ',' && c != '=') {
        return BadRequest(std::string("invalid field selector: invalid escape sequence: \\") + c + " (at offset " +
                          std::to_string(offset + i - 1) + ")");
      }
      out->push_back(c);
      in_slash = false;
      continue;
    }
    if (c == '\\') {
      in_slash = true;
    } else if (c == ',' || c == '=') {
      return BadRequest(std::string("invalid field selector: unescaped character in value: ") + c + " (at offset " +
                        std::to_string(offset + i) + ")");
    } else {
      out->push_back(c);
    }
  }
  if (in_slash) {
    return BadRequest("invalid field selector: invalid escape sequence: \\ (at offset " +
                      std::to_string(offset + v.size() - 1) + ")");
  }
  return Status::Ok();
}

}  // namespace

std::string EscapeFieldSelectorValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == ',' || c == '=') out += '\\';
    out += c;
  }
  return out;
}

FieldSelector FieldSelector::OneTermEqual(std::string field, std::string value) {
  FieldSelector s;
  s.terms_.push_back(Term{std::move(field), false, std::move(value)});
  return s;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  std::vector<RawTerm> raw = SplitTerms(text);
  // Upstream sorts the term texts before reading them, which makes String() deterministic.
  std::stable_sort(raw.begin(), raw.end(), [](const RawTerm& a, const RawTerm& b) { return a.text < b.text; });
  FieldSelector s;
  for (const RawTerm& t : raw) {
    if (t.text.empty()) continue;
    size_t at = std::string_view::npos, len = 0;
    for (size_t i = 0; i < t.text.size() && at == std::string_view::npos; ++i) {
      for (std::string_view op : {std::string_view("!="), std::string_view("=="), std::string_view("=")}) {
        if (t.text.substr(i, op.size()) == op) {
          at = i;
          len = op.size();
          break;
        }
      }
    }
    if (at == std::string_view::npos) {
      return BadRequest("invalid selector: '" + std::string(text) + "'; can't understand '" + std::string(t.text) +
                        "' (at offset " + std::to_string(t.offset) + ")");
    }
    Term term;
    term.field = std::string(t.text.substr(0, at));
    term.negated = len == 2 && t.text[at] == '!';
    CK_RETURN_IF_ERROR(Unescape(t.text.substr(at + len), t.offset + at + len, &term.value));
    s.terms_.push_back(std::move(term));
  }
  return s;
}

bool FieldSelector::Matches(const std::map<std::string, std::string>& fields) const {
  for (const Term& t : terms_) {
    auto it = fields.find(t.field);
    const std::string& have = it == fields.end() ? std::string() : it->second;
    if ((have == t.value) == t.negated) return false;
  }
  return true;
}

std::string FieldSelector::String() const {
  std::string s;
  for (size_t i = 0; i < terms_.size(); ++i) {
    if (i > 0) s += ',';
    s += terms_[i].field;
    s += terms_[i].negated ? "!=" : "=";
    s += EscapeFieldSelectorValue(terms_[i].value);
  }
  return s;
}

std::optional<std::string> FieldSelector::RequiresExactMatch(std::string_view field) const {
  for (const Term& t : terms_) {
    if (!t.negated && t.field == field) return t.value;
  }
  return std::nullopt;
}

}  // namespace ck::api
