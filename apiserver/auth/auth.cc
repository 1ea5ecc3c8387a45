#include "apiserver/auth/auth.h"

#include <fstream>
#include <sstream>

#include "common/base/log.h"
#include "common/base/strings.h"

namespace ck::apiserver {
namespace {

// Splits one CSV line; double quotes enclose a field that may hold commas ("" is a quote).
Result<std::vector<std::string>> SplitCsv(std::string_view line) {
  std::vector<std::string> fields;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"' && cur.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      fields.push_back(std::move(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  if (quoted) return Status(Code::kBadRequest, "unterminated quoted field");
  fields.push_back(std::move(cur));
  return fields;
}

UserInfo Anonymous() {
  UserInfo u;
  u.name = std::string(kAnonymousUser);
  u.groups = {std::string(kUnauthenticatedGroup)};
  return u;
}

void AddAuthenticated(UserInfo* u) {
  for (const std::string& g : u->groups) {
    if (g == kAuthenticatedGroup) return;
  }
  u->groups.emplace_back(kAuthenticatedGroup);
}

class ModeAuthorizer : public Authorizer {
 public:
  explicit ModeAuthorizer(Decision d) : d_(d) {}
  Decision Authorize(const Attributes&, std::string*) const override { return d_; }

 private:
  Decision d_;
};

class ChainAuthorizer : public Authorizer {
 public:
  explicit ChainAuthorizer(std::vector<std::unique_ptr<Authorizer>> chain) : chain_(std::move(chain)) {}
  Decision Authorize(const Attributes& a, std::string* reason) const override {
    for (const auto& z : chain_) {
      Decision d = z->Authorize(a, reason);
      if (d != Decision::kNoOpinion) return d;
    }
    return Decision::kNoOpinion;
  }

 private:
  std::vector<std::unique_ptr<Authorizer>> chain_;
};

}  // namespace

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const std::string& token_auth_file) {
  if (token_auth_file.empty()) return FromTokenCsv("", "");
  std::ifstream in(token_auth_file);
  if (!in) return Status(Code::kBadRequest, "--token-auth-file: cannot read " + token_auth_file);
  std::stringstream ss;
  ss << in.rdbuf();
  return FromTokenCsv(ss.str(), token_auth_file);
}

Result<std::unique_ptr<Authenticator>> Authenticator::FromTokenCsv(std::string_view csv, std::string_view source) {
  auto a = std::unique_ptr<Authenticator>(new Authenticator());
  int line_no = 0;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t eol = csv.find('\n', pos);
    std::string_view line = TrimSpace(csv.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos));
    pos = eol == std::string_view::npos ? csv.size() : eol + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;
    auto where = [&] { return std::string(source) + ":" + std::to_string(line_no); };
    Result<std::vector<std::string>> f = SplitCsv(line);
    if (!f.ok()) return Status(Code::kBadRequest, "token file " + where() + ": " + f.status().message());
    // upstream: token, user name, uid, then optional groups.
    if (f->size() < 3) {
      return Status(Code::kBadRequest, "token file " + where() + ": expected at least 3 columns (token,user,uid), got " +
                                           std::to_string(f->size()));
    }
    std::string token(TrimSpace((*f)[0]));
    if (token.empty()) return Status(Code::kBadRequest, "token file " + where() + ": empty token");
    UserInfo u;
    u.name = std::string(TrimSpace((*f)[1]));
    u.uid = std::string(TrimSpace((*f)[2]));
    if (u.name.empty()) return Status(Code::kBadRequest, "token file " + where() + ": empty user name");
    for (size_t i = 3; i < f->size(); ++i) {
      for (std::string_view g : Split((*f)[i], ',')) {
        g = TrimSpace(g);
        if (!g.empty()) u.groups.emplace_back(g);
      }
    }
    if (a->tokens_.count(token)) {
      CK_LOG_WARNING("Duplicate token in the token file; the first one wins", "file", where(), "user", u.name);
      continue;
    }
    a->tokens_.emplace(std::move(token), std::move(u));
  }
  return a;
}

