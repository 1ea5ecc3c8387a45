// Authentication and authorization of API requests, upstream's authenticator and authorizer
// chains in their first form:
//
// - Authenticator: a verified client certificate gives user = subject CN and groups = subject O
//   (x509 request authenticator); `Authorization: Bearer <token>` is looked up in the
//   --token-auth-file (CSV "token,user,uid[,\"group1,group2\"]"). Both add the group
//   system:authenticated. A request with neither is anonymous (system:anonymous, group
//   system:unauthenticated); a bearer token that is not in the file is 401 Unauthorized.
// - Authorizer: decides from the user and the request attributes. --authorization-mode names one
//   or more modes tried in order (AlwaysAllow, AlwaysDeny; RBAC and Node join the chain with the
//   security work), the first that allows or denies wins.
// Thread-safe: both are immutable after construction.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/request_info.h"
#include "common/base/status.h"
#include "common/net/http.h"

namespace ck::apiserver {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool anonymous() const { return name == "system:anonymous"; }
};

inline constexpr std::string_view kAnonymousUser = "system:anonymous";
inline constexpr std::string_view kUnauthenticatedGroup = "system:unauthenticated";
inline constexpr std::string_view kAuthenticatedGroup = "system:authenticated";

class Authenticator {
 public:
  // Reads the token file when the path is not empty. Fails with a message naming the file and
  // line for a malformed file.
  static Result<std::unique_ptr<Authenticator>> Create(const std::string& token_auth_file);
  // The file's text (tests).
  static Result<std::unique_ptr<Authenticator>> FromTokenCsv(std::string_view csv, std::string_view source);

  // The request's user. Unauthorized for a bearer token that is not known or a malformed
  // Authorization header; the anonymous user when there are no credentials.
  Result<UserInfo> Authenticate(const net::Request& request) const;
  // The user of a bare token (TokenReview), nullopt when unknown.
  std::optional<UserInfo> LookupToken(std::string_view token) const;

 private:
  std::map<std::string, UserInfo, std::less<>> tokens_;
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
