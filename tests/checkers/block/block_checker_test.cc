#include "checkers/block/block_checker.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <vector>

#include "checkers/block/format/format.h"
#include "gtest/gtest.h"
#include "tests/io/descriptor_of.h"
#include "tests/io/fault_engine.h"
#include "tests/temp_dir.h"

namespace fscanary::blockcheck {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

class BlockCheckerTest : public ::testing::Test {
 protected:
  std::shared_ptr<SharedTarget> Open() {
    auto opened = OpenSharedTarget({.name = "scratch",
                                    .target = {.path = dir_.Join("target.img"),
                                               .state_dir = dir_.Join("state"),
                                               .size = uint64_t{4096} + 64 * 4096}});
    EXPECT_TRUE(opened.ok()) << opened.status();
    return opened.ok() ? *opened : nullptr;
  }
  // Everything due at once, each step at a time far apart.
  static BlockCheckerOptions AllDue() {
    return {.write_interval_ns = kSecond,
            .cold_read_interval_ns = kSecond,
            .scrub_interval_ns = kSecond,
            .write_blocks = 64,
            .cold_read_blocks = 64};
  }
  // A write round at the first step only (then the blocks are only read),
  // reads at every step.
  static BlockCheckerOptions WritingOnce() {
    BlockCheckerOptions options = AllDue();
    options.write_interval_ns = 100 * kSecond;
    return options;
  }
  // Puts a fault-injecting engine in front of the target's own.
  static fscanary::testing::FaultEngine& InjectFaults(SharedTarget& target) {
    auto faults = std::make_unique<fscanary::testing::FaultEngine>(std::move(target.engine));
    fscanary::testing::FaultEngine& injected = *faults;
    target.engine = std::move(faults);
    return injected;
  }
  uint64_t OffsetOf(const SharedTarget& target, uint64_t block) const {
    return target.writable.target.label.data_start + block * 4096;
  }
  // Writes `bytes` at `offset` of `path`, behind the checker's back.
  static void WriteBehind(const std::string& path, std::span<const std::byte> bytes,
                          uint64_t offset) {
    const int fd = ::open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  }
  std::vector<std::byte> ReadBehind(uint64_t offset) {
    std::vector<std::byte> bytes(4096);
    const int fd = ::open(dir_.Join("target.img").c_str(), O_RDONLY);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::pread(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)), 4096);
    ::close(fd);
    return bytes;
  }
  void Garble(const SharedTarget& target, uint64_t block) {
    const char garbage[16] = "not fscanary's";
    WriteBehind(dir_.Join("target.img"), std::as_bytes(std::span(garbage)),
                OffsetOf(target, block) + 1000);
  }
  fscanary::testing::TempDir dir_;
};

std::vector<const checker::Finding*> OfKind(const std::vector<checker::Finding>& findings,
                                            checker::FindingKind kind) {
  std::vector<const checker::Finding*> of_kind;
  for (const checker::Finding& finding : findings) {
    if (finding.kind == kind) of_kind.push_back(&finding);
  }
  return of_kind;
}

// Failures of the checker's own I/O, by operation.
std::vector<const verify::IoFailure*> IoFailures(const std::vector<checker::Finding>& findings,
                                                 verify::IoOperation operation) {
  std::vector<const verify::IoFailure*> failures;
  for (const checker::Finding& finding : findings) {
    if (finding.io_failure && finding.io_failure->operation == operation) {
      EXPECT_EQ(finding.kind, checker::FindingKind::kIoError);
      EXPECT_EQ(finding.key.kind, 0u) << "each failure is reported when it happens";
      failures.push_back(&*finding.io_failure);
    }
  }
  return failures;
}

TEST(RandomRuns, PicksEachBlockAtMostOnceInRunsOfTheGivenLength) {
  std::mt19937_64 random(7);
  const std::vector<verify::Run> runs = RandomRuns(1000, 96, 8, random);
  std::set<uint64_t> blocks;
  for (const verify::Run& run : runs) {
    EXPECT_EQ(run.first_block % 8, 0u);
    for (uint64_t block = run.first_block; block < run.first_block + run.count; ++block) {
      EXPECT_TRUE(blocks.insert(block).second) << "block " << block << " twice";
    }
  }
  EXPECT_EQ(blocks.size(), 96u);
}

