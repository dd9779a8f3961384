// One measured cycle of one checker, for tests/bench/checkers_vs_fio.sh: a
// write round over the whole target and its read-back (block, page_cache), or
// a full walk of a grown tree (metadata). Prints one JSON line: wall and CPU
// seconds of the measured part and what it verified. Not a test.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_format.h"
#include "checkers/block/block_checker.h"
#include "checkers/metadata/metadata_checker.h"
#include "checkers/pagecache/page_cache_checker.h"
#include "io/posix.h"

namespace fscanary::bench {
namespace {

constexpr uint64_t kHour = 3'600'000'000'000;

struct Measured {
  double seconds = 0;
  double cpu_seconds = 0;
  checker::Activity activity;
  size_t findings = 0;
};

// Steps `checker` at `now_ns` once and measures that step.
absl::StatusOr<Measured> MeasureStep(checker::Checker& checker, uint64_t now_ns) {
  (void)checker.TakeActivity();
  const uint64_t wall_start = io::MonotonicNanos();
  const uint64_t cpu_start = io::ProcessCpuNanos();
  absl::StatusOr<std::vector<checker::Finding>> findings = checker.Step(now_ns);
  Measured measured{.seconds = static_cast<double>(io::MonotonicNanos() - wall_start) / 1e9,
                    .cpu_seconds = static_cast<double>(io::ProcessCpuNanos() - cpu_start) / 1e9};
  if (!findings.ok()) return findings.status();
  measured.findings = findings->size();
  measured.activity = checker.TakeActivity();
  return measured;
}

absl::StatusOr<std::shared_ptr<blockcheck::SharedTarget>> OpenTarget(const std::string& dir,
                                                                     uint64_t size) {
  return blockcheck::OpenSharedTarget(
      {.name = "bench",
       .target = {.path = dir + "/target.img", .state_dir = dir + "/state", .size = size}});
}

absl::StatusOr<Measured> BlockCycle(const std::string& dir, uint64_t size) {
  auto target = OpenTarget(dir, size);
  if (!target.ok()) return target.status();
  const auto blocks = static_cast<uint32_t>((*target)->writable.target.label.block_count());
  blockcheck::BlockChecker checker(*target,
                                   {.write_interval_ns = kHour,
                                    .cold_read_interval_ns = kHour,
                                    .scrub_interval_ns = 1000 * kHour,
                                    .write_blocks = blocks,
                                    .cold_read_blocks = 0},
                                   nullptr);
  return MeasureStep(checker, 0);
}

absl::StatusOr<Measured> PageCacheCycle(const std::string& dir, uint64_t size) {
  auto target = OpenTarget(dir, size);
  if (!target.ok()) return target.status();
  const auto blocks = static_cast<uint32_t>((*target)->writable.target.label.block_count());
  auto checker = pagecache::PageCacheChecker::Create(*target,
                                                     {.write_blocks = blocks,
                                                      .write_interval_ns = kHour,
                                                      .cold_read_blocks = 0,
                                                      .cold_read_interval_ns = kHour},
                                                     nullptr);
  if (!checker.ok()) return checker.status();
  return MeasureStep(**checker, 0);
}

// Grows the tree (not measured), then measures one full walk.
absl::StatusOr<Measured> MetadataWalk(const std::string& dir, uint64_t entries) {
  auto checker = metadata::MetadataChecker::Open({.name = "bench",
                                                  .root = dir + "/tree",
                                                  .state_dir = dir + "/state",
                                                  .entries = entries,
                                                  .growth_changes_per_step = 4096,
                                                  .change_interval_ns = kHour,
                                                  .verify_interval_ns = kHour,
                                                  .verify_entries_per_step = 1u << 30,
                                                  .seed = 1},
                                                 nullptr);
  if (!checker.ok()) return checker.status();
  // Growth: steps until a whole walk has been done over a grown tree.
  uint64_t now = 0;
  for (int step = 0; step < 100'000; ++step) {
    auto findings = (*checker)->Step(now);
    if (!findings.ok()) return findings.status();
    if (!findings->empty()) return absl::InternalError("findings while growing the tree");
    if ((*checker)->next_due_ns() > now) break;
  }
  // The next walk, due an interval later, is the one measured.
  now += 2 * kHour;
  return MeasureStep(**checker, now);
}

}  // namespace
}  // namespace fscanary::bench

int main(int argc, char** argv) {
  CLI::App app{"one measured cycle of one fscanary checker (tests/bench/checkers_vs_fio.sh)"};
  std::string checker_name;
  std::string dir;
  uint64_t size = 256ull << 20;
  uint64_t entries = 20000;
  app.add_option("--checker", checker_name, "block, page_cache or metadata")
      ->required()
      ->check(CLI::IsMember({"block", "page_cache", "metadata"}));
  app.add_option("--dir", dir, "an empty scratch directory")->required();
  app.add_option("--size", size, "bytes of the target (block, page_cache), label included");
  app.add_option("--entries", entries, "entries of the tree (metadata)");
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<fscanary::bench::Measured> measured =
      checker_name == "block"        ? fscanary::bench::BlockCycle(dir, size)
      : checker_name == "page_cache" ? fscanary::bench::PageCacheCycle(dir, size)
                                     : fscanary::bench::MetadataWalk(dir, entries);
  if (!measured.ok()) {
    std::fprintf(stderr, "checker_cost: %s\n", std::string(measured.status().message()).c_str());
    return 1;
  }
  const fscanary::checker::Activity& done = measured->activity;
  std::printf(
      "%s\n",
      absl::StrFormat(
          R"({"checker":"%s","seconds":%.6f,"cpu_seconds":%.6f,"bytes_written":%d,)"
          R"("bytes_verified":%d,"blocks_verified":%d,"entries_verified":%d,"findings":%d})",
          checker_name, measured->seconds, measured->cpu_seconds, done.bytes_written,
          done.bytes_verified, done.blocks_verified, done.entries_verified, measured->findings)
          .c_str());
  return measured->findings == 0 ? 0 : 1;
}
