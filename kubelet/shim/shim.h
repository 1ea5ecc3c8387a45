// ck-shim: the small per-container supervisor of process mode (containerd-shim's role). ProcessRuntime
// starts one per container, detached in its own session, so the container outlives a killed
// kubelet. The shim reads spec.json from the container's state directory, makes the volume mounts
// (root only, in a private mount namespace), forks the container into its own process group and
// cgroup, writes its stdout and stderr to the CRI log file, and records pid, times, exit code and
// reason in state.json (shim_state.h). Single-threaded; one call per process.
#pragma once

#include <string>

namespace ck::kubelet::shim {

// Runs the container described by <state_dir>/spec.json until it exits. `ready_fd` (or -1) gets
// one line once the container runs ("started <pid>") or could not start ("failed <message>"), and
// is closed. Returns the shim's exit code: 0 after recording the container's exit, 1 when the
// container could not start (state.json says why).
int RunShim(const std::string& state_dir, int ready_fd);

}  // namespace ck::kubelet::shim
