#include "io/engine.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

#include "gtest/gtest.h"
#include "io/posix.h"
#include "tests/temp_dir.h"

namespace fscanary::io {
namespace {

// Every behaviour is checked on both engines.
class EngineTest : public ::testing::TestWithParam<EngineKind> {
 protected:
  void SetUp() override {
    auto choice = CreateEngine({.kind = GetParam(), .queue_depth = 8, .buffer_size = 4096});
    if (!choice.ok() && GetParam() == EngineKind::kIoUring) {
      GTEST_SKIP() << "io_uring unavailable here: " << choice.status();
    }
    ASSERT_TRUE(choice.ok()) << choice.status();
    engine_ = std::move(choice->engine);
    path_ = dir_.Join("target");
    auto fd = Open(path_, O_RDWR | O_CREAT | O_DIRECT);
    ASSERT_TRUE(fd.ok()) << fd.status();
    fd_ = std::move(*fd);
    ASSERT_TRUE(Preallocate(fd_.get(), 16 * 4096, path_).ok());
  }

  std::vector<IoCompletion> ReapAll(size_t count) {
    std::vector<IoCompletion> completions;
    while (completions.size() < count) {
      EXPECT_TRUE(engine_->Reap(count - completions.size(), completions).ok());
    }
    return completions;
  }

  testing::TempDir dir_;
  std::string path_;
  UniqueFd fd_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineTest, ReportsItsName) {
  EXPECT_EQ(engine_->Name(), GetParam() == EngineKind::kIoUring ? "io_uring" : "psync");
}

TEST_P(EngineTest, WrittenBlocksReadBackIdentically) {
  for (uint32_t i = 0; i < 8; ++i) {
    std::memset(engine_->Buffer(i).data(), 'a' + static_cast<int>(i), 4096);
    ASSERT_TRUE(engine_
                    ->Submit({.op = IoOp::kWrite,
                              .fd = fd_.get(),
                              .offset = i * 4096ull,
                              .length = 4096,
                              .buffer = i,
                              .dsync = true,
                              .tag = 100 + i})
                    .ok());
  }
  for (const IoCompletion& completion : ReapAll(8)) EXPECT_EQ(completion.result, 4096);

  for (uint32_t i = 0; i < 8; ++i) {
    std::memset(engine_->Buffer(i).data(), 0, 4096);
    ASSERT_TRUE(engine_
                    ->Submit({.op = IoOp::kRead,
                              .fd = fd_.get(),
                              .offset = (7 - i) * 4096ull,
                              .length = 4096,
                              .buffer = i,
                              .tag = i})
                    .ok());
  }
  for (const IoCompletion& completion : ReapAll(8)) {
    ASSERT_EQ(completion.result, 4096);
    const auto slot = static_cast<uint32_t>(completion.tag);
    EXPECT_EQ(static_cast<char>(engine_->Buffer(slot)[100]), 'a' + static_cast<int>(7 - slot));
  }
}

TEST_P(EngineTest, ReadAtEndOfFileIsShort) {
  ASSERT_TRUE(engine_
                  ->Submit({.op = IoOp::kRead,
                            .fd = fd_.get(),
                            .offset = 16 * 4096,
                            .length = 4096,
                            .buffer = 0,
                            .tag = 1})
                  .ok());
  const auto completions = ReapAll(1);
  EXPECT_EQ(completions[0].result, 0);
}

TEST_P(EngineTest, FailedRequestCarriesNegativeErrno) {
  auto write_only = Open(path_, O_WRONLY);
  ASSERT_TRUE(write_only.ok());
  ASSERT_TRUE(engine_
                  ->Submit({.op = IoOp::kRead,
                            .fd = write_only->get(),
                            .offset = 0,
                            .length = 4096,
                            .buffer = 0,
                            .tag = 1})
                  .ok());
  const auto completions = ReapAll(1);
  EXPECT_EQ(completions[0].result, -EBADF);
}

TEST_P(EngineTest, DataSyncCompletesWithZeroOrTheSyncsErrno) {
  ASSERT_TRUE(engine_->Submit({.op = IoOp::kDataSync, .fd = fd_.get(), .tag = 3}).ok());
  auto completions = ReapAll(1);
  EXPECT_EQ(completions[0].tag, 3u);
  EXPECT_EQ(completions[0].result, 0);
  // A pipe cannot be synced: the errno comes back as for a failed transfer.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  ASSERT_TRUE(engine_->Submit({.op = IoOp::kDataSync, .fd = write_end.get(), .tag = 4}).ok());
  completions = ReapAll(1);
  EXPECT_EQ(completions[0].result, -EINVAL);
}

TEST_P(EngineTest, MoreThanQueueDepthOutstandingIsRefused) {
  for (uint32_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(engine_
                    ->Submit({.op = IoOp::kRead,
                              .fd = fd_.get(),
                              .offset = i * 4096ull,
                              .length = 4096,
                              .buffer = i,
                              .tag = i})
                    .ok());
  }
  EXPECT_EQ(
      engine_->Submit({.op = IoOp::kRead, .fd = fd_.get(), .length = 4096, .buffer = 0}).code(),
      absl::StatusCode::kFailedPrecondition);
  ReapAll(8);
}

TEST_P(EngineTest, RequestLargerThanItsBufferIsRefused) {
  EXPECT_EQ(
      engine_->Submit({.op = IoOp::kRead, .fd = fd_.get(), .length = 8192, .buffer = 0}).code(),
      absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(BothEngines, EngineTest,
                         ::testing::Values(EngineKind::kIoUring, EngineKind::kPsync),
                         [](const ::testing::TestParamInfo<EngineKind>& param_info) {
                           return param_info.param == EngineKind::kIoUring ? "io_uring" : "psync";
                         });

TEST(CreateEngine, ZeroQueueDepthIsRefused) {
  EXPECT_EQ(CreateEngine({.queue_depth = 0}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseEngineKind, KnowsTheThreeNamesAndRejectsOthers) {
  EXPECT_EQ(ParseEngineKind("auto").value(), EngineKind::kAuto);
  EXPECT_EQ(ParseEngineKind("io_uring").value(), EngineKind::kIoUring);
  EXPECT_EQ(ParseEngineKind("psync").value(), EngineKind::kPsync);
  EXPECT_FALSE(ParseEngineKind("libaio").ok());
}

}  // namespace
}  // namespace fscanary::io
