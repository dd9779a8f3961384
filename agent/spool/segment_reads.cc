#include "agent/spool/segment_reads.h"

#include "common/status.h"
#include "io/posix.h"

namespace fscanary::spool {
namespace {

class PosixReads final : public SegmentReads {
 public:
  absl::StatusOr<size_t> ReadAt(int fd, std::span<std::byte> data, uint64_t offset,
                                const std::string& path) override {
    return io::ReadAll(fd, data, offset, path);
  }
};

}  // namespace

std::shared_ptr<SegmentReads> PosixSegmentReads() { return std::make_shared<PosixReads>(); }

bool IsDamage(const absl::Status& status) {
  return absl::IsDataLoss(status) && ErrnoOf(status) == 0;
}

}  // namespace fscanary::spool
