#include "checkers/block/guard/scratch_decision.h"

#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace fscanary::guard {
namespace {

std::string Through(const DeviceInspection& inspection, const std::string& via) {
  return via == inspection.name ? "" : absl::StrCat(" (through ", via, ")");
}

}  // namespace

std::string DescribeSignature(const Signature& signature) {
  std::string kind = "signature";
  if (signature.usage == "filesystem" || signature.usage == "partition table") {
    kind = signature.usage;
  } else if (signature.usage == "crypto") {
    kind = "encrypted volume";
  }
  const char first = signature.type.empty() ? 'x' : absl::ascii_tolower(signature.type[0]);
  const bool vowel_sound = std::string("aeiox").find(first) != std::string::npos;
  std::vector<std::string> details;
  if (!signature.uuid.empty()) details.push_back("UUID " + signature.uuid);
  if (!signature.label.empty()) details.push_back("label " + signature.label);
  if (signature.magic_length > 0) {
    details.push_back(absl::StrCat("magic at byte ", signature.magic_offset));
  }
  return absl::StrCat(vowel_sound ? "an " : "a ", signature.type, " ", kind,
                      details.empty() ? "" : absl::StrCat(" (", absl::StrJoin(details, ", "), ")"));
}

namespace {

// Reasons that no option can override: the device is in use right now.
std::vector<std::string> InUseReasons(const DeviceInspection& inspection) {
  const std::string device = inspection.DisplayName();
  std::vector<std::string> reasons;
  if (!inspection.mounts.empty()) {
    std::vector<std::string> where;
    for (const MountUse& mount : inspection.mounts) {
      where.push_back(mount.mount_point + Through(inspection, mount.via));
    }
    reasons.push_back(absl::StrCat(device, " is mounted at ", absl::StrJoin(where, ", ")));
  }
  for (const SwapUse& swap : inspection.swaps) {
    reasons.push_back(absl::StrCat(device, " is in use as swap", Through(inspection, swap.via)));
  }
  if (!inspection.holders.empty()) {
    reasons.push_back(
        absl::StrCat(device, " has holders: ", absl::StrJoin(inspection.holders, ", ")));
  }
  if (!inspection.partitions.empty()) {
    reasons.push_back(
        absl::StrCat(device, " has partitions: ", absl::StrJoin(inspection.partitions, ", ")));
  }
  // The kernel knows of a user that the tables did not show us (a btrfs
  // member, a claim by another program): still in use.
  if (inspection.claimed_by_kernel && reasons.empty()) {
    reasons.push_back(absl::StrCat(device,
                                   " is held exclusively by another user (the kernel refused an "
                                   "exclusive open with EBUSY)"));
  }
  if (inspection.read_only) reasons.push_back(absl::StrCat(device, " is read-only"));
  return reasons;
}

}  // namespace

std::string SignaturesReason(const std::string& target, const std::vector<Signature>& signatures) {
  std::vector<std::string> found;
  for (const Signature& signature : signatures) found.push_back(DescribeSignature(signature));
  return absl::StrCat(target, " carries ", absl::StrJoin(found, " and "));
}

std::string TakeOverHint(const std::string& path) {
  return absl::StrCat("if what it holds is dead data, take it over once with `", kTakeOverCommand,
                      " --target ", path,
                      "` (with the agent's --config, or --state-dir); it says what it found and "
                      "what it would do before doing it");
}

absl::Status DecideScratchUse(const DeviceInspection& inspection, const GuardOptions& options) {
  std::vector<std::string> reasons = InUseReasons(inspection);
  const bool in_use = !reasons.empty();
  if (!options.take_over_foreign_signature && !inspection.signatures.empty()) {
    std::string reason = SignaturesReason(inspection.DisplayName(), inspection.signatures);
    // Taking over would not help a device that is in use, so only then say how.
    if (!in_use) absl::StrAppend(&reason, "; ", TakeOverHint(inspection.path));
    reasons.push_back(std::move(reason));
  }
  if (reasons.empty()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrJoin(reasons, "; "));
}

absl::Status CheckWithinDevice(const DeviceInspection& inspection, uint64_t declared_size) {
  if (declared_size <= inspection.size_bytes) return absl::OkStatus();
  return absl::OutOfRangeError(absl::StrCat("the declared scratch size of ", declared_size,
                                            " bytes does not fit on ", inspection.DisplayName(),
                                            ", which holds ", inspection.size_bytes, " bytes"));
}

}  // namespace fscanary::guard
