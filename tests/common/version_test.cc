// The agent reports the version and source revision it was built from
// (issue 13): the CMake project version, and the git commit at configure time.

#include "common/version/version.h"

#include <regex>
#include <string>

#include "gtest/gtest.h"

namespace fscanary::version {
namespace {

TEST(Version, IsTheProjectVersion) {
  EXPECT_EQ(Version(), FSCANARY_EXPECTED_VERSION);
  EXPECT_NE(Version(), "0.0.0");  // the old fallback when the define was missing
}

TEST(Version, RevisionIsTwelveHexDigitsOrUnknown) {
  const std::string revision(SourceRevision());
  EXPECT_TRUE(revision == "unknown" ||
              std::regex_match(revision, std::regex("[0-9a-f]{12}(-dirty)?")))
      << revision;
}

TEST(Version, RevisionIsTheCommitWhenBuiltFromAGitCheckout) {
  if (!FSCANARY_EXPECT_GIT_REVISION) {
    GTEST_SKIP() << "not configured from a git checkout with git installed, or the revision was "
                    "given with -DFSCANARY_SOURCE_REVISION";
  }
  EXPECT_NE(SourceRevision(), "unknown");
  EXPECT_TRUE(std::regex_match(std::string(SourceRevision()), std::regex("[0-9a-f]{12}(-dirty)?")))
      << SourceRevision();
}

TEST(Version, ReportedVersionCarriesTheRevisionAsBuildMetadata) {
  const std::string reported = VersionWithRevision();
  if (SourceRevision() == "unknown") {
    EXPECT_EQ(reported, Version());
  } else {
    EXPECT_EQ(reported, std::string(Version()) + "+" + std::string(SourceRevision()));
  }
}

}  // namespace
}  // namespace fscanary::version
