#include "collector/service/validate.h"

#include <cmath>
#include <limits>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "collector/fleet/host_attributes.h"
#include "common/utf8.h"

namespace fscanary::collector {
namespace {

constexpr int64_t kYear2000Nanos = 946'684'800'000'000'000;
constexpr int64_t kYear2200Nanos = 7'258'118'400'000'000'000;
constexpr uint64_t kMaxSequence = std::numeric_limits<int64_t>::max();

// Collects the first problem found; later checks are skipped once one is.
class Checker {
 public:
  explicit Checker(const ValidationLimits& limits) : limits_(limits) {}

  void String(const std::string& value, absl::string_view field) {
    if (failed()) return;
    if (value.size() > limits_.max_string_bytes) {
      Fail("string", absl::StrCat(field, " is ", value.size(), " bytes (limit ",
                                  limits_.max_string_bytes, ")"));
    } else if (!IsValidUtf8(value)) {
      Fail("string", absl::StrCat(field, " is not valid UTF-8"));
    } else if (const size_t nul = value.find('\0'); nul != std::string::npos) {
      // PostgreSQL's text cannot hold it where SQLite's can: refused here, a
      // record fares the same whichever store the collector runs on.
      Fail("string", absl::StrCat(field, " holds a NUL byte (at byte ", nul, ")"));
    }
  }
  void Count(uint64_t count, uint64_t limit, absl::string_view field) {
    if (failed()) return;
    if (count > limit)
      Fail("size", absl::StrCat(field, " has ", count, " entries (limit ", limit, ")"));
  }
  void Time(int64_t unix_nanos, absl::string_view field, bool optional = false) {
    if (failed() || (optional && unix_nanos == 0)) return;
    if (unix_nanos < kYear2000Nanos || unix_nanos > kYear2200Nanos) {
      Fail("range", absl::StrCat(field, " = ", unix_nanos, " is not a plausible time"));
    }
  }
  void Finite(double value, absl::string_view field) {
    if (failed()) return;
    if (!std::isfinite(value) || value < 0)
      Fail("range", absl::StrCat(field, " must be finite and >= 0"));
  }
  void True(bool condition, absl::string_view reason, std::string detail) {
    if (failed() || condition) return;
    Fail(reason, std::move(detail));
  }

  bool failed() const { return !rejection_.reason.empty(); }
  Rejection take() { return std::move(rejection_); }

