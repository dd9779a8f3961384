#include "collector/knownbugs/upstream_version.h"

#include <string>

#include "collector/knownbugs/known_bugs.h"
#include "gtest/gtest.h"

namespace fscanary::knownbugs {
namespace {

std::string Text(const analysis::KernelVersion& version) {
  return std::to_string(version.major) + "." + std::to_string(version.minor) + "." +
         std::to_string(version.patch) + (version.rc ? "-rc" + std::to_string(version.rc) : "");
}

TEST(UpstreamVersion, DebianProcVersionGivesThePatchLevelNotTheCompilers) {
  const auto version = ResolveUpstreamVersion(
      "6.1.0-13-amd64",
      "Linux version 6.1.0-13-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) "
      "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian 6.1.55-1 "
      "(2023-09-29)");
  ASSERT_TRUE(version.has_value());
  EXPECT_TRUE(version->exact);
  EXPECT_EQ(Text(version->lowest), "6.1.55");
  EXPECT_EQ(version->described, "6.1.55 (Debian 6.1.55-1 in /proc/version)");
}

TEST(UpstreamVersion, DebianReleaseCandidatesAreSpelledWithATilde) {
  const auto version = ResolveUpstreamVersion(
      "6.7.0-rc3-amd64",
      "Linux version 6.7.0-rc3-amd64 (debian-kernel@lists.debian.org) #1 SMP "
      "PREEMPT_DYNAMIC Debian 6.7~rc3-1~exp1 (2023-11-28)");
  ASSERT_TRUE(version.has_value());
  EXPECT_TRUE(version->exact);
  EXPECT_EQ(Text(version->lowest), "6.7.0-rc3");
}

TEST(UpstreamVersion, DebianVersionOfAnotherSeriesIsIgnored) {
  const auto version = ResolveUpstreamVersion("5.10.0-20-amd64", "#1 SMP Debian 6.1.55-1");
  ASSERT_TRUE(version.has_value());
  EXPECT_FALSE(version->exact);
  EXPECT_EQ(Text(version->lowest), "5.10.0");
}

TEST(UpstreamVersion, AbiNamesWithoutDebianMarkerKnowOnlyTheSeries) {
  for (const char* release : {"6.1.0-13-amd64", "5.15.0-91-generic", "4.18.0-348.el8.x86_64"}) {
    SCOPED_TRACE(release);
    const auto version = ResolveUpstreamVersion(
        release, "Linux version 5.15.0-91-generic (buildd@lcy02) #101-Ubuntu");
    ASSERT_TRUE(version.has_value());
    EXPECT_FALSE(version->exact);
    EXPECT_EQ(version->lowest.patch, 0);
    EXPECT_GT(version->highest.patch, 100000);
  }
}

TEST(UpstreamVersion, ReleasesThatNameTheirPatchLevelAreExact) {
  for (const auto& [release, expected] :
       {std::pair{"4.19", "4.19.0"}, std::pair{"4.19.7", "4.19.7"},
        std::pair{"6.5.6-300.fc39.x86_64", "6.5.6"}, std::pair{"6.6.3-arch1-1", "6.6.3"},
        std::pair{"5.12.0-rc1", "5.12.0-rc1"}}) {
    SCOPED_TRACE(release);
    const auto version = ResolveUpstreamVersion(release, "");
    ASSERT_TRUE(version.has_value());
    EXPECT_TRUE(version->exact);
    EXPECT_EQ(Text(version->lowest), expected);
  }
}

TEST(UpstreamVersion, UnparsableReleaseWithoutDebianMarkerIsUnknown) {
  EXPECT_FALSE(ResolveUpstreamVersion("unknown", "").has_value());
  EXPECT_FALSE(ResolveUpstreamVersion("", "Linux version something").has_value());
}

TEST(TableRelease, DistroSuffixesHaveNoPlaceInTheTable) {
  EXPECT_TRUE(ParseTableRelease("4.19-rc1").has_value());
  EXPECT_TRUE(ParseTableRelease("6.1.66").has_value());
  EXPECT_FALSE(ParseTableRelease("6.1.0-13-amd64").has_value());
  EXPECT_FALSE(ParseTableRelease("").has_value());
}

// A made-up bug: [4.19-rc1, 4.21) with a backport at 4.19.8.
KnownBug Example() {
  return KnownBug{.id = "example",
                  .affected = {{.introduced = "4.19-rc1", .fixed = "4.21"}},
                  .backports = {"4.19.8"}};
}

Coverage CoverageOf(const char* release) {
  return AffectedCoverage(Example(), *ResolveUpstreamVersion(release, ""));
}

TEST(AffectedCoverage, ExactVersionsAreInOrOut) {
  EXPECT_EQ(CoverageOf("4.18.20"), Coverage::kNone);
  EXPECT_EQ(CoverageOf("4.19-rc1"), Coverage::kAll);
  EXPECT_EQ(CoverageOf("4.19.7"), Coverage::kAll);
  EXPECT_EQ(CoverageOf("4.19.8"), Coverage::kNone) << "the backport fixed the series";
  EXPECT_EQ(CoverageOf("4.20.17"), Coverage::kAll) << "a series without a backport";
  EXPECT_EQ(CoverageOf("4.21-rc1"), Coverage::kAll) << "candidates before the fixed release";
  EXPECT_EQ(CoverageOf("4.21"), Coverage::kNone);
}

TEST(AffectedCoverage, ASeriesKnownOnlyByItsAbiNameIsPartlyOrWhollyIn) {
  EXPECT_EQ(CoverageOf("4.19.0-16-amd64"), Coverage::kSome) << "4.19.0-4.19.7 of 4.19.x";
  EXPECT_EQ(CoverageOf("4.20.0-1-amd64"), Coverage::kAll) << "every 4.20.x";
  EXPECT_EQ(CoverageOf("4.18.0-348.el8"), Coverage::kNone);
  EXPECT_EQ(CoverageOf("4.21.0-1-amd64"), Coverage::kNone);
}

TEST(AffectedCoverage, DescribesTheRangeCutAtTheBackport) {
  EXPECT_EQ(DescribeAffectedRange(Example(), *ResolveUpstreamVersion("4.19.3", "")),
            "[4.19-rc1, 4.19.8)");
  EXPECT_EQ(DescribeAffectedRange(Example(), *ResolveUpstreamVersion("4.20.3", "")),
            "[4.19-rc1, 4.21)");
  EXPECT_EQ(DescribeAffectedRange(Example(), *ResolveUpstreamVersion("4.21.3", "")), "");
}

}  // namespace
}  // namespace fscanary::knownbugs
