#pragma once
// The configuration of the fscanary agent daemon (/etc/fscanary/agent.yaml):
// plain structs whose member initialisers are the documented defaults
// (docs/CONFIG.md), parsed from YAML with every problem named by key and line.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/verify/pattern.h"
#include "checkers/block/verify/write_pass.h"
#include "common/config/durations.h"
#include "common/config/shared_defaults.h"
#include "io/engine.h"

namespace fscanary::config {

// The agent's whole allowance, shared by all its targets together.
struct Budget {
  uint64_t bytes_per_second = 4 << 20;  // 0: unlimited
  double ios_per_second = 200;          // 0: unlimited
  // Fraction of one core the agent may use, in (0, 1].
  double cpu_share = 0.01;
  // Run the agent's I/O in the idle I/O priority class.
  bool idle_priority = true;
  // Adaptive verification (docs/CORRELATION.md): the most the collector may
  // speed this agent's verification up by (its Hint.boost_factor is clamped
  // to this); 1: hints are ignored. A boost shortens the verification
  // schedule (cold reads, scrub; not write rounds) only: the
  // I/O and CPU limits above still hold. 1-100.
  double max_boost = 4;
  // A boost the collector does not renew within this lapses on its own, so a
  // collector that dies leaves no agent boosted. 10s-7d.
  Duration boost_lapse = std::chrono::minutes(30);
};

// A target's own cap, inside the agent's Budget; 0: only the agent's applies.
struct TargetBudget {
  uint64_t bytes_per_second = 0;
  double ios_per_second = 0;
};

// How often each kind of pass runs over a target.
struct Schedule {
  // A write round (new generations, read back at once) starts this often.
  Duration write_interval = std::chrono::minutes(10);
  // Older blocks are read back, their cached pages dropped first, this often.
  Duration cold_read_interval = std::chrono::hours(1);
  // Every block written is read back and checked this often.
  Duration scrub_interval = std::chrono::hours(24);
};

// The checkers a target may name: block (O_DIRECT write, read-back and
// scrub), page_cache (buffered and mmap writes under fsync pressure, read back
// through the cache and around it), metadata (a directory tree checked
// against its manifest). block and page_cache may share a file target;
// metadata needs a directory of its own. The kernel log is not a target's: it
// is configured under kernel_log.
inline constexpr std::string_view kKnownCheckers[] = {"block", "page_cache", "metadata"};

// The tree the metadata checker keeps in a metadata target's directory.
struct MetadataTree {
  // Entries (files, directories, links) the tree grows to and keeps; 10-1000000.
  uint32_t entries = 2000;
  // Changes made per write round (schedule.write_interval); the whole tree is
  // walked and checked once per schedule.scrub_interval.
  uint32_t changes_per_round = 64;
};

// A named set of the block checker's I/O settings (docs/CHECKERS.md). Keys set
// beside it in the same target override its values.
enum class Workload {
  // The settings as configured (their defaults otherwise).
  kDefault,
  // The conditions of the 4.19 blk-mq corruption (bugzilla 201685): O_DIRECT
  // writes in long runs of adjacent blocks, which the block layer merges,
  // submitted at a queue depth above what a device queue holds, so that
  // requests are turned away busy and requeued.
  kMergeRequeue,
};

absl::StatusOr<Workload> ParseWorkload(std::string_view name);
std::string_view WorkloadName(Workload workload);

struct TargetConfig {
  // Required; unique among the agent's targets; 1-64 of [A-Za-z0-9._-].
  std::string name;
  // Required; absolute: a file (created) or a block device.
  std::string path;
  // Bytes of the target to use. Required for a file; a block device (a path
  // under /dev/) defaults to its whole size. The label plus whole blocks.
  // Not for a metadata target (a directory).
  std::optional<uint64_t> size;
  // A multiple of 512 between 512 and 1 MiB; must match an existing target's.
  uint32_t block_size = 4096;
  // No take_over: a target is taken over once, with `fscanary-agent
  // take-over`; the key is refused when true (docs/CONFIG.md).
  // At least one, each from kKnownCheckers, no repeats.
  std::vector<std::string> checkers = {"block"};
  io::EngineKind engine = io::EngineKind::kAuto;
  Workload workload = Workload::kDefault;
  uint32_t queue_depth = 32;  // 1-4096
  verify::Pattern pattern = verify::Pattern::kMerge;
  uint32_t run_blocks = 8;  // 1-4096
  // Blocks written (and read back) per write round of the block checker; 1-65536.
  uint32_t write_blocks = 64;
  verify::Durability durability = verify::Durability::kBatchSync;
  Schedule schedule;
  MetadataTree metadata;
  TargetBudget budget;
};

struct AgentConfig {
  struct Tls {
    // PEM files. TLS is on when `ca` is set; `cert` and `key` (both or
    // neither) add mutual TLS: the agent's identity can come from its cert.
    std::string ca;
    std::string cert;
    std::string key;
    // Overrides the name checked in the collector's certificate.
    std::string server_name;
  };
  struct Backoff {
    // Reconnect delays grow from `initial` to `max`, with jitter.
    Duration initial = std::chrono::seconds(1);
    Duration max = std::chrono::seconds(60);
  };
  struct Collector {
    // A gRPC target: host:port, dns:///host:port, unix:/path.
    std::string address = kDefaultCollectorAddress;
    // Several collectors (sharing one PostgreSQL store), tried in this order:
    // the agent stays with one while its streams are healthy and fails over
    // to the next when a stream fails or it cannot connect. Empty: `address`
    // alone. Set instead of `address` (both is an error); one entry is
    // `address`.
    std::vector<std::string> addresses;
    // A file holding this agent's token (sent as a bearer token); empty: none.
    std::string token_file;
    Tls tls;
    // Not shorter than the collector's keepalive.min_time (10s by default),
    // or the collector hangs up with too_many_pings; 10s-2h.
    Duration keepalive_time = kAgentDefaultKeepaliveTime;
    Duration keepalive_timeout = std::chrono::seconds(10);
    Backoff backoff;
  };
  struct Spool {
    // Records not yet acknowledged. Default (after parsing): <state_dir>/spool.
    std::string dir;
    uint64_t max_bytes = 64 << 20;
  };
  struct Evidence {
    // Bound of <state_dir>/evidence: routine evidence is given up, oldest
    // first, to stay under it; the first evidence of a finding never is.
    uint64_t max_bytes = 64 << 20;
  };
  struct Metrics {
    // IPv4 address and port of the Prometheus endpoint; empty: off.
    std::string listen;
  };
  struct KernelLog {
    // Watch /dev/kmsg for filesystem and block-layer errors (needs
    // CAP_SYSLOG); an agent that cannot read it logs why and goes on.
    bool enabled = true;
    // Events reported per signature and device per minute; the rest are
    // counted, not sent.
    uint32_t max_events_per_minute = 10;
    // Match only lines the kernel logged (facility kern), not lines a
    // process wrote to /dev/kmsg (facility user; root only).
    bool kernel_lines_only = false;
    // Report errors of devices that hold neither a target nor a mounted
    // filesystem or swap area (QEMU's empty floppy drive); by default they
    // are counted, not reported.
    bool report_unrelated_devices = false;
  };

