// The webhooks of MutatingWebhookConfiguration / ValidatingWebhookConfiguration objects
// (admissionregistration.k8s.io/v1), parsed once into Hook values with upstream's v1 defaults
// applied (failurePolicy Fail, timeoutSeconds 10, scope "*", service port 443, empty selectors).
//
// HookSource reads the configurations from the admission ObjectSource on every call and orders the
// webhooks like upstream's configuration manager: configurations sorted by name, webhooks in the
// order each configuration lists them. Parsed configurations are cached by object identity (the
// source hands out a new object on every write), so a call that finds nothing changed parses nothing.
// Threading: HookSource is shared by all request threads (one mutex guards the cache); a Hook is
// immutable once parsed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "apiserver/admission/admission.h"
#include "common/api/label_selector.h"

namespace ck::apiserver::admission::webhook {

enum class HookType { kMutating, kValidating };

inline constexpr std::string_view kMutatingConfigurations =
    "mutatingwebhookconfigurations.admissionregistration.k8s.io";
inline constexpr std::string_view kValidatingConfigurations =
    "validatingwebhookconfigurations.admissionregistration.k8s.io";

// One RuleWithOperations.
struct Rule {
  std::vector<std::string> operations;    // "CREATE", ..., "*"
  std::vector<std::string> api_groups;    // "" is core, "*" any
  std::vector<std::string> api_versions;  // "*" any
  std::vector<std::string> resources;     // "pods", "pods/status", "pods/*", "*", "*/status", "*/*"
  std::string scope = "*";                // "Cluster", "Namespaced", "*"
};

struct ServiceRef {
  std::string namespace_, name;
  std::string path;  // "" = "/"
  int32_t port = 443;
};

struct Hook {
  HookType type = HookType::kValidating;
  std::string name;           // the webhook's name ("sidecar.example.com")
  std::string configuration;  // the owning configuration's name
  std::vector<Rule> rules;
  // A selector that does not parse is kept as its error; it fails the request only when a rule
  // matches (upstream's ShouldCallHook).
  api::LabelSelector namespace_selector, object_selector;
  Status namespace_selector_error, object_selector_error;
  bool ignore_failures = false;             // failurePolicy Ignore
  std::optional<std::string> side_effects;  // None, NoneOnDryRun, Some, Unknown
  std::chrono::seconds timeout{10};         // timeoutSeconds, clamped to 1..30
  bool reinvoke_if_needed = false;          // reinvocationPolicy IfNeeded (mutating only)
  std::vector<std::string> review_versions; // admissionReviewVersions
  std::string url;                          // clientConfig.url, or
  std::optional<ServiceRef> service;        // clientConfig.service
  std::string ca_pem;                       // clientConfig.caBundle (PEM; "" = system roots)
};

using HookRef = std::shared_ptr<const Hook>;

// The hooks of one configuration object (a MutatingWebhookConfiguration or
// ValidatingWebhookConfiguration message), in its order.
std::vector<HookRef> ParseConfiguration(const Message& configuration, HookType type);

class HookSource {
 public:
  HookSource(const ObjectSource& source, HookType type) : source_(source), type_(type) {}
  // Every webhook of every configuration, in upstream's calling order.
  std::vector<HookRef> Hooks() const;

 private:
  struct Entry {
    ObjectRef object;  // keeps the key's object alive, so its address is not reused
    std::vector<HookRef> hooks;
  };
  const ObjectSource& source_;
  const HookType type_;
  mutable std::mutex mu_;
  mutable std::map<const Message*, Entry> cache_;  // guarded by mu_
};

}  // namespace ck::apiserver::admission::webhook
