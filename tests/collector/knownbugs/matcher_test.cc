#include "collector/knownbugs/matcher.h"

#include <string>

#include "collector/knownbugs/known_bugs.h"
#include "gtest/gtest.h"

namespace fscanary::knownbugs {
namespace {

// A made-up table: one bug on ext4 with the mq-deadline scheduler.
std::vector<KnownBug> Table() {
  return {KnownBug{
      .id = "made-up",
      .affected = {{.introduced = "5.10", .fixed = "5.11"}},
      .conditions = {{.attribute = "fs", .any_of = {"ext4"}, .text = "ext4"},
                     {.attribute = "CONFIG_EXT4_FS", .any_of = {"y", "m"}, .text = "ext4 built"}},
      .fix_commit = "0123456789abcdef",
  }};
}

TEST(MatchKnownBugs, EveryConditionObservedAndMetIsAffected) {
  const auto table = Table();
  const HostEpoch epoch{
      .attributes = {{"kernel", "5.10.3"}, {"fs", "ext4"}, {"CONFIG_EXT4_FS", "y"}}};
  const std::vector<Match> matches = MatchKnownBugs(epoch, table);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].bug, &table[0]);
  EXPECT_EQ(matches[0].verdict, Verdict::kAffected);
  EXPECT_EQ(Describe(matches[0]),
            "affected by known bug made-up (fixed by 0123456789ab): kernel 5.10.3 is in "
            "[5.10, 5.11); fs=ext4; CONFIG_EXT4_FS=y");
}

TEST(MatchKnownBugs, AnAttributeTheHostDidNotReportMakesItPossible) {
  const auto table = Table();
  const HostEpoch epoch{.attributes = {{"kernel", "5.10.3"}, {"fs", "ext4"}}};
  const std::vector<Match> matches = MatchKnownBugs(epoch, table);
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].verdict, Verdict::kPossiblyAffected);
  EXPECT_EQ(matches[0].why[2], "not reported by this host (CONFIG_EXT4_FS): ext4 built");
  EXPECT_EQ(Describe(matches[0]).rfind("possibly affected by known bug made-up", 0), 0u);
}

TEST(MatchKnownBugs, OneConditionKnownFalseRulesItOut) {
  const auto table = Table();
  const HostEpoch epoch{
      .attributes = {{"kernel", "5.10.3"}, {"fs", "ext4"}, {"CONFIG_EXT4_FS", "n"}}};
  EXPECT_TRUE(MatchKnownBugs(epoch, table).empty());
}

TEST(MatchKnownBugs, AnEpochWithoutAKernelReleaseMatchesNothing) {
  const auto table = Table();
  EXPECT_TRUE(MatchKnownBugs(HostEpoch{.attributes = {{"fs", "ext4"}}}, table).empty());
  EXPECT_TRUE(
      MatchKnownBugs(HostEpoch{.attributes = {{"kernel", "garbage"}, {"fs", "ext4"}}}, table)
          .empty());
}

TEST(MatchKnownBugs, TheShippedTableIsTheDefault) {
  const HostEpoch epoch{.attributes = {{"kernel", "5.2.14"}, {"fs", "btrfs"}}};
  const std::vector<Match> matches = MatchKnownBugs(epoch);
  ASSERT_FALSE(matches.empty());
  EXPECT_EQ(matches[0].bug->id, "btrfs-5.2-unwritten-extent-buffers");
}

}  // namespace
}  // namespace fscanary::knownbugs
