// ck-kubelet: the kubelet's role (kubelet/README.md). Flags keep the kubelet's names;
// --secure-port (10250) serves the kubelet API (kubelet/server: logs, exec, attach,
// port-forward, pods), /healthz and /metrics on --bind-address (the node IP).
#include <cstdio>
#include <memory>

#include "common/daemon/daemon.h"
#include "kubelet/core/kubelet.h"

int main(int argc, char** argv) {
  ck::daemon::Daemon d("ck-kubelet", 10250);
  ck::kubelet::Options options;
  d.EnableClientCaFlag();  // client certificates for the kubelet API (the apiserver's)
  ck::kubelet::RegisterFlags(d.flags(), &options);
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  // Flag values CLI11 cannot check: one readable line and exit 2, like a bad flag.
  if (auto checked = ck::kubelet::ValidateOptions(options); !checked.ok()) {
    std::fprintf(stderr, "ck-kubelet: %s\n", checked.message().c_str());
    return 2;
  }

  std::unique_ptr<ck::kubelet::KubeletApp> app;
  return d.Run([&](ck::daemon::Context& ctx) -> ck::Status {
    CK_ASSIGN_OR_RETURN(app, ck::kubelet::KubeletApp::Create(ctx, options));
    ctx.OnShutdown([&] { app->Stop(); });
    return app->Start();
  });
}
