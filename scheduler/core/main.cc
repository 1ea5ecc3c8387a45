// ck-scheduler: kube-scheduler's role (scheduler/README.md). Flags keep kube-scheduler's names;
// --secure-port (10259) serves /healthz, /metrics and /debug/explain.
#include <malloc.h>

#include <cstdio>
#include <memory>

#include "common/daemon/daemon.h"
#include "scheduler/core/app.h"

int main(int argc, char** argv) {
  // Informer objects are made on one thread and freed on others: with glibc's default of up to
  // 8 heaps per core, freed pods stay scattered over many heaps. Two keep the footprint closer
  // to the live data. A fixed mmap threshold keeps list pages and parser buffers (hundreds of
  // KB to MBs, short-lived) out of the heaps, where glibc's sliding threshold would put them and
  // leave holes between the long-lived objects.
  mallopt(M_ARENA_MAX, 2);
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  ck::daemon::Daemon d("ck-scheduler", 10259);
  ck::scheduler::AppOptions options;
  ck::scheduler::RegisterFlags(d.flags(), &options);
  if (auto rc = d.ParseFlags(argc, argv)) return *rc;
  // What CLI11 cannot check (the --config file, durations): one readable line and exit 2.
  if (auto resolved = ck::scheduler::ResolveConfig(options); !resolved.ok()) {
    std::fprintf(stderr, "ck-scheduler: %s\n", resolved.status().message().c_str());
    return 2;
  }

  std::unique_ptr<ck::scheduler::SchedulerApp> app;
  return d.Run([&](ck::daemon::Context& ctx) -> ck::Status {
    CK_ASSIGN_OR_RETURN(app, ck::scheduler::SchedulerApp::Create(ctx, options));
    ctx.OnShutdown([&] { app->Stop(); });
    return app->Start();
  });
}
