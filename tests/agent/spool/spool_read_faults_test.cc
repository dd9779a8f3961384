// Reading records back: a read that fails (EIO, ENOMEM) is not damage and
// loses nothing; bytes that changed on disk are damage, skipped and counted.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "agent/spool/segment_reads.h"
#include "agent/spool/spool.h"
#include "common/status.h"
#include "io/posix.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/temp_dir.h"

namespace fscanary::spool {
namespace {

using ::fscanary::spool::testing::AllPending;
using ::fscanary::spool::testing::OpenOrDie;
using ::fscanary::spool::testing::ReadFile;
using ::fscanary::spool::testing::SegmentFiles;
using ::fscanary::spool::testing::Sequences;
using ::fscanary::spool::testing::SmallOptions;
using ::fscanary::spool::testing::WriteFile;
using ::fscanary::testing::TempDir;
constexpr RecordClass kFinding = RecordClass::kFinding;
constexpr RecordClass kRoutine = RecordClass::kRoutine;

// Fails every read with `error` while it is set; reads the file otherwise.
class FaultyReads final : public SegmentReads {
 public:
  absl::StatusOr<size_t> ReadAt(int fd, std::span<std::byte> data, uint64_t offset,
                                const std::string& path) override {
    if (error != 0) return ErrnoToStatus(error, "pread " + path);
    return io::ReadAll(fd, data, offset, path);
  }
  int error = 0;
};

SpoolOptions WithReads(const std::string& directory, std::shared_ptr<SegmentReads> reads,
                       int retry_ms = 60'000) {
  SpoolOptions options = SmallOptions(directory);
  options.reads = std::move(reads);
  options.read_retry_ms = retry_ms;
  return options;
}

TEST(SpoolReadFaults, RecordsThatCannotBeReadAreKeptAndSentOnceTheReadsSucceed) {
  for (const int error : {EIO, ENOMEM, EINTR}) {
    TempDir dir;
    auto reads = std::make_shared<FaultyReads>();
    auto spool = OpenOrDie(WithReads(dir.path(), reads));
    ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
    ASSERT_TRUE(spool->Append(kRoutine, "r2").ok());
    ASSERT_TRUE(spool->Append(kFinding, "f3").ok());

    reads->error = error;
    EXPECT_TRUE(AllPending(*spool).empty()) << error;
    EXPECT_TRUE(AllPending(*spool).empty()) << error;
    const SpoolStats stats = spool->Stats();
    EXPECT_EQ(stats.records, 3u) << error;
    EXPECT_EQ(stats.damaged_records_skipped, 0u) << error;
    EXPECT_GE(stats.read_errors, 2u) << error;
    EXPECT_NE(stats.last_read_error.find(std::strerror(error)), std::string::npos)
        << stats.last_read_error;

    reads->error = 0;
    const std::vector<Record> pending = AllPending(*spool);
    EXPECT_EQ(Sequences(pending), (std::vector<uint64_t>{1, 3, 2})) << error;
    EXPECT_EQ(pending[0].payload, "f1");
  }
}

TEST(SpoolReadFaults, ARecordThatCannotBeReadSurvivesARestart) {
  TempDir dir;
  auto reads = std::make_shared<FaultyReads>();
  {
    auto spool = OpenOrDie(WithReads(dir.path(), reads));
    ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
    reads->error = EIO;
    EXPECT_TRUE(AllPending(*spool).empty());
  }
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1}));
  EXPECT_EQ(spool->Stats().damaged_records_skipped, 0u);
}

