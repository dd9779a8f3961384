#pragma once
// One verify pass over a target: every block ever made durable is read back
// (O_DIRECT) and classified; each finding is re-read to tell a persistent
// corruption from a transient one, and its evidence is kept.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/classify/verdict.h"
#include "checkers/block/state/block_state.h"
#include "checkers/block/target/scratch_target.h"
#include "checkers/block/verify/write_pass.h"
#include "io/engine.h"

namespace fscanary::verify {

struct Finding {
  // Bytes from the start of the target.
  uint64_t offset = 0;
  block::Verdict verdict;
  uint64_t expected_generation = 0;
  // Every re-read showed a corruption; false when a re-read came back right
  // (the read path, not the medium, was wrong).
  bool persistent = false;
  // The kinds the re-reads showed, in order.
  std::vector<block::Kind> rereads;
  // Where the evidence was saved; empty when the evidence budget was spent.
  std::string evidence_dir;
};

struct VerifyOptions {
  PassOptions pass;
  uint32_t rereads = 3;
  // Evidence directory; empty: keep none.
  std::string evidence_dir;
  // Findings whose blocks are saved; past it only the summary is kept.
  uint32_t max_evidence_blocks = 64;
};

// Read latencies, cumulative per upper bound in seconds (the last is +Inf).
struct LatencyHistogram {
  static constexpr std::array<double, 12> kBounds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.5,    2.5};
  std::array<uint64_t, kBounds.size() + 1> counts{};  // not cumulative; +Inf last
  double sum_seconds = 0;
  void Observe(double seconds);
  void Merge(const LatencyHistogram& other);
};

struct VerifyResult {
  uint64_t blocks_verified = 0;
  uint64_t bytes_verified = 0;
  // Blocks never made durable (nothing to verify yet).
  uint64_t blocks_unwritten = 0;
  // Blocks whose state record was damaged: not verified, counted.
  uint64_t blocks_state_damaged = 0;
  // Blocks holding a generation the state never issued (not findings), and
  // which blocks they were, with the generation where the block was intact
  // (0 where only some sectors were newer).
  uint64_t blocks_newer_than_state = 0;
  struct NewerBlock {
    uint64_t block = 0;
    uint64_t generation = 0;
  };
  std::vector<NewerBlock> newer_than_state_blocks;
  std::vector<Finding> findings;
  LatencyHistogram read_latency;
};

absl::StatusOr<VerifyResult> RunVerifyPass(io::Engine& engine, const target::ScratchTarget& target,
                                           const state::BlockStateFile& state,
                                           const VerifyOptions& options);

// Verifies the durable blocks among `runs` (the daemon's immediate read-back,
// cold reads and scrub steps).
absl::StatusOr<VerifyResult> VerifyRuns(io::Engine& engine, const target::ScratchTarget& target,
                                        const state::BlockStateFile& state,
                                        std::span<const Run> runs, const VerifyOptions& options);

}  // namespace fscanary::verify
