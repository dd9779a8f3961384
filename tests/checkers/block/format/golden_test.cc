// The block format pinned by golden bytes (tests/checkers/block/format/golden/):
// decoding them gives known fields, encoding those fields gives the same
// bytes, and the checksums and payload are the ones docs/FORMAT.md defines.

#include <xxhash.h>

#include <cstdint>
#include <vector>

#include "checkers/block/format/format.h"
#include "common/endian.h"
#include "gtest/gtest.h"
#include "tests/golden_bytes.h"

namespace fscanary::block {
namespace {

constexpr BlockIdentity kIdentity{
    .target_id = 0x0123'4567'89AB'CDEF, .offset = 0x2000, .generation = 7};
constexpr uint64_t kWriteTime = 1'700'000'000'123'456'789;
constexpr size_t kGoldenBlockSize = 1024;

std::vector<std::byte> Golden() {
  return testing::ReadGoldenHex("tests/checkers/block/format/golden/block_v1.hex");
}

// Chained XXH3 over ranges, as FORMAT.md defines it (independent of format.cc).
uint64_t Chained(std::span<const std::byte> bytes,
                 std::initializer_list<std::pair<size_t, size_t>> ranges) {
  uint64_t hash = 0;
  for (const auto& [begin, end] : ranges) {
    hash = XXH3_64bits_withSeed(bytes.data() + begin, end - begin, hash);
  }
  return hash;
}

// The splitmix64 finaliser as FORMAT.md writes it.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

TEST(GoldenBlock, IsOneBlockOfTwoSectors) { EXPECT_EQ(Golden().size(), kGoldenBlockSize); }

TEST(GoldenBlock, HeaderDecodesToItsKnownFields) {
  const std::vector<std::byte> golden = Golden();
  const std::optional<IntactBlock> intact = ParseIntactBlock(golden);
  ASSERT_TRUE(intact.has_value());
  EXPECT_EQ(intact->identity, kIdentity);
  EXPECT_EQ(intact->write_time_ns, kWriteTime);
  // Fields read at the offsets the spec gives, not through format.h.
  EXPECT_EQ(LoadLe<uint64_t>(golden.data() + 32), 0x5952414E41435346u);  // "FSCANARY"
  EXPECT_EQ(LoadLe<uint32_t>(golden.data() + 40), kGoldenBlockSize);
  EXPECT_EQ(LoadLe<uint32_t>(golden.data() + 44), 0u);
  EXPECT_EQ(LoadLe<uint64_t>(golden.data() + 88), 0u);
}

TEST(GoldenBlock, EverySectorStampDecodesToItsKnownFields) {
  const std::vector<std::byte> golden = Golden();
  for (uint16_t index = 0; index < 2; ++index) {
    const auto sector = std::span<const std::byte>(golden).subspan(index * 512u, 512);
    const SectorReading reading = ReadSector(sector);
    EXPECT_TRUE(reading.magic_ok) << index;
    EXPECT_TRUE(reading.checksum_ok) << index;
    EXPECT_EQ(reading.stamp.index, index);
    EXPECT_EQ(reading.stamp.block_offset, kIdentity.offset);
    EXPECT_EQ(reading.stamp.generation, kIdentity.generation);
    EXPECT_EQ(reading.stamp.target_tag, 0x8888'8888u);        // 0x89abcdef ^ 0x01234567
    EXPECT_EQ(LoadLe<uint32_t>(sector.data()), 0x53435346u);  // "FSCS"
    EXPECT_EQ(LoadLe<uint16_t>(sector.data() + 6), 1u);       // format version
  }
}

TEST(GoldenBlock, EncodingItsFieldsGivesTheSameBytes) {
  std::vector<std::byte> encoded(kGoldenBlockSize);
  EncodeBlock(kIdentity, kWriteTime, encoded);
  EXPECT_EQ(encoded, Golden());
}

TEST(GoldenBlock, ChecksumsAreTheOnesTheSpecDefines) {
  const std::vector<std::byte> golden = Golden();
  const std::span<const std::byte> sector0 = std::span<const std::byte>(golden).first(512);
  const std::span<const std::byte> sector1 = std::span<const std::byte>(golden).subspan(512, 512);
  // Sector checksum: low 32 bits of chained XXH3 over the sector except
  // [28, 32), and in sector 0 also except [80, 88).
  EXPECT_EQ(LoadLe<uint32_t>(sector0.data() + 28),
            static_cast<uint32_t>(Chained(sector0, {{0, 28}, {32, 80}, {88, 512}})));
  EXPECT_EQ(LoadLe<uint32_t>(sector1.data() + 28),
            static_cast<uint32_t>(Chained(sector1, {{0, 28}, {32, 512}})));
  // Block checksum: chained XXH3 over [0, 80) and [88, B).
  EXPECT_EQ(LoadLe<uint64_t>(golden.data() + 80),
            Chained(golden, {{0, 80}, {88, kGoldenBlockSize}}));
}

TEST(GoldenBlock, PayloadIsTheOneTheSpecDefines) {
  const std::vector<std::byte> golden = Golden();
  for (uint64_t sector = 0; sector < 2; ++sector) {
    const uint64_t seed =
        Mix(kIdentity.target_id ^ Mix(kIdentity.offset ^ Mix(kIdentity.generation ^ Mix(sector))));
    const size_t begin = sector == 0 ? 96 : 32;
    for (size_t word = 0; begin + 8 * word < 512; ++word) {
      ASSERT_EQ(LoadLe<uint64_t>(golden.data() + sector * 512 + begin + 8 * word),
                Mix(seed + word * 0x9E3779B97F4A7C15ull))
          << "sector " << sector << " word " << word;
    }
  }
}

}  // namespace
}  // namespace fscanary::block
