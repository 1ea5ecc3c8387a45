// The `ck` dispatcher: the command table and CLI11 parsing (see launcher.h).

#include "compose/launcher.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include "compose/cluster_commands.h"
#include "compose/pki_command.h"

namespace ck::launcher {
namespace {

// Every `ck` command, in the order `ck --help` lists them.
const Command kCommands[] = {
    {"pki", "write the cluster's CA, certificates, keys and kubeconfigs", AddPkiCommand},
    {"up", "start a cluster (PKI, apiserver, controllers, scheduler, N kubelets) and supervise it", AddUpCommand},
    {"down", "stop a cluster's supervisor, daemons and containers", AddDownCommand},
    {"status", "one line per daemon: PID, state, restarts, uptime, readiness", AddStatusCommand},
    {"stop", "stop one daemon and keep it stopped", AddStopCommand},
    {"start", "start a stopped daemon again", AddStartCommand},
};

std::string CommandNames() {
  std::string names;
  for (const Command& c : kCommands) names += (names.empty() ? "" : ", ") + std::string(c.name);
  return names;
}

// CLI11's messages are single sentences; make sure no newline can split the one error line.
std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

int RunCk(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"ck: the Clearkube launcher and toolbox", "ck"};
  app.footer("Commands: " + CommandNames() + ". Run `ck COMMAND --help` for a command's flags.");
  std::vector<std::pair<CLI::App*, CommandRun>> commands;
  for (const Command& c : kCommands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    commands.emplace_back(sub, c.add(*sub));
  }

  // CLI11 reads an unknown word as a stray argument; name it for what it is.
  if (argc < 2) {
    err << "ck: a command is required (" << CommandNames() << "); see ck --help\n";
    return kExitUsage;
  }
  std::string first = argv[1];
  bool known = std::any_of(std::begin(kCommands), std::end(kCommands),
                           [&](const Command& c) { return first == c.name; });
  if (!known && !first.starts_with("-")) {
    err << "ck: unknown command \"" << first << "\" (commands: " << CommandNames() << ")\n";
    return kExitUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();  // the selected command's help when there is one
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::string prefix = "ck";
    for (const auto& [sub, run] : commands) {
      if (sub->parsed()) prefix += " " + sub->get_name();
    }
    err << prefix << ": " << OneLine(e.what()) << "\n";
    return kExitUsage;
  }
  for (const auto& [sub, run] : commands) {
    if (sub->parsed()) return run(out, err);
  }
  err << "ck: a command is required (" << CommandNames() << "); see ck --help\n";
  return kExitUsage;
}

}  // namespace ck::launcher
