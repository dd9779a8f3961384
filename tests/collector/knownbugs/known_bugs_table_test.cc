// The table's form, and for every entry a host epoch that matches and one
// that narrowly does not (one condition off, or the first fixed release).

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collector/analysis/kernel_version.h"
#include "collector/knownbugs/known_bugs.h"
#include "collector/knownbugs/matcher.h"
#include "collector/knownbugs/upstream_version.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fscanary::knownbugs {
namespace {

using ::testing::HasSubstr;

const KnownBug& Bug(std::string_view id) {
  for (const KnownBug& bug : KnownBugs()) {
    if (bug.id == id) return bug;
  }
  ADD_FAILURE() << "no entry " << id;
  static const KnownBug kNone{};
  return kNone;
}

HostEpoch Epoch(std::string kernel, std::vector<std::pair<std::string, std::string>> more = {},
                std::string proc_version = "") {
  HostEpoch epoch{.proc_version = std::move(proc_version)};
  epoch.attributes.emplace_back("kernel", std::move(kernel));
  for (auto& attribute : more) epoch.attributes.push_back(std::move(attribute));
  return epoch;
}

// The verdict of one entry alone, or nothing when it does not match.
std::optional<Match> MatchOf(std::string_view id, const HostEpoch& epoch) {
  const std::vector<Match> matches = MatchKnownBugs(epoch, std::span(&Bug(id), 1));
  if (matches.empty()) return std::nullopt;
  return matches.front();
}

bool IsHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool Mentions(const KnownBug& bug, std::string_view text) {
  return std::any_of(bug.sources.begin(), bug.sources.end(), [&](const Source& source) {
    return source.reference.find(text) != std::string_view::npos;
  });
}

TEST(KnownBugTable, HoldsAtLeastSixEntries) { EXPECT_GE(KnownBugs().size(), 6u); }

TEST(KnownBugTable, EveryEntryIsSourcedAndWellFormed) {
  const std::set<std::string_view> kinds = {"commit", "stable release", "bug tracker",
                                            "mailing list", "article"};
  std::set<std::string_view> ids;
  for (const KnownBug& bug : KnownBugs()) {
    SCOPED_TRACE(std::string(bug.id));
    EXPECT_TRUE(ids.insert(bug.id).second) << "duplicate id";
    EXPECT_TRUE(std::all_of(bug.id.begin(), bug.id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    })) << "ids are lower-case slugs";
    EXPECT_FALSE(bug.title.empty());
    EXPECT_EQ(bug.title.find('\n'), std::string_view::npos) << "the title is one line";
    EXPECT_GE(bug.fix_commit.size(), 12u);
    EXPECT_TRUE(IsHex(bug.fix_commit));
    EXPECT_TRUE(Mentions(bug, bug.fix_commit.substr(0, 12))) << "a source names the fixing commit";
    if (!bug.introduced_by.empty()) {
      EXPECT_GE(bug.introduced_by.size(), 10u);
      EXPECT_TRUE(IsHex(bug.introduced_by));
    }
    ASSERT_FALSE(bug.affected.empty());
    for (const ReleaseRange& range : bug.affected) {
      const auto introduced = ParseTableRelease(range.introduced);
      const auto fixed = ParseTableRelease(range.fixed);
      ASSERT_TRUE(introduced.has_value()) << range.introduced;
      ASSERT_TRUE(fixed.has_value()) << range.fixed;
      EXPECT_TRUE(analysis::CompareKernelVersions(*introduced, *fixed) < 0);
    }
    for (const std::string_view backport : bug.backports) {
      const auto version = ParseTableRelease(backport);
      ASSERT_TRUE(version.has_value()) << backport;
      const UpstreamVersion exact{.lowest = *version, .highest = *version, .exact = true};
      // Just before the backport the series must be affected, or the backport says nothing.
      UpstreamVersion before = exact;
      before.lowest.patch = before.highest.patch = version->patch - 1;
      EXPECT_EQ(AffectedCoverage(bug, before), Coverage::kAll) << backport;
      EXPECT_EQ(AffectedCoverage(bug, exact), Coverage::kNone) << backport;
    }
    for (const Condition& condition : bug.conditions) {
      EXPECT_FALSE(condition.text.empty());
      if (!condition.attribute.empty()) {
        EXPECT_FALSE(condition.any_of.empty());
      }
    }
    ASSERT_FALSE(bug.sources.empty());
    for (const Source& source : bug.sources) {
      EXPECT_TRUE(kinds.contains(source.kind)) << source.kind;
      EXPECT_FALSE(source.reference.empty());
    }
    EXPECT_FALSE(bug.verified.empty());
  }
}

// bugzilla 201685: blk-mq, scheduler none, SCSI disk, request merging on.
HostEpoch ScsiNone(std::string kernel, std::string merges = "all") {
  return Epoch(std::move(kernel), {{"blk_mq", "on"},
                                   {"scheduler", "none"},
                                   {"driver", "virtio_scsi"},
                                   {"merges", std::move(merges)}});
}

