#include "collector/analysis/kernel_version.h"

#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace fscanary::analysis {
namespace {

TEST(KernelVersion, ParsesUpstreamReleasesAndCandidates) {
  const auto rc = ParseKernelVersion("4.19-rc1");
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(rc->major, 4);
  EXPECT_EQ(rc->minor, 19);
  EXPECT_EQ(rc->patch, 0);
  EXPECT_EQ(rc->rc, 1);
  const auto stable = ParseKernelVersion("4.19.8");
  ASSERT_TRUE(stable.has_value());
  EXPECT_EQ(stable->patch, 8);
  EXPECT_EQ(stable->rc, 0);
  EXPECT_EQ(stable->suffix, "");
}

TEST(KernelVersion, KeepsDistroSuffixes) {
  const auto fedora = ParseKernelVersion("4.19.2-300.fc29.x86_64");
  ASSERT_TRUE(fedora.has_value());
  EXPECT_EQ(fedora->patch, 2);
  EXPECT_EQ(fedora->suffix, "-300.fc29.x86_64");
  const auto rhel = ParseKernelVersion("3.10.0-957.10.1.el7");
  ASSERT_TRUE(rhel.has_value());
  EXPECT_EQ(rhel->Series(), "3.10");
  EXPECT_EQ(rhel->suffix, "-957.10.1.el7");
  const auto debian = ParseKernelVersion("6.1.0-18-amd64");
  ASSERT_TRUE(debian.has_value());
  EXPECT_EQ(debian->Series(), "6.1");
  EXPECT_EQ(debian->suffix, "-18-amd64");
}

TEST(KernelVersion, FedoraPreReleaseIsACandidate) {
  const auto pre = ParseKernelVersion("5.0.0-0.rc3.git0.1.fc30.x86_64");
  ASSERT_TRUE(pre.has_value());
  EXPECT_EQ(pre->rc, 3);
  EXPECT_TRUE(KernelReleaseLess("5.0.0-0.rc3.git0.1.fc30.x86_64", "5.0.0-200.fc29.x86_64"));
}

TEST(KernelVersion, RejectsWhatIsNotARelease) {
  EXPECT_FALSE(ParseKernelVersion("").has_value());
  EXPECT_FALSE(ParseKernelVersion("linux").has_value());
  EXPECT_FALSE(ParseKernelVersion("4").has_value());
  EXPECT_FALSE(ParseKernelVersion("4.19abc").has_value());
}

TEST(KernelVersion, OrdersCandidatesBeforeReleasesBeforeStableUpdates) {
  // The issue's own example: 4.19-rc1 < 4.19 < 4.19.2 < 4.19.8.
  const std::vector<std::string> expected = {"4.18.20", "4.19-rc1", "4.19-rc8", "4.19",
                                             "4.19.2",  "4.19.8",   "4.19.10",  "4.20"};
  std::vector<std::string> shuffled = {"4.19.10", "4.19",     "4.20",   "4.19.2",
                                       "4.18.20", "4.19-rc8", "4.19.8", "4.19-rc1"};
  std::sort(shuffled.begin(), shuffled.end(),
            [](const std::string& a, const std::string& b) { return KernelReleaseLess(a, b); });
  EXPECT_EQ(shuffled, expected);
}

TEST(KernelVersion, ZeroPatchAndNoPatchAreTheSameRelease) {
  EXPECT_EQ(CompareKernelVersions(*ParseKernelVersion("4.19"), *ParseKernelVersion("4.19.0")),
            std::strong_ordering::equal);
  EXPECT_EQ(
      CompareKernelVersions(*ParseKernelVersion("4.19-rc1"), *ParseKernelVersion("4.19.0-rc1")),
      std::strong_ordering::equal);
}

TEST(KernelVersion, DistroBuildNumbersCompareAsNumbers) {
  EXPECT_TRUE(KernelReleaseLess("3.10.0-957.el7", "3.10.0-957.10.1.el7"));
  EXPECT_TRUE(KernelReleaseLess("3.10.0-957.10.1.el7", "3.10.0-1062.el7"));
  EXPECT_TRUE(KernelReleaseLess("4.19.0-6-cloud-amd64", "4.19.0-10-cloud-amd64"));
  EXPECT_TRUE(KernelReleaseLess("4.19.2-200.fc29.x86_64", "4.19.2-300.fc29.x86_64"));
  // A distro build sorts after the upstream release it is based on.
  EXPECT_TRUE(KernelReleaseLess("4.19.2", "4.19.2-300.fc29.x86_64"));
  EXPECT_TRUE(KernelReleaseLess("4.19.2-300.fc29.x86_64", "4.19.3"));
}

TEST(KernelVersion, UnparsableReleasesSortLastByText) {
  EXPECT_TRUE(KernelReleaseLess("6.6.1", "custom"));
  EXPECT_TRUE(KernelReleaseLess("custom-a", "custom-b"));
  EXPECT_FALSE(KernelReleaseLess("custom", "3.10.0"));
}

TEST(KernelVersion, SeriesNamesTheStableBranch) {
  EXPECT_EQ(ParseKernelVersion("4.19.0-6-cloud-amd64")->Series(), "4.19");
  EXPECT_EQ(ParseKernelVersion("5.15.0-1034-azure")->Series(), "5.15");
}

}  // namespace
}  // namespace fscanary::analysis
