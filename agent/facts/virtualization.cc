#include "agent/facts/virtualization.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cstring>
#include <string_view>

#include "absl/strings/match.h"
#include "agent/facts/fact_text.h"
#include "agent/facts/facts_io.h"

namespace fscanary::facts {
namespace {

struct CpuidVendor {
  std::string_view vendor;
  std::string_view name;
};

// Signatures of leaf 0x40000000 (EBX, ECX, EDX) as FactText leaves them:
// NULs and surrounding spaces dropped.
constexpr CpuidVendor kCpuidVendors[] = {
    {"KVMKVMKVM", "kvm"},       {"TCGTCGTCGTCG", "qemu"},     {"XenVMMXenVMM", "xen"},
    {"VMwareVMware", "vmware"}, {"Microsoft Hv", "hyperv"},   {"VBoxVBoxVBox", "virtualbox"},
    {"bhyve bhyve", "bhyve"},   {"lrpepyh  vr", "parallels"}, {"ACRNACRNACRN", "acrn"},
    {"Linux KVM Hv", "kvm"},
};

struct DmiVendor {
  std::string_view needle;
  std::string_view name;
};

// Substrings of sys_vendor or product_name. Amazon and Google name their
// clouds there; both run KVM-based hypervisors that CPUID reports as such.
constexpr DmiVendor kDmiVendors[] = {
    {"KVM", "kvm"},
    {"QEMU", "qemu"},
    {"VMware", "vmware"},
    {"innotek", "virtualbox"},
    {"VirtualBox", "virtualbox"},
    {"Xen", "xen"},
    {"BHYVE", "bhyve"},
    {"Parallels", "parallels"},
    {"Amazon EC2", "amazon"},
    {"Google", "google"},
};

std::string DmiClassification(const VirtualizationEvidence& evidence) {
  for (const DmiVendor& dmi : kDmiVendors) {
    const absl::string_view needle(dmi.needle.data(), dmi.needle.size());
    if (absl::StrContains(evidence.dmi_sys_vendor, needle) ||
        absl::StrContains(evidence.dmi_product_name, needle)) {
      return std::string(dmi.name);
    }
  }
  if (absl::StrContains(evidence.dmi_sys_vendor, "Microsoft") &&
      absl::StrContains(evidence.dmi_product_name, "Virtual Machine")) {
    return "hyperv";
  }
  return "";
}

}  // namespace

VirtualizationEvidence ReadVirtualizationEvidence(const sysfs::SystemRoots& roots,
                                                  bool probe_cpuid) {
  VirtualizationEvidence evidence;
  const std::filesystem::path dmi = roots.Sys() / "class" / "dmi" / "id";
  evidence.dmi_sys_vendor = FactText(ReadOptionalFile(dmi / "sys_vendor").value_or(""));
  evidence.dmi_product_name = FactText(ReadOptionalFile(dmi / "product_name").value_or(""));
  evidence.hypervisor_type =
      FactText(ReadOptionalFile(roots.Sys() / "hypervisor" / "type").value_or(""));
#if defined(__x86_64__) || defined(__i386__)
  if (probe_cpuid) {
    unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0) {
      evidence.cpuid_probed = true;
      evidence.cpuid_hypervisor_bit = (ecx & (1u << 31)) != 0;
    }
    if (evidence.cpuid_hypervisor_bit) {
      // Leaves from 0x40000000 are the hypervisor's, outside the range
      // __get_cpuid checks against, so ask directly.
      __cpuid(0x40000000, eax, ebx, ecx, edx);
      char vendor[13] = {};
      std::memcpy(vendor, &ebx, 4);
      std::memcpy(vendor + 4, &ecx, 4);
      std::memcpy(vendor + 8, &edx, 4);
      evidence.cpuid_vendor = FactText(std::string_view(vendor, std::strlen(vendor)));
    }
  }
#else
  (void)probe_cpuid;
#endif
  return evidence;
}

std::string ClassifyVirtualization(const VirtualizationEvidence& evidence) {
  const std::string dmi = DmiClassification(evidence);
  if (evidence.cpuid_hypervisor_bit) {
    for (const CpuidVendor& known : kCpuidVendors) {
      if (evidence.cpuid_vendor != known.vendor) continue;
      if (known.name == "hyperv" && (dmi == "kvm" || dmi == "qemu")) return "kvm";
      return std::string(known.name);
    }
  }
  if (evidence.hypervisor_type == "xen") return "xen";
  if (!dmi.empty()) return dmi;
  if (evidence.cpuid_hypervisor_bit) return "other";
  if (evidence.cpuid_probed || !evidence.dmi_sys_vendor.empty()) return "none";
  return "unknown";
}

}  // namespace fscanary::facts
