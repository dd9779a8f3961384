#include "checkers/block/target/target_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "checkers/block/guard/known_signatures.h"
#include "common/status.h"
#include "io/aligned_buffer.h"

namespace fscanary::target {
namespace {

absl::Status SymlinkRefusal(const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(
      path,
      " is reached through a symbolic link; name a scratch file by a path without one (a link "
      "could be re-pointed at another file after the check)"));
}

// A link may name a block device (udev does); it is followed, and the device
// opened must be the one the link named when it was looked at.
absl::StatusOr<OpenedPath> OpenDeviceThroughLink(const std::string& path, int flags) {
  struct stat st {};
  // A dangling link, or one to anything but a device, is refused as a link.
  if (::stat(path.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) return SymlinkRefusal(path);
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(path, flags));
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(fd.get(), path));
  if (!info.is_block_device || info.device != st.st_rdev) {
    return absl::AbortedError(path + " changed while it was being opened; not using it");
  }
  return OpenedPath{.fd = std::move(fd), .info = info};
}

}  // namespace

absl::StatusOr<OpenedPath> OpenPath(const std::string& path, int flags, bool create) {
  absl::StatusOr<io::UniqueFd> fd = io::OpenNoSymlinks(path, flags);
  bool created = false;
  if (!fd.ok() && ErrnoOf(fd.status()) == ELOOP) return OpenDeviceThroughLink(path, flags);
  if (!fd.ok() && create && absl::IsNotFound(fd.status())) {
    // O_EXCL: a dangling link at `path` is EEXIST, never followed.
    fd = io::OpenNoSymlinks(path, flags | O_CREAT | O_EXCL);
    if (!fd.ok() && ErrnoOf(fd.status()) == ELOOP) return SymlinkRefusal(path);
    if (!fd.ok() && ErrnoOf(fd.status()) == EEXIST) {
      struct stat st {};
      if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return SymlinkRefusal(path);
    }
    created = fd.ok();
  }
  if (!fd.ok()) return fd.status();
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(fd->get(), path));
  if (!info.is_regular_file && !info.is_block_device) {
    return absl::InvalidArgumentError(path + " is neither a regular file nor a block device");
  }
  return OpenedPath{.fd = *std::move(fd), .info = info, .created = created};
}

absl::Status ClaimDevice(const std::string& path, int flags, OpenedPath& opened) {
  ASSIGN_OR_RETURN(io::UniqueFd claimed, io::Open(path, flags | O_EXCL));
  ASSIGN_OR_RETURN(const io::FileInfo info, io::Inspect(claimed.get(), path));
  if (!info.is_block_device || info.device != opened.info.device) {
    return absl::AbortedError(path + " changed while it was being checked; not writing to it");
  }
  opened.fd = std::move(claimed);
  return absl::OkStatus();
}

absl::StatusOr<LabelReading> ReadLabel(int fd, const std::string& path) {
  io::AlignedBuffer buffer(kLabelSize);
  ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd, buffer.span(), 0, path));
  if (got < kLabelSize) return LabelReading{};
  return ParseLabel(buffer.span());
}

absl::Status WriteLabel(int fd, const Label& label, const std::string& path) {
  io::AlignedBuffer buffer(label.data_start);
  std::fill(buffer.data(), buffer.data() + label.data_start, std::byte{0});
  const std::vector<std::byte> encoded = EncodeLabel(label);
  std::copy(encoded.begin(), encoded.end(), buffer.data());
  RETURN_IF_ERROR(io::WriteAll(fd, buffer.span(), 0, path));
  return io::DataSync(fd, path);
}

absl::StatusOr<std::vector<guard::Signature>> ReadKnownSignatures(int fd, uint64_t size,
                                                                  const std::string& path) {
  std::vector<io::AlignedBuffer> buffers;
  std::vector<guard::RegionBytes> read;
  for (const guard::ByteRegion& region : guard::RegionsToRead(size)) {
    if (region.offset >= size) continue;
    buffers.emplace_back(region.length);
    ASSIGN_OR_RETURN(const size_t got, io::ReadAll(fd, buffers.back().span(), region.offset, path));
    read.push_back({.offset = region.offset, .bytes = buffers.back().span().first(got)});
  }
  return guard::FindKnownSignatures(size, read);
}

absl::StatusOr<guard::DeviceInspection> InspectOpenDevice(const std::string& path,
                                                          const OpenedPath& opened) {
  ASSIGN_OR_RETURN(guard::DeviceInspection inspection, guard::InspectBlockDevice(path));
  if (makedev(inspection.number.major, inspection.number.minor) != opened.info.device) {
    return absl::AbortedError(path + " changed while it was being checked; not using it");
  }
  ASSIGN_OR_RETURN(const std::vector<guard::Signature> known,
                   ReadKnownSignatures(opened.fd.get(), opened.info.size, path));
  inspection.signatures = guard::WithKnownSignatures(std::move(inspection.signatures), known);
  return inspection;
}

}  // namespace fscanary::target
