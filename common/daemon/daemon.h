// The scaffold every Clearkube daemon's main.cc stands on: flags, logging, signals with a
// graceful drain, and one HTTPS server with /livez, /readyz, /healthz and /metrics on which the
// component adds its own routes. A main.cc reads like this:
//
//   int main(int argc, char** argv) {
//     ck::daemon::Daemon d("ck-scheduler", 10259);
//     ck::scheduler::Flags flags;
//     flags.Register(d.flags());
//     if (auto rc = d.ParseFlags(argc, argv)) return *rc;
//     return d.Run([&](ck::daemon::Context& ctx) { return ck::scheduler::Start(ctx, flags); });
//   }
//
// Common flags (upstream names): --bind-address, --secure-port, --tls-cert-file,
// --tls-private-key-file, -v/--v, --logging-format=text|json, --profile=default|teaching.
// Without --tls-cert-file the daemon serves a self-signed certificate made at start-up, as
// kube-scheduler and kube-controller-manager do.
// Threading: Run() owns the main thread; Context methods are safe from any thread.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/base/clock.h"
#include "common/base/random.h"
#include "common/base/status.h"
#include "common/daemon/health.h"
#include "common/daemon/profile.h"
#include "common/metrics/metrics.h"
#include "common/net/http_server.h"

namespace ck::daemon {

struct CommonFlags {
  std::string bind_address = "0.0.0.0";
  int secure_port = 0;
  std::string tls_cert_file;
  std::string tls_private_key_file;
  std::string client_ca_file;  // registered only by components that authenticate clients
  int verbosity = 0;
  std::string logging_format = "text";
  std::string profile = "default";
};

class Context {
 public:
  virtual ~Context() = default;
  virtual const std::string& component() const = 0;
  virtual const CommonFlags& common_flags() const = 0;
  virtual const Profile& profile() const = 0;
  virtual Clock& clock() = 0;
  virtual Random& random() = 0;
  virtual metrics::Registry& metrics() = 0;
  virtual HealthChecks& health() = 0;
  // Routes requests whose path starts with `prefix` (longest prefix wins) to `handler`.
  virtual void Handle(std::string prefix, net::HttpHandler handler) = 0;
  // Receives every request no route matched (the apiserver's API).
  virtual void SetFallback(net::HttpHandler handler) = 0;
  // Server options (limits, TLS, threads) may be changed inside the start function only.
  virtual net::HttpServerOptions& server_options() = 0;
  // Runs at shutdown, in reverse order of registration, before the server drains.
  virtual void OnShutdown(std::function<void()> hook) = 0;
  // Asks the daemon to stop; a non-OK status makes the process exit 1 after logging it.
  virtual void RequestShutdown(Status reason) = 0;
  // The port the server listens on (known once Run has started it).
  virtual uint16_t port() const = 0;
};

class Daemon {
 public:
  Daemon(std::string component, int default_secure_port);
  ~Daemon();

  CLI::App& flags() { return *app_; }
  // Adds --client-ca-file (the apiserver uses it for client certificates).
  void EnableClientCaFlag();

  // Parses the command line. Returns an exit code when the process should end now (0 after
  // --help or --version, 2 after a bad flag, which prints one readable line), else nullopt.
  std::optional<int> ParseFlags(int argc, char** argv);

  // Starts logging and the server, runs `start` (which registers routes and starts the
  // component's threads), then blocks until SIGTERM/SIGINT or RequestShutdown, drains and returns
  // the process exit code. If `start` fails the error is logged and the exit code is 1.
  int Run(std::function<Status(Context&)> start);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<CLI::App> app_;
};

}  // namespace ck::daemon