TEST(RandomRuns, NeverAsksForMoreBlocksThanTheTargetHas) {
  std::mt19937_64 random(7);
  uint64_t total = 0;
  for (const verify::Run& run : RandomRuns(5, 64, 8, random)) total += run.count;
  EXPECT_EQ(total, 5u);
}

TEST_F(BlockCheckerTest, ACleanTargetYieldsNoFindingAndCountsItsWork) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, AllDue(), nullptr);
  auto findings = checker.Step(0);
  ASSERT_TRUE(findings.ok()) << findings.status();
  EXPECT_TRUE(findings->empty());
  const checker::Activity activity = checker.TakeActivity();
  EXPECT_EQ(activity.blocks_written, 64u);
  // The read-back, the cold read and the whole-target scrub step.
  EXPECT_EQ(activity.blocks_verified, 3u * 64);
  EXPECT_EQ(activity.passes_completed, 1u);
  EXPECT_EQ(checker.next_due_ns(), kSecond);
  EXPECT_EQ(checker.Describe().kind, "file");
  EXPECT_EQ(checker.Describe().target_id, target->writable.target.label.target_id);
}

TEST_F(BlockCheckerTest, ACorruptedBlockIsAFindingKeyedByTargetOffsetAndGeneration) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  // Written once, then only read: the next write round would overwrite the damage.
  BlockChecker checker(target, WritingOnce(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  // Behind the checker's back: 16 bytes in the middle of block 5 (offsets
  // count from the start of the target, label included).
  const uint64_t offset = target->writable.target.label.data_start + 5 * 4096;
  const int fd = ::open(dir_.Join("target.img").c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const char garbage[16] = "not fscanary's";
  ASSERT_EQ(::pwrite(fd, garbage, sizeof(garbage), static_cast<off_t>(offset + 1000)), 16);
  ::close(fd);

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_FALSE(findings->empty());
  bool found = false;
  for (const checker::Finding& finding : *findings) {
    ASSERT_TRUE(finding.block.has_value());
    if (finding.block->offset != offset) continue;
    found = true;
    EXPECT_EQ(finding.kind, checker::FindingKind::kChecksumMismatch);
    EXPECT_TRUE(finding.persistent);
    EXPECT_EQ(finding.key.target_id, target->writable.target.label.target_id);
    EXPECT_EQ(finding.key.offset, offset);
    EXPECT_EQ(finding.key.expected_generation, finding.block->expected_generation);
    EXPECT_EQ(finding.key.kind, static_cast<uint32_t>(checker::FindingKind::kChecksumMismatch));
  }
  EXPECT_TRUE(found);
}

// A step that meets a failure goes on and returns it beside what else it found:
// blocks 3 and 60 are corrupted, then the round's sync fails.
TEST_F(BlockCheckerTest, AFailedSyncIsAnIoErrorFindingBesideTheStepsOtherFindings) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  ASSERT_TRUE(BlockChecker(target, AllDue(), nullptr).Step(0).ok());
  Garble(*target, 3);
  Garble(*target, 60);
  InjectFaults(*target).Add({.op = io::IoOp::kDataSync, .error_number = EIO});

  // One run of 8 is written: at least one of the corrupted blocks is left as it is.
  BlockCheckerOptions options = AllDue();
  options.write_blocks = 8;
  BlockChecker checker(target, options, nullptr);
  auto findings = checker.Step(0);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto syncs = IoFailures(*findings, verify::IoOperation::kDataSync);
  ASSERT_EQ(syncs.size(), 1u);
  EXPECT_EQ(syncs[0]->error_number, EIO);
  EXPECT_EQ(syncs[0]->file, dir_.Join("target.img"));
  EXPECT_EQ(syncs[0]->length, 8u * 4096);
  EXPECT_EQ((syncs[0]->offset - OffsetOf(*target, 0)) % (8 * 4096), 0u);
  EXPECT_FALSE(OfKind(*findings, checker::FindingKind::kChecksumMismatch).empty());
  EXPECT_GE(checker.TakeActivity().io_errors, 1u);
  // No sync covers the batch: none of it is marked durable (a power cut could
  // still take it); it stays in flight until it is written again.
  const uint64_t first_block = (syncs[0]->offset - OffsetOf(*target, 0)) / 4096;
  for (uint64_t block = first_block; block < first_block + 8; ++block) {
    const state::BlockRecord record = target->writable.state.Get(block);
    EXPECT_NE(record.inflight_generation, 0u) << "block " << block;
    EXPECT_NE(record.durable_generation, record.inflight_generation) << "block " << block;
  }
}

TEST_F(BlockCheckerTest, AFailedWriteIsAnIoErrorFindingAndTheBlockNoLongerInFlight) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, AllDue(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  const uint64_t durable = target->writable.state.Get(9).durable_generation;
  InjectFaults(*target).Add(
      {.op = io::IoOp::kWrite, .offset = OffsetOf(*target, 9), .error_number = EIO});

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto writes = IoFailures(*findings, verify::IoOperation::kWrite);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0]->offset, OffsetOf(*target, 9));
  EXPECT_EQ(writes[0]->length, 4096u);
  EXPECT_EQ(writes[0]->error_number, EIO);
  // Read back after the sync: it still holds its durable block, so the failed
  // generation is no longer forgiven there.
  const state::BlockRecord record = target->writable.state.Get(9);
  EXPECT_EQ(record.durable_generation, durable);
  EXPECT_EQ(record.inflight_generation, 0u);
}

