// `ck`, the Clearkube launcher and toolbox: one binary whose first argument picks a command
// (`ck pki`, `ck up/down/status/stop/start`; `ck chaos`, `ck trace` later). This is the dispatcher:
// it owns the command table, parses argv with CLI11 and turns every usage error into one line.
// Threading: RunCk runs on the caller's thread and returns when the command is done.
#pragma once

#include <functional>
#include <iosfwd>

namespace CLI {
class App;
}  // namespace CLI

namespace ck::launcher {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // the command ran and failed (disk, a refused CA, ...)
inline constexpr int kExitUsage = 2;   // bad flags or arguments; nothing was done

// What a command does once argv is parsed; returns the process exit code. Regular output goes to
// `out`; on failure it writes exactly one line "ck <command>: <reason>" to `err`.
using CommandRun = std::function<int(std::ostream& out, std::ostream& err)>;

// One row of the command table: `add` registers the command's flags on its CLI11 subcommand and
// returns the action that reads them after parsing.
struct Command {
  const char* name;
  const char* summary;
  CommandRun (*add)(CLI::App& cmd);
};

// Runs `ck` with argv (argv[0] is the program name) and returns the exit code. Usage errors
// (unknown command, unknown or bad flag) print one line to `err` and return kExitUsage;
// --help prints the usage to `out` and returns kExitOk.
int RunCk(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace ck::launcher
