#pragma once
// How the spool reads records back from its segment files once it is open:
// the seam where tests inject read faults (EIO, ENOMEM) to check that a read
// that fails is retried later and never taken for damage.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"

namespace fscanary::spool {

// Thread-safety: called under the Spool's mutex, one call at a time.
class SegmentReads {
 public:
  virtual ~SegmentReads() = default;
  // As io::ReadAll: the bytes read (fewer only at end of file), or the
  // ErrnoToStatus status of the read that failed.
  virtual absl::StatusOr<size_t> ReadAt(int fd, std::span<std::byte> data, uint64_t offset,
                                        const std::string& path) = 0;
};

// pread(2) through io::ReadAll (EINTR and short transfers handled there).
std::shared_ptr<SegmentReads> PosixSegmentReads();

// Damage, as the spool's readers report it: DataLoss that no errno carried
// (a checksum or framing failure), as opposed to a read that failed and may
// succeed later.
bool IsDamage(const absl::Status& status);

}  // namespace fscanary::spool