TEST(KnownBug201685, LastAffectedStableMatchesWithEveryReason) {
  const auto match = MatchOf("blk-mq-direct-issue-merge", ScsiNone("4.19.7"));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->verdict, Verdict::kAffected);
  ASSERT_EQ(match->why.size(), 5u);
  EXPECT_EQ(match->why[0], "kernel 4.19.7 is in [4.19-rc1, 4.19.8)");
  EXPECT_EQ(match->why[1], "blk_mq=on");
  EXPECT_EQ(match->why[2], "scheduler=none");
  EXPECT_EQ(match->why[3], "driver=virtio_scsi");
  EXPECT_EQ(match->why[4], "merges=all");
}

TEST(KnownBug201685, WithoutRequestMergingItDoesNotMatch) {
  EXPECT_FALSE(MatchOf("blk-mq-direct-issue-merge", ScsiNone("4.19.7", "none")).has_value());
}

TEST(KnownBug201685, OneHitMergesOnlyOrAnAgentThatDoesNotReportMergingIsPossiblyAffected) {
  const auto simple = MatchOf("blk-mq-direct-issue-merge", ScsiNone("4.19.7", "simple"));
  ASSERT_TRUE(simple.has_value());
  EXPECT_EQ(simple->verdict, Verdict::kPossiblyAffected);
  EXPECT_THAT(simple->why[4], HasSubstr("merges=simple is not known either way"));

  HostEpoch old_agent = ScsiNone("4.19.7");
  old_agent.attributes.pop_back();
  const auto unreported = MatchOf("blk-mq-direct-issue-merge", old_agent);
  ASSERT_TRUE(unreported.has_value());
  EXPECT_EQ(unreported->verdict, Verdict::kPossiblyAffected);
  EXPECT_THAT(unreported->why[4], HasSubstr("not reported by this host (merges"));
}

TEST(KnownBug201685, FirstFixedStableDoesNotMatch) {
  EXPECT_FALSE(MatchOf("blk-mq-direct-issue-merge", ScsiNone("4.19.8")).has_value());
  EXPECT_FALSE(MatchOf("blk-mq-direct-issue-merge", ScsiNone("4.18.20")).has_value());
}

TEST(KnownBug201685, AnIoSchedulerOrANonScsiDiskDoesNotMatch) {
  HostEpoch deadline = ScsiNone("4.19.7");
  deadline.attributes[2].second = "mq-deadline";
  EXPECT_FALSE(MatchOf("blk-mq-direct-issue-merge", deadline).has_value());
  HostEpoch virtio_blk = ScsiNone("4.19.7");
  virtio_blk.attributes[3].second = "virtio_blk";
  EXPECT_FALSE(MatchOf("blk-mq-direct-issue-merge", virtio_blk).has_value());
  HostEpoch legacy = ScsiNone("4.19.7");
  legacy.attributes[1].second = "off";
  EXPECT_FALSE(MatchOf("blk-mq-direct-issue-merge", legacy).has_value());
}

TEST(KnownBug201685, AnUnclassifiedDriverIsPossiblyAffected) {
  HostEpoch odd = ScsiNone("4.20-rc3");
  odd.attributes[3].second = "some_new_hba";
  const auto match = MatchOf("blk-mq-direct-issue-merge", odd);
  ASSERT_TRUE(match.has_value());
  EXPECT_THAT(match->why[3], HasSubstr("driver=some_new_hba is not known either way"));
}

// ext4 in 6.1.64/6.1.65, as Debian 12 shipped it.
constexpr std::string_view kDebianProcVersion =
    "Linux version 6.1.0-14-amd64 (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14) "
    "12.2.0, GNU ld (GNU Binutils for Debian) 2.40) #1 SMP PREEMPT_DYNAMIC Debian ";

TEST(KnownBugExt4DioPosition, DebianKernelWithTheBadBackportMatches) {
  const auto match = MatchOf("ext4-dio-write-position-6.1",
                             Epoch("6.1.0-14-amd64", {{"fs", "ext4"}},
                                   std::string(kDebianProcVersion) + "6.1.64-1 (2023-11-30)"));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->verdict, Verdict::kPossiblyAffected);
  EXPECT_EQ(match->why[0],
            "kernel 6.1.64 (Debian 6.1.64-1 in /proc/version) is in [6.1.64, 6.1.66)");
  EXPECT_EQ(match->why[1], "fs=ext4");
}

TEST(KnownBugExt4DioPosition, FirstFixedDebianKernelOrAnotherFilesystemDoesNotMatch) {
  EXPECT_FALSE(MatchOf("ext4-dio-write-position-6.1",
                       Epoch("6.1.0-15-amd64", {{"fs", "ext4"}},
                             std::string(kDebianProcVersion) + "6.1.66-1 (2023-12-09)"))
                   .has_value());
  EXPECT_FALSE(
      MatchOf("ext4-dio-write-position-6.1", Epoch("6.1.64", {{"fs", "xfs"}})).has_value());
  EXPECT_FALSE(
      MatchOf("ext4-dio-write-position-6.1", Epoch("6.1.63", {{"fs", "ext4"}})).has_value());
}

