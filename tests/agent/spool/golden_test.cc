// The spool's files pinned by golden bytes (tests/agent/spool/golden/): a
// segment with a finding and a summary record, a marks record and a state
// file decode to known values, and encoding those values gives the same bytes.

#include <string>
#include <vector>

#include "agent/spool/format.h"
#include "gtest/gtest.h"
#include "tests/golden_bytes.h"

namespace fscanary::spool::format {
namespace {

std::string Golden(const std::string& name) {
  return testing::AsString(testing::ReadGoldenHex("tests/agent/spool/golden/" + name));
}

Bytes AsBytes(const std::string& s) { return std::as_bytes(std::span(s)); }

constexpr uint64_t kSegmentId = 0x42;
const RecordHeader kFinding{.sequence = 7, .record_class = 0, .flags = 0, .body_length = 12};
const RecordHeader kSummary{
    .sequence = 9, .record_class = 1, .flags = kFlagSummary, .body_length = 27};
const SummaryPrefix kSummaryPrefix{.replaces = {{3, 5}}, .reports_represented = 3};

TEST(GoldenSpoolSegment, DecodesToItsHeaderAndTwoRecords) {
  const std::string golden = Golden("segment_v1.hex");
  ASSERT_EQ(golden.size(), 144u);  // 32 header + 48 finding + 64 summary
  EXPECT_EQ(ParseSegmentHeader(AsBytes(golden)), kSegmentId);

  const SegmentScan scan = ScanSegment(AsBytes(golden), kSegmentHeaderBytes, /*newest=*/false);
  EXPECT_EQ(scan.damaged, 0u);
  EXPECT_EQ(scan.valid_end, golden.size());
  ASSERT_EQ(scan.records.size(), 2u);

  const ScannedRecord& finding = scan.records[0];
  EXPECT_EQ(finding.offset, 32u);
  EXPECT_EQ(finding.header.sequence, kFinding.sequence);
  EXPECT_EQ(finding.header.record_class, kFinding.record_class);
  EXPECT_EQ(finding.header.flags, kFinding.flags);
  EXPECT_EQ(finding.header.body_length, kFinding.body_length);
  EXPECT_EQ(golden.substr(32 + kRecordHeaderBytes, 12), "finding:13by");

  const ScannedRecord& summary = scan.records[1];
  EXPECT_EQ(summary.offset, 80u);
  EXPECT_EQ(summary.header.sequence, kSummary.sequence);
  EXPECT_EQ(summary.header.record_class, kSummary.record_class);
  EXPECT_EQ(summary.header.flags, kSummary.flags);
  EXPECT_EQ(summary.header.body_length, kSummary.body_length);
  const std::optional<SummaryPrefix> prefix =
      ParseSummaryPrefix(AsBytes(golden).subspan(80 + kRecordHeaderBytes, 27));
  ASSERT_TRUE(prefix.has_value());
  EXPECT_EQ(prefix->replaces, kSummaryPrefix.replaces);
  EXPECT_EQ(prefix->reports_represented, kSummaryPrefix.reports_represented);
  EXPECT_EQ(golden.substr(80 + kRecordHeaderBytes + SummaryPrefixBytes(1), 3), "sum");
}

TEST(GoldenSpoolSegment, EncodingItsValuesGivesTheSameBytes) {
  const std::string encoded = EncodeSegmentHeader(kSegmentId) +
                              EncodeRecord(kFinding, "", "finding:13by") +
                              EncodeRecord(kSummary, EncodeSummaryPrefix(kSummaryPrefix), "sum");
  EXPECT_EQ(encoded, Golden("segment_v1.hex"));
}

TEST(GoldenSpoolMarks, DecodesToItsRangesAndEncodesToTheSameBytes) {
  const std::string golden = Golden("marks_v1.hex");
  const MarksScan scan = ScanMarks(AsBytes(golden));
  EXPECT_EQ(scan.ranges, (SequenceRanges{{7, 7}, {10, 12}}));
  EXPECT_EQ(scan.valid_end, golden.size());
  EXPECT_EQ(EncodeMarks({{7, 7}, {10, 12}}), golden);
}

TEST(GoldenSpoolState, TheNewerSlotWinsWithItsKnownCounters) {
  const std::string golden = Golden("state_v1.hex");
  ASSERT_EQ(golden.size(), kStateFileBytes);
  const std::optional<StateSlot> slot = ParseStateFile(AsBytes(golden));
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(slot->generation, 3u);
  EXPECT_EQ(slot->sequence_limit, 4097u);
  EXPECT_EQ(slot->reports_summarised, 11u);
  EXPECT_EQ(slot->reports_dropped, 2u);
  EXPECT_EQ(slot->findings_dropped, 1u);
  EXPECT_EQ(slot->damaged_records_skipped, 4u);
}

TEST(GoldenSpoolState, EncodingBothSlotsGivesTheSameBytes) {
  const std::string encoded = EncodeStateSlot({.generation = 2,
                                               .sequence_limit = 4097,
                                               .reports_summarised = 11,
                                               .reports_dropped = 2,
                                               .findings_dropped = 0,
                                               .damaged_records_skipped = 4}) +
                              EncodeStateSlot({.generation = 3,
                                               .sequence_limit = 4097,
                                               .reports_summarised = 11,
                                               .reports_dropped = 2,
                                               .findings_dropped = 1,
                                               .damaged_records_skipped = 4});
  EXPECT_EQ(encoded, Golden("state_v1.hex"));
}

}  // namespace
}  // namespace fscanary::spool::format
