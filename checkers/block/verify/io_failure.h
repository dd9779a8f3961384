#pragma once
// An operation of a checker's own I/O that failed: a write, read or sync of
// its target, or of its state file. Reported as an io_error finding (with
// the operation, errno and bytes), not only logged: a target that cannot be
// written or synced is trouble the fleet must see.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace fscanary::verify {

// Numbered as fscanary.v1.IoOperation.
enum class IoOperation : uint8_t {
  kRead = 1,        // a block of the target
  kWrite = 2,       // a block of the target
  kDataSync = 3,    // fdatasync of the target after a batch of writes
  kStateWrite = 4,  // writing the state file's records and syncing them
  kStateRead = 5,   // reading the state file's records back
  kStep = 6,        // a checker's step as a whole (the detail names the call)
};
// "read", "write", "datasync", "state_write", "state_read", "step".
std::string_view IoOperationName(IoOperation operation);

struct IoFailure {
  IoOperation operation = IoOperation::kWrite;
  // The file operated on: the target's path, or its state file's (kState*).
  std::string file;
  // Bytes [offset, offset + length) of that file.
  uint64_t offset = 0;
  uint64_t length = 0;
  // The errno; 0 where the failure carried none (a transfer that moved nothing).
  int error_number = 0;
  // For people: the call and its error ("fdatasync /srv/t.img: Input/output error").
  std::string detail;
};

// The failure an io/ call's status describes (its errno kept).
IoFailure FailureOf(IoOperation operation, std::string file, uint64_t offset, uint64_t length,
                    const absl::Status& status);
// The failure of an engine request whose result was `io_result` (-errno, or
// the bytes moved of fewer than asked).
IoFailure FailureOf(IoOperation operation, std::string file, uint64_t offset, uint64_t length,
                    int64_t io_result);

}  // namespace fscanary::verify
