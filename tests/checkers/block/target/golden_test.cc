// The target label pinned by golden bytes (tests/checkers/block/target/golden/):
// decoding them gives known fields and encoding those gives the same bytes.
// Version 1 is no longer written but must still be read.

#include <string>
#include <vector>

#include "checkers/block/target/label.h"
#include "common/endian.h"
#include "gtest/gtest.h"
#include "tests/golden_bytes.h"

namespace fscanary::target {
namespace {

constexpr Label kLabel{.target_id = 0x0123'4567'89AB'CDEF,
                       .block_size = 4096,
                       .data_start = 4096,
                       .declared_size = 4096 + 256 * 4096,
                       .created_ns = 1'700'000'000'000'000'000};

std::vector<std::byte> Golden(const std::string& name) {
  return testing::ReadGoldenHex("tests/checkers/block/target/golden/" + name);
}
std::vector<std::byte> GoldenV1() { return Golden("label_v1.hex"); }
std::vector<std::byte> GoldenV2() { return Golden("label_v2.hex"); }

TEST(GoldenLabel, Is4096Bytes) {
  EXPECT_EQ(GoldenV1().size(), kLabelSize);
  EXPECT_EQ(GoldenV2().size(), kLabelSize);
}

TEST(GoldenLabel, Version2DecodesToItsKnownFields) {
  const std::vector<std::byte> golden = GoldenV2();
  const LabelReading reading = ParseLabel(golden);
  ASSERT_EQ(reading.state, LabelState::kValid);
  EXPECT_EQ(reading.version, 2u);
  EXPECT_EQ(reading.label, kLabel);
  EXPECT_EQ(reading.label.block_count(), 256u);
  EXPECT_EQ(LoadLe<uint64_t>(golden.data()), 0x4C4542414C435346u);  // "FSCLABEL"
  EXPECT_EQ(LoadLe<uint32_t>(golden.data() + 8), 2u);               // label version
}

TEST(GoldenLabel, EncodingItsFieldsGivesTheVersion2Bytes) {
  EXPECT_EQ(EncodeLabel(kLabel), GoldenV2());
}

TEST(GoldenLabel, Version1IsStillRead) {
  const LabelReading reading = ParseLabel(GoldenV1());
  ASSERT_EQ(reading.state, LabelState::kValid);
  EXPECT_EQ(reading.version, 1u);
  EXPECT_EQ(reading.label, kLabel);
}

// The checksum of version 2 covers the whole block: a foreign signature
// written anywhere into it (LVM at 512, ext4 at 1080, swap at 4086) damages it.
TEST(GoldenLabel, AnyChangedByteOfAVersion2LabelMakesItDamaged) {
  for (size_t i = 8; i < kLabelSize; ++i) {
    std::vector<std::byte> label = GoldenV2();
    label[i] ^= std::byte{0x01};
    EXPECT_EQ(ParseLabel(label).state, LabelState::kDamaged) << "byte " << i;
  }
}

TEST(GoldenLabel, AnyChangedByteOfAVersion1LabelMakesItDamaged) {
  for (size_t i = 8; i < kLabelSize; ++i) {
    std::vector<std::byte> label = GoldenV1();
    label[i] ^= std::byte{0x01};
    EXPECT_EQ(ParseLabel(label).state, LabelState::kDamaged) << "byte " << i;
  }
}

TEST(GoldenLabel, AnUnknownVersionIsDamaged) {
  std::vector<std::byte> label = GoldenV2();
  StoreLe<uint32_t>(label.data() + 8, 3);
  EXPECT_EQ(ParseLabel(label).state, LabelState::kDamaged);
}

}  // namespace
}  // namespace fscanary::target
