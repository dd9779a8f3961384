#include "tests/checkers/block/target/target_test_support.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "checkers/block/state/block_state.h"
#include "checkers/block/target/scratch_target.h"
#include "gtest/gtest.h"
#include "tests/golden_bytes.h"

namespace fscanary::target::testing {

void PutBytes(const std::string& path, uint64_t offset, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset)),
            static_cast<ssize_t>(bytes.size()));
  ASSERT_EQ(::fsync(fd), 0);
  ::close(fd);
}

std::vector<std::byte> GetBytes(const std::string& path, uint64_t offset, uint64_t length) {
  std::vector<std::byte> bytes(length);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) std::abort();
  const ssize_t got = ::pread(fd, bytes.data(), length, static_cast<off_t>(offset));
  ::close(fd);
  bytes.resize(got < 0 ? 0 : static_cast<size_t>(got));
  return bytes;
}

bool AllZero(const std::string& path, uint64_t offset, uint64_t length) {
  const std::vector<std::byte> bytes = GetBytes(path, offset, length);
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

std::vector<std::byte> GoldenV1Label() {
  return fscanary::testing::ReadGoldenHex("tests/checkers/block/target/golden/label_v1.hex");
}

void MakeVersion1Target(const std::string& path, uint64_t size, const std::string& state_dir) {
  const std::vector<std::byte> label = GoldenV1Label();
  PutBytes(path, 0, std::string_view(reinterpret_cast<const char*>(label.data()), label.size()));
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0) << path;
  ASSERT_TRUE(state::BlockStateFile::Create(state_dir, GeometryOf(kGoldenLabel)).ok());
}

void PutExtSuperblockMagic(const std::string& path) { PutBytes(path, 1080, "\x53\xef"); }

void PutLvmLabel(const std::string& path) {
  PutBytes(path, 512, "LABELONE");
  PutBytes(path, 512 + 24, "LVM2 001");
}

}  // namespace fscanary::target::testing
