#pragma once
// The host facts an agent sends in its Hello, and again whenever they change:
// kernel release, version, config and command line, boot id, distro,
// virtualization, CPU and memory, and for every target the filesystem its file
// lives on and every block device under it, down the stack (partition -> disk,
// dm/md -> slaves, loop -> the device holding its backing file).
//
// Facts are best effort: a file the kernel does not have (no /proc/config.gz,
// no DMI in a microVM, a sysfs attribute an old kernel lacks) leaves its field
// empty, 0 or "unknown" rather than failing. Every string is valid UTF-8 of at
// most kMaxFactBytes, as the collector demands.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/sysfs/system_files.h"
#include "fscanary/v1/facts.pb.h"

namespace fscanary::facts {

// A target as the agent's config names it. `path` is a file on a filesystem
// (its filesystem and that filesystem's devices are reported) or a block
// device (the device and what it sits on are reported).
struct FactsTarget {
  std::string name;
  std::string path;
};

// Where facts are read. Production reads the running system; tests point
// `system` at a hand-built tree, under which /proc, /sys, /etc, /boot and the
// targets' paths are all looked up.
struct FactsRoots {
  sysfs::SystemRoots system;
  // CPUID describes the CPU we run on whatever tree `system` points at, so
  // tests of fake trees turn it off. Only x86 has it.
  bool probe_cpuid = true;
};

// Reads the facts of this host and of `targets`. NotFound naming the target
// when a target's path does not exist; any other failure to stat a target is
// an error naming it too. Nothing else is an error. A device under several
// targets is reported once, under the first. Takes a few milliseconds
// (mostly inflating /proc/config.gz); not for a hot loop.
// Thread-safe: reads only.
absl::StatusOr<v1::HostFacts> CollectHostFacts(const std::vector<FactsTarget>& targets,
                                               const FactsRoots& roots = {});

// A hash of the correlation-relevant facts: it changes when the kernel, its
// config or command line, the distro, the virtualization, the CPU, or any
// device's or filesystem's facts change (an upgrade, a scheduler switched at
// run time, a remount), and not for what is not an attribute of the host:
// memory_bytes (a balloon driver moves it), boot_id (a reboot into the same
// state is not a new epoch). kernel_config counts through its SHA-256.
// Comparable only within one build of the agent (it hashes the protobuf
// encoding); cheap (no I/O).
uint64_t FactsFingerprint(const v1::HostFacts& facts);

}  // namespace fscanary::facts
