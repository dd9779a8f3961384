#pragma once
// The verdict on a DeviceInspection: may fscanary use this block device as its
// scratch area? Pure (no I/O), so every refusal is unit-tested from a literal
// inspection. The agent logs the message and refuses to start on any error.

#include <cstdint>

#include "absl/status/status.h"
#include "checkers/guard/device_inspection.h"

namespace fscanary::guard {

// The agent's command-line flag that sets take_over_foreign_signature; named
// in refusals so the operator knows the way out.
inline constexpr char kTakeOverFlag[] = "--take-over";

struct GuardOptions {
  // The operator confirmed that whatever signature is on the device is dead
  // data and may be overwritten.
  bool take_over_foreign_signature = false;
  // The device already carries fscanary's own label (the caller checked it):
  // it is ours, so what libblkid makes of our blocks does not matter.
  bool device_has_fscanary_label = false;
};

// OK when the device may be used as scratch; otherwise FailedPrecondition whose
// message names the device and every reason, e.g.
//   "/dev/sdb has partitions: sdb1, sdb2; /dev/sdb is mounted at /boot (through sdb1)".
// Mounted, swap, holders, partitions, read-only and a refused exclusive open
// always refuse, whatever the options. Foreign signatures refuse unless
// take_over_foreign_signature or device_has_fscanary_label.
absl::Status DecideScratchUse(const DeviceInspection& inspection, const GuardOptions& options);

// OK when `declared_size` bytes of scratch fit on the device; OutOfRange
// naming both sizes otherwise.
absl::Status CheckWithinDevice(const DeviceInspection& inspection, uint64_t declared_size);

}  // namespace fscanary::guard
