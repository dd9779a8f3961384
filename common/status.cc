#include "common/status.h"

namespace fscanary {

absl::Status ErrnoToStatus(int error_number, std::string_view what) {
  // absl appends strerror(error_number) to the message.
  return absl::ErrnoToStatus(error_number, absl::string_view(what.data(), what.size()));
}

}  // namespace fscanary
