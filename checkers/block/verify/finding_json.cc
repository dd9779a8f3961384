#include "checkers/block/verify/finding_json.h"

namespace fscanary::verify {

nlohmann::json FindingToJson(const Finding& finding) {
  const block::Verdict& verdict = finding.verdict;
  auto optional = [](const std::optional<uint64_t>& value) -> nlohmann::json {
    return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  };
  nlohmann::json sectors = nlohmann::json::array();
  for (const block::SectorState state : verdict.sectors) {
    sectors.push_back(std::string(block::SectorStateName(state)));
  }
  nlohmann::json ranges = nlohmann::json::array();
  for (const block::ByteRange& range : verdict.differing_bytes) {
    ranges.push_back({range.begin, range.end});
  }
  nlohmann::json rereads = nlohmann::json::array();
  for (const block::Kind kind : finding.rereads)
    rereads.push_back(std::string(block::KindName(kind)));
  nlohmann::json json{
      {"offset", finding.offset},
      {"kind", std::string(block::KindName(verdict.kind))},
      {"persistent", finding.persistent},
      {"expected_generation", finding.expected_generation},
      {"found_generation", optional(verdict.found_generation)},
      {"found_offset", optional(verdict.found_offset)},
      {"found_target_id", optional(verdict.found_target_id)},
      {"sectors", sectors},
      {"differing_bytes", ranges},
      {"rereads", rereads},
      {"evidence", finding.evidence_dir.empty() ? nlohmann::json(nullptr)
                                                : nlohmann::json(finding.evidence_dir)},
  };
  if (verdict.byte_ranges_truncated) json["differing_bytes_truncated"] = true;
  if (verdict.kind == block::Kind::kIoError) json["errno"] = verdict.error_number;
  if (verdict.kind == block::Kind::kShortRead) json["bytes_read"] = verdict.bytes_read;
  return json;
}

}  // namespace fscanary::verify
