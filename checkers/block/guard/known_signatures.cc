#include "checkers/block/guard/known_signatures.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "common/endian.h"

namespace fscanary::guard {
namespace {

constexpr uint64_t kKiB = 1024;
constexpr uint64_t kHeadBytes = 72 * kKiB;  // 0 to past btrfs at 64 KiB + 64
constexpr uint64_t kZfsLabel = 256 * kKiB;
constexpr uint64_t kZfsUberblocks = 128 * kKiB;  // offset of the array in a label
constexpr uint64_t kZfsUberblockStride = kKiB;   // the smallest slot (ashift 9 and 10)
constexpr uint64_t kMdMagic = 0xa92b4efc;
constexpr uint64_t kZfsMagic = 0x00bab10c;
constexpr uint64_t kPageSizes[] = {4096, 8192, 16384, 32768, 65536};

// md's superblocks: v1.1 at 0, v1.2 at 4 KiB, v1.0 near the end, v0.90 in
// the last 64 KiB-aligned 64 KiB but one.
std::optional<uint64_t> MdV10Offset(uint64_t size) {
  if (size < 16 * kKiB) return std::nullopt;
  return ((size / 512 - 16) & ~uint64_t{7}) * 512;
}
std::optional<uint64_t> MdV090Offset(uint64_t size) {
  if (size < 128 * kKiB) return std::nullopt;
  return (size & ~(64 * kKiB - 1)) - 64 * kKiB;
}
// ZFS keeps four labels: two at the start, two at the end of the device
// (rounded down to 256 KiB).
std::vector<uint64_t> ZfsLabelOffsets(uint64_t size) {
  std::vector<uint64_t> offsets;
  if (size >= 2 * kZfsLabel) offsets.insert(offsets.end(), {0, kZfsLabel});
  const uint64_t aligned = size & ~(kZfsLabel - 1);
  if (aligned >= 4 * kZfsLabel) {
    offsets.insert(offsets.end(), {aligned - 2 * kZfsLabel, aligned - kZfsLabel});
  }
  return offsets;
}

class Finder {
 public:
  Finder(uint64_t size, std::span<const RegionBytes> regions) : size_(size), regions_(regions) {}

  // The `length` bytes at `offset`, if one region holds all of them.
  std::optional<std::span<const std::byte>> At(uint64_t offset, uint64_t length) const {
    if (offset + length > size_) return std::nullopt;
    for (const RegionBytes& region : regions_) {
      if (offset >= region.offset && offset + length <= region.offset + region.bytes.size()) {
        return region.bytes.subspan(offset - region.offset, length);
      }
    }
    return std::nullopt;
  }
  bool Has(uint64_t offset, std::string_view magic) const {
    const auto bytes = At(offset, magic.size());
    return bytes && std::memcmp(bytes->data(), magic.data(), magic.size()) == 0;
  }
  bool HasLe32(uint64_t offset, uint32_t value) const {
    const auto bytes = At(offset, 4);
    return bytes && LoadLe<uint32_t>(bytes->data()) == value;
  }
  bool HasBe32(uint64_t offset, uint32_t value) const {
    return HasLe32(offset, __builtin_bswap32(value));
  }
  bool HasEither64(uint64_t offset, uint64_t value) const {
    const auto bytes = At(offset, 8);
    if (!bytes) return false;
    const uint64_t word = LoadLe<uint64_t>(bytes->data());
    return word == value || word == __builtin_bswap64(value);
  }