// Block 9's first write was made durable; it reads back as zeros: nothing of
// fscanary's was there before, so the write was lost (a disk that acknowledges
// flushes without keeping the data), not merely zeroed.
TEST_F(BlockCheckerTest, ABlockWhoseFirstDurableWriteReadsBackAsZerosIsALostWrite) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, WritingOnce(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  ASSERT_NE(target->writable.state.Get(9).durable_generation, 0u);
  const std::vector<std::byte> zeros(4096);
  WriteBehind(dir_.Join("target.img"), zeros, OffsetOf(*target, 9));

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  // The cold read and the scrub each read it in this step.
  const auto lost = OfKind(*findings, checker::FindingKind::kLostWrite);
  ASSERT_FALSE(lost.empty());
  for (const checker::Finding* finding : lost) {
    EXPECT_EQ(finding->key.offset, OffsetOf(*target, 9));
  }
  EXPECT_TRUE(OfKind(*findings, checker::FindingKind::kZeroed).empty());
}

// The write of block 9 lands but is reported failed; later the block shows
// its previous generation again: a lost write, not an unfinished one.
TEST_F(BlockCheckerTest, AFailedWriteThatLandedIsVerifiedFromThenOn) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = AllDue();
  options.write_interval_ns = 10 * kSecond;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  const std::vector<std::byte> before = ReadBehind(OffsetOf(*target, 9));
  InjectFaults(*target).Add(
      {.op = io::IoOp::kWrite, .offset = OffsetOf(*target, 9), .error_number = EIO, .lands = true});
  auto failing = checker.Step(10 * kSecond);
  ASSERT_TRUE(failing.ok()) << failing.status();
  ASSERT_EQ(IoFailures(*failing, verify::IoOperation::kWrite).size(), 1u);

  WriteBehind(dir_.Join("target.img"), before, OffsetOf(*target, 9));
  auto findings = checker.Step(11 * kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto lost = OfKind(*findings, checker::FindingKind::kLostWrite);
  ASSERT_FALSE(lost.empty());
  EXPECT_EQ(lost[0]->block->offset, OffsetOf(*target, 9));
}

TEST_F(BlockCheckerTest, AReadErrorIsAnIoErrorFindingOfTheBlock) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, AllDue(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  InjectFaults(*target).Add(
      {.op = io::IoOp::kRead, .offset = OffsetOf(*target, 12), .error_number = EIO, .times = 1000});
  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto errors = OfKind(*findings, checker::FindingKind::kIoError);
  ASSERT_FALSE(errors.empty());
  ASSERT_TRUE(errors[0]->block.has_value());
  EXPECT_EQ(errors[0]->block->offset, OffsetOf(*target, 12));
  EXPECT_EQ(errors[0]->block->verdict.error_number, EIO);
  EXPECT_TRUE(errors[0]->persistent);
}

