#include "checkers/block/verify/io_failure.h"

#include <cstring>

#include "absl/strings/str_format.h"
#include "common/status.h"

namespace fscanary::verify {

std::string_view IoOperationName(IoOperation operation) {
  switch (operation) {
    case IoOperation::kRead:
      return "read";
    case IoOperation::kWrite:
      return "write";
    case IoOperation::kDataSync:
      return "datasync";
    case IoOperation::kStateWrite:
      return "state_write";
    case IoOperation::kStateRead:
      return "state_read";
    case IoOperation::kStep:
      return "step";
  }
  return "unknown";
}

IoFailure FailureOf(IoOperation operation, std::string file, uint64_t offset, uint64_t length,
                    const absl::Status& status) {
  return {.operation = operation,
          .file = std::move(file),
          .offset = offset,
          .length = length,
          .error_number = ErrnoOf(status),
          .detail = std::string(status.message())};
}

IoFailure FailureOf(IoOperation operation, std::string file, uint64_t offset, uint64_t length,
                    int64_t io_result) {
  const int error_number = io_result < 0 ? static_cast<int>(-io_result) : 0;
  std::string detail = error_number != 0
                           ? absl::StrFormat("%s %s: %s", IoOperationName(operation), file,
                                             std::strerror(error_number))
                           : absl::StrFormat("%s %s: %d of %d bytes", IoOperationName(operation),
                                             file, io_result, length);
  return {.operation = operation,
          .file = std::move(file),
          .offset = offset,
          .length = length,
          .error_number = error_number,
          .detail = std::move(detail)};
}

}  // namespace fscanary::verify
