// Bad agent configs are refused with the key and the line of each problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/config/agent_config.h"
#include "tests/temp_dir.h"

namespace fscanary::config {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// Lines 1-4; tests append after it, so their keys start at line 5.
constexpr char kTarget[] =
    "targets:\n"
    "  - name: scratch\n"
    "    path: /var/lib/fscanary-agent/scratch.img\n"
    "    size: 1G\n";

std::string ErrorOf(const std::string& yaml) {
  const absl::StatusOr<AgentConfig> parsed = ParseAgentConfig(yaml, "agent.yaml");
  EXPECT_FALSE(parsed.ok()) << yaml;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(AgentConfigErrors, BlockSizeNotAMultipleOf512NamesKeyAndLine) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    block_size: 3000\n"),
            "agent.yaml:5: targets[0].block_size: 3000 is not a multiple of 512 between 512 and "
            "1048576");
}

// Taking a target over is a one-shot command, not a setting a restarted
// daemon would act on again.
TEST(AgentConfigErrors, TakeOverIsNoLongerASettingAndTheErrorNamesTheCommand) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    take_over: true\n"),
            "agent.yaml:5: targets[0].take_over: no longer a setting: the agent never takes a "
            "target over by itself; remove the key and take the target over once with "
            "`fscanary-agent take-over --config <this file> --target <name>`");
}

TEST(AgentConfigErrors, TakeOverFalseOfOldConfigsIsLetThrough) {
  EXPECT_TRUE(ParseAgentConfig(std::string(kTarget) + "    take_over: false\n", "agent.yaml").ok());
}

TEST(AgentConfigErrors, UnknownTopLevelKey) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "report_intervall: 30s\n"),
            "agent.yaml:5: report_intervall: unknown key (did you mean 'report_interval'?)");
}

TEST(AgentConfigErrors, UnknownNestedKeysAtEveryDepth) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "collector:\n  tls:\n    ca_file: /ca.pem\n"),
            "agent.yaml:7: collector.tls.ca_file: unknown key (expected one of: ca, cert, key, "
            "server_name)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    schedule:\n      scrub: 1h\n"),
            "agent.yaml:6: targets[0].schedule.scrub: unknown key (expected one of: "
            "cold_read_interval, scrub_interval, write_interval)");
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "    budget:\n      cpu_share: 0.1\n"),
              StartsWith("agent.yaml:6: targets[0].budget.cpu_share: unknown key"));
}

TEST(AgentConfigErrors, WrongTypes) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    queue_depth: deep\n"),
            "agent.yaml:5: targets[0].queue_depth: expected a whole number, got 'deep'");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    take_over: maybe\n"),
            "agent.yaml:5: targets[0].take_over: expected true or false, got 'maybe'");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "collector: 127.0.0.1:7420\n"),
            "agent.yaml:5: collector: expected a mapping of settings, got '127.0.0.1:7420'");
  EXPECT_EQ(ErrorOf("targets:\n  name: scratch\n"),
            "agent.yaml:1: targets: expected a list (one '- ' item per entry), got a mapping");
}

TEST(AgentConfigErrors, BadSize) {
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "spool:\n  max_bytes: lots\n"),
              StartsWith("agent.yaml:6: spool.max_bytes: 'lots' is not a byte size"));
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "spool:\n  max_bytes: 4K\n"),
            "agent.yaml:6: spool.max_bytes: 4K is not between 1M and 1T");
}

TEST(AgentConfigErrors, BadDuration) {
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "report_interval: 60\n"),
              StartsWith("agent.yaml:5: report_interval: '60' needs a unit"));
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "    schedule:\n      write_interval: often\n"),
              StartsWith("agent.yaml:6: targets[0].schedule.write_interval: 'often' is not a "
                         "duration"));
}

TEST(AgentConfigErrors, EmptyFile) {
  EXPECT_THAT(ErrorOf(""), StartsWith("agent.yaml: the configuration is empty"));
}

TEST(AgentConfigErrors, YamlSyntaxErrorNamesItsLine) {
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "collector:\n  address: [127.0.0.1\n"),
              StartsWith("agent.yaml:"));
  EXPECT_THAT(ErrorOf("state_dir: /a\n  log_level: info\n" + std::string(kTarget)),
              StartsWith("agent.yaml:2: YAML: "));
}

TEST(AgentConfigErrors, DuplicateTargetNamesAndPaths) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "  - name: scratch\n"
                                           "    path: /var/lib/fscanary-agent/other.img\n"
                                           "    size: 1G\n"),
            "agent.yaml:5: targets[1].name: duplicate target name 'scratch' (first at line 2)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "  - name: other\n"
                                           "    path: /var/lib/fscanary-agent/scratch.img\n"
                                           "    size: 1G\n"),
            "agent.yaml:6: targets[1].path: '/var/lib/fscanary-agent/scratch.img' is already the "
            "path of targets[0] (line 3)");
}

