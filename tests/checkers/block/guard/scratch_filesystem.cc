#include "tests/checkers/block/guard/scratch_filesystem.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"

namespace fscanary::guard::testing {
namespace fs = std::filesystem;

namespace {

std::vector<std::string> MkfsArguments(const std::string& type, const std::string& device) {
  // Forced: the image is new, but a stale signature must not stop the test.
  if (type == "ext4") return {"mkfs.ext4", "-q", "-F", device};
  if (type == "xfs") return {"mkfs.xfs", "-q", "-f", device};
  return {"mkfs.btrfs", "-q", "-f", device};
}

}  // namespace

std::string ScratchFilesystemUnavailableReason(const std::string& type) {
  if (::geteuid() != 0) return "making a filesystem on a loop device needs root";
  if (!FindTool("losetup")) return "losetup (util-linux) is not installed";
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) return "/dev/loop-control is missing";
  if (!FindTool("mkfs." + type)) return "mkfs." + type + " is not installed";
  return "";
}

absl::StatusOr<std::unique_ptr<ScratchFilesystem>> ScratchFilesystem::Make(const std::string& type,
                                                                           uint64_t size) {
  std::unique_ptr<ScratchFilesystem> made(new ScratchFilesystem());
  made->type_ = type;
  made->image_ = made->dir_.path() / "image";
  made->mount_point_ = made->dir_.path() / "mnt";
  fs::create_directories(made->mount_point_);
  {
    const int fd = ::open(made->image_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return absl::InternalError(
          absl::StrCat("create ", made->image_.string(), ": ", std::strerror(errno)));
    const int truncated = ::ftruncate(fd, static_cast<off_t>(size));
    ::close(fd);
    if (truncated != 0) return absl::InternalError("ftruncate " + made->image_.string());
  }
  absl::StatusOr<LoopDevice> loop = LoopDevice::Attach(made->image_, {});
  if (!loop.ok()) return loop.status();
  made->loop_ = std::make_unique<LoopDevice>(*std::move(loop));
  if (absl::StatusOr<std::string> out = RunTool(MkfsArguments(type, made->loop_->path()));
      !out.ok()) {
    return out.status();
  }
  absl::StatusOr<ScopedMount> mount = ScopedMount::Mount(made->loop_->path(), made->mount_point_);
  if (!mount.ok()) return mount.status();
  made->mount_ = std::make_unique<ScopedMount>(*std::move(mount));
  return made;
}

ScratchFilesystem::~ScratchFilesystem() {
  // Unmounted before the loop device goes, the loop device before the image.
  mount_.reset();
  loop_.reset();
}

absl::StatusOr<uint64_t> ScratchFilesystem::CorruptImage(
    const std::function<bool(std::span<const std::byte>)>& match, uint32_t unit,
    uint32_t offset_in_unit, uint32_t length) {
  const int fd = ::open(image_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return absl::InternalError("open " + image_.string());
  std::vector<std::byte> chunk(size_t{unit} * 256);
  uint64_t position = 0;
  for (;;) {
    const ssize_t got = ::pread(fd, chunk.data(), chunk.size(), static_cast<off_t>(position));
    if (got <= 0) break;
    for (size_t at = 0; at + unit <= static_cast<size_t>(got); at += unit) {
      if (!match(std::span(chunk).subspan(at, unit))) continue;
      const std::vector<std::byte> garbage(length, std::byte{0xA5});
      const uint64_t unit_offset = position + at;
      const ssize_t wrote = ::pwrite(fd, garbage.data(), garbage.size(),
                                     static_cast<off_t>(unit_offset + offset_in_unit));
      const bool synced = ::fsync(fd) == 0;
      ::close(fd);
      if (wrote != static_cast<ssize_t>(length) || !synced) {
        return absl::InternalError("corrupting " + image_.string());
      }
      return unit_offset;
    }
    position += static_cast<uint64_t>(got);
  }
  ::close(fd);
  return absl::NotFoundError("no unit of " + image_.string() + " matched");
}

}  // namespace fscanary::guard::testing
