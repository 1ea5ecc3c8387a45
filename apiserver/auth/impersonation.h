// Impersonation (`kubectl --as`, `--as-group`, `--as-uid`): upstream's WithImpersonation filter.
// Each Impersonate-* header is checked with the requester's authorizer, verb "impersonate":
//   Impersonate-User: x                   -> users "x" (core group), or for
//                                            system:serviceaccount:<ns>:<n> serviceaccounts "<n>"
//                                            in namespace <ns>
//   Impersonate-Group: g (repeatable)     -> groups "g" (core group)
//   Impersonate-Uid: u                    -> uids "u" (authentication.k8s.io)
//   Impersonate-Extra-<key>: v (repeat.)  -> userextras/<key> "v" (authentication.k8s.io); the key
//                                            is lower-cased and percent-decoded
// The first denial is 403 with upstream's message. The impersonated user gets the groups asked
// for (a ServiceAccount without Impersonate-Group gets its two fixed groups) plus
// system:authenticated (system:unauthenticated for system:anonymous) unless one of them was
// asked for.
// Threading: stateless; safe from any thread.
#pragma once

#include "apiserver/auth/auth.h"
#include "common/base/status.h"
#include "common/net/http.h"

namespace ck::apiserver {

// True when `headers` carry any Impersonate-* header.
bool HasImpersonationHeaders(const net::Headers& headers);

// The user the request acts as. Without Impersonate-* headers: `requester` itself (unchanged).
// Forbidden (`users "x" is forbidden: User "y" cannot impersonate resource "users" in API group
// "" at the cluster scope[: reason]`) when a check fails; Internal, as upstream, for groups,
// extras or a uid without Impersonate-User.
Result<UserInfo> Impersonate(const UserInfo& requester, const net::Headers& headers, const Authorizer& authz);

}  // namespace ck::apiserver
