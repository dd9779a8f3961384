#include "collector/cli/operator_cli.h"

#include <map>
#include <ostream>
#include <string>

#include "CLI/CLI.hpp"
#include "collector/cli/analyze_command.h"

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

void AddAnalyze(CLI::App& app, AnalyzeRequest& request, std::string& on_bad_line,
                std::string& exposure, std::string& kind) {
  CLI::App* analyze = app.add_subcommand(
      "analyze", "Which kernel, blk-mq state, scheduler or config combination corruptions follow");
  analysis::AnalysisOptions& options = request.options;
  analyze->add_option("--input", request.input, "Host epochs as JSON lines ('-': stdin)")
      ->required();
  analyze->add_flag("--json", request.json, "Print one JSON document");
  analyze->add_option("--kind", kind, "Count only corruptions of this kind");
  analyze->add_option("--on-bad-line", on_bad_line, "skip or fail (default) on a bad line")
      ->check(CLI::IsMember({"skip", "fail"}));
  analyze->add_option("--exposure", exposure, "bytes (default) or seconds")
      ->check(CLI::IsMember({"bytes", "seconds"}));
  analyze->add_option("--max-order", options.max_order, "Items in a conjunction (1-4)")
      ->check(CLI::Range(1, 4));
  analyze
      ->add_option("--min-support", options.min_support,
                   "Share of the exposure a suspect must hold (0 to <1)")
      ->check(CLI::Range(0.0, 0.999999));
  analyze->add_option("--min-events", options.min_events, "Events a suspect must hold")
      ->check(CLI::PositiveNumber);
  analyze->add_option("--min-hosts", options.min_event_hosts,
                      "Distinct hosts those events must come from");
  analyze->add_option("--min-epochs", options.min_epochs, "Host epochs a suspect must hold");
  analyze
      ->add_option("--alpha", options.productive_alpha,
                   "Significance for 'higher than each of its parts'")
      ->check(CLI::Range(1e-12, 0.5));
  analyze->add_option("--top", options.max_suspects, "Suspects to report")
      ->check(CLI::PositiveNumber);
  analyze->add_option("--kernel-attribute", options.kernel_attribute,
                      "Attribute holding the kernel release");
}

}  // namespace

int RunOperatorCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"fscanary: fleet-wide detection of silent filesystem and block-layer corruption"};
  app.require_subcommand(1);
  AnalyzeRequest analyze;
  std::string on_bad_line = "fail";
  std::string exposure = "bytes";
  std::string kind;
  AddAnalyze(app, analyze, on_bad_line, exposure, kind);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports through exceptions; this is the one place they are caught.
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : kExitUsage;
  }
  if (app.got_subcommand("analyze")) {
    analyze.on_bad_line =
        on_bad_line == "skip" ? analysis::BadLinePolicy::kSkip : analysis::BadLinePolicy::kFail;
    analyze.options.exposure =
        exposure == "seconds" ? analysis::ExposureUnit::kSeconds : analysis::ExposureUnit::kBytes;
    if (!kind.empty()) analyze.options.kind = kind;
    const absl::Status status = RunAnalyze(analyze, out, err);
    if (!status.ok()) err << "fscanary analyze: " << status.message() << "\n";
    return ExitCodeOf(status);
  }
  return kExitUsage;
}

}  // namespace fscanary::cli
