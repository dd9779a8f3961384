// Recovery at Open: torn tails, damaged records, foreign files, a lost
// high-water mark, interrupted summaries.

#include <gtest/gtest.h>

#include <filesystem>

#include "absl/strings/str_join.h"
#include "agent/spool/format.h"
#include "agent/spool/spool.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/temp_dir.h"

namespace fscanary::spool {
namespace {

using ::fscanary::spool::testing::AllPending;
using ::fscanary::spool::testing::OpenOrDie;
using ::fscanary::spool::testing::ReadFile;
using ::fscanary::spool::testing::ReportCount;
using ::fscanary::spool::testing::Reports;
using ::fscanary::spool::testing::SegmentFiles;
using ::fscanary::spool::testing::Sequences;
using ::fscanary::spool::testing::SmallOptions;
using ::fscanary::spool::testing::WriteFile;
using ::fscanary::testing::TempDir;
constexpr RecordClass kFinding = RecordClass::kFinding;
constexpr RecordClass kRoutine = RecordClass::kRoutine;

bool NotesMention(const Spool& spool, const std::string& text) {
  return absl::StrJoin(spool.recovery_notes(), "\n").find(text) != std::string::npos;
}

TEST(SpoolRecovery, TornTailAtEveryBytePositionKeepsEveryEarlierRecord) {
  TempDir pristine;
  constexpr size_t kLastPayload = 40;
  {
    auto spool = OpenOrDie(SmallOptions(pristine.path()));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(spool->Append(kRoutine, "routine").ok());
    ASSERT_TRUE(spool->Append(kFinding, std::string(kLastPayload, 'f')).ok());
  }
  ASSERT_EQ(SegmentFiles(pristine.path()).size(), 1u);
  const std::string segment_name =
      std::filesystem::path(SegmentFiles(pristine.path())[0]).filename().string();
  const uint64_t full_size = std::filesystem::file_size(SegmentFiles(pristine.path())[0]);
  const uint64_t last_start = full_size - format::RecordBytes(kLastPayload);

  for (uint64_t cut = last_start; cut < full_size; ++cut) {
    TempDir dir;
    std::filesystem::copy(pristine.path(), dir.path(), std::filesystem::copy_options::recursive);
    std::filesystem::resize_file(dir.Join(segment_name), cut);
    uint64_t appended;
    {
      auto spool = OpenOrDie(SmallOptions(dir.path()));
      ASSERT_NE(spool, nullptr);
      ASSERT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1, 2, 3, 4})) << cut;
      EXPECT_EQ(spool->Stats().damaged_records_skipped, 0u) << cut;
      appended = *spool->Append(kRoutine, "after the crash");
      EXPECT_GT(appended, 5u);
    }
    // The tail was cut away, not left between the old records and the new one.
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1, 2, 3, 4, appended})) << cut;
    EXPECT_EQ(spool->Stats().damaged_records_skipped, 0u) << cut;
  }
}

// Writes ten routine records of 50 bytes into one segment and returns its path.
std::string TenRecords(const std::string& directory) {
  auto spool = OpenOrDie(SmallOptions(directory));
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(spool->Append(kRoutine, std::string(50, 'a' + i)).ok());
  return SegmentFiles(directory).at(0);
}

uint64_t RecordOffset(int sequence) {
  return format::kSegmentHeaderBytes + (sequence - 1) * format::RecordBytes(50);
}

void FlipByte(const std::string& path, uint64_t offset) {
  std::string content = ReadFile(path);
  content.at(offset) ^= 0x10;
  WriteFile(path, content);
}

TEST(SpoolRecovery, FlippedPayloadByteSkipsThatRecordOnlyAndCountsItOnce) {
  TempDir dir;
  const std::string segment = TenRecords(dir.path());
  FlipByte(segment, RecordOffset(5) + format::kRecordHeaderBytes + 10);
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1, 2, 3, 4, 6, 7, 8, 9, 10}));
    EXPECT_EQ(spool->Stats().damaged_records_skipped, 1u);
    EXPECT_TRUE(NotesMention(*spool, segment));
    EXPECT_EQ(AllPending(*spool)[5].payload, std::string(50, 'a' + 6));
  }
  // The survivors were moved out of the damaged segment: counted once.
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(spool->Stats().records, 9u);
  EXPECT_EQ(spool->Stats().damaged_records_skipped, 1u);
  EXPECT_FALSE(std::filesystem::exists(segment));
}

