#include "apiserver/security/security.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>

#include "apiserver/admission/plugins/plugins.h"
#include "apiserver/admission/plugins/priority.h"
#include "apiserver/admission/podsecurity/pod_security.h"
#include "apiserver/admission/webhook/mutating_webhook.h"
#include "apiserver/admission/webhook/validating_webhook.h"
#include "apiserver/audit/audit_log.h"
#include "apiserver/audit/policy.h"
#include "apiserver/auth/impersonation.h"
#include "apiserver/auth/serviceaccount_token.h"
#include "apiserver/auth/token_request.h"
#include "apiserver/node/graph.h"
#include "apiserver/node/node_authorizer.h"
#include "apiserver/node/node_restriction.h"
#include "apiserver/rbac/bootstrap_policy.h"
#include "apiserver/rbac/escalation.h"
#include "apiserver/rbac/rbac_authorizer.h"
#include "apiserver/server/object_source.h"
#include "common/api/object.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/authorization_v1.pb.h"
#include "common/api/proto/core_v1.pb.h"
#include "common/api/proto/scheduling_v1.pb.h"
#include "common/api/time_format.h"
#include "common/base/log.h"
#include "common/base/strings.h"

namespace ck::apiserver {
namespace {

namespace corev1 = k8s::io::api::core::v1;
namespace authnv1 = k8s::io::api::authentication::v1;
namespace authzv1 = k8s::io::api::authorization::v1;

constexpr std::string_view kRbacPrefix = "/registry/";

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    std::string_view part = TrimSpace(s.substr(start, comma - start));
    if (!part.empty()) out.emplace_back(part);
    start = comma + 1;
  }
  return out;
}

class AlwaysAllow : public Authorizer {
 public:
  Decision Authorize(const Attributes&, std::string*) const override { return Decision::kAllow; }
};
class AlwaysDeny : public Authorizer {
 public:
  Decision Authorize(const Attributes&, std::string* reason) const override {
    if (reason) *reason = "Everything is forbidden.";
    return Decision::kDeny;
  }
};

// Members of system:masters may do everything, before any other authorizer is asked (upstream
// puts this in front of the chain whenever RBAC is on, so the cluster's administrators are never
// locked out by a broken or not yet loaded policy).
class PrivilegedGroups : public Authorizer {
 public:
  Decision Authorize(const Attributes& a, std::string* reason) const override {
    if (a.user) {
      for (const std::string& g : a.user->groups) {
        if (g == "system:masters") {
          if (reason) *reason = "allowed as a member of system:masters";
          return Decision::kAllow;
        }
      }
    }
    return Decision::kNoOpinion;
  }
};

// --authorization-mode: the first authorizer with an opinion decides (upstream's union).
class UnionAuthorizer : public Authorizer {
 public:
  explicit UnionAuthorizer(std::vector<const Authorizer*> chain) : chain_(std::move(chain)) {}
  Decision Authorize(const Attributes& a, std::string* reason) const override {
    std::string reasons;
    for (const Authorizer* z : chain_) {
      std::string r;
      Decision d = z->Authorize(a, &r);
      if (d != Decision::kNoOpinion) {
        if (reason) *reason = r;
        return d;
      }
      if (!r.empty()) (reasons.empty() ? reasons : reasons += ", ") += r;
    }
    if (reason) *reason = reasons;
    return Decision::kNoOpinion;
  }

 private:
  std::vector<const Authorizer*> chain_;
};

}  // namespace

const std::vector<std::string>& AdmissionPluginOrder() {
  static const std::vector<std::string> kOrder = {
      "NamespaceLifecycle", "LimitRanger",          "ServiceAccount",           "NodeRestriction",
      "PodSecurity",        "Priority",             "DefaultTolerationSeconds", "MutatingAdmissionWebhook",
      "ValidatingAdmissionWebhook", "ResourceQuota"};
  return kOrder;
}

struct Security::Parts {
  std::unique_ptr<rbac::RbacAuthorizer> rbac;
  std::unique_ptr<node::Graph> graph;
  std::unique_ptr<node::NodeAuthorizer> node;
  std::vector<std::unique_ptr<Authorizer>> simple;  // AlwaysAllow / AlwaysDeny
  std::unique_ptr<TokenIssuer> issuer;
  std::unique_ptr<CacheObjectSource> source;
  std::unique_ptr<admission::Chain> chain;
  std::optional<audit::Policy> audit_policy;
  std::unique_ptr<audit::AuditLog> audit_log;
};

