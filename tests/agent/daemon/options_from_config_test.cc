#include "agent/config/agent_config.h"
#include "agent/daemon/run.h"
#include "gtest/gtest.h"

namespace fscanary::daemon {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

DaemonOptions OptionsFor(const std::string& yaml) {
  const absl::StatusOr<config::AgentConfig> config = config::ParseAgentConfig(yaml, "agent.yaml");
  EXPECT_TRUE(config.ok()) << config.status();
  absl::StatusOr<DaemonOptions> options = OptionsFromConfig(*config);
  EXPECT_TRUE(options.ok()) << options.status();
  return options.ok() ? *options : DaemonOptions{};
}

TEST(OptionsFromConfig, EveryCheckerOfAFileTargetTakesTheTargetsSchedule) {
  const DaemonOptions options = OptionsFor(
      "agent_id: a\nstate_dir: /srv/state\ntargets:\n"
      "  - name: s\n    path: /srv/s.img\n    size: 1M\n    checkers: [block, page_cache]\n"
      "    run_blocks: 4\n"
      "    schedule: {write_interval: 3s, cold_read_interval: 5s, scrub_interval: 7s}\n");
  ASSERT_EQ(options.targets.size(), 1u);
  const TargetOptions& target = options.targets[0];
  EXPECT_EQ(target.checkers, (std::vector<std::string>{"block", "page_cache"}));
  EXPECT_EQ(target.shared.target.state_dir, "/srv/state/targets");
  EXPECT_EQ(target.block.write_interval_ns, 3 * kSecond);
  EXPECT_EQ(target.block.scrub_interval_ns, 7 * kSecond);
  EXPECT_EQ(target.page_cache.write_interval_ns, 3 * kSecond);
  EXPECT_EQ(target.page_cache.cold_read_interval_ns, 5 * kSecond);
  EXPECT_EQ(target.page_cache.run_blocks, 4u);
  EXPECT_EQ(target.page_cache.evidence_dir, "/srv/state/evidence");
}

TEST(OptionsFromConfig, TheMergeRequeueWorkloadDrivesTheBlockCheckersRoundsAndQueue) {
  const DaemonOptions options = OptionsFor(
      "agent_id: a\nstate_dir: /srv/state\ntargets:\n"
      "  - name: s\n    path: /srv/s.img\n    size: 64M\n    workload: merge-requeue\n");
  ASSERT_EQ(options.targets.size(), 1u);
  const TargetOptions& target = options.targets[0];
  EXPECT_EQ(target.block.pattern, verify::Pattern::kMerge);
  EXPECT_EQ(target.block.run_blocks, 32u);
  EXPECT_EQ(target.block.write_blocks, 4096u);
  EXPECT_EQ(target.block.durability, verify::Durability::kBatchSync);
  EXPECT_EQ(target.shared.queue_depth, 256u);
}

TEST(OptionsFromConfig, StateTroubleIsCountedPerReportIntervalAgainstTheThreshold) {
  const DaemonOptions options = OptionsFor(
      "agent_id: a\nreport_interval: 30s\nstate_trouble_threshold: 4\ntargets:\n"
      "  - name: s\n    path: /srv/s.img\n    size: 1M\n");
  ASSERT_EQ(options.targets.size(), 1u);
  EXPECT_EQ(options.targets[0].block.state_trouble_window_ns, 30 * kSecond);
  EXPECT_EQ(options.targets[0].block.state_trouble_threshold, 4u);
}

TEST(OptionsFromConfig, AScrubStepIsCappedAtAboutOneSecondOfTheBudget) {
  const std::string targets = "targets:\n  - name: s\n    path: /srv/s.img\n    size: 1M\n";
  // 4 MiB/s of 4 KiB blocks is 1024 blocks; 200 IOPS cap it lower.
  EXPECT_EQ(OptionsFor("agent_id: a\n" + targets).targets[0].block.max_step_blocks, 200u);
  EXPECT_EQ(OptionsFor("agent_id: a\nbudget: {ios_per_second: 0}\n" + targets)
                .targets[0]
                .block.max_step_blocks,
            1024u);
  EXPECT_EQ(
      OptionsFor("agent_id: a\nbudget: {ios_per_second: 0.5, bytes_per_second: 0}\n" + targets)
          .targets[0]
          .block.max_step_blocks,
      1u)
      << "at least one block";
  EXPECT_EQ(OptionsFor("agent_id: a\nbudget: {ios_per_second: 0, bytes_per_second: 0}\n" + targets)
                .targets[0]
                .block.max_step_blocks,
            0u)
      << "an unlimited budget caps nothing";
}

TEST(OptionsFromConfig, AMetadataTargetKeepsItsManifestInTheStateDirNamedAfterIt) {
  const DaemonOptions options = OptionsFor(
      "agent_id: a\nstate_dir: /srv/state\ntargets:\n"
      "  - name: tree\n    path: /srv/tree\n    checkers: [metadata]\n"
      "    metadata: {entries: 300, changes_per_round: 9}\n"
      "    schedule: {write_interval: 3s, scrub_interval: 7s}\n");
  ASSERT_EQ(options.targets.size(), 1u);
  const metadata::MetadataOptions& tree = options.targets[0].metadata;
  EXPECT_EQ(tree.root, "/srv/tree");
  EXPECT_EQ(tree.state_dir, "/srv/state/metadata/tree");
  EXPECT_EQ(tree.entries, 300u);
  EXPECT_EQ(tree.changes_per_round, 9u);
  EXPECT_EQ(tree.change_interval_ns, 3 * kSecond);
  EXPECT_EQ(tree.verify_interval_ns, 7 * kSecond);
}

TEST(OptionsFromConfig, TheKernelLogCanBeLimitedToTheKernelsOwnLines) {
  const std::string targets = "targets:\n  - name: s\n    path: /srv/s.img\n    size: 1M\n";
  EXPECT_FALSE(OptionsFor("agent_id: a\n" + targets).kernel_log_kernel_lines_only);
  const DaemonOptions options = OptionsFor(
      "agent_id: a\nkernel_log: {kernel_lines_only: true, max_events_per_minute: 4}\n" + targets);
  EXPECT_TRUE(options.kernel_log_kernel_lines_only);
  EXPECT_EQ(options.kernel_log_events_per_minute, 4u);
}

TEST(OptionsFromConfig, ErrorsOfUnrelatedDevicesAreCountedUnlessConfiguredToBeReported) {
  const std::string targets = "targets:\n  - name: s\n    path: /srv/s.img\n    size: 1M\n";
  EXPECT_FALSE(OptionsFor("agent_id: a\n" + targets).kernel_log_report_unrelated_devices);
  EXPECT_TRUE(OptionsFor("agent_id: a\nkernel_log: {report_unrelated_devices: true}\n" + targets)
                  .kernel_log_report_unrelated_devices);
}

}  // namespace
}  // namespace fscanary::daemon
