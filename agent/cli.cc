#include "agent/cli.h"

#include <iostream>
#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "agent/daemon/run.h"
#include "agent/one_shot.h"
#include "checkers/block/format/format.h"
#include "common/sizes.h"
#include "common/status.h"
#include "common/version/version.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace fscanary::agent {
namespace {

// Raw option text, validated after parsing so errors are statuses with names.
struct RawCommon {
  std::string engine = "auto";
  std::string pattern = "sequential";
  std::string rate_bytes = "0";
  double rate_iops = 0;
};

void AddCommon(CLI::App& command, CommonOptions& common, RawCommon& raw) {
  command.add_option("--target", common.target, "Scratch file or block device")->required();
  command.add_option("--state-dir", common.state_dir, "Directory of fscanary's durable state")
      ->required();
  command.add_option("--queue-depth", common.queue_depth, "I/Os in flight (1-4096)")
      ->check(CLI::Range(1, 4096));
  command.add_option("--engine", raw.engine, "auto, io_uring or psync");
  command.add_option("--pattern", raw.pattern, "sequential, random or merge");
  command
      .add_option("--run-blocks", common.run_blocks,
                  "Adjacent blocks submitted together (sequential, merge)")
      ->check(CLI::Range(1, 4096));
  command.add_option("--rate-bytes", raw.rate_bytes, "Bytes per second budget (0: unlimited)");
  command.add_option("--rate-iops", raw.rate_iops, "I/Os per second budget (0: unlimited)")
      ->check(CLI::NonNegativeNumber);
  command.add_flag("--idle", common.idle_priority, "Run in the idle I/O priority class");
  command.add_flag("--json", common.json, "Print one JSON document on stdout");
}

absl::Status FinishCommon(const RawCommon& raw, CommonOptions& common) {
  absl::StatusOr<io::EngineKind> engine = io::ParseEngineKind(raw.engine);
  if (!engine.ok()) {
    return absl::InvalidArgumentError("--engine: " + std::string(engine.status().message()));
  }
  common.engine = *engine;
  absl::StatusOr<verify::Pattern> pattern = verify::ParsePattern(raw.pattern);
  if (!pattern.ok()) {
    return absl::InvalidArgumentError("--pattern: " + std::string(pattern.status().message()));
  }
  common.pattern = *pattern;
  absl::StatusOr<uint64_t> rate = ParseByteSize(raw.rate_bytes);
  if (!rate.ok())
    return absl::InvalidArgumentError("--rate-bytes: " + std::string(rate.status().message()));
  common.rate_bytes_per_second = static_cast<double>(*rate);
  common.rate_ios_per_second = raw.rate_iops;
  return absl::OkStatus();
}

// An optional byte size flag: nullopt when not given.
absl::StatusOr<std::optional<uint64_t>> ParseSizeFlag(const std::string& flag,
                                                      const std::string& text) {
  if (text.empty()) return std::nullopt;
  absl::StatusOr<uint64_t> size = ParseByteSize(text);
  if (!size.ok()) {
    return absl::InvalidArgumentError(flag + ": " + std::string(size.status().message()));
  }
  return *size;
}

absl::StatusOr<std::optional<uint32_t>> ParseBlockSizeFlag(const std::string& text) {
  ASSIGN_OR_RETURN(const std::optional<uint64_t> size, ParseSizeFlag("--block-size", text));
  if (!size) return std::nullopt;
  if (absl::Status valid = block::ValidateBlockSize(*size); !valid.ok()) {
    return absl::InvalidArgumentError("--block-size: " + std::string(valid.message()));
  }
  return static_cast<uint32_t>(*size);
}

}  // namespace

