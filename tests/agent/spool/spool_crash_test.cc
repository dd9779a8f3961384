// A child process appends and is killed with SIGKILL at an arbitrary point:
// every record whose Append returned is recovered, and nothing acknowledged
// comes back.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <set>

#include "agent/spool/spool.h"
#include "io/posix.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/temp_dir.h"

namespace fscanary::spool {
namespace {

using ::fscanary::spool::testing::AllPending;
using ::fscanary::spool::testing::OpenOrDie;
using ::fscanary::spool::testing::SmallOptions;
using ::fscanary::testing::TempDir;

// Runs in the child: appends until killed, writing each sequence whose Append
// returned to `report_fd`. Never returns.
[[noreturn]] void AppendUntilKilled(const SpoolOptions& options, int report_fd, uint64_t seed) {
  auto spool = Spool::Open(options, testing::SumReports);
  if (!spool.ok()) _exit(2);
  std::mt19937_64 random(seed);
  for (uint64_t i = 0;; ++i) {
    const RecordClass record_class = i % 4 == 3 ? RecordClass::kRoutine : RecordClass::kFinding;
    const auto sequence = (*spool)->Append(record_class, std::string(1 + random() % 600, 'p'));
    if (!sequence.ok()) _exit(3);
    const uint64_t value = *sequence;
    if (::write(report_fd, &value, sizeof(value)) != sizeof(value)) _exit(4);
  }
}

// Reads one sequence the child reported; false at end of file (the child died).
bool ReadReport(int fd, uint64_t& value) {
  size_t got = 0;
  while (got < sizeof(value)) {
    const ssize_t n = ::read(fd, reinterpret_cast<char*>(&value) + got, sizeof(value) - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(SpoolCrash, EveryReturnedAppendSurvivesSigkillAndNoAcknowledgedRecordReturns) {
  TempDir dir;
  SpoolOptions options = SmallOptions(dir.path());
  options.max_bytes = 4 << 20;  // no capacity loss in this test
  const uint64_t seed = io::RandomU64();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 random(seed);

  std::set<uint64_t> expected;  // reported by a child and not acknowledged since
  std::set<uint64_t> acknowledged;
  uint64_t newest = 0;
  for (int iteration = 0; iteration < 20; ++iteration) {
    int fds[2];
    ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
    const uint64_t child_seed = random();
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      AppendUntilKilled(options, fds[1], child_seed);
    }
    ::close(fds[1]);
    const size_t wanted = 1 + random() % 40;
    std::vector<uint64_t> reported;
    for (uint64_t value; reported.size() < wanted && ReadReport(fds[0], value);) {
      reported.push_back(value);
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ::close(fds[0]);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child failed on its own: status " << status;
    ASSERT_EQ(reported.size(), wanted);
    EXPECT_GT(reported.front(), newest) << "a sequence was reused";
    newest = reported.back();
    expected.insert(reported.begin(), reported.end());

    auto spool = OpenOrDie(options);
    ASSERT_NE(spool, nullptr);
    std::set<uint64_t> pending;
    for (const Record& record : AllPending(*spool)) pending.insert(record.sequence);
    for (const uint64_t sequence : expected) {
      ASSERT_TRUE(pending.contains(sequence))
          << "lost " << sequence << " in iteration " << iteration;
    }
    for (const uint64_t sequence : acknowledged) {
      ASSERT_FALSE(pending.contains(sequence)) << "acknowledged " << sequence << " came back";
    }
    EXPECT_EQ(spool->Stats().damaged_records_skipped, 0u);
    newest = std::max(newest, *pending.rbegin());

    // Acknowledge about half of what is there, so that marks and reclaimed
    // segments are part of what the next crash must respect.
    std::vector<SequenceRange> ranges;
    for (const uint64_t sequence : pending) {
      if (random() % 2 == 0) continue;
      ranges.emplace_back(sequence, sequence);
      acknowledged.insert(sequence);
      expected.erase(sequence);
    }
    ASSERT_TRUE(spool->Acknowledge(ranges).ok());
  }
}

}  // namespace
}  // namespace fscanary::spool
