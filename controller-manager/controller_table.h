// The table of controllers ck-controller-manager can run (kube-controller-manager's
// NewControllerDescriptors): one row per controller with its name, the older names upstream
// still accepts, whether "*" turns it on, and its constructor. Adding a controller is adding a
// row here (STYLE.md #7: explicit tables, no self-registration).
//
// Each constructor takes the ControllerContext (client, one SharedInformerFactory, clock,
// metrics, options) and returns a ManagedController: a client::Controller that also names the
// informers whose sync it waits for. Constructors only ask the factory for informers and add
// handlers; the manager starts the factory and then each controller.
// Threading: the table is immutable; constructors run on the manager's start-up thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/status.h"
#include "common/client/api_client.h"
#include "common/client/cache/informer_factory.h"
#include "common/client/controller/controller.h"
#include "common/client/tools/event_recorder.h"
#include "common/metrics/metrics.h"
#include "controller-manager/settings.h"

namespace ck::controller_manager {

// What every controller is built from; owned by the manager and outliving every controller.
struct ControllerContext {
  client::ApiClient& api;
  client::SharedInformerFactory& informers;
  Clock& clock;
  Random& random;
  metrics::Registry& metrics;
  // Started by the manager; each controller takes a recorder with its upstream source component
  // ("replicaset-controller", "deployment-controller", ...) through Recorder().
  client::EventBroadcaster& events;
  const ControllerSettings& settings;
  // The CA bundle the root-CA publisher writes: --root-ca-file's contents, or (as upstream) the
  // kubeconfig's certificate authority when that flag is unset.
  std::string root_ca_pem;

  client::EventRecorder Recorder(const std::string& component) { return events.NewRecorder({component, ""}); }
};

// A controller as the manager runs it.
class ManagedController : public client::Controller {
 public:
  using client::Controller::Controller;
  // The informers that must have synced before the workers start.
  virtual std::vector<client::SharedIndexInformer*> Informers() const = 0;
  // Runs one Sync on the caller's thread (unit tests drive controllers step by step with it).
  Status SyncForTesting(const std::string& key) { return Sync(key); }

 protected:
  // Registers a handler that RemoveHandlers() takes off again. The informers are shared and
  // outlive the controller, so every controller's destructor calls RemoveHandlers() before
  // anything the handlers touch is destroyed (a late event would otherwise reach a dead object).
  template <typename Typed, typename Handler>
  void Handle(Typed& typed_informer, Handler handler) {
    handlers_.emplace_back(&typed_informer.Informer(), typed_informer.AddEventHandler(std::move(handler)));
  }
  void RemoveHandlers() {
    for (auto& [informer, registration] : handlers_) informer->RemoveEventHandler(registration);
    handlers_.clear();
  }

 private:
  std::vector<std::pair<client::SharedIndexInformer*, client::HandlerRegistration>> handlers_;
};

using ControllerConstructor = std::function<Result<std::unique_ptr<ManagedController>>(ControllerContext&)>;

struct ControllerDescriptor {
  std::string name;                  // "serviceaccount-controller"
  std::vector<std::string> aliases;  // older names upstream accepts: "serviceaccount"
  bool enabled_by_default = true;    // false: only when named in --controllers
  ControllerConstructor constructor;
};

// Every known controller, in start order.
const std::vector<ControllerDescriptor>& KnownControllers();

// Checks --controllers entries as upstream does: "*", a known name or alias, or "-" followed by
// one. Invalid: `"foo" is not in the list of known controllers`.
Status ValidateControllerList(const std::vector<std::string>& controllers,
                              const std::vector<ControllerDescriptor>& known = KnownControllers());

// Upstream IsControllerEnabled: the first entry naming the controller (by name or alias) decides
// ("name" on, "-name" off); otherwise "*" turns on those enabled by default.
bool IsControllerEnabled(const ControllerDescriptor& controller, const std::vector<std::string>& controllers);

}  // namespace ck::controller_manager
