#include "tests/integration/loop_device.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "tests/integration/run_process.h"

namespace fscanary::testing {

std::string LoopDevicesUnavailableReason() {
  if (::geteuid() != 0) return "loop devices need root (run the integration tests as root)";
  if (FindExecutable("losetup").empty()) return "losetup (util-linux) is not installed";
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    return "/dev/loop-control is missing (no loop driver in this container?)";
  }
  return "";
}

absl::StatusOr<LoopDevice> LoopDevice::Attach(const std::string& backing_file, uint64_t size) {
  const int fd = ::open(backing_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoToStatus(errno, "create " + backing_file);
  const int truncated = ::ftruncate(fd, static_cast<off_t>(size));
  const int truncate_errno = errno;
  ::close(fd);
  if (truncated != 0) return ErrnoToStatus(truncate_errno, "ftruncate " + backing_file);

  absl::StatusOr<ProcessResult> attached =
      RunProcess({FindExecutable("losetup"), "--direct-io=on", "--find", "--show", backing_file});
  if (!attached.ok()) return attached.status();
  if (attached->exit_code != 0) {
    return absl::InternalError(absl::StrCat("losetup --direct-io=on --find --show ", backing_file,
                                            " exited ", attached->exit_code, ": ", attached->err));
  }
  std::string path(absl::StripAsciiWhitespace(attached->out));
  if (path.rfind("/dev/loop", 0) != 0) {
    // Attached, but we cannot tell where: nothing to detach by name.
    return absl::InternalError("losetup printed no loop device: '" + attached->out + "'");
  }
  return LoopDevice(std::move(path));
}

LoopDevice::~LoopDevice() {
  if (path_.empty()) return;
  absl::StatusOr<ProcessResult> detached = RunProcess({FindExecutable("losetup"), "-d", path_});
  if (!detached.ok() || detached->exit_code != 0) {
    std::fprintf(
        stderr, "warning: could not detach %s: %s\n", path_.c_str(),
        detached.ok() ? detached->err.c_str() : std::string(detached.status().message()).c_str());
  }
}

}  // namespace fscanary::testing
