#pragma once
// A loop block device over a sparse backing file, attached with
// `losetup --direct-io=on` so the agent's O_DIRECT I/O reaches the file
// unbuffered, and detached when the object goes (even when a test fails).

#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace fscanary::testing {

// Why this process cannot attach loop devices (not root, no losetup, no
// /dev/loop-control); empty when it can.
std::string LoopDevicesUnavailableReason();

class LoopDevice {
 public:
  // Creates `backing_file` sparse, of `size` bytes, and attaches it.
  static absl::StatusOr<LoopDevice> Attach(const std::string& backing_file, uint64_t size);

  LoopDevice(LoopDevice&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  LoopDevice& operator=(LoopDevice&&) = delete;
  LoopDevice(const LoopDevice&) = delete;
  ~LoopDevice();

  // "/dev/loopN".
  const std::string& path() const { return path_; }

 private:
  explicit LoopDevice(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace fscanary::testing
