#include "checkers/kmsg/signatures.h"

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/checkers/kmsg/signature_examples.h"

namespace fscanary::kmsg {
namespace {

const Signature* Find(std::string_view name) {
  for (const Signature& signature : Signatures()) {
    if (signature.name == name) return &signature;
  }
  return nullptr;
}

KmsgRecord KernelRecord(std::string message) {
  return KmsgRecord{.facility = kFacilityKernel,
                    .level = 3,
                    .sequence = 77,
                    .timestamp_usec = 123456,
                    .message = std::move(message)};
}

class SignatureLine : public ::testing::TestWithParam<SignatureExample> {};

TEST_P(SignatureLine, MatchesItsSignatureAndNamesTheDevice) {
  const SignatureExample& example = GetParam();
  const Signature* signature = Find(example.signature);
  ASSERT_NE(signature, nullptr) << "no signature named " << example.signature;
  const std::optional<KernelEvent> event = Match(KernelRecord(example.line));
  ASSERT_TRUE(event.has_value()) << example.line;
  EXPECT_EQ(event->signature, example.signature) << example.line;
  EXPECT_EQ(event->device, example.device) << example.line;
  EXPECT_EQ(event->subsystem, signature->subsystem);
  EXPECT_EQ(event->severity, signature->severity);
  EXPECT_EQ(event->message, example.line);
}

std::string ExampleName(const ::testing::TestParamInfo<SignatureExample>& info) {
  return std::string(info.param.signature) + "_" + std::to_string(info.index);
}

INSTANTIATE_TEST_SUITE_P(RealKernelLines, SignatureLine, ::testing::ValuesIn(kSignatureExamples),
                         ExampleName);

TEST(Signatures, EverySignatureHasARealExample) {
  for (const Signature& signature : Signatures()) {
    int examples = 0;
    for (const SignatureExample& example : kSignatureExamples)
      examples += example.signature == signature.name;
    EXPECT_GE(examples, 1) << signature.name << " has no example line";
  }
}

TEST(Signatures, NamesAreUniqueAndSubsystemsKnown) {
  const std::set<std::string_view> subsystems = {"ext4",   "jbd2", "xfs", "btrfs", "block", "scsi",
                                                 "virtio", "nvme", "dm",  "md",    "ata",   "fs"};
  std::set<std::string_view> names;
  for (const Signature& signature : Signatures()) {
    EXPECT_TRUE(names.insert(signature.name).second) << "duplicate " << signature.name;
    EXPECT_TRUE(subsystems.contains(signature.subsystem)) << signature.name;
    EXPECT_FALSE(signature.needle.empty()) << signature.name;
    EXPECT_GE(signature.severity, kSeverityAlert) << signature.name;
    EXPECT_LE(signature.severity, kSeverityWarning) << signature.name;
  }
}

class OrdinaryLine : public ::testing::TestWithParam<const char*> {};

TEST_P(OrdinaryLine, IsNotReported) {
  const std::optional<KernelEvent> event = Match(KernelRecord(GetParam()));
  EXPECT_FALSE(event.has_value()) << GetParam() << " matched " << event->signature;
}

INSTANTIATE_TEST_SUITE_P(
    BootAndMountNoise, OrdinaryLine,
    ::testing::Values(
        "EXT4-fs (vda1): mounted filesystem with ordered data mode. Opts: (null)",
        "EXT4-fs (vda1): mounted filesystem 3e4f1c2a-9d7b-4c55-8e0f-6a1b2c3d4e5f r/w with ordered "
        "data mode. Quota mode: none.",
        "EXT4-fs (sda1): re-mounted 3e4f1c2a-9d7b-4c55-8e0f-6a1b2c3d4e5f r/w. Quota mode: none.",
        "EXT4-fs (dm-2): recovery complete",
        "EXT4-fs (sda1): warning: mounting fs with errors, running e2fsck is recommended",
        "usb 1-1: new high-speed USB device number 2 using ehci-pci",
        "XFS (vdb): Mounting V5 Filesystem 9d2b2d4e-2c01-4306-9a6c-af2e7207a23f",
        "XFS (sda2): Ending clean mount", "XFS (vdb): Unmounting Filesystem",
        // At mount btrfs reports its historical counters at level info.
        "BTRFS info (device sdb): bdev /dev/sdb errs: wr 0, rd 0, flush 0, corrupt 1, gen 0",
        "BTRFS info (device vdc): disk space caching is enabled",
        "BTRFS info (device sda state C): scrub: started on devid 1",
        "sd 2:0:0:0: [sdb] Attached SCSI disk",
        "sd 2:0:0:0: [sdb] 20971520 512-byte logical blocks: (10.7 GB/10.0 GiB)",
        "virtio_blk virtio1: [vda] 41943040 512-byte logical blocks (21.5 GB/20.0 GiB)",
        "virtio_blk virtio0: 1/0/0 default/read/poll queues",
        // Discard or write-zeroes the device does not support: not about data.
        "blk_update_request: operation not supported error, dev loop0, sector 0 op "
        "0x9:(WRITE_ZEROES) flags 0x800 phys_seg 0 prio class 0",
        "Adding 2097148k swap on /dev/vda2.  Priority:-2 extents:1 across:2097148k FS",
        "loop0: detected capacity change from 0 to 2048",
        "nvme nvme0: 2/0/0 default/read/poll queues",
        // Storage drivers' routine lines, beside the error lines they also print.
        "nvme nvme0: Abort status: 0x0", "nvme nvme0: Shutdown timeout set to 10 seconds",
        "md/raid1:md0: active with 2 out of 2 mirrors",
        "md/raid:md0: device sdb1 operational as raid disk 0",
        "ata1.00: error: { ABRT }",  // a refused command, not about data
        "ata1: SATA link up 6.0 Gbps (SStatus 133 SControl 300)",
        "ata1.00: configured for UDMA/133", ""));

TEST(Match, FindsASignatureAfterAPrefix) {
  // Lines injected into /dev/kmsg by tests carry a token in front.
  const auto event =
      Match(KernelRecord("fscanary-test-1f2e EXT4-fs error (device loop7): ext4_lookup:1706: inode "
                         "#2: comm ls: bad extra_isize 4 (inode size 256)"));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->signature, "ext4_error");
  EXPECT_EQ(event->device, "loop7");
}

TEST(Match, EventCarriesTheRecordsPosition) {
  KmsgRecord record =
      KernelRecord("Buffer I/O error on dev sdb1, logical block 0, async page read");
  record.facility = kFacilityUser;
  record.level = 6;
  const auto event = Match(record);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->sequence, 77u);
  EXPECT_EQ(event->timestamp_usec, 123456u);
  EXPECT_EQ(event->kernel_level, 6);
  EXPECT_EQ(event->facility, kFacilityUser);
  EXPECT_EQ(event->severity, kSeverityError);
  EXPECT_EQ(event->suppressed_before, 0u);
}