std::optional<UserInfo> Authenticator::LookupToken(std::string_view token) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  UserInfo u = it->second;
  AddAuthenticated(&u);
  return u;
}

Result<UserInfo> Authenticator::Authenticate(const net::Request& request) const {
  std::string_view auth = request.headers.Get("Authorization");
  if (!auth.empty()) {
    // "Bearer <token>", the scheme case-insensitive, as upstream's bearertoken authenticator.
    std::string_view s = TrimSpace(auth);
    if (s.size() > 7 && (s.substr(0, 7) == "Bearer " || s.substr(0, 7) == "bearer ")) {
      std::string_view token = TrimSpace(s.substr(7));
      if (std::optional<UserInfo> u = LookupToken(token)) return *u;
      return Status(Code::kUnauthorized, "Unauthorized");
    }
    // Other schemes (Basic) are not accepted; with a verified certificate the certificate wins.
    if (!request.peer.client_cert_verified) return Status(Code::kUnauthorized, "Unauthorized");
  }
  if (request.peer.client_cert_verified && !request.peer.cert_common_name.empty()) {
    UserInfo u;
    u.name = request.peer.cert_common_name;
    u.groups = request.peer.cert_organizations;
    AddAuthenticated(&u);
    return u;
  }
  return Anonymous();
}

Attributes AttributesOf(const UserInfo& user, const RequestInfo& info) {
  Attributes a;
  a.user = &user;
  a.verb = info.verb;
  a.resource_request = info.is_resource_request;
  a.namespace_ = info.namespace_;
  a.api_group = info.api_group;
  a.api_version = info.api_version;
  a.resource = info.resource;
  a.subresource = info.subresource;
  a.name = info.name;
  a.path = info.path;
  return a;
}

Result<std::unique_ptr<Authorizer>> NewAuthorizer(std::string_view modes) {
  std::vector<std::unique_ptr<Authorizer>> chain;
  for (std::string_view m : Split(modes, ',')) {
    m = TrimSpace(m);
    if (m == "AlwaysAllow") {
      chain.push_back(std::make_unique<ModeAuthorizer>(Decision::kAllow));
    } else if (m == "AlwaysDeny") {
      chain.push_back(std::make_unique<ModeAuthorizer>(Decision::kDeny));
    } else if (m == "RBAC" || m == "Node" || m == "Webhook" || m == "ABAC") {
      return Status(Code::kBadRequest, "--authorization-mode: " + std::string(m) +
                                           " is not available yet (use AlwaysAllow or AlwaysDeny)");
    } else {
      return Status(Code::kBadRequest, "--authorization-mode: unknown authorization mode \"" + std::string(m) +
                                           "\" (allowed: AlwaysAllow, AlwaysDeny)");
    }
  }
  if (chain.empty()) return Status(Code::kBadRequest, "--authorization-mode: at least one mode is required");
  return std::unique_ptr<Authorizer>(new ChainAuthorizer(std::move(chain)));
}

std::string ForbiddenMessage(const Attributes& a, std::string_view reason) {
  std::string user = a.user ? a.user->name : "";
  std::string m;
  if (!a.resource_request) {
    m = "forbidden: User \"" + user + "\" cannot " + a.verb + " path \"" + a.path + "\"";
  } else {
    std::string res = a.resource;
    if (!a.subresource.empty()) res += "/" + a.subresource;
    std::string subject = a.api_group.empty() ? a.resource : a.resource + "." + a.api_group;
    if (!a.name.empty()) {
      m = subject + " \"" + a.name + "\" is forbidden: ";
    } else {
      m = subject + " is forbidden: ";
    }
    m += "User \"" + user + "\" cannot " + a.verb + " resource \"" + res + "\" in API group \"" + a.api_group + "\"";
    m += a.namespace_.empty() ? " at the cluster scope" : " in the namespace \"" + a.namespace_ + "\"";
  }
  if (!reason.empty()) m += ": " + std::string(reason);
  return m;
}

}  // namespace ck::apiserver
