// `ck pki --dir DIR --nodes N [--service-cidr CIDR] [--server URL]`: writes the cluster's
// certificates, keys and kubeconfigs (DESIGN.md §7) through ck::pki::WritePkiFiles, then lists
// each file as written or kept. Re-running is safe: the CA is never replaced.
// Threading: runs on the caller's thread.
#pragma once

#include "compose/launcher.h"

namespace ck::launcher {

CommandRun AddPkiCommand(CLI::App& cmd);

}  // namespace ck::launcher
