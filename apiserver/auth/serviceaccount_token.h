// ServiceAccount tokens: JWTs (RFC 7519, JWS compact form) signed with the key of
// --service-account-signing-key-file and verified with the keys of --service-account-key-file,
// in upstream's bound-token format:
//   header  {"alg":"RS256"|"ES256","kid":<base64url(SHA-256(DER SubjectPublicKeyInfo))>}
//   payload {"aud":[...],"exp":..,"iat":..,"iss":..,"jti":..,"nbf":..,"sub":"system:serviceaccount:<ns>:<name>",
//            "kubernetes.io":{"namespace":..,"serviceaccount":{"name","uid"},"pod"|"secret"|"node":{"name","uid"}}}
// RSA keys sign RS256, EC keys ES256 (P-256), ES384 (P-384) or ES512 (P-521), with the JOSE r||s
// signature form. Verification checks, in upstream's order: the issuer, the signature (alg must
// match the key; "none" never does), the audiences, then exp / nbf / iat with upstream's 60 s
// leeway. Whether the ServiceAccount and bound objects still exist is the caller's check
// (ValidateBoundObjects).
// Threading: TokenIssuer and TokenVerifier are immutable after Create and safe to share.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/clock.h"
#include "common/base/status.h"

namespace ck::apiserver {

// go-jose's jwt.DefaultLeeway, which upstream uses for exp, nbf and iat.
inline constexpr std::chrono::seconds kServiceAccountTokenLeeway{60};

struct BoundObjectRef {
  std::string name;
  std::string uid;
};

struct ServiceAccountClaims {
  std::string issuer;                   // iss
  std::string subject;                  // sub: system:serviceaccount:<ns>:<name>
  std::vector<std::string> audiences;   // aud
  int64_t issued_at = 0;                // iat, unix seconds (0 = absent)
  int64_t not_before = 0;               // nbf
  int64_t expiry = 0;                   // exp (required when verifying)
  std::string jti;                      // jti (upstream's credential id is "JTI=<jti>")
  std::string namespace_;               // kubernetes.io.namespace
  std::string service_account_name;     // kubernetes.io.serviceaccount.name
  std::string service_account_uid;      // kubernetes.io.serviceaccount.uid
  std::optional<BoundObjectRef> pod, secret, node;
};

// "system:serviceaccount:<ns>:<name>".
std::string ServiceAccountUsername(std::string_view ns, std::string_view name);
// Splits a ServiceAccount user name; false when `user` is not one (upstream SplitUsername: both
// parts non-empty, no further ':').
bool SplitServiceAccountUsername(std::string_view user, std::string* ns, std::string* name);

class TokenIssuer {
 public:
  // `private_key_pem`: PKCS#8, "RSA PRIVATE KEY" or "EC PRIVATE KEY" PEM (the first key in it).
  // Invalid when it holds no usable key (or an EC curve other than P-256/384/521).
  static Result<std::unique_ptr<TokenIssuer>> Create(std::string_view private_key_pem, std::string issuer);
  ~TokenIssuer();

  // A signed token for `claims`; iss is always this issuer's (claims.issuer is ignored).
  // Internal on an OpenSSL failure.
  Result<std::string> Issue(const ServiceAccountClaims& claims) const;

  const std::string& issuer() const { return issuer_; }
  const std::string& key_id() const { return key_id_; }
  const std::string& algorithm() const { return alg_; }

 private:
  TokenIssuer() = default;
  struct Key;
  std::unique_ptr<Key> key_;
  std::string issuer_, key_id_, alg_;
};

class TokenVerifier {
 public:
  // `key_pems`: each a PEM text with one or more keys: PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE, or
  // a private key (its public part is used). `issuers`: accepted iss values (at least one).
  // `api_audiences`: upstream's implicit audiences, used when Verify is given none and for tokens
  // without aud. Invalid naming the problem when a text holds no RSA or ECDSA key.
  static Result<std::unique_ptr<TokenVerifier>> Create(const std::vector<std::string>& key_pems,
                                                       std::vector<std::string> issuers,
                                                       std::vector<std::string> api_audiences);
  // Create from files (--service-account-key-file); the error names the file.
  static Result<std::unique_ptr<TokenVerifier>> FromFiles(const std::vector<std::string>& paths,
                                                          std::vector<std::string> issuers,
                                                          std::vector<std::string> api_audiences);
  ~TokenVerifier();

  // True when `token` looks like a JWT whose iss is one of ours (upstream checks this before
  // anything else, and a token that fails it is left to the other authenticators).
  bool HasAcceptedIssuer(std::string_view token) const;

  // The token's claims when it is well-formed, signed by one of the keys, issued by one of the
  // issuers, meant for one of `audiences` (the API audiences when empty; unchecked when both are
  // empty) and valid at `now` within the leeway. `matched`, when given, receives the token's
  // audiences that were requested. Unauthorized with upstream's reason otherwise
  // ("service account token has expired", "token audiences [...] is invalid for the target
  // audiences [...]", ...).
  Result<ServiceAccountClaims> Verify(std::string_view token, WallTime now, const std::vector<std::string>& audiences,
                                      std::vector<std::string>* matched = nullptr) const;

  size_t key_count() const;

 private:
  TokenVerifier() = default;
  struct Keys;
  std::unique_ptr<Keys> keys_;
  std::vector<std::string> issuers_;
  std::vector<std::string> api_audiences_;
};

// What the apiserver knows about an object a token names: nullopt when it does not exist (or is
// being deleted past the leeway), else its uid.
using ObjectUidLookup =
    std::function<std::optional<std::string>(std::string_view resource, std::string_view ns, std::string_view name)>;

// Upstream's check that the token's ServiceAccount and bound secret / pod / node still exist with
// the uids in the claims (resource: "serviceaccounts", "secrets", "pods", "nodes"). Unauthorized
// with upstream's messages: `serviceaccounts "x" not found`, "service account UID (a) does not
// match claim (b)", "service account token has been invalidated", "pod UID (a) does not match
// service account pod ref claim (b)", ...
Status ValidateBoundObjects(const ServiceAccountClaims& claims, const ObjectUidLookup& lookup);

}  // namespace ck::apiserver
