#include "common/status.h"

#include <cerrno>

#include "gtest/gtest.h"

namespace fscanary {
namespace {

absl::StatusOr<int> Half(int value) {
  if (value % 2 != 0) return absl::InvalidArgumentError("odd");
  return value / 2;
}

absl::StatusOr<int> Quarter(int value) {
  ASSIGN_OR_RETURN(const int half, Half(value));
  ASSIGN_OR_RETURN(const int quarter, Half(half));
  return quarter;
}

absl::Status CheckEven(int value) {
  RETURN_IF_ERROR(Half(value).status());
  return absl::OkStatus();
}

TEST(ErrnoToStatus, MissingFileIsNotFoundAndNamesTheCall) {
  const absl::Status status = ErrnoToStatus(ENOENT, "open /nope");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("open /nope"), absl::string_view::npos);
}

TEST(ErrnoOf, GivesBackTheErrnoAStatusWasMadeFromAndZeroForAnyOther) {
  EXPECT_EQ(ErrnoOf(ErrnoToStatus(EMFILE, "open /srv/x")), EMFILE);
  EXPECT_EQ(ErrnoOf(ErrnoToStatus(EIO, "read /srv/x")), EIO);
  // Text that merely looks like one does not count.
  EXPECT_EQ(ErrnoOf(absl::InternalError("read /srv/x: Input/output error")), 0);
  EXPECT_EQ(ErrnoOf(absl::OkStatus()), 0);
}

TEST(ErrnoToStatus, MissingSyscallIsUnimplemented) {
  EXPECT_EQ(ErrnoToStatus(ENOSYS, "io_uring_setup").code(), absl::StatusCode::kUnimplemented);
}

TEST(StatusMacros, AssignOrReturnPassesValuesAndStopsAtFirstError) {
  EXPECT_EQ(Quarter(8).value(), 2);
  EXPECT_EQ(Quarter(6).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(StatusMacros, ReturnIfErrorPropagates) {
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_FALSE(CheckEven(3).ok());
}

}  // namespace
}  // namespace fscanary
