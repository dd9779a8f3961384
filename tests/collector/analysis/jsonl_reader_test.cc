#include "collector/analysis/jsonl_reader.h"

#include <cmath>
#include <sstream>

#include "gtest/gtest.h"

namespace fscanary::analysis {
namespace {

absl::StatusOr<JsonlFleet> Read(const std::string& text,
                                BadLinePolicy policy = BadLinePolicy::kFail) {
  std::istringstream input(text);
  return ReadFleetJsonl(input, {.on_bad_line = policy});
}

// The example line of the issue.
constexpr char kIssueLine[] =
    R"({"host": "vm-0001", "attributes": {"kernel": "4.19.2", "scheduler": "none", )"
    R"("blk_mq": "on", "driver": "virtio_scsi", "fs": "ext4", "CONFIG_SCSI_MQ_DEFAULT": "y"}, )"
    R"("exposure_bytes": 1.2e12, "exposure_seconds": 86400, "corruptions": 0})";

TEST(ReadFleetJsonl, ReadsTheIssuesExampleLine) {
  absl::StatusOr<JsonlFleet> read = Read(std::string(kIssueLine) + "\n");
  ASSERT_TRUE(read.ok()) << read.status();
  const Fleet& fleet = read->fleet;
  ASSERT_EQ(fleet.epoch_count(), 1u);
  EXPECT_EQ(fleet.host_name(0), "vm-0001");
  EXPECT_EQ(fleet.exposure_bytes()[0], 1.2e12);
  EXPECT_EQ(fleet.exposure_seconds()[0], 86400);
  EXPECT_EQ(fleet.attribute_count(), 6u);
  const auto scheduler = fleet.FindAttribute("scheduler");
  ASSERT_TRUE(scheduler.has_value());
  EXPECT_EQ(fleet.value_text(fleet.attribute_values(*scheduler)[0]), "none");
  EXPECT_TRUE(fleet.corruptions().empty());
}

TEST(ReadFleetJsonl, CountsByKindAndPlainCounts) {
  absl::StatusOr<JsonlFleet> read =
      Read(R"({"host": "a", "exposure_bytes": 1, "corruptions": {"lost_write": 2, "bit_rot": 1}})"
           "\n"
           R"({"host": "b", "exposure_bytes": 1, "corruptions": 3})"
           "\n");
  ASSERT_TRUE(read.ok()) << read.status();
  uint64_t lost = 0, unnamed = 0, total = 0;
  for (const CorruptionCount& c : read->fleet.corruptions()) {
    total += c.count;
    if (read->fleet.kind_name(c.kind) == "lost_write") lost += c.count;
    if (read->fleet.kind_name(c.kind).empty()) unnamed += c.count;
  }
  EXPECT_EQ(total, 6u);
  EXPECT_EQ(lost, 2u);
  EXPECT_EQ(unnamed, 3u);
}

TEST(ReadFleetJsonl, ScalarValuesBecomeTextAndNullMeansUnset) {
  absl::StatusOr<JsonlFleet> read = Read(
      R"({"host": "a", "exposure_bytes": 1, "attributes": {"nr_requests": 64, "wc": true, "x": null}})"
      "\n");
  ASSERT_TRUE(read.ok()) << read.status();
  const Fleet& fleet = read->fleet;
  EXPECT_EQ(fleet.value_text(fleet.attribute_values(*fleet.FindAttribute("nr_requests"))[0]), "64");
  EXPECT_EQ(fleet.value_text(fleet.attribute_values(*fleet.FindAttribute("wc"))[0]), "true");
  EXPECT_FALSE(fleet.FindAttribute("x").has_value());
}

TEST(ReadFleetJsonl, BadLineIsFatalWithItsLineNumber) {
  const std::string text =
      std::string(kIssueLine) + "\n\n" + R"({"host": "b", "exposure_bytes": -5})" + "\n";
  absl::StatusOr<JsonlFleet> read = Read(text);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read.status().message(), "line 3: \"exposure_bytes\" must be a non-negative number");
}

TEST(ReadFleetJsonl, StartTimesAreReadAndUnknownWithoutThem) {
  absl::StatusOr<JsonlFleet> read =
      Read(R"({"host": "a", "exposure_bytes": 1, "start_seconds": 1700000000.5})"
           "\n"
           R"({"host": "b", "exposure_bytes": 1})"
           "\n");
  ASSERT_TRUE(read.ok()) << read.status();
  const Fleet& fleet = read->fleet;
  for (uint32_t e = 0; e < fleet.epoch_count(); ++e) {
    if (fleet.host_name(fleet.epoch_host(e)) == "a") {
      EXPECT_EQ(fleet.start_seconds()[e], 1700000000.5);
    } else {
      EXPECT_TRUE(std::isnan(fleet.start_seconds()[e]));
    }
  }
  absl::StatusOr<JsonlFleet> bad =
      Read(R"({"host": "a", "exposure_bytes": 1, "start_seconds": "monday"})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "line 1: \"start_seconds\" must be a number");
}

TEST(ReadFleetJsonl, BadLinesAreSkippedAndListedWhenAsked) {
  const std::string text = std::string(kIssueLine) + "\n" + "{not json\n" +
                           R"({"attributes": {}, "exposure_bytes": 1})" + "\n" +
                           R"({"host": "c", "exposure_bytes": 1, "attributes": {"a": [1]}})" +
                           "\n" + R"({"host": "d", "exposure_bytes": 1, "corruptions": -1})" +
                           "\n" + R"({"host": "e", "exposure_bytes": 2})" + "\n" +
                           R"({"host": "f"})" + "\n" + "[1, 2]\n";
  absl::StatusOr<JsonlFleet> read = Read(text, BadLinePolicy::kSkip);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->fleet.epoch_count(), 2u);
  EXPECT_EQ(read->lines, 8u);
  ASSERT_EQ(read->bad_lines.size(), 6u);
  EXPECT_EQ(read->bad_lines[0].line, 2u);
  EXPECT_EQ(read->bad_lines[0].reason, "not valid JSON");
  EXPECT_EQ(read->bad_lines[1].reason, "\"host\" must be a non-empty string");
  EXPECT_EQ(read->bad_lines[2].reason, "attribute \"a\" must be a string, number or boolean");
  EXPECT_EQ(read->bad_lines[3].reason, "\"corruptions\" must be a non-negative integer");
  EXPECT_EQ(read->bad_lines[4].reason, "missing \"exposure_bytes\"");
  EXPECT_EQ(read->bad_lines[5].line, 8u);
  EXPECT_EQ(read->bad_lines[5].reason, "not a JSON object");
}

}  // namespace
}  // namespace fscanary::analysis
