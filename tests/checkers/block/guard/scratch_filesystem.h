#pragma once
// A real filesystem (ext4, XFS or btrfs) made on a loop device over a sparse
// image, mounted in a private temp dir, for the checkers' filesystem tests
// (root only). Its image file is the "device behind the filesystem": tests
// corrupt blocks there, out of the filesystem's sight. Torn down (unmount,
// detach, delete) on destruction.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "tests/checkers/block/guard/system_fixtures.h"

namespace fscanary::guard::testing {

// "ext4", "xfs", "btrfs": the filesystems the checkers are tested on.
inline constexpr const char* kScratchFilesystemTypes[] = {"ext4", "xfs", "btrfs"};

// Why a `type` filesystem cannot be made here (not root, no mkfs.<type>, no
// loop devices); empty when it can.
std::string ScratchFilesystemUnavailableReason(const std::string& type);

class ScratchFilesystem {
 public:
  // Makes and mounts a `type` filesystem of `size` bytes (XFS needs 300 MiB
  // or more, btrfs 128 MiB or more).
  static absl::StatusOr<std::unique_ptr<ScratchFilesystem>> Make(const std::string& type,
                                                                 uint64_t size = 320ull << 20);
  ~ScratchFilesystem();

  const std::string& type() const { return type_; }
  // Where it is mounted; tests put the checkers' scratch areas under it.
  const std::filesystem::path& mount_point() const { return mount_point_; }
  const std::filesystem::path& image() const { return image_; }
  const std::string& device() const { return loop_->path(); }

  // Finds the first `unit`-byte aligned unit of the image for which `match`
  // is true and overwrites `length` bytes at `offset_in_unit` in it with
  // 0xA5 (through the image file: the filesystem does not see the write).
  // Returns the unit's byte offset in the image; NotFound if none matched.
  absl::StatusOr<uint64_t> CorruptImage(
      const std::function<bool(std::span<const std::byte>)>& match, uint32_t unit,
      uint32_t offset_in_unit, uint32_t length);

 private:
  ScratchFilesystem() = default;
  std::string type_;
  TempDir dir_;
  std::filesystem::path image_;
  std::filesystem::path mount_point_;
  std::unique_ptr<LoopDevice> loop_;
  std::unique_ptr<ScopedMount> mount_;
};

}  // namespace fscanary::guard::testing
