// The cluster commands of `ck` (DESIGN.md §7), one row each in launcher.cc's command table:
//   ck up --nodes N --state-dir DIR [--profile default|teaching] [--runtime process|fake]
//         [--no-restart] [--detach] [--apiserver-port P] ...   start and supervise a cluster
//   ck down --state-dir DIR [--purge]      stop the supervisor, every daemon and container
//   ck status --state-dir DIR              COMPONENT PID STATE RESTARTS UPTIME READY
//   ck stop --state-dir DIR COMPONENT      stop one daemon and keep it stopped
//   ck start --state-dir DIR COMPONENT     start it again
// stop/start talk to the running supervisor through files in DIR/run (cluster_plan.h's
// StateLayout): `ck stop` creates <c>.stopped and waits until the supervisor has stopped the
// daemon; `ck start` removes it, asks with <c>.start and waits until the daemon is ready.
// Threading: each command runs on the caller's thread.
#pragma once

#include "compose/launcher.h"

namespace ck::launcher {

CommandRun AddUpCommand(CLI::App& cmd);
CommandRun AddDownCommand(CLI::App& cmd);
CommandRun AddStatusCommand(CLI::App& cmd);
CommandRun AddStopCommand(CLI::App& cmd);
CommandRun AddStartCommand(CLI::App& cmd);

}  // namespace ck::launcher
