#include "common/status.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace fscanary {

namespace {
constexpr char kErrnoPayload[] = "type.fscanary/errno";
}  // namespace

absl::Status ErrnoToStatus(int error_number, std::string_view what) {
  // absl appends strerror(error_number) to the message.
  absl::Status status =
      absl::ErrnoToStatus(error_number, absl::string_view(what.data(), what.size()));
  status.SetPayload(kErrnoPayload, absl::Cord(absl::StrCat(error_number)));
  return status;
}

absl::Status WithMessage(const absl::Status& status, std::string_view message) {
  if (status.ok()) return status;
  absl::Status rewritten(status.code(), absl::string_view(message.data(), message.size()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    rewritten.SetPayload(url, payload);
  });
  return rewritten;
}

int ErrnoOf(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrnoPayload);
  int error_number = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &error_number)) return 0;
  return error_number;
}

}  // namespace fscanary
