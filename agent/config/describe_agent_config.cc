#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "agent/config/agent_config.h"
#include "common/config/canonical_text.h"

namespace fscanary::config {
namespace {

std::string_view EngineName(io::EngineKind kind) {
  switch (kind) {
    case io::EngineKind::kAuto:
      return "auto";
    case io::EngineKind::kIoUring:
      return "io_uring";
    case io::EngineKind::kPsync:
      return "psync";
  }
  return "unknown";
}

std::string_view DurabilityName(verify::Durability durability) {
  switch (durability) {
    case verify::Durability::kBatchSync:
      return "batch";
    case verify::Durability::kDsync:
      return "dsync";
  }
  return "unknown";
}

void DescribeTarget(CanonicalText& text, const std::string& prefix, const TargetConfig& target) {
  auto key = [&](std::string_view name) {
    return absl::StrCat(prefix, ".", absl::string_view(name.data(), name.size()));
  };
  text.String(key("name"), target.name);
  text.String(key("path"), target.path);
  if (target.size) {
    text.Size(key("size"), *target.size);
  } else {
    text.Word(key("size"), "whole_device");
  }
  text.Size(key("block_size"), target.block_size);
  std::string checkers;
  for (const std::string& checker : target.checkers) {
    absl::StrAppend(&checkers, checkers.empty() ? "" : ", ", checker);
  }
  text.Word(key("checkers"), "[" + checkers + "]");
  text.Word(key("engine"), EngineName(target.engine));
  text.Word(key("workload"), WorkloadName(target.workload));
  text.Integer(key("queue_depth"), target.queue_depth);
  text.Word(key("pattern"), verify::PatternName(target.pattern));
  text.Integer(key("run_blocks"), target.run_blocks);
  text.Integer(key("write_blocks"), target.write_blocks);
  text.Word(key("durability"), DurabilityName(target.durability));
  text.Time(key("schedule.write_interval"), target.schedule.write_interval);
  text.Time(key("schedule.cold_read_interval"), target.schedule.cold_read_interval);
  text.Time(key("schedule.scrub_interval"), target.schedule.scrub_interval);
  // Only metadata targets describe their tree: other configs keep their hash.
  if (std::find(target.checkers.begin(), target.checkers.end(), "metadata") !=
      target.checkers.end()) {
    text.Integer(key("metadata.entries"), target.metadata.entries);
    text.Integer(key("metadata.changes_per_round"), target.metadata.changes_per_round);
  }
  text.Size(key("budget.bytes_per_second"), target.budget.bytes_per_second);
  text.Number(key("budget.ios_per_second"), target.budget.ios_per_second);
}

}  // namespace

std::string DescribeConfig(const AgentConfig& config) {
  CanonicalText text("fscanary agent config, canonical form v1");
  text.String("state_dir", config.state_dir);
  text.Word("log_level", config.log_level);
  // One collector keeps the line it always had, so its config hash is unchanged.
  if (config.collector.addresses.empty()) {
    text.String("collector.address", config.collector.address);
  } else {
    for (size_t i = 0; i < config.collector.addresses.size(); ++i) {
      text.String(absl::StrCat("collector.addresses[", i, "]"), config.collector.addresses[i]);
    }
  }
  text.String("collector.token_file", config.collector.token_file);
  text.String("collector.tls.ca", config.collector.tls.ca);
  text.String("collector.tls.cert", config.collector.tls.cert);
  text.String("collector.tls.key", config.collector.tls.key);
  text.String("collector.tls.server_name", config.collector.tls.server_name);
  text.Time("collector.keepalive_time", config.collector.keepalive_time);
  text.Time("collector.keepalive_timeout", config.collector.keepalive_timeout);
  text.Time("collector.backoff.initial", config.collector.backoff.initial);
  text.Time("collector.backoff.max", config.collector.backoff.max);
  text.String("spool.dir", config.spool.dir);
  text.Size("spool.max_bytes", config.spool.max_bytes);
  text.Size("evidence.max_bytes", config.evidence.max_bytes);
  text.Time("report_interval", config.report_interval);
  text.Time("heartbeat_interval", config.heartbeat_interval);
  text.Integer("state_trouble_threshold", config.state_trouble_threshold);
  text.String("metrics.listen", config.metrics.listen);
  text.Size("budget.bytes_per_second", config.budget.bytes_per_second);
  text.Number("budget.ios_per_second", config.budget.ios_per_second);
  text.Number("budget.cpu_share", config.budget.cpu_share);
  text.Bool("budget.idle_priority", config.budget.idle_priority);
  text.Number("budget.max_boost", config.budget.max_boost);
  text.Time("budget.boost_lapse", config.budget.boost_lapse);
  text.Bool("kernel_log.enabled", config.kernel_log.enabled);
  text.Integer("kernel_log.max_events_per_minute", config.kernel_log.max_events_per_minute);
  text.Bool("kernel_log.kernel_lines_only", config.kernel_log.kernel_lines_only);
  text.Bool("kernel_log.report_unrelated_devices", config.kernel_log.report_unrelated_devices);
  for (size_t i = 0; i < config.targets.size(); ++i) {
    DescribeTarget(text, absl::StrCat("targets[", i, "]"), config.targets[i]);
  }
  return text.text();
}

}  // namespace fscanary::config
