// Authentication and authorization of API requests, upstream's authenticator and authorizer
// chains:
//
// - Authenticator (upstream's union of request authenticators, in its order):
//     1. x509: a verified client certificate gives user = subject CN, groups = subject O; a
//        certificate that was presented but did not verify (self-signed, another CA, expired) is
//        an error;
//     2. bearer tokens (`Authorization: Bearer <t>`): the --token-auth-file (CSV
//        "token,user,uid[,\"group1,group2\"]"), then ServiceAccount JWTs (serviceaccount_token.h)
//        whose ServiceAccount (and bound pod / secret / node) must still exist;
//     3. anonymous (system:anonymous, group system:unauthenticated) when nothing above matched and
//        nothing failed.
//   The first authenticator that succeeds wins even if an earlier one failed (a bad certificate
//   with a good token is the token's user); when none succeeds, any failure is 401 (a bad token
//   is never anonymous). Authenticated users get the group system:authenticated.
// - Authorizer: decides from the user and the request attributes. --authorization-mode names one
//   or more modes tried in order (AlwaysAllow, AlwaysDeny; RBAC and Node join the chain with the
//   security work), the first that allows or denies wins.
// Thread-safe: both are immutable after construction (SetServiceAccountLookup happens before
// serving).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/auth/serviceaccount_token.h"
#include "apiserver/request_info.h"
#include "common/base/clock.h"
#include "common/base/status.h"
#include "common/net/http.h"

namespace ck::apiserver {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  // Which authenticator accepted the request: "x509", "token-file", "serviceaccount",
  // "anonymous" ("" for users made up elsewhere, e.g. impersonated ones). For logs only.
  std::string authenticated_by;
  bool anonymous() const { return name == "system:anonymous"; }
};

inline constexpr std::string_view kAnonymousUser = "system:anonymous";
inline constexpr std::string_view kUnauthenticatedGroup = "system:unauthenticated";
inline constexpr std::string_view kAuthenticatedGroup = "system:authenticated";
inline constexpr std::string_view kServiceAccountsGroup = "system:serviceaccounts";
// UserInfo.extra keys of ServiceAccount users (upstream serviceaccount package).
inline constexpr std::string_view kExtraPodName = "authentication.kubernetes.io/pod-name";
inline constexpr std::string_view kExtraPodUid = "authentication.kubernetes.io/pod-uid";
inline constexpr std::string_view kExtraNodeName = "authentication.kubernetes.io/node-name";
inline constexpr std::string_view kExtraNodeUid = "authentication.kubernetes.io/node-uid";
inline constexpr std::string_view kExtraCredentialId = "authentication.kubernetes.io/credential-id";

// The user a verified ServiceAccount token stands for: system:serviceaccount:<ns>:<name>, the
// ServiceAccount's uid, groups system:serviceaccounts and system:serviceaccounts:<ns>, extra
// pod-name/pod-uid (both set), node-name/node-uid, credential-id "JTI=<jti>".
// (system:authenticated is added by the Authenticator.)
UserInfo ServiceAccountUser(const ServiceAccountClaims& claims);

// Whether a ServiceAccount token's account and bound objects still exist (ValidateBoundObjects
// with the apiserver's store). A non-OK Status rejects the token with 401; its message is the
// reason for logs and TokenReview.
using ServiceAccountLookup = std::function<Status(const ServiceAccountClaims&)>;

struct AuthenticatorOptions {
  std::string token_auth_file;                          // --token-auth-file
  std::string token_auth_csv;                           // or the file's text (tests)
  std::vector<std::string> service_account_key_files;   // --service-account-key-file (repeated)
  std::vector<std::string> service_account_key_pems;    // or their text (tests)
  std::vector<std::string> service_account_issuers;     // --service-account-issuer (repeated)
  std::vector<std::string> api_audiences;               // --api-audiences; default: the first issuer
  bool anonymous = true;                                // --anonymous-auth
  ServiceAccountLookup service_account_lookup;          // may be set later, before serving
  const Clock* clock = nullptr;                         // for token times; default the real clock
};

