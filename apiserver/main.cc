// ck-apiserver: the Kubernetes API over HTTPS, objects kept in the RocksDB store under
// --storage-dir. Flags keep kube-apiserver's names.
#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>

#include "apiserver/auth/auth.h"
#include "apiserver/server/api_server.h"
#include "common/daemon/daemon.h"
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
  std::string storage_dir, token_auth_file, authorization_mode = "AlwaysAllow";
  int io_threads = 2;
  auto& f = d.flags();
  f.add_option("--storage-dir", storage_dir, "Directory of the RocksDB store (in place of --etcd-servers).")->required();
  f.add_option("--token-auth-file", token_auth_file,
               "If set, the file that will be used to secure the secure port of the API server via token authentication.");
  f.add_option("--authorization-mode", authorization_mode,
               "Ordered list of plug-ins to do authorization on secure port. Comma-delimited list of: AlwaysAllow,AlwaysDeny.");
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
  f.add_option("--io-threads", io_threads, "I/O threads of the HTTPS server.")->check(CLI::Range(1, 16));
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  // Flag values that CLI11 cannot check: one readable line and exit 2, like a bad flag.
  {
    ck::apiserver::allocation::AllocationOptions ao{options.service_cluster_ip_range, options.service_node_port_range};
    ck::Result<ck::apiserver::allocation::AllocationConfig> ac = ck::apiserver::allocation::ParseAllocationOptions(ao);
    ck::Result<std::unique_ptr<ck::apiserver::Authorizer>> az = ck::apiserver::NewAuthorizer(authorization_mode);
    for (const ck::Status& s : {ac.status(), az.status()}) {
      if (!s.ok()) {
        std::fprintf(stderr, "ck-apiserver: %s\n", s.message().c_str());
        return 2;
      }
    }
  }

  std::unique_ptr<ck::store::Store> store;
  std::unique_ptr<ck::apiserver::Authenticator> authn;
  std::unique_ptr<ck::apiserver::Authorizer> authz;
  std::unique_ptr<ck::apiserver::ApiServer> server;
  return d.Run([&](ck::daemon::Context& ctx) -> ck::Status {
    CK_ASSIGN_OR_RETURN(authz, ck::apiserver::NewAuthorizer(authorization_mode));
    CK_ASSIGN_OR_RETURN(authn, ck::apiserver::Authenticator::Create(token_auth_file));
    ck::store::RocksDbStoreOptions so;
    CK_ASSIGN_OR_RETURN(store, ck::store::OpenRocksDbStore(storage_dir, so));
    options.secure_port = ctx.common_flags().secure_port;
    ctx.server_options().io_threads = io_threads;
    server = std::make_unique<ck::apiserver::ApiServer>(options, store.get(), authn.get(), authz.get(), &ctx.clock(),
                                                        &ctx.random(), &ctx.metrics());
    CK_RETURN_IF_ERROR(server->Start());
    ctx.SetFallback([&](ck::net::Request r, std::shared_ptr<ck::net::ResponseWriter> w) {
      server->Serve(std::move(r), std::move(w));
    });
    ctx.OnShutdown([&] { server->Stop(); });
    return ck::Status::Ok();
  });
}
