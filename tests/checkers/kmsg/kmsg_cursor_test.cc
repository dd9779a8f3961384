#include "checkers/kmsg/kmsg_cursor.h"

#include <filesystem>
#include <fstream>
#include <string>

#include "gtest/gtest.h"
#include "tests/temp_dir.h"

namespace fscanary::kmsg {
namespace {

const KmsgCursor kCursor{.boot_id = "92460906-1840-4a18-9c8f-cca5a5c86384", .next_sequence = 408};

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

TEST(KmsgCursor, EncodedCursorDecodesToItself) {
  const std::string text = EncodeCursor(kCursor);
  EXPECT_TRUE(text.starts_with("fscanary-kmsg-cursor 1\nboot_id 92460906-"));
  auto decoded = DecodeCursor(text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, kCursor);
}

TEST(KmsgCursor, StoredCursorLoadsBackAndLeavesNoTempFile) {
  testing::TempDir dir;
  const std::string path = dir.Join("kmsg.cursor");
  ASSERT_TRUE(StoreCursor(path, kCursor).ok());
  KmsgCursor later = kCursor;
  later.next_sequence = 9000;
  ASSERT_TRUE(StoreCursor(path, later).ok());
  auto loaded = LoadCursor(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, later);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(KmsgCursor, MissingFileIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(LoadCursor(dir.Join("absent")).status().code(), absl::StatusCode::kNotFound);
}

TEST(KmsgCursor, EveryTornPrefixIsDataLoss) {
  const std::string text = EncodeCursor(kCursor);
  for (size_t length = 0; length < text.size(); ++length) {
    EXPECT_EQ(DecodeCursor(text.substr(0, length)).status().code(), absl::StatusCode::kDataLoss)
        << "prefix of " << length << " bytes";
  }
}

TEST(KmsgCursor, AlteredDigitFailsTheChecksum) {
  std::string text = EncodeCursor(kCursor);
  text.replace(text.find("408"), 3, "409");
  auto decoded = DecodeCursor(text);
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("checksum"), std::string_view::npos);
}

TEST(KmsgCursor, OtherContentIsDataLoss) {
  for (const std::string& text : {std::string("garbage\n"), std::string("fscanary-kmsg-cursor 2\n"),
                                  EncodeCursor(kCursor) + "trailing\n", std::string(100, '\0')}) {
    EXPECT_EQ(DecodeCursor(text).status().code(), absl::StatusCode::kDataLoss);
  }
}

TEST(KmsgCursor, DamagedFileLoadsAsDataLossNamingThePath) {
  testing::TempDir dir;
  const std::string path = dir.Join("kmsg.cursor");
  WriteFile(path, EncodeCursor(kCursor).substr(0, 30));
  auto loaded = LoadCursor(path);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(loaded.status().message().find(path), std::string_view::npos);
  WriteFile(path, std::string(10000, 'x'));
  EXPECT_EQ(LoadCursor(path).status().code(), absl::StatusCode::kDataLoss);
}

TEST(BootId, IsReadAndTrimmed) {
  testing::TempDir dir;
  const std::string path = dir.Join("boot_id");
  WriteFile(path, "92460906-1840-4a18-9c8f-cca5a5c86384\n");
  auto id = ReadBootId(path);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, "92460906-1840-4a18-9c8f-cca5a5c86384");
}

TEST(BootId, EmptyOrOddFileIsRefused) {
  testing::TempDir dir;
  const std::string path = dir.Join("boot_id");
  WriteFile(path, "\n");
  EXPECT_EQ(ReadBootId(path).status().code(), absl::StatusCode::kFailedPrecondition);
  WriteFile(path, "not a uuid\n");
  EXPECT_EQ(ReadBootId(path).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(BootId, ThisMachinesBootIdReads) {
  const std::string path = "/proc/sys/kernel/random/boot_id";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " does not exist here";
  auto id = ReadBootId(path);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->size(), 36u);
}

}  // namespace
}  // namespace fscanary::kmsg
