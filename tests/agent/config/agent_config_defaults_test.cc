// What a key left out means: the documented defaults.
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"

namespace fscanary::config {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kMinimal[] = R"(
targets:
  - name: scratch
    path: /var/lib/fscanary-agent/scratch.img
    size: 1G
)";

TEST(AgentConfigDefaults, OnlyTheRequiredKeysGiveTheDocumentedDefaults) {
  const absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(kMinimal, "agent.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const AgentConfig& config = *parsed;
  EXPECT_EQ(config.agent_id, "");
  EXPECT_EQ(config.state_dir, "/var/lib/fscanary-agent");
  EXPECT_EQ(config.log_level, "info");
  EXPECT_EQ(config.collector.address, "127.0.0.1:7420");
  EXPECT_EQ(config.collector.token_file, "");
  EXPECT_EQ(config.collector.tls.ca, "");
  EXPECT_EQ(config.collector.tls.cert, "");
  EXPECT_EQ(config.collector.keepalive_time, seconds(30));
  EXPECT_EQ(config.collector.keepalive_timeout, seconds(10));
  EXPECT_EQ(config.collector.backoff.initial, seconds(1));
  EXPECT_EQ(config.collector.backoff.max, seconds(60));
  EXPECT_EQ(config.spool.dir, "/var/lib/fscanary-agent/spool");
  EXPECT_EQ(config.spool.max_bytes, uint64_t{64} << 20);
  EXPECT_EQ(config.evidence.max_bytes, uint64_t{64} << 20);
  EXPECT_EQ(config.report_interval, seconds(60));
  EXPECT_EQ(config.heartbeat_interval, seconds(15));
  EXPECT_EQ(config.state_trouble_threshold, 0u);
  EXPECT_EQ(config.metrics.listen, "");
  EXPECT_EQ(config.budget.bytes_per_second, uint64_t{4} << 20);
  EXPECT_DOUBLE_EQ(config.budget.ios_per_second, 200);
  EXPECT_DOUBLE_EQ(config.budget.cpu_share, 0.01);
  EXPECT_TRUE(config.budget.idle_priority);
  EXPECT_DOUBLE_EQ(config.budget.max_boost, 4);
  EXPECT_EQ(config.budget.boost_lapse, std::chrono::minutes(30));
  EXPECT_TRUE(config.kernel_log.enabled);
  EXPECT_EQ(config.kernel_log.max_events_per_minute, 10u);
  EXPECT_FALSE(config.kernel_log.kernel_lines_only);
  EXPECT_FALSE(config.kernel_log.report_unrelated_devices);

  ASSERT_EQ(config.targets.size(), 1u);
  const TargetConfig& target = config.targets[0];
  EXPECT_EQ(target.size, uint64_t{1} << 30);
  EXPECT_EQ(target.block_size, 4096u);
  EXPECT_EQ(target.checkers, (std::vector<std::string>{"block"}));
  EXPECT_EQ(target.engine, io::EngineKind::kAuto);
  EXPECT_EQ(target.queue_depth, 32u);
  EXPECT_EQ(target.pattern, verify::Pattern::kMerge);
  EXPECT_EQ(target.run_blocks, 8u);
  EXPECT_EQ(target.write_blocks, 64u);
  EXPECT_EQ(target.workload, Workload::kDefault);
  EXPECT_EQ(target.durability, verify::Durability::kBatchSync);
  EXPECT_EQ(target.schedule.write_interval, minutes(10));
  EXPECT_EQ(target.schedule.cold_read_interval, hours(1));
  EXPECT_EQ(target.schedule.scrub_interval, hours(24));
  EXPECT_EQ(target.budget.bytes_per_second, 0u);
  EXPECT_DOUBLE_EQ(target.budget.ios_per_second, 0);
}

TEST(AgentConfigDefaults, SpoolDirFollowsStateDir) {
  const absl::StatusOr<AgentConfig> parsed =
      ParseAgentConfig(std::string("state_dir: /srv/canary\n") + kMinimal, "agent.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->spool.dir, "/srv/canary/spool");
  const absl::StatusOr<AgentConfig> slash =
      ParseAgentConfig(std::string("state_dir: /srv/canary/\n") + kMinimal, "agent.yaml");
  ASSERT_TRUE(slash.ok()) << slash.status();
  EXPECT_EQ(slash->spool.dir, "/srv/canary/spool");
}

TEST(AgentConfigDefaults, EmptyTlsFilesMeanNoTls) {
  const absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(
      std::string("collector:\n  tls:\n    ca: \"\"\n    cert: \"\"\n    key: \"\"\n") + kMinimal,
      "agent.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->collector.tls.cert, "");
}

TEST(AgentConfigDefaults, ADeviceTargetMayLeaveOutItsSize) {
  const absl::StatusOr<AgentConfig> parsed =
      ParseAgentConfig("targets:\n  - name: disk\n    path: /dev/vdb\n", "agent.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->targets[0].size.has_value());
}

TEST(AgentConfigDefaults, StructDefaultsMatchAParsedMinimalConfig) {
  // The member initialisers are the single source of the defaults: a parsed
  // config differs from a default-constructed one only where the file spoke.
  AgentConfig expected;
  expected.spool.dir = "/var/lib/fscanary-agent/spool";
  TargetConfig target;
  target.name = "scratch";
  target.path = "/var/lib/fscanary-agent/scratch.img";
  target.size = uint64_t{1} << 30;
  expected.targets.push_back(target);
  const absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(kMinimal, "agent.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(DescribeConfig(*parsed), DescribeConfig(expected));
}

}  // namespace
}  // namespace fscanary::config
