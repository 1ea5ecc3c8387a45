#include "apiserver/discovery/media_type.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/base/strings.h"

namespace ck::apiserver::discovery {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Splits on `sep` outside double quotes.
std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"') quoted = !quoted;
    if (s[i] == sep && !quoted) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  out.push_back(s.substr(start));
  return out;
}

int Specificity(const MediaRange& m) { return (m.type != "*" ? 2 : 0) + (m.subtype != "*" ? 1 : 0); }

}  // namespace

std::string_view MediaRange::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return {};
}

std::vector<MediaRange> ParseAccept(std::string_view accept) {
  std::vector<MediaRange> out;
  for (std::string_view range : Split(accept, ',')) {
    std::vector<std::string_view> parts = Split(range, ';');
    std::string_view type = Trim(parts[0]);
    size_t slash = type.find('/');
    if (type.empty() || slash == std::string_view::npos || slash == 0 || slash + 1 == type.size()) continue;
    MediaRange m;
    m.type = ToLower(type.substr(0, slash));
    m.subtype = ToLower(type.substr(slash + 1));
    if (m.type == "*" && m.subtype != "*") continue;
    bool ok = true;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = Trim(parts[i]);
      if (p.empty()) continue;
      size_t eq = p.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        ok = false;
        break;
      }
      std::string name = ToLower(Trim(p.substr(0, eq)));
      std::string_view value = Trim(p.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (name == "q") {
        char* end = nullptr;
        std::string v(value);
        double q = std::strtod(v.c_str(), &end);
        if (end == v.c_str() || *end != '\0' || q < 0 || q > 1) {
          ok = false;
          break;
        }
        m.q = q;
      } else {
        m.params.emplace_back(std::move(name), std::string(value));
      }
    }
    if (ok) out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(), [](const MediaRange& a, const MediaRange& b) {
    if (a.q != b.q) return a.q > b.q;
    return Specificity(a) > Specificity(b);
  });
  return out;
}

}  // namespace ck::apiserver::discovery
