#pragma once
// fscanary's own look for the signatures other owners leave on a disk or an
// image: LVM, md RAID, ZFS, bcache, LUKS, partition tables, and the
// filesystems and swap at their usual offsets. Pure (bytes in, signatures out),
// so it is tested with hand-built buffers; it does not depend on what libblkid
// happens to recognise, and it also runs on file targets, which libblkid is
// never asked about. The caller reads the regions RegionsToRead names.

#include <cstdint>
#include <span>
#include <vector>

#include "checkers/block/guard/device_inspection.h"

namespace fscanary::guard {

// [offset, offset + length) of a target. Offsets and lengths are multiples of
// 4096, so an O_DIRECT descriptor can read them as they are.
struct ByteRegion {
  uint64_t offset = 0;
  uint64_t length = 0;
};

// What a target of `size` bytes is read at, merged and in ascending order.
// The last region may reach past `size`: it reads short.
std::vector<ByteRegion> RegionsToRead(uint64_t size);

// Bytes read from a target at `offset` (fewer than asked at its end).
struct RegionBytes {
  uint64_t offset = 0;
  std::span<const std::byte> bytes;
};

// Every known signature in `regions` of a target of `size` bytes, in order of
// offset, each with its type (libblkid's name where it has one: "LVM2_member",
// "ext4", "xfs", "btrfs", "swap", "linux_raid_member", "zfs_member",
// "bcache", "crypto_LUKS", "gpt", "dos"), usage, and where its magic is
// (magic_offset, magic_length). Bytes it was not given are not looked at.
std::vector<Signature> FindKnownSignatures(uint64_t size, std::span<const RegionBytes> regions);

// `probed` (libblkid's findings) plus each of `known` whose magic lies in no
// 512-byte sector that a probed signature's magic lies in: one signature is
// named once, by libblkid's richer description where it has one.
std::vector<Signature> WithKnownSignatures(std::vector<Signature> probed,
                                           const std::vector<Signature>& known);

}  // namespace fscanary::guard
