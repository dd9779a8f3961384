// CollectHostFacts on hand-built trees: host-wide facts, each target's
// filesystem and block stack, errors naming a missing target, and the
// fingerprint that decides when facts are sent again.

#include "agent/facts/host_facts.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <string>

#include "common/digest/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/facts/fake_host_tree.h"
#include "tests/agent/facts/gzip_file.h"

namespace fscanary::facts {
namespace {

using ::testing::ElementsAre;
using testing::FakeHostTree;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;

constexpr char kVirtio1[] = "/sys/devices/pci0000:00/0000:00:02.0/virtio1";
constexpr char kVirtio2[] = "/sys/devices/pci0000:00/0000:00:03.0/virtio2";

std::string NumberText(sysfs::DeviceNumber number) {
  return std::to_string(number.major) + ":" + std::to_string(number.minor);
}

// A tree with a data disk vdb (partition vdb1 holding /data, ext4) where the
// target file /data/target.img really exists: vdb1 gets the real file's
// st_dev, so the code under test finds it as it would on a real system.
struct DataDiskTree {
  FakeHostTree tree;
  sysfs::DeviceNumber vdb1;

  DataDiskTree() {
    tree.WriteFile("/data/target.img", "");
    vdb1 = testing::StDevOf(tree.root() / "data" / "target.img");
    tree.AddDisk({.name = "vdb",
                  .number = {.major = vdb1.major + 1, .minor = vdb1.minor},
                  .device = kVirtio2,
                  .driver = "virtio_blk",
                  .queue = {.scheduler = "none [mq-deadline]"}});
    tree.AddPartition("vdb", "vdb1", vdb1);
    tree.WriteFile(
        "/proc/self/mountinfo",
        "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "40 22 " +
            NumberText(vdb1) +
            " / /data rw,noatime shared:9 - ext4 /dev/vdb1 rw,discard,errors=remount-ro\n");
  }
};

TEST(CollectHostFacts, KernelDistroAndMachineFactsComeFromTheTree) {
  FakeHostTree tree;
  tree.WriteFile("/proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
  tree.WriteFile("/proc/version",
                 "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)\n");
  tree.WriteFile("/proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1 scsi_mod.use_blk_mq=1\n");
  tree.WriteFile("/proc/sys/kernel/random/boot_id", "0b6a8d0e-6b7c-4d45-9d7a-3f1a2c3b4d5e\n");
  tree.WriteFile("/proc/sys/kernel/hostname", "web-17\n");
  tree.WriteFile("/proc/config.gz",
                 testing::Gzip("CONFIG_VIRTIO_BLK=y\n# CONFIG_BFQ is not set\n"));
  tree.WriteFile("/etc/os-release",
                 "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n");
  tree.WriteFile("/proc/cpuinfo",
                 "processor\t: 0\nmodel name\t: AMD EPYC\n\n"
                 "processor\t: 1\nmodel name\t: AMD EPYC\n\n");
  tree.WriteFile("/proc/meminfo", "MemTotal:        2014556 kB\nMemFree:          100000 kB\n");
  tree.WriteFile("/sys/class/dmi/id/sys_vendor", "QEMU\n");
  tree.WriteFile("/sys/class/dmi/id/product_name", "Standard PC (Q35 + ICH9, 2009)\n");
  tree.WriteFile("/sys/module/scsi_mod/parameters/use_blk_mq", "Y\n");

  absl::StatusOr<v1::HostFacts> facts = CollectHostFacts({}, tree.roots());

  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->kernel_release(), "6.1.0-18-amd64");
  EXPECT_EQ(facts->kernel_version(),
            "Linux version 6.1.0-18-amd64 (debian-kernel@lists.debian.org)");
  EXPECT_EQ(facts->kernel_cmdline(), "BOOT_IMAGE=/vmlinuz root=/dev/vda1 scsi_mod.use_blk_mq=1");
  EXPECT_EQ(facts->boot_id(), "0b6a8d0e-6b7c-4d45-9d7a-3f1a2c3b4d5e");
  EXPECT_EQ(facts->hostname(), "web-17");
  EXPECT_EQ(facts->kernel_config_source(), "/proc/config.gz");
  EXPECT_EQ(facts->kernel_config_sha256(),
            digest::Sha256Hex("CONFIG_VIRTIO_BLK=y\n# CONFIG_BFQ is not set\n"));
  EXPECT_THAT(facts->kernel_config(), ::testing::UnorderedElementsAre(
                                          Pair("CONFIG_VIRTIO_BLK", "y"), Pair("CONFIG_BFQ", "n")));
  EXPECT_EQ(facts->distro_id(), "debian");
  EXPECT_EQ(facts->distro_version(), "12");
  EXPECT_EQ(facts->distro_pretty(), "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(facts->virtualization(), "qemu");  // no CPUID in a fake tree to say kvm
  EXPECT_EQ(facts->cpu_model(), "AMD EPYC");
  EXPECT_EQ(facts->cpu_count(), 2u);
  EXPECT_EQ(facts->memory_bytes(), 2014556ull * 1024);
  EXPECT_EQ(facts->extra().at("dmi.sys_vendor"), "QEMU");
  EXPECT_EQ(facts->extra().at("dmi.product_name"), "Standard PC (Q35 + ICH9, 2009)");
  EXPECT_EQ(facts->extra().at("scsi_mod.use_blk_mq"), "Y");
  EXPECT_FALSE(facts->extra().contains("dm_mod.use_blk_mq"));
}

TEST(CollectHostFacts, EmptyTreeGivesEmptyFactsNotAnError) {
  FakeHostTree tree;
  absl::StatusOr<v1::HostFacts> facts = CollectHostFacts({}, tree.roots());
  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_EQ(facts->kernel_release(), "");
  EXPECT_EQ(facts->kernel_config_source(), "");
  EXPECT_EQ(facts->distro_id(), "");
  EXPECT_EQ(facts->virtualization(), "unknown");
  EXPECT_EQ(facts->cpu_count(), 0u);
}

TEST(CollectHostFacts, OsReleaseFallsBackToUsrLib) {
  FakeHostTree tree;
  tree.WriteFile("/usr/lib/os-release", "ID=fedora\nVERSION_ID=40\n");
  EXPECT_EQ(CollectHostFacts({}, tree.roots())->distro_id(), "fedora");
}

TEST(CollectHostFacts, FileTargetReportsItsFilesystemAndTheStackUnderIt) {
  DataDiskTree data;

  absl::StatusOr<v1::HostFacts> facts =
      CollectHostFacts({{.name = "data", .path = "/data/target.img"}}, data.tree.roots());

  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_EQ(facts->filesystems_size(), 1);
  const v1::FilesystemFacts& fs = facts->filesystems(0);
  EXPECT_EQ(fs.mount_point(), "/data");
  EXPECT_EQ(fs.fs_type(), "ext4");
  EXPECT_EQ(fs.source(), "/dev/vdb1");
  EXPECT_EQ(fs.mount_options(), "rw,noatime");
  EXPECT_EQ(fs.super_options(), "rw,discard,errors=remount-ro");
  EXPECT_EQ(fs.target(), "data");
  ASSERT_EQ(facts->devices_size(), 2);
  EXPECT_EQ(facts->devices(0).name(), "vdb1");
  EXPECT_EQ(facts->devices(0).dev(), NumberText(data.vdb1));
  EXPECT_EQ(facts->devices(0).scheduler(), "mq-deadline");
  EXPECT_EQ(facts->devices(0).target(), "data");
  EXPECT_EQ(facts->devices(1).name(), "vdb");
  EXPECT_EQ(facts->devices(1).target(), "data");
}

TEST(CollectHostFacts, DeviceUnderTwoTargetsIsReportedOnceUnderTheFirst) {
  DataDiskTree data;
  data.tree.WriteFile("/data/second.img", "");

  absl::StatusOr<v1::HostFacts> facts =
      CollectHostFacts({{.name = "first", .path = "/data/target.img"},
                        {.name = "second", .path = "/data/second.img"}},
                       data.tree.roots());

  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_EQ(facts->devices_size(), 2);
  EXPECT_EQ(facts->devices(0).target(), "first");
  EXPECT_EQ(facts->devices(1).target(), "first");
  ASSERT_EQ(facts->filesystems_size(), 2);
  EXPECT_EQ(facts->filesystems(1).target(), "second");
}

TEST(CollectHostFacts, AnonymousStDevIsPlacedThroughTheMountSource) {
  // btrfs: st_dev is an anonymous 0:N that sysfs does not have; the mount's
  // source names the device. No /dev node in the tree: found by kernel name.
  FakeHostTree tree;
  tree.WriteFile("/data/target.img", "");
  tree.AddDisk({.name = "vdb", .number = {254, 16}, .device = kVirtio2, .driver = "virtio_blk"});
  tree.WriteFile("/proc/self/mountinfo",
                 "40 1 0:99 /@data /data rw,relatime - btrfs /dev/vdb rw,ssd,space_cache=v2\n");

  absl::StatusOr<v1::HostFacts> facts =
      CollectHostFacts({{.name = "data", .path = "/data/target.img"}}, tree.roots());

  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_EQ(facts->filesystems_size(), 1);
  EXPECT_EQ(facts->filesystems(0).fs_type(), "btrfs");
  ASSERT_EQ(facts->devices_size(), 1);
  EXPECT_EQ(facts->devices(0).name(), "vdb");
  EXPECT_EQ(facts->devices(0).dev(), "254:16");
}

TEST(CollectHostFacts, TargetOnTmpfsHasAFilesystemAndNoDevices) {
  FakeHostTree tree;
  tree.WriteFile("/scratch/target.img", "");
  tree.WriteFile("/proc/self/mountinfo", "40 1 0:99 / /scratch rw - tmpfs tmpfs rw,size=1024k\n");

  absl::StatusOr<v1::HostFacts> facts =
      CollectHostFacts({{.name = "ram", .path = "/scratch/target.img"}}, tree.roots());

  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_EQ(facts->filesystems_size(), 1);
  EXPECT_EQ(facts->filesystems(0).fs_type(), "tmpfs");
  EXPECT_THAT(facts->devices(), IsEmpty());
}

TEST(CollectHostFacts, MissingTargetIsNotFoundNamingIt) {
  FakeHostTree tree;
  absl::StatusOr<v1::HostFacts> facts =
      CollectHostFacts({{.name = "db", .path = "/srv/nowhere.img"}}, tree.roots());
  EXPECT_EQ(facts.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(facts.status().message()), HasSubstr("'db'"));
  EXPECT_THAT(std::string(facts.status().message()), HasSubstr("/srv/nowhere.img"));
}

TEST(CollectHostFacts, BlockDeviceTargetIsItsOwnTopOfStack) {
  FakeHostTree tree;
  tree.AddDisk({.name = "vdb", .number = {254, 16}, .device = kVirtio2, .driver = "virtio_blk"});
  if (::mknod((tree.root() / "vdb-node").c_str(), S_IFBLK | 0600, ::makedev(254, 16)) != 0) {
    GTEST_SKIP() << "cannot create device nodes here (needs CAP_MKNOD)";
  }

  absl::StatusOr<v1::HostFacts> facts =
      CollectHostFacts({{.name = "raw", .path = "/vdb-node"}}, tree.roots());

  ASSERT_TRUE(facts.ok()) << facts.status();
  EXPECT_THAT(facts->filesystems(), IsEmpty());
  ASSERT_EQ(facts->devices_size(), 1);
  EXPECT_EQ(facts->devices(0).name(), "vdb");
  EXPECT_EQ(facts->devices(0).target(), "raw");
}

v1::HostFacts SampleFacts() {
  v1::HostFacts facts;
  facts.set_kernel_release("6.1.0-18-amd64");
  facts.set_kernel_config_sha256(std::string(64, 'a'));
  (*facts.mutable_kernel_config())["CONFIG_VIRTIO_BLK"] = "y";
  (*facts.mutable_kernel_config())["CONFIG_BFQ"] = "n";
  facts.set_boot_id("b1");
  facts.set_memory_bytes(1 << 30);
  v1::BlockDeviceFacts* vda = facts.add_devices();
  vda->set_name("vda");
  vda->set_scheduler("none");
  return facts;
}

TEST(FactsFingerprint, ChangesWhenTheKernelOrASchedulerChanges) {
  const v1::HostFacts before = SampleFacts();
  v1::HostFacts upgraded = before;
  upgraded.set_kernel_release("6.1.0-21-amd64");
  v1::HostFacts switched = before;
  switched.mutable_devices(0)->set_scheduler("mq-deadline");
  v1::HostFacts reconfigured = before;
  reconfigured.set_kernel_config_sha256(std::string(64, 'b'));

  EXPECT_NE(FactsFingerprint(upgraded), FactsFingerprint(before));
  EXPECT_NE(FactsFingerprint(switched), FactsFingerprint(before));
  EXPECT_NE(FactsFingerprint(reconfigured), FactsFingerprint(before));
}

TEST(FactsFingerprint, IgnoresMemoryAndBootIdAndMapOrder) {
  const v1::HostFacts before = SampleFacts();
  v1::HostFacts after = before;
  after.set_memory_bytes(2ull << 30);
  after.set_boot_id("b2");
  v1::HostFacts rebuilt;  // the same map entries inserted in the other order
  rebuilt.CopyFrom(before);
  rebuilt.clear_kernel_config();
  (*rebuilt.mutable_kernel_config())["CONFIG_BFQ"] = "n";
  (*rebuilt.mutable_kernel_config())["CONFIG_VIRTIO_BLK"] = "y";

  EXPECT_EQ(FactsFingerprint(after), FactsFingerprint(before));
  EXPECT_EQ(FactsFingerprint(rebuilt), FactsFingerprint(before));
}

TEST(FactsFingerprint, ConfigOptionsCountWhenThereIsNoHash) {
  v1::HostFacts before = SampleFacts();
  before.clear_kernel_config_sha256();
  v1::HostFacts after = before;
  (*after.mutable_kernel_config())["CONFIG_BFQ"] = "y";
  EXPECT_NE(FactsFingerprint(after), FactsFingerprint(before));
}

}  // namespace
}  // namespace fscanary::facts
