#include "apiserver/auth/auth.h"

#include <algorithm>
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
  u.authenticated_by = "anonymous";
  return u;
}

// upstream AuthenticatedGroupAdder: not for system:anonymous, nor when the user already has
// system:authenticated or system:unauthenticated.
void AddAuthenticated(UserInfo* u) {
  if (u->name == kAnonymousUser) return;
  for (const std::string& g : u->groups) {
    if (g == kAuthenticatedGroup || g == kUnauthenticatedGroup) return;
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

UserInfo ServiceAccountUser(const ServiceAccountClaims& c) {
  UserInfo u;
  u.name = ServiceAccountUsername(c.namespace_, c.service_account_name);
  u.uid = c.service_account_uid;
  u.groups = {std::string(kServiceAccountsGroup), std::string(kServiceAccountsGroup) + ":" + c.namespace_};
  if (c.pod && !c.pod->name.empty() && !c.pod->uid.empty()) {
    u.extra[std::string(kExtraPodName)] = {c.pod->name};
    u.extra[std::string(kExtraPodUid)] = {c.pod->uid};
  }
  if (c.node && !c.node->name.empty()) {
    u.extra[std::string(kExtraNodeName)] = {c.node->name};
    if (!c.node->uid.empty()) u.extra[std::string(kExtraNodeUid)] = {c.node->uid};
  }
  if (!c.jti.empty()) u.extra[std::string(kExtraCredentialId)] = {"JTI=" + c.jti};
  u.authenticated_by = "serviceaccount";
  return u;
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(AuthenticatorOptions o) {
  std::unique_ptr<Authenticator> a;
  if (!o.token_auth_file.empty()) {
    std::ifstream in(o.token_auth_file);
    if (!in) return Status(Code::kBadRequest, "--token-auth-file: cannot read " + o.token_auth_file);
    std::stringstream ss;
    ss << in.rdbuf();
    CK_ASSIGN_OR_RETURN(a, FromTokenCsv(ss.str(), o.token_auth_file));
  } else {
    CK_ASSIGN_OR_RETURN(a, FromTokenCsv(o.token_auth_csv, "token-auth-csv"));
  }
  // upstream: --api-audiences defaults to the service account issuer.
  if (o.api_audiences.empty() && !o.service_account_issuers.empty()) {
    o.api_audiences = {o.service_account_issuers.front()};
  }
  bool has_keys = !o.service_account_key_files.empty() || !o.service_account_key_pems.empty();
  if (has_keys && o.service_account_issuers.empty()) {
    return Invalid("--service-account-issuer: required when --service-account-key-file is set");
  }
  if (!has_keys && !o.service_account_issuers.empty()) {
    return Invalid("--service-account-key-file: required when --service-account-issuer is set");
  }
  if (!o.service_account_key_files.empty()) {
    CK_ASSIGN_OR_RETURN(a->sa_verifier_, TokenVerifier::FromFiles(o.service_account_key_files,
                                                                  o.service_account_issuers, o.api_audiences));
  } else if (!o.service_account_key_pems.empty()) {
    CK_ASSIGN_OR_RETURN(a->sa_verifier_, TokenVerifier::Create(o.service_account_key_pems, o.service_account_issuers,
                                                               o.api_audiences));
  }
  a->api_audiences_ = std::move(o.api_audiences);
  a->anonymous_ = o.anonymous;
  a->sa_lookup_ = std::move(o.service_account_lookup);
  a->clock_ = o.clock;
  return a;
}

Result<std::unique_ptr<Authenticator>> Authenticator::Create(const std::string& token_auth_file) {
  AuthenticatorOptions o;
  o.token_auth_file = token_auth_file;
  return Create(std::move(o));
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
    u.authenticated_by = "token-file";
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

std::optional<UserInfo> Authenticator::TokenChain(std::string_view token, const std::vector<std::string>& audiences,
                                                  std::vector<std::string>* matched, std::string* error) const {
  const std::vector<std::string>& requested = audiences.empty() ? api_audiences_ : audiences;
  // Token-file tokens carry no audience: upstream accepts them only for requests aimed at the
  // API audiences (WrapAudienceAgnosticToken).
  std::vector<std::string> api_common;
  for (const std::string& a : api_audiences_) {
    if (std::find(requested.begin(), requested.end(), a) != requested.end()) api_common.push_back(a);
  }
  if (api_audiences_.empty() || !api_common.empty()) {
    if (auto it = tokens_.find(token); it != tokens_.end()) {
      if (matched) *matched = api_common;
      return it->second;
    }
  }
  if (sa_verifier_ && sa_verifier_->HasAcceptedIssuer(token)) {
    WallTime now = clock_ ? clock_->Now() : RealClock::Get().Now();
    Result<ServiceAccountClaims> claims = sa_verifier_->Verify(token, now, requested, matched);
    if (!claims.ok()) {
      *error = claims.status().message();
      return std::nullopt;
    }
    if (sa_lookup_) {
      if (Status s = sa_lookup_(*claims); !s.ok()) {
        *error = s.message();
        return std::nullopt;
      }
    }
    return ServiceAccountUser(*claims);
  }
  return std::nullopt;
}

Result<UserInfo> Authenticator::AuthenticateToken(std::string_view token, const std::vector<std::string>& audiences,
                                                  std::vector<std::string>* matched_audiences) const {
  std::string error;
  std::vector<std::string> matched;
  std::optional<UserInfo> u = TokenChain(token, audiences, &matched, &error);
  if (!u) return Unauthorized(error.empty() ? "invalid bearer token" : error);
  AddAuthenticated(&*u);
  if (matched_audiences) *matched_audiences = std::move(matched);
  return std::move(*u);
}

std::optional<UserInfo> Authenticator::LookupToken(std::string_view token) const {
  Result<UserInfo> u = AuthenticateToken(token, {}, nullptr);
  if (!u.ok()) return std::nullopt;
  return std::move(*u);
}

Result<UserInfo> Authenticator::Authenticate(const net::Request& request, std::string* error) const {
  std::vector<std::string> errors;
  auto fail = [&]() -> Result<UserInfo> {
    if (error) *error = errors.empty() ? "no credentials and anonymous requests are disabled" : Join(errors, ", ");
    return Unauthorized("Unauthorized");
  };

  // 1. x509 client certificate.
  const net::PeerIdentity& peer = request.peer;
  if (peer.client_cert_verified) {
    // upstream CommonNameUserConversion: no CN, no user (the next authenticator may match).
    if (!peer.cert_common_name.empty()) {
      UserInfo u;
      u.name = peer.cert_common_name;
      u.groups = peer.cert_organizations;
      u.authenticated_by = "x509";
      AddAuthenticated(&u);
      return u;
    }
  } else if (peer.client_cert_presented) {
    errors.push_back("verifying client certificate failed: " +
                     (peer.client_cert_error.empty() ? std::string("not verified") : peer.client_cert_error));
  }

  // 2. Bearer token: "Bearer <token>", the scheme case-insensitive (upstream bearertoken). Other
  // schemes are not ours and fall through.
  std::string_view auth = TrimSpace(request.headers.Get("Authorization"));
  if (!auth.empty()) {
    size_t sp = auth.find(' ');
    if (sp != std::string_view::npos && EqualsIgnoreCase(auth.substr(0, sp), "bearer")) {
      std::string_view token = auth.substr(sp + 1);
      token = token.substr(0, token.find(' '));
      if (!token.empty()) {
        std::string why;
        std::optional<UserInfo> u = TokenChain(token, {}, nullptr, &why);
        if (u) {
          AddAuthenticated(&*u);
          return std::move(*u);
        }
        errors.push_back(why.empty() ? "invalid bearer token" : why);
      }
    }
  }

  // 3. Anonymous, unless something failed (a bad credential is never anonymous).
  if (!errors.empty() || !anonymous_) return fail();
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
