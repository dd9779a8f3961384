#pragma once
// Error values for fscanary: absl::Status / absl::StatusOr plus the two small
// propagation macros that Debian's abseil (20220623) does not ship, and the one
// place where an errno becomes a status.

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fscanary {

// Turns errno `error_number` from the call described by `what` (for example
// "open /dev/sdb") into a status whose code follows the errno (ENOENT is
// NotFound, EACCES/EPERM PermissionDenied, ENOSYS Unimplemented, ...).
absl::Status ErrnoToStatus(int error_number, std::string_view what);
// The errno an ErrnoToStatus status was made from (carried as a payload, so
// callers can tell EIO from EMFILE without parsing text); 0 for any other.
int ErrnoOf(const absl::Status& status);
// `status` with its message replaced by `message`, its code and payloads
// (the errno) kept; OK stays OK.
absl::Status WithMessage(const absl::Status& status, std::string_view message);

}  // namespace fscanary

#define FSCANARY_CONCAT_INNER_(a, b) a##b
#define FSCANARY_CONCAT_(a, b) FSCANARY_CONCAT_INNER_(a, b)

// Returns the status of `expr` from the enclosing function if it is not OK.
#define RETURN_IF_ERROR(expr)                                               \
  do {                                                                      \
    if (::absl::Status fscanary_status_ = (expr); !fscanary_status_.ok()) { \
      return fscanary_status_;                                              \
    }                                                                       \
  } while (false)

// `ASSIGN_OR_RETURN(auto value, MakeValue());` declares `value` from an OK
// StatusOr, or returns its status from the enclosing function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(FSCANARY_CONCAT_(fscanary_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                           \
  if (!statusor.ok()) {                             \
    return std::move(statusor).status();            \
  }                                                 \
  lhs = std::move(statusor).value()
