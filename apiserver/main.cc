// ck-apiserver: the Kubernetes API over HTTPS, objects kept in the RocksDB store under
// --storage-dir. Flags keep kube-apiserver's names.
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>

#include "apiserver/auth/auth.h"
#include "apiserver/security/security.h"
#include "apiserver/server/api_server.h"
#include "common/api/time_format.h"
#include "common/base/strings.h"
#include "common/daemon/daemon.h"
#include "common/net/tls.h"
#include "store/rocksdb_store.h"

int main(int argc, char** argv) {
  // Request buffers come and go by the megabyte: keep freed memory in the heaps instead of giving
  // it back and asking again (each a mprotect/munmap system call; measured thousands per second).
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
  mallopt(M_TOP_PAD, 8 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  // Few heaps, so a large list body finds memory already touched by earlier ones (a first touch
  // costs a page fault per 4 KiB: ~2,000 for a 10,000-pod list).
  mallopt(M_ARENA_MAX, 4);
  ck::daemon::Daemon d("ck-apiserver", 6443);
  d.EnableClientCaFlag();
  ck::apiserver::ApiServerOptions options;
  std::string storage_dir;
  ck::apiserver::SecurityFlags sf;
  std::string api_audiences, enable_plugins, disable_plugins, max_token_expiration, event_ttl;
  int64_t toleration_seconds = -1;
  int io_threads = 2;
  auto& f = d.flags();
  f.add_option("--storage-dir", storage_dir, "Directory of the RocksDB store (in place of --etcd-servers).")->required();
  f.add_option("--token-auth-file", sf.token_auth_file,
               "If set, the file that will be used to secure the secure port of the API server via token authentication.");
  f.add_option("--authorization-mode", sf.authorization_mode,
               "Ordered list of plug-ins to do authorization on secure port. Comma-delimited list of: "
               "AlwaysAllow,AlwaysDeny,Node,RBAC.");
  f.add_option("--anonymous-auth", sf.anonymous_auth,
               "Enables anonymous requests to the secure port (only /healthz, /livez, /readyz and /version answer them).");
  f.add_option("--service-account-key-file", sf.service_account_key_files,
               "File containing PEM-encoded public RSA or ECDSA keys used to verify ServiceAccount tokens (repeatable).");
  f.add_option("--service-account-signing-key-file", sf.service_account_signing_key_file,
               "Path to the file that contains the current private key of the service account token issuer.");
  f.add_option("--service-account-issuer", sf.service_account_issuers,
               "Identifier of the service account token issuer (the iss claim); repeatable, the first one issues.");
  f.add_option("--api-audiences", api_audiences,
               "Identifiers of the API (comma separated); tokens must carry one. Defaults to the first issuer.");
  f.add_option("--service-account-max-token-expiration", max_token_expiration,
               "The maximum validity duration of a token created by the service account token issuer (e.g. 48h).");
  f.add_option("--enable-admission-plugins", enable_plugins,
               "Admission plugins to enable in addition to the default ones (comma separated).");
  f.add_option("--disable-admission-plugins", disable_plugins,
               "Admission plugins to disable although they are on by default (comma separated). All are on by default: "
               "NamespaceLifecycle, LimitRanger, ServiceAccount, NodeRestriction, PodSecurity, Priority, "
               "DefaultTolerationSeconds, MutatingAdmissionWebhook, ValidatingAdmissionWebhook, ResourceQuota.");
  f.add_option("--default-not-ready-toleration-seconds,--default-unreachable-toleration-seconds", toleration_seconds,
               "Seconds of the not-ready:NoExecute and unreachable:NoExecute tolerations added to pods without one "
               "(default: the profile's, 300 s).")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 31));
  f.add_option("--event-ttl", event_ttl,
               "Amount of time to retain events (default: the profile's, 1h0m0s; 10m0s with the teaching profile).");
  f.add_option("--audit-log-path", sf.audit_log_path,
               "If set, all requests coming to the apiserver will be logged to this file ('-' = standard out).");
  f.add_option("--audit-policy-file", sf.audit_policy_file, "Path to the file that defines the audit policy configuration.");
  f.add_option("--service-cluster-ip-range", options.service_cluster_ip_range,
               "A CIDR notation IP range from which to assign service cluster IPs.");
  f.add_option("--service-node-port-range", options.service_node_port_range,
               "A port range to reserve for services with NodePort visibility (e.g. '30000-32767'). Inclusive at both ends.");
  f.add_option("--advertise-address", options.advertise_address,
               "The IP address on which to advertise the apiserver to members of the cluster.");
  f.add_option("--max-requests-inflight", options.max_requests_inflight,
               "The maximum number of non-mutating requests in flight at a given time.")->check(CLI::Range(1, 100000));
  f.add_option("--max-mutating-requests-inflight", options.max_mutating_requests_inflight,
               "The maximum number of mutating requests in flight at a given time.")->check(CLI::Range(1, 100000));
  f.add_option("--default-watch-cache-size", options.watch_cache_size,
               "Events the watch cache keeps so that watches can resume from an older resourceVersion.")
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  std::string kubelet_cert, kubelet_key, kubelet_ca, kubelet_address_types;
  f.add_option("--kubelet-client-certificate", kubelet_cert, "Path to a client cert file for TLS (to the kubelets).");
  f.add_option("--kubelet-client-key", kubelet_key, "Path to a client key file for TLS (to the kubelets).");
  f.add_option("--kubelet-certificate-authority", kubelet_ca, "Path to a cert file for the certificate authority (of the kubelets' serving certificates).");
  f.add_option("--kubelet-preferred-address-types", kubelet_address_types,
               "List of the preferred NodeAddressTypes to use for kubelet connections (default "
               "Hostname,InternalDNS,InternalIP,ExternalDNS,ExternalIP).");
  f.add_option("--io-threads", io_threads, "I/O threads of the HTTPS server.")->check(CLI::Range(1, 16));
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  ck::RealRandom random;
  std::unique_ptr<ck::apiserver::Security> security;
  // Flag values that CLI11 cannot check: one readable line and exit 2, like a bad flag.
  {
    ck::apiserver::allocation::AllocationOptions ao{options.service_cluster_ip_range, options.service_node_port_range};
    ck::Result<ck::apiserver::allocation::AllocationConfig> ac = ck::apiserver::allocation::ParseAllocationOptions(ao);
    auto list = [](const std::string& s) {
      std::vector<std::string> out;
      for (std::string_view part : ck::Split(s, ',')) {
        if (!ck::TrimSpace(part).empty()) out.emplace_back(ck::TrimSpace(part));
      }
      return out;
    };
    sf.api_audiences = list(api_audiences);
    sf.enable_admission_plugins = list(enable_plugins);
    sf.disable_admission_plugins = list(disable_plugins);
    ck::Status dur = ck::Status::Ok();
    if (!max_token_expiration.empty()) {
      ck::Result<int64_t> nanos = ck::api::ParseGoDuration(max_token_expiration);
      if (!nanos.ok() || *nanos <= 0) {
        dur = ck::BadRequest("--service-account-max-token-expiration: not a duration: \"" + max_token_expiration + "\"");
      } else {
        sf.service_account_max_token_expiration_seconds = *nanos / 1'000'000'000;
      }
    }
    if (!event_ttl.empty()) {
      ck::Result<int64_t> nanos = ck::api::ParseGoDuration(event_ttl);
      if (!nanos.ok() || *nanos < 0) {
        dur = ck::BadRequest("--event-ttl: not a duration: \"" + event_ttl + "\"");
      } else {
        options.event_ttl = std::chrono::nanoseconds(*nanos);
      }
    }
    if (toleration_seconds >= 0) sf.default_toleration_seconds = toleration_seconds;
    if (!kubelet_address_types.empty()) options.kubelet_preferred_address_types = list(kubelet_address_types);
    ck::Status kubelet = ck::Status::Ok();
    if (kubelet_cert.empty() != kubelet_key.empty()) {
      kubelet = ck::BadRequest("--kubelet-client-certificate and --kubelet-client-key go together");
    } else if (!kubelet_cert.empty()) {
      ck::net::TlsClientConfig tc;
      auto read = [&](const std::string& path, std::string* out) {
        if (!kubelet.ok() || path.empty()) return;
        ck::Result<std::string> r = ck::net::ReadFile(path);
        if (r.ok()) {
          *out = std::move(*r);
        } else {
          kubelet = r.status();
        }
      };
      read(kubelet_cert, &tc.cert_pem);
      read(kubelet_key, &tc.key_pem);
      read(kubelet_ca, &tc.ca_pem);
      // Without --kubelet-certificate-authority upstream does not verify the kubelet.
      tc.insecure_skip_verify = kubelet_ca.empty();
      if (kubelet.ok()) {
        ck::Result<std::shared_ptr<ck::net::ClientTlsContext>> ctx = ck::net::MakeClientTlsContextHandle(tc);
        if (ctx.ok()) {
          options.kubelet_tls = *ctx;
        } else {
          kubelet = ck::BadRequest("--kubelet-client-certificate: " + ctx.status().message());
        }
      }
    }
    ck::Result<std::unique_ptr<ck::apiserver::Security>> sec =
        ck::apiserver::Security::Create(sf, &ck::RealClock::Get(), &random);
    if (sec.ok()) security = std::move(*sec);
    for (const ck::Status& s : {ac.status(), dur, sec.status(), kubelet}) {
      if (!s.ok()) {
        std::fprintf(stderr, "ck-apiserver: %s\n", s.message().c_str());
        return 2;
      }
    }
  }

  std::unique_ptr<ck::store::Store> store;
  std::unique_ptr<ck::apiserver::ApiServer> server;
  return d.Run([&](ck::daemon::Context& ctx) -> ck::Status {
    if (toleration_seconds < 0) {
      security->set_default_toleration_seconds(ctx.profile().default_toleration_seconds.count());
    }
    if (event_ttl.empty()) options.event_ttl = ctx.profile().event_ttl;
    ck::store::RocksDbStoreOptions so;
    CK_ASSIGN_OR_RETURN(store, ck::store::OpenRocksDbStore(storage_dir, so));
    options.secure_port = ctx.common_flags().secure_port;
    ctx.server_options().io_threads = io_threads;
    server = std::make_unique<ck::apiserver::ApiServer>(options, store.get(), security->authenticator(),
                                                        security->authorizer(), &ctx.clock(), &ctx.random(),
                                                        &ctx.metrics());
    CK_RETURN_IF_ERROR(security->Attach(server.get()));
    CK_RETURN_IF_ERROR(server->Start());
    ctx.SetFallback([&](ck::net::Request r, std::shared_ptr<ck::net::ResponseWriter> w) {
      server->Serve(std::move(r), std::move(w));
    });
    ctx.OnShutdown([&] { server->Stop(); });
    return ck::Status::Ok();
  });
}
