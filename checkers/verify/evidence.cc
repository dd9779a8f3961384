#include "checkers/verify/evidence.h"

#include <fcntl.h>

#include "absl/strings/str_format.h"
#include "checkers/block/verdict.h"
#include "checkers/verify/finding_json.h"
#include "checkers/verify/verify_pass.h"
#include "common/status.h"
#include "io/posix.h"

namespace fscanary::verify {
namespace {

absl::Status WriteFile(const std::string& path, std::span<const std::byte> data) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640));
  RETURN_IF_ERROR(io::WriteAll(fd.get(), data, 0, path));
  return io::DataSync(fd.get(), path);
}

}  // namespace

absl::StatusOr<std::string> SaveEvidence(const std::string& root, uint64_t target_id,
                                         const Finding& finding, std::span<const std::byte> found,
                                         std::span<const std::byte> expected) {
  const std::string dir =
      absl::StrFormat("%s/%016x/%d-%s-%d", root, target_id, finding.offset,
                      std::string(block::KindName(finding.verdict.kind)), io::WallClockNanos());
  RETURN_IF_ERROR(io::MakeDirectories(dir));
  RETURN_IF_ERROR(WriteFile(dir + "/found.bin", found));
  RETURN_IF_ERROR(WriteFile(dir + "/expected.bin", expected));
  nlohmann::json summary = FindingToJson(finding);
  summary["target_id"] = absl::StrFormat("%016x", target_id);
  summary["block_size"] = found.size();
  const std::string text = summary.dump(2) + "\n";
  RETURN_IF_ERROR(
      WriteFile(dir + "/summary.json", std::as_bytes(std::span(text.data(), text.size()))));
  RETURN_IF_ERROR(io::SyncDirectory(dir));
  return dir;
}

}  // namespace fscanary::verify