TEST(KnownBugExt4DioPosition, AbiNameAloneIsPossiblyAffected) {
  const auto match =
      MatchOf("ext4-dio-write-position-6.1", Epoch("6.1.0-14-amd64", {{"fs", "ext4"}}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->verdict, Verdict::kPossiblyAffected);
  EXPECT_EQ(match->why[0],
            "kernel 6.1.x (the release 6.1.0-14-amd64 hides the patch level) may be in "
            "[6.1.64, 6.1.66)");
}

TEST(KnownBugBtrfs52, LastAffectedStableOnBtrfsIsAffected) {
  const auto match =
      MatchOf("btrfs-5.2-unwritten-extent-buffers", Epoch("5.2.14", {{"fs", "btrfs"}}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->verdict, Verdict::kAffected);
  EXPECT_EQ(match->why,
            (std::vector<std::string>{"kernel 5.2.14 is in [5.2-rc1, 5.2.15)", "fs=btrfs"}));
}

TEST(KnownBugBtrfs52, FirstFixedStableOrExt4DoesNotMatch) {
  EXPECT_FALSE(MatchOf("btrfs-5.2-unwritten-extent-buffers", Epoch("5.2.15", {{"fs", "btrfs"}}))
                   .has_value());
  EXPECT_FALSE(
      MatchOf("btrfs-5.2-unwritten-extent-buffers", Epoch("5.3", {{"fs", "btrfs"}})).has_value());
  EXPECT_FALSE(
      MatchOf("btrfs-5.2-unwritten-extent-buffers", Epoch("5.2.14", {{"fs", "ext4"}})).has_value());
}

TEST(KnownBugSwapfile512, Rc1MatchesAndRc2DoesNot) {
  const auto match = MatchOf("swapfile-offset-5.12-rc1", Epoch("5.12.0-rc1"));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->verdict, Verdict::kPossiblyAffected);
  EXPECT_EQ(match->why[0], "kernel 5.12-rc1 (the release 5.12.0-rc1) is in [5.12-rc1, 5.12-rc2)");
  EXPECT_FALSE(MatchOf("swapfile-offset-5.12-rc1", Epoch("5.12.0-rc2")).has_value());
  EXPECT_FALSE(MatchOf("swapfile-offset-5.12-rc1", Epoch("5.11.22")).has_value());
}

TEST(KnownBugMultipageBvecGap, StorvscBeforeTheBackportMatches) {
  const auto match =
      MatchOf("block-multipage-bvec-gap", Epoch("5.4.131", {{"driver", "hv_storvsc"}}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->why[0], "kernel 5.4.131 is in [5.1-rc1, 5.4.132)");
  EXPECT_EQ(match->why[1], "driver=hv_storvsc");
}

TEST(KnownBugMultipageBvecGap, BackportOrAnotherDriverDoesNotMatch) {
  EXPECT_FALSE(MatchOf("block-multipage-bvec-gap", Epoch("5.4.132", {{"driver", "hv_storvsc"}}))
                   .has_value());
  EXPECT_FALSE(MatchOf("block-multipage-bvec-gap", Epoch("5.4.131", {{"driver", "virtio_scsi"}}))
                   .has_value());
  EXPECT_FALSE(
      MatchOf("block-multipage-bvec-gap", Epoch("5.0.21", {{"driver", "hv_storvsc"}})).has_value());
}

TEST(KnownBugMultipageBvecGap, SeriesWithoutAConfirmedBackportStaysPossiblyAffected) {
  EXPECT_TRUE(MatchOf("block-multipage-bvec-gap", Epoch("5.10.60", {{"driver", "hv_storvsc"}}))
                  .has_value());
}

TEST(KnownBugBdevDirectIo, RawTargetOnAnUnfixedSeriesMatches) {
  const auto match = MatchOf("bdev-dio-short-pin-fallback", Epoch("4.14.131", {{"fs", "raw"}}));
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->why[0], "kernel 4.14.131 is in [4.10-rc1, 4.14.132)");
  EXPECT_TRUE(
      MatchOf("bdev-dio-short-pin-fallback", Epoch("4.17.19", {{"fs", "raw"}})).has_value());
}

TEST(KnownBugBdevDirectIo, BackportFixedReleaseOrAFileTargetDoesNotMatch) {
  EXPECT_FALSE(
      MatchOf("bdev-dio-short-pin-fallback", Epoch("4.14.132", {{"fs", "raw"}})).has_value());
  EXPECT_FALSE(MatchOf("bdev-dio-short-pin-fallback", Epoch("4.18", {{"fs", "raw"}})).has_value());
  EXPECT_FALSE(
      MatchOf("bdev-dio-short-pin-fallback", Epoch("4.14.131", {{"fs", "ext4"}})).has_value());
}

}  // namespace
}  // namespace fscanary::knownbugs
