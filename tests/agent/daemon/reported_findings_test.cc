// A finding is reported once: the record of reported findings survives
// restarts and a torn last line.
#include "agent/daemon/reported_findings.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/temp_dir.h"

namespace fscanary::daemon {
namespace {

constexpr FindingKey kKey{
    .target_id = 0xabcdef0123456789, .offset = 4096 * 7, .expected_generation = 3, .kind = 1};

TEST(ReportedFindings, StartsEmpty) {
  fscanary::testing::TempDir dir;
  absl::StatusOr<ReportedFindings> reported = ReportedFindings::Open(dir.Join("reported"));
  ASSERT_TRUE(reported.ok()) << reported.status();
  EXPECT_FALSE(reported->Contains(kKey));
}

TEST(ReportedFindings, AnAddedFindingIsKnownAfterReopening) {
  fscanary::testing::TempDir dir;
  {
    ReportedFindings reported = *ReportedFindings::Open(dir.Join("reported"));
    ASSERT_TRUE(reported.Add(kKey).ok());
    EXPECT_TRUE(reported.Contains(kKey));
  }
  const ReportedFindings reopened = *ReportedFindings::Open(dir.Join("reported"));
  EXPECT_TRUE(reopened.Contains(kKey));
  EXPECT_EQ(reopened.size(), 1u);
}

TEST(ReportedFindings, ANewGenerationOrKindOfTheSameBlockIsANewFinding) {
  fscanary::testing::TempDir dir;
  ReportedFindings reported = *ReportedFindings::Open(dir.Join("reported"));
  ASSERT_TRUE(reported.Add(kKey).ok());
  FindingKey rewritten = kKey;
  rewritten.expected_generation = 4;
  FindingKey other_kind = kKey;
  other_kind.kind = 4;
  EXPECT_FALSE(reported.Contains(rewritten));
  EXPECT_FALSE(reported.Contains(other_kind));
}

TEST(ReportedFindings, ATornLastLineIsSkippedCountedAndDoesNotSwallowTheNext) {
  fscanary::testing::TempDir dir;
  const std::string path = dir.Join("reported");
  {
    ReportedFindings reported = *ReportedFindings::Open(path);
    ASSERT_TRUE(reported.Add(kKey).ok());
  }
  std::ofstream(path, std::ios::app) << "abcdef01234";  // a crash mid-append
  FindingKey next = kKey;
  next.offset += 4096;
  {
    ReportedFindings reported = *ReportedFindings::Open(path);
    EXPECT_EQ(reported.malformed_lines(), 1u);
    EXPECT_TRUE(reported.Contains(kKey));
    ASSERT_TRUE(reported.Add(next).ok());
  }
  const ReportedFindings reopened = *ReportedFindings::Open(path);
  EXPECT_TRUE(reopened.Contains(next));
  EXPECT_TRUE(reopened.Contains(kKey));
  EXPECT_EQ(reopened.malformed_lines(), 1u);
}

}  // namespace
}  // namespace fscanary::daemon
