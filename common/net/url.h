// URL pieces the servers need: percent-decoding, query strings (repeated keys kept in order, as
// `exec?command=ls&command=-l` needs), and path segments. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ck::net {

// Decodes %XX escapes; with plus_as_space, '+' becomes ' ' (query strings). nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space = false);
// Escapes everything but unreserved characters (RFC 3986).
std::string PercentEncode(std::string_view s);

class Query {
 public:
  // Parses "a=1&b=x%20y&a=2". Fails (nullopt) on a malformed escape.
  static std::optional<Query> Parse(std::string_view raw);

  // First value of key, or nullopt when absent ("a" alone gives "").
  std::optional<std::string_view> Get(std::string_view key) const;
  std::string_view GetOr(std::string_view key, std::string_view fallback) const;
  std::vector<std::string_view> GetAll(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Splits "/api/v1/namespaces/x/pods" into decoded segments {"api","v1","namespaces","x","pods"}.
// Empty segments ("//") are dropped; nullopt on a bad escape.
std::optional<std::vector<std::string>> SplitPath(std::string_view path);

}  // namespace ck::net
