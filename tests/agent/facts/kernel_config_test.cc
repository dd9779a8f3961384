// The kernel config: its options as Kconfig writes them, its SHA-256, and
// where it is read from (/proc/config.gz, else /boot/config-<release>).

#include "agent/facts/kernel_config.h"

#include <string>

#include "agent/facts/gunzip.h"
#include "common/digest/sha256.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/agent/facts/fake_host_tree.h"
#include "tests/agent/facts/gzip_file.h"

namespace fscanary::facts {
namespace {

using testing::FakeHostTree;
using testing::Gzip;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

constexpr char kConfig[] =
    "#\n"
    "# Automatically generated file; DO NOT EDIT.\n"
    "# Linux/x86 6.1.76 Kernel Configuration\n"
    "#\n"
    "CONFIG_CC_VERSION_TEXT=\"gcc-12 (Debian 12.2.0-14) 12.2.0\"\n"
    "CONFIG_BLK_DEV_LOOP=m\n"
    "CONFIG_VIRTIO_BLK=y\n"
    "# CONFIG_BLK_DEV_NBD is not set\n"
    "CONFIG_NR_CPUS=8192\n"
    "CONFIG_DEFAULT_HOSTNAME=\"(none)\"\n"
    "CONFIG_CMDLINE=\"console=\\\"ttyS0\\\" a\\\\b\"\n"
    "CONFIG_LOCALVERSION=\"\"\n"
    "\n"
    "#\n"
    "# General setup\n"
    "#\n";

TEST(KernelConfig, ParsesYesModuleNumbersStringsAndNotSet) {
  EXPECT_THAT(
      ParseKernelConfig(kConfig),
      UnorderedElementsAre(Pair("CONFIG_CC_VERSION_TEXT", "gcc-12 (Debian 12.2.0-14) 12.2.0"),
                           Pair("CONFIG_BLK_DEV_LOOP", "m"), Pair("CONFIG_VIRTIO_BLK", "y"),
                           Pair("CONFIG_BLK_DEV_NBD", "n"), Pair("CONFIG_NR_CPUS", "8192"),
                           Pair("CONFIG_DEFAULT_HOSTNAME", "(none)"),
                           Pair("CONFIG_CMDLINE", "console=\"ttyS0\" a\\b"),
                           Pair("CONFIG_LOCALVERSION", "")));
}

TEST(KernelConfig, IgnoresCommentsThatAreNotOptions) {
  EXPECT_THAT(ParseKernelConfig("# CONFIG_ is not set\n# Some CONFIG_X is not set\n"
                                "# CONFIG_X is set\nNOT_CONFIG=y\nCONFIG_BAD-NAME=y\n"),
              IsEmpty());
}

TEST(Sha256, MatchesTheStandardTestVectors) {
  EXPECT_EQ(digest::Sha256Hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(digest::Sha256Hex(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(digest::Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Gunzip, InflatesWhatGzipWrote) {
  const std::string text(200000, 'x');
  absl::StatusOr<std::string> inflated = Gunzip(Gzip(text));
  ASSERT_TRUE(inflated.ok()) << inflated.status();
  EXPECT_EQ(*inflated, text);
}

TEST(Gunzip, TruncatedOrForeignDataIsDataLoss) {
  const std::string gz = Gzip(kConfig);
  EXPECT_EQ(Gunzip(gz.substr(0, gz.size() - 10)).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Gunzip(kConfig).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(Gunzip("").status().code(), absl::StatusCode::kDataLoss);
}

TEST(Gunzip, OutputPastTheLimitIsRefused) {
  EXPECT_EQ(Gunzip(Gzip(std::string(1 << 20, 'x')), /*max_bytes=*/1000).status().code(),
            absl::StatusCode::kResourceExhausted);
}

TEST(ReadKernelConfig, PrefersProcConfigGzAndHashesTheInflatedText) {
  FakeHostTree tree;
  tree.WriteFile("/proc/config.gz", Gzip(kConfig));
  tree.WriteFile("/boot/config-6.1.0-18-amd64", "CONFIG_FROM_BOOT=y\n");

  const KernelConfig config = ReadKernelConfig(tree.roots().system, "6.1.0-18-amd64");

  EXPECT_EQ(config.source, "/proc/config.gz");
  EXPECT_EQ(config.sha256, digest::Sha256Hex(kConfig));
  EXPECT_EQ(config.options.at("CONFIG_VIRTIO_BLK"), "y");
  EXPECT_FALSE(config.options.contains("CONFIG_FROM_BOOT"));
}

TEST(ReadKernelConfig, FallsBackToBootConfigOfTheRunningRelease) {
  FakeHostTree tree;
  tree.WriteFile("/boot/config-6.1.0-17-amd64", "CONFIG_OLD=y\n");
  tree.WriteFile("/boot/config-6.1.0-18-amd64", "CONFIG_FROM_BOOT=y\n");

  const KernelConfig config = ReadKernelConfig(tree.roots().system, "6.1.0-18-amd64");

  EXPECT_EQ(config.source, "/boot/config-6.1.0-18-amd64");
  EXPECT_EQ(config.sha256, digest::Sha256Hex("CONFIG_FROM_BOOT=y\n"));
  EXPECT_THAT(config.options, UnorderedElementsAre(Pair("CONFIG_FROM_BOOT", "y")));
}

TEST(ReadKernelConfig, DamagedConfigGzFallsBackToBoot) {
  FakeHostTree tree;
  tree.WriteFile("/proc/config.gz", "garbage");
  tree.WriteFile("/boot/config-6.1.0-18-amd64", "CONFIG_FROM_BOOT=y\n");

  EXPECT_EQ(ReadKernelConfig(tree.roots().system, "6.1.0-18-amd64").source,
            "/boot/config-6.1.0-18-amd64");
}

TEST(ReadKernelConfig, NoConfigAnywhereLeavesItUnknown) {
  FakeHostTree tree;
  const KernelConfig config = ReadKernelConfig(tree.roots().system, "6.1.0-18-amd64");
  EXPECT_EQ(config.source, "");
  EXPECT_EQ(config.sha256, "");
  EXPECT_THAT(config.options, IsEmpty());
}

}  // namespace
}  // namespace fscanary::facts
