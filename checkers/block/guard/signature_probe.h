#pragma once
// Asks libblkid what a block device already carries: filesystem, swap, RAID,
// LVM and crypto superblocks, and partition tables. The only file that sees
// <blkid/blkid.h>.

#include <vector>

#include "absl/status/statusor.h"
#include "checkers/block/guard/device_inspection.h"

namespace fscanary::guard {

// Every signature libblkid recognises on the device open at `fd` (read-only
// is enough: probing only reads). Unlike blkid's "safe" probe it does not stop
// at conflicting signatures: a stale superblock beside a newer one is exactly
// what an operator needs to hear about. Empty when the device looks blank.
// Internal if libblkid cannot read the device.
absl::StatusOr<std::vector<Signature>> ProbeSignatures(int fd);

}  // namespace fscanary::guard
