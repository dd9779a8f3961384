#include "agent/daemon/to_proto.h"

#include <map>
#include <utility>

#include "absl/strings/str_format.h"

namespace fscanary::daemon {
namespace {

v1::FindingKind KindToProto(block::Kind kind) {
  switch (kind) {
    case block::Kind::kOk:
      return v1::FINDING_KIND_UNSPECIFIED;
    case block::Kind::kChecksumMismatch:
      return v1::CHECKSUM_MISMATCH;
    case block::Kind::kMisdirectedWrite:
      return v1::MISDIRECTED_WRITE;
    case block::Kind::kLostWrite:
      return v1::LOST_WRITE;
    case block::Kind::kTornWrite:
      return v1::TORN_WRITE;
    case block::Kind::kZeroed:
      return v1::ZEROED;
    case block::Kind::kForeignData:
      return v1::FOREIGN_DATA;
    case block::Kind::kIoError:
      return v1::IO_ERROR;
    case block::Kind::kShortRead:
      return v1::SHORT_READ;
  }
  return v1::FINDING_KIND_UNSPECIFIED;
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

}  // namespace

v1::Finding FindingToProto(const verify::Finding& finding, const BlockTargetRunner& runner,
                           int64_t detected_unix_nanos) {
  const block::Verdict& verdict = finding.verdict;
  v1::Finding proto;
  proto.set_checker("block");
  proto.set_target(runner.options().name);
  proto.set_target_path(runner.target().path);
  proto.set_target_id(absl::StrFormat("%016x", runner.target().label.target_id));
  proto.set_kind(KindToProto(verdict.kind));
  proto.set_persistent(finding.persistent);
  proto.set_offset(finding.offset);
  proto.set_block_size(runner.target().label.block_size);
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
  proto.set_detected_unix_nanos(detected_unix_nanos);
  proto.set_engine(std::string(runner.engine_name()));
  proto.set_evidence_path(finding.evidence_dir);
  std::string summary = absl::StrFormat(
      "%s at offset %d of %s (%s), expected generation %d",
      std::string(block::KindName(verdict.kind)), finding.offset, runner.target().path,
      finding.persistent ? "persistent" : "transient", finding.expected_generation);
  if (verdict.found_generation)
    absl::StrAppendFormat(&summary, ", found generation %d", *verdict.found_generation);
  if (verdict.found_offset)
    absl::StrAppendFormat(&summary, ", block of offset %d", *verdict.found_offset);
  proto.set_evidence_summary(summary);
  return proto;
}

v1::CheckerInterval ActivityToProto(const TargetActivity& activity, const std::string& checker,
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
