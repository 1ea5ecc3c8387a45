// ck-controller-manager: the control loops of kube-controller-manager (README.md). Flags keep
// kube-controller-manager's names; --secure-port (10257) serves /healthz and /metrics.
#include <malloc.h>

#include <cstdio>
#include <memory>

#include "common/daemon/daemon.h"
#include "controller-manager/controller_manager.h"

int main(int argc, char** argv) {
  // Informer objects are made on one thread and freed on others: with glibc's default of up to
  // 8 heaps per core, freed pods stay scattered over many heaps. Two keep the footprint closer
  // to the live data. A fixed mmap threshold keeps list pages and parser buffers (hundreds of
  // KB to MBs, short-lived) out of the heaps, where glibc's sliding threshold would put them and
  // leave holes between the long-lived objects.
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  ck::daemon::Daemon d("ck-controller-manager", 10257);
  ck::controller_manager::Options options;
  ck::controller_manager::RegisterFlags(d.flags(), &options);
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  // Flag values CLI11 cannot check: one readable line and exit 2, like a bad flag.
  if (auto checked = ck::controller_manager::ValidateOptions(options, ck::daemon::DefaultProfile()); !checked.ok()) {
    std::fprintf(stderr, "ck-controller-manager: %s\n", checked.status().message().c_str());
    return 2;
  }

  std::unique_ptr<ck::controller_manager::ControllerManager> manager;
  return d.Run([&](ck::daemon::Context& ctx) -> ck::Status {
    CK_ASSIGN_OR_RETURN(manager, ck::controller_manager::ControllerManager::Create(ctx, options));
    ctx.OnShutdown([&] { manager->Stop(); });
    return manager->Start();
  });
}
