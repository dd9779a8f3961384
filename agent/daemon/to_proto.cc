#include "agent/daemon/to_proto.h"

#include <map>
#include <utility>

#include "absl/strings/str_format.h"
#include "common/utf8.h"

namespace fscanary::daemon {
namespace {

v1::FindingKind KindToProto(checker::FindingKind kind) {
  // checker::FindingKind is numbered as the wire enum.
  return static_cast<v1::FindingKind>(static_cast<uint32_t>(kind));
}

v1::FindingKind KindToProto(block::Kind kind) {
  return kind == block::Kind::kOk ? v1::FINDING_KIND_UNSPECIFIED
                                  : KindToProto(checker::FromBlockKind(kind));
}

v1::SectorState SectorToProto(block::SectorState state) {
  switch (state) {
    case block::SectorState::kNew:
      return v1::SECTOR_NEW;
    case block::SectorState::kInFlight:
      return v1::SECTOR_IN_FLIGHT;
    case block::SectorState::kNewer:
      return v1::SECTOR_NEWER;
    case block::SectorState::kOld:
      return v1::SECTOR_OLD;
    case block::SectorState::kMisplaced:
      return v1::SECTOR_MISPLACED;
    case block::SectorState::kDamaged:
      return v1::SECTOR_DAMAGED;
    case block::SectorState::kZero:
      return v1::SECTOR_ZERO;
    case block::SectorState::kForeign:
      return v1::SECTOR_FOREIGN;
  }
  return v1::SECTOR_STATE_UNSPECIFIED;
}

void BlockFindingToProto(const verify::Finding& finding, v1::Finding& proto) {
  const block::Verdict& verdict = finding.verdict;
  proto.set_offset(finding.offset);
  proto.set_expected_generation(finding.expected_generation);
  if (verdict.found_generation) proto.set_found_generation(*verdict.found_generation);
  if (verdict.found_offset) proto.set_found_offset(*verdict.found_offset);
  if (verdict.found_target_id) {
    proto.set_found_target_id(absl::StrFormat("%016x", *verdict.found_target_id));
  }
  for (const block::SectorState state : verdict.sectors) proto.add_sectors(SectorToProto(state));
  for (const block::ByteRange& range : verdict.differing_bytes) {
    v1::ByteRange* out = proto.add_differing_bytes();
    out->set_begin(range.begin);
    out->set_end(range.end);
  }
  proto.set_differing_bytes_truncated(verdict.byte_ranges_truncated);
  proto.set_error_number(verdict.error_number);
  proto.set_bytes_read(verdict.bytes_read);
  for (const block::Kind kind : finding.rereads) proto.add_rereads(KindToProto(kind));
  proto.set_evidence_path(finding.evidence_dir);
}

void IoFailureToProto(const verify::IoFailure& failure, v1::Finding& proto) {
  // verify::IoOperation is numbered as the wire enum.
  proto.set_io_operation(static_cast<v1::IoOperation>(static_cast<uint32_t>(failure.operation)));
  proto.set_offset(failure.offset);
  proto.set_io_length(failure.length);
  proto.set_error_number(failure.error_number);
}

std::string BlockSummary(const checker::Finding& finding, const verify::Finding& block,
                         const std::string& path) {
  std::string summary =
      absl::StrFormat("%s at offset %d of %s (%s), expected generation %d",
                      std::string(checker::FindingKindName(finding.kind)), block.offset, path,
                      finding.persistent ? "persistent" : "transient", block.expected_generation);
  if (finding.buffered) {
    absl::StrAppendFormat(&summary, "; buffered read: %s, direct read: %s",
                          std::string(block::KindName(finding.buffered->kind)),
                          std::string(block::KindName(block.verdict.kind)));
  }
  if (block.verdict.found_generation)
    absl::StrAppendFormat(&summary, ", found generation %d", *block.verdict.found_generation);
  if (block.verdict.found_offset)
    absl::StrAppendFormat(&summary, ", block of offset %d", *block.verdict.found_offset);
  return summary;
}

// The strings of a finding the host or the system wrote (file names, error
// and kernel messages, paths): as text the collector accepts. One byte that
// is not UTF-8 would make the whole record unparseable (the spool quarantines
// it, the collector refuses it), and a string longer than the collector's
// limit (validate.h, 4 KiB by default) refuses it too.
constexpr size_t kMaxTextBytes = 4096;

void MakeTextSafe(v1::Finding& proto) {
  for (std::string* text :
       {proto.mutable_path(), proto.mutable_message(), proto.mutable_evidence_summary(),
        proto.mutable_target_path(), proto.mutable_subsystem(), proto.mutable_device()}) {
    if (text->size() > kMaxTextBytes || !IsValidUtf8(*text) ||
        text->find('\0') != std::string::npos) {
      *text = Utf8Text(*text, kMaxTextBytes);
    }
  }
}

}  // namespace

v1::Finding FindingToProto(const checker::Finding& finding, const FindingSource& source,
                           int64_t detected_unix_nanos) {
  v1::Finding proto;
  if (finding.kernel) {
    // The host's kernel log: no target.
    const checker::Finding::KernelLine& line = *finding.kernel;
    proto.set_checker(std::string(source.checker));
    proto.set_kind(KindToProto(finding.kind));
    proto.set_persistent(finding.persistent);
    proto.set_subsystem(line.subsystem);
    proto.set_device(line.device);
    proto.set_message(line.message);
    proto.set_severity(line.severity);
    proto.set_detected_unix_nanos(detected_unix_nanos);
    proto.set_evidence_summary(absl::StrFormat(
        "kernel log record %d (%s)%s", line.sequence, line.signature,
        line.suppressed_before > 0
            ? absl::StrFormat(", %d similar lines withheld before it", line.suppressed_before)
            : ""));
    MakeTextSafe(proto);
    return proto;
  }
  proto.set_checker(std::string(source.checker));
  proto.set_target(source.target_name);
  proto.set_target_path(source.target.path);
  proto.set_target_id(absl::StrFormat("%016x", source.target.target_id));
  proto.set_kind(KindToProto(finding.kind));
  proto.set_persistent(finding.persistent);
  proto.set_block_size(source.target.block_size);
  proto.set_detected_unix_nanos(detected_unix_nanos);
  proto.set_engine(source.target.engine);
  if (finding.block) {
    BlockFindingToProto(*finding.block, proto);
    proto.set_evidence_summary(BlockSummary(finding, *finding.block, source.target.path));
  }
  if (finding.buffered) proto.set_buffered_kind(KindToProto(finding.buffered->kind));
  if (finding.io_failure) IoFailureToProto(*finding.io_failure, proto);
  if (finding.state_trouble) {
    proto.set_state_records_damaged(finding.state_trouble->records_damaged);
    proto.set_state_records_changed(finding.state_trouble->records_changed);
    proto.set_blocks_newer_than_state(finding.state_trouble->blocks_newer);
  }
  if (!finding.path.empty() || !finding.detail.empty()) {
    proto.set_path(finding.path);
    proto.set_message(finding.detail);
    if (finding.io_failure || finding.state_trouble) {
      // The detail names the file and says what happened.
      proto.set_evidence_summary(absl::StrFormat(
          "%s: %s", std::string(checker::FindingKindName(finding.kind)), finding.detail));
    } else if (!finding.block) {
      proto.set_evidence_summary(absl::StrFormat(
          "%s: %s under %s: %s (%s)", std::string(checker::FindingKindName(finding.kind)),
          finding.path, source.target.path, finding.detail,
          finding.persistent ? "persistent" : "transient"));
    }
  }
  MakeTextSafe(proto);
  return proto;
}

v1::CheckerInterval ActivityToProto(const checker::Activity& activity, const std::string& checker,
                                    const std::string& target) {
  v1::CheckerInterval interval;
  interval.set_checker(checker);
  interval.set_target(target);
  interval.set_blocks_written(activity.blocks_written);
  interval.set_bytes_written(activity.bytes_written);
  interval.set_blocks_verified(activity.blocks_verified);
  interval.set_bytes_verified(activity.bytes_verified);
  interval.set_io_errors(activity.io_errors);
  interval.set_findings(activity.findings);
  interval.set_entries_changed(activity.entries_changed);
  interval.set_entries_verified(activity.entries_verified);
  interval.set_state_records_damaged(activity.state_records_damaged);
  interval.set_state_records_changed(activity.state_records_changed);
  interval.set_blocks_newer_than_state(activity.blocks_newer_than_state);
  uint64_t cumulative = 0;
  const auto& bounds = verify::LatencyHistogram::kBounds;
  for (size_t i = 0; i < activity.read_latency.counts.size(); ++i) {
    cumulative += activity.read_latency.counts[i];
    interval.add_latency_bounds_seconds(
        i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity());
    interval.add_latency_counts(cumulative);
  }
  interval.set_latency_sum_seconds(activity.read_latency.sum_seconds);
  return interval;
}

v1::IntervalReport MergeReports(const std::vector<v1::IntervalReport>& reports) {
  v1::IntervalReport merged;
  std::map<std::pair<std::string, std::string>, v1::CheckerInterval> by_key;
  uint32_t summarised = 0;
  for (const v1::IntervalReport& report : reports) {
    if (merged.start_unix_nanos() == 0 || report.start_unix_nanos() < merged.start_unix_nanos()) {
      merged.set_start_unix_nanos(report.start_unix_nanos());
    }
    merged.set_end_unix_nanos(std::max(merged.end_unix_nanos(), report.end_unix_nanos()));
    merged.set_spooled_records(report.spooled_records());
    merged.set_spooled_bytes(report.spooled_bytes());
    summarised += std::max<uint32_t>(report.summarised_reports(), 1);
    for (const v1::CheckerInterval& interval : report.checkers()) {
      auto [it, fresh] = by_key.try_emplace({interval.checker(), interval.target()}, interval);
      if (fresh) continue;
      v1::CheckerInterval& sum = it->second;
      sum.set_blocks_written(sum.blocks_written() + interval.blocks_written());
      sum.set_bytes_written(sum.bytes_written() + interval.bytes_written());
      sum.set_blocks_verified(sum.blocks_verified() + interval.blocks_verified());
      sum.set_bytes_verified(sum.bytes_verified() + interval.bytes_verified());
      sum.set_io_errors(sum.io_errors() + interval.io_errors());
      sum.set_findings(sum.findings() + interval.findings());
      sum.set_entries_changed(sum.entries_changed() + interval.entries_changed());
      sum.set_entries_verified(sum.entries_verified() + interval.entries_verified());
      sum.set_state_records_damaged(sum.state_records_damaged() + interval.state_records_damaged());
      sum.set_state_records_changed(sum.state_records_changed() + interval.state_records_changed());
      sum.set_blocks_newer_than_state(sum.blocks_newer_than_state() +
                                      interval.blocks_newer_than_state());
      sum.set_latency_sum_seconds(sum.latency_sum_seconds() + interval.latency_sum_seconds());
      if (sum.latency_counts_size() == interval.latency_counts_size()) {
        for (int i = 0; i < sum.latency_counts_size(); ++i) {
          sum.set_latency_counts(i, sum.latency_counts(i) + interval.latency_counts(i));
        }
      }
    }
  }
  for (auto& [key, interval] : by_key) *merged.add_checkers() = std::move(interval);
  merged.set_summarised_reports(summarised);
  return merged;
}

}  // namespace fscanary::daemon
