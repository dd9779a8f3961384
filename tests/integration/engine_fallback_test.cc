// With io_uring forbidden by seccomp (as on an old kernel or in a locked-down
// container), `--engine auto` falls back to psync, says so, and still detects
// corruption; an explicit `--engine io_uring` fails instead of falling back.

#include <cerrno>
#include <cstring>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/scratch.h"
#include "tests/integration/seccomp_filter.h"

namespace fscanary::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr uint64_t kBlocks = 32;

class EngineFallbackTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    if (!IoUringDenial::Supported()) GTEST_SKIP() << "no seccomp audit arch for this CPU";
    ASSERT_TRUE(scratch_.Prepare().ok());
  }

  const IoUringDenial denial_{GetParam()};
  const SpawnOptions without_io_uring_{.before_exec = [this] { return denial_.Install(); }};
  Scratch scratch_{{.blocks = kBlocks}};
};

TEST_P(EngineFallbackTest, AutoFallsBackToPsyncAndStillFindsCorruption) {
  const AgentResult write = scratch_.Write({}, without_io_uring_);
  ASSERT_EQ(write.exit_code, 0) << write.Describe();
  EXPECT_EQ(write.json["engine"], "psync");
  EXPECT_EQ(write.json["blocks_written"], kBlocks);
  EXPECT_THAT(write.process.err, HasSubstr("io_uring unavailable"));
  EXPECT_THAT(write.process.err, HasSubstr(std::strerror(GetParam())));

  const AgentResult clean = scratch_.Verify({}, without_io_uring_);
  ASSERT_EQ(clean.exit_code, 0) << clean.Describe();
  EXPECT_EQ(clean.json["engine"], "psync");
  EXPECT_EQ(clean.json["blocks_verified"], kBlocks);
  EXPECT_EQ(clean.json["findings"], json::array());

  const uint64_t offset = scratch_.layout().BlockOffset(3);
  absl::StatusOr<std::vector<std::byte>> block =
      ReadBytes(scratch_.target(), offset, scratch_.layout().block_size);
  ASSERT_TRUE(block.ok()) << block.status();
  (*block)[1000] ^= std::byte{0x01};
  ASSERT_TRUE(WriteBytes(scratch_.target(), offset, *block).ok());
  const AgentResult corrupt = scratch_.Verify({}, without_io_uring_);
  ASSERT_EQ(corrupt.exit_code, 1) << corrupt.Describe();
  EXPECT_EQ(corrupt.json["engine"], "psync");
  ASSERT_EQ(corrupt.json["findings"].size(), 1u) << corrupt.Describe();
  EXPECT_EQ(corrupt.json["findings"][0]["kind"], "checksum_mismatch");
  EXPECT_EQ(corrupt.json["findings"][0]["offset"], offset);
  EXPECT_EQ(corrupt.json["findings"][0]["differing_bytes"], json({{1000, 1001}}));
}

TEST_P(EngineFallbackTest, ExplicitIoUringFailsInsteadOfFallingBack) {
  Scratch scratch({.blocks = kBlocks, .engine = "io_uring"});
  ASSERT_TRUE(scratch.Prepare().ok());
  const AgentResult write = scratch.Write({}, without_io_uring_);
  EXPECT_EQ(write.exit_code, 2) << write.Describe();
  EXPECT_THAT(write.process.err, HasSubstr("io_uring"));
  EXPECT_EQ(write.process.out, "");
}

std::string ErrnoName(const ::testing::TestParamInfo<int>& error) {
  return error.param == ENOSYS ? "ENOSYS" : error.param == EPERM ? "EPERM" : "errno";
}

INSTANTIATE_TEST_SUITE_P(Seccomp, EngineFallbackTest, ::testing::Values(ENOSYS, EPERM), ErrnoName);

// The control: without the filter the same command uses io_uring, so the
// filter is what made the agent fall back.
TEST(EngineFallback, WithoutTheFilterAutoUsesIoUring) {
  Scratch scratch({.blocks = kBlocks});
  ASSERT_TRUE(scratch.Prepare().ok());
  const AgentResult write = scratch.Write();
  ASSERT_EQ(write.exit_code, 0) << write.Describe();
  if (write.json["engine"] != "io_uring") {
    GTEST_SKIP() << "io_uring is unavailable here even without the filter: " << write.process.err;
  }
  EXPECT_EQ(write.process.err, "");
  const AgentResult verify = scratch.Verify();
  EXPECT_EQ(verify.json["engine"], "io_uring") << verify.Describe();
}

}  // namespace
}  // namespace fscanary::testing
