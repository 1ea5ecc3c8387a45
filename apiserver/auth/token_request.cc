#include "apiserver/auth/token_request.h"

#include <chrono>
#include <cstdio>

namespace ck::apiserver {

std::string NewUuid(Random& random) {
  uint64_t hi = random.Next(), lo = random.Next();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", unsigned(hi >> 32), unsigned((hi >> 16) & 0xffff),
                unsigned(hi & 0xffff), unsigned(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

Result<IssuedToken> IssueTokenRequest(const TokenIssuer& issuer, const ServiceAccountIdentity& sa,
                                      const k8s::io::api::authentication::v1::TokenRequestSpec& spec,
                                      const BoundObjectResolver& resolve, WallTime now,
                                      const std::vector<std::string>& default_audiences, Duration max_expiration,
                                      Random& random) {
  IssuedToken out;
  out.audiences.assign(spec.audiences().begin(), spec.audiences().end());
  if (out.audiences.empty()) out.audiences = default_audiences;
  int64_t exp = spec.has_expirationseconds() ? spec.expirationseconds() : kDefaultTokenExpirationSeconds;

  // upstream ValidateTokenRequest; the object is not named yet, hence "".
  const std::string invalid = "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: " +
                              std::to_string(exp) + ": ";
  if (exp < kMinTokenExpirationSeconds) return Invalid(invalid + "may not specify a duration less than 10 minutes");
  if (exp > (int64_t(1) << 32)) return Invalid(invalid + "may not specify a duration larger than 2^32 seconds");

  ServiceAccountClaims c;
  if (spec.has_boundobjectref()) {
    const auto& ref = spec.boundobjectref();
    // schema.FromAPIVersionAndKind: "v1" is the core group.
    std::string group, version = ref.apiversion();
    if (size_t slash = version.find('/'); slash != std::string::npos) {
      group = version.substr(0, slash);
      version = version.substr(slash + 1);
    }
    const std::string& kind = ref.kind();
    if (!group.empty() || (kind != "Pod" && kind != "Secret" && kind != "Node")) {
      return BadRequest("cannot bind token to object of type " + group + "/" + version + ", Kind=" + kind);
    }
    if (!resolve) return Internal("no resolver for the bound object");
    CK_ASSIGN_OR_RETURN(BoundObjectInfo obj, resolve(kind, ref.name()));
    if (kind == "Pod") {
      if (obj.service_account_name != sa.name) {
        return BadRequest("cannot bind token for serviceaccount \"" + sa.name +
                          "\" to pod running with different serviceaccount name.");
      }
      c.pod = BoundObjectRef{ref.name(), obj.uid};
      if (!obj.node_name.empty()) c.node = BoundObjectRef{obj.node_name, obj.node_uid};
    } else if (kind == "Secret") {
      c.secret = BoundObjectRef{ref.name(), obj.uid};
    } else {
      c.node = BoundObjectRef{ref.name(), obj.uid};
    }
    if (!ref.uid().empty() && ref.uid() != obj.uid) {
      return Conflict("Operation cannot be fulfilled on " + kind + " \"" + ref.name() +
                      "\": the UID in the bound object reference (" + ref.uid() +
                      ") does not match the UID in record. The object might have been deleted and then recreated");
    }
  }

  int64_t max_seconds = std::chrono::duration_cast<std::chrono::seconds>(max_expiration).count();
  if (max_seconds > 0 && exp > max_seconds) {
    out.warnings.push_back("requested expiration of " + std::to_string(exp) + " seconds shortened to " +
                           std::to_string(max_seconds) + " seconds");
    exp = max_seconds;
  }

  int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  c.subject = ServiceAccountUsername(sa.namespace_, sa.name);
  c.audiences = out.audiences;
  c.issued_at = c.not_before = now_s;
  c.expiry = now_s + exp;
  c.jti = NewUuid(random);
  c.namespace_ = sa.namespace_;
  c.service_account_name = sa.name;
  c.service_account_uid = sa.uid;
  CK_ASSIGN_OR_RETURN(out.token, issuer.Issue(c));
  out.expiration_seconds = exp;
  // The status uses the same `now` as the claims, so expirationTimestamp <= exp.
  out.expiration_timestamp = now + std::chrono::seconds(exp);
  out.jti = c.jti;
  return out;
}

}  // namespace ck::apiserver
