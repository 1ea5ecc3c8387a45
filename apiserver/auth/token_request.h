// TokenRequest (POST serviceaccounts/<name>/token, `kubectl create token`): upstream's TokenREST
// rules turned into one function the apiserver calls after it has loaded the ServiceAccount.
//   - spec.expirationSeconds defaults to 3600 and must be at least 600 (10 minutes) and at most
//     2^32; --service-account-max-token-expiration shortens longer requests with a warning;
//   - spec.audiences default to the API audiences;
//   - spec.boundObjectRef may name a Pod, Secret or Node (core group) only; the caller resolves it
//     (get, NotFound as usual), a uid in the reference must match, and a pod must run as this
//     ServiceAccount.
// Threading: stateless; safe from any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/auth/serviceaccount_token.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/status.h"

namespace ck::apiserver {

inline constexpr int64_t kDefaultTokenExpirationSeconds = 3600;
inline constexpr int64_t kMinTokenExpirationSeconds = 600;

// The ServiceAccount a token is requested for.
struct ServiceAccountIdentity {
  std::string namespace_;
  std::string name;
  std::string uid;
};

// What the caller found for spec.boundObjectRef.
struct BoundObjectInfo {
  std::string uid;
  std::string service_account_name;  // pods: spec.serviceAccountName
  std::string node_name;             // pods: spec.nodeName ("" when not scheduled)
  std::string node_uid;              // pods: that node's uid ("" when the node is not found)
};
// Looks up the bound object of `kind` ("Pod", "Secret", "Node") and `name` (in the
// ServiceAccount's namespace for pods and secrets). Its error (NotFound ...) is returned as is.
using BoundObjectResolver = std::function<Result<BoundObjectInfo>(std::string_view kind, std::string_view name)>;

struct IssuedToken {
  std::string token;                   // status.token
  WallTime expiration_timestamp;       // status.expirationTimestamp = now + expiration_seconds
  int64_t expiration_seconds = 0;      // after defaulting and the max-expiration cap
  std::vector<std::string> audiences;  // after defaulting
  std::string jti;                     // credential id "JTI=<jti>" for the audit annotation
  std::vector<std::string> warnings;   // Warning headers ("requested expiration of ... shortened ...")
};

// Issues the token. Invalid (`TokenRequest.authentication.k8s.io "" is invalid:
// spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes`),
// BadRequest (`cannot bind token to object of type apps/v1, Kind=Deployment`, pod of another
// ServiceAccount), Conflict (bound uid mismatch), the resolver's error, or Internal.
// `max_expiration` zero means no cap; `resolve` may be null when spec has no boundObjectRef.
Result<IssuedToken> IssueTokenRequest(const TokenIssuer& issuer, const ServiceAccountIdentity& sa,
                                      const k8s::io::api::authentication::v1::TokenRequestSpec& spec,
                                      const BoundObjectResolver& resolve, WallTime now,
                                      const std::vector<std::string>& default_audiences, Duration max_expiration,
                                      Random& random);

// A random RFC 4122 version 4 UUID (the token's jti).
std::string NewUuid(Random& random);

}  // namespace ck::apiserver
