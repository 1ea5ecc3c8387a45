// Security: the seed's request path assembled from its parts, from ck-apiserver's flags.
//
//   authenticate (auth/: x509, token file, ServiceAccount JWTs, anonymous)
//   -> impersonate (auth/impersonation.h, checked by the authorizer)
//   -> authorize (--authorization-mode: Node (node/), RBAC (rbac/), AlwaysAllow, AlwaysDeny;
//      the first that allows or denies wins)
//   -> admission (--enable/--disable-admission-plugins, in upstream's order; admission/)
//   -> the registry -> audit (audit/, --audit-log-path and --audit-policy-file)
//
// Create() checks every flag (one readable error naming the flag) and builds what needs no
// server; Attach() connects the rest to an ApiServer before its Start(): the RBAC and Node
// authorizers' indexes fed from the watch cache, the admission plugins reading the cache, the
// default RBAC policy and the system PriorityClasses written at first start, TokenRequest,
// TokenReview, SelfSubjectRulesReview, escalation checks and the audit log.
// Threading: built once at start-up; everything it hands the server is thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "apiserver/admission/admission.h"
#include "apiserver/auth/auth.h"
#include "apiserver/server/api_server.h"
#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/status.h"

namespace ck::apiserver {

struct SecurityFlags {
  std::string token_auth_file;                           // --token-auth-file
  std::vector<std::string> service_account_key_files;    // --service-account-key-file
  std::string service_account_signing_key_file;          // --service-account-signing-key-file
  std::vector<std::string> service_account_issuers;      // --service-account-issuer
  std::vector<std::string> api_audiences;                // --api-audiences
  int64_t service_account_max_token_expiration_seconds = 0;  // --service-account-max-token-expiration (0: none)
  bool anonymous_auth = true;                            // --anonymous-auth
  std::string authorization_mode = "Node,RBAC";          // --authorization-mode
  std::vector<std::string> enable_admission_plugins;     // --enable-admission-plugins
  std::vector<std::string> disable_admission_plugins;    // --disable-admission-plugins
  std::string audit_log_path;                            // --audit-log-path
  std::string audit_policy_file;                         // --audit-policy-file
  int64_t default_toleration_seconds = 300;              // --default-not-ready/unreachable-toleration-seconds
};

// Every admission plugin, in the order they run (upstream's order); all are on by default.
const std::vector<std::string>& AdmissionPluginOrder();

class Security {
 public:
  // InvalidArgument-style Status with one line naming the flag for a bad value (unknown mode or
  // plugin, unreadable key, a signing key without an issuer, a bad audit policy).
  static Result<std::unique_ptr<Security>> Create(const SecurityFlags& flags, Clock* clock, Random* random);
  ~Security();

  const Authenticator* authenticator() const { return authn_.get(); }
  const Authorizer* authorizer() const { return authz_.get(); }
  // The enabled admission plugins' names, in order.
  const std::vector<std::string>& admission_plugins() const { return plugins_; }

  // The profile's DefaultTolerationSeconds when the flag was not given (before Attach).
  void set_default_toleration_seconds(int64_t seconds) { flags_.default_toleration_seconds = seconds; }

  // Connects the server (before its Start()).
  Status Attach(ApiServer* server);

 private:
  Security() = default;
  struct Parts;
  SecurityFlags flags_;
  Clock* clock_ = nullptr;
  Random* random_ = nullptr;
  std::unique_ptr<Authenticator> authn_;
  std::unique_ptr<Authorizer> authz_;
  std::vector<std::string> plugins_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace ck::apiserver
