#include "tests/agent/facts/fake_host_tree.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace fscanary::facts::testing {
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

FakeHostTree::FakeHostTree() {
  std::string pattern = (fs::temp_directory_path() / "fscanary-facts-XXXXXX").string();
  const char* made = ::mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr) << "mkdtemp: " << errno;
  // Canonical, so that paths the code under test resolves compare equal.
  root_ = fs::canonical(pattern);
  fs::create_directories(root_ / "sys" / "devices" / "virtual" / "block");
  WriteFile("/proc/self/mountinfo", "");
}

FakeHostTree::~FakeHostTree() {
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

void FakeHostTree::WriteFile(const std::string& absolute, const std::string& contents) {
  const fs::path path = root_ / fs::path(absolute).relative_path();
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

void FakeHostTree::BindDriver(const std::string& device, const std::string& driver) {
  const fs::path dir = root_ / fs::path(device).relative_path();
  fs::create_directories(dir);
  const fs::path driver_dir = root_ / "sys" / "bus" / "fake" / "drivers" / driver;
  fs::create_directories(driver_dir);
  RelativeSymlink(driver_dir, dir / "driver");
}

fs::path FakeHostTree::AddBlockDir(const fs::path& dir, const std::string& name,
                                   sysfs::DeviceNumber number, uint64_t sectors) {
  fs::create_directories(dir / "holders");
  fs::create_directories(dir / "slaves");
  const std::string relative = "/" + fs::relative(dir, root_).string();
  WriteFile(relative + "/dev", NumberText(number) + "\n");
  WriteFile(relative + "/size", absl::StrCat(sectors, "\n"));
  RelativeSymlink(dir, root_ / "sys" / "dev" / "block" / NumberText(number));
  RelativeSymlink(dir, root_ / "sys" / "class" / "block" / name);
  block_dirs_[name] = dir;
  return dir;
}

void FakeHostTree::WriteQueue(const fs::path& dir, const FakeQueue& queue) {
  const std::string q = "/" + fs::relative(dir / "queue", root_).string();
  WriteFile(q + "/scheduler", queue.scheduler + "\n");
  WriteFile(q + "/nr_requests", absl::StrCat(queue.nr_requests, "\n"));
  WriteFile(q + "/write_cache", queue.write_cache + "\n");
  WriteFile(q + "/rotational", queue.rotational ? "1\n" : "0\n");
  WriteFile(q + "/logical_block_size", absl::StrCat(queue.logical_block_size, "\n"));
  WriteFile(q + "/physical_block_size", absl::StrCat(queue.physical_block_size, "\n"));
  WriteFile(q + "/max_sectors_kb", absl::StrCat(queue.max_sectors_kb, "\n"));
  WriteFile(q + "/discard_max_bytes", absl::StrCat(queue.discard_max_bytes, "\n"));
  if (!queue.nomerges.empty()) WriteFile(q + "/nomerges", queue.nomerges + "\n");
  if (queue.blk_mq) {
    for (int i = 0; i < queue.hw_queues; ++i) {
      fs::create_directories(dir / "mq" / std::to_string(i));
      WriteFile("/" + fs::relative(dir / "mq" / std::to_string(i) / "nr_tags", root_).string(),
                "256\n");
    }
  }
}

void FakeHostTree::AddDisk(const FakeDisk& disk) {
  fs::path dir = root_ / "sys" / "devices" / "virtual" / "block" / disk.name;
  if (!disk.device.empty()) {
    const fs::path device = root_ / fs::path(disk.device).relative_path();
    fs::create_directories(device);
    if (!disk.driver.empty()) BindDriver(disk.device, disk.driver);
    dir = device / "block" / disk.name;
    fs::create_directories(dir);
    RelativeSymlink(device, dir / "device");
    if (!disk.model.empty()) {
      WriteFile("/" + fs::relative(device / "model", root_).string(), disk.model + "\n");
    }
  }
  AddBlockDir(dir, disk.name, disk.number, disk.sectors);
  RelativeSymlink(dir, root_ / "sys" / "block" / disk.name);
  WriteQueue(dir, disk.queue);
}

void FakeHostTree::AddPartition(const std::string& disk, const std::string& name,
                                sysfs::DeviceNumber number, uint64_t sectors) {
  ASSERT_TRUE(block_dirs_.contains(disk)) << "add disk " << disk << " first";
  const fs::path dir = AddBlockDir(block_dirs_[disk] / name, name, number, sectors);
  WriteFile("/" + fs::relative(dir / "partition", root_).string(), "1\n");
}

void FakeHostTree::AddDm(const std::string& name, sysfs::DeviceNumber number,
                         const std::string& uuid, const std::vector<std::string>& slaves) {
  const fs::path dir =
      AddBlockDir(root_ / "sys" / "devices" / "virtual" / "block" / name, name, number, 4096);
  RelativeSymlink(dir, root_ / "sys" / "block" / name);
  WriteFile("/" + fs::relative(dir / "dm" / "uuid", root_).string(), uuid + "\n");
  WriteQueue(dir, {.scheduler = "none", .blk_mq = false, .nr_requests = 128});
  for (const std::string& slave : slaves) {
    ASSERT_TRUE(block_dirs_.contains(slave)) << "add " << slave << " first";
    RelativeSymlink(block_dirs_[slave], dir / "slaves" / slave);
    RelativeSymlink(dir, block_dirs_[slave] / "holders" / name);
  }
}

void FakeHostTree::AddLoop(const std::string& name, sysfs::DeviceNumber number,
                           const std::string& backing_file) {
  AddDisk({.name = name, .number = number, .queue = {.scheduler = "[none] mq-deadline"}});
  WriteFile("/" + fs::relative(block_dirs_[name] / "loop" / "backing_file", root_).string(),
            backing_file + "\n");
}

sysfs::DeviceNumber StDevOf(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << "stat " << path << ": " << errno;
  return {.major = ::major(st.st_dev), .minor = ::minor(st.st_dev)};
}

}  // namespace fscanary::facts::testing
