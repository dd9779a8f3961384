#include "checkers/kmsg/kernel_log_checker.h"

#include <fstream>
#include <memory>

#include "gtest/gtest.h"
#include "tests/checkers/kmsg/fake_kmsg_source.h"
#include "tests/temp_dir.h"

namespace fscanary::kmsg {
namespace {

constexpr char kBoot[] = "aaaaaaaa-1840-4a18-9c8f-cca5a5c86384";
constexpr char kXfsShutdown[] =
    "XFS (vdb1): Corruption of in-memory data (0x8) detected at xfs_trans_cancel+0x15b/0x180 "
    "(fs/xfs/xfs_trans.c:1097).  Shutting down filesystem.";
constexpr char kNoise[] = "usb 1-1: new high-speed USB device number 2 using ehci-pci";
constexpr uint64_t kPollNs = 250'000'000;

class KernelLogCheckerTest : public ::testing::Test {
 protected:
  KernelLogCheckerTest() { std::ofstream(dir_.Join("boot_id")) << kBoot << "\n"; }

  std::unique_ptr<KernelLogChecker> Checker() {
    auto watcher = KernelLogWatcher::Open(
        {.state_path = dir_.Join("cursor"), .boot_id_path = dir_.Join("boot_id")},
        std::make_unique<FakeKmsgSource>(queue_));
    EXPECT_TRUE(watcher.ok()) << watcher.status();
    return std::make_unique<KernelLogChecker>(std::move(*watcher), kPollNs);
  }

  fscanary::testing::TempDir dir_;
  std::shared_ptr<FakeKmsgQueue> queue_ = std::make_shared<FakeKmsgQueue>();
};

TEST_F(KernelLogCheckerTest, AStepTurnsEachMatchingLineIntoAKernelReportedFinding) {
  queue_->Push(RawRecord(0, kNoise));
  queue_->Push(RawRecord(1, kXfsShutdown));
  auto checker = Checker();
  auto findings = checker->Step(1'000);
  ASSERT_TRUE(findings.ok()) << findings.status();
  ASSERT_EQ(findings->size(), 1u);
  const checker::Finding& finding = findings->front();
  EXPECT_EQ(finding.kind, checker::FindingKind::kKernelReported);
  ASSERT_TRUE(finding.kernel.has_value());
  EXPECT_EQ(finding.kernel->subsystem, "xfs");
  EXPECT_EQ(finding.kernel->device, "vdb1");
  EXPECT_EQ(finding.kernel->sequence, 1u);
  // Reported once by the cursor, not by the agent's reported-findings file.
  EXPECT_EQ(finding.key.kind, 0u);
  EXPECT_EQ(checker->next_due_ns(), 1'000 + kPollNs);
  const checker::Activity activity = checker->TakeActivity();
  EXPECT_EQ(activity.entries_verified, 2u);
  EXPECT_EQ(activity.findings, 1u);
}

TEST_F(KernelLogCheckerTest, FindingsNotConfirmedSpooledAreHandedOverAgainBeforeNewerOnes) {
  queue_->Push(RawRecord(0, kXfsShutdown));
  auto checker = Checker();
  ASSERT_EQ(checker->Step(0)->size(), 1u);
  // Not committed (the spool failed); a newer line arrives meanwhile.
  queue_->Push(RawRecord(1, kXfsShutdown));
  auto again = checker->Step(kPollNs);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(again->front().kernel->sequence, 0u);
  ASSERT_TRUE(checker->CommitReported().ok());
  auto newer = checker->Step(2 * kPollNs);
  ASSERT_EQ(newer->size(), 1u);
  EXPECT_EQ(newer->front().kernel->sequence, 1u);
}

TEST_F(KernelLogCheckerTest, LinesAreReadAgainAfterARestartUnlessCommitted) {
  queue_->Push(RawRecord(0, kXfsShutdown));
  {
    auto checker = Checker();
    ASSERT_EQ(checker->Step(0)->size(), 1u);
    // Not committed: the findings were never spooled.
  }
  queue_->Push(RawRecord(0, kXfsShutdown));
  {
    auto checker = Checker();
    ASSERT_EQ(checker->Step(0)->size(), 1u);
    ASSERT_TRUE(checker->CommitReported().ok());
  }
  queue_->Push(RawRecord(0, kXfsShutdown));
  auto checker = Checker();
  EXPECT_TRUE(checker->Step(0)->empty());
}

}  // namespace
}  // namespace fscanary::kmsg
