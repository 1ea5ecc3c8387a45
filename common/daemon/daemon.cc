#include "common/daemon/daemon.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/base/log.h"
#include "common/base/strings.h"
#include "common/base/thread.h"
#include "common/pki/pki.h"

namespace ck::daemon {

namespace {

void RespondText(const std::shared_ptr<net::ResponseWriter>& w, int status, std::string body) {
  w->Respond(status, net::Headers{{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body));
}

}  // namespace

struct Daemon::Impl final : Context {
  struct Route {
    std::string prefix;
    net::HttpHandler handler;
  };
  std::string name;
  CommonFlags flags;
  Profile profile_value = DefaultProfile();
  metrics::Registry& registry = metrics::Registry::Default();
  HealthChecks checks;
  net::HttpServerOptions options;
  std::unique_ptr<net::HttpServer> server;

  std::mutex mu;
  std::condition_variable cv;
  bool shutdown_requested = false;  // guarded by mu
  Status shutdown_reason;           // guarded by mu
  std::vector<Route> routes;        // guarded by mu
  net::HttpHandler fallback;        // guarded by mu
  std::vector<std::function<void()>> hooks;  // guarded by mu
  std::atomic<bool> draining{false};

  const std::string& component() const override { return name; }
  const CommonFlags& common_flags() const override { return flags; }
  const Profile& profile() const override { return profile_value; }
  Clock& clock() override { return RealClock::Get(); }
  Random& random() override { return RealRandom::Get(); }
  metrics::Registry& metrics() override { return registry; }
  HealthChecks& health() override { return checks; }
  net::HttpServerOptions& server_options() override { return options; }
  uint16_t port() const override { return server ? server->port() : 0; }

  void Handle(std::string prefix, net::HttpHandler handler) override {
    std::lock_guard lock(mu);
    routes.insert(routes.begin(), {std::move(prefix), std::move(handler)});
    // Longest prefix first, so the first match is the most specific one; of two equal prefixes
    // the later registration wins (a component may put its own /metrics in front).
    std::stable_sort(routes.begin(), routes.end(),
                     [](const Route& a, const Route& b) { return a.prefix.size() > b.prefix.size(); });
  }

  void SetFallback(net::HttpHandler handler) override {
    std::lock_guard lock(mu);
    fallback = std::move(handler);
  }

  void OnShutdown(std::function<void()> hook) override {
    std::lock_guard lock(mu);
    hooks.push_back(std::move(hook));
  }

  void RequestShutdown(Status reason) override {
    std::lock_guard lock(mu);
    if (!shutdown_requested) {
      shutdown_requested = true;
      shutdown_reason = std::move(reason);
    }
    cv.notify_all();
  }

  void Dispatch(net::Request req, std::shared_ptr<net::ResponseWriter> w) {
    if (HealthChecks::Handles(req.path)) {
      auto res = checks.Serve(req.path, req.raw_query);
      w->Respond(res.status, std::move(res.headers), std::move(res.body));
      return;
    }
    net::HttpHandler handler;
    {
      std::lock_guard lock(mu);
      for (const auto& r : routes) {
        if (req.path.starts_with(r.prefix)) {
          handler = r.handler;
          break;
        }
      }
      if (!handler) handler = fallback;
    }
    if (!handler) {
      RespondText(w, 404, "404 page not found\n");
      return;
    }
    handler(std::move(req), std::move(w));
  }
};

Daemon::Daemon(std::string component, int default_secure_port)
    : impl_(std::make_unique<Impl>()), app_(std::make_unique<CLI::App>(component)) {
  impl_->name = component;
  auto& f = impl_->flags;
  f.secure_port = default_secure_port;
  app_->set_version_flag("--version", "Clearkube " + component + " v1.32.0");
  app_->add_option("--bind-address", f.bind_address, "The IP address on which to listen for the --secure-port port.");
  app_->add_option("--secure-port", f.secure_port, "The port on which to serve HTTPS with authentication and authorization.")
      ->check(CLI::Range(0, 65535));
  app_->add_option("--tls-cert-file", f.tls_cert_file, "File containing the default x509 certificate for HTTPS.");
  app_->add_option("--tls-private-key-file", f.tls_private_key_file, "File containing the default x509 private key matching --tls-cert-file.");
  app_->add_option("-v,--v", f.verbosity, "Number for the log level verbosity.")->check(CLI::Range(0, 10));
  app_->add_option("--logging-format", f.logging_format, "Sets the log format: text or json.")
      ->check(CLI::IsMember({"text", "json"}));
  app_->add_option("--profile", f.profile, "Timing profile: default (upstream values) or teaching (short timings for demos).")
      ->check(CLI::IsMember({"default", "teaching"}));
}

Daemon::~Daemon() = default;

void Daemon::EnableClientCaFlag() {
  app_->add_option("--client-ca-file", impl_->flags.client_ca_file,
                   "If set, any request presenting a client certificate signed by one of the authorities in the "
                   "client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.");
}

std::optional<int> Daemon::ParseFlags(int argc, char** argv) {
  // Upstream components take Go-style `-v=4`; CLI11 wants `-v 4` or `--v=4`. An empty value
  // (`--disable-admission-plugins=`) is passed as its own empty argument: CLI11 would otherwise
  // take the next flag as the value. (`args` is in reverse order, as CLI11 wants it.)
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string a = argv[i];
    if (a.starts_with("-v=")) a = "-" + a;
    if (a.starts_with("--") && a.size() > 3 && a.back() == '=' && a.find('=') == a.size() - 1) {
      args.emplace_back();
      a.pop_back();
    }
    args.push_back(std::move(a));
  }
  try {
    app_->parse(args);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app_->help().c_str(), stdout);
    return 0;
  } catch (const CLI::CallForVersion&) {
    std::puts(app_->version().c_str());
    return 0;
  } catch (const CLI::ParseError& e) {
    // One readable line; CLI11's own messages already name the flag.
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::fprintf(stderr, "%s: %s (see --help)\n", impl_->name.c_str(), std::string(TrimSpace(msg)).c_str());
    return 2;
  }
  auto profile = ProfileByName(impl_->flags.profile);
  if (!profile.ok()) {
    std::fprintf(stderr, "%s: --profile: %s\n", impl_->name.c_str(), profile.status().message().c_str());
    return 2;
  }
  impl_->profile_value = *profile;
  return std::nullopt;
}

