// Opening a database: created or migrated when it is ours, refused with a
// message naming the file when it is not, or newer than this binary.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "collector/store/sqlite_schema.h"
#include "tests/collector/store/store_test_support.h"

namespace fscanary::store {
namespace {

using testing::FindingRecord;
using ::testing::HasSubstr;
using testing::Ingest;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// SQLite keeps user_version at byte 60 of the header, application_id at 68,
// both big-endian.
uint32_t HeaderField(const std::string& path, size_t offset) {
  const std::string bytes = ReadFile(path);
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value = value << 8 | static_cast<uint8_t>(bytes.at(offset + i));
  return value;
}

void SetHeaderField(const std::string& path, size_t offset, uint32_t value) {
  std::string bytes = ReadFile(path);
  for (size_t i = 0; i < 4; ++i) bytes.at(offset + i) = static_cast<char>(value >> (24 - 8 * i));
  WriteFile(path, bytes);
}

constexpr size_t kUserVersion = 60;
constexpr size_t kApplicationId = 68;

TEST(OpenSqliteStore, EmptyFileIsMigratedToTheCurrentSchema) {
  fscanary::testing::TempDir dir;
  WriteFile(dir.Join("collector.db"), "");
  {
    auto store = testing::OpenStore(dir);
    ASSERT_NE(store, nullptr);
    Ingest(*store, "a", {FindingRecord(1, 1)});
  }
  EXPECT_EQ(HeaderField(dir.Join("collector.db"), kUserVersion), sqlite::LatestSchemaVersion());
  EXPECT_EQ(HeaderField(dir.Join("collector.db"), kApplicationId), sqlite::kApplicationId);
  // And it opens again as it is, with its data.
  auto store = testing::OpenStore(dir);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->ListFindings({})->findings_size(), 1);
}

TEST(OpenSqliteStore, DatabaseOfANewerSchemaIsRefused) {
  fscanary::testing::TempDir dir;
  testing::OpenStore(dir).reset();
  const std::string path = dir.Join("collector.db");
  SetHeaderField(path, kUserVersion, static_cast<uint32_t>(sqlite::LatestSchemaVersion() + 1));
  const std::string before = ReadFile(path);

  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore({.path = path});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("newer"));
  EXPECT_EQ(ReadFile(path), before);
}

TEST(OpenSqliteStore, GarbageFileIsRefusedByNameAndLeftUntouched) {
  fscanary::testing::TempDir dir;
  const std::string path = dir.Join("collector.db");
  std::string garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not an SQLite database\n";
  WriteFile(path, garbage);

  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore({.path = path});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not an SQLite database"));
  EXPECT_EQ(ReadFile(path), garbage);
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
}

TEST(OpenSqliteStore, AnotherApplicationsDatabaseIsRefused) {
  fscanary::testing::TempDir dir;
  testing::OpenStore(dir).reset();
  const std::string path = dir.Join("collector.db");
  SetHeaderField(path, kApplicationId, 0x12345678);

  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore({.path = path});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("another application"));
}

TEST(OpenSqliteStore, SecondStoreOnTheSameDatabaseIsRefused) {
  fscanary::testing::TempDir dir;
  auto first = testing::OpenStore(dir);
  absl::StatusOr<std::unique_ptr<Store>> second =
      OpenSqliteStore({.path = dir.Join("collector.db")});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()), HasSubstr("in use"));
}

TEST(OpenSqliteStore, MissingDirectoryIsNamed) {
  fscanary::testing::TempDir dir;
  const std::string path = dir.Join("absent/collector.db");
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore({.path = path});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(dir.Join("absent")));
}

}  // namespace
}  // namespace fscanary::store