class Authenticator {
 public:
  // Reads the token file and the ServiceAccount keys. BadRequest / Invalid naming the flag (and
  // file and line for a malformed token file); service account keys need at least one issuer and
  // issuers need keys.
  static Result<std::unique_ptr<Authenticator>> Create(AuthenticatorOptions options);
  // Only a token file (the first form; anonymous enabled, no ServiceAccount tokens).
  static Result<std::unique_ptr<Authenticator>> Create(const std::string& token_auth_file);
  // The token file's text (tests).
  static Result<std::unique_ptr<Authenticator>> FromTokenCsv(std::string_view csv, std::string_view source);

  // Sets the ServiceAccount existence check. Call before the first Authenticate; without one,
  // ServiceAccount tokens are accepted on their signature and times alone.
  void SetServiceAccountLookup(ServiceAccountLookup lookup) { sa_lookup_ = std::move(lookup); }

  // The request's user, per the chain above. Unauthorized (message "Unauthorized", as upstream
  // answers) when an authenticator failed and none succeeded, or when nothing matched and anonymous
  // requests are disabled; `error`, when given, receives why (for the log).
  Result<UserInfo> Authenticate(const net::Request& request, std::string* error = nullptr) const;

  // TokenReview: the user of a bare bearer token checked for `audiences` (the API audiences when
  // empty). `matched_audiences` receives the audiences the token is valid for. Unauthorized with
  // the reason as message ("invalid bearer token", "service account token has expired", ...).
  Result<UserInfo> AuthenticateToken(std::string_view token, const std::vector<std::string>& audiences,
                                     std::vector<std::string>* matched_audiences) const;
  // AuthenticateToken for the API audiences, nullopt when not valid (the first form's API).
  std::optional<UserInfo> LookupToken(std::string_view token) const;

  const std::vector<std::string>& api_audiences() const { return api_audiences_; }

 private:
  Authenticator() = default;
  // The token chain: token file, then ServiceAccount JWTs. nullopt with `error` empty when no
  // token authenticator recognized the token.
  std::optional<UserInfo> TokenChain(std::string_view token, const std::vector<std::string>& audiences,
                                     std::vector<std::string>* matched, std::string* error) const;

  std::map<std::string, UserInfo, std::less<>> tokens_;
  std::unique_ptr<TokenVerifier> sa_verifier_;
  ServiceAccountLookup sa_lookup_;
  std::vector<std::string> api_audiences_;
  bool anonymous_ = true;
  const Clock* clock_ = nullptr;
};

// What an authorizer decides on (upstream authorizer.Attributes).
struct Attributes {
  const UserInfo* user = nullptr;
  std::string verb;  // get list watch create update patch delete deletecollection; non-resource: get post ...
  bool resource_request = false;
  std::string namespace_, api_group, api_version, resource, subresource, name;
  std::string path;  // non-resource requests
};
Attributes AttributesOf(const UserInfo& user, const RequestInfo& info);

enum class Decision { kAllow, kDeny, kNoOpinion };

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // `reason` may be filled either way (it is shown in 403 messages and access reviews).
  virtual Decision Authorize(const Attributes& a, std::string* reason) const = 0;
};

// The chain named by --authorization-mode ("AlwaysAllow", "AlwaysDeny", comma separated).
// BadRequest naming the mode for one that does not exist or is not available yet.
Result<std::unique_ptr<Authorizer>> NewAuthorizer(std::string_view modes);

// upstream's 403 message: `pods "x" is forbidden: User "u" cannot get resource "pods" in API group
// "" in the namespace "ns"` (or `at the cluster scope`; `cannot get path "/x"` for non-resource
// requests), with ": <reason>" appended when the authorizer gave one.
std::string ForbiddenMessage(const Attributes& a, std::string_view reason);

}  // namespace ck::apiserver