Security::~Security() = default;

Result<std::unique_ptr<Security>> Security::Create(const SecurityFlags& flags, Clock* clock, Random* random) {
  std::unique_ptr<Security> s(new Security());
  s->flags_ = flags;
  s->clock_ = clock;
  s->random_ = random;
  s->parts_ = std::make_unique<Parts>();
  Parts& p = *s->parts_;

  if (!flags.service_account_signing_key_file.empty()) {
    if (flags.service_account_issuers.empty()) {
      return BadRequest("--service-account-signing-key-file needs --service-account-issuer");
    }
    std::ifstream in(flags.service_account_signing_key_file, std::ios::binary);
    std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) pem.clear();
    if (pem.empty()) {
      return BadRequest("--service-account-signing-key-file: cannot read " + flags.service_account_signing_key_file);
    }
    Result<std::unique_ptr<TokenIssuer>> issuer = TokenIssuer::Create(pem, flags.service_account_issuers.front());
    if (!issuer.ok()) return BadRequest("--service-account-signing-key-file: " + issuer.status().message());
    p.issuer = std::move(*issuer);
  }

  AuthenticatorOptions ao;
  ao.token_auth_file = flags.token_auth_file;
  ao.service_account_key_files = flags.service_account_key_files;
  // The signing key verifies too (upstream defaults --service-account-key-file to it).
  if (ao.service_account_key_files.empty() && !flags.service_account_signing_key_file.empty()) {
    ao.service_account_key_files.push_back(flags.service_account_signing_key_file);
  }
  ao.service_account_issuers = flags.service_account_issuers;
  ao.api_audiences = flags.api_audiences;
  ao.anonymous = flags.anonymous_auth;
  ao.clock = clock;
  CK_ASSIGN_OR_RETURN(s->authn_, Authenticator::Create(ao));
  std::vector<const Authorizer*> chain;
  std::vector<std::string> modes = SplitList(flags.authorization_mode);
  if (modes.empty()) return BadRequest("--authorization-mode: at least one mode is required");
  std::set<std::string> seen;
  for (const std::string& m : modes) {
    if (!seen.insert(m).second) return BadRequest("--authorization-mode: \"" + m + "\" is named twice");
    if (m == "AlwaysAllow") {
      p.simple.push_back(std::make_unique<AlwaysAllow>());
      chain.push_back(p.simple.back().get());
    } else if (m == "AlwaysDeny") {
      p.simple.push_back(std::make_unique<AlwaysDeny>());
      chain.push_back(p.simple.back().get());
    } else if (m == "RBAC") {
      p.simple.push_back(std::make_unique<PrivilegedGroups>());
      chain.insert(chain.begin(), p.simple.back().get());
      p.rbac = std::make_unique<rbac::RbacAuthorizer>();
      chain.push_back(p.rbac.get());
    } else if (m == "Node") {
      p.graph = std::make_unique<node::Graph>();
      p.node = std::make_unique<node::NodeAuthorizer>(p.graph.get());
      chain.push_back(p.node.get());
    } else {
      return BadRequest("--authorization-mode: unknown mode \"" + m + "\" (one of AlwaysAllow, AlwaysDeny, Node, RBAC)");
    }
  }
  s->authz_ = std::make_unique<UnionAuthorizer>(std::move(chain));

  const std::vector<std::string>& order = AdmissionPluginOrder();
  auto known = [&](const std::string& n) { return std::find(order.begin(), order.end(), n) != order.end(); };
  std::set<std::string> disabled;
  for (const std::string& n : flags.disable_admission_plugins) {
    if (!known(n)) return BadRequest("--disable-admission-plugins: unknown plugin \"" + n + "\"");
    disabled.insert(n);
  }
  for (const std::string& n : flags.enable_admission_plugins) {
    if (!known(n)) return BadRequest("--enable-admission-plugins: unknown plugin \"" + n + "\"");
    if (disabled.count(n)) {
      return BadRequest("--enable-admission-plugins and --disable-admission-plugins both name \"" + n + "\"");
    }
  }
  for (const std::string& n : order) {
    if (!disabled.count(n)) s->plugins_.push_back(n);
  }

  if (!flags.audit_policy_file.empty()) {
    Result<audit::Policy> policy = audit::LoadPolicyFile(flags.audit_policy_file);
    if (!policy.ok()) return BadRequest("--audit-policy-file: " + policy.status().message());
    p.audit_policy = std::move(*policy);
  }
  if (!flags.audit_log_path.empty()) {
    if (!p.audit_policy) {
      // Upstream logs nothing without a policy; a path alone would be a surprise, so say so.
      return BadRequest("--audit-log-path needs --audit-policy-file (which requests to log, at which level)");
    }
    Result<std::unique_ptr<audit::AuditLog>> log = audit::AuditLog::Open(flags.audit_log_path);
    if (!log.ok()) return BadRequest("--audit-log-path: " + log.status().message());
    p.audit_log = std::move(*log);
  }
  return s;
}

