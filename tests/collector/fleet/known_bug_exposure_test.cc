// Known corruption bugs against the stored fleet: which hosts run an
// affected configuration now, and which known bug a suspect's corrupted
// epochs match.

#include "collector/fleet/known_bug_exposure.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/collector/store/store_test_support.h"

namespace fscanary::fleet {
namespace {

using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::Ingest;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr std::string_view kBtrfsBug = "btrfs-5.2-unwritten-extent-buffers";

v1::HostFacts On(const std::string& kernel, const std::string& fs) {
  v1::HostFacts facts = VmFacts(kernel);
  facts.mutable_filesystems(0)->set_fs_type(fs);
  return facts;
}

const KnownBugExposure& Of(const std::vector<KnownBugExposure>& exposure, std::string_view id) {
  for (const KnownBugExposure& entry : exposure) {
    if (entry.bug->id == id) return entry;
  }
  ADD_FAILURE() << "no entry " << id;
  static const KnownBugExposure kNone;
  return kNone;
}

class KnownBugExposureTest : public ::testing::Test {
 protected:
  KnownBugExposureTest() : store_(store::testing::OpenStore(dir_)) {}
  void Hello(const std::string& agent, const v1::HostFacts& facts, int64_t at) {
    Ingest(*store_, agent, {HelloMessage(facts, at)}, at);
  }
  std::vector<store::EpochRecord> Epochs() {
    absl::StatusOr<std::vector<store::EpochRecord>> epochs = store_->ListEpochs();
    EXPECT_TRUE(epochs.ok()) << epochs.status();
    return *epochs;
  }

  fscanary::testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(KnownBugExposureTest, OnlyWhatEachHostRunsNowCounts) {
  Hello("a", On("5.2.14", "btrfs"), 1 * kSecond);  // affected once,
  Hello("a", On("5.2.15", "btrfs"), 2 * kSecond);  // fixed now
  Hello("b", On("5.2.14", "btrfs"), 1 * kSecond);  // affected
  Hello("c", On("5.2.14", "ext4"), 1 * kSecond);   // another filesystem
  const std::vector<KnownBugExposure> exposure = KnownBugExposureOf(Epochs());
  EXPECT_EQ(exposure.size(), knownbugs::KnownBugs().size()) << "every bug, 0 included";
  const KnownBugExposure& btrfs = Of(exposure, kBtrfsBug);
  EXPECT_EQ(btrfs.affected, 1u);
  EXPECT_EQ(btrfs.possibly_affected, 0u);
  ASSERT_EQ(btrfs.hosts.size(), 1u);
  EXPECT_EQ(btrfs.hosts[0].agent_id, "b");
  EXPECT_EQ(btrfs.hosts[0].verdict, knownbugs::Verdict::kAffected);
  EXPECT_EQ(
      btrfs.hosts[0].why,
      (std::vector<std::string>{
          "kernel 5.2.14 (Debian 5.2.14 in /proc/version) is in [5.2-rc1, 5.2.15)", "fs=btrfs"}));
}

TEST_F(KnownBugExposureTest, ASuspectNamesTheKnownBugItsCorruptedEpochsMatch) {
  Hello("a", On("5.2.14", "btrfs"), 1 * kSecond);
  Hello("b", On("5.2.14", "btrfs"), 1 * kSecond);
  Hello("c", On("5.2.15", "xfs"), 1 * kSecond);
  for (const char* agent : {"a", "b", "c"}) {
    Ingest(*store_, agent, {FindingRecord(1, 5 * kSecond)}, 5 * kSecond);
  }
  const std::vector<store::EpochRecord> epochs = Epochs();
  analysis::Suspect btrfs;
  btrfs.attributes = {{"fs", "btrfs"}};
  const std::vector<std::string> lines = KnownBugsOfSuspect(btrfs, epochs);
  const bool named = std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
    return line.find(
               "on 2 of its 2 epochs with events: affected by known bug "
               "btrfs-5.2-unwritten-extent-buffers") != std::string::npos;
  });
  EXPECT_TRUE(named) << ::testing::PrintToString(lines);
  analysis::Suspect xfs;
  xfs.attributes = {{"fs", "xfs"}};
  EXPECT_TRUE(KnownBugsOfSuspect(xfs, epochs).empty());
}

}  // namespace
}  // namespace fscanary::fleet
