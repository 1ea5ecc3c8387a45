#include "apiserver/admission/webhook/hook.h"

#include <algorithm>

#include "common/api/object.h"
#include "common/api/proto/admissionregistration_v1.pb.h"

namespace ck::apiserver::admission::webhook {
namespace {

namespace arv1 = ::k8s::io::api::admissionregistration::v1;

// A missing selector is the v1 default {} (everything); a bad one keeps its error.
void ParseSelector(bool present, const api::metav1::LabelSelector& proto, api::LabelSelector* out, Status* error) {
  if (!present) return;
  auto parsed = api::LabelSelector::FromProto(&proto);
  if (parsed.ok()) {
    *out = std::move(parsed).value();
  } else {
    *error = parsed.status();
  }
}

template <typename W>
std::shared_ptr<Hook> ParseCommon(const W& w, HookType type, const std::string& configuration) {
  auto h = std::make_shared<Hook>();
  h->type = type;
  h->name = w.name();
  h->configuration = configuration;
  for (const auto& r : w.rules()) {
    Rule rule;
    rule.operations.assign(r.operations().begin(), r.operations().end());
    rule.api_groups.assign(r.rule().apigroups().begin(), r.rule().apigroups().end());
    rule.api_versions.assign(r.rule().apiversions().begin(), r.rule().apiversions().end());
    rule.resources.assign(r.rule().resources().begin(), r.rule().resources().end());
    if (r.rule().has_scope()) rule.scope = r.rule().scope();
    h->rules.push_back(std::move(rule));
  }
  ParseSelector(w.has_namespaceselector(), w.namespaceselector(), &h->namespace_selector, &h->namespace_selector_error);
  ParseSelector(w.has_objectselector(), w.objectselector(), &h->object_selector, &h->object_selector_error);
  h->ignore_failures = w.has_failurepolicy() && w.failurepolicy() == "Ignore";
  if (w.has_sideeffects()) h->side_effects = w.sideeffects();
  if (w.has_timeoutseconds()) {
    // Validation allows 1..30 seconds; a stored value outside that is clamped rather than trusted.
    h->timeout = std::chrono::seconds(std::clamp(w.timeoutseconds(), 1, 30));
  }
  h->review_versions.assign(w.admissionreviewversions().begin(), w.admissionreviewversions().end());
  const auto& cc = w.clientconfig();
  if (cc.has_url()) h->url = cc.url();
  if (cc.has_service()) {
    ServiceRef s;
    s.namespace_ = cc.service().namespace_();
    s.name = cc.service().name();
    s.path = cc.service().path();
    if (cc.service().has_port()) s.port = cc.service().port();
    h->service = std::move(s);
  }
  h->ca_pem = cc.cabundle();
  return h;
}

}  // namespace

std::vector<HookRef> ParseConfiguration(const Message& configuration, HookType type) {
  std::vector<HookRef> out;
  const std::string& name = api::MetaOf(configuration).name();
  if (type == HookType::kMutating) {
    const auto* c = dynamic_cast<const arv1::MutatingWebhookConfiguration*>(&configuration);
    if (c == nullptr) return out;
    for (const auto& w : c->webhooks()) {
      auto h = ParseCommon(w, type, name);
      h->reinvoke_if_needed = w.has_reinvocationpolicy() && w.reinvocationpolicy() == "IfNeeded";
      out.push_back(std::move(h));
    }
  } else {
    const auto* c = dynamic_cast<const arv1::ValidatingWebhookConfiguration*>(&configuration);
    if (c == nullptr) return out;
    for (const auto& w : c->webhooks()) out.push_back(ParseCommon(w, type, name));
  }
  return out;
}

std::vector<HookRef> HookSource::Hooks() const {
  std::vector<ObjectRef> configs =
      source_.List(type_ == HookType::kMutating ? kMutatingConfigurations : kValidatingConfigurations, "");
  // Upstream's configuration manager sorts configurations by name.
  std::sort(configs.begin(), configs.end(), [](const ObjectRef& a, const ObjectRef& b) {
    return api::MetaOf(*a).name() < api::MetaOf(*b).name();
  });
  std::vector<HookRef> out;
  std::lock_guard lock(mu_);
  std::map<const Message*, Entry> next;
  for (const ObjectRef& c : configs) {
    auto it = cache_.find(c.get());
    Entry e = it != cache_.end() ? std::move(it->second) : Entry{c, ParseConfiguration(*c, type_)};
    out.insert(out.end(), e.hooks.begin(), e.hooks.end());
    next.emplace(c.get(), std::move(e));
  }
  cache_ = std::move(next);  // drops configurations that are gone or were replaced
  return out;
}

}  // namespace ck::apiserver::admission::webhook
