#include "agent/spool/format.h"

#include <gtest/gtest.h>

#include <string>

namespace fscanary::spool::format {
namespace {

Bytes AsBytes(const std::string& s) { return std::as_bytes(std::span(s)); }

std::string Record(uint64_t sequence, std::string_view payload, uint8_t record_class = 1) {
  return EncodeRecord({.sequence = sequence, .record_class = record_class}, "", payload);
}

// A segment file: header then the given records.
std::string Segment(const std::vector<std::string>& records) {
  std::string file = EncodeSegmentHeader(7);
  for (const std::string& record : records) file += record;
  return file;
}

std::vector<uint64_t> Sequences(const SegmentScan& scan) {
  std::vector<uint64_t> sequences;
  for (const ScannedRecord& record : scan.records) sequences.push_back(record.header.sequence);
  return sequences;
}

TEST(SpoolFormat, RecordsAreEightByteAlignedAndRoundTrip) {
  for (size_t length : {0, 1, 7, 8, 9, 100}) {
    const std::string record = Record(42, std::string(length, 'x'));
    EXPECT_EQ(record.size() % 8, 0u);
    EXPECT_EQ(record.size(), RecordBytes(length));
    const auto header = ParseRecord(AsBytes(record));
    ASSERT_TRUE(header.has_value());
    EXPECT_EQ(header->sequence, 42u);
    EXPECT_EQ(header->body_length, length);
  }
}

TEST(SpoolFormat, SegmentHeaderNamesItsIdAndRejectsOtherBytes) {
  EXPECT_EQ(ParseSegmentHeader(AsBytes(EncodeSegmentHeader(99))), 99u);
  std::string damaged = EncodeSegmentHeader(99);
  damaged[17] ^= 1;
  EXPECT_FALSE(ParseSegmentHeader(AsBytes(damaged)).has_value());
  EXPECT_FALSE(ParseSegmentHeader(AsBytes(std::string("hello, world, not a spool at all"))));
}

TEST(SpoolFormat, CleanSegmentScansEveryRecord) {
  const std::string file = Segment({Record(1, "a"), Record(2, "bb"), Record(3, "ccc")});
  const SegmentScan scan = ScanSegment(AsBytes(file), kSegmentHeaderBytes, /*newest=*/true);
  EXPECT_EQ(Sequences(scan), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(scan.damaged, 0u);
  EXPECT_EQ(scan.valid_end, file.size());
}

TEST(SpoolFormat, DamagedPayloadIsSkippedByItsLengthAndCounted) {
  std::string middle = Record(2, std::string(50, 'm'));
  middle[30] ^= 0x40;
  const std::string file = Segment({Record(1, "a"), middle, Record(3, "c")});
  const SegmentScan scan = ScanSegment(AsBytes(file), kSegmentHeaderBytes, true);
  EXPECT_EQ(Sequences(scan), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(scan.damaged, 1u);
}

TEST(SpoolFormat, DamagedHeaderIsSkippedToTheNextRecord) {
  std::string middle = Record(2, std::string(50, 'm'));
  middle[5] ^= 0x01;  // the length: the header checksum fails
  const std::string file = Segment({Record(1, "a"), middle, Record(3, "c")});
  const SegmentScan scan = ScanSegment(AsBytes(file), kSegmentHeaderBytes, true);
  EXPECT_EQ(Sequences(scan), (std::vector<uint64_t>{1, 3}));
  EXPECT_EQ(scan.damaged, 1u);
}

TEST(SpoolFormat, TornTailOfNewestSegmentIsNotDamage) {
  const std::string whole = Segment({Record(1, "a"), Record(2, std::string(40, 'b'))});
  const uint64_t first_end = kSegmentHeaderBytes + RecordBytes(1);
  for (uint64_t cut = first_end; cut < whole.size(); ++cut) {
    const std::string file = whole.substr(0, cut);
    const SegmentScan scan = ScanSegment(AsBytes(file), kSegmentHeaderBytes, true);
    EXPECT_EQ(Sequences(scan), (std::vector<uint64_t>{1})) << cut;
    EXPECT_EQ(scan.damaged, 0u) << cut;
    EXPECT_EQ(scan.valid_end, first_end) << cut;
  }
}

TEST(SpoolFormat, IncompleteEndOfAnOlderSegmentIsDamage) {
  const std::string whole = Segment({Record(1, "a"), Record(2, std::string(40, 'b'))});
  const std::string file = whole.substr(0, whole.size() - 3);
  const SegmentScan scan = ScanSegment(AsBytes(file), kSegmentHeaderBytes, /*newest=*/false);
  EXPECT_EQ(Sequences(scan), (std::vector<uint64_t>{1}));
  EXPECT_EQ(scan.damaged, 1u);
}

TEST(SpoolFormat, SummaryPrefixRoundTrips) {
  const SummaryPrefix prefix{.replaces = {{1, 5}, {9, 9}}, .reports_represented = 6};
  const std::string encoded = EncodeSummaryPrefix(prefix);
  EXPECT_EQ(encoded.size(), SummaryPrefixBytes(2));
  const auto parsed = ParseSummaryPrefix(AsBytes(encoded + "payload"));
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->replaces, prefix.replaces);
  EXPECT_EQ(parsed->reports_represented, 6u);
  EXPECT_FALSE(ParseSummaryPrefix(AsBytes(encoded.substr(0, 12))).has_value());
}

TEST(SpoolFormat, MarksSurviveATornOrDamagedNeighbour) {
  std::string damaged = EncodeMarks({{5, 6}});
  damaged[9] ^= 1;
  const std::string file = EncodeMarks({{1, 3}}) + damaged + EncodeMarks({{8, 8}, {10, 12}});
  const MarksScan scan = ScanMarks(AsBytes(file + EncodeMarks({{20, 20}}).substr(0, 20)));
  EXPECT_EQ(scan.ranges, (SequenceRanges{{1, 3}, {8, 8}, {10, 12}}));
  EXPECT_EQ(scan.valid_end, file.size());
}

TEST(SpoolFormat, StateFileKeepsTheNewerValidSlot) {
  std::string file(kStateFileBytes, '\0');
  const std::string older = EncodeStateSlot({.generation = 4, .sequence_limit = 100});
  const std::string newer = EncodeStateSlot({.generation = 5, .sequence_limit = 200});
  file.replace(0, kStateSlotBytes, older);
  file.replace(kStateSlotBytes, kStateSlotBytes, newer);
  EXPECT_EQ(ParseStateFile(AsBytes(file))->sequence_limit, 200u);
  file[kStateSlotBytes + 20] ^= 1;  // a torn write of the newer slot
  EXPECT_EQ(ParseStateFile(AsBytes(file))->sequence_limit, 100u);
  file[20] ^= 1;
  EXPECT_FALSE(ParseStateFile(AsBytes(file)).has_value());
}

TEST(SpoolFormat, CoalesceMergesAdjacentAndOverlappingRanges) {
  const SequenceRanges merged = Coalesce({{7, 9}, {1, 2}, {3, 4}, {8, 12}, {20, 20}});
  EXPECT_EQ(merged, (SequenceRanges{{1, 4}, {7, 12}, {20, 20}}));
  EXPECT_TRUE(Contains(merged, 4));
  EXPECT_TRUE(Contains(merged, 7));
  EXPECT_FALSE(Contains(merged, 5));
  EXPECT_FALSE(Contains(merged, 13));
  EXPECT_FALSE(Contains(merged, 0));
}

}  // namespace
}  // namespace fscanary::spool::format
