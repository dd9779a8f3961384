#include "agent/config/agent_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "checkers/block/format/format.h"
#include "checkers/block/target/label.h"
#include "common/config/checks.h"
#include "common/config/text_file_io.h"
#include "common/config/yaml_reader.h"
#include "common/status.h"

namespace fscanary::config {
namespace {

constexpr uint64_t kMaxTargetBytes = uint64_t{1} << 60;
constexpr uint64_t kMaxBytesPerSecond = uint64_t{1} << 40;
constexpr double kMaxIosPerSecond = 1e7;
constexpr double kMaxBoost = 100;
constexpr Duration kMaxInterval = std::chrono::hours(24 * 365);

absl::StatusOr<verify::Durability> ParseDurability(std::string_view name) {
  if (name == "batch") return verify::Durability::kBatchSync;
  if (name == "dsync") return verify::Durability::kDsync;
  return absl::InvalidArgumentError(absl::StrCat("unknown durability '",
                                                 absl::string_view(name.data(), name.size()),
                                                 "' (expected batch or dsync)"));
}

// The merge-requeue profile: 128 KiB runs (at 4 KiB blocks) merged into
// requests up to max_sectors_kb; 256 in flight, above the nr_requests of most
// virtio and SCSI queues and far above a SCSI host's can_queue; 16 MiB a
// round, so the queue stays full for the whole round; batch durability (no
// per-write FUA), so writes stay queued together.
void ApplyWorkload(Workload workload, TargetConfig& target) {
  switch (workload) {
    case Workload::kDefault:
      return;
    case Workload::kMergeRequeue:
      target.pattern = verify::Pattern::kMerge;
      target.run_blocks = 32;
      target.queue_depth = 256;
      target.write_blocks = 4096;
      target.durability = verify::Durability::kBatchSync;
      return;
  }
}

bool IsTargetName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

void ReadBudget(Section& section, Budget& budget) {
  section.ReadSize("bytes_per_second", budget.bytes_per_second, 0, kMaxBytesPerSecond);
  section.Read("ios_per_second", budget.ios_per_second, 0, kMaxIosPerSecond);
  section.Read("cpu_share", budget.cpu_share, 0, 1);
  if (budget.cpu_share <= 0) {
    section.Fail("cpu_share", "must be above 0 (a fraction of one core, e.g. 0.01)");
  }
  section.Read("idle_priority", budget.idle_priority);
  section.Read("max_boost", budget.max_boost, 1, kMaxBoost);
  section.ReadDuration("boost_lapse", budget.boost_lapse, std::chrono::seconds(10),
                       std::chrono::hours(24 * 7));
}

void ReadSchedule(Section& section, Schedule& schedule) {
  const Duration min = std::chrono::seconds(1);
  section.ReadDuration("write_interval", schedule.write_interval, min, kMaxInterval);
  section.ReadDuration("cold_read_interval", schedule.cold_read_interval, min, kMaxInterval);
  section.ReadDuration("scrub_interval", schedule.scrub_interval, min, kMaxInterval);
}

// False when the value given is not a block size (reported).
bool ReadBlockSize(Section& section, uint32_t& block_size) {
  uint64_t value = block_size;
  section.ReadSize("block_size", value, 0, ~uint64_t{0});
  if (value < block::kMinBlockSize || value > block::kMaxBlockSize ||
      value % block::kSectorSize != 0) {
    section.Fail("block_size",
                 absl::StrCat(value, " is not a multiple of ", block::kSectorSize, " between ",
                              block::kMinBlockSize, " and ", block::kMaxBlockSize));
    return false;
  }
  block_size = static_cast<uint32_t>(value);
  return true;
}

// A target holds the label, then whole blocks (checkers/block/target/scratch_target.cc):
// a size that is not would be rounded down, and no longer match the label.
void CheckTargetSize(Section& section, uint64_t size, uint32_t block_size) {
  const uint64_t data_start = std::max<uint64_t>(target::kLabelSize, block_size);
  if (size < data_start + block_size) {
    section.Fail("size", absl::StrCat(size, " is too small: the label and one ", block_size,
                                      "-byte block need ", data_start + block_size, " bytes"));
  } else if ((size - data_start) % block_size != 0) {
    const uint64_t rounded = data_start + (size - data_start) / block_size * block_size;
    section.Fail("size", absl::StrCat(size, " is not the ", data_start, "-byte label plus whole ",
                                      block_size, "-byte blocks (e.g. ", rounded, ")"));
  }
}

void ReadCheckers(Section& section, std::vector<std::string>& checkers) {
  section.ReadStringList("checkers", checkers);
  if (checkers.empty()) section.Fail("checkers", "needs at least one checker (e.g. [block])");
  for (size_t i = 0; i < checkers.size(); ++i) {
    const std::string& name = checkers[i];
    if (std::find(std::begin(kKnownCheckers), std::end(kKnownCheckers), name) ==
        std::end(kKnownCheckers)) {
      std::string known;
      for (std::string_view checker : kKnownCheckers) {
        absl::StrAppend(&known, known.empty() ? "" : ", ",
                        absl::string_view(checker.data(), checker.size()));
      }
      section.Fail("checkers", absl::StrCat("unknown checker '", name, "' (known: ", known, ")"));
    } else if (std::find(checkers.begin(), checkers.begin() + static_cast<ptrdiff_t>(i), name) !=
               checkers.begin() + static_cast<ptrdiff_t>(i)) {
      section.Fail("checkers", absl::StrCat("checker '", name, "' is named twice"));
    }
  }
}

bool HasChecker(const TargetConfig& target, std::string_view name) {
  return std::find(target.checkers.begin(), target.checkers.end(), name) != target.checkers.end();
}

TargetConfig ReadTarget(Section& section) {
  TargetConfig target;
  section.Require("name");
  section.Read("name", target.name);
  if (section.Has("name") && !IsTargetName(target.name)) {
    section.Fail("name", absl::StrCat("'", target.name,
                                      "' is not a target name (1-64 of A-Z a-z 0-9 . _ -)"));
  }
  if (target.name == "kernel_log") {
    section.Fail("name", "'kernel_log' is the kernel log watcher's name in reports and metrics");
  }
  section.Require("path");
  section.Read("path", target.path);
  if (section.Has("path")) section.Check("path", ValidateAbsolutePath(target.path));

  ReadCheckers(section, target.checkers);
  const bool metadata = HasChecker(target, "metadata");
  const bool device = target.path.starts_with("/dev/");
  if (metadata && target.checkers.size() > 1) {
    section.Fail("checkers",
                 "metadata keeps a directory tree and cannot share a target with block or "
                 "page_cache (give it a target of its own)");
  }
  if (metadata && device) {
    section.Fail("path", "a metadata target is a directory, not a device under /dev/");
  }
  if (HasChecker(target, "page_cache") && device) {
    section.Fail("checkers",
                 "page_cache needs a file target (a device under /dev/ has no "
                 "filesystem page cache to check)");
  }

  const bool block_size_valid = ReadBlockSize(section, target.block_size);
  if (metadata) {
    if (section.Has("size")) section.Fail("size", "does not apply to a metadata target");
  } else if (section.Has("size")) {
    uint64_t size = 0;
    section.ReadSize("size", size, 1, kMaxTargetBytes);
    if (size > 0) {
      target.size = size;
      if (block_size_valid) CheckTargetSize(section, size, target.block_size);
    }
  } else if (!target.path.empty() && !device) {
    section.FailHere(
        "missing required key 'size' (a file target needs one, e.g. size: 1G; only a device "
        "under /dev/ defaults to its whole size)");
  }

  // Taking a target over was a standing setting: an agent restarted with it
  // overwrote whatever the path then held. It is a one-shot command now.
  // `false` (what an old example config carried) asks for nothing and is let
  // through, so that configs made from it still start.
  if (bool take_over = false; section.Has("take_over")) {
    section.Read("take_over", take_over);
    if (take_over) {
      section.Fail("take_over",
                   "no longer a setting: the agent never takes a target over by itself; remove "
                   "the key and take the target over once with `fscanary-agent take-over "
                   "--config <this file> --target <name>`");
    }
  }
  section.ReadEnum("engine", target.engine, io::ParseEngineKind);
  // The profile first: a key set beside it overrides its value.
  section.ReadEnum("workload", target.workload, ParseWorkload);
  ApplyWorkload(target.workload, target);
  section.ReadInteger("queue_depth", target.queue_depth, 1, 4096);
  section.ReadEnum("pattern", target.pattern, verify::ParsePattern);
  section.ReadInteger("run_blocks", target.run_blocks, 1, 4096);
  // RandomRuns places runs by trial: keep a round to what it places quickly.
  section.ReadInteger("write_blocks", target.write_blocks, 1, 65536);
  section.ReadEnum("durability", target.durability, ParseDurability);
  if (std::optional<Section> schedule = section.Child("schedule")) {
    ReadSchedule(*schedule, target.schedule);
  }
  if (std::optional<Section> tree = section.Child("metadata")) {
    if (!metadata) tree->FailHere("needs the metadata checker in checkers");
    tree->ReadInteger("entries", target.metadata.entries, 10, 1'000'000);
    tree->ReadInteger("changes_per_round", target.metadata.changes_per_round, 1, 100'000);
  }
  if (std::optional<Section> budget = section.Child("budget")) {
    budget->ReadSize("bytes_per_second", target.budget.bytes_per_second, 0, kMaxBytesPerSecond);
    budget->Read("ios_per_second", target.budget.ios_per_second, 0, kMaxIosPerSecond);
  }
  return target;
}

// Whether `path` is `directory` or lies under it (by name).
bool IsUnder(const std::string& path, const std::string& directory) {
  if (path.empty() || directory.empty()) return false;
  const std::string prefix = directory.ends_with('/') ? directory : directory + "/";
  return path == directory || path.starts_with(prefix);
}

// A metadata tree holds only what its checker made: any other target, or the
// agent's own state, inside it would be reported as extra entries (or written
// through by two checkers).
void CheckMetadataRoots(std::vector<Section>& sections, const std::vector<TargetConfig>& targets,
                        const std::string& state_dir, const std::string& spool_dir) {
  for (size_t i = 0; i < targets.size(); ++i) {
    if (!HasChecker(targets[i], "metadata")) continue;
    const std::string& tree = targets[i].path;
    for (size_t j = 0; j < targets.size(); ++j) {
      if (j == i) continue;
      if (IsUnder(targets[j].path, tree) || IsUnder(tree, targets[j].path)) {
        sections[j].Fail(
            "path",
            absl::StrCat("'", targets[j].path, "' overlaps the metadata tree '", tree, "' of ",
                         sections[i].path(), ": a tree holds only what its checker made"));
      }
    }
    // The tree may live under state_dir (systemd lets the agent write only
    // there), but not in or over a directory the agent keeps its own files in.
    const std::vector<std::string> own_dirs = {spool_dir, state_dir + "/targets",
                                               state_dir + "/metadata", state_dir + "/evidence"};
    bool overlaps = IsUnder(state_dir, tree);
    for (const std::string& own : own_dirs) overlaps |= IsUnder(own, tree) || IsUnder(tree, own);
    if (overlaps) {
      sections[i].Fail("path", absl::StrCat("the metadata tree '", tree,
                                            "' overlaps the agent's own files under '", state_dir,
                                            "': give the tree a directory of its own"));
    }
  }
}

void ReadTargets(Section& root, std::vector<TargetConfig>& targets, const std::string& state_dir,
                 const std::string& spool_dir) {
  root.Require("targets");
  std::optional<std::vector<Section>> listed = root.Children("targets");
  if (!listed) return;
  std::vector<Section>& sections = *listed;
  if (sections.empty()) root.Fail("targets", "needs at least one target");
  for (size_t i = 0; i < sections.size(); ++i) {
    targets.push_back(ReadTarget(sections[i]));
    for (size_t j = 0; j < i; ++j) {
      if (!targets[i].name.empty() && targets[i].name == targets[j].name) {
        sections[i].Fail(
            "name", absl::StrCat("duplicate target name '", targets[i].name, "' (first at line ",
                                 sections[j].LineOf("name"), ")"));
      }
      if (!targets[i].path.empty() && targets[i].path == targets[j].path) {
        sections[i].Fail(
            "path", absl::StrCat("'", targets[i].path, "' is already the path of ",
                                 sections[j].path(), " (line ", sections[j].LineOf("path"), ")"));
      }
    }
  }
  CheckMetadataRoots(sections, targets, state_dir, spool_dir);
}

void ReadTls(Section& section, AgentConfig::Tls& tls) {
  for (auto [key, value] : {std::pair<std::string_view, std::string*>{"ca", &tls.ca},
                            {"cert", &tls.cert},
                            {"key", &tls.key}}) {
    section.Read(key, *value);
    if (!value->empty()) section.Check(key, ValidateAbsolutePath(*value));
  }
  section.Read("server_name", tls.server_name);
  if (tls.cert.empty() != tls.key.empty()) {
    section.Fail(tls.cert.empty() ? "key" : "cert",
                 "cert and key go together (both for mutual TLS, or neither)");
  }
  if (tls.ca.empty()) {
    for (auto [key, value] : {std::pair<std::string_view, std::string*>{"cert", &tls.cert},
                              {"key", &tls.key},
                              {"server_name", &tls.server_name}}) {
      if (!value->empty()) {
        section.Fail(key, "needs tls.ca: TLS is on only when the collector's CA is set");
      }
    }
  }
}

void ReadCollector(Section& section, AgentConfig::Collector& collector) {
  section.Read("address", collector.address);
  section.Check("address", ValidateGrpcTarget(collector.address));
  if (section.Has("addresses")) {
    if (section.Has("address")) {
      section.Fail("addresses", "set address (one collector) or addresses (several), not both");
    }
    section.ReadStringList("addresses", collector.addresses);
    if (collector.addresses.empty()) section.Fail("addresses", "lists no collector");
    for (size_t i = 0; i < collector.addresses.size(); ++i) {
      if (absl::Status valid = ValidateGrpcTarget(collector.addresses[i]); !valid.ok()) {
        section.Fail("addresses", absl::StrCat("[", i, "]: ", valid.message()));
      }
      for (size_t j = 0; j < i; ++j) {
        if (collector.addresses[j] == collector.addresses[i]) {
          section.Fail("addresses",
                       absl::StrCat("[", i, "]: ", collector.addresses[i], " is listed twice"));
        }
      }
    }
    // One collector is the plain form: the two spellings mean (and hash) the same.
    if (collector.addresses.size() == 1) {
      collector.address = collector.addresses.front();
      collector.addresses.clear();
    }
  }
  section.Read("token_file", collector.token_file);
  if (!collector.token_file.empty()) {
    section.Check("token_file", ValidateAbsolutePath(collector.token_file));
  }
  if (std::optional<Section> tls = section.Child("tls")) ReadTls(*tls, collector.tls);
  section.ReadDuration("keepalive_time", collector.keepalive_time, std::chrono::seconds(1),
                       std::chrono::hours(2));
  if (collector.keepalive_time < kCollectorDefaultKeepaliveMinTime) {
    section.Fail("keepalive_time",
                 absl::StrCat(FormatDuration(collector.keepalive_time),
                              " is shorter than the collector's keepalive.min_time (",
                              FormatDuration(kCollectorDefaultKeepaliveMinTime),
                              " by default): it would hang up with too_many_pings"));
  }
  section.ReadDuration("keepalive_timeout", collector.keepalive_timeout, std::chrono::seconds(1),
                       std::chrono::minutes(10));
  if (std::optional<Section> backoff = section.Child("backoff")) {
    backoff->ReadDuration("initial", collector.backoff.initial, std::chrono::milliseconds(10),
                          std::chrono::hours(1));
    backoff->ReadDuration("max", collector.backoff.max, std::chrono::milliseconds(10),
                          std::chrono::hours(24));
    if (collector.backoff.max < collector.backoff.initial) {
      backoff->Fail(
          "max", absl::StrCat(FormatDuration(collector.backoff.max), " is shorter than initial (",
                              FormatDuration(collector.backoff.initial), ")"));
    }
  }
}

void ReadAgent(Section root, AgentConfig& config) {
  root.Read("agent_id", config.agent_id);
  if (!config.agent_id.empty()) root.Check("agent_id", ValidateAgentId(config.agent_id));
  root.Read("state_dir", config.state_dir);
  root.Check("state_dir", ValidateAbsolutePath(config.state_dir));
  root.Read("log_level", config.log_level);
  root.Check("log_level", ValidateLogLevel(config.log_level));
  if (std::optional<Section> collector = root.Child("collector")) {
    ReadCollector(*collector, config.collector);
  }
  if (std::optional<Section> spool = root.Child("spool")) {
    spool->Read("dir", config.spool.dir);
    if (!config.spool.dir.empty()) spool->Check("dir", ValidateAbsolutePath(config.spool.dir));
    spool->ReadSize("max_bytes", config.spool.max_bytes, uint64_t{1} << 20, uint64_t{1} << 40);
  }
  if (config.spool.dir.empty()) {
    config.spool.dir = (std::filesystem::path(config.state_dir) / "spool").string();
  }
  if (std::optional<Section> evidence = root.Child("evidence")) {
    evidence->ReadSize("max_bytes", config.evidence.max_bytes, uint64_t{1} << 20,
                       uint64_t{1} << 40);
  }
  root.ReadDuration("report_interval", config.report_interval, std::chrono::seconds(1),
                    std::chrono::hours(24));
  root.ReadDuration("heartbeat_interval", config.heartbeat_interval, std::chrono::seconds(1),
                    std::chrono::hours(1));
  root.ReadInteger("state_trouble_threshold", config.state_trouble_threshold, 0, 1000000);
  if (std::optional<Section> metrics = root.Child("metrics")) {
    metrics->Read("listen", config.metrics.listen);
    if (!config.metrics.listen.empty()) {
      metrics->Check("listen", ValidateMetricsListen(config.metrics.listen));
    }
  }
  if (std::optional<Section> kernel_log = root.Child("kernel_log")) {
    kernel_log->Read("enabled", config.kernel_log.enabled);
    kernel_log->ReadInteger("max_events_per_minute", config.kernel_log.max_events_per_minute, 1,
                            100000);
    kernel_log->Read("kernel_lines_only", config.kernel_log.kernel_lines_only);
    kernel_log->Read("report_unrelated_devices", config.kernel_log.report_unrelated_devices);
  }
  if (std::optional<Section> budget = root.Child("budget")) ReadBudget(*budget, config.budget);
  ReadTargets(root, config.targets, config.state_dir, config.spool.dir);
}

}  // namespace

absl::StatusOr<Workload> ParseWorkload(std::string_view name) {
  if (name == "default") return Workload::kDefault;
  if (name == "merge-requeue") return Workload::kMergeRequeue;
  return absl::InvalidArgumentError(absl::StrCat("unknown workload '",
                                                 absl::string_view(name.data(), name.size()),
                                                 "' (expected default or merge-requeue)"));
}

std::string_view WorkloadName(Workload workload) {
  switch (workload) {
    case Workload::kDefault:
      return "default";
    case Workload::kMergeRequeue:
      return "merge-requeue";
  }
  return "default";
}

absl::StatusOr<AgentConfig> ParseAgentConfig(std::string_view yaml_text,
                                             std::string_view source_name) {
  ASSIGN_OR_RETURN(Reader reader, Reader::Parse(yaml_text, source_name));
  AgentConfig config;
  RETURN_IF_ERROR(Reader::Guard(source_name, [&] {
    ReadAgent(reader.Root(), config);
    return reader.Finish();
  }));
  return config;
}

std::vector<std::string> CollectorAddresses(const AgentConfig& config) {
  if (config.collector.addresses.empty()) return {config.collector.address};
  return config.collector.addresses;
}

std::string TargetStateDir(const AgentConfig& config) { return config.state_dir + "/targets"; }

absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string text, ReadTextFile(path));
  return ParseAgentConfig(text, path);
}

}  // namespace fscanary::config
