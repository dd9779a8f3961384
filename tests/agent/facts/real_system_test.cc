// CollectHostFacts on this machine, checked against what /proc, /sys and
// uname say directly: the facts that arrive must describe the host they
// came from.

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/facts/host_facts.h"
#include "agent/facts/proc_text.h"
#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace fscanary::facts {
namespace {

namespace fs = std::filesystem;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

std::string Trimmed(const fs::path& path) {
  return std::string(absl::StripAsciiWhitespace(Slurp(path)));
}

TEST(RealSystem, KernelBootAndDistroFactsMatchProcAndUname) {
  absl::StatusOr<v1::HostFacts> facts = CollectHostFacts({});
  ASSERT_TRUE(facts.ok()) << facts.status();

  struct utsname names {};
  ASSERT_EQ(::uname(&names), 0);
  EXPECT_EQ(facts->kernel_release(), names.release);
  EXPECT_EQ(facts->kernel_version(), Trimmed("/proc/version"));
  EXPECT_EQ(facts->boot_id(), Trimmed("/proc/sys/kernel/random/boot_id"));
  EXPECT_EQ(facts->kernel_cmdline(), Trimmed("/proc/cmdline"));
  EXPECT_EQ(facts->cpu_count(), static_cast<uint32_t>(::sysconf(_SC_NPROCESSORS_ONLN)));
  EXPECT_GT(facts->memory_bytes(), 0u);
  EXPECT_NE(facts->virtualization(), "");
  if (fs::exists("/proc/config.gz")) {
    EXPECT_EQ(facts->kernel_config_source(), "/proc/config.gz");
  }
  if (!facts->kernel_config_source().empty()) {
    EXPECT_EQ(facts->kernel_config_sha256().size(), 64u);
    EXPECT_GT(facts->kernel_config_size(), 100);
  }
  if (fs::exists("/etc/os-release")) {
    EXPECT_EQ(facts->distro_id(), ParseOsRelease(Slurp("/etc/os-release"))["ID"]);
  }
}

// A directory whose filesystem sits on a block device sysfs knows, or
// nullopt (a tmpfs /tmp and an overlay working dir, say).
std::optional<fs::path> DirectoryOnABlockDevice(const std::vector<fs::path>& candidates) {
  for (const fs::path& dir : candidates) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) continue;
    if (fs::exists(absl::StrCat("/sys/dev/block/", ::major(st.st_dev), ":", ::minor(st.st_dev)))) {
      return dir;
    }
  }
  return std::nullopt;
}

TEST(RealSystem, TempFilesDeviceIsFoundWithTheSchedulerSysfsShows) {
  testing::TempDir temp;
  const std::optional<fs::path> dir = DirectoryOnABlockDevice({temp.path(), fs::current_path()});
  if (!dir) GTEST_SKIP() << "neither the temp dir nor the working dir is on a block device";
  const fs::path file = *dir / absl::StrCat("fscanary-facts-", ::getpid(), ".img");
  std::ofstream(file) << "x";
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  const std::string dev = absl::StrCat(::major(st.st_dev), ":", ::minor(st.st_dev));

  absl::StatusOr<v1::HostFacts> facts = CollectHostFacts({{.name = "t", .path = file.string()}});
  fs::remove(file);

  ASSERT_TRUE(facts.ok()) << facts.status();
  ASSERT_GE(facts->devices_size(), 1);
  const v1::BlockDeviceFacts& top = facts->devices(0);
  EXPECT_EQ(top.dev(), dev);
  EXPECT_EQ(top.target(), "t");
  // A partition's queue is its disk's.
  fs::path sysfs = fs::canonical("/sys/dev/block/" + dev);
  EXPECT_EQ(top.name(), sysfs.filename().string());
  if (fs::exists(sysfs / "partition")) sysfs = sysfs.parent_path();
  const std::string scheduler_file = Slurp(sysfs / "queue" / "scheduler");
  EXPECT_EQ(top.scheduler(), ActiveScheduler(scheduler_file));
  EXPECT_NE(top.scheduler(), "");
  EXPECT_EQ(top.blk_mq(), fs::exists(sysfs / "mq") ? "on" : "off");
  EXPECT_EQ(top.logical_block_size(), std::stoul(Trimmed(sysfs / "queue" / "logical_block_size")));
  EXPECT_EQ(top.size_bytes(),
            std::stoull(Trimmed(fs::canonical("/sys/dev/block/" + dev) / "size")) * 512);
  ASSERT_EQ(facts->filesystems_size(), 1);
  EXPECT_NE(facts->filesystems(0).fs_type(), "");
  EXPECT_EQ(facts->filesystems(0).target(), "t");
}

}  // namespace
}  // namespace fscanary::facts
