#include "tests/integration/scratch.h"

namespace fscanary::testing {

absl::Status Scratch::Prepare() {
  if (!options_.loop_device) {
    target_ = dir_.Join("target");
    return absl::OkStatus();
  }
  // A spare MiB past the declared size: the agent must stay within --size.
  absl::StatusOr<LoopDevice> loop =
      LoopDevice::Attach(dir_.Join("backing"), layout_.TargetSize(options_.blocks) + (1 << 20));
  if (!loop.ok()) return loop.status();
  loop_.emplace(*std::move(loop));
  target_ = loop_->path();
  // A device becomes fscanary's only when taken over, as an operator does.
  const AgentResult taken =
      RunAgent({"take-over", "--target", target_, "--state-dir", state_dir(), "--size",
                std::to_string(layout_.TargetSize(options_.blocks)), "--block-size",
                std::to_string(options_.block_size), "--yes"});
  if (taken.exit_code != 0) return absl::InternalError("take-over failed: " + taken.Describe());
  return absl::OkStatus();
}

std::vector<std::string> Scratch::CommandArgs(const std::string& command,
                                              const std::vector<std::string>& options,
                                              const std::vector<std::string>& extra) const {
  std::vector<std::string> args{command, "--target", target_, "--state-dir", state_dir()};
  args.insert(args.end(), {"--engine", options_.engine, "--json"});
  args.insert(args.end(), options.begin(), options.end());
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::vector<std::string> Scratch::WriteArgs(const std::vector<std::string>& extra) const {
  return CommandArgs("write",
                     {"--size", std::to_string(layout_.TargetSize(options_.blocks)), "--block-size",
                      std::to_string(options_.block_size)},
                     extra);
}

AgentResult Scratch::Write(const std::vector<std::string>& extra, const SpawnOptions& spawn) const {
  return RunAgent(WriteArgs(extra), spawn);
}

AgentResult Scratch::Verify(const std::vector<std::string>& extra,
                            const SpawnOptions& spawn) const {
  return RunAgent(CommandArgs("verify", {"--evidence-dir", evidence_dir()}, extra), spawn);
}

}  // namespace fscanary::testing
