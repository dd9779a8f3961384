#include "agent/facts/block_device_facts.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "agent/facts/fact_text.h"
#include "agent/facts/facts_io.h"
#include "agent/facts/proc_text.h"

namespace fscanary::facts {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& file) { return FactText(ReadOptionalFile(file).value_or("")); }

uint64_t ReadNumber(const fs::path& file) {
  uint64_t value = 0;
  if (!absl::SimpleAtoi(ReadText(file), &value)) return 0;
  return value;
}

uint32_t ReadNumber32(const fs::path& file) {
  const uint64_t value = ReadNumber(file);
  return value > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(value);
}

bool IsAllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "host3": a SCSI host's node in the sysfs device tree.
bool IsScsiHostNode(const fs::path& dir) {
  const std::string name = dir.filename().string();
  return name.size() > 4 && absl::StartsWith(name, "host") && IsAllDigits(name.substr(4));
}

std::string DeviceType(const fs::path& dir, bool is_partition) {
  if (is_partition) return "partition";
  if (Exists(dir / "dm")) return "dm";
  if (Exists(dir / "md")) return "md";
  // loop/ appears only while a file is attached.
  if (Exists(dir / "loop") || absl::StartsWith(dir.filename().string(), "loop")) return "loop";
  return "disk";
}

// The driver bound nearest to `device` on the way up the sysfs device tree,
// and, when the way passes a SCSI host, the driver of that host's adapter.
struct BoundDrivers {
  std::optional<std::string> nearest;
  std::optional<std::string> scsi_adapter;
};

BoundDrivers DriversAbove(const sysfs::SystemRoots& roots, const fs::path& device) {
  const std::string top =
      ResolvedPath(roots.Sys() / "devices").value_or(roots.Sys() / "devices").string();
  BoundDrivers drivers;
  bool past_scsi_host = false;
  for (fs::path dir = device;
       dir.string().size() > top.size() && absl::StartsWith(dir.string(), top);
       dir = dir.parent_path()) {
    if (std::optional<std::string> driver = SymlinkTargetName(dir / "driver")) {
      if (!drivers.nearest) drivers.nearest = driver;
      if (past_scsi_host) {
        drivers.scsi_adapter = driver;
        break;
      }
    }
    if (IsScsiHostNode(dir)) past_scsi_host = true;
  }
  return drivers;
}

std::string DriverOf(const sysfs::SystemRoots& roots, const fs::path& disk_dir,
                     const std::string& type, sysfs::DeviceNumber number) {
  if (type == "dm") return "device-mapper";
  if (type == "md") return "md";
  if (type == "loop") return "loop";
  if (std::optional<fs::path> device = ResolvedPath(disk_dir / "device")) {
    BoundDrivers drivers = DriversAbove(roots, *device);
    if (drivers.scsi_adapter) return FactText(*drivers.scsi_adapter);
    if (drivers.nearest) return FactText(*drivers.nearest);
  }
  std::string major_name =
      BlockMajorName(ReadOptionalFile(roots.Proc() / "devices").value_or(""), number.major);
  return major_name.empty() ? "unknown" : FactText(major_name);
}

std::string ModelOf(const fs::path& disk_dir, const std::string& type) {
  if (type == "dm") {
    // "LVM-<uuids>", "CRYPT-LUKS2-...", "mpath-...": what built the device.
    const std::string uuid = ReadText(disk_dir / "dm" / "uuid");
    return uuid.substr(0, uuid.find('-'));
  }
  if (type == "md") return ReadText(disk_dir / "md" / "level");
  return ReadText(disk_dir / "device" / "model");
}

// queue/nomerges as a word (Documentation/block/queue-sysfs.rst): 0 all merges,
// 1 one-hit merges only, 2 none. Empty when the file is missing or unexpected.
std::string MergesOf(const std::string& nomerges) {
  if (nomerges == "0") return "all";
  if (nomerges == "1") return "simple";
  if (nomerges == "2") return "none";
  return "";
}

}  // namespace

v1::BlockDeviceFacts ReadBlockDeviceFacts(const sysfs::SystemRoots& roots, const fs::path& dir) {
  v1::BlockDeviceFacts device;
  device.set_name(FactText(dir.filename().string()));
  device.set_dev(ReadText(dir / "dev"));
  const bool is_partition = Exists(dir / "partition");
  const fs::path disk_dir = is_partition ? dir.parent_path() : dir;
  device.set_type(DeviceType(dir, is_partition));
  const std::string disk_type = is_partition ? DeviceType(disk_dir, false) : device.type();
  device.set_driver(
      DriverOf(roots, disk_dir, disk_type,
               ParseDeviceNumber(ReadText(disk_dir / "dev")).value_or(sysfs::DeviceNumber{})));
  device.set_model(ModelOf(disk_dir, disk_type));
  device.set_size_bytes(ReadNumber(dir / "size") * 512);  // sysfs counts 512-byte sectors

  const fs::path queue = disk_dir / "queue";
  if (Exists(disk_dir / "mq")) {
    device.set_blk_mq("on");
    uint32_t hw_queues = 0;
    for (const std::string& entry : ListDirectory(disk_dir / "mq")) hw_queues += IsAllDigits(entry);
    device.set_nr_hw_queues(hw_queues);
  } else {
    // Without mq/ the queue is the legacy request path (kernels before 5.0
    // with use_blk_mq=N) or bio-based (dm linear/crypt, md): no blk-mq either way.
    device.set_blk_mq(Exists(queue) ? "off" : "unknown");
  }
  device.set_scheduler(
      FactText(ActiveScheduler(ReadOptionalFile(queue / "scheduler").value_or(""))));
  device.set_nr_requests(ReadNumber32(queue / "nr_requests"));
  device.set_write_cache(ReadText(queue / "write_cache"));
  device.set_rotational(ReadText(queue / "rotational") == "1");
  device.set_logical_block_size(ReadNumber32(queue / "logical_block_size"));
  device.set_physical_block_size(ReadNumber32(queue / "physical_block_size"));
  device.set_max_sectors_kb(ReadNumber32(queue / "max_sectors_kb"));
  device.set_discard_max_bytes(ReadNumber(queue / "discard_max_bytes"));
  device.set_merges(MergesOf(ReadText(queue / "nomerges")));
  return device;
}

}  // namespace fscanary::facts
