#include "checkers/block/verify/verify_pass.h"

#include "checkers/block/classify/classifier.h"
#include "checkers/block/format/format.h"
#include "checkers/block/verify/block_pipeline.h"
#include "checkers/block/verify/evidence.h"
#include "common/status.h"
#include "spdlog/spdlog.h"

namespace fscanary::verify {
namespace {

// A block that read back wrong, kept until it has been re-read.
struct Suspect {
  uint64_t block = 0;
  block::Expectation expectation;
  block::Verdict verdict;
  std::vector<std::byte> found;
};

// Keeps only blocks that hold something durable.
std::vector<Run> VerifiableRuns(std::span<const Run> planned, const state::BlockStateFile& state,
                                VerifyResult& result) {
  std::vector<Run> runs;
  runs.reserve(planned.size());
  for (const Run& run : planned) {
    Run current{.first_block = run.first_block, .count = 0};
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      const state::BlockRecord record = state.Get(block);
      const bool verifiable = !record.damaged && record.durable_generation != 0;
      if (record.damaged) ++result.blocks_state_damaged;
      if (!record.damaged && record.durable_generation == 0) ++result.blocks_unwritten;
      if (verifiable) {
        if (current.count == 0) current.first_block = block;
        ++current.count;
        continue;
      }
      if (current.count > 0) runs.push_back(current);
      current.count = 0;
    }
    if (current.count > 0) runs.push_back(current);
  }
  return runs;
}

block::Verdict ClassifyRead(const block::Expectation& expectation,
                            std::span<const std::byte> buffer, int64_t io_result) {
  if (io_result != static_cast<int64_t>(buffer.size())) return block::ClassifyFailedRead(io_result);
  return block::Classify(expectation, buffer);
}

}  // namespace

absl::StatusOr<VerifyResult> RunVerifyPass(io::Engine& engine, const target::ScratchTarget& target,
                                           const state::BlockStateFile& state,
                                           const VerifyOptions& options) {
  const std::vector<Run> planned = PlanRuns(target.geometry().block_count, options.pass.pattern,
                                            options.pass.run_blocks, options.pass.seed);
  return VerifyRuns(engine, target, state, planned, options);
}

absl::StatusOr<VerifyResult> VerifyRuns(io::Engine& engine, const target::ScratchTarget& target,
                                        const state::BlockStateFile& state,
                                        std::span<const Run> planned,
                                        const VerifyOptions& options) {
  const state::TargetGeometry geometry = target.geometry();
  VerifyResult result;
  const std::vector<Run> runs = VerifiableRuns(planned, state, result);
  uint64_t to_verify = 0;
  for (const Run& run : runs) to_verify += run.count;

  auto expectation_of = [&](uint64_t block) {
    const state::BlockRecord record = state.Get(block);
    return block::Expectation{.target_id = geometry.target_id,
                              .offset = geometry.data_start + block * geometry.block_size,
                              .durable_generation = record.durable_generation,
                              .inflight_generation = record.inflight_generation,
                              .first_write = record.first_write};
  };
  const PipelineTarget pipeline_target{
      .fd = target.fd.get(), .data_start = geometry.data_start, .block_size = geometry.block_size};

  std::vector<Suspect> suspects;
  RETURN_IF_ERROR(
      RunBlocks(engine, pipeline_target, runs,
                {.op = io::IoOp::kRead, .limiter = options.pass.limiter}, nullptr,
                [&](uint64_t block, std::span<const std::byte> buffer, int64_t io_result,
                    uint64_t latency_ns) {
                  result.read_latency.Observe(static_cast<double>(latency_ns) / 1e9);
                  const block::Expectation expectation = expectation_of(block);
                  block::Verdict verdict = ClassifyRead(expectation, buffer, io_result);
                  ++result.blocks_verified;
                  if (io_result > 0) result.bytes_verified += static_cast<uint64_t>(io_result);
                  if (verdict.newer_than_state) {
                    ++result.blocks_newer_than_state;
                    result.newer_than_state_blocks.push_back(
                        {.block = block, .generation = verdict.found_generation.value_or(0)});
                  }
                  if (verdict.is_finding()) {
                    suspects.push_back({.block = block,
                                        .expectation = expectation,
                                        .verdict = std::move(verdict),
                                        .found = {buffer.begin(), buffer.end()}});
                  }
                  if (options.pass.progress)
                    options.pass.progress(result.blocks_verified, to_verify);
                }));

  // Re-read every suspect: a corruption that reads back right later was made
  // by the read path; one that never does is on the medium.
  uint32_t evidence_saved = 0;
  for (Suspect& suspect : suspects) {
    Finding finding{.offset = suspect.expectation.offset,
                    .verdict = std::move(suspect.verdict),
                    .expected_generation = suspect.expectation.durable_generation,
                    .persistent = true};
    for (uint32_t i = 0; i < options.rereads; ++i) {
      ASSIGN_OR_RETURN(const int64_t io_result,
                       ReadOneBlock(engine, pipeline_target, suspect.block));
      const block::Verdict reread =
          ClassifyRead(suspect.expectation, engine.Buffer(0).first(geometry.block_size), io_result);
      finding.rereads.push_back(reread.kind);
      if (!reread.is_finding()) finding.persistent = false;
    }
    if (!options.evidence_dir.empty() && evidence_saved < options.max_evidence_blocks) {
      std::vector<std::byte> expected(geometry.block_size);
      block::EncodeBlock(
          {.target_id = geometry.target_id,
           .offset = finding.offset,
           .generation = finding.expected_generation},
          suspect.found.size() == geometry.block_size ? block::RawWriteTime(suspect.found) : 0,
          expected);
      auto dir =
          SaveEvidence(options.evidence_dir, geometry.target_id, finding, suspect.found, expected);
      if (dir.ok()) {
        finding.evidence_dir = *dir;
        ++evidence_saved;
      } else {
        // Losing evidence must not lose the finding itself.
        spdlog::warn("could not save evidence of the finding at offset {}: {}", finding.offset,
                     std::string(dir.status().message()));
      }
    }
    result.findings.push_back(std::move(finding));
  }
  return result;
}

void LatencyHistogram::Observe(double seconds) {
  size_t bucket = 0;
  while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
  ++counts[bucket];
  sum_seconds += seconds;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts.size(); ++i) counts[i] += other.counts[i];
  sum_seconds += other.sum_seconds;
}

}  // namespace fscanary::verify
