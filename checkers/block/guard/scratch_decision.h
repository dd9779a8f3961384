#pragma once
// The verdict on a DeviceInspection: may fscanary use this block device as its
// scratch area? Pure (no I/O), so every refusal is unit-tested from a literal
// inspection. The agent logs the message and refuses to start on any error.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "checkers/block/guard/device_inspection.h"

namespace fscanary::guard {

// The one-shot command that takes a target over (sets
// take_over_foreign_signature); named in refusals so the operator knows the
// way out.
inline constexpr char kTakeOverCommand[] = "fscanary-agent take-over";

struct GuardOptions {
  // The operator confirmed, with the take-over command, that whatever
  // signature is on the device is dead data and may be overwritten. Nothing
  // else lets a signature through: not even fscanary's own label, which an
  // old label left under a newer owner's signature still carries.
  bool take_over_foreign_signature = false;
};

// OK when the device may be used as scratch; otherwise FailedPrecondition whose
// message names the device and every reason, e.g.
//   "/dev/sdb has partitions: sdb1, sdb2; /dev/sdb is mounted at /boot (through sdb1)".
// Mounted, swap, holders, partitions, read-only and a refused exclusive open
// always refuse, whatever the options. Signatures refuse unless
// take_over_foreign_signature.
absl::Status DecideScratchUse(const DeviceInspection& inspection, const GuardOptions& options);

// "an ext4 filesystem (UUID 1b2c..., label data, magic at byte 1080)",
// "a gpt partition table (UUID ...)".
std::string DescribeSignature(const Signature& signature);

// "PATH carries an ext4 filesystem (UUID ..., magic at byte 1080) and ...":
// every signature named, for a device or a file.
std::string SignaturesReason(const std::string& target, const std::vector<Signature>& signatures);
// How a refusal of a target that is not (or no longer) fscanary's tells the
// operator the way out: the take-over command for `path`.
std::string TakeOverHint(const std::string& path);

// OK when `declared_size` bytes of scratch fit on the device; OutOfRange
// naming both sizes otherwise.
absl::Status CheckWithinDevice(const DeviceInspection& inspection, uint64_t declared_size);

}  // namespace fscanary::guard
