#include "checkers/metadata/file_layout.h"

#include <xxhash.h>

#include <vector>

#include "gtest/gtest.h"

namespace fscanary::metadata {
namespace {

std::vector<std::byte> Content(const FileLayout& layout) {
  std::vector<std::byte> bytes(layout.size);
  FillContent(layout, 0, bytes);
  return bytes;
}

TEST(FileLayout, WriteExtendsTheFileAndHolesReadAsZeros) {
  FileLayout layout;
  layout.Write(8192, 100, /*pattern=*/7);
  EXPECT_EQ(layout.size, 8292u);
  const std::vector<std::byte> bytes = Content(layout);
  EXPECT_EQ(bytes[0], std::byte{0});
  EXPECT_EQ(bytes[8191], std::byte{0});
  EXPECT_EQ(bytes[8192], PatternByte(7, 8192));
  EXPECT_EQ(bytes[8291], PatternByte(7, 8291));
}

TEST(FileLayout, OverwriteReplacesOnlyTheRangeWritten) {
  FileLayout layout;
  layout.Write(0, 10000, 1);
  layout.Write(4096, 10, 2);
  ASSERT_EQ(layout.extents.size(), 3u);
  const std::vector<std::byte> bytes = Content(layout);
  EXPECT_EQ(bytes[4095], PatternByte(1, 4095));
  EXPECT_EQ(bytes[4096], PatternByte(2, 4096));
  EXPECT_EQ(bytes[4106], PatternByte(1, 4106));
  EXPECT_TRUE(layout.Valid());
}

TEST(FileLayout, PunchKeepsTheSizeAndZerosTheBlock) {
  FileLayout layout;
  layout.Write(0, 3 * 4096, 1);
  layout.Punch(4096, 4096);
  EXPECT_EQ(layout.size, 3u * 4096);
  const std::vector<std::byte> bytes = Content(layout);
  EXPECT_EQ(bytes[4095], PatternByte(1, 4095));
  EXPECT_EQ(bytes[4096], std::byte{0});
  EXPECT_EQ(bytes[8191], std::byte{0});
  EXPECT_EQ(bytes[8192], PatternByte(1, 8192));
}

TEST(FileLayout, TruncateShrinkDropsBytesAndGrowAddsZeros) {
  FileLayout layout;
  layout.Write(0, 100, 1);
  layout.Truncate(50);
  layout.Truncate(200);
  EXPECT_EQ(layout.size, 200u);
  const std::vector<std::byte> bytes = Content(layout);
  EXPECT_EQ(bytes[49], PatternByte(1, 49));
  EXPECT_EQ(bytes[50], std::byte{0});
  EXPECT_EQ(bytes[199], std::byte{0});
}

TEST(FileLayout, ContentHashIsTheHashOfAllBytes) {
  FileLayout layout;
  layout.Write(0, 70000, 3);
  layout.Write(300000, 5000, 4);
  layout.Punch(8192, 4096);
  const std::vector<std::byte> bytes = Content(layout);
  EXPECT_EQ(ContentHash(layout), XXH3_64bits(bytes.data(), bytes.size()));
  StreamingHash pieces;
  pieces.Update(std::span(bytes).first(1000));
  pieces.Update(std::span(bytes).subspan(1000));
  EXPECT_EQ(pieces.Digest(), ContentHash(layout));
}

TEST(FileLayout, DifferentWritesGiveDifferentBytes) {
  EXPECT_NE(PatternFor(1, 2, 3), PatternFor(1, 2, 4));
  EXPECT_NE(PatternFor(1, 2, 3), PatternFor(1, 3, 3));
  EXPECT_NE(PatternFor(1, 2, 3), PatternFor(2, 2, 3));
  FileLayout a;
  a.Write(0, 64, PatternFor(1, 2, 3));
  FileLayout b;
  b.Write(0, 64, PatternFor(1, 2, 4));
  EXPECT_NE(ContentHash(a), ContentHash(b));
}

}  // namespace
}  // namespace fscanary::metadata