TEST(AgentConfigErrors, MissingRequiredKeysAreNamed) {
  EXPECT_EQ(ErrorOf("state_dir: /var/lib/x\n"), "agent.yaml:1: missing required key 'targets'");
  EXPECT_EQ(ErrorOf("targets: []\n"), "agent.yaml:1: targets: needs at least one target");
  EXPECT_EQ(ErrorOf("targets:\n  - path: /dev/vdb\n"),
            "agent.yaml:2: targets[0]: missing required key 'name'");
  EXPECT_EQ(ErrorOf("targets:\n  - name: a\n"),
            "agent.yaml:2: targets[0]: missing required key 'path'");
  EXPECT_THAT(ErrorOf("targets:\n  - name: a\n    path: /srv/a.img\n"),
              StartsWith("agent.yaml:2: targets[0]: missing required key 'size' (a file target "
                         "needs one"));
}

TEST(AgentConfigErrors, TargetSizeMustHoldTheLabelAndWholeBlocks) {
  EXPECT_EQ(ErrorOf("targets:\n  - name: a\n    path: /srv/a.img\n    size: 1000001\n"),
            "agent.yaml:4: targets[0].size: 1000001 is not the 4096-byte label plus whole "
            "4096-byte blocks (e.g. 999424)");
  EXPECT_EQ(ErrorOf("targets:\n  - name: a\n    path: /srv/a.img\n    size: 4K\n"),
            "agent.yaml:4: targets[0].size: 4096 is too small: the label and one 4096-byte block "
            "need 8192 bytes");
}

TEST(AgentConfigErrors, EnumsNameTheirChoices) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    engine: aio\n"),
            "agent.yaml:5: targets[0].engine: unknown engine 'aio' (expected auto, io_uring or "
            "psync)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    pattern: zigzag\n"),
            "agent.yaml:5: targets[0].pattern: unknown pattern 'zigzag' (expected sequential, "
            "random or merge)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    durability: fsync\n"),
            "agent.yaml:5: targets[0].durability: unknown durability 'fsync' (expected batch or "
            "dsync)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    workload: 201685\n"),
            "agent.yaml:5: targets[0].workload: unknown workload '201685' (expected default or "
            "merge-requeue)");
}

TEST(AgentConfigErrors, CheckersMustBeKnownDistinctAndPresent) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    checkers: [block, smart]\n"),
            "agent.yaml:5: targets[0].checkers: unknown checker 'smart' (known: block, page_cache, "
            "metadata)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    checkers: [block, block]\n"),
            "agent.yaml:5: targets[0].checkers: checker 'block' is named twice");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    checkers: []\n"),
            "agent.yaml:5: targets[0].checkers: needs at least one checker (e.g. [block])");
}

TEST(AgentConfigErrors, MetadataNeedsADirectoryTargetOfItsOwn) {
  EXPECT_EQ(
      ErrorOf("targets:\n  - name: t\n    path: /srv/tree\n    checkers: [block, metadata]\n"),
      "agent.yaml:4: targets[0].checkers: metadata keeps a directory tree and cannot share a "
      "target with block or page_cache (give it a target of its own)");
  EXPECT_EQ(ErrorOf("targets:\n  - name: t\n    path: /dev/vdb\n    checkers: [metadata]\n"),
            "agent.yaml:3: targets[0].path: a metadata target is a directory, not a device under "
            "/dev/");
  EXPECT_EQ(ErrorOf("targets:\n  - name: t\n    path: /srv/tree\n    size: 1G\n"
                    "    checkers: [metadata]\n"),
            "agent.yaml:4: targets[0].size: does not apply to a metadata target");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "    metadata:\n      entries: 100\n"),
            "agent.yaml:6: targets[0].metadata: needs the metadata checker in checkers");
  EXPECT_EQ(ErrorOf("targets:\n  - name: t\n    path: /srv/tree\n    checkers: [metadata]\n"
                    "    metadata:\n      entries: 5\n"),
            "agent.yaml:6: targets[0].metadata.entries: 5 is not between 10 and 1000000");
}

TEST(AgentConfigErrors, NothingElseMayLiveInsideAMetadataTree) {
  EXPECT_EQ(ErrorOf("targets:\n  - name: t\n    path: /srv/tree\n    checkers: [metadata]\n"
                    "  - name: s\n    path: /srv/tree/s.img\n    size: 1M\n"),
            "agent.yaml:6: targets[1].path: '/srv/tree/s.img' overlaps the metadata tree "
            "'/srv/tree' of targets[0]: a tree holds only what its checker made");
  EXPECT_EQ(ErrorOf("state_dir: /srv/state\ntargets:\n  - name: t\n    path: /srv\n"
                    "    checkers: [metadata]\n"),
            "agent.yaml:4: targets[0].path: the metadata tree '/srv' overlaps the agent's own "
            "files under '/srv/state': give the tree a directory of its own");
  EXPECT_EQ(ErrorOf("state_dir: /srv/state\ntargets:\n  - name: t\n"
                    "    path: /srv/state/metadata/x\n    checkers: [metadata]\n"),
            "agent.yaml:4: targets[0].path: the metadata tree '/srv/state/metadata/x' overlaps the "
            "agent's own files under '/srv/state': give the tree a directory of its own");
  // Under state_dir, beside the agent's own files, is where systemd lets it write.
  EXPECT_TRUE(ParseAgentConfig("state_dir: /srv/state\ntargets:\n  - name: t\n"
                               "    path: /srv/state/tree\n    checkers: [metadata]\n",
                               "agent.yaml")
                  .ok());
}

