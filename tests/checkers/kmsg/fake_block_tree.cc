#include "tests/checkers/kmsg/fake_block_tree.h"

#include <stdlib.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fscanary::kmsg::testing {
namespace {

namespace fs = std::filesystem;

// Relative, like the kernel's own sysfs links, so they resolve inside the tree.
void RelativeSymlink(const fs::path& target, const fs::path& link) {
  fs::create_directories(link.parent_path());
  fs::create_directory_symlink(fs::relative(target, link.parent_path()), link);
}

std::string NumberText(sysfs::DeviceNumber number) {
  return absl::StrCat(number.major, ":", number.minor);
}

}  // namespace

FakeBlockTree::FakeBlockTree() {
  std::string pattern = (fs::temp_directory_path() / "fscanary-kmsg-XXXXXX").string();
  const char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp: " << errno;
  root_ = fs::canonical(pattern);
  fs::create_directories(root_ / "sys" / "devices" / "virtual" / "block");
  WriteFile(root_ / "proc" / "self" / "mountinfo",
            "23 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw\n"
            "24 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:3 - sysfs sysfs rw\n");
  WriteFile(root_ / "proc" / "swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
}

FakeBlockTree::~FakeBlockTree() {
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

void FakeBlockTree::WriteFile(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

void FakeBlockTree::AppendFile(const fs::path& path, const std::string& contents) {
  std::ofstream out(path, std::ios::app);
  out << contents;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

fs::path FakeBlockTree::AddBlockDir(const fs::path& dir, const std::string& name,
                                    sysfs::DeviceNumber number) {
  fs::create_directories(dir / "holders");
  fs::create_directories(dir / "slaves");
  WriteFile(dir / "dev", NumberText(number) + "\n");
  RelativeSymlink(dir, root_ / "sys" / "dev" / "block" / NumberText(number));
  RelativeSymlink(dir, root_ / "sys" / "class" / "block" / name);
  block_dirs_[name] = dir;
  return dir;
}

void FakeBlockTree::AddDisk(const std::string& name, sysfs::DeviceNumber number,
                            const std::string& hardware) {
  fs::path dir = root_ / "sys" / "devices" / "virtual" / "block" / name;
  if (!hardware.empty()) {
    const fs::path device = root_ / fs::path(hardware).relative_path();
    dir = device / "block" / name;
    fs::create_directories(dir);
    RelativeSymlink(device, dir / "device");
  }
  AddBlockDir(dir, name, number);
  RelativeSymlink(dir, root_ / "sys" / "block" / name);
}

void FakeBlockTree::AddPartition(const std::string& disk, const std::string& name,
                                 sysfs::DeviceNumber number) {
  ASSERT_TRUE(block_dirs_.contains(disk)) << "add disk " << disk << " first";
  const fs::path dir = AddBlockDir(block_dirs_[disk] / name, name, number);
  WriteFile(dir / "partition", "1\n");
}

void FakeBlockTree::AddDm(const std::string& name, sysfs::DeviceNumber number,
                          const std::vector<std::string>& slaves) {
  const fs::path dir =
      AddBlockDir(root_ / "sys" / "devices" / "virtual" / "block" / name, name, number);
  RelativeSymlink(dir, root_ / "sys" / "block" / name);
  for (const std::string& slave : slaves) {
    ASSERT_TRUE(block_dirs_.contains(slave)) << "add " << slave << " first";
    RelativeSymlink(block_dirs_[slave], dir / "slaves" / slave);
    RelativeSymlink(dir, block_dirs_[slave] / "holders" / name);
  }
}

void FakeBlockTree::AddScsiDevice(const std::string& address, const std::string& hardware) {
  const fs::path device = root_ / fs::path(hardware).relative_path();
  const fs::path class_dir = device / "scsi_device" / address;
  fs::create_directories(class_dir);
  RelativeSymlink(device, class_dir / "device");
  RelativeSymlink(class_dir, root_ / "sys" / "class" / "scsi_device" / address);
}

void FakeBlockTree::AddVirtioDevice(const std::string& name, const std::string& hardware) {
  const fs::path device = root_ / fs::path(hardware).relative_path();
  fs::create_directories(device);
  RelativeSymlink(device, root_ / "sys" / "bus" / "virtio" / "devices" / name);
}

void FakeBlockTree::Mount(const std::string& device, sysfs::DeviceNumber number,
                          const std::string& mount_point) {
  AppendFile(root_ / "proc" / "self" / "mountinfo",
             absl::StrCat(next_mount_id_++, " 1 ", NumberText(number), " / ", mount_point,
                          " rw,relatime shared:9 - ext4 /dev/", device, " rw\n"));
}

void FakeBlockTree::AddSwap(const std::string& device) {
  AppendFile(root_ / "proc" / "swaps",
             absl::StrCat("/dev/", device, "\t\t\t\tpartition\t1048572\t\t0\t\t-2\n"));
}

void FakeBlockTree::RemoveMountInfo() { fs::remove(root_ / "proc" / "self" / "mountinfo"); }

}  // namespace fscanary::kmsg::testing
