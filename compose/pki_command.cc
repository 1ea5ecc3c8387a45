// `ck pki`: flags to PkiOptions, WritePkiFiles, and a written/kept report (see pki_command.h).

#include "compose/pki_command.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "common/base/strings.h"
#include "common/pki/pki.h"

namespace ck::launcher {
namespace {

struct PkiFlags {
  ck::pki::PkiOptions options;
  std::string nodes = "1";  // parsed here, so a bad value gets our message rather than CLI11's
};

int RunPki(const PkiFlags& flags, std::ostream& out, std::ostream& err) {
  ck::pki::PkiOptions options = flags.options;
  std::optional<int64_t> nodes = ck::ParseInt(flags.nodes);
  if (!nodes) {
    err << "ck pki: --nodes: \"" << flags.nodes << "\" is not a whole number\n";
    return kExitUsage;
  }
  // Out-of-range values become 0, which ValidatePkiOptions rejects, without overflowing an int.
  options.nodes = *nodes >= 1 && *nodes <= ck::pki::kMaxNodes ? static_cast<int>(*nodes) : 0;
  if (ck::Status valid = ck::pki::ValidatePkiOptions(options); !valid.ok()) {
    std::string message = valid.message();
    if (message.starts_with("--nodes:")) {
      message = "--nodes: must be between 1 and " + std::to_string(ck::pki::kMaxNodes) + ", got " +
                flags.nodes;
    }
    err << "ck pki: " << message << "\n";
    return kExitUsage;
  }

  auto report = ck::pki::WritePkiFiles(options);
  if (!report.ok()) {
    err << "ck pki: " << report.status().message() << "\n";
    return kExitFailed;
  }
  for (const std::string& name : report->written) out << "  written  " << name << "\n";
  for (const std::string& name : report->kept) out << "  kept     " << name << "\n";
  out << "ck pki: " << options.dir << ": " << report->written.size() << " written, "
      << report->kept.size() << " kept; admin kubeconfig: " << options.dir << "/admin.kubeconfig\n";
  return kExitOk;
}

}  // namespace

CommandRun AddPkiCommand(CLI::App& cmd) {
  auto flags = std::make_shared<PkiFlags>();
  cmd.add_option("--dir", flags->options.dir, "folder to write into (created if missing)")
      ->required()
      ->type_name("DIR");
  cmd.add_option("--nodes", flags->nodes,
                 "number of nodes (node-1 .. node-N), 1 to " + std::to_string(ck::pki::kMaxNodes))
      ->type_name("N")
      ->capture_default_str();
  cmd.add_option("--service-cidr", flags->options.service_cidr,
                 "Service IP range; the apiserver certificate gets its first address")
      ->type_name("CIDR")
      ->capture_default_str();
  cmd.add_option("--server", flags->options.server, "apiserver URL written into the kubeconfigs")
      ->type_name("URL")
      ->capture_default_str();
  cmd.footer(
      "Re-running is safe: the CA and sa.key are never replaced; other files are kept while they "
      "still match and re-issued otherwise.");
  return [flags](std::ostream& out, std::ostream& err) { return RunPki(*flags, out, err); };
}

}  // namespace ck::launcher