// The state file's descriptor now writes to /dev/full: every write fails
// with ENOSPC, as on a filesystem that cannot take the agent's writes.
TEST_F(BlockCheckerTest, AStateFileThatCannotBeWrittenIsAnIoErrorFindingNamingIt) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, AllDue(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  Garble(*target, 5);
  const std::string state_path = target->writable.state.path();
  const int state_fd = fscanary::testing::DescriptorOf(state_path);
  ASSERT_GE(state_fd, 0);
  ASSERT_TRUE(fscanary::testing::MakeWritesFail(state_fd));

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto state_writes = IoFailures(*findings, verify::IoOperation::kStateWrite);
  ASSERT_FALSE(state_writes.empty());
  EXPECT_EQ(state_writes[0]->file, state_path);
  EXPECT_EQ(state_writes[0]->error_number, ENOSPC);
  EXPECT_GE(state_writes[0]->offset, 4096u);
  EXPECT_GT(state_writes[0]->length, 0u);
  // Nothing was written without its in-flight marks: block 5 is still found.
  EXPECT_FALSE(OfKind(*findings, checker::FindingKind::kChecksumMismatch).empty());
}

// Two records of the state file changed behind the running checker: one
// garbled, one back to "never written".
TEST_F(BlockCheckerTest, AStateFileChangedBehindTheCheckerIsAStateCorruptionFinding) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, WritingOnce(), nullptr);
  auto clean = checker.Step(0);
  ASSERT_TRUE(clean.ok()) << clean.status();
  EXPECT_TRUE(OfKind(*clean, checker::FindingKind::kStateCorruption).empty());

  const std::string state_path = target->writable.state.path();
  const std::byte garbage[2] = {std::byte{0x5a}, std::byte{0xa5}};
  WriteBehind(state_path, garbage, 4096 + 2 * 16 + 3);
  const std::byte zeros[16] = {};
  WriteBehind(state_path, zeros, 4096 + 7 * 16);

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto corrupted = OfKind(*findings, checker::FindingKind::kStateCorruption);
  ASSERT_EQ(corrupted.size(), 1u);
  ASSERT_TRUE(corrupted[0]->state_trouble.has_value());
  EXPECT_EQ(corrupted[0]->state_trouble->records_changed, 2u);
  EXPECT_EQ(corrupted[0]->path, state_path);
  EXPECT_EQ(checker.TakeActivity().state_records_changed, 2u);
  // Written again: the next pass over the state finds it as the checker left it.
  auto again = checker.Step(2 * kSecond);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(OfKind(*again, checker::FindingKind::kStateCorruption).empty());
}

// Damaged while no agent held the state (a crash, a filesystem that lost the
// agent's writes): found when the state is opened, reported at the first step.
TEST_F(BlockCheckerTest, StateRecordsDamagedWhileTheAgentWasDownAreAStateCorruptionFinding) {
  std::string state_path;
  {
    std::shared_ptr<SharedTarget> target = Open();
    ASSERT_NE(target, nullptr);
    ASSERT_TRUE(BlockChecker(target, WritingOnce(), nullptr).Step(0).ok());
    state_path = target->writable.state.path();
  }
  const std::byte garbage[2] = {std::byte{0x5a}, std::byte{0xa5}};
  WriteBehind(state_path, garbage, 4096 + 2 * 16 + 3);
  WriteBehind(state_path, garbage, 4096 + 5 * 16 + 3);

  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, WritingOnce(), nullptr);
  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto corrupted = OfKind(*findings, checker::FindingKind::kStateCorruption);
  ASSERT_EQ(corrupted.size(), 1u);
  EXPECT_EQ(corrupted[0]->state_trouble->records_damaged, 2u);
  EXPECT_EQ(checker.TakeActivity().state_records_damaged, 2u);
  // Counted once, not again at every step.
  auto again = checker.Step(2 * kSecond);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(OfKind(*again, checker::FindingKind::kStateCorruption).empty());
}

// The threshold applies per window: trouble of an earlier window does not add up.
TEST_F(BlockCheckerTest, StateTroubleOfAnEndedWindowIsNotAddedToTheNext) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = WritingOnce();
  options.state_trouble_threshold = 2;
  options.state_trouble_window_ns = 10 * kSecond;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  const std::string state_path = target->writable.state.path();
  const std::byte zeros[16] = {};
  WriteBehind(state_path, zeros, 4096 + 7 * 16);
  WriteBehind(state_path, zeros, 4096 + 8 * 16);
  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(OfKind(*findings, checker::FindingKind::kStateCorruption).empty());
  EXPECT_EQ(checker.TakeActivity().state_records_changed, 2u);
  // Two more, but in the next window: still at the threshold, not over it.
  WriteBehind(state_path, zeros, 4096 + 9 * 16);
  WriteBehind(state_path, zeros, 4096 + 10 * 16);
  findings = checker.Step(20 * kSecond);
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(OfKind(*findings, checker::FindingKind::kStateCorruption).empty());
  EXPECT_EQ(checker.TakeActivity().state_records_changed, 2u);
}