TEST(SpoolRecovery, FlippedHeaderByteSkipsThatRecordOnly) {
  TempDir dir;
  const std::string segment = TenRecords(dir.path());
  FlipByte(segment, RecordOffset(5) + 9);  // inside the sequence number
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{1, 2, 3, 4, 6, 7, 8, 9, 10}));
  EXPECT_EQ(spool->Stats().damaged_records_skipped, 1u);
}

TEST(SpoolRecovery, DamagedSegmentHeaderStillYieldsItsRecords) {
  TempDir dir;
  const std::string segment = TenRecords(dir.path());
  FlipByte(segment, 3);
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(spool->Stats().records, 10u);
  EXPECT_TRUE(NotesMention(*spool, segment));
}

TEST(SpoolRecovery, FilesThatAreNotTheSpoolsAreNamedCountedAndLeftAlone) {
  TempDir dir;
  TenRecords(dir.path());
  const std::string impostor = dir.Join("seg-00000000000000aa.log");
  WriteFile(impostor, std::string(200, 'z'));
  WriteFile(dir.Join("notes.txt"), "hello");
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(spool->Stats().records, 10u);
  EXPECT_EQ(spool->Stats().foreign_files_skipped, 2u);
  EXPECT_TRUE(NotesMention(*spool, impostor));
  EXPECT_TRUE(NotesMention(*spool, dir.Join("notes.txt")));
  EXPECT_EQ(ReadFile(impostor), std::string(200, 'z'));
  // New segments do not collide with it.
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(spool->Append(kRoutine, std::string(200, 'n')).ok());
  EXPECT_EQ(ReadFile(impostor), std::string(200, 'z'));
}

TEST(SpoolRecovery, SegmentCutShortWhileBeingCreatedIsRemoved) {
  TempDir dir;
  TenRecords(dir.path());
  WriteFile(dir.Join("seg-00000000000000ff.log"), "FSCS");
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(spool->Stats().records, 10u);
  EXPECT_EQ(spool->Stats().foreign_files_skipped, 0u);
  EXPECT_FALSE(std::filesystem::exists(dir.Join("seg-00000000000000ff.log")));
}

TEST(SpoolRecovery, HighWaterMarkCarriesSequencesWhenNoSegmentIsLeft) {
  TempDir dir;
  uint64_t last = 0;
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    for (int i = 0; i < 5; ++i) last = *spool->Append(kFinding, "f");
    ASSERT_TRUE(spool->Acknowledge({{1, last}}).ok());
  }
  // As after a reclamation of every segment: only the state file remembers.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("seg-")) std::filesystem::remove(entry.path());
  }
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_GT(*spool->Append(kFinding, "f"), last);
  EXPECT_FALSE(NotesMention(*spool, "high-water mark"));
}

TEST(SpoolRecovery, LostHighWaterMarkNeverReusesASequence) {
  for (const bool delete_state : {false, true}) {
    TempDir dir;
    uint64_t last = 0;
    {
      auto spool = OpenOrDie(SmallOptions(dir.path()));
      for (int i = 0; i < 5; ++i) last = *spool->Append(kFinding, "f");
      ASSERT_TRUE(spool->Acknowledge({{1, last}}).ok());
    }
    if (delete_state) {
      std::filesystem::remove(dir.Join("state"));
    } else {
      WriteFile(dir.Join("state"), std::string(format::kStateFileBytes, 'x'));
    }
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    EXPECT_GT(*spool->Append(kFinding, "f"), last);
    EXPECT_TRUE(NotesMention(*spool, "high-water mark"));
  }
}

TEST(SpoolRecovery, SummaryWhoseOriginalsWereNotYetMarkedDoesNotCountThemTwice) {
  TempDir dir;
  constexpr int kReports = 400;
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    for (int i = 0; i < kReports; ++i) ASSERT_TRUE(spool->Append(kRoutine, Reports(1, 200)).ok());
    ASSERT_GT(spool->Stats().reports_summarised, 0u);
  }
  // As if the crash came after the summary was written and before the
  // removal of what it replaces was logged.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() == ".marks") std::filesystem::remove(entry.path());
  }
  uint64_t reports = 0;
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    for (const Record& record : AllPending(*spool)) reports += ReportCount(record.payload);
  }
  EXPECT_EQ(reports, static_cast<uint64_t>(kReports));
  // The repair was logged: still right after another restart.
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  reports = 0;
  for (const Record& record : AllPending(*spool)) reports += ReportCount(record.payload);
  EXPECT_EQ(reports, static_cast<uint64_t>(kReports));
}

}  // namespace
}  // namespace fscanary::spool
