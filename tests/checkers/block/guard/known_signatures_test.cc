// FindKnownSignatures on hand-built images: each signature at its usual
// offset is found and named, an image with none (or fscanary's own label and
// blocks) yields none.

#include "checkers/block/guard/known_signatures.h"

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/endian.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace fscanary::guard {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// A whole image in memory, handed over as the regions RegionsToRead names.
class Image {
 public:
  explicit Image(uint64_t size) : bytes_(size) {}
  void Put(uint64_t offset, std::string_view text) {
    std::memcpy(bytes_.data() + offset, text.data(), text.size());
  }
  void PutLe32(uint64_t offset, uint32_t value) {
    StoreLe<uint32_t>(bytes_.data() + offset, value);
  }
  void PutLe64(uint64_t offset, uint64_t value) {
    StoreLe<uint64_t>(bytes_.data() + offset, value);
  }

  std::vector<Signature> Find() const {
    std::vector<RegionBytes> regions;
    for (const ByteRegion& region : RegionsToRead(bytes_.size())) {
      if (region.offset >= bytes_.size()) continue;
      const uint64_t length = std::min<uint64_t>(region.length, bytes_.size() - region.offset);
      regions.push_back(
          {.offset = region.offset,
           .bytes = std::span<const std::byte>(bytes_).subspan(region.offset, length)});
    }
    return FindKnownSignatures(bytes_.size(), regions);
  }

 private:
  std::vector<std::byte> bytes_;
};

auto Sig(const std::string& type, uint64_t offset) {
  return AllOf(Field(&Signature::type, type), Field(&Signature::magic_offset, offset));
}

TEST(FindKnownSignatures, ABlankImageHasNone) { EXPECT_THAT(Image(4 * kMiB).Find(), IsEmpty()); }

TEST(FindKnownSignatures, LvmPhysicalVolumeLabelInSectorOne) {
  Image image(4 * kMiB);
  image.Put(512, "LABELONE");
  image.Put(512 + 24, "LVM2 001");
  EXPECT_THAT(image.Find(), ElementsAre(Sig("LVM2_member", 512)));
}

TEST(FindKnownSignatures, LabelOneWithoutLvm2TypeIsLeftAlone) {
  Image image(4 * kMiB);
  image.Put(512, "LABELONE");
  EXPECT_THAT(image.Find(), IsEmpty());
}

TEST(FindKnownSignatures, FilesystemSuperblocksAtTheirOffsets) {
  Image image(4 * kMiB);
  image.Put(0, "XFSB");
  image.Put(1080, "\x53\xef");
  image.Put(65600, "_BHRfS_M");
  image.Put(4096 - 10, "SWAPSPACE2");
  EXPECT_THAT(image.Find(), ElementsAre(Sig("xfs", 0), Sig("ext2/3/4", 1080), Sig("swap", 4086),
                                        Sig("btrfs", 65600)));
}

TEST(FindKnownSignatures, SwapOfA64KiBPageSystem) {
  Image image(4 * kMiB);
  image.Put(65536 - 10, "SWAP-SPACE");
  EXPECT_THAT(image.Find(), ElementsAre(Sig("swap", 65526)));
}

TEST(FindKnownSignatures, MdSuperblocksAtStartAt4KiBAndAtTheEnd) {
  const uint64_t size = 4 * kMiB + 3 * 512;  // not a multiple of 4 KiB
  Image image(size);
  image.PutLe32(4096, 0xa92b4efc);
  image.PutLe32(4096 + 4, 1);
  const uint64_t v10 = ((size / 512 - 16) & ~uint64_t{7}) * 512;
  image.PutLe32(v10, 0xa92b4efc);
  image.PutLe32(v10 + 4, 1);
  const uint64_t v090 = (size & ~uint64_t{65535}) - 65536;
  image.PutLe32(v090, 0xa92b4efc);
  image.PutLe32(v090 + 4, 0);
  EXPECT_THAT(image.Find(),
              ElementsAre(Sig("linux_raid_member", 4096), Sig("linux_raid_member", v090),
                          Sig("linux_raid_member", v10)));
}

TEST(FindKnownSignatures, ZfsUberblockInAnyLabel) {
  Image image(4 * kMiB);
  image.PutLe64(128 * 1024 + 5 * 1024, 0x00bab10c);                       // L0
  image.PutLe64(4 * kMiB - 256 * 1024 + 128 * 1024, 0x0cb1ba0000000000);  // L3, big-endian
  EXPECT_THAT(image.Find(), ElementsAre(Sig("zfs_member", 128 * 1024 + 5 * 1024),
                                        Sig("zfs_member", 4 * kMiB - 131072)));
}

TEST(FindKnownSignatures, PartitionTablesAndCrypto) {
  Image image(4 * kMiB);
  image.Put(0, "LUKS\xba\xbe");
  image.Put(510, "\x55\xaa");
  image.Put(512, "EFI PART");
  EXPECT_THAT(image.Find(),
              ElementsAre(Sig("crypto_LUKS", 0), Sig("boot_sector", 510), Sig("gpt", 512)));
}

TEST(FindKnownSignatures, BytesNotReadAreNotLookedAt) {
  Image image(4 * kMiB);
  image.Put(2 * kMiB + 1080, "\x53\xef");  // no probe looks there
  EXPECT_THAT(image.Find(), IsEmpty());
}

TEST(FindKnownSignatures, ATinyImageIsReadWithoutOverrun) {
  Image image(2000);
  image.Put(1080, "\x53\xef");
  EXPECT_THAT(image.Find(), ElementsAre(Sig("ext2/3/4", 1080)));
}

TEST(RegionsToRead, AreMergedAlignedAndCoverTheEnd) {
  const uint64_t size = 64 * kMiB;
  const std::vector<ByteRegion> regions = RegionsToRead(size);
  ASSERT_FALSE(regions.empty());
  EXPECT_EQ(regions.front().offset, 0u);
  for (size_t i = 0; i < regions.size(); ++i) {
    EXPECT_EQ(regions[i].offset % 4096, 0u);
    EXPECT_EQ(regions[i].length % 4096, 0u);
    if (i > 0) {
      EXPECT_GT(regions[i].offset, regions[i - 1].offset + regions[i - 1].length);
    }
  }
  EXPECT_EQ(regions.back().offset + regions.back().length, size);
}

TEST(WithKnownSignatures, AddsOnlyWhatLibblkidDidNotName) {
  const std::vector<Signature> probed = {{.type = "ext4",
                                          .usage = "filesystem",
                                          .uuid = "u",
                                          .magic_offset = 1080,
                                          .magic_length = 2}};
  const std::vector<Signature> known = {
      {.type = "ext2/3/4", .usage = "filesystem", .magic_offset = 1080, .magic_length = 2},
      {.type = "LVM2_member", .usage = "raid", .magic_offset = 512, .magic_length = 32}};
  EXPECT_THAT(WithKnownSignatures(probed, known),
              ElementsAre(Sig("ext4", 1080), Sig("LVM2_member", 512)));
}

}  // namespace
}  // namespace fscanary::guard
