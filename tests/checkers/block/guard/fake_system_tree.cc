#include "tests/checkers/block/guard/fake_system_tree.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "gtest/gtest.h"

namespace fscanary::guard::testing {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& path, const std::string& contents) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << contents;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

// Relative, like the kernel's own sysfs links, so they resolve inside the tree.
void RelativeSymlink(const fs::path& target, const fs::path& link) {
  fs::create_directories(link.parent_path());
  fs::create_directory_symlink(fs::relative(target, link.parent_path()), link);
}

}  // namespace

FakeSystemTree::FakeSystemTree() {
  std::string pattern = (fs::temp_directory_path() / "fscanary-guard-XXXXXX").string();
  const char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp: " << errno;
  root_ = pattern;
  fs::create_directories(root_ / "dev");
  SetMountInfo(
      "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
      "23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:2 - proc proc rw\n"
      "24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:3 - sysfs sysfs rw\n"
      "25 22 0:5 / /dev rw,nosuid shared:4 - devtmpfs udev rw,size=4096k\n");
  SetSwaps("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
}

FakeSystemTree::~FakeSystemTree() {
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

void FakeSystemTree::AddDeviceDir(const fs::path& dir, const std::string& name, DeviceNumber number,
                                  uint64_t sectors, bool read_only) {
  fs::create_directories(dir / "holders");
  WriteFile(dir / "dev", absl::StrCat(number.major, ":", number.minor, "\n"));
  WriteFile(dir / "size", absl::StrCat(sectors, "\n"));
  WriteFile(dir / "ro", read_only ? "1\n" : "0\n");
  RelativeSymlink(dir,
                  root_ / "sys" / "dev" / "block" / absl::StrCat(number.major, ":", number.minor));
  RelativeSymlink(dir, root_ / "sys" / "class" / "block" / name);
  device_dirs_[name] = dir;
}

void FakeSystemTree::AddDisk(const FakeDisk& disk) {
  const fs::path dir = root_ / "sys" / "devices" / "virtual" / "block" / disk.name;
  AddDeviceDir(dir, disk.name, disk.number, disk.sectors, disk.read_only);
  WriteFile(dir / "queue" / "logical_block_size", absl::StrCat(disk.logical_block_size, "\n"));
}

void FakeSystemTree::AddPartition(const FakePartition& partition) {
  ASSERT_TRUE(device_dirs_.contains(partition.disk)) << "add disk " << partition.disk << " first";
  const fs::path dir = device_dirs_[partition.disk] / partition.name;
  AddDeviceDir(dir, partition.name, partition.number, partition.sectors, partition.read_only);
  WriteFile(dir / "partition", absl::StrCat(partition.partition_number, "\n"));
}

void FakeSystemTree::AddHolder(const std::string& lower, const std::string& upper) {
  ASSERT_TRUE(device_dirs_.contains(lower) && device_dirs_.contains(upper));
  RelativeSymlink(device_dirs_[upper], device_dirs_[lower] / "holders" / upper);
}

void FakeSystemTree::SetMountInfo(const std::string& text) {
  WriteFile(root_ / "proc" / "self" / "mountinfo", text);
}

void FakeSystemTree::SetSwaps(const std::string& text) {
  WriteFile(root_ / "proc" / "swaps", text);
}

absl::Status FakeSystemTree::MakeDeviceNode(const std::string& absolute, DeviceNumber number) {
  const fs::path node = roots().Under(absolute);
  fs::create_directories(node.parent_path());
  if (::mknod(node.c_str(), S_IFBLK | 0600, ::makedev(number.major, number.minor)) != 0) {
    return ErrnoToStatus(errno, "mknod " + node.string());
  }
  return absl::OkStatus();
}

}  // namespace fscanary::guard::testing
