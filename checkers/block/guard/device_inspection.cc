#include "checkers/block/guard/device_inspection.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "checkers/block/guard/block_device_io.h"
#include "checkers/block/guard/signature_probe.h"
#include "common/status.h"

namespace fscanary::guard {

absl::StatusOr<DeviceInspection> InspectTopology(const std::string& path, DeviceNumber number,
                                                 const SystemRoots& roots) {
  ASSIGN_OR_RETURN(sysfs::DeviceTopology topology, sysfs::ReadDeviceTopology(number, roots));
  DeviceInspection inspection;
  static_cast<sysfs::DeviceTopology&>(inspection) = std::move(topology);
  inspection.path = path;
  inspection.number = number;
  return inspection;
}

std::string DeviceInspection::DisplayName() const {
  const std::string kernel_path = "/dev/" + name;
  if (name.empty() || path == kernel_path) return path;
  return absl::StrCat(path, " (", kernel_path, ")");
}

absl::StatusOr<DeviceInspection> InspectBlockDevice(const std::string& path,
                                                    const SystemRoots& roots) {
  const std::filesystem::path node = roots.Under(path);
  ASSIGN_OR_RETURN(const DeviceNumber number, sysfs::BlockDeviceNumber(node));
  // Held open across the sysfs and procfs reads so the device cannot be
  // detached and its number reused while we look.
  ASSIGN_OR_RETURN(const ReadOnlyBlockDevice device, ReadOnlyBlockDevice::Open(node, number));
  ASSIGN_OR_RETURN(DeviceInspection inspection, InspectTopology(path, number, roots));
  inspection.claimed_by_kernel = device.claimed_by_kernel();

  ASSIGN_OR_RETURN(const uint64_t ioctl_size, device.SizeBytes());
  if (ioctl_size != inspection.size_bytes) {
    return absl::AbortedError(absl::StrCat(inspection.DisplayName(), ": sysfs says ",
                                           inspection.size_bytes, " bytes, BLKGETSIZE64 says ",
                                           ioctl_size, "; is it being resized?"));
  }
  ASSIGN_OR_RETURN(const uint32_t ioctl_block_size, device.LogicalBlockSize());
  if (ioctl_block_size != inspection.logical_block_size) {
    return absl::AbortedError(
        absl::StrCat(inspection.DisplayName(), ": sysfs says logical block size ",
                     inspection.logical_block_size, ", BLKSSZGET says ", ioctl_block_size));
  }
  ASSIGN_OR_RETURN(inspection.signatures, ProbeSignatures(device.fd()));
  return inspection;
}

}  // namespace fscanary::guard