Status Security::Attach(ApiServer* server) {
  Parts& p = *parts_;
  p.source = std::make_unique<CacheObjectSource>(&server->cache());
  const admission::ObjectSource* source = p.source.get();

  // ServiceAccount tokens stay valid only while their account (and bound pod or secret) exist.
  Clock* clock = clock_;
  ObjectUidLookup uid_of = [source, clock](std::string_view resource, std::string_view ns,
                                           std::string_view name) -> std::optional<std::string> {
    admission::ObjectRef o = source->Get(resource, resource == "nodes" ? "" : ns, name);
    if (!o) return std::nullopt;
    const auto& meta = api::MetaOf(*o);
    // Being deleted for longer than the tokens' leeway counts as gone (upstream).
    if (meta.has_deletiontimestamp()) {
      int64_t now = api::ToTimestamp(clock->Now()).seconds;
      if (now - meta.deletiontimestamp().seconds() > 60) return std::nullopt;
    }
    return meta.uid();
  };
  authn_->SetServiceAccountLookup([uid_of](const ServiceAccountClaims& c) { return ValidateBoundObjects(c, uid_of); });

  ApiServerSecurity sec;
  const Authorizer* authz = authz_.get();
  sec.impersonate = [authz](const UserInfo& requester, const net::Headers& headers) {
    return Impersonate(requester, headers, *authz);
  };
  const Authenticator* authn = authn_.get();
  sec.review_token = [authn](std::string_view token, const std::vector<std::string>& audiences,
                             std::vector<std::string>* matched) {
    return authn->AuthenticateToken(token, audiences, matched);
  };

  if (p.rbac) {
    rbac::RbacAuthorizer* rbac = p.rbac.get();
    for (const char* r : {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}) {
      const ResourceInfo* info = CacheObjectSource::Resolve(std::string(r) + ".rbac.authorization.k8s.io");
      CK_CHECK(info != nullptr) << r;
      std::string kind = info->kind;
      server->AddFeed(info->storage_prefix, [rbac, kind](const CacheEvent& e) {
        if (e.type == WatchEventType::kBookmark || !e.object) return true;
        if (e.type == WatchEventType::kDeleted) {
          rbac->Remove(kind, std::string(e.object->namespace_()), std::string(e.object->name()));
        } else {
          rbac->Upsert(*e.object->object());
        }
        return true;
      });
    }
    sec.check_escalation = [rbac, authz](const UserInfo& user, const ResourceInfo&, const Message& obj,
                                         const Message* old, const std::string& ns) {
      return rbac::CheckEscalation(*rbac, *authz, user, obj, ns, old);
    };
    sec.rules_for = [rbac](const UserInfo& user, const std::string& ns, Message* out) {
      auto* st = static_cast<authzv1::SubjectRulesReviewStatus*>(out);
      rbac::RulesReview rr = rbac->RulesFor(user, ns);
      for (const rbac::PolicyRule& r : rr.resource_rules) {
        auto* o = st->add_resourcerules();
        *o->mutable_verbs() = r.verbs();
        *o->mutable_apigroups() = r.apigroups();
        *o->mutable_resources() = r.resources();
        *o->mutable_resourcenames() = r.resourcenames();
      }
      for (const rbac::PolicyRule& r : rr.non_resource_rules) {
        auto* o = st->add_nonresourcerules();
        *o->mutable_verbs() = r.verbs();
        *o->mutable_nonresourceurls() = r.nonresourceurls();
      }
      st->set_incomplete(rr.incomplete);
      if (!rr.evaluation_error.empty()) st->set_evaluationerror(rr.evaluation_error);
    };
    server->AddBootstrapObjects(rbac::BootstrapPolicy());
  }
  if (p.graph) {
    node::Graph* graph = p.graph.get();
    const ResourceInfo* pods = CacheObjectSource::Resolve("pods");
    server->AddFeed(pods->storage_prefix, [graph](const CacheEvent& e) {
      if (e.type == WatchEventType::kBookmark || !e.object) return true;
      if (e.type == WatchEventType::kDeleted) {
        graph->RemovePod(std::string(e.object->namespace_()), std::string(e.object->name()));
      } else {
        graph->UpsertPod(static_cast<const corev1::Pod&>(*e.object->object()));
      }
      return true;
    });
    const ResourceInfo* pvs = CacheObjectSource::Resolve("persistentvolumes");
    if (pvs) {
      server->AddFeed(pvs->storage_prefix, [graph](const CacheEvent& e) {
        if (e.type == WatchEventType::kBookmark || !e.object) return true;
        if (e.type == WatchEventType::kDeleted) {
          graph->RemovePersistentVolume(std::string(e.object->name()));
        } else {
          graph->UpsertPersistentVolume(static_cast<const corev1::PersistentVolume&>(*e.object->object()));
        }
        return true;
      });
    }
  }

  // The system PriorityClasses (upstream's scheduling bootstrap).
  {
    std::vector<std::unique_ptr<Message>> classes;
    for (auto& pc : admission::plugins::SystemPriorityClasses()) {
      classes.push_back(std::make_unique<k8s::io::api::scheduling::v1::PriorityClass>(pc));
    }
    server->AddBootstrapObjects(std::move(classes));
  }

  // Admission plugins, in order.
  std::vector<std::unique_ptr<admission::Plugin>> plugins;
  admission::plugins::PluginDeps deps;
  deps.source = source;
  deps.random = random_;
  deps.clock = clock_;
  deps.default_toleration_seconds = flags_.default_toleration_seconds;
  for (const std::string& n : plugins_) {
    if (n == "NodeRestriction") {
      plugins.push_back(std::make_unique<node::NodeRestriction>(source));
    } else if (n == "PodSecurity") {
      plugins.push_back(std::make_unique<podsecurity::PodSecurity>(source));
    } else if (n == "MutatingAdmissionWebhook") {
      plugins.push_back(std::make_unique<admission::webhook::MutatingWebhookPlugin>(*source, *random_));
    } else if (n == "ValidatingAdmissionWebhook") {
      plugins.push_back(std::make_unique<admission::webhook::ValidatingWebhookPlugin>(*source, *random_));
    } else {
      CK_ASSIGN_OR_RETURN(std::unique_ptr<admission::Plugin> plugin, admission::plugins::NewBuiltinPlugin(n, deps));
      plugins.push_back(std::move(plugin));
    }
  }
  p.chain = std::make_unique<admission::Chain>(std::move(plugins));
  sec.admission = p.chain.get();

  if (p.issuer) {
    TokenIssuer* issuer = p.issuer.get();
    Random* random = random_;
    std::vector<std::string> audiences = authn_->api_audiences();
    Duration max_expiration = std::chrono::seconds(flags_.service_account_max_token_expiration_seconds);
    sec.issue_token = [=](const Message& sa_message, Message* out) -> Status {
      const auto& sa = static_cast<const corev1::ServiceAccount&>(sa_message);
      auto* tr = static_cast<authnv1::TokenRequest*>(out);
      ServiceAccountIdentity id{sa.metadata().namespace_(), sa.metadata().name(), sa.metadata().uid()};
      BoundObjectResolver resolve = [&](std::string_view kind, std::string_view name) -> Result<BoundObjectInfo> {
        BoundObjectInfo info;
        if (kind == "Pod") {
          admission::ObjectRef o = source->Get("pods", id.namespace_, name);
          if (!o) return NotFound("pods \"" + std::string(name) + "\" not found");
          const auto& pod = static_cast<const corev1::Pod&>(*o);
          info.uid = pod.metadata().uid();
          info.service_account_name = pod.spec().serviceaccountname();
          info.node_name = pod.spec().nodename();
          if (!info.node_name.empty()) {
            if (admission::ObjectRef n = source->Get("nodes", "", info.node_name)) info.node_uid = api::MetaOf(*n).uid();
          }
        } else if (kind == "Secret") {
          admission::ObjectRef o = source->Get("secrets", id.namespace_, name);
          if (!o) return NotFound("secrets \"" + std::string(name) + "\" not found");
          info.uid = api::MetaOf(*o).uid();
        } else if (kind == "Node") {
          admission::ObjectRef o = source->Get("nodes", "", name);
          if (!o) return NotFound("nodes \"" + std::string(name) + "\" not found");
          info.uid = api::MetaOf(*o).uid();
        }
        return info;
      };
      CK_ASSIGN_OR_RETURN(IssuedToken t,
                          IssueTokenRequest(*issuer, id, tr->spec(), resolve, clock->Now(), audiences, max_expiration,
                                            *random));
      tr->mutable_spec()->set_expirationseconds(t.expiration_seconds);
      tr->mutable_spec()->clear_audiences();
      for (const std::string& a : t.audiences) tr->mutable_spec()->add_audiences(a);
      tr->mutable_status()->set_token(t.token);
      api::Timestamp ts = api::ToTimestamp(t.expiration_timestamp);
      tr->mutable_status()->mutable_expirationtimestamp()->set_seconds(ts.seconds);
      return Status::Ok();
    };
  }

  if (p.audit_log) {
    const audit::Policy* policy = &*p.audit_policy;
    audit::AuditLog* log = p.audit_log.get();
    Clock* audit_clock = clock_;
    Random* random = random_;
    sec.audit = [policy, log, audit_clock, random](const AuditRecord& r) {
      auto to_user = [](const UserInfo& u) { return audit::AuditUser{u.name, u.uid, u.groups, u.extra}; };
      audit::AuditRequest ar;
      ar.request_uri = r.request->target;
      ar.verb = r.info->verb;
      // `user` is who authenticated; `impersonatedUser` whom the request acted as.
      ar.user = to_user(r.requester ? *r.requester : *r.user);
      if (r.requester) ar.impersonated_user = to_user(*r.user);
      std::string_view addr = r.request->peer.remote_address;
      if (size_t colon = addr.rfind(':'); colon != std::string_view::npos) addr = addr.substr(0, colon);
      if (!addr.empty()) ar.source_ips.emplace_back(addr);
      ar.user_agent = std::string(r.request->headers.Get("User-Agent"));
      if (r.info->is_resource_request) {
        audit::ObjectReference ref;
        ref.resource = r.info->resource;
        ref.namespace_ = r.info->namespace_;
        ref.name = r.info->name;
        ref.api_group = r.info->api_group;
        ref.api_version = r.info->api_version;
        ref.subresource = r.info->subresource;
        ar.object_ref = std::move(ref);
      }
      audit::AuditAttributes& aa = ar.attributes;
      aa.user = r.user->name;
      aa.groups = r.user->groups;
      aa.verb = r.info->verb;
      aa.resource_request = r.info->is_resource_request;
      aa.api_group = r.info->api_group;
      aa.namespace_ = r.info->namespace_;
      aa.resource = r.info->resource;
      aa.subresource = r.info->subresource;
      aa.name = r.info->name;
      aa.path = r.request->path;
      ar.received = r.received;
      std::unique_ptr<audit::RequestAudit> trail = audit::RequestAudit::Begin(*policy, *log, *audit_clock, *random, std::move(ar));
      if (!trail) return;
      if (!r.authorization_decision.empty()) {
        trail->SetAuthorization(r.authorization_decision == "allow", r.authorization_reason);
      }
      if (r.admission) {
        for (const auto& [k, v] : r.admission->audit_annotations) trail->AddAnnotation(k, v);
      }
      bool write = r.info->verb == "create" || r.info->verb == "update" || r.info->verb == "patch";
      if (write && !r.request->body.empty() && r.request->body.front() == '{') trail->SetRequestObject(r.request->body);
      if (!r.response_body.empty() && r.response_body.front() == '{') trail->SetResponseObject(std::string(r.response_body));
      if (r.info->verb == "watch" && !r.failure) return trail->ResponseStarted(r.code);
      audit::ResponseStatus rs;
      rs.code = r.code;
      if (r.failure) {
        rs.status = "Failure";
        rs.reason = std::string(r.failure->reason());
        rs.message = r.failure->message();
      }
      trail->Complete(rs);
    };
  }
  server->SetSecurity(std::move(sec));
  CK_LOG_INFO("Security path", "authorization", flags_.authorization_mode, "admission", Join(plugins_, ","),
              "serviceAccountTokens", p.issuer ? "on" : "off", "audit", p.audit_log ? flags_.audit_log_path : "off");
  return Status::Ok();
}

}  // namespace ck::apiserver
