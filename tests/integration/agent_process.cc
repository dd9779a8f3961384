#include "tests/integration/agent_process.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace fscanary::testing {

std::string AgentPath() { return FSCANARY_AGENT; }

std::string AgentResult::Describe() const {
  return absl::StrCat(
      "fscanary-agent exit ", exit_code,
      process.term_signal != 0 ? absl::StrCat(" (signal ", process.term_signal, ")") : "",
      "\n stdout: ", process.out, "\n stderr: ", process.err);
}

AgentResult RunAgent(const std::vector<std::string>& args, const SpawnOptions& options) {
  std::vector<std::string> argv{AgentPath()};
  argv.insert(argv.end(), args.begin(), args.end());
  AgentResult result;
  absl::StatusOr<ProcessResult> process = RunProcess(argv, options);
  if (!process.ok()) {
    result.process.err = std::string(process.status().message());
    result.json = nlohmann::json(nlohmann::json::value_t::discarded);
    return result;
  }
  result.process = *std::move(process);
  result.exit_code = result.process.exit_code;
  result.json = nlohmann::json::parse(result.process.out, nullptr, /*allow_exceptions=*/false);
  return result;
}

uint64_t TargetIdOf(const nlohmann::json& json) {
  if (!json.is_object() || !json.contains("target_id") || !json["target_id"].is_string()) {
    return 0;
  }
  return std::strtoull(json["target_id"].get<std::string>().c_str(), nullptr, 16);
}

}  // namespace fscanary::testing