 private:
  void Fail(absl::string_view reason, std::string detail) {
    rejection_ = {std::string(reason), std::move(detail)};
  }
  const ValidationLimits& limits_;
  Rejection rejection_;
};

void CheckFacts(const v1::HostFacts& facts, Checker& check, const ValidationLimits& limits) {
  for (const std::string* field :
       {&facts.hostname(), &facts.boot_id(), &facts.kernel_release(), &facts.kernel_version(),
        &facts.kernel_config_sha256(), &facts.kernel_config_source(), &facts.kernel_cmdline(),
        &facts.distro_id(), &facts.distro_version(), &facts.distro_pretty(),
        &facts.virtualization(), &facts.cpu_model()}) {
    check.String(*field, "facts");
  }
  check.Count(facts.kernel_config_size(), limits.max_config_options, "facts.kernel_config");
  for (const auto& [key, value] : facts.kernel_config()) {
    check.String(key, "facts.kernel_config key");
    check.String(value, "facts.kernel_config value");
    // Their own namespace among the correlation's attributes.
    check.True(fleet::IsKernelConfigOptionName(key), "kernel_config",
               absl::StrCat("facts.kernel_config key \"", absl::CHexEscape(key),
                            "\" is not CONFIG_[A-Za-z0-9_]+"));
  }
  check.Count(facts.extra_size(), limits.max_config_options, "facts.extra");
  for (const auto& [key, value] : facts.extra()) {
    check.String(key, "facts.extra key");
    check.String(value, "facts.extra value");
  }
  check.Count(facts.devices_size(), limits.max_devices, "facts.devices");
  for (const v1::BlockDeviceFacts& device : facts.devices()) {
    for (const std::string* field :
         {&device.name(), &device.dev(), &device.type(), &device.driver(), &device.blk_mq(),
          &device.scheduler(), &device.write_cache(), &device.model(), &device.target(),
          &device.merges()}) {
      check.String(*field, "facts.devices");
    }
    check.Count(device.lower_size(), limits.max_devices, "facts.devices.lower");
    for (const std::string& lower : device.lower()) check.String(lower, "facts.devices.lower");
  }
  check.Count(facts.filesystems_size(), limits.max_devices, "facts.filesystems");
  for (const v1::FilesystemFacts& fs : facts.filesystems()) {
    for (const std::string* field : {&fs.mount_point(), &fs.fs_type(), &fs.source(),
                                     &fs.mount_options(), &fs.super_options(), &fs.target()}) {
      check.String(*field, "facts.filesystems");
    }
  }
}

void CheckFinding(const v1::Finding& finding, Checker& check, const ValidationLimits& limits) {
  for (const std::string* field :
       {&finding.checker(), &finding.target(), &finding.target_path(), &finding.target_id(),
        &finding.found_target_id(), &finding.engine(), &finding.evidence_path(), &finding.path(),
        &finding.subsystem(), &finding.device(), &finding.message()}) {
    check.String(*field, "finding");
  }
  check.String(finding.evidence_summary(), "finding.evidence_summary");
  check.True(
      finding.kind() != v1::FINDING_KIND_UNSPECIFIED && v1::FindingKind_IsValid(finding.kind()),
      "range", "finding.kind is unspecified or unknown");
  check.True(!finding.has_buffered_kind() || v1::FindingKind_IsValid(finding.buffered_kind()),
             "range", "finding.buffered_kind is unknown");
  check.Count(finding.sectors_size(), limits.max_sectors, "finding.sectors");
  check.Count(finding.differing_bytes_size(), limits.max_ranges, "finding.differing_bytes");
  check.Count(finding.rereads_size(), 100, "finding.rereads");
  for (const v1::ByteRange& range : finding.differing_bytes()) {
    check.True(range.begin() < range.end() && range.end() <= finding.block_size(), "range",
               "finding.differing_bytes range outside the block");
  }
  check.True(finding.block_size() == 0 ||
                 (finding.block_size() % 512 == 0 && finding.block_size() <= (1u << 20)),
             "range", "finding.block_size is not a multiple of 512 up to 1 MiB");
  check.True(finding.error_number() >= 0 && finding.error_number() < 4096, "range",
             "finding.error_number out of range");
  check.Time(finding.detected_unix_nanos(), "finding.detected_unix_nanos");
}

void CheckReport(const v1::IntervalReport& report, Checker& check, const ValidationLimits& limits) {
  check.Time(report.start_unix_nanos(), "report.start_unix_nanos");
  check.Time(report.end_unix_nanos(), "report.end_unix_nanos");
  check.True(report.start_unix_nanos() <= report.end_unix_nanos(), "range",
             "report ends before it starts");
  check.Count(report.checkers_size(), limits.max_checkers, "report.checkers");
  for (const v1::CheckerInterval& interval : report.checkers()) {
    check.String(interval.checker(), "report.checkers.checker");
    check.String(interval.target(), "report.checkers.target");
    check.String(interval.last_error(), "report.checkers.last_error");
    check.Count(interval.latency_bounds_seconds_size(), limits.max_latency_buckets,
                "report.checkers.latency_bounds_seconds");
    check.True(interval.latency_bounds_seconds_size() == interval.latency_counts_size(), "size",
               "report.checkers latency bounds and counts differ in length");
    double previous = -1;
    for (const double bound : interval.latency_bounds_seconds()) {
      check.True(bound > previous, "range", "report.checkers latency bounds are not increasing");
      previous = bound;
    }
    check.Finite(interval.latency_sum_seconds(), "report.checkers.latency_sum_seconds");
  }
}

}  // namespace

bool IsValidAgentId(const std::string& agent_id) {
  if (agent_id.empty() || agent_id.size() > 128) return false;
  for (const char c : agent_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Rejection ValidateAgentMessage(const v1::AgentMessage& message, const ValidationLimits& limits) {
  Checker check(limits);
  const bool session = message.has_hello() || message.has_heartbeat();
  if (session) {
    check.True(message.sequence() == 0, "sequence", "a Hello or Heartbeat carries sequence 0");
  } else {
    check.True(message.sequence() != 0, "sequence", "a record carries a sequence above 0");
    // The store keeps sequences as SQLite's signed 64-bit integers.
    check.True(message.sequence() <= kMaxSequence, "sequence",
               absl::StrCat("sequence ", message.sequence(), " is above ", kMaxSequence,
                            ", the largest the collector stores"));
  }
  check.Time(message.created_unix_nanos(), "created_unix_nanos");
  switch (message.body_case()) {
    case v1::AgentMessage::kHello: {
      const v1::Hello& hello = message.hello();
      check.True(IsValidAgentId(hello.agent_id()), "agent_id",
                 "hello.agent_id must be 1-128 characters of [A-Za-z0-9._:-]");
      check.String(hello.agent_version(), "hello.agent_version");
      CheckFacts(hello.facts(), check, limits);
      check.String(hello.config().config_sha256(), "hello.config.config_sha256");
      check.Count(hello.config().targets_size(), limits.max_devices, "hello.config.targets");
      for (const v1::TargetSummary& target : hello.config().targets()) {
        for (const std::string* field : {&target.name(), &target.path(), &target.kind(),
                                         &target.engine(), &target.target_id()}) {
          check.String(*field, "hello.config.targets");
        }
        check.Count(target.checkers_size(), limits.max_checkers, "hello.config.targets.checkers");
      }
      check.Finite(hello.config().budget_bytes_per_second(),
                   "hello.config.budget_bytes_per_second");
      check.Finite(hello.config().budget_ios_per_second(), "hello.config.budget_ios_per_second");
      check.Finite(hello.config().budget_cpu_share(), "hello.config.budget_cpu_share");
      break;
    }
    case v1::AgentMessage::kReport:
      CheckReport(message.report(), check, limits);
      break;
    case v1::AgentMessage::kFinding:
      CheckFinding(message.finding(), check, limits);
      break;
    case v1::AgentMessage::kHeartbeat:
      break;
    case v1::AgentMessage::kFacts:
      CheckFacts(message.facts(), check, limits);
      break;
    case v1::AgentMessage::kSpoolLoss:
      break;
    case v1::AgentMessage::BODY_NOT_SET:
      check.True(false, "missing_body", "the message has no body");
      break;
  }
  return check.take();
}

}  // namespace fscanary::collector
