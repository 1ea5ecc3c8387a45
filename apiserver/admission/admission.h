// Admission: the step between authorization and storage that may change (mutating) or refuse
// (validating) a write, in upstream's order:
//
//   mutating built-ins -> mutating webhooks -> schema validation (the registry) ->
//   validating built-ins -> validating webhooks -> the store transaction
//
// A Plugin sees one write through Attributes (upstream admission.Attributes): the operation, the
// resource and subresource, the namespace and name, the user, the new object (null for DELETE)
// and the old one (null for CREATE). Mutating plugins change `object` in Admit(); validating
// plugins only look in Validate(). Plugins read cluster state through ObjectSource (the
// apiserver's watch cache). A validating plugin that keeps state in the store (ResourceQuota's
// status.used) appends compares and ops to the write's own transaction through Context, so the
// object and the state commit together or not at all; when the transaction fails on one of
// those compares the registry runs validation again on fresh state.
// Errors: a refusal is a Status (Forbidden for built-ins, the webhook's code for webhooks),
// with the message upstream prints; Context::trace gets one short line per plugin that changed
// or refused the object (the -v=2 request line and the audit annotations).
// Threading: a Chain and its plugins are shared by all request threads; Admit/Validate must be
// thread-safe. Attributes and Context belong to one call.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/message.h>

#include "apiserver/auth/auth.h"
#include "apiserver/resources.h"
#include "common/base/status.h"
#include "store/store.h"

namespace ck::apiserver::admission {

using Message = google::protobuf::Message;
using ObjectRef = std::shared_ptr<const Message>;

enum class Operation { kCreate, kUpdate, kDelete, kConnect };
std::string_view OperationName(Operation op);  // "CREATE", "UPDATE", "DELETE", "CONNECT"

struct Attributes {
  Operation operation = Operation::kCreate;
  const ResourceInfo* resource = nullptr;  // the main resource ("pods" for pods/status)
  std::string subresource;                 // "", "status", "binding", "eviction", "token", "scale", ...
  std::string namespace_, name;            // name may be empty on CREATE with generateName
  const UserInfo* user = nullptr;
  bool dry_run = false;
  Message* object = nullptr;               // CREATE/UPDATE: the object being written (mutable in Admit)
  const Message* old_object = nullptr;     // UPDATE/DELETE: the stored object
};

// Per-call output of the chain.
struct Context {
  std::vector<std::string> warnings;                        // HTTP Warning headers for the client
  std::map<std::string, std::string> audit_annotations;     // "<plugin>/<key>" -> value
  std::vector<std::string> trace;                           // "LimitRanger: default cpu request 100m"
  // The write's transaction (Validate only; null for dry-run and for writes with no transaction).
  std::vector<store::Compare>* compares = nullptr;
  std::vector<store::Op>* ops = nullptr;
};

// Read access to cluster state; Get/List return what the apiserver's cache holds now.
// `resource` is the plural with its group: "pods", "namespaces", "resourcequotas",
// "priorityclasses.scheduling.k8s.io", "mutatingwebhookconfigurations.admissionregistration.k8s.io".
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  virtual ObjectRef Get(std::string_view resource, std::string_view ns, std::string_view name) const = 0;
  // ns empty: every namespace (or a cluster-scoped resource).
  virtual std::vector<ObjectRef> List(std::string_view resource, std::string_view ns) const = 0;
  // The store revision the object was last written at (0 when absent), for transaction compares.
  virtual int64_t ModRevision(std::string_view resource, std::string_view ns, std::string_view name) const = 0;
  // Waits until reads reflect every write acknowledged so far (a consistent read); false if that
  // could not be done in time. Sources that are never behind need not override it.
  virtual bool Sync() const { return true; }
};

class Plugin {
 public:
  virtual ~Plugin() = default;
  virtual std::string_view name() const = 0;  // upstream name: "NamespaceLifecycle", ...
  virtual bool mutating() const { return false; }
  virtual bool validating() const { return true; }
  // Mutating plugins: may change a.object.
  virtual Status Admit(const Attributes& a, Context& ctx) { (void)a; (void)ctx; return Status::Ok(); }
  // Validating plugins: must not change the object.
  virtual Status Validate(const Attributes& a, Context& ctx) { (void)a; (void)ctx; return Status::Ok(); }
};

// The plugins of --enable-admission-plugins / --disable-admission-plugins, run in upstream order.
class Chain {
 public:
  // Plugins in the order they run; the chain calls Admit on every mutating plugin in order, then
  // (after the registry validated) Validate on every validating plugin in order.
  explicit Chain(std::vector<std::unique_ptr<Plugin>> plugins) : plugins_(std::move(plugins)) {}
  Status Admit(const Attributes& a, Context& ctx) const;
  Status Validate(const Attributes& a, Context& ctx) const;
  std::vector<std::string_view> names() const;

 private:
  std::vector<std::unique_ptr<Plugin>> plugins_;
};

}  // namespace ck::apiserver::admission
