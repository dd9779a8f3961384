// The target label pinned by golden bytes (tests/checkers/target/golden/):
// decoding them gives known fields and encoding those gives the same bytes.

#include <vector>

#include "checkers/target/label.h"
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

std::vector<std::byte> Golden() {
  return testing::ReadGoldenHex("tests/checkers/target/golden/label_v1.hex");
}

TEST(GoldenLabel, Is4096Bytes) { EXPECT_EQ(Golden().size(), kLabelSize); }

TEST(GoldenLabel, DecodesToItsKnownFields) {
  const std::vector<std::byte> golden = Golden();
  const LabelReading reading = ParseLabel(golden);
  ASSERT_EQ(reading.state, LabelState::kValid);
  EXPECT_EQ(reading.label, kLabel);
  EXPECT_EQ(reading.label.block_count(), 256u);
  EXPECT_EQ(LoadLe<uint64_t>(golden.data()), 0x4C4542414C435346u);  // "FSCLABEL"
  EXPECT_EQ(LoadLe<uint32_t>(golden.data() + 8), 1u);               // label version
}

TEST(GoldenLabel, EncodingItsFieldsGivesTheSameBytes) { EXPECT_EQ(EncodeLabel(kLabel), Golden()); }

TEST(GoldenLabel, AnyChangedByteOfTheCheckedFieldsMakesItDamaged) {
  for (size_t i = 8; i < 56; ++i) {
    std::vector<std::byte> label = Golden();
    label[i] ^= std::byte{0x01};
    EXPECT_EQ(ParseLabel(label).state, LabelState::kDamaged) << "byte " << i;
  }
}

}  // namespace
}  // namespace fscanary::target
