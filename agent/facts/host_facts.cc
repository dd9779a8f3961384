// CollectHostFacts: the host-wide facts, then per target its filesystem and
// the block stack under it.

#include "agent/facts/host_facts.h"

#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "agent/facts/block_stack.h"
#include "agent/facts/fact_text.h"
#include "agent/facts/facts_io.h"
#include "agent/facts/kernel_config.h"
#include "agent/facts/mount_table.h"
#include "agent/facts/proc_text.h"
#include "agent/facts/virtualization.h"

namespace fscanary::facts {
namespace {

namespace fs = std::filesystem;

std::string ReadText(const fs::path& file) { return FactText(ReadOptionalFile(file).value_or("")); }

std::string KernelRelease(const sysfs::SystemRoots& roots) {
  std::string release = ReadText(roots.Proc() / "sys" / "kernel" / "osrelease");
  // A /proc without sysctls (some sandboxes) still has uname; a fake tree's
  // kernel is not the one uname would describe.
  if (release.empty() && roots.root == "/") release = FactText(UnameRelease());
  return release;
}

void AddKernelFacts(const sysfs::SystemRoots& roots, v1::HostFacts& facts) {
  facts.set_kernel_release(KernelRelease(roots));
  facts.set_kernel_version(ReadText(roots.Proc() / "version"));
  facts.set_kernel_cmdline(ReadText(roots.Proc() / "cmdline"));
  facts.set_boot_id(ReadText(roots.Proc() / "sys" / "kernel" / "random" / "boot_id"));
  facts.set_hostname(ReadText(roots.Proc() / "sys" / "kernel" / "hostname"));

  KernelConfig config = ReadKernelConfig(roots, facts.kernel_release());
  facts.set_kernel_config_source(config.source);
  facts.set_kernel_config_sha256(config.sha256);
  facts.mutable_kernel_config()->insert(config.options.begin(), config.options.end());

  // Pre-5.0 kernels choose the legacy request path or blk-mq per driver
  // family at boot; the choice is a host fact even where no device shows it.
  for (const char* module : {"scsi_mod", "dm_mod"}) {
    std::optional<std::string> use_blk_mq =
        ReadOptionalFile(roots.Sys() / "module" / module / "parameters" / "use_blk_mq");
    if (use_blk_mq) {
      (*facts.mutable_extra())[absl::StrCat(module, ".use_blk_mq")] = FactText(*use_blk_mq);
    }
  }
}

void AddDistroFacts(const sysfs::SystemRoots& roots, v1::HostFacts& facts) {
  // os-release(5): /etc/os-release, else /usr/lib/os-release.
  std::optional<std::string> text = ReadOptionalFile(roots.Under("/etc/os-release"));
  if (!text) text = ReadOptionalFile(roots.Under("/usr/lib/os-release"));
  const std::map<std::string, std::string> fields = ParseOsRelease(text.value_or(""));
  auto field = [&fields](const std::string& key) {
    auto it = fields.find(key);
    return it == fields.end() ? std::string() : FactText(it->second);
  };
  facts.set_distro_id(field("ID"));
  facts.set_distro_version(field("VERSION_ID"));
  facts.set_distro_pretty(field("PRETTY_NAME"));
}

void AddMachineFacts(const FactsRoots& roots, v1::HostFacts& facts) {
  const VirtualizationEvidence evidence =
      ReadVirtualizationEvidence(roots.system, roots.probe_cpuid);
  facts.set_virtualization(ClassifyVirtualization(evidence));
  auto& extra = *facts.mutable_extra();
  for (const auto& [key, value] : {std::pair{"dmi.sys_vendor", &evidence.dmi_sys_vendor},
                                   std::pair{"dmi.product_name", &evidence.dmi_product_name},
                                   std::pair{"hypervisor.type", &evidence.hypervisor_type},
                                   std::pair{"cpuid.hypervisor_vendor", &evidence.cpuid_vendor}}) {
    if (!value->empty()) extra[key] = *value;
  }

  const sysfs::SystemRoots& system = roots.system;
  const CpuInfo cpu = ParseCpuInfo(ReadOptionalFile(system.Proc() / "cpuinfo").value_or(""));
  facts.set_cpu_model(FactText(cpu.model));
  facts.set_cpu_count(cpu.count != 0 ? cpu.count
                                     : CountCpuList(ReadText(system.Sys() / "devices" / "system" /
                                                             "cpu" / "online")));
  facts.set_memory_bytes(
      ParseMemTotalBytes(ReadOptionalFile(system.Proc() / "meminfo").value_or("")));
}

v1::FilesystemFacts FilesystemFactsOf(const MountEntry& mount, const std::string& target) {
  v1::FilesystemFacts filesystem;
  filesystem.set_mount_point(FactText(mount.mount_point));
  filesystem.set_fs_type(FactText(mount.fs_type));
  filesystem.set_source(FactText(mount.source));
  filesystem.set_mount_options(FactText(mount.mount_options));
  filesystem.set_super_options(FactText(mount.super_options));
  filesystem.set_target(FactText(target));
  return filesystem;
}

}  // namespace

absl::StatusOr<v1::HostFacts> CollectHostFacts(const std::vector<FactsTarget>& targets,
                                               const FactsRoots& roots) {
  const sysfs::SystemRoots& system = roots.system;
  v1::HostFacts facts;
  AddKernelFacts(system, facts);
  AddDistroFacts(system, facts);
  AddMachineFacts(roots, facts);

  const std::vector<MountEntry> mounts =
      ParseMountTable(ReadOptionalFile(system.Proc() / "self" / "mountinfo").value_or(""));
  std::set<std::string> devices_seen;  // by major:minor
  for (const FactsTarget& target : targets) {
    absl::StatusOr<PathInfo> info = StatPath(system.Under(target.path));
    if (!info.ok()) {
      const std::string problem =
          absl::IsNotFound(info.status()) ? "does not exist" : std::string(info.status().message());
      return absl::Status(info.status().code(), absl::StrCat("target '", target.name, "' (",
                                                             target.path, "): ", problem));
    }
    std::optional<sysfs::DeviceNumber> top;
    if (info->is_block_device) {
      top = info->st_rdev;
    } else {
      const FileLocation location = LocateFile(system, mounts, target.path, *info);
      if (location.mount) {
        *facts.add_filesystems() = FilesystemFactsOf(*location.mount, target.name);
      }
      top = location.device;
    }
    if (!top) continue;
    for (v1::BlockDeviceFacts& device : BlockStackFacts(system, mounts, *top)) {
      if (!devices_seen.insert(device.dev().empty() ? device.name() : device.dev()).second) {
        continue;
      }
      device.set_target(FactText(target.name));
      *facts.add_devices() = std::move(device);
    }
  }
  return facts;
}

}  // namespace fscanary::facts
