#include "checkers/kmsg/signatures.h"

#include <algorithm>
#include <iterator>
#include <regex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/utf8.h"

namespace fscanary::kmsg {
namespace {

// Prefixes shared by several patterns (adjacent literals concatenate).
// btrfs: "BTRFS error (device sdb): ", "BTRFS: error (device sda state EA) in"
// (recent kernels add the filesystem's state letters).
#define FSCANARY_BTRFS_DEVICE R"(BTRFS:? \w+ \(device ([^)\s]+)(?: state \w+)?\))"
// SCSI: "sd 2:0:0:0: [sdb] tag#0 ", "sd 0:0:0:0: [sda]  " (older, two spaces),
// "scsi 0:3:0:0: tag#164 ", "sd 9:0:0:0: ". The disk name, when printed, is the
// device; otherwise the H:C:T:L address is.
#define FSCANARY_SCSI_DEVICE R"((?:sd|scsi) (\d+:\d+:\d+:\d+): (?:\[([\w-]+)\] +)?(?:tag#\d+ +)?)"

// Formats were read from the kernel sources that print them (fs/ext4/super.c,
// fs/jbd2, fs/xfs/xfs_message.c and xfs_fsops.c, fs/btrfs, block/blk-core.c and
// blk-mq.c across the print_req_error renames, fs/buffer.c, drivers/scsi,
// drivers/virtio/virtio_ring.c, drivers/nvme/host, drivers/md, drivers/ata);
// tests/checkers/kmsg holds a real line for each.
constexpr Signature kSignatures[] = {
    // ext4. Checksum failures (metadata_csum) first: the strongest evidence
    // that what the disk returned is not what ext4 wrote.
    {.name = "ext4_metadata_checksum",
     .subsystem = "ext4",
     .needle = "EXT4-fs ",
     .pattern =
         R"(EXT4-fs (?:error \(device ([^)\s]+)\).*(?:[Cc]hecksum|csum))"
         R"(|\(([^)\s]+)\): .*(?:invalid superblock checksum|Checksum for group \d+ failed)))",
     .severity = kSeverityCritical},
    {.name = "ext4_remount_read_only",
     .subsystem = "ext4",
     .needle = "Remounting filesystem read-only",
     .pattern = R"(EXT4-fs \(([^)\s]+)\): Remounting filesystem read-only)",
     .severity = kSeverityCritical},
    {.name = "ext4_error",
     .subsystem = "ext4",
     .needle = "EXT4-fs error (device ",
     .pattern = R"(EXT4-fs error \(device ([^)\s]+)\))",
     .severity = kSeverityCritical},
    {.name = "ext4_io_warning",
     .subsystem = "ext4",
     .needle = "EXT4-fs warning (device ",
     .pattern = R"(EXT4-fs warning \(device ([^)\s]+)\): .*I/O error)",
     .severity = kSeverityError},
    {.name = "ext4_data_loss",
     .subsystem = "ext4",
     .needle = "EXT4-fs (",
     .pattern = R"(EXT4-fs \(([^)\s]+)\): .*(?:Data will be lost|potential data loss)"
                R"(|I/O error while writing superblock|previous I/O error to superblock))",
     .severity = kSeverityCritical},
    // jbd2, the ext4 journal.
    {.name = "jbd2_data_flush_error",
     .subsystem = "jbd2",
     .needle = "JBD2: Detected IO errors ",
     .pattern = R"(JBD2: Detected IO errors (?:-?\d+ )?while flushing file data on (\S+))",
     .severity = kSeverityError,
     .device_form = DeviceForm::kJournal},
    {.name = "jbd2_journal_aborted",
     .subsystem = "jbd2",
     .needle = "Aborting journal on device ",
     .pattern = R"(Aborting journal on device (\S+))",
     .severity = kSeverityCritical,
     .device_form = DeviceForm::kJournal},
    {.name = "jbd2_superblock_error",
     .subsystem = "jbd2",
     .needle = " detected when updating journal superblock for ",
     .pattern =
         R"(JBD2: (?:Error -?\d+|I/O error) detected when updating journal superblock for (\S+))",
     .severity = kSeverityError,
     .device_form = DeviceForm::kJournal},
    {.name = "jbd2_journal_checksum",
     .subsystem = "jbd2",
     .needle = "JBD2: Invalid checksum recovering ",
     .pattern = R"(JBD2: Invalid checksum recovering (?:data )?block \d+)",
     .severity = kSeverityCritical},
    // XFS: "XFS (<device>): ..." from xfs_message.c.
    {.name = "xfs_metadata_corruption",
     .subsystem = "xfs",
     .needle = "XFS (",
     .pattern = R"(XFS \(([^)\s]+)\): Metadata (?:corruption|CRC error) detected)",
     .severity = kSeverityCritical},
    {.name = "xfs_corruption",
     .subsystem = "xfs",
     .needle = "XFS (",
     .pattern = R"(XFS \(([^)\s]+)\): (?:Corruption detected\. |Internal error ))",
     .severity = kSeverityCritical},
    {.name = "xfs_shutdown",
     .subsystem = "xfs",
     .needle = "XFS (",
     .pattern =
         R"(XFS \(([^)\s]+)\): .*(?:Shutting down filesystem|Filesystem has been shut down))",
     .severity = kSeverityAlert},
    {.name = "xfs_io_error",
     .subsystem = "xfs",
     .needle = "XFS (",
     .pattern = R"(XFS \(([^)\s]+)\): (?:metadata|log) I/O error)",
     .severity = kSeverityError},
    {.name = "xfs_log_recovery_failed",
     .subsystem = "xfs",
     .needle = "XFS (",
     .pattern = R"(XFS \(([^)\s]+)\): log mount/recovery failed)",
     .severity = kSeverityCritical},
    // btrfs.
    {.name = "btrfs_data_checksum",
     .subsystem = "btrfs",
     .needle = "csum failed root ",
     .pattern = FSCANARY_BTRFS_DEVICE R"(: csum failed root )",
     .severity = kSeverityCritical},
    {.name = "btrfs_tree_checksum",
     .subsystem = "btrfs",
     .needle = "checksum verify failed",
     .pattern = FSCANARY_BTRFS_DEVICE R"(: checksum verify failed)",
     .severity = kSeverityCritical},
    // The per-device error counters; at mount btrfs prints them at level info,
    // which is history, not news, so only error/warning/critical lines count.
    {.name = "btrfs_device_errors",
     .subsystem = "btrfs",
     .needle = " errs: wr ",
     .pattern = R"(BTRFS:? (?:error|warning|critical) \(device [^)]+\): bdev /dev/(\S+) errs: wr )",
     .severity = kSeverityError},
    {.name = "btrfs_transid_mismatch",
     .subsystem = "btrfs",
     .needle = "parent transid verify failed",
     .pattern = FSCANARY_BTRFS_DEVICE R"(: parent transid verify failed)",
     .severity = kSeverityCritical},
    {.name = "btrfs_corrupt_tree",
     .subsystem = "btrfs",
     .needle = "corrupt",
     .pattern =
         FSCANARY_BTRFS_DEVICE R"(: .*(?:corrupt (?:leaf|node)|tree block corruption detected))",
     .severity = kSeverityCritical},
    {.name = "btrfs_scrub_error",
     .subsystem = "btrfs",
     .needle = " at logical ",
     .pattern = FSCANARY_BTRFS_DEVICE
     R"(: (?:unable to fixup \(regular\) error|fixed up error|i/o error|checksum error) at logical )",
     .severity = kSeverityError},
    {.name = "btrfs_transaction_aborted",
     .subsystem = "btrfs",
     .needle = "errno=-",
     .pattern = FSCANARY_BTRFS_DEVICE R"( in \S+:\d+: errno=-\d+)",
     .severity = kSeverityCritical},
    {.name = "btrfs_forced_read_only",
     .subsystem = "btrfs",
     .needle = "forced readonly",
     .pattern = FSCANARY_BTRFS_DEVICE R"(: forced readonly)",
     .severity = kSeverityCritical},
    // The block layer: "<status> error, dev <disk>, sector <n>", led by
    // "end_request: ", "blk_update_request: ", "print_req_error: " or nothing,
    // depending on the kernel's age.
    {.name = "block_medium_error",
     .subsystem = "block",
     .needle = "critical medium error, dev ",
     .pattern = R"(critical medium error, dev ([^\s,]+))",
     .severity = kSeverityCritical},
    {.name = "block_io_error",
     .subsystem = "block",
     .needle = "I/O error, dev ",
     .pattern = R"(I/O error, dev ([^\s,]+), sector)",
     .severity = kSeverityError},
    // "operation not supported" (discard, write-zeroes) and "kernel resource"
    // are not about the data and are left out.
    {.name = "block_request_error",
     .subsystem = "block",
     .needle = " error, dev ",
     .pattern = R"((?:critical target|critical nexus|critical space allocation)"
                R"(|recoverable transport|protection|timeout) error, dev ([^\s,]+), sector)",
     .severity = kSeverityError},
    {.name = "buffer_io_error",
     .subsystem = "block",
     .needle = "I/O error on ",
     .pattern = R"(Buffer I/O error on dev(?:ice)? ([^\s,]+), logical block)"
                R"(|lost page write due to I/O error on ([^\s,]+))",
     .severity = kSeverityError},
    // SCSI disks.
    {.name = "scsi_command_failed",
     .subsystem = "scsi",
     .needle = "FAILED Result: ",
     .pattern = FSCANARY_SCSI_DEVICE R"(FAILED Result: )",
     .severity = kSeverityError},
    {.name = "scsi_medium_error",
     .subsystem = "scsi",
     .needle = "Sense Key",
     .pattern = FSCANARY_SCSI_DEVICE R"(Sense Key ?: (?:Medium Error|Hardware Error))",
     .severity = kSeverityCritical},
    {.name = "scsi_timeout",
     .subsystem = "scsi",
     .needle = "timing out command",
     .pattern = FSCANARY_SCSI_DEVICE R"(timing out command, waited \d+s)",
     .severity = kSeverityError},
    {.name = "scsi_device_offline",
     .subsystem = "scsi",
     .needle = "rejecting I/O to offline device",
     .pattern = FSCANARY_SCSI_DEVICE R"(rejecting I/O to offline device)",
     .severity = kSeverityError},
    // virtio-blk. A broken ring (BAD_RING in virtio_ring.c: "<vq>:<what>")
    // means the device and the driver disagree about which request completed.
    {.name = "virtio_ring_corruption",
     .subsystem = "virtio",
     .needle = "virtio_blk virtio",
     .pattern = R"(virtio_blk (virtio\d+): \S+:(?:id \d+ is not a head!|id \d+ out of range)"
                R"(|used len \d+ is larger than))",
     .severity = kSeverityCritical},
    {.name = "virtio_blk_error",
     .subsystem = "virtio",
     .needle = "virtio_blk virtio",
     .pattern = R"(virtio_blk (virtio\d+): .*(?:[Ee]rror|[Ff]ail))",
     .severity = kSeverityError},
    // NVMe (drivers/nvme/host). A command the controller did not answer in
    // time (pci.c nvme_timeout: "I/O %d QID %d timeout, aborting" and "...,
    // reset controller"; later kernels print the opcode and tag in between).
    {.name = "nvme_timeout",
     .subsystem = "nvme",
     .needle = " timeout, ",
     .pattern = R"(nvme (nvme\d+): I/O .*QID \d+ timeout, (?:aborting|reset controller))",
     .severity = kSeverityError},
    // A controller that stopped answering altogether (pci.c nvme_warn_reset:
    // "controller is down; will reset: CSTS=0x%x, PCI_STATUS=0x%hx").
    {.name = "nvme_controller_reset",
     .subsystem = "nvme",
     .needle = "controller is down; will reset",
     .pattern = R"(nvme (nvme\d+): controller is down; will reset)",
     .severity = kSeverityError},
    // A command that completed with an error status (core.c nvme_log_error,
    // since 5.18: "%s: %s(0x%x) @ LBA %llu, %u blocks, %s (sct 0x%x / sc 0x%x)
    // %s%s", the namespace's disk first).
    {.name = "nvme_io_error",
     .subsystem = "nvme",
     .needle = " @ LBA ",
     .pattern = R"((nvme\d+n\d+): .*\(0x[0-9a-f]+\) @ LBA \d+, \d+ blocks, .*\(sct 0x)",
     .severity = kSeverityError},
    // device-mapper targets that verify data: a mismatch is proof that what
    // the disk returned is not what was written. DMERR prefixes
    // "device-mapper: <target>: ".
    // dm-integrity.c: "%pg: Checksum failed at sector 0x%llx" (older: "%s:").
    {.name = "dm_integrity_checksum",
     .subsystem = "dm",
     .needle = "Checksum failed at sector",
     .pattern = R"(device-mapper: integrity: (\S+): Checksum failed at sector 0x[0-9a-f]+)",
     .severity = kSeverityCritical},
    // dm-verity-target.c verity_handle_err: "%s: %s block %llu is corrupted"
    // (the data device as major:minor; "data" or "metadata").
    {.name = "dm_verity_corruption",
     .subsystem = "dm",
     .needle = "device-mapper: verity: ",
     .pattern = R"(device-mapper: verity: (\S+): (?:data|metadata) block \d+ is corrupted)",
     .severity = kSeverityCritical},
    // dm-crypt.c crypt_convert_block_aead: "%pg: INTEGRITY AEAD ERROR, sector
    // %llu" (authenticated encryption; before 4.14 without the device).
    {.name = "dm_crypt_integrity_error",
     .subsystem = "dm",
     .needle = "INTEGRITY AEAD ERROR",
     .pattern = R"(device-mapper: crypt: (?:(\S+): )?INTEGRITY AEAD ERROR, sector \d+)",
     .severity = kSeverityCritical},
    // md RAID (drivers/md). raid5.c raid5_end_read_request: "md/raid:%s: read
    // error not correctable (sector %llu on %pg)." -- data the array could not
    // rebuild. The device reported is the member disk.
    {.name = "md_read_error_not_correctable",
     .subsystem = "md",
     .needle = "read error not correctable",
     .pattern = R"(md/raid\d*:\w+: read error not correctable \(sector \d+ on ([^\s)]+)\))",
     .severity = kSeverityCritical},
    // raid1.c/raid10.c/raid5.c *_error: "md/raid1:%s: Disk failure on %pg,
    // disabling device." (md/raid10:, md/raid: alike): redundancy is gone.
    {.name = "md_disk_failure",
     .subsystem = "md",
     .needle = "Disk failure on ",
     .pattern = R"(md/raid\d*:\w+: Disk failure on ([^\s,]+), disabling device)",
     .severity = kSeverityError},
    // libata (drivers/ata/libata-eh.c ata_eh_link_report; ata_dev_err
    // prefixes "ata<port>.<device>: "). The device's error register: UNC an
    // uncorrectable media error, IDNF/AMNF a sector not found, ICRC a CRC
    // error on the link ("error: { %s%s%s%s%s}"); ABRT alone is a refused
    // command, not about data, and is left out.
    {.name = "ata_media_error",
     .subsystem = "ata",
     .needle = "error: { ",
     .pattern = R"((ata\d+\.\d+): error: \{ [^}]*(?:UNC|IDNF|AMNF|ICRC))",
     .severity = kSeverityCritical},
    // "failed command: %s": which command the error above belongs to.
    {.name = "ata_command_failed",
     .subsystem = "ata",
     .needle = "failed command: ",
     .pattern = R"((ata\d+\.\d+): failed command: )",
     .severity = kSeverityError},
    // Any other filesystem that gives up writing after an error.
    {.name = "fs_remount_read_only",
     .subsystem = "fs",
     .needle = "read-only",
     .pattern = R"([A-Z0-9]+-fs \(([^)\s]+)\): .*(?:[Rr]emounting filesystem read-only)"
                R"(|[Ff]ilesystem has been set read-only))",
     .severity = kSeverityCritical},
};

#undef FSCANARY_BTRFS_DEVICE
#undef FSCANARY_SCSI_DEVICE

const std::vector<std::regex>& CompiledPatterns() {
  // Compiled once, on first use; the patterns are constants, and a bad one is
  // caught by the signature tests, not at a customer's site.
  static const std::vector<std::regex>* const compiled = [] {
    auto* regexes = new std::vector<std::regex>();
    regexes->reserve(std::size(kSignatures));
    for (const Signature& signature : kSignatures) {
      regexes->emplace_back(signature.pattern.begin(), signature.pattern.end(),
                            std::regex::ECMAScript | std::regex::optimize);
    }
    return regexes;
  }();
  return *compiled;
}

std::string DeviceFrom(const std::cmatch& match, DeviceForm form) {
  std::string device;
  for (size_t group = match.size(); group-- > 1;) {
    if (match[group].matched) {
      device = match[group].str();
      break;
    }
  }
  // Sentence punctuation is never part of a device name ("on device vda1-8.").
  while (!device.empty() && (device.back() == '.' || device.back() == ',' || device.back() == ':' ||
                             device.back() == ';')) {
    device.pop_back();
  }
  if (form == DeviceForm::kJournal) {
    const size_t dash = device.rfind('-');
    if (dash != std::string::npos && dash + 1 < device.size() &&
        device.find_first_not_of("0123456789", dash + 1) == std::string::npos) {
      device.resize(dash);
    }
  }
  return device;
}

}  // namespace

std::span<const Signature> Signatures() { return kSignatures; }

std::string PrintableMessage(std::string_view bytes) {
  std::string out;
  out.reserve(std::min(bytes.size(), kMaxMessageBytes));
  size_t i = 0;
  while (i < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[i]);
    std::string_view unit;
    std::string escaped;
    if (byte >= 0x20 && byte < 0x7f) {
      unit = bytes.substr(i, 1);
    } else if (const size_t length = byte >= 0x80 ? Utf8SequenceLength(bytes, i) : 0; length > 0) {
      unit = bytes.substr(i, length);
    } else {
      escaped = absl::StrCat("\\x", absl::Hex(byte, absl::kZeroPad2));
      unit = escaped;
    }
    if (out.size() + unit.size() > kMaxMessageBytes) break;
    out.append(unit);
    i += escaped.empty() ? unit.size() : 1;
  }
  return out;
}

std::optional<KernelEvent> Match(const KmsgRecord& record) {
  const std::string_view message = std::string_view(record.message).substr(0, kMaxMessageBytes);
  const std::vector<std::regex>& patterns = CompiledPatterns();
  for (size_t i = 0; i < std::size(kSignatures); ++i) {
    const Signature& signature = kSignatures[i];
    if (message.find(signature.needle) == std::string_view::npos) continue;
    std::cmatch match;
    if (!std::regex_search(message.data(), message.data() + message.size(), match, patterns[i])) {
      continue;
    }
    return KernelEvent{.signature = std::string(signature.name),
                       .subsystem = std::string(signature.subsystem),
                       .device = DeviceFrom(match, signature.device_form),
                       .message = PrintableMessage(record.message),
                       .severity = signature.severity,
                       .kernel_level = record.level,
                       .facility = record.facility,
                       .sequence = record.sequence,
                       .timestamp_usec = record.timestamp_usec};
  }
  return std::nullopt;
}

}  // namespace fscanary::kmsg