TEST_F(BlockCheckerTest, StateTroubleUpToTheThresholdIsCountedNotReported) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = WritingOnce();
  options.state_trouble_threshold = 2;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  const std::string state_path = target->writable.state.path();
  const std::byte zeros[16] = {};
  WriteBehind(state_path, zeros, 4096 + 7 * 16);
  WriteBehind(state_path, zeros, 4096 + 8 * 16);

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok());
  EXPECT_TRUE(OfKind(*findings, checker::FindingKind::kStateCorruption).empty());
  EXPECT_EQ(checker.TakeActivity().state_records_changed, 2u);
  // A third within the same window crosses it.
  WriteBehind(state_path, zeros, 4096 + 9 * 16);
  findings = checker.Step(2 * kSecond);
  ASSERT_TRUE(findings.ok());
  const auto corrupted = OfKind(*findings, checker::FindingKind::kStateCorruption);
  ASSERT_EQ(corrupted.size(), 1u);
  EXPECT_EQ(corrupted[0]->state_trouble->records_changed, 3u);
}

// A block carrying a generation its record never allowed: the state lost the
// write that marked it in flight (or is older than the target).
TEST_F(BlockCheckerTest, ABlockNewerThanItsStateIsAStateCorruptionFinding) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, WritingOnce(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  std::vector<std::byte> newer(4096);
  block::EncodeBlock({.target_id = target->writable.target.label.target_id,
                      .offset = OffsetOf(*target, 4),
                      .generation = target->writable.state.max_generation() + 5},
                     1, newer);
  WriteBehind(dir_.Join("target.img"), newer, OffsetOf(*target, 4));

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  const auto corrupted = OfKind(*findings, checker::FindingKind::kStateCorruption);
  ASSERT_EQ(corrupted.size(), 1u);
  EXPECT_EQ(corrupted[0]->state_trouble->blocks_newer, 1u);
  // Counted once: the scrub's next visit does not count it again.
  auto again = checker.Step(2 * kSecond);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(OfKind(*again, checker::FindingKind::kStateCorruption).empty());
}

}  // namespace
}  // namespace fscanary::blockcheck

namespace fscanary::blockcheck {
namespace {

// Written once at the first step (every block), then only the scrub reads,
// one block per step: what else a step reads is the follow-up of a corruption.
BlockCheckerOptions ScrubbingOneBlockPerStep() {
  return {.write_interval_ns = 1000 * kSecond,
          .cold_read_interval_ns = 1000 * kSecond,
          .scrub_interval_ns = 64 * kSecond,
          .write_blocks = 64,
          .cold_read_blocks = 64,
          .urgent_scrub_interval_ns = 2 * kSecond};
}

TEST_F(BlockCheckerTest, ANewCorruptionIsFollowedAtOnceByAReadOfTheBlocksAroundIt) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, ScrubbingOneBlockPerStep(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());  // the scrub's step verified block 0
  (void)checker.TakeActivity();
  Garble(*target, 1);

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_EQ(OfKind(*findings, checker::FindingKind::kChecksumMismatch).size(), 1u);
  // Block 1 by the scrub, then the other 63 of its 1 MiB range (the whole
  // 64-block target) at once.
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 64u);
}

TEST_F(BlockCheckerTest, ANewCorruptionFoundInTheRangeAroundAnotherIsReportedWithIt) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  options.evidence_dir = dir_.Join("evidence");
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  Garble(*target, 1);
  Garble(*target, 40);  // the scrub would reach it 39 steps later

  auto findings = checker.Step(kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  std::set<uint64_t> offsets;
  for (const checker::Finding* finding :
       OfKind(*findings, checker::FindingKind::kChecksumMismatch)) {
    offsets.insert(finding->block->offset);
    EXPECT_TRUE(finding->persistent);
    EXPECT_FALSE(finding->block->evidence_dir.empty()) << "evidence kept as for any finding";
  }
  EXPECT_EQ(offsets, (std::set<uint64_t>{OffsetOf(*target, 1), OffsetOf(*target, 40)}));
}

