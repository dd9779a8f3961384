#include "checkers/block/verify/evidence.h"

#include "absl/strings/str_format.h"
#include "checkers/block/classify/verdict.h"
#include "checkers/block/verify/finding_json.h"
#include "checkers/block/verify/verify_pass.h"
#include "checkers/evidence/evidence_store.h"
#include "common/status.h"

namespace fscanary::verify {

absl::StatusOr<std::string> SaveEvidence(const std::string& root, uint64_t target_id,
                                         const Finding& finding, std::span<const std::byte> found,
                                         std::span<const std::byte> expected) {
  ASSIGN_OR_RETURN(const std::shared_ptr<evidence::EvidenceStore> store,
                   evidence::SharedStore(root));
  nlohmann::json summary = FindingToJson(finding);
  summary["target_id"] = absl::StrFormat("%016x", target_id);
  summary["block_size"] = found.size();
  const std::string text = summary.dump(2) + "\n";
  const evidence::EvidenceFile files[] = {
      {.name = "found.bin", .data = found},
      {.name = "expected.bin", .data = expected},
      {.name = "summary.json", .data = std::as_bytes(std::span(text.data(), text.size()))}};
  ASSIGN_OR_RETURN(evidence::EvidenceStore::Saved saved,
                   store->Save({.target_id = target_id,
                                .offset = finding.offset,
                                .generation = finding.expected_generation,
                                .kind = std::string(block::KindName(finding.verdict.kind))},
                               finding.persistent, files));
  return std::move(saved.directory);
}

}  // namespace fscanary::verify
