// The pure parsers behind host facts, on literal files: os-release, cpuinfo,
// meminfo, CPU lists, schedulers, /proc/devices, mountinfo; the text
// sanitiser; and the virtualization verdict.

#include <string>

#include "agent/facts/fact_text.h"
#include "agent/facts/mount_table.h"
#include "agent/facts/proc_text.h"
#include "agent/facts/virtualization.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fscanary::facts {
namespace {

using ::testing::Pair;
using ::testing::UnorderedElementsAre;

TEST(OsRelease, UnquotesAsTheShellWould) {
  EXPECT_THAT(ParseOsRelease("# comment\n"
                             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                             "ID=debian\n"
                             "VERSION_ID='12'\n"
                             "\n"
                             "NAME=\"Say \\\"hi\\\" \\$HOME \\n\"\n"
                             "garbage line\n"
                             "=no key\n"),
              UnorderedElementsAre(Pair("PRETTY_NAME", "Debian GNU/Linux 12 (bookworm)"),
                                   Pair("ID", "debian"), Pair("VERSION_ID", "12"),
                                   Pair("NAME", "Say \"hi\" $HOME \\n")));
}

TEST(CpuInfo, CountsProcessorsAndTakesTheModelName) {
  const CpuInfo info = ParseCpuInfo(
      "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"
      "model name\t: AMD EPYC 7B13\ncpu MHz\t\t: 2450.000\n\n"
      "processor\t: 1\nmodel name\t: AMD EPYC 7B13\n\n");
  EXPECT_EQ(info.count, 2u);
  EXPECT_EQ(info.model, "AMD EPYC 7B13");
}

TEST(MemInfo, MemTotalIsInKibibytes) {
  EXPECT_EQ(ParseMemTotalBytes("MemTotal:        2014556 kB\nMemFree:  1000 kB\n"),
            2014556ull * 1024);
  EXPECT_EQ(ParseMemTotalBytes("MemFree:  1000 kB\n"), 0u);
}

TEST(CpuList, CountsRangesAndSingles) {
  EXPECT_EQ(CountCpuList("0-3,8,10-11\n"), 7u);
  EXPECT_EQ(CountCpuList("0\n"), 1u);
  EXPECT_EQ(CountCpuList("3-1"), 0u);
  EXPECT_EQ(CountCpuList("x"), 0u);
}

TEST(Scheduler, ActiveIsTheBracketedOneOrTheOnlyOne) {
  EXPECT_EQ(ActiveScheduler("none [mq-deadline] kyber bfq \n"), "mq-deadline");
  EXPECT_EQ(ActiveScheduler("[none] mq-deadline\n"), "none");
  EXPECT_EQ(ActiveScheduler("noop deadline [cfq] \n"), "cfq");
  EXPECT_EQ(ActiveScheduler("none\n"), "none");
  EXPECT_EQ(ActiveScheduler(""), "");
}

TEST(ProcDevices, NamesABlockMajorNotACharacterOne) {
  constexpr char kDevices[] =
      "Character devices:\n  1 mem\n  7 vcs\n\nBlock devices:\n  7 loop\n  8 sd\n253 "
      "device-mapper\n";
  EXPECT_EQ(BlockMajorName(kDevices, 7), "loop");
  EXPECT_EQ(BlockMajorName(kDevices, 253), "device-mapper");
  EXPECT_EQ(BlockMajorName(kDevices, 1), "");
}

TEST(DeviceNumber, ParsesMajorColonMinor) {
  EXPECT_EQ(ParseDeviceNumber("254:16\n"), (sysfs::DeviceNumber{254, 16}));
  EXPECT_FALSE(ParseDeviceNumber("254").has_value());
  EXPECT_FALSE(ParseDeviceNumber("a:b").has_value());
}

constexpr char kMountInfo[] =
    "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n"
    "30 22 254:16 / /srv/my\\040data rw,noatime shared:5 master:1 - xfs /dev/vdb rw,attr2,inode64\n"
    "31 22 0:40 / /tmp rw,nosuid,nodev - tmpfs tmpfs rw,size=1024k\n"
    "malformed line\n"
    "32 22 254:32 / /srv rw - ext4 /dev/vdc rw\n"
    "33 22 254:48 / /srv rw - ext4 /dev/vdd rw\n";

TEST(MountTable, KeepsOptionsAndUndoesEscapes) {
  const std::vector<MountEntry> mounts = ParseMountTable(kMountInfo);
  ASSERT_EQ(mounts.size(), 5u);  // the malformed line skipped
  EXPECT_EQ(mounts[1].number, (sysfs::DeviceNumber{254, 16}));
  EXPECT_EQ(mounts[1].mount_point, "/srv/my data");
  EXPECT_EQ(mounts[1].mount_options, "rw,noatime");
  EXPECT_EQ(mounts[1].fs_type, "xfs");
  EXPECT_EQ(mounts[1].source, "/dev/vdb");
  EXPECT_EQ(mounts[1].super_options, "rw,attr2,inode64");
}

TEST(MountTable, PathIsOnTheLongestMatchingMountPoint) {
  const std::vector<MountEntry> mounts = ParseMountTable(kMountInfo);
  EXPECT_EQ(MountOf(mounts, "/srv/my data/x", {254, 16})->source, "/dev/vdb");
  EXPECT_EQ(MountOf(mounts, "/srv/my datax", {254, 48})->source, "/dev/vdd");
  EXPECT_EQ(MountOf(mounts, "/etc/passwd", {254, 1})->source, "/dev/vda1");
  EXPECT_FALSE(MountOf(mounts, "relative", {254, 1}).has_value());
}

TEST(MountTable, LaterMountOnTheSamePointHidesTheEarlierOne) {
  const std::vector<MountEntry> mounts = ParseMountTable(kMountInfo);
  EXPECT_EQ(MountOf(mounts, "/srv/file", {0, 99})->source, "/dev/vdd");
}

TEST(MountTable, TheMountWithTheFilesOwnDeviceWins) {
  // A btrfs subvolume or a file opened under a mount point before something
  // was mounted over it: the entry whose st_dev matches is the filesystem.
  const std::vector<MountEntry> mounts = ParseMountTable(kMountInfo);
  EXPECT_EQ(MountOf(mounts, "/srv/file", {254, 32})->source, "/dev/vdc");
}

TEST(FactText, TrimsAndReplacesInvalidUtf8) {
  EXPECT_EQ(FactText("  QEMU HARDDISK   \n"), "QEMU HARDDISK");
  EXPECT_EQ(FactText("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(FactText("bad\xff\xfe byte"), "bad?? byte");
  EXPECT_EQ(FactText("cut \xe2\x82"), "cut ??");
  EXPECT_EQ(FactText(std::string("nul\0byte", 8)), "nul?byte");
}

TEST(FactText, CutsLongTextOnACharacterBoundary) {
  std::string long_text(kMaxFactBytes - 1, 'a');
  long_text += "\xc3\xa9tail";
  const std::string cut = FactText(long_text);
  EXPECT_EQ(cut, std::string(kMaxFactBytes - 1, 'a'));
}

TEST(Virtualization, CpuidVendorNamesTheHypervisor) {
  EXPECT_EQ(ClassifyVirtualization({.cpuid_probed = true,
                                    .cpuid_hypervisor_bit = true,
                                    .cpuid_vendor = "KVMKVMKVM",
                                    .dmi_sys_vendor = "Amazon EC2"}),
            "kvm");
  EXPECT_EQ(
      ClassifyVirtualization(
          {.cpuid_probed = true, .cpuid_hypervisor_bit = true, .cpuid_vendor = "VMwareVMware"}),
      "vmware");
  EXPECT_EQ(ClassifyVirtualization({.cpuid_probed = true,
                                    .cpuid_hypervisor_bit = true,
                                    .cpuid_vendor = "Microsoft Hv",
                                    .dmi_sys_vendor = "Microsoft Corporation",
                                    .dmi_product_name = "Virtual Machine"}),
            "hyperv");
}

TEST(Virtualization, KvmWithHyperVEnlightenmentsIsKvm) {
  EXPECT_EQ(ClassifyVirtualization({.cpuid_probed = true,
                                    .cpuid_hypervisor_bit = true,
                                    .cpuid_vendor = "Microsoft Hv",
                                    .dmi_sys_vendor = "QEMU"}),
            "kvm");
}

TEST(Virtualization, WithoutCpuidDmiAndXenDecide) {
  EXPECT_EQ(ClassifyVirtualization({.hypervisor_type = "xen"}), "xen");
  EXPECT_EQ(ClassifyVirtualization(
                {.dmi_sys_vendor = "Microsoft Corporation", .dmi_product_name = "Virtual Machine"}),
            "hyperv");
  EXPECT_EQ(ClassifyVirtualization({.dmi_sys_vendor = "innotek GmbH"}), "virtualbox");
  EXPECT_EQ(ClassifyVirtualization({.dmi_sys_vendor = "Dell Inc."}), "none");
}

TEST(Virtualization, BareMetalIsNoneAndNoEvidenceIsUnknown) {
  EXPECT_EQ(ClassifyVirtualization({.cpuid_probed = true, .dmi_sys_vendor = "Dell Inc."}), "none");
  EXPECT_EQ(ClassifyVirtualization({.cpuid_probed = true}), "none");
  EXPECT_EQ(ClassifyVirtualization({}), "unknown");
  EXPECT_EQ(
      ClassifyVirtualization(
          {.cpuid_probed = true, .cpuid_hypervisor_bit = true, .cpuid_vendor = "NewHyperVsr"}),
      "other");
}

}  // namespace
}  // namespace fscanary::facts