TEST_F(BlockCheckerTest, ANewCorruptionStartsAScrubOfTheWholeTargetWithinTheUrgentInterval) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockChecker checker(target, ScrubbingOneBlockPerStep(), nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  Garble(*target, 1);
  ASSERT_TRUE(checker.Step(kSecond).ok());
  EXPECT_EQ(checker.next_due_ns(), kSecond) << "the urgent scrub starts at once";
  (void)checker.TakeActivity();

  // 64 blocks at 32 per one-second step (the urgent 2 s), not 1: from where
  // the scrub was (block 2) to the end of the target, then on from block 0.
  uint64_t now = kSecond;
  for (const uint64_t expected : {32u, 30u, 32u}) {
    ASSERT_TRUE(checker.Step(now).ok());
    EXPECT_EQ(checker.TakeActivity().blocks_verified, expected) << now / kSecond << " s";
    now += kSecond;
  }
  // The whole target done, the scrub goes back to its own pace.
  ASSERT_TRUE(checker.Step(now).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 1u);
}

TEST_F(BlockCheckerTest, ACorruptionWithNothingLeftToReadAroundItStillStartsTheUrgentScrub) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  options.damaged_range_bytes = 4096;  // the range is the block found
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  (void)checker.TakeActivity();
  Garble(*target, 1);
  ASSERT_TRUE(checker.Step(kSecond).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 1u) << "nothing read around it";
  EXPECT_EQ(checker.next_due_ns(), kSecond) << "the urgent scrub starts at once";
  ASSERT_TRUE(checker.Step(kSecond).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 32u) << "at the urgent pace";
}

TEST_F(BlockCheckerTest, TheUrgentScrubNeverVerifiesMoreThanTheBudgetsCapInOneStep) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  // The urgent scrub's 2 s would take 32 blocks a step; a second of the
  // budget is 4 (as 200 IOPS are of a 100 GiB target scrubbed in 600 s).
  options.max_step_blocks = 4;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  Garble(*target, 1);
  ASSERT_TRUE(checker.Step(kSecond).ok());
  (void)checker.TakeActivity();

  // Behind its interval, the scrub goes on at every turn, 4 blocks at a
  // time: from block 2 to the end (62 blocks in 16 steps), then blocks 0-3.
  uint64_t now = kSecond;
  uint64_t verified = 0;
  for (int step = 0; step < 17; ++step) {
    ASSERT_TRUE(checker.Step(now).ok());
    const uint64_t blocks = checker.TakeActivity().blocks_verified;
    EXPECT_LE(blocks, 4u) << "step " << step;
    verified += blocks;
    EXPECT_EQ(checker.next_due_ns(), now) << "step " << step;
  }
  EXPECT_EQ(verified, 66u) << "the whole target";
  // Done, the scrub goes back to its own pace.
  ASSERT_TRUE(checker.Step(now).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 1u);
  EXPECT_EQ(checker.next_due_ns(), now + kSecond);
}

TEST_F(BlockCheckerTest, ACorruptionFoundAgainIsNotFollowedUpAgain) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  options.scrub_interval_ns = kSecond;  // the whole target at every step
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  Garble(*target, 1);
  ASSERT_TRUE(checker.Step(kSecond).ok());
  (void)checker.TakeActivity();

  auto again = checker.Step(2 * kSecond);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(OfKind(*again, checker::FindingKind::kChecksumMismatch).size(), 1u);
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 64u) << "the scrub alone";
}

TEST_F(BlockCheckerTest, ABoostShortensTheScheduleFromNowOn) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  options.write_interval_ns = 100 * kSecond;
  options.cold_read_interval_ns = 40 * kSecond;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  // The scrub's steps are due every second; its share per step grows.
  checker.SetBoost(4, 2 * kSecond);
  ASSERT_TRUE(checker.Step(2 * kSecond).ok());
  (void)checker.TakeActivity();
  ASSERT_TRUE(checker.Step(3 * kSecond).ok());
  // 64 blocks in 64 s / 4 = 16 s: 4 blocks per step.
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 4u);
  // The cold read, due at 40 s, is due at 2 s + 40 s / 4 = 12 s instead.
  ASSERT_TRUE(checker.Step(12 * kSecond).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 4u + 64);

  checker.SetBoost(1, 13 * kSecond);
  ASSERT_TRUE(checker.Step(13 * kSecond).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 1u);
}

