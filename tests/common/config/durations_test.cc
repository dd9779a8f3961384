#include "common/config/durations.h"

#include <gtest/gtest.h>

#include "common/sizes.h"

namespace fscanary::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(*ParseDuration("100ms"), milliseconds(100));
  EXPECT_EQ(*ParseDuration("30s"), seconds(30));
  EXPECT_EQ(*ParseDuration("5m"), minutes(5));
  EXPECT_EQ(*ParseDuration("1h"), hours(1));
  EXPECT_EQ(*ParseDuration("30d"), hours(24 * 30));
  EXPECT_EQ(*ParseDuration("0"), milliseconds(0));
}

TEST(ParseDuration, AddsUpSeveralParts) {
  EXPECT_EQ(*ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(*ParseDuration("1m500ms"), milliseconds(60'500));
}

TEST(ParseDuration, RefusesABareNumberSayingAUnitIsNeeded) {
  const absl::StatusOr<Duration> parsed = ParseDuration("30");
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("needs a unit"), absl::string_view::npos);
}

TEST(ParseDuration, RefusesWhatIsNotADuration) {
  for (const char* text : {"", "s", "1x", "1.5s", "-1s", "1 s", "1sec", "1hm", "ms"}) {
    EXPECT_FALSE(ParseDuration(text).ok()) << text;
  }
}

TEST(ParseDuration, RefusesOverflowInsteadOfWrapping) {
  EXPECT_FALSE(ParseDuration("99999999999999999999d").ok());
  EXPECT_FALSE(ParseDuration("9223372036854775807d").ok());
}

TEST(FormatDuration, UsesTheLargestExactUnitAndRoundTrips) {
  EXPECT_EQ(FormatDuration(seconds(60)), "1m");
  EXPECT_EQ(FormatDuration(seconds(90)), "90s");
  EXPECT_EQ(FormatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(FormatDuration(hours(48)), "2d");
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  for (milliseconds value : {milliseconds(1), milliseconds(61'001), milliseconds(3'600'000)}) {
    EXPECT_EQ(*ParseDuration(FormatDuration(value)), value);
  }
}

TEST(FormatByteSize, UsesTheLargestExactBinaryUnitAndRoundTrips) {
  EXPECT_EQ(FormatByteSize(65536), "64K");
  EXPECT_EQ(FormatByteSize(uint64_t{1} << 30), "1G");
  EXPECT_EQ(FormatByteSize(1000), "1000");
  EXPECT_EQ(FormatByteSize(0), "0");
  for (uint64_t value : {uint64_t{4096}, uint64_t{3} << 40, uint64_t{12345}}) {
    EXPECT_EQ(*ParseByteSize(FormatByteSize(value)), value);
  }
}

}  // namespace
}  // namespace fscanary::config
