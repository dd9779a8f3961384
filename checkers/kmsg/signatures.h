#pragma once
// The kernel's filesystem and block-layer error lines fscanary reports, as one
// data table (signatures.cc), and the matcher that maps a kmsg record onto it.
// Pure and thread-safe: the table is constant and its regexes are compiled once.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "checkers/kmsg/kmsg_record.h"

namespace fscanary::kmsg {

// Syslog scale, as the kernel and Finding.severity use it: lower is worse.
inline constexpr int kSeverityAlert = 1;
inline constexpr int kSeverityCritical = 2;
inline constexpr int kSeverityError = 3;
inline constexpr int kSeverityWarning = 4;

// How the captured device name becomes the device reported.
enum class DeviceForm {
  kAsPrinted,
  // jbd2 names a journal "<device>-<journal inode>" ("vda1-8"): report vda1.
  kJournal,
};

struct Signature {
  // Stable identifier sent to the collector, e.g. "ext4_error".
  std::string_view name;
  // "ext4", "jbd2", "xfs", "btrfs", "block", "scsi", "virtio", "nvme", "dm"
  // (device-mapper), "md" (software RAID), "ata" (libata) or "fs".
  std::string_view subsystem;
  // A literal every matching line contains; lines without it skip the regex.
  std::string_view needle;
  // ECMAScript regex searched anywhere in the message (user-space test lines
  // may carry a prefix). The last capture group that took part in the match
  // names the device; a pattern without groups reports no device.
  std::string_view pattern;
  // Our judgement of the line, on the syslog scale; the kernel's own level
  // varies across versions and is reported beside it.
  int severity = kSeverityError;
  DeviceForm device_form = DeviceForm::kAsPrinted;
};

// The table, in match order: the first signature whose pattern matches wins,
// so specific signatures come before the general ones of the same subsystem.
std::span<const Signature> Signatures();

// Messages longer than this are cut (kernel lines stay under 1 KiB).
inline constexpr size_t kMaxMessageBytes = 2048;

// A kernel log line that matched a signature.
struct KernelEvent {
  std::string signature;
  std::string subsystem;
  // "vda1", "sdb", "virtio1", "2:0:0:0" (SCSI address when no disk name is
  // printed); empty when the line names none.
  std::string device;
  // The line as printed, safe to carry as text (PrintableMessage): control
  // bytes and bytes that are not UTF-8 appear as \xNN.
  std::string message;
  int severity = kSeverityError;
  // The level and facility of the record (facility 1, user, for lines written
  // to /dev/kmsg by a process).
  int kernel_level = 0;
  int facility = 0;
  uint64_t sequence = 0;
  // Kernel clock, microseconds since boot.
  uint64_t timestamp_usec = 0;
  // Lines of the same signature and device that the rate limiter withheld
  // since the previous event reported for them (set by KernelLogWatcher).
  uint64_t suppressed_before = 0;
};

// The event for `record` if its message matches a signature.
std::optional<KernelEvent> Match(const KmsgRecord& record);

// `bytes` as valid UTF-8 text: control characters and bytes that do not form
// UTF-8 become \xNN, and the result is cut at kMaxMessageBytes.
std::string PrintableMessage(std::string_view bytes);

}  // namespace fscanary::kmsg