 private:
  uint64_t size_;
  std::span<const RegionBytes> regions_;
};

void Add(std::vector<Signature>& found, std::string type, std::string usage, uint64_t offset,
         uint64_t length) {
  found.push_back({.type = std::move(type),
                   .usage = std::move(usage),
                   .magic_offset = offset,
                   .magic_length = length});
}

void FindMd(const Finder& at, uint64_t size, std::vector<Signature>& found) {
  // v1.x: magic, then major version 1, little-endian on every machine.
  std::vector<uint64_t> v1 = {0, 4 * kKiB};
  if (const auto end = MdV10Offset(size)) v1.push_back(*end);
  for (const uint64_t offset : v1) {
    if (at.HasLe32(offset, kMdMagic) && at.HasLe32(offset + 4, 1)) {
      Add(found, "linux_raid_member", "raid", offset, 8);
    }
  }
  // v0.90: major version 0, in the byte order of the machine that wrote it.
  if (const auto offset = MdV090Offset(size)) {
    if ((at.HasLe32(*offset, kMdMagic) && at.HasLe32(*offset + 4, 0)) ||
        (at.HasBe32(*offset, kMdMagic) && at.HasBe32(*offset + 4, 0))) {
      Add(found, "linux_raid_member", "raid", *offset, 8);
    }
  }
}

void FindZfs(const Finder& at, uint64_t size, std::vector<Signature>& found) {
  for (const uint64_t label : ZfsLabelOffsets(size)) {
    for (uint64_t slot = label + kZfsUberblocks; slot < label + kZfsLabel;
         slot += kZfsUberblockStride) {
      if (at.HasEither64(slot, kZfsMagic)) {
        Add(found, "zfs_member", "filesystem", slot, 8);
        break;  // one per label is enough to name it
      }
    }
  }
}

}  // namespace

std::vector<ByteRegion> RegionsToRead(uint64_t size) {
  std::vector<ByteRegion> regions = {{.offset = 0, .length = kHeadBytes}};
  for (const uint64_t label : ZfsLabelOffsets(size)) {
    regions.push_back({.offset = label + kZfsUberblocks, .length = kZfsLabel - kZfsUberblocks});
  }
  for (const auto offset : {MdV10Offset(size), MdV090Offset(size)}) {
    if (offset) regions.push_back({.offset = *offset, .length = 4 * kKiB});
  }
  std::sort(regions.begin(), regions.end(),
            [](const ByteRegion& a, const ByteRegion& b) { return a.offset < b.offset; });
  std::vector<ByteRegion> merged;
  for (const ByteRegion& region : regions) {
    if (!merged.empty() && region.offset <= merged.back().offset + merged.back().length) {
      ByteRegion& last = merged.back();
      last.length =
          std::max(last.offset + last.length, region.offset + region.length) - last.offset;
    } else {
      merged.push_back(region);
    }
  }
  return merged;
}

std::vector<Signature> FindKnownSignatures(uint64_t size, std::span<const RegionBytes> regions) {
  const Finder at(size, regions);
  std::vector<Signature> found;
  if (at.Has(0, "XFSB")) Add(found, "xfs", "filesystem", 0, 4);
  if (at.Has(0, "LUKS\xba\xbe")) Add(found, "crypto_LUKS", "crypto", 0, 6);
  // An MBR partition table or a boot sector (FAT, NTFS) ends with 0x55AA.
  if (at.Has(510, "\x55\xaa")) Add(found, "boot_sector", "other", 510, 2);
  for (uint64_t sector = 0; sector < 4; ++sector) {
    if (at.Has(sector * 512, "LABELONE") && at.Has(sector * 512 + 24, "LVM2 001")) {
      Add(found, "LVM2_member", "raid", sector * 512, 32);
    }
  }
  for (const uint64_t lba1 : {uint64_t{512}, uint64_t{4096}}) {
    if (at.Has(lba1, "EFI PART")) Add(found, "gpt", "partition table", lba1, 8);
  }
  if (at.Has(1080, "\x53\xef")) Add(found, "ext2/3/4", "filesystem", 1080, 2);
  if (at.Has(4096 + 24, "\xc6\x85\x73\xf6\x4e\x1a\x45\xca\x82\x65\xf5\x7f\x48\xba\x6d\x81")) {
    Add(found, "bcache", "other", 4096 + 24, 16);
  }
  for (const uint64_t page : kPageSizes) {
    if (at.Has(page - 10, "SWAPSPACE2") || at.Has(page - 10, "SWAP-SPACE")) {
      Add(found, "swap", "other", page - 10, 10);
    }
  }
  if (at.Has(64 * kKiB + 64, "_BHRfS_M")) Add(found, "btrfs", "filesystem", 64 * kKiB + 64, 8);
  FindMd(at, size, found);
  FindZfs(at, size, found);
  std::stable_sort(found.begin(), found.end(), [](const Signature& a, const Signature& b) {
    return a.magic_offset < b.magic_offset;
  });
  return found;
}

std::vector<Signature> WithKnownSignatures(std::vector<Signature> probed,
                                           const std::vector<Signature>& known) {
  const size_t probed_count = probed.size();
  for (const Signature& candidate : known) {
    const bool listed = std::any_of(
        probed.begin(), probed.begin() + static_cast<ptrdiff_t>(probed_count),
        [&candidate](const Signature& seen) {
          return seen.magic_length > 0 && seen.magic_offset / 512 == candidate.magic_offset / 512;
        });
    if (!listed) probed.push_back(candidate);
  }
  return probed;
}

}  // namespace fscanary::guard
