// Every key of the agent's config is read into its field.
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"

namespace fscanary::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kEveryKey[] = R"(
agent_id: web-01
state_dir: /srv/fscanary
log_level: debug
collector:
  address: dns:///collector.internal:7443
  token_file: /etc/fscanary/agent.token
  tls:
    ca: /etc/fscanary/ca.pem
    cert: /etc/fscanary/agent.pem
    key: /etc/fscanary/agent.key
    server_name: collector.internal
  keepalive_time: 45s
  keepalive_timeout: 5s
  backoff:
    initial: 250ms
    max: 2m
spool:
  dir: /srv/spool
  max_bytes: 16M
evidence:
  max_bytes: 32M
report_interval: 30s
heartbeat_interval: 5s
state_trouble_threshold: 12
metrics:
  listen: 127.0.0.1:9464
budget:
  bytes_per_second: 8M
  ios_per_second: 50.5
  cpu_share: 0.05
  idle_priority: false
  max_boost: 2.5
  boost_lapse: 10m
kernel_log:
  enabled: false
  max_events_per_minute: 3
  kernel_lines_only: true
  report_unrelated_devices: true
targets:
  - name: scratch
    path: /srv/scratch.img
    size: 2G
    block_size: 8K
    checkers: [block, page_cache]
    engine: psync
    queue_depth: 4
    pattern: random
    run_blocks: 16
    write_blocks: 128
    durability: dsync
    schedule:
      write_interval: 5m
      cold_read_interval: 2h
      scrub_interval: 7d
    budget:
      bytes_per_second: 1M
      ios_per_second: 10
  - name: disk
    path: /dev/vdb
    engine: io_uring
    workload: merge-requeue
    pattern: sequential
  - name: tree
    path: /srv/fscanary-tree
    checkers: [metadata]
    metadata:
      entries: 500
      changes_per_round: 20
)";

TEST(AgentConfigKeys, EveryKeyIsReadIntoItsField) {
  const absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(kEveryKey, "agent.yaml");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  const AgentConfig& config = *parsed;
  EXPECT_EQ(config.agent_id, "web-01");
  EXPECT_EQ(config.state_dir, "/srv/fscanary");
  EXPECT_EQ(config.log_level, "debug");
  EXPECT_EQ(config.collector.address, "dns:///collector.internal:7443");
  EXPECT_EQ(config.collector.token_file, "/etc/fscanary/agent.token");
  EXPECT_EQ(config.collector.tls.ca, "/etc/fscanary/ca.pem");
  EXPECT_EQ(config.collector.tls.cert, "/etc/fscanary/agent.pem");
  EXPECT_EQ(config.collector.tls.key, "/etc/fscanary/agent.key");
  EXPECT_EQ(config.collector.tls.server_name, "collector.internal");
  EXPECT_EQ(config.collector.keepalive_time, seconds(45));
  EXPECT_EQ(config.collector.keepalive_timeout, seconds(5));
  EXPECT_EQ(config.collector.backoff.initial, milliseconds(250));
  EXPECT_EQ(config.collector.backoff.max, minutes(2));
  EXPECT_EQ(config.spool.dir, "/srv/spool");
  EXPECT_EQ(config.spool.max_bytes, uint64_t{16} << 20);
  EXPECT_EQ(config.evidence.max_bytes, uint64_t{32} << 20);
  EXPECT_EQ(config.report_interval, seconds(30));
  EXPECT_EQ(config.heartbeat_interval, seconds(5));
  EXPECT_EQ(config.state_trouble_threshold, 12u);
  EXPECT_EQ(config.metrics.listen, "127.0.0.1:9464");
  EXPECT_EQ(config.budget.bytes_per_second, uint64_t{8} << 20);
  EXPECT_DOUBLE_EQ(config.budget.ios_per_second, 50.5);
  EXPECT_DOUBLE_EQ(config.budget.cpu_share, 0.05);
  EXPECT_FALSE(config.budget.idle_priority);
  EXPECT_DOUBLE_EQ(config.budget.max_boost, 2.5);
  EXPECT_EQ(config.budget.boost_lapse, std::chrono::minutes(10));
  EXPECT_FALSE(config.kernel_log.enabled);
  EXPECT_EQ(config.kernel_log.max_events_per_minute, 3u);
  EXPECT_TRUE(config.kernel_log.kernel_lines_only);
  EXPECT_TRUE(config.kernel_log.report_unrelated_devices);

  ASSERT_EQ(config.targets.size(), 3u);
  const TargetConfig& scratch = config.targets[0];
  EXPECT_EQ(scratch.name, "scratch");
  EXPECT_EQ(scratch.path, "/srv/scratch.img");
  EXPECT_EQ(scratch.size, uint64_t{2} << 30);
  EXPECT_EQ(scratch.block_size, 8192u);
  EXPECT_EQ(scratch.checkers, (std::vector<std::string>{"block", "page_cache"}));
  EXPECT_EQ(scratch.engine, io::EngineKind::kPsync);
  EXPECT_EQ(scratch.queue_depth, 4u);
  EXPECT_EQ(scratch.pattern, verify::Pattern::kRandom);
  EXPECT_EQ(scratch.run_blocks, 16u);
  EXPECT_EQ(scratch.write_blocks, 128u);
  EXPECT_EQ(scratch.durability, verify::Durability::kDsync);
  EXPECT_EQ(scratch.schedule.write_interval, minutes(5));
  EXPECT_EQ(scratch.schedule.cold_read_interval, hours(2));
  EXPECT_EQ(scratch.schedule.scrub_interval, hours(24 * 7));
  EXPECT_EQ(scratch.budget.bytes_per_second, uint64_t{1} << 20);
  EXPECT_DOUBLE_EQ(scratch.budget.ios_per_second, 10);

  const TargetConfig& disk = config.targets[1];
  EXPECT_EQ(disk.name, "disk");
  EXPECT_EQ(disk.path, "/dev/vdb");
  EXPECT_FALSE(disk.size.has_value());
  EXPECT_EQ(disk.engine, io::EngineKind::kIoUring);
  // The profile's values, but for the key set beside it.
  EXPECT_EQ(disk.workload, Workload::kMergeRequeue);
  EXPECT_EQ(disk.pattern, verify::Pattern::kSequential);
  EXPECT_EQ(disk.run_blocks, 32u);
  EXPECT_EQ(disk.queue_depth, 256u);
  EXPECT_EQ(disk.write_blocks, 4096u);

  const TargetConfig& tree = config.targets[2];
  EXPECT_EQ(tree.checkers, (std::vector<std::string>{"metadata"}));
  EXPECT_FALSE(tree.size.has_value());
  EXPECT_EQ(tree.metadata.entries, 500u);
  EXPECT_EQ(tree.metadata.changes_per_round, 20u);
}

}  // namespace
}  // namespace fscanary::config
