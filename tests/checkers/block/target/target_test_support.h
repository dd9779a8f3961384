#pragma once
// Shared by the target tests: raw bytes into and out of a file or device
// without going through the code under test, and the version 1 label of the
// golden file.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "checkers/block/target/label.h"

namespace fscanary::target::testing {

// pwrite/pread of a whole range (buffered, then fsync for the write), aborting
// the test on failure.
void PutBytes(const std::string& path, uint64_t offset, std::string_view bytes);
std::vector<std::byte> GetBytes(const std::string& path, uint64_t offset, uint64_t length);
// Whether [offset, offset + length) of `path` is all zero.
bool AllZero(const std::string& path, uint64_t offset, uint64_t length);

// The label of tests/checkers/block/target/golden/label_v1.hex (what an agent of
// before label version 2 wrote) and its fields.
std::vector<std::byte> GoldenV1Label();
inline constexpr Label kGoldenLabel{.target_id = 0x0123'4567'89AB'CDEF,
                                    .block_size = 4096,
                                    .data_start = 4096,
                                    .declared_size = 4096 + 256 * 4096,
                                    .created_ns = 1'700'000'000'000'000'000};

// A file target of `size` bytes carrying the version 1 golden label, and its
// state in `state_dir`: what an older agent left behind.
void MakeVersion1Target(const std::string& path, uint64_t size, const std::string& state_dir);

// The ext2/3/4 magic, LVM's physical volume label (sector 1).
void PutExtSuperblockMagic(const std::string& path);
void PutLvmLabel(const std::string& path);

}  // namespace fscanary::target::testing
