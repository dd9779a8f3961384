#pragma once
// The one-shot commands of fscanary-agent: `write` (one full pass, every block
// a new generation, made durable and recorded), `verify` (read every durable
// block back and classify it) and `take-over` (make a file or device that is
// not yet fscanary's its scratch area, once, on purpose). The daemon reuses
// the same engine and passes.

#include <cstdint>
#include <optional>
#include <string>

#include "checkers/block/verify/pattern.h"
#include "checkers/block/verify/write_pass.h"
#include "io/engine.h"

namespace fscanary::agent {

// Exit codes of every fscanary-agent command.
inline constexpr int kExitClean = 0;
inline constexpr int kExitCorruption = 1;
inline constexpr int kExitUsage = 2;

struct CommonOptions {
  std::string target;
  std::string state_dir;
  uint32_t queue_depth = 32;
  io::EngineKind engine = io::EngineKind::kAuto;
  verify::Pattern pattern = verify::Pattern::kSequential;
  uint32_t run_blocks = 8;
  double rate_bytes_per_second = 0;
  double rate_ios_per_second = 0;
  bool idle_priority = false;
  bool json = false;
};

struct WriteCommand {
  CommonOptions common;
  std::optional<uint64_t> size;
  std::optional<uint32_t> block_size;
  verify::Durability durability = verify::Durability::kBatchSync;
};

struct VerifyCommand {
  CommonOptions common;
  // Default: <state dir>/evidence.
  std::string evidence_dir;
  uint32_t rereads = 3;
};

struct TakeOverCommand {
  // A path; with config_path, a target's name or path in that config.
  std::string target;
  // The agent's config: path, size, block size and state directory come
  // from it. Otherwise state_dir (and size, block_size) are given.
  std::string config_path;
  std::string state_dir;
  std::optional<uint64_t> size;
  std::optional<uint32_t> block_size;
  // Without it, only what was found and what would be done is printed.
  bool yes = false;
};

// Each returns the process exit code, having printed the result to stdout and
// any error to stderr.
int RunWrite(const WriteCommand& command);
int RunVerify(const VerifyCommand& command);
int RunTakeOver(const TakeOverCommand& command);

}  // namespace fscanary::agent
