#include "agent/one_shot.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "absl/strings/str_format.h"
#include "agent/config/agent_config.h"
#include "agent/progress_bar.h"
#include "checkers/block/classify/verdict.h"
#include "checkers/block/target/scratch_target.h"
#include "checkers/block/target/take_over.h"
#include "checkers/block/verify/finding_json.h"
#include "checkers/block/verify/verify_pass.h"
#include "common/status.h"
#include "io/posix.h"
#include "io/rate_limiter.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace fscanary::agent {
namespace {

int Fail(const absl::Status& status) {
  std::cerr << "fscanary-agent: " << status.message() << "\n";
  return kExitUsage;
}

absl::StatusOr<io::EngineChoice> MakeEngine(const CommonOptions& common, uint32_t block_size) {
  absl::StatusOr<io::EngineChoice> choice = io::CreateEngine(
      {.kind = common.engine, .queue_depth = common.queue_depth, .buffer_size = block_size});
  if (choice.ok() && !choice->fallback_reason.empty()) {
    spdlog::warn("io_uring unavailable ({}); using {}", choice->fallback_reason,
                 choice->engine->Name());
  }
  if (common.idle_priority) {
    if (absl::Status idle = io::SetIdleIoPriority(); !idle.ok()) {
      spdlog::warn("could not set idle I/O priority: {}", std::string(idle.message()));
    }
  }
  return choice;
}

io::RateLimiter MakeLimiter(const CommonOptions& common) {
  return io::RateLimiter({.bytes_per_second = common.rate_bytes_per_second,
                          .ios_per_second = common.rate_ios_per_second});
}

verify::PassOptions MakePassOptions(const CommonOptions& common, io::RateLimiter& limiter,
                                    ProgressBar& bar) {
  return {.pattern = common.pattern,
          .run_blocks = common.run_blocks,
          .seed = io::RandomU64(),
          .limiter = limiter.unlimited() ? nullptr : &limiter,
          .progress = [&bar](uint64_t done, uint64_t total) { bar.Update(done, total); }};
}

double Seconds(uint64_t start_ns) {
  return static_cast<double>(io::MonotonicNanos() - start_ns) / 1e9;
}

std::string Mib(uint64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

std::string DescribeFinding(const verify::Finding& finding) {
  const block::Verdict& verdict = finding.verdict;
  std::string text =
      absl::StrFormat("  %-18s offset %d (%s)", std::string(block::KindName(verdict.kind)),
                      finding.offset, finding.persistent ? "persistent" : "transient");
  if (verdict.found_generation) {
    absl::StrAppendFormat(&text, ", generation %d where %d was durable", *verdict.found_generation,
                          finding.expected_generation);
  }
  if (verdict.found_offset && *verdict.found_offset != finding.offset) {
    absl::StrAppendFormat(&text, ", block belongs at offset %d", *verdict.found_offset);
  }
  if (verdict.found_target_id) {
    absl::StrAppendFormat(&text, ", block of target %016x", *verdict.found_target_id);
  }
  // The sector map of a torn write or of damage confined to some sectors
  // (zeroed, foreign, misdirected); a checksum mismatch lists bytes instead.
  if (!verdict.sectors.empty() && verdict.kind != block::Kind::kChecksumMismatch) {
    text += ", sectors:";
    for (const block::SectorState state : verdict.sectors) {
      text += ' ';
      text += block::SectorStateName(state);
    }
  }
  if (!verdict.differing_bytes.empty()) {
    text += ", bytes differ at";
    for (const block::ByteRange& range : verdict.differing_bytes) {
      absl::StrAppendFormat(&text, " [%d,%d)", range.begin, range.end);
    }
  }
  if (verdict.kind == block::Kind::kIoError) {
    absl::StrAppendFormat(&text, ", errno %d", verdict.error_number);
  }
  if (verdict.kind == block::Kind::kShortRead) {
    absl::StrAppendFormat(&text, ", %d bytes read", verdict.bytes_read);
  }
  if (!finding.evidence_dir.empty()) text += "\n      evidence: " + finding.evidence_dir;
  return text;
}

}  // namespace

int RunWrite(const WriteCommand& command) {
  const CommonOptions& common = command.common;
  // A forced engine that this kernel refuses must fail before anything is written.
  if (common.engine == io::EngineKind::kIoUring) {
    if (auto probe = io::CreateEngine({.kind = common.engine, .queue_depth = 1}); !probe.ok()) {
      return Fail(probe.status());
    }
  }
  absl::StatusOr<target::WritableTarget> opened =
      target::OpenForWrite({.path = common.target,
                            .state_dir = common.state_dir,
                            .size = command.size,
                            .block_size = command.block_size});
  if (!opened.ok()) return Fail(opened.status());
  const target::ScratchTarget& target = opened->target;
  absl::StatusOr<io::EngineChoice> engine = MakeEngine(common, target.label.block_size);
  if (!engine.ok()) return Fail(engine.status());
  io::RateLimiter limiter = MakeLimiter(common);
  ProgressBar bar(common.json ? "" : "write");
  const uint64_t start = io::MonotonicNanos();
  absl::StatusOr<verify::WriteResult> result = verify::RunWritePass(
      *engine->engine, target, opened->state,
      {.pass = MakePassOptions(common, limiter, bar), .durability = command.durability});
  if (!result.ok()) return Fail(result.status());
  // A sync or the state that failed stopped the pass, as an error does.
  if (result->stopped) return Fail(absl::UnavailableError(result->failures.back().detail));
  const double seconds = Seconds(start);

  if (common.json) {
    nlohmann::json failures = nlohmann::json::array();
    for (const verify::IoFailure& failure : result->failures) {
      failures.push_back({{"offset", failure.offset},
                          {"errno", failure.error_number},
                          {"operation", std::string(verify::IoOperationName(failure.operation))}});
    }
    const nlohmann::json json{{"target", common.target},
                              {"target_id", absl::StrFormat("%016x", target.label.target_id)},
                              {"engine", std::string(engine->engine->Name())},
                              {"generation", result->generation},
                              {"block_size", target.label.block_size},
                              {"blocks_written", result->blocks_written},
                              {"bytes_written", result->bytes_written},
                              {"seconds", seconds},
                              {"write_failures", failures}};
    std::cout << json.dump() << "\n";
  } else {
    std::cout << absl::StrFormat(
        "%s: %d blocks of %d bytes (%s) written durably as generation %d with %s in %.2f s "
        "(%s/s)\n",
        common.target, result->blocks_written, target.label.block_size, Mib(result->bytes_written),
        result->generation, std::string(engine->engine->Name()), seconds,
        Mib(static_cast<uint64_t>(result->bytes_written / std::max(seconds, 1e-9))));
    for (const verify::IoFailure& failure : result->failures) {
      std::cout << absl::StrFormat("  %s failed at offset %d: errno %d\n",
                                   std::string(verify::IoOperationName(failure.operation)),
                                   failure.offset, failure.error_number);
    }
  }
  return result->failures.empty() ? kExitClean : kExitCorruption;
}

int RunVerify(const VerifyCommand& command) {
  const CommonOptions& common = command.common;
  absl::StatusOr<target::ReadableTarget> opened =
      target::OpenForVerify(common.target, common.state_dir);
  if (!opened.ok()) return Fail(opened.status());
  const target::ScratchTarget& target = opened->target;
  absl::StatusOr<io::EngineChoice> engine = MakeEngine(common, target.label.block_size);
  if (!engine.ok()) return Fail(engine.status());
  io::RateLimiter limiter = MakeLimiter(common);
  ProgressBar bar(common.json ? "" : "verify");
  const uint64_t start = io::MonotonicNanos();
  absl::StatusOr<verify::VerifyResult> result = verify::RunVerifyPass(
      *engine->engine, target, opened->state,
      {.pass = MakePassOptions(common, limiter, bar),
       .rereads = command.rereads,
       .evidence_dir =
           command.evidence_dir.empty() ? common.state_dir + "/evidence" : command.evidence_dir});
  if (!result.ok()) return Fail(result.status());
  const double seconds = Seconds(start);

  if (common.json) {
    nlohmann::json findings = nlohmann::json::array();
    for (const verify::Finding& finding : result->findings) {
      findings.push_back(verify::FindingToJson(finding));
    }
    const nlohmann::json json{{"target", common.target},
                              {"target_id", absl::StrFormat("%016x", target.label.target_id)},
                              {"engine", std::string(engine->engine->Name())},
                              {"block_size", target.label.block_size},
                              {"blocks_verified", result->blocks_verified},
                              {"bytes_verified", result->bytes_verified},
                              {"blocks_unwritten", result->blocks_unwritten},
                              {"blocks_state_damaged", result->blocks_state_damaged},
                              {"blocks_newer_than_state", result->blocks_newer_than_state},
                              {"seconds", seconds},
                              {"findings", findings}};
    std::cout << json.dump() << "\n";
  } else {
    std::cout << absl::StrFormat(
        "%s: %d blocks (%s) verified with %s in %.2f s (%s/s): ", common.target,
        result->blocks_verified, Mib(result->bytes_verified), std::string(engine->engine->Name()),
        seconds, Mib(static_cast<uint64_t>(result->bytes_verified / std::max(seconds, 1e-9))));
    if (result->findings.empty()) {
      std::cout << "no corruption found\n";
    } else {
      std::cout << result->findings.size() << " CORRUPTED BLOCK"
                << (result->findings.size() == 1 ? "" : "S") << "\n";
      for (const verify::Finding& finding : result->findings) {
        std::cout << DescribeFinding(finding) << "\n";
      }
    }
    if (result->blocks_state_damaged > 0) {
      std::cout << "  " << result->blocks_state_damaged
                << " blocks not verified: their state records are damaged\n";
    }
    if (result->blocks_newer_than_state > 0) {
      std::cout << "  " << result->blocks_newer_than_state
                << " blocks hold a generation the state never issued (state directory older "
                   "than the target?)\n";
    }
  }
  return result->findings.empty() ? kExitClean : kExitCorruption;
}

namespace {

// The take-over options a --config names: what the daemon would use.
absl::StatusOr<target::TakeOverOptions> TakeOverFromConfig(const TakeOverCommand& command) {
  if (!command.state_dir.empty() || command.size || command.block_size) {
    return absl::InvalidArgumentError(
        "--state-dir, --size and --block-size come from --config; give them only without it");
  }
  ASSIGN_OR_RETURN(const config::AgentConfig config, config::LoadAgentConfig(command.config_path));
  for (const config::TargetConfig& entry : config.targets) {
    if (entry.name != command.target && entry.path != command.target) continue;
    if (std::find(entry.checkers.begin(), entry.checkers.end(), "metadata") !=
        entry.checkers.end()) {
      return absl::InvalidArgumentError("target " + entry.name +
                                        " is a metadata tree (a directory); it is not taken over");
    }
    return target::TakeOverOptions{.path = entry.path,
                                   .state_dir = config::TargetStateDir(config),
                                   .size = entry.size,
                                   .block_size = entry.block_size};
  }
  return absl::InvalidArgumentError("--target " + command.target + ": " + command.config_path +
                                    " has no target of that name or path");
}

}  // namespace

int RunTakeOver(const TakeOverCommand& command) {
  target::TakeOverOptions options{.path = command.target,
                                  .state_dir = command.state_dir,
                                  .size = command.size,
                                  .block_size = command.block_size};
  if (!command.config_path.empty()) {
    absl::StatusOr<target::TakeOverOptions> from_config = TakeOverFromConfig(command);
    if (!from_config.ok()) return Fail(from_config.status());
    options = *std::move(from_config);
  } else if (command.state_dir.empty()) {
    return Fail(absl::InvalidArgumentError("take-over needs --config or --state-dir"));
  }
  absl::StatusOr<target::TakeOverPlan> plan = target::PlanTakeOver(options);
  if (!plan.ok()) return Fail(plan.status());
  std::cout << target::DescribeTakeOver(*plan, options.state_dir) << std::flush;
  if (plan->nothing_to_do) return kExitClean;
  if (!command.yes) {
    std::cout << "nothing written; run again with --yes to do it\n";
    return kExitUsage;
  }
  if (absl::Status done = target::CarryOutTakeOver(*plan, options.state_dir); !done.ok()) {
    return Fail(done);
  }
  std::cout << absl::StrFormat("done: %s is fscanary target %016x\n", plan->shown_as,
                               plan->label.target_id);
  return kExitClean;
}

}  // namespace fscanary::agent