  // Empty: the contents of /etc/machine-id (ReadMachineId).
  std::string agent_id;
  std::string state_dir = "/var/lib/fscanary-agent";
  std::string log_level = "info";
  Collector collector;
  Spool spool;
  Evidence evidence;
  Duration report_interval = std::chrono::seconds(60);
  Duration heartbeat_interval = std::chrono::seconds(15);
  // Trouble with a block target's own state (records damaged or read back
  // other than written, blocks carrying a generation it never issued) counted within one
  // report_interval: more than this is a state_corruption finding. 0-1000000.
  uint32_t state_trouble_threshold = 0;
  Metrics metrics;
  KernelLog kernel_log;
  Budget budget;
  // Required: at least one.
  std::vector<TargetConfig> targets;
};

// Parses and checks an agent config. `source_name` names the text in messages
// ("agent.yaml:12: targets[0].block_size: ..."). Every problem found is listed
// in one InvalidArgument, one per line; never throws. Paths left empty that
// default to a place under state_dir (spool.dir) are filled in.
absl::StatusOr<AgentConfig> ParseAgentConfig(std::string_view yaml_text,
                                             std::string_view source_name);

// Where the state of the block-format targets (block, page_cache) lives:
// <state_dir>/targets. The daemon and `fscanary-agent take-over --config` agree
// on it through here.
std::string TargetStateDir(const AgentConfig& config);

// The collectors the agent streams to, in order: collector.addresses, or
// collector.address alone.
std::vector<std::string> CollectorAddresses(const AgentConfig& config);

// Reads `path` and parses it; a file that cannot be read is an error naming it.
absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path);

// The effective configuration as canonical text: every setting, defaults
// included, one "key.path: value" line each, in a fixed order, sizes and
// durations in one canonical form, strings quoted. Two configs that mean the
// same give the same text, so its SHA-256 is the config hash sent in Hello.
// agent_id is left out: identity is not configuration, and hosts sharing one
// config should share one hash.
std::string DescribeConfig(const AgentConfig& config);

}  // namespace fscanary::config
