#include "kubelet/server/auth.h"

#include "common/api/api_resources.h"
#include "common/api/proto/authentication_v1.pb.h"
#include "common/api/proto/authorization_v1.pb.h"
#include "common/base/log.h"

namespace ck::kubelet {

namespace authnv1 = k8s::io::api::authentication::v1;
namespace authzv1 = k8s::io::api::authorization::v1;

namespace {

constexpr auto kTokenTtl = std::chrono::minutes(2);
constexpr auto kAllowedTtl = std::chrono::minutes(5);
constexpr auto kDeniedTtl = std::chrono::seconds(30);
constexpr size_t kMaxCacheEntries = 10000;

template <typename Map>
void Prune(Map& map, MonoTime now) {
  if (map.size() < kMaxCacheEntries) return;
  for (auto it = map.begin(); it != map.end();) {
    it = it->second.expires <= now ? map.erase(it) : std::next(it);
  }
  if (map.size() >= kMaxCacheEntries) map.clear();
}

}  // namespace

KubeletAuth::KubeletAuth(client::ApiClient* api, std::string node_name, Clock* clock)
    : api_(api), node_name_(std::move(node_name)), clock_(clock) {}

std::string KubeletAuth::VerbOf(std::string_view method) {
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return "delete";
  return "get";
}

std::string KubeletAuth::SubresourceOf(std::string_view path) {
  auto under = [&](std::string_view prefix) {
    return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
  };
  if (under("/stats")) return "stats";
  if (under("/metrics")) return "metrics";
  if (under("/logs")) return "log";
  if (under("/spec")) return "spec";
  return "proxy";
}

Result<KubeletUser> KubeletAuth::Authenticate(const net::Request& request) {
  if (request.peer.client_cert_verified) {
    return KubeletUser{request.peer.cert_common_name, "", request.peer.cert_organizations};
  }
  std::string_view auth = request.headers.Get("Authorization");
  if (auth.size() < 8 || !auth.starts_with("Bearer ")) return Unauthorized("Unauthorized");
  const std::string token(auth.substr(7));
  const MonoTime now = clock_->Monotonic();
  {
    std::lock_guard lock(mu_);
    if (auto it = tokens_.find(token); it != tokens_.end() && it->second.expires > now) {
      if (!it->second.ok) return Unauthorized("Unauthorized");
      return it->second.user;
    }
  }
  authnv1::TokenReview review;
  review.mutable_spec()->set_token(token);
  Result<client::ObjectPtr> answer =
      api_->Create(*api::FindResource("authentication.k8s.io", "v1", "tokenreviews"), "", review);
  if (!answer.ok()) {
    CK_LOG_WARNING("TokenReview failed", "err", answer.status().message());
    return Unauthorized("Unauthorized");
  }
  const auto& status = static_cast<const authnv1::TokenReview&>(**answer).status();
  CachedUser entry;
  entry.expires = now + kTokenTtl;
  entry.ok = status.authenticated();
  entry.user.name = status.user().username();
  entry.user.uid = status.user().uid();
  entry.user.groups.assign(status.user().groups().begin(), status.user().groups().end());
  {
    std::lock_guard lock(mu_);
    Prune(tokens_, now);
    tokens_[token] = entry;
  }
  if (!entry.ok) return Unauthorized("Unauthorized");
  return entry.user;
}

Status KubeletAuth::Authorize(const KubeletUser& user, const net::Request& request) {
  const std::string verb = VerbOf(request.method);
  const std::string sub = SubresourceOf(request.path);
  std::string key = user.name + '\n' + user.uid + '\n' + verb + '\n' + sub;
  for (const std::string& g : user.groups) key += '\n' + g;
  const MonoTime now = clock_->Monotonic();
  auto forbidden = [&] {
    return Forbidden("Forbidden (user=" + user.name + ", verb=" + verb + ", resource=nodes, subresource=" + sub + ")");
  };
  {
    std::lock_guard lock(mu_);
    if (auto it = decisions_.find(key); it != decisions_.end() && it->second.expires > now) {
      return it->second.allowed ? Status::Ok() : forbidden();
    }
  }
  authzv1::SubjectAccessReview review;
  auto* spec = review.mutable_spec();
  spec->set_user(user.name);
  if (!user.uid.empty()) spec->set_uid(user.uid);
  for (const std::string& g : user.groups) spec->add_groups(g);
  auto* ra = spec->mutable_resourceattributes();
  ra->set_verb(verb);
  ra->set_version("v1");
  ra->set_resource("nodes");
  ra->set_subresource(sub);
  ra->set_name(node_name_);
  Result<client::ObjectPtr> answer =
      api_->Create(*api::FindResource("authorization.k8s.io", "v1", "subjectaccessreviews"), "", review);
  if (!answer.ok()) {
    // Not cached: the next request asks again.
    return Status(Code::kInternal, "Authorization error (user=" + user.name + ", verb=" + verb +
                                       ", resource=nodes, subresource=" + sub + "): " + answer.status().message());
  }
  const bool allowed = static_cast<const authzv1::SubjectAccessReview&>(**answer).status().allowed();
  {
    std::lock_guard lock(mu_);
    Prune(decisions_, now);
    decisions_[key] = CachedDecision{now + (allowed ? Duration(kAllowedTtl) : Duration(kDeniedTtl)), allowed};
  }
  return allowed ? Status::Ok() : forbidden();
}

}  // namespace ck::kubelet