TEST(SpoolReadFaults, AfterAFailedReadTheSenderIsHeldBackInsteadOfSpinning) {
  TempDir dir;
  auto reads = std::make_shared<FaultyReads>();
  auto spool = OpenOrDie(WithReads(dir.path(), reads, /*retry_ms=*/60'000));
  ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
  reads->error = EIO;
  const SendCursor cursor;
  EXPECT_TRUE(spool->Pending(10, cursor).empty());
  // Records are there, but reading them again now would fail again.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  EXPECT_FALSE(spool->WaitForRecords(cursor, deadline));
  EXPECT_GE(std::chrono::steady_clock::now(), deadline);
}

TEST(SpoolReadFaults, OnceTheRetryDelayPassedTheRecordIsReadAgain) {
  TempDir dir;
  auto reads = std::make_shared<FaultyReads>();
  auto spool = OpenOrDie(WithReads(dir.path(), reads, /*retry_ms=*/1));
  ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
  reads->error = EIO;
  const SendCursor cursor;
  EXPECT_TRUE(spool->Pending(10, cursor).empty());
  reads->error = 0;
  const auto far = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // The first wait ends when the 1 ms retry delay does; then the record is there.
  (void)spool->WaitForRecords(cursor, far);
  EXPECT_TRUE(spool->WaitForRecords(cursor, far));
  EXPECT_EQ(Sequences(spool->Pending(10, cursor)), (std::vector<uint64_t>{1}));
}

TEST(SpoolReadFaults, ARecordDamagedOnDiskIsSkippedCountedOnceAndTheOthersDelivered) {
  TempDir dir;
  std::string segment;
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    for (int i = 1; i <= 3; ++i) ASSERT_TRUE(spool->Append(kFinding, std::string(40, 'a')).ok());
    segment = SegmentFiles(dir.path()).at(0);
    // Record 2's body changes behind the spool's back.
    std::string content = ReadFile(segment);
    content.at(format::kSegmentHeaderBytes + format::RecordBytes(40) + format::kRecordHeaderBytes +
               5) ^= 0x01;
    WriteFile(segment, content);

    EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1, 3}));
    const SpoolStats stats = spool->Stats();
    EXPECT_EQ(stats.damaged_records_skipped, 1u);
    EXPECT_EQ(stats.read_errors, 0u);
    EXPECT_EQ(stats.records, 2u);
  }
  // Met again at recovery, the same damage is not counted twice.
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(spool->Stats().damaged_records_skipped, 1u);
}

TEST(SpoolQuarantine, ARejectedRecordIsMovedAsideWithItsReasonAndNeverListedAgain) {
  TempDir dir;
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
    ASSERT_TRUE(spool->Append(kFinding, "f2").ok());
    const absl::StatusOr<uint64_t> moved = spool->Quarantine({{1, 1}, {7, 9}}, "conflict\n");
    ASSERT_TRUE(moved.ok()) << moved.status();
    EXPECT_EQ(*moved, 1u);
    EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{2}));
    EXPECT_EQ(spool->Stats().quarantined_records, 1u);
  }
  const std::string quarantine = dir.Join("quarantine");
  EXPECT_EQ(ReadFile(quarantine + "/0000000000000001.record"), "f1");
  EXPECT_EQ(ReadFile(quarantine + "/0000000000000001.why"), "conflict\n");
  // Not a foreign file for the spool, and still counted after a restart.
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(spool->Stats().foreign_files_skipped, 0u);
  EXPECT_EQ(spool->Stats().quarantined_records, 1u);
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{2}));
}

TEST(SpoolQuarantine, FilesArePrivateWhateverTheUmask) {
  TempDir dir;
  const mode_t previous = ::umask(0);
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
  ASSERT_TRUE(spool->Quarantine({{1, 1}}, "conflict\n").ok());
  ::umask(previous);
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(dir.Join("quarantine")).permissions() & fs::perms::all,
            fs::perms::owner_all);
  EXPECT_EQ(
      fs::status(dir.Join("quarantine/0000000000000001.record")).permissions() & fs::perms::all,
      fs::perms::owner_read | fs::perms::owner_write);
}

TEST(SpoolQuarantine, ARecordThatCannotBeReadStaysSpooled) {
  TempDir dir;
  auto reads = std::make_shared<FaultyReads>();
  auto spool = OpenOrDie(WithReads(dir.path(), reads));
  ASSERT_TRUE(spool->Append(kFinding, "f1").ok());
  reads->error = EIO;
  EXPECT_FALSE(spool->Quarantine({{1, 1}}, "conflict\n").ok());
  reads->error = 0;
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1}));
  EXPECT_EQ(spool->Stats().quarantined_records, 0u);
}

}  // namespace
}  // namespace fscanary::spool
