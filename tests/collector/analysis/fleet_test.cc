#include "collector/analysis/fleet.h"

#include <set>

#include "gtest/gtest.h"

namespace fscanary::analysis {
namespace {

// The epochs holding `value`, whichever form its posting takes.
std::set<uint32_t> EpochsOf(const Fleet& fleet, ValueId value) {
  std::set<uint32_t> epochs;
  const EpochPosting& posting = fleet.posting(value);
  if (posting.is_bitset()) {
    for (size_t w = 0; w < posting.words().size(); ++w) {
      for (int b = 0; b < 64; ++b) {
        if ((posting.words()[w] >> b) & 1) epochs.insert(static_cast<uint32_t>(w * 64 + b));
      }
    }
  } else {
    epochs.insert(posting.epochs().begin(), posting.epochs().end());
  }
  return epochs;
}

TEST(FleetBuilder, SortsEpochsByKernelVersionAndKeepsTheirData) {
  FleetBuilder builder;
  const AttributeId kernel = builder.Attribute("kernel");
  const KindId lost = builder.Kind("lost_write");
  const struct {
    const char* host;
    const char* release;
    double bytes;
    uint64_t events;
  } input[] = {{"c", "4.19.8", 3, 0}, {"a", "4.19-rc1", 1, 2}, {"b", "4.19.2", 2, 0}};
  for (const auto& epoch : input) {
    const ValueId values[] = {builder.Value(kernel, epoch.release)};
    const FleetBuilder::KindCount corruptions[] = {{lost, epoch.events}};
    ASSERT_TRUE(builder
                    .AddEpoch({.host = epoch.host,
                               .exposure_bytes = epoch.bytes,
                               .values = values,
                               .corruptions = corruptions})
                    .ok());
  }
  const Fleet fleet = std::move(builder).Build();
  ASSERT_EQ(fleet.epoch_count(), 3u);
  EXPECT_EQ(fleet.host_name(fleet.epoch_host(0)), "a");
  EXPECT_EQ(fleet.host_name(fleet.epoch_host(1)), "b");
  EXPECT_EQ(fleet.host_name(fleet.epoch_host(2)), "c");
  EXPECT_EQ(fleet.exposure_bytes()[0], 1);
  EXPECT_EQ(fleet.exposure_bytes()[2], 3);
  ASSERT_EQ(fleet.corruptions().size(), 1u);
  EXPECT_EQ(fleet.corruptions()[0].epoch, 0u);
  EXPECT_EQ(fleet.corruptions()[0].count, 2u);
  EXPECT_EQ(fleet.kind_name(fleet.corruptions()[0].kind), "lost_write");
  const ValueId rc1 = fleet.attribute_values(*fleet.FindAttribute("kernel"))[1];
  EXPECT_EQ(fleet.value_text(rc1), "4.19-rc1");
  EXPECT_EQ(EpochsOf(fleet, rc1), (std::set<uint32_t>{0}));
}

TEST(FleetBuilder, RejectsTwoValuesOfOneAttributeAndAddsNothing) {
  FleetBuilder builder;
  const AttributeId fs = builder.Attribute("fs");
  const ValueId both[] = {builder.Value(fs, "ext4"), builder.Value(fs, "xfs")};
  const absl::Status status = builder.AddEpoch({.host = "a", .exposure_bytes = 1, .values = both});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("fs"), absl::string_view::npos);
  EXPECT_EQ(builder.epoch_count(), 0u);
  const ValueId one[] = {both[0]};
  EXPECT_TRUE(builder.AddEpoch({.host = "a", .exposure_bytes = 1, .values = one}).ok());
  EXPECT_EQ(std::move(builder).Build().posting(both[0]).count(), 1u);
}

TEST(FleetBuilder, RejectsNegativeOrNonFiniteExposure) {
  FleetBuilder builder;
  EXPECT_FALSE(builder.AddEpoch({.host = "a", .exposure_bytes = -1}).ok());
  EXPECT_FALSE(builder.AddEpoch({.host = "a", .exposure_bytes = 1, .exposure_seconds = NAN}).ok());
  EXPECT_EQ(builder.epoch_count(), 0u);
}

TEST(FleetBuilder, RareValuesAreListsCommonOnesBitsetsAndBothSurviveTheSort) {
  FleetBuilder builder;
  const AttributeId kernel = builder.Attribute("kernel");
  const AttributeId rack = builder.Attribute("rack");
  const ValueId rare = builder.Value(rack, "r-rare");
  const ValueId common = builder.Value(rack, "r-common");
  std::set<std::string> rare_hosts;
  for (int i = 0; i < 5000; ++i) {
    const std::string host = "vm-" + std::to_string(i);
    const ValueId values[] = {builder.Value(kernel, i % 2 == 0 ? "5.10.1" : "4.19.1"),
                              i % 1000 == 7 ? rare : common};
    if (i % 1000 == 7) rare_hosts.insert(host);
    ASSERT_TRUE(builder.AddEpoch({.host = host, .exposure_bytes = 1, .values = values}).ok());
  }
  const Fleet fleet = std::move(builder).Build();
  EXPECT_FALSE(fleet.posting(rare).is_bitset());
  EXPECT_TRUE(fleet.posting(common).is_bitset());
  EXPECT_EQ(fleet.posting(rare).count(), 5u);
  EXPECT_EQ(fleet.posting(common).count(), 4995u);
  std::set<std::string> found;
  for (const uint32_t e : EpochsOf(fleet, rare)) found.insert(fleet.host_name(fleet.epoch_host(e)));
  EXPECT_EQ(found, rare_hosts);
  // Sorted by kernel: every 4.19.1 epoch comes before every 5.10.1 epoch.
  const ValueId old_kernel = fleet.attribute_values(*fleet.FindAttribute("kernel"))[1];
  ASSERT_EQ(fleet.value_text(old_kernel), "4.19.1");
  const std::set<uint32_t> old_epochs = EpochsOf(fleet, old_kernel);
  EXPECT_EQ(*old_epochs.rbegin(), 2499u);
  EXPECT_EQ(EpochsOf(fleet, common).size() + EpochsOf(fleet, rare).size(), 5000u);
}

}  // namespace
}  // namespace fscanary::analysis