int Daemon::Run(std::function<Status(Context&)> start) {
  Impl& d = *impl_;
  // Signals are taken by one thread with sigwait; block them before any other thread exists.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  log::Format format = log::Format::kText;
  log::ParseFormat(d.flags.logging_format, &format);
  log::Init(format, d.flags.verbosity);
  metrics::RegisterProcessMetrics(d.registry);

  d.options.bind_address = d.flags.bind_address;
  d.options.port = static_cast<uint16_t>(d.flags.secure_port);
  d.options.tls = true;
  d.options.thread_name = "io";
  if (!d.flags.tls_cert_file.empty() || !d.flags.tls_private_key_file.empty()) {
    auto cert = net::ReadFile(d.flags.tls_cert_file);
    auto key = net::ReadFile(d.flags.tls_private_key_file);
    if (!cert.ok() || !key.ok()) {
      CK_LOG_ERROR("Cannot read serving certificate", "err", (!cert.ok() ? cert.status() : key.status()).message());
      return 1;
    }
    d.options.tls_config.cert_pem = std::move(*cert);
    d.options.tls_config.key_pem = std::move(*key);
  } else {
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    pki::CertSpec spec;
    spec.common_name = std::string(host) + "@" + std::to_string(std::time(nullptr));
    spec.dns_names = {"localhost", host};
    spec.ip_addresses = {"127.0.0.1"};
    spec.server_auth = true;
    auto self_signed = pki::CreateCA(spec);
    if (!self_signed.ok()) {
      CK_LOG_ERROR("Cannot make a self-signed serving certificate", "err", self_signed.status().message());
      return 1;
    }
    d.options.tls_config.cert_pem = self_signed->cert_pem;
    d.options.tls_config.key_pem = self_signed->key_pem;
  }
  if (!d.flags.client_ca_file.empty()) {
    auto ca = net::ReadFile(d.flags.client_ca_file);
    if (!ca.ok()) {
      CK_LOG_ERROR("Cannot read --client-ca-file", "err", ca.status().message());
      return 1;
    }
    d.options.tls_config.client_ca_pem = std::move(*ca);
  }

  d.checks.AddReadiness("shutdown", [&d] {
    return d.draining ? Unavailable("the server is shutting down") : Status::Ok();
  });
  d.Handle("/metrics", [&d](net::Request, std::shared_ptr<net::ResponseWriter> w) {
    w->Respond(200, net::Headers{{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}, d.registry.Render());
  });

  // The component registers its routes and may adjust server options before the server starts.
  Status started = start(d);
  if (!started.ok()) {
    CK_LOG_ERROR("Failed to start", "component", d.name, "err", started.message());
    return 1;
  }
  d.server = std::make_unique<net::HttpServer>(d.options, [&d](net::Request req, std::shared_ptr<net::ResponseWriter> w) {
    d.Dispatch(std::move(req), std::move(w));
  });
  Status listening = d.server->Start();
  if (!listening.ok()) {
    CK_LOG_ERROR("Failed to serve", "component", d.name, "err", listening.message());
    d.RequestShutdown(listening);
  } else {
    CK_LOG_INFO("Serving securely", "component", d.name, "address",
                d.options.bind_address + ":" + std::to_string(d.server->port()), "profile", d.profile_value.name);
  }

  std::thread signal_thread([&d, signals] {
    SetCurrentThreadName("signals");
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGTERM || sig == SIGINT) {
      CK_LOG_INFO("Received signal, shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    }
    d.RequestShutdown(Status::Ok());
  });

  Status reason;
  {
    std::unique_lock lock(d.mu);
    d.cv.wait(lock, [&] { return d.shutdown_requested; });
    reason = d.shutdown_reason;
  }
  pthread_kill(signal_thread.native_handle(), SIGTERM);  // wakes sigwait if it is still waiting
  signal_thread.join();

  d.draining = true;
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard lock(d.mu);
    hooks = d.hooks;
  }
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)();
  d.server->Stop(std::chrono::seconds(5));
  if (!reason.ok()) {
    CK_LOG_ERROR("Exiting on error", "component", d.name, "err", reason.message());
    return 1;
  }
  CK_LOG_INFO("Stopped", "component", d.name);
  return 0;
}

}  // namespace ck::daemon
