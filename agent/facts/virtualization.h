#pragma once
// Whether and under what hypervisor the host runs: from CPUID (the hypervisor
// bit and the vendor leaf 0x40000000, x86 only), /sys/hypervisor/type and the
// DMI strings firmware gives (/sys/class/dmi/id).

#include <string>

#include "common/sysfs/system_files.h"

namespace fscanary::facts {

struct VirtualizationEvidence {
  bool cpuid_probed = false;          // false off x86, or when told not to
  bool cpuid_hypervisor_bit = false;  // CPUID.1:ECX[31]
  std::string cpuid_vendor;           // "KVMKVMKVM", "Microsoft Hv", ...; empty without the bit
  std::string hypervisor_type;        // /sys/hypervisor/type: "xen"
  std::string dmi_sys_vendor;         // "QEMU", "Amazon EC2", "Microsoft Corporation"
  std::string dmi_product_name;       // "Standard PC (Q35 + ICH9, 2009)", "m5.large"
};

// Reads the evidence; `probe_cpuid` false leaves the CPUID fields unset.
VirtualizationEvidence ReadVirtualizationEvidence(const sysfs::SystemRoots& roots,
                                                  bool probe_cpuid);

// kvm, qemu (TCG), xen, vmware, hyperv, virtualbox, bhyve, parallels, acrn,
// amazon, google, other (a hypervisor we do not name), none (CPUID says bare
// metal, or DMI names no hypervisor), or unknown (no evidence at all, e.g.
// not x86 and no DMI). The CPUID vendor wins, as it names the hypervisor
// actually running; except that KVM exposing Hyper-V enlightenments (vendor
// "Microsoft Hv") with QEMU/KVM firmware is kvm. Pure.
std::string ClassifyVirtualization(const VirtualizationEvidence& evidence);

}  // namespace fscanary::facts