TEST(AgentConfigErrors, KernelLogIsNotATargetName) {
  EXPECT_EQ(ErrorOf("targets:\n  - name: kernel_log\n    path: /srv/k.img\n    size: 1M\n"),
            "agent.yaml:2: targets[0].name: 'kernel_log' is the kernel log watcher's name in "
            "reports and metrics");
}

TEST(AgentConfigErrors, PageCacheNeedsAFileTarget) {
  EXPECT_EQ(ErrorOf("targets:\n  - name: t\n    path: /dev/vdb\n    checkers: [page_cache]\n"),
            "agent.yaml:4: targets[0].checkers: page_cache needs a file target (a device under "
            "/dev/ has no filesystem page cache to check)");
}

TEST(AgentConfigErrors, KeepaliveShorterThanTheCollectorAllowsIsRefusedWithTheReason) {
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "collector:\n  keepalive_time: 5s\n"),
            "agent.yaml:6: collector.keepalive_time: 5s is shorter than the collector's "
            "keepalive.min_time (10s by default): it would hang up with too_many_pings");
}

TEST(AgentConfigErrors, TlsFilesMustComeInWorkableSets) {
  EXPECT_EQ(
      ErrorOf(std::string(kTarget) + "collector:\n  tls:\n    ca: /ca.pem\n    cert: /agent.pem\n"),
      "agent.yaml:8: collector.tls.cert: cert and key go together (both for mutual TLS, "
      "or neither)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) +
                    "collector:\n  tls:\n    cert: /agent.pem\n    key: /agent.key\n"),
            "agent.yaml:7: collector.tls.cert: needs tls.ca: TLS is on only when the collector's "
            "CA is set\n"
            "agent.yaml:8: collector.tls.key: needs tls.ca: TLS is on only when the collector's CA "
            "is set");
}

TEST(AgentConfigErrors, OtherCrossFieldChecks) {
  EXPECT_EQ(
      ErrorOf(std::string(kTarget) + "collector:\n  backoff:\n    initial: 10s\n    max: 5s\n"),
      "agent.yaml:8: collector.backoff.max: 5s is shorter than initial (10s)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "budget:\n  cpu_share: 0\n"),
            "agent.yaml:6: budget.cpu_share: must be above 0 (a fraction of one core, e.g. 0.01)");
  EXPECT_EQ(ErrorOf(std::string(kTarget) + "state_dir: var/lib/fscanary\n"),
            "agent.yaml:5: state_dir: 'var/lib/fscanary' is not an absolute path");
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "agent_id: web 01\n"),
              StartsWith("agent.yaml:5: agent_id: 'web 01' is not an agent id"));
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "metrics:\n  listen: 9464\n"),
              StartsWith("agent.yaml:6: metrics.listen: '9464' is not an IPv4 address and port"));
  EXPECT_THAT(ErrorOf(std::string(kTarget) + "log_level: loud\n"),
              StartsWith("agent.yaml:5: log_level: 'loud' is not a log level"));
}

TEST(AgentConfigErrors, AllProblemsAreReportedTogether) {
  const std::string error = ErrorOf(std::string(kTarget) +
                                    "    block_size: 3000\n"
                                    "    queue_depth: 0\n"
                                    "heartbeat_interval: never\n");
  EXPECT_THAT(error, HasSubstr("agent.yaml:5: targets[0].block_size"));
  EXPECT_THAT(error,
              HasSubstr("agent.yaml:6: targets[0].queue_depth: 0 is not between 1 and 4096"));
  EXPECT_THAT(error, HasSubstr("agent.yaml:7: heartbeat_interval"));
}

TEST(LoadAgentConfig, NamesAFileItCannotRead) {
  const absl::StatusOr<AgentConfig> parsed = LoadAgentConfig("/nonexistent/fscanary/agent.yaml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(parsed.status().message(), HasSubstr("/nonexistent/fscanary/agent.yaml"));
}

TEST(LoadAgentConfig, ErrorsInAFileAreNamedByItsPath) {
  testing::TempDir dir;
  const std::string path = dir.Join("agent.yaml");
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  std::fputs("targets: []\n", file);
  std::fclose(file);
  const absl::StatusOr<AgentConfig> parsed = LoadAgentConfig(path);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), path + ":1: targets: needs at least one target");
}

TEST(LoadAgentConfig, RefusesADirectory) {
  testing::TempDir dir;
  const absl::StatusOr<AgentConfig> parsed = LoadAgentConfig(dir.path());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("is a directory"));
}

}  // namespace
}  // namespace fscanary::config
