#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"

namespace fscanary::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

AgentConfig Parse(const std::string& yaml) {
  absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(yaml, "agent.yaml");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : AgentConfig{};
}

TEST(DescribeAgentConfig, SameMeaningWrittenDifferentlyGivesTheSameText) {
  const AgentConfig a = Parse(
      "# comment\n"
      "report_interval: 60s\n"
      "budget: {bytes_per_second: 4096K}\n"
      "targets:\n"
      "  - {name: s, path: /srv/s.img, size: 1024M, checkers: [block]}\n");
  const AgentConfig b = Parse(
      "targets:\n"
      "  - name: s\n"
      "    size: 1G\n"
      "    path: \"/srv/s.img\"\n"
      "report_interval: 1m\n");
  EXPECT_EQ(DescribeConfig(a), DescribeConfig(b));
}

TEST(DescribeAgentConfig, AnyChangedSettingChangesTheText) {
  const std::string base = "targets:\n  - {name: s, path: /srv/s.img, size: 1G}\n";
  const std::string text = DescribeConfig(Parse(base));
  EXPECT_NE(DescribeConfig(Parse(base + "budget: {idle_priority: false}\n")), text);
  EXPECT_NE(DescribeConfig(Parse(base + "collector: {keepalive_time: 31s}\n")), text);
  EXPECT_NE(DescribeConfig(Parse("targets:\n  - {name: s, path: /srv/s.img, size: 1G, "
                                 "queue_depth: 31}\n")),
            text);
}

TEST(DescribeAgentConfig, LeavesOutTheAgentIdSoHostsSharingAConfigShareAHash) {
  const std::string base = "targets:\n  - {name: s, path: /srv/s.img, size: 1G}\n";
  const std::string text = DescribeConfig(Parse(base + "agent_id: web-01\n"));
  EXPECT_EQ(text, DescribeConfig(Parse(base + "agent_id: web-02\n")));
  EXPECT_THAT(text, Not(HasSubstr("web-01")));
}

TEST(DescribeAgentConfig, WritesEverySettingInCanonicalForm) {
  const std::string text =
      DescribeConfig(Parse("targets:\n  - {name: s, path: /dev/vdb, schedule: {scrub_interval: "
                           "48h}}\n"));
  EXPECT_THAT(text, testing::StartsWith("# fscanary agent config, canonical form v1\n"));
  EXPECT_THAT(text, HasSubstr("\nstate_dir: \"/var/lib/fscanary-agent\"\n"));
  EXPECT_THAT(text, HasSubstr("\ncollector.keepalive_time: 30s\n"));
  EXPECT_THAT(text, HasSubstr("\nbudget.bytes_per_second: 4M\n"));
  EXPECT_THAT(text, HasSubstr("\nbudget.cpu_share: 0.01\n"));
  EXPECT_THAT(text, HasSubstr("\ntargets[0].size: whole_device\n"));
  EXPECT_THAT(text, HasSubstr("\ntargets[0].engine: auto\n"));
  EXPECT_THAT(text, HasSubstr("\ntargets[0].checkers: [block]\n"));
  EXPECT_THAT(text, HasSubstr("\ntargets[0].schedule.scrub_interval: 2d\n"));
}

}  // namespace
}  // namespace fscanary::config
