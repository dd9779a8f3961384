#include "collector/cli/operator_cli.h"

#include <map>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "collector/cli/analyze_command.h"
#include "collector/cli/experiment_commands.h"
#include "collector/cli/live_commands.h"

namespace fscanary::cli {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;

int ExitCodeOf(const absl::Status& status) {
  if (status.ok()) return 0;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kDataLoss:
      return kExitUsage;
    default:
      return kExitFailure;
  }
}

constexpr const char* kDefaultCollector = "127.0.0.1:7420";

// How to reach the collector's main listener, where queries need an
// operator token or certificate (its admin listener needs neither).
void AddCredentialOptions(CLI::App& command, CollectorConnection& connection) {
  command.add_option("--ca", connection.ca_file, "PEM CA of the collector's certificate: use TLS")
      ->envname("FSCANARY_CA");
  command
      .add_option("--token-file", connection.token_file,
                  "File holding only the operator's token (the collector's operator_tokens_file)")
      ->envname("FSCANARY_TOKEN_FILE");
  command
      .add_option("--cert", connection.cert_file,
                  "PEM client certificate, for a collector under mutual TLS")
      ->envname("FSCANARY_CERT");
  command.add_option("--key", connection.key_file, "PEM key of --cert")->envname("FSCANARY_KEY");
}

void AddCollectorOption(CLI::App& command, CollectorConnection& connection) {
  command
      .add_option("--collector", connection.address,
                  "Collector query address, host:port or unix:/path: its listener (with "
                  "--token-file or --cert) or its admin listener")
      ->envname("FSCANARY_COLLECTOR")
      ->capture_default_str();
  AddCredentialOptions(command, connection);
}

// The flags the engine options are parsed from before they become enums.
struct InventoryFlags {
  std::string on_bad_line = "fail";
  std::string exposure = "bytes";
  std::string kind;
};

// The inventory and the engine's options, one set for analyze, plan and report
// so that `report 2` names the suspect `analyze` ranked second with the same
// options. Returns --input, which plan and report require.
CLI::Option* AddEngineOptions(CLI::App& command, AnalyzeRequest& request, InventoryFlags& flags) {
  analysis::AnalysisOptions& options = request.options;
  CLI::Option* input =
      command.add_option("--input", request.input, "Host epochs as JSON lines ('-': stdin)");
  command.add_flag("--json", request.json, "Print one JSON document");
  command.add_option("--kind", flags.kind, "Count only corruptions of this kind");
  command.add_option("--on-bad-line", flags.on_bad_line, "skip or fail (default) on a bad line")
      ->check(CLI::IsMember({"skip", "fail"}));
  command.add_option("--exposure", flags.exposure, "bytes (default) or seconds")
      ->check(CLI::IsMember({"bytes", "seconds"}));
  command.add_option("--max-order", options.max_order, "Items in a conjunction (1-4)")
      ->check(CLI::Range(1, 4));
  command
      .add_option("--min-support", options.min_support,
                  "Share of the exposure a suspect must hold (0 to <1)")
      ->check(CLI::Range(0.0, 0.999999));
  command.add_option("--min-events", options.min_events, "Events a suspect must hold")
      ->check(CLI::PositiveNumber);
  command.add_option("--min-hosts", options.min_event_hosts,
                     "Distinct hosts those events must come from");
  command.add_option("--min-epochs", options.min_epochs, "Host epochs a suspect must hold");
  command
      .add_option("--alpha", options.productive_alpha,
                  "Significance for 'higher than each of its parts'")
      ->check(CLI::Range(1e-12, 0.5));
  command.add_option("--top", options.max_suspects, "Suspects to report")
      ->check(CLI::PositiveNumber);
  command.add_option("--kernel-attribute", options.kernel_attribute,
                     "Attribute holding the kernel release");
  return input;
}

void ApplyEngineOptions(AnalyzeRequest& request, const InventoryFlags& flags) {
  request.on_bad_line =
      flags.on_bad_line == "skip" ? analysis::BadLinePolicy::kSkip : analysis::BadLinePolicy::kFail;
  request.options.exposure = flags.exposure == "seconds" ? analysis::ExposureUnit::kSeconds
                                                         : analysis::ExposureUnit::kBytes;
  if (!flags.kind.empty()) request.options.kind = flags.kind;
}

// The live request: the options the collector's engine takes, as given.
v1::AnalyzeRequest LiveAnalyzeRequest(const AnalyzeRequest& request, const InventoryFlags& flags) {
  const analysis::AnalysisOptions defaults;
  const analysis::AnalysisOptions& options = request.options;
  v1::AnalyzeRequest live;
  live.set_kind(flags.kind);
  live.set_json(request.json);
  live.set_exposure(flags.exposure);
  if (options.max_order != defaults.max_order) live.set_max_order(options.max_order);
  if (options.min_events != defaults.min_events) live.set_min_events(options.min_events);
  if (options.min_event_hosts != defaults.min_event_hosts) {
    live.set_min_hosts(options.min_event_hosts);
  }
  if (options.min_epochs != defaults.min_epochs) live.set_min_epochs(options.min_epochs);
  if (options.min_support != defaults.min_support) live.set_min_support(options.min_support);
  if (options.max_suspects != defaults.max_suspects) {
    live.set_top(static_cast<uint32_t>(options.max_suspects));
  }
  if (options.productive_alpha != defaults.productive_alpha) {
    live.set_alpha(options.productive_alpha);
  }
  return live;
}

int Report(const absl::Status& status, const char* command, std::ostream& err) {
  if (!status.ok()) err << "fscanary " << command << ": " << status.message() << "\n";
  return ExitCodeOf(status);
}

}  // namespace

int RunOperatorCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"fscanary: fleet-wide detection of silent filesystem and block-layer corruption"};
  app.require_subcommand(1);
  AnalyzeRequest analyze;
  InventoryFlags analyze_flags;
  CLI::App* analyze_command = app.add_subcommand(
      "analyze",
      "Which kernel, blk-mq state, scheduler or config combination corruptions follow: from an "
      "inventory file (--input) or from a running collector (--collector)");
  AddEngineOptions(*analyze_command, analyze, analyze_flags);
  CollectorConnection analyze_collector{.address = ""};
  analyze_command
      ->add_option("--collector", analyze_collector.address,
                   "Analyse the epochs a running collector holds (host:port)")
      ->envname("FSCANARY_COLLECTOR");
  AddCredentialOptions(*analyze_command, analyze_collector);

  CollectorConnection connection{.address = kDefaultCollector};
  bool json = false;
  CLI::App* hosts = app.add_subcommand("hosts", "The hosts the collector knows");
  AddCollectorOption(*hosts, connection);
  hosts->add_flag("--json", json, "Print JSON");

  FindingsRequest findings;
  CLI::App* findings_command = app.add_subcommand("findings", "The newest findings, newest first");
  AddCollectorOption(*findings_command, connection);
  findings_command->add_option("--host", findings.host, "Only this host's (agent id)");
  findings_command
      ->add_option("--since", findings.since_seconds, "Only those received in the last N seconds")
      ->check(CLI::PositiveNumber);
  findings_command->add_option("--limit", findings.limit, "At most this many (1-100000)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  findings_command->add_flag("--json", findings.json, "Print JSON");

  bool known_bug_hosts = false;
  CLI::App* known_bugs = app.add_subcommand(
      "known-bugs", "Hosts on a configuration a known corruption bug needs, per bug");
  AddCollectorOption(*known_bugs, connection);
  known_bugs->add_flag("--hosts", known_bug_hosts, "List the hosts and why each matches");
  known_bugs->add_flag("--json", json, "Print JSON");

  std::string host_id;
  CLI::App* host = app.add_subcommand("host", "One host: facts by epoch, findings with evidence");
  AddCollectorOption(*host, connection);
  host->add_option("agent_id", host_id, "The host's agent id")->required();
  host->add_flag("--json", json, "Print JSON");
  PlanRequest plan;
  InventoryFlags plan_flags;
  uint64_t fix_hosts = 0;
  CLI::App* plan_command = app.add_subcommand(
      "plan",
      "Experiments for a suspect: the smallest change that tells its aliases apart, and how many "
      "hosts and days a fix needs to be confirmed");
  AddEngineOptions(*plan_command, plan.analyze, plan_flags)->required();
  plan_command->add_option("--suspect", plan.suspect, "Rank or attributes (a=b,c=d) of the suspect")
      ->capture_default_str();
  plan_command->add_option("--within", plan.within_days, "Days a split should take at most")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  plan_command->add_option("--power", plan.power, "Probability the forecast days must reach")
      ->check(CLI::Range(0.5, 0.999))
      ->capture_default_str();
  plan_command->add_option("--fix-hosts", fix_hosts, "Hosts a fix would be applied to")
      ->check(CLI::PositiveNumber);

  ReportRequest report;
  InventoryFlags report_flags;
  CLI::App* report_command = app.add_subcommand(
      "report", "An incident report on one suspect for a kernel maintainer or a bug tracker");
  report_command->add_option("suspect", report.suspect, "Rank or attributes (a=b,c=d)")->required();
  AddEngineOptions(*report_command, report.analyze, report_flags)->required();
  report_command->add_option("--findings", report.findings_file,
                             "`fscanary findings --json` output: evidence summaries to quote");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports through exceptions; this is the one place they are caught.
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : kExitUsage;
  }
  if (app.got_subcommand("hosts")) return Report(RunHosts(connection, json, out), "hosts", err);
  if (app.got_subcommand("findings")) {
    return Report(RunFindings(connection, findings, out), "findings", err);
  }
  if (app.got_subcommand("host"))
    return Report(RunHost(connection, host_id, json, out), "host", err);
  if (app.got_subcommand("known-bugs")) {
    return Report(RunKnownBugs(connection, known_bug_hosts, json, out), "known-bugs", err);
  }
  if (app.got_subcommand("plan")) {
    ApplyEngineOptions(plan.analyze, plan_flags);
    if (fix_hosts > 0) plan.fix_hosts = fix_hosts;
    return Report(RunPlan(plan, out, err), "plan", err);
  }
  if (app.got_subcommand("report")) {
    ApplyEngineOptions(report.analyze, report_flags);
    return Report(RunReport(report, out, err), "report", err);
  }
  if (app.got_subcommand("analyze")) {
    if (analyze.input.empty() == analyze_collector.address.empty()) {
      err << "fscanary analyze: give exactly one of --input FILE and --collector ADDRESS\n";
      return kExitUsage;
    }
    if (!analyze_collector.address.empty()) {
      if (analyze_flags.on_bad_line != "fail") {
        err << "fscanary analyze: --on-bad-line applies to --input only\n";
        return kExitUsage;
      }
      return Report(
          RunLiveAnalyze(analyze_collector, LiveAnalyzeRequest(analyze, analyze_flags), out, err),
          "analyze", err);
    }
    ApplyEngineOptions(analyze, analyze_flags);
    const absl::Status status = RunAnalyze(analyze, out, err);
    if (!status.ok()) err << "fscanary analyze: " << status.message() << "\n";
    return ExitCodeOf(status);
  }
  return kExitUsage;
}

}  // namespace fscanary::cli
