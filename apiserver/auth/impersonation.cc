#include "apiserver/auth/impersonation.h"

#include <map>

#include "apiserver/auth/serviceaccount_token.h"
#include "common/base/strings.h"

namespace ck::apiserver {
namespace {

constexpr std::string_view kUserHeader = "Impersonate-User";
constexpr std::string_view kGroupHeader = "Impersonate-Group";
constexpr std::string_view kUidHeader = "Impersonate-Uid";
constexpr std::string_view kExtraPrefix = "impersonate-extra-";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// url.PathUnescape; the key as given when it is not valid escaping (upstream unescapeExtraKey).
std::string UnescapeExtraKey(const std::string& key) {
  std::string out;
  for (size_t i = 0; i < key.size(); ++i) {
    if (key[i] != '%') {
      out += key[i];
      continue;
    }
    if (i + 2 >= key.size()) return key;
    int hi = HexValue(key[i + 1]), lo = HexValue(key[i + 2]);
    if (hi < 0 || lo < 0) return key;
    out += char(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool Has(const std::vector<std::string>& v, std::string_view s) {
  for (const std::string& x : v) {
    if (x == s) return true;
  }
  return false;
}

}  // namespace

bool HasImpersonationHeaders(const net::Headers& headers) {
  for (const auto& [name, value] : headers.entries()) {
    if (name.size() >= 12 && EqualsIgnoreCase(std::string_view(name).substr(0, 12), "Impersonate-")) return true;
  }
  return false;
}

Result<UserInfo> Impersonate(const UserInfo& requester, const net::Headers& headers, const Authorizer& authz) {
  // upstream buildImpersonationRequests: user (or service account), groups, extras, uid.
  struct Check {
    std::string api_group, resource, subresource, namespace_, name;
  };
  std::vector<Check> checks;
  std::string user(headers.Get(kUserHeader));
  std::string sa_ns, sa_name;
  bool is_sa = !user.empty() && SplitServiceAccountUsername(user, &sa_ns, &sa_name);
  if (!user.empty()) {
    if (is_sa) {
      checks.push_back({"", "serviceaccounts", "", sa_ns, sa_name});
    } else {
      checks.push_back({"", "users", "", "", user});
    }
  }
  std::vector<std::string> asked_groups;
  for (std::string_view g : headers.GetAll(kGroupHeader)) {
    asked_groups.emplace_back(g);
    checks.push_back({"", "groups", "", "", std::string(g)});
  }
  // Extras in header order (upstream iterates a Go map, so its order is unspecified).
  std::map<std::string, std::vector<std::string>> extra;
  bool has_extra = false;
  for (const auto& [name, value] : headers.entries()) {
    if (name.size() <= kExtraPrefix.size() ||
        !EqualsIgnoreCase(std::string_view(name).substr(0, kExtraPrefix.size()), kExtraPrefix)) {
      continue;
    }
    has_extra = true;
    std::string key = UnescapeExtraKey(ToLower(std::string_view(name).substr(kExtraPrefix.size())));
    extra[key].push_back(value);
    checks.push_back({"authentication.k8s.io", "userextras", key, "", value});
  }
  std::string uid(headers.Get(kUidHeader));
  if (!uid.empty()) checks.push_back({"authentication.k8s.io", "uids", "", "", uid});

  if (checks.empty()) return requester;
  if (user.empty()) {
    return Internal("requested impersonation of groups, extra or uid without impersonating a user (" +
                    std::string(!asked_groups.empty() ? "Impersonate-Group" : has_extra ? "Impersonate-Extra-*" : "Impersonate-Uid") +
                    " needs Impersonate-User)");
  }

  for (const Check& c : checks) {
    Attributes a;
    a.user = &requester;
    a.verb = "impersonate";
    a.resource_request = true;
    a.api_group = c.api_group;
    a.api_version = "v1";
    a.resource = c.resource;
    a.subresource = c.subresource;
    a.namespace_ = c.namespace_;
    a.name = c.name;
    std::string reason;
    if (authz.Authorize(a, &reason) != Decision::kAllow) return Forbidden(ForbiddenMessage(a, reason));
  }

  UserInfo out;
  out.name = user;
  out.uid = uid;
  out.extra = std::move(extra);
  if (is_sa && asked_groups.empty()) {
    // A ServiceAccount's groups are a fixed mapping.
    out.groups = {std::string(kServiceAccountsGroup), std::string(kServiceAccountsGroup) + ":" + sa_ns};
  } else {
    out.groups = asked_groups;
  }
  if (out.name != kAnonymousUser) {
    if (!Has(out.groups, kAuthenticatedGroup) && !Has(out.groups, kUnauthenticatedGroup)) {
      out.groups.emplace_back(kAuthenticatedGroup);
    }
  } else if (!Has(out.groups, kUnauthenticatedGroup)) {
    out.groups.emplace_back(kUnauthenticatedGroup);
  }
  return out;
}

}  // namespace ck::apiserver
