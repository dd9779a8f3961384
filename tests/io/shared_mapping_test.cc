// io::SharedMapping::Store: a page that cannot be faulted in is an error of
// the store, not the death of the process; other SIGBUS are left alone.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "io/posix.h"
#include "tests/temp_dir.h"

namespace fscanary::io {
namespace {

// A file of `pages` pages mapped whole, and a descriptor to shrink it by.
class SharedMappingStore : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Join("mapped");
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(4 * PageSize())), 0);
    auto mapping = SharedMapping::Map(fd_, 0, 4 * PageSize(), path_);
    ASSERT_TRUE(mapping.ok()) << mapping.status();
    mapping_.emplace(*std::move(mapping));
  }
  void TearDown() override { ::close(fd_); }

  testing::TempDir dir_;
  std::string path_;
  int fd_ = -1;
  std::optional<SharedMapping> mapping_;
};

TEST_F(SharedMappingStore, StoredBytesReachTheFile) {
  const std::vector<std::byte> data(100, std::byte{0x5a});
  ASSERT_TRUE(mapping_->Store(PageSize() + 7, data).ok());
  ASSERT_TRUE(mapping_->Sync().ok());
  std::vector<std::byte> read(100);
  ASSERT_EQ(::pread(fd_, read.data(), read.size(), static_cast<off_t>(PageSize() + 7)), 100);
  EXPECT_EQ(read, data);
}

TEST_F(SharedMappingStore, AStoreOutsideTheMappingIsRefused) {
  const std::vector<std::byte> data(2, std::byte{1});
  const absl::Status stored = mapping_->Store(4 * PageSize() - 1, data);
  EXPECT_TRUE(absl::IsInvalidArgument(stored)) << stored;
}

// A page past the end of the file cannot be faulted in: SIGBUS, which the
// store turns into an error naming where it faulted; the process lives on.
TEST_F(SharedMappingStore, AStoreThatFaultsIsAnErrorNamingTheOffset) {
  ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(2 * PageSize())), 0);
  const std::vector<std::byte> data(2 * PageSize(), std::byte{0x33});
  const absl::Status stored = mapping_->Store(PageSize(), data);
  ASSERT_TRUE(absl::IsUnavailable(stored)) << stored;
  // Somewhere in the page past the end (memcpy may copy in any order).
  const std::string message(stored.message());
  const size_t at = message.find("SIGBUS) at file offset ");
  ASSERT_NE(at, std::string::npos) << stored;
  uint64_t offset = 0;
  ASSERT_TRUE(absl::SimpleAtoi(message.substr(at + 23, message.find(':', at) - (at + 23)), &offset))
      << stored;
  EXPECT_GE(offset, 2 * PageSize());
  EXPECT_LT(offset, 3 * PageSize());
  // The mapping stays usable.
  EXPECT_TRUE(mapping_->Store(0, std::vector<std::byte>(8, std::byte{1})).ok());
}

// The guard is for Store only: a fault anywhere else still kills, as it would
// without fscanary's handler.
TEST_F(SharedMappingStore, AFaultOutsideAStoreStillKills) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_TRUE(mapping_->Store(0, std::vector<std::byte>(8, std::byte{1})).ok());
  ASSERT_EQ(::ftruncate(fd_, static_cast<off_t>(PageSize())), 0);
  void* unguarded = ::mmap(nullptr, 4 * PageSize(), PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  ASSERT_NE(unguarded, MAP_FAILED);
  volatile std::byte* beyond = static_cast<std::byte*>(unguarded) + 2 * PageSize();
  // Killed by SIGBUS; under AddressSanitizer, whose handler was there first,
  // its report and exit status 1.
  const auto died_of_the_fault = [](int status) {
    return (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) ||
           (WIFEXITED(status) && WEXITSTATUS(status) != 0);
  };
  EXPECT_EXIT(*beyond = std::byte{1}, died_of_the_fault, "");
  // A SIGBUS sent (kill -BUS), not raised by a fault, is not swallowed.
  EXPECT_EXIT(::raise(SIGBUS), died_of_the_fault, "");
  ::munmap(unguarded, 4 * PageSize());
}

}  // namespace
}  // namespace fscanary::io
