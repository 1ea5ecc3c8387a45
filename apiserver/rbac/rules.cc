#include "apiserver/rbac/rules.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

namespace ck::apiserver::rbac {
namespace {

using Strings = google::protobuf::RepeatedPtrField<std::string>;

bool Has(const Strings& set, std::string_view s) {
  for (const std::string& e : set) {
    if (e == s) return true;
  }
  return false;
}

bool HasAll(const Strings& set, const Strings& wanted) {
  for (const std::string& w : wanted) {
    if (!Has(set, w)) return false;
  }
  return true;
}

bool UrlCovers(std::string_view owner, std::string_view path) {
  if (owner == path) return true;
  if (owner.empty() || owner.back() != '*') return false;
  while (!owner.empty() && owner.back() == '*') owner.remove_suffix(1);  // Go's TrimRight(owner, "*")
  return path.substr(0, owner.size()) == owner;
}

// upstream resourceCoversAll: "*", every resource held exactly, or "*/<sub>" for subresources.
bool ResourcesCoverAll(const Strings& set, const Strings& covers) {
  if (Has(set, kResourceAll) || HasAll(set, covers)) return true;
  for (const std::string& path : covers) {
    if (Has(set, path)) continue;
    size_t slash = path.find('/');
    if (slash == std::string::npos) return false;
    if (!Has(set, "*/" + path.substr(slash + 1))) return false;
  }
  return true;
}

bool UrlsCoverAll(const Strings& set, const Strings& covers) {
  for (const std::string& path : covers) {
    bool covered = false;
    for (const std::string& owner : set) {
      if (UrlCovers(owner, path)) {
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

bool RuleCovers(const PolicyRule& owner, const PolicyRule& sub) {
  bool verbs = Has(owner.verbs(), kVerbAll) || HasAll(owner.verbs(), sub.verbs());
  bool groups = Has(owner.apigroups(), kAPIGroupAll) || HasAll(owner.apigroups(), sub.apigroups());
  bool resources = ResourcesCoverAll(owner.resources(), sub.resources());
  bool urls = UrlsCoverAll(owner.nonresourceurls(), sub.nonresourceurls());
  bool names = sub.resourcenames().empty()
                   ? owner.resourcenames().empty()
                   : owner.resourcenames().empty() || HasAll(owner.resourcenames(), sub.resourcenames());
  return verbs && groups && resources && names && urls;
}

void AppendList(std::string* out, std::string_view label, const Strings& list) {
  if (list.empty()) return;
  if (out->size() > 1) *out += ", ";
  *out += label;
  *out += ":[";
  for (int i = 0; i < list.size(); ++i) {
    if (i > 0) *out += ' ';
    *out += GoQuote(list[i]);
  }
  *out += ']';
}

template <typename V>
void Fill(Strings* out, V&& values) {
  for (auto& v : values) out->Add(std::string(v));
}

}  // namespace

bool VerbMatches(const PolicyRule& rule, std::string_view verb) {
  for (const std::string& v : rule.verbs()) {
    if (v == kVerbAll || v == verb) return true;
  }
  return false;
}

bool APIGroupMatches(const PolicyRule& rule, std::string_view group) {
  for (const std::string& g : rule.apigroups()) {
    if (g == kAPIGroupAll || g == group) return true;
  }
  return false;
}

bool ResourceMatches(const PolicyRule& rule, std::string_view combined, std::string_view subresource) {
  for (const std::string& r : rule.resources()) {
    if (r == kResourceAll || r == combined) return true;
    if (subresource.empty()) continue;
    // "*/scale" matches the scale subresource of every resource.
    if (r.size() == subresource.size() + 2 && r[0] == '*' && r[1] == '/' &&
        std::string_view(r).substr(2) == subresource) {
      return true;
    }
  }
  return false;
}

bool ResourceNameMatches(const PolicyRule& rule, std::string_view name) {
  if (rule.resourcenames().empty()) return true;
  for (const std::string& n : rule.resourcenames()) {
    if (n == name) return true;
  }
  return false;
}

bool NonResourceURLMatches(const PolicyRule& rule, std::string_view path) {
  for (const std::string& u : rule.nonresourceurls()) {
    if (u == kNonResourceAll || UrlCovers(u, path)) return true;
  }
  return false;
}

bool RuleAllows(const Attributes& a, const PolicyRule& rule) {
  if (!VerbMatches(rule, a.verb)) return false;
  if (!a.resource_request) return NonResourceURLMatches(rule, a.path);
  if (!APIGroupMatches(rule, a.api_group)) return false;
  if (a.subresource.empty()) {
    if (!ResourceMatches(rule, a.resource, "")) return false;
  } else {
    std::string combined = a.resource + "/" + a.subresource;
    if (!ResourceMatches(rule, combined, a.subresource)) return false;
  }
  return ResourceNameMatches(rule, a.name);
}

std::vector<PolicyRule> BreakdownRule(const PolicyRule& rule) {
  std::vector<PolicyRule> out;
  for (const std::string& group : rule.apigroups()) {
    for (const std::string& resource : rule.resources()) {
      for (const std::string& verb : rule.verbs()) {
        auto one = [&](const std::string* name) {
          PolicyRule r;
          r.add_apigroups(group);
          r.add_resources(resource);
          r.add_verbs(verb);
          if (name != nullptr) r.add_resourcenames(*name);
          out.push_back(std::move(r));
        };
        if (rule.resourcenames().empty()) {
          one(nullptr);
        } else {
          for (const std::string& name : rule.resourcenames()) one(&name);
        }
      }
    }
  }
  for (const std::string& url : rule.nonresourceurls()) {
    for (const std::string& verb : rule.verbs()) {
      PolicyRule r;
      r.add_nonresourceurls(url);
      r.add_verbs(verb);
      out.push_back(std::move(r));
    }
  }
  return out;
}

bool Covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& servant,
            std::vector<PolicyRule>* uncovered) {
  bool all = true;
  for (const PolicyRule& rule : servant) {
    for (PolicyRule& sub : BreakdownRule(rule)) {
      bool covered = std::any_of(owner.begin(), owner.end(), [&](const PolicyRule& o) { return RuleCovers(o, sub); });
      if (covered) continue;
      all = false;
      if (uncovered == nullptr) return false;
      uncovered->push_back(std::move(sub));
    }
  }
  return all;
}

std::vector<PolicyRule> CompactRules(const std::vector<PolicyRule>& rules) {
  std::vector<PolicyRule> out;
  // (group, resource, has name, name) -> accumulated rule; upstream keeps these in a map.
  std::map<std::tuple<std::string, std::string, bool, std::string>, PolicyRule> simple;
  for (const PolicyRule& r : rules) {
    bool is_simple = r.resourcenames_size() <= 1 && r.nonresourceurls().empty() && r.apigroups_size() == 1 &&
                     r.resources_size() == 1;
    if (!is_simple) {
      out.push_back(r);
      continue;
    }
    bool has_name = r.resourcenames_size() == 1;
    auto key = std::make_tuple(r.apigroups(0), r.resources(0), has_name, has_name ? r.resourcenames(0) : "");
    auto it = simple.find(key);
    if (it == simple.end()) {
      simple.emplace(std::move(key), r);
    } else {
      for (const std::string& v : r.verbs()) it->second.add_verbs(v);
    }
  }
  for (auto& [key, rule] : simple) out.push_back(std::move(rule));
  return out;
}

std::string CompactString(const PolicyRule& rule) {
  std::string out = "{";
  AppendList(&out, "APIGroups", rule.apigroups());
  AppendList(&out, "Resources", rule.resources());
  AppendList(&out, "NonResourceURLs", rule.nonresourceurls());
  AppendList(&out, "ResourceNames", rule.resourcenames());
  AppendList(&out, "Verbs", rule.verbs());
  out += '}';
  return out;
}

std::string GoQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

std::string GoQuoteList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ' ';
    out += GoQuote(v[i]);
  }
  out += ']';
  return out;
}

PolicyRule MakeRule(std::vector<std::string> verbs, std::vector<std::string> groups,
                    std::vector<std::string> resources, std::vector<std::string> names) {
  PolicyRule r;
  Fill(r.mutable_verbs(), verbs);
  Fill(r.mutable_apigroups(), groups);
  Fill(r.mutable_resources(), resources);
  Fill(r.mutable_resourcenames(), names);
  return r;
}

PolicyRule MakeUrlRule(std::vector<std::string> verbs, std::vector<std::string> urls) {
  PolicyRule r;
  Fill(r.mutable_verbs(), verbs);
  Fill(r.mutable_nonresourceurls(), urls);
  return r;
}

}  // namespace ck::apiserver::rbac
