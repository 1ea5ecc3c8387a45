// ck-shim --state-dir=DIR [--ready-fd=N] [--detach]: supervises one container (shim.h). Started
// by ProcessRuntime; everything about the container comes from DIR/spec.json. --detach: fork once
// and let the first process exit, so the shim is no child of its starter (which reaps the first).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common/base/strings.h"
#include "kubelet/shim/shim.h"

int main(int argc, char** argv) {
  std::string state_dir;
  int ready_fd = -1;
  bool detach = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--state-dir=", 0) == 0) {
      state_dir = arg.substr(strlen("--state-dir="));
    } else if (arg == "--detach") {
      detach = true;
    } else if (arg.rfind("--ready-fd=", 0) == 0) {
      ready_fd = static_cast<int>(ck::ParseInt(arg.substr(strlen("--ready-fd="))).value_or(-1));
    } else {
      std::fprintf(stderr, "ck-shim: unknown flag %s (usage: ck-shim --state-dir=DIR [--ready-fd=N] [--detach])\n", argv[i]);
      return 2;
    }
  }
  if (state_dir.empty()) {
    std::fprintf(stderr, "ck-shim: --state-dir is required\n");
    return 2;
  }
  if (detach) {
    pid_t child = fork();
    if (child < 0) {
      std::perror("ck-shim: fork");
      return 1;
    }
    if (child > 0) _exit(0);
  }
  return ck::kubelet::shim::RunShim(state_dir, ready_fd);
}