int RunCli(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("fscanary-agent"));
  spdlog::set_pattern("%^%l%$: %v");

  CLI::App app{"fscanary-agent: detects silent filesystem and block-layer corruption"};
  app.require_subcommand(1);
  // "0.1.0+<source revision>", as the agent reports itself to the collector.
  app.set_version_flag("--version", version::VersionWithRevision());

  WriteCommand write;
  RawCommon write_raw;
  std::string write_size, write_block_size, durability = "batch";
  CLI::App* write_app = app.add_subcommand(
      "write", "One full pass: every block a new generation, made durable and recorded");
  AddCommon(*write_app, write.common, write_raw);
  write_app->add_option("--size", write_size, "Bytes of the target to use (e.g. 1G)");
  write_app->add_option("--block-size", write_block_size, "Block size (512 B to 1 MiB)");
  write_app->add_option("--durability", durability,
                        "batch (fdatasync per batch) or dsync (RWF_DSYNC per write)");

  VerifyCommand verify;
  RawCommon verify_raw;
  CLI::App* verify_app =
      app.add_subcommand("verify", "Read back every durable block and classify it");
  AddCommon(*verify_app, verify.common, verify_raw);
  verify_app->add_option("--evidence-dir", verify.evidence_dir,
                         "Where evidence of findings is kept (default: STATE_DIR/evidence)");
  verify_app->add_option("--rereads", verify.rereads, "Re-reads of each finding")
      ->check(CLI::Range(0, 100));

  TakeOverCommand take_over;
  std::string take_over_size, take_over_block_size;
  CLI::App* take_over_app = app.add_subcommand(
      "take-over",
      "Make a file or device that is not yet fscanary's its scratch area, once: says what it "
      "found and what it would do, and does it with --yes");
  take_over_app
      ->add_option("--target", take_over.target,
                   "The file or block device (with --config: a target's name or path there)")
      ->required();
  take_over_app->add_option("--config", take_over.config_path,
                            "The agent's configuration: size, block size, state dir from there");
  take_over_app->add_option("--state-dir", take_over.state_dir,
                            "Directory of fscanary's durable state (without --config)");
  take_over_app->add_option("--size", take_over_size,
                            "Bytes to use (default: a device's whole size)");
  take_over_app->add_option("--block-size", take_over_block_size, "Block size (default 4096)");
  take_over_app->add_flag("--yes", take_over.yes, "Do it (without: only say what would be done)");

  std::string config_path = "/etc/fscanary/agent.yaml";
  CLI::App* run_app = app.add_subcommand(
      "run", "Run as a daemon: check every configured target, report to the collector");
  run_app->add_option("--config", config_path, "Agent configuration (YAML)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitClean : kExitUsage;
  }

  auto usage_error = [](const absl::Status& status) {
    std::cerr << "fscanary-agent: " << status.message() << "\n";
    return kExitUsage;
  };
  if (run_app->parsed()) return daemon::RunDaemon(config_path);
  if (take_over_app->parsed()) {
    absl::StatusOr<std::optional<uint64_t>> size = ParseSizeFlag("--size", take_over_size);
    if (!size.ok()) return usage_error(size.status());
    take_over.size = *size;
    absl::StatusOr<std::optional<uint32_t>> block_size = ParseBlockSizeFlag(take_over_block_size);
    if (!block_size.ok()) return usage_error(block_size.status());
    take_over.block_size = *block_size;
    return RunTakeOver(take_over);
  }
  if (write_app->parsed()) {
    if (absl::Status s = FinishCommon(write_raw, write.common); !s.ok()) return usage_error(s);
    absl::StatusOr<std::optional<uint64_t>> size = ParseSizeFlag("--size", write_size);
    if (!size.ok()) return usage_error(size.status());
    write.size = *size;
    absl::StatusOr<std::optional<uint32_t>> block_size = ParseBlockSizeFlag(write_block_size);
    if (!block_size.ok()) return usage_error(block_size.status());
    write.block_size = *block_size;
    if (durability == "batch") {
      write.durability = verify::Durability::kBatchSync;
    } else if (durability == "dsync") {
      write.durability = verify::Durability::kDsync;
    } else {
      return usage_error(
          absl::InvalidArgumentError("--durability: '" + durability + "' is not batch or dsync"));
    }
    return RunWrite(write);
  }
  if (absl::Status s = FinishCommon(verify_raw, verify.common); !s.ok()) return usage_error(s);
  return RunVerify(verify);
}

}  // namespace fscanary::agent
