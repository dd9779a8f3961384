// collector.addresses: several collectors for failover, beside the one-address form.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"

namespace fscanary::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTarget[] =
    "targets:\n"
    "  - name: scratch\n"
    "    path: /var/lib/fscanary-agent/scratch.img\n"
    "    size: 1G\n";

absl::StatusOr<AgentConfig> ParseWithCollector(const std::string& collector) {
  return ParseAgentConfig(std::string(kTarget) + "collector:\n" + collector, "agent.yaml");
}

TEST(CollectorAddresses, SeveralAreKeptInTheirOrder) {
  const absl::StatusOr<AgentConfig> config =
      ParseWithCollector("  addresses: [10.0.0.2:7420, \"dns:///collector-b:7420\"]\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(CollectorAddresses(*config), ElementsAre("10.0.0.2:7420", "dns:///collector-b:7420"));
}

TEST(CollectorAddresses, OneAddressIsTheListOfOne) {
  const absl::StatusOr<AgentConfig> config = ParseWithCollector("  address: 10.0.0.2:7420\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_THAT(CollectorAddresses(*config), ElementsAre("10.0.0.2:7420"));
}

TEST(CollectorAddresses, AListOfOneMeansAndHashesTheSameAsAddress) {
  const absl::StatusOr<AgentConfig> listed = ParseWithCollector("  addresses: [10.0.0.2:7420]\n");
  const absl::StatusOr<AgentConfig> single = ParseWithCollector("  address: 10.0.0.2:7420\n");
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_TRUE(single.ok()) << single.status();
  EXPECT_EQ(DescribeConfig(*listed), DescribeConfig(*single));
}

TEST(CollectorAddresses, SeveralAppearInTheCanonicalTextInOrder) {
  const absl::StatusOr<AgentConfig> ab = ParseWithCollector("  addresses: [a:1, b:2]\n");
  const absl::StatusOr<AgentConfig> ba = ParseWithCollector("  addresses: [b:2, a:1]\n");
  ASSERT_TRUE(ab.ok() && ba.ok());
  EXPECT_THAT(DescribeConfig(*ab), HasSubstr("collector.addresses[1]: \"b:2\""));
  // The order is the failover order: another order is another config.
  EXPECT_NE(DescribeConfig(*ab), DescribeConfig(*ba));
}

TEST(CollectorAddresses, AddressAndAddressesTogetherAreRefused) {
  const absl::StatusOr<AgentConfig> config =
      ParseWithCollector("  address: a:1\n  addresses: [b:2, c:3]\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(),
              HasSubstr("agent.yaml:7: collector.addresses: set address (one collector) or "
                        "addresses (several), not both"));
}

TEST(CollectorAddresses, AnEmptyListIsRefused) {
  const absl::StatusOr<AgentConfig> config = ParseWithCollector("  addresses: []\n");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().message(), HasSubstr("collector.addresses: lists no collector"));
}

TEST(CollectorAddresses, ABadOrRepeatedEntryIsNamedByIndex) {
  const absl::StatusOr<AgentConfig> bad = ParseWithCollector("  addresses: [a:1, \"\"]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("collector.addresses: [1]: "));
  const absl::StatusOr<AgentConfig> twice = ParseWithCollector("  addresses: [a:1, b:2, a:1]\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("collector.addresses: [2]: a:1 is listed twice"));
}

}  // namespace
}  // namespace fscanary::config