TEST(Match, TenThousandLinesTakeLittleTime) {
  // The watcher must keep up with a storm: most lines fail the literal test.
  std::vector<KmsgRecord> records;
  for (int i = 0; i < 5000; ++i) {
    records.push_back(KernelRecord("I/O error, dev vda, sector " + std::to_string(i) +
                                   " op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2"));
    records.push_back(KernelRecord("audit: type=1400 audit(1700000000.123:" + std::to_string(i) +
                                   "): apparmor=\"STATUS\" operation=\"profile_load\""));
  }
  const auto start = std::chrono::steady_clock::now();
  size_t matched = 0;
  for (const KmsgRecord& record : records) matched += Match(record).has_value();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(matched, 5000u);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(PrintableMessage, KeepsTextAndEscapesTheRest) {
  EXPECT_EQ(PrintableMessage("plain text"), "plain text");
  EXPECT_EQ(PrintableMessage("tab\there"), "tab\\x09here");
  EXPECT_EQ(PrintableMessage("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");
  EXPECT_EQ(PrintableMessage("bad \xff byte"), "bad \\xff byte");
  EXPECT_EQ(PrintableMessage("overlong \xc0\xaf"), "overlong \\xc0\\xaf");
  EXPECT_EQ(PrintableMessage("cut \xe6\x97"), "cut \\xe6\\x97");
  EXPECT_EQ(PrintableMessage("surrogate \xed\xa0\x80"), "surrogate \\xed\\xa0\\x80");
  EXPECT_EQ(PrintableMessage(std::string("nul\0byte", 8)), "nul\\x00byte");
}

TEST(PrintableMessage, IsCutAtTheLimitBetweenCharacters) {
  const std::string ascii(kMaxMessageBytes + 100, 'a');
  EXPECT_EQ(PrintableMessage(ascii).size(), kMaxMessageBytes);
  // An escape is never split: 2047 'a' then a byte escaped as 4 characters.
  const std::string escaped = std::string(kMaxMessageBytes - 1, 'a') + "\x01";
  EXPECT_EQ(PrintableMessage(escaped), std::string(kMaxMessageBytes - 1, 'a'));
}

}  // namespace
}  // namespace fscanary::kmsg
