#include "common/sizes.h"

#include "gtest/gtest.h"

namespace fscanary {
namespace {

TEST(ParseByteSize, PlainNumbersAreBytes) { EXPECT_EQ(ParseByteSize("4096").value(), 4096u); }

TEST(ParseByteSize, SuffixesAreBinaryMultiples) {
  EXPECT_EQ(ParseByteSize("64K").value(), 64u << 10);
  EXPECT_EQ(ParseByteSize("512m").value(), 512u << 20);
  EXPECT_EQ(ParseByteSize("1G").value(), 1u << 30);
  EXPECT_EQ(ParseByteSize("1GiB").value(), 1u << 30);
  EXPECT_EQ(ParseByteSize("2T").value(), uint64_t{2} << 40);
}

TEST(ParseByteSize, GarbageIsRejectedWithTheText) {
  for (const char* text : {"", "G", "12Q", "1.5G", "-4", "4 K"}) {
    const auto size = ParseByteSize(text);
    EXPECT_FALSE(size.ok()) << text;
  }
  EXPECT_NE(std::string(ParseByteSize("12Q").status().message()).find("12Q"), std::string::npos);
}

TEST(ParseByteSize, OverflowIsRejected) {
  EXPECT_EQ(ParseByteSize("99999999999T").status().code(), absl::StatusCode::kOutOfRange);
}

}  // namespace
}  // namespace fscanary