TEST_F(BlockCheckerTest, ABoostLeavesTheWriteRoundsAtTheirPace) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  options.write_interval_ns = 8 * kSecond;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_written, 64u);
  // A round's fdatasyncs are not charged to the limiter: a boost of the
  // rounds would multiply them beyond the budget.
  checker.SetBoost(4, 0);
  for (uint64_t now = kSecond; now < 8 * kSecond; now += kSecond) {
    ASSERT_TRUE(checker.Step(now).ok());
    EXPECT_EQ(checker.TakeActivity().blocks_written, 0u) << now / kSecond << " s";
  }
  ASSERT_TRUE(checker.Step(8 * kSecond).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_written, 64u);
}

TEST_F(BlockCheckerTest, ABlockWrittenAgainIsForgottenAsFollowedUp) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  BlockCheckerOptions options = ScrubbingOneBlockPerStep();
  options.scrub_interval_ns = kSecond;  // the whole target at every step
  options.write_interval_ns = 2 * kSecond;
  options.max_followed_up = 1;
  BlockChecker checker(target, options, nullptr);
  ASSERT_TRUE(checker.Step(0).ok());
  Garble(*target, 1);
  ASSERT_TRUE(checker.Step(kSecond).ok());
  (void)checker.TakeActivity();
  // Every block written again (block 1 with it), then another corruption.
  ASSERT_TRUE(checker.Step(2 * kSecond).ok());
  EXPECT_EQ(checker.TakeActivity().blocks_written, 64u);
  Garble(*target, 2);

  auto findings = checker.Step(3 * kSecond);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_EQ(OfKind(*findings, checker::FindingKind::kChecksumMismatch).size(), 1u);
  EXPECT_EQ(checker.TakeActivity().blocks_verified, 64u + 63)
      << "the scrub, then the range around it: followed up, not refused as one too many";
}

TEST_F(BlockCheckerTest, ALostWriteAPowerCutTearsAWriteOverIsStillTheSameFinding) {
  std::shared_ptr<SharedTarget> target = Open();
  ASSERT_NE(target, nullptr);
  const uint64_t offset = OffsetOf(*target, 5);
  {
    BlockCheckerOptions options = AllDue();
    options.write_interval_ns = 2 * kSecond;
    BlockChecker checker(target, options, nullptr);
    ASSERT_TRUE(checker.Step(0).ok());
    const std::vector<std::byte> first_generation = ReadBehind(offset);
    ASSERT_TRUE(checker.Step(2 * kSecond).ok());
    // The disk lost block 5's second write: it holds the first.
    WriteBehind(dir_.Join("target.img"), first_generation, offset);
  }
  // Reported (as any pass of an agent would), then a write of block 5 is in
  // flight when the power goes: half of it lands.
  BlockCheckerOptions reading = AllDue();
  reading.write_blocks = 0;
  auto lost = BlockChecker(target, reading, nullptr).Step(3 * kSecond);
  ASSERT_TRUE(lost.ok()) << lost.status();
  // Found by the cold read and the scrub alike: one finding, one key.
  ASSERT_FALSE(lost->empty());
  const checker::FindingKey reported = lost->front().key;
  for (const checker::Finding& finding : *lost) {
    EXPECT_EQ(finding.kind, checker::FindingKind::kLostWrite);
    EXPECT_EQ(finding.key, reported);
  }
  state::BlockStateFile& state = target->writable.state;
  const uint64_t interrupted_generation = state.max_generation() + 1;
  state.MarkInFlight(5, interrupted_generation);
  ASSERT_TRUE(state.Flush().ok());
  std::vector<std::byte> interrupted(4096);
  block::EncodeBlock({.target_id = target->writable.target.label.target_id,
                      .offset = offset,
                      .generation = interrupted_generation},
                     1, interrupted);
  WriteBehind(dir_.Join("target.img"), std::span(interrupted).first(4 * block::kSectorSize),
              offset);

  auto after_the_cut = BlockChecker(target, reading, nullptr).Step(4 * kSecond);
  ASSERT_TRUE(after_the_cut.ok()) << after_the_cut.status();
  ASSERT_FALSE(after_the_cut->empty());
  for (const checker::Finding& again : *after_the_cut) {
    EXPECT_EQ(again.kind, checker::FindingKind::kLostWrite);
    EXPECT_EQ(again.key, reported)
        << "the agent's record of what it reported holds it: not reported again";
  }
}

}  // namespace
}  // namespace fscanary::blockcheck
