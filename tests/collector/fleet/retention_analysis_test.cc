// Retention rolls old epochs up; the correlation must not notice: the same
// suspects, epochs, events, exposure and statistics before and after.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "collector/analysis/analysis.h"
#include "collector/fleet/host_attributes.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::fleet {
namespace {

using store::testing::FindingRecord;
using store::testing::HelloMessage;
using store::testing::Ingest;
using store::testing::ReportRecord;
using store::testing::VmFacts;

constexpr int64_t kSecond = 1'000'000'000;
constexpr int64_t kDay = 86'400 * kSecond;

analysis::AnalysisResult Analyze(store::Store& store) {
  absl::StatusOr<std::vector<store::EpochRecord>> epochs = store.ListEpochs();
  EXPECT_TRUE(epochs.ok()) << epochs.status();
  absl::StatusOr<BuiltFleet> built = BuildFleet(*epochs);
  EXPECT_TRUE(built.ok()) << built.status();
  absl::StatusOr<analysis::AnalysisResult> result =
      analysis::AnalyzeFleet(built->fleet, analysis::AnalysisOptions{});
  EXPECT_TRUE(result.ok()) << result.status();
  return *result;
}

TEST(RetentionAndAnalysis, RollingUpOldEpochsLeavesTheAnalysisAsItWas) {
  fscanary::testing::TempDir dir;
  auto store = store::testing::OpenStore(dir);
  // Eight hosts reboot between two kernels for ten days (clean epochs), then
  // run 6.1.0-18; on three of the four with scheduler none it corrupts.
  const std::vector<std::string> hosts = {"a", "b", "c", "d", "e", "f", "g", "h"};
  for (size_t index = 0; index < hosts.size(); ++index) {
    const std::string scheduler = index < 4 ? "none" : "mq-deadline";
    uint64_t sequence = 0;
    for (int64_t day = 1; day <= 10; ++day) {
      const std::string kernel = (day + static_cast<int64_t>(index)) % 2 ? "6.1.0-17" : "6.1.0-18";
      Ingest(*store, hosts[index], {HelloMessage(VmFacts(kernel, scheduler), day * kDay)},
             day * kDay);
      Ingest(*store, hosts[index],
             {ReportRecord(++sequence, day * kDay + kSecond, 1000 * (index + 1) * day)},
             day * kDay);
    }
    Ingest(*store, hosts[index], {HelloMessage(VmFacts("6.1.0-18", scheduler), 50 * kDay)},
           50 * kDay);
    std::vector<v1::AgentMessage> current = {ReportRecord(++sequence, 50 * kDay + kSecond, 5000)};
    if (index < 3) {
      current.push_back(FindingRecord(++sequence, 50 * kDay + 2 * kSecond));
      current.push_back(FindingRecord(++sequence, 50 * kDay + 3 * kSecond));
    }
    Ingest(*store, hosts[index], current, 50 * kDay);
  }
  const analysis::AnalysisResult before = Analyze(*store);
  ASSERT_FALSE(before.suspects.empty());
  const size_t epochs_before = store->ListEpochs()->size();

  absl::StatusOr<store::RetentionResult> retained =
      store->ApplyRetention({.epoch_max_age_nanos = 30 * kDay}, 45 * kDay);
  ASSERT_TRUE(retained.ok()) << retained.status();
  // Per host, the epochs of days 1-9 are old (day 10's ends at day 50, or is
  // still current): two aggregates, seven folded into them.
  ASSERT_EQ(retained->epochs_rolled_up, 8u * 2u);
  ASSERT_EQ(retained->epochs_merged, 8u * 7u);
  ASSERT_LT(store->ListEpochs()->size(), epochs_before);

  const analysis::AnalysisResult after = Analyze(*store);
  EXPECT_EQ(after.hosts, before.hosts);
  EXPECT_EQ(after.epochs, before.epochs);  // an aggregate counts as the epochs it stands for
  EXPECT_EQ(after.events, before.events);
  EXPECT_DOUBLE_EQ(after.exposure, before.exposure);
  ASSERT_EQ(after.suspects.size(), before.suspects.size());
  for (size_t i = 0; i < before.suspects.size(); ++i) {
    const analysis::Suspect& was = before.suspects[i];
    const analysis::Suspect& is = after.suspects[i];
    EXPECT_EQ(is.attributes, was.attributes) << i;
    EXPECT_EQ(is.events, was.events) << i;
    EXPECT_EQ(is.hosts, was.hosts) << i;
    EXPECT_EQ(is.epochs, was.epochs) << i;
    EXPECT_DOUBLE_EQ(is.exposure, was.exposure) << i;
    EXPECT_DOUBLE_EQ(is.rate_ratio, was.rate_ratio) << i;
    EXPECT_DOUBLE_EQ(is.p_value, was.p_value) << i;
    EXPECT_DOUBLE_EQ(is.q_value, was.q_value) << i;
  }
}

}  // namespace
}  // namespace fscanary::fleet
