// The daemon's turn over its checkers: what is spooled, what is remembered as
// reported, when a checker may commit, and how a failing one is retried.
#include "agent/daemon/checker_steps.h"

#include <cerrno>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/utf8.h"
#include "gtest/gtest.h"
#include "tests/status_assertions.h"
#include "tests/temp_dir.h"

namespace fscanary::daemon {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;

// A checker that returns what the test queued, one result per Step, and
// counts its commits.
class ScriptedChecker final : public checker::Checker {
 public:
  std::string_view name() const override { return "scripted"; }
  checker::TargetDescription Describe() const override { return {.path = "/scratch"}; }
  uint64_t next_due_ns() const override { return 0; }
  absl::StatusOr<std::vector<checker::Finding>> Step(uint64_t now_ns) override {
    step_times.push_back(now_ns);
    if (results.empty()) return std::vector<checker::Finding>{};
    const Result result = results.front();
    results.pop_front();
    if (!result.error.ok()) return result.error;
    return result.findings;
  }
  absl::Status CommitReported() override {
    ++commits;
    return absl::OkStatus();
  }
  checker::Activity TakeActivity() override { return {}; }

  // What a Step returns: the error if not OK, else the findings.
  struct Result {
    std::vector<checker::Finding> findings;
    absl::Status error;
  };
  std::deque<Result> results;
  std::vector<uint64_t> step_times;
  int commits = 0;
};

checker::Finding At(uint64_t offset, bool persistent) {
  checker::Finding finding;
  finding.persistent = persistent;
  finding.key = {.target_id = 7, .offset = offset, .expected_generation = 3, .kind = 1};
  return finding;
}

// A step that finds `finding`.
ScriptedChecker::Result Found(const checker::Finding& finding) { return {.findings = {finding}}; }

class CheckerSteps : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scripted = std::make_unique<ScriptedChecker>();
    checker_ = scripted.get();
    checkers_.push_back({.target_name = "scratch", .checker = std::move(scripted)});
    ASSERT_OK_AND_ASSIGN(ReportedFindings reported, ReportedFindings::Open(dir_.Join("reported")));
    reported_.emplace(std::move(reported));
  }

  // One turn at `now_ns`; the offsets of what was spooled.
  std::vector<uint64_t> Turn(uint64_t now_ns) {
    std::vector<uint64_t> spooled;
    StepDueCheckers(
        checkers_, [now_ns] { return now_ns; }, *reported_,
        [&](const ActiveChecker&, const checker::Finding& finding) {
          if (refuse_spool_) return absl::UnavailableError("spool full");
          spooled.push_back(finding.key.offset);
          return absl::OkStatus();
        });
    return spooled;
  }

  testing::TempDir dir_;
  std::vector<ActiveChecker> checkers_;
  ScriptedChecker* checker_ = nullptr;
  std::optional<ReportedFindings> reported_;
  bool refuse_spool_ = false;
};

TEST_F(CheckerSteps, APersistentFindingIsSpooledOnceAcrossPasses) {
  checker_->results = {Found(At(4096, true)), Found(At(4096, true))};
  EXPECT_EQ(Turn(1 * kSecond), std::vector<uint64_t>{4096});
  EXPECT_EQ(Turn(2 * kSecond), std::vector<uint64_t>{});
  EXPECT_EQ(checker_->commits, 2);
}

TEST_F(CheckerSteps, APersistentFindingStaysReportedAfterARestart) {
  checker_->results = {Found(At(4096, true))};
  EXPECT_EQ(Turn(1 * kSecond), std::vector<uint64_t>{4096});
  ASSERT_OK_AND_ASSIGN(ReportedFindings reopened, ReportedFindings::Open(dir_.Join("reported")));
  reported_.emplace(std::move(reopened));
  checker_->results = {Found(At(4096, true))};
  EXPECT_EQ(Turn(2 * kSecond), std::vector<uint64_t>{});
}

TEST_F(CheckerSteps, ATransientFindingIsSpooledEachTimeAndDoesNotHideALaterPersistentOne) {
  checker_->results = {Found(At(4096, false)), Found(At(4096, false)), Found(At(4096, true)),
                       Found(At(4096, true))};
  EXPECT_EQ(Turn(1 * kSecond), std::vector<uint64_t>{4096});
  EXPECT_EQ(Turn(2 * kSecond), std::vector<uint64_t>{4096});
  EXPECT_EQ(Turn(3 * kSecond), std::vector<uint64_t>{4096});
  EXPECT_EQ(Turn(4 * kSecond), std::vector<uint64_t>{});
}

TEST_F(CheckerSteps, AFindingWithoutAKeyIsSpooledEveryTime) {
  checker::Finding unkeyed = At(0, true);
  unkeyed.key.kind = 0;
  checker_->results = {Found(unkeyed), Found(unkeyed)};
  EXPECT_EQ(Turn(1 * kSecond).size(), 1u);
  EXPECT_EQ(Turn(2 * kSecond).size(), 1u);
}

TEST_F(CheckerSteps, NothingIsCommittedOrRememberedUntilEveryFindingIsSpooled) {
  refuse_spool_ = true;
  checker_->results = {Found(At(4096, true))};
  EXPECT_EQ(Turn(1 * kSecond), std::vector<uint64_t>{});
  EXPECT_EQ(checker_->commits, 0);
  EXPECT_FALSE(reported_->Contains(At(4096, true).key));
  // Handed over again once the spool takes it.
  refuse_spool_ = false;
  checker_->results = {Found(At(4096, true))};
  EXPECT_EQ(Turn(2 * kSecond), std::vector<uint64_t>{4096});
  EXPECT_EQ(checker_->commits, 1);
}

TEST_F(CheckerSteps, AFailedStepIsSpooledAsAnIoErrorOncePerRunOfFailures) {
  std::vector<checker::Finding> spooled;
  auto turn = [&](uint64_t now_ns) {
    StepDueCheckers(
        checkers_, [now_ns] { return now_ns; }, *reported_,
        [&](const ActiveChecker&, const checker::Finding& finding) {
          spooled.push_back(finding);
          return absl::OkStatus();
        });
  };
  checker_->results = {{.error = ErrnoToStatus(EIO, "fsync /scratch/tree")},
                       {.error = ErrnoToStatus(EIO, "fsync /scratch/tree")},
                       {},
                       {.error = absl::UnavailableError("target gone")}};
  turn(10 * kSecond);
  ASSERT_EQ(spooled.size(), 1u);
  EXPECT_EQ(spooled[0].kind, checker::FindingKind::kIoError);
  ASSERT_TRUE(spooled[0].io_failure.has_value());
  EXPECT_EQ(spooled[0].io_failure->operation, verify::IoOperation::kStep);
  EXPECT_EQ(spooled[0].io_failure->error_number, EIO);
  EXPECT_EQ(spooled[0].path, "/scratch");
  EXPECT_NE(spooled[0].detail.find("fsync /scratch/tree"), std::string::npos) << spooled[0].detail;
  // The retry fails too: logged, not spooled again.
  turn(NextCheckerDueNs(checkers_));
  EXPECT_EQ(spooled.size(), 1u);
  // After a step that works, the next failure is new trouble.
  turn(NextCheckerDueNs(checkers_));
  turn(NextCheckerDueNs(checkers_) + kSecond);
  ASSERT_EQ(spooled.size(), 2u);
  EXPECT_EQ(spooled[1].detail, "target gone");
}

// A step that found something and then failed hands over both: its findings
// go out, and its failure counts as a failed step (retried later, counted,
// reported once per run), not as a step that worked.
TEST_F(CheckerSteps, AStepThatFailedAfterFindingSomethingIsAFailedStepToo) {
  const checker::Finding failure = checker::FromStepError("/scratch", ErrnoToStatus(EIO, "rename"));
  checker_->results = {{.findings = {At(4096, true), failure}},
                       {.findings = {At(8192, true), failure}}};
  std::vector<checker::Finding> spooled;
  auto turn = [&](uint64_t now_ns) {
    StepDueCheckers(
        checkers_, [now_ns] { return now_ns; }, *reported_,
        [&](const ActiveChecker&, const checker::Finding& finding) {
          spooled.push_back(finding);
          return absl::OkStatus();
        });
  };
  turn(10 * kSecond);
  ASSERT_EQ(spooled.size(), 2u);
  EXPECT_EQ(spooled[0].key.offset, 4096u);
  EXPECT_EQ(spooled[1].io_failure->operation, verify::IoOperation::kStep);
  EXPECT_EQ(checkers_[0].failures, 1u);
  EXPECT_EQ(checkers_[0].failed_steps, 1u);
  EXPECT_NE(checkers_[0].last_error.find("rename"), std::string::npos) << checkers_[0].last_error;
  // Not stepped again at once, but after the retry delay.
  EXPECT_EQ(NextCheckerDueNs(checkers_), 11 * kSecond);
  turn(10 * kSecond + 1);
  EXPECT_EQ(checker_->step_times.size(), 1u);
  // The second failure of the run: its finding goes out, the failure is not spooled again.
  turn(11 * kSecond);
  ASSERT_EQ(spooled.size(), 3u);
  EXPECT_EQ(spooled[2].key.offset, 8192u);
  EXPECT_EQ(checkers_[0].failures, 2u);
}

TEST_F(CheckerSteps, AFailingCheckerIsRetriedAfterOneSecondDoublingToFiveMinutes) {
  for (int i = 0; i < 12; ++i)
    checker_->results.push_back({.error = absl::UnavailableError("target gone")});
  uint64_t now = 10 * kSecond;
  std::vector<uint64_t> waits;
  for (int failure = 0; failure < 12; ++failure) {
    Turn(now);
    ASSERT_EQ(checker_->step_times.size(), static_cast<size_t>(failure + 1));
    const uint64_t retry_at = NextCheckerDueNs(checkers_);
    waits.push_back((retry_at - now) / kSecond);
    // Not stepped again before then.
    Turn(retry_at - 1);
    ASSERT_EQ(checker_->step_times.size(), static_cast<size_t>(failure + 1));
    now = retry_at;
  }
  EXPECT_EQ(waits, (std::vector<uint64_t>{1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300}));
  // A step that works ends the backoff.
  Turn(now);
  EXPECT_EQ(checkers_[0].failures, 0u);
  EXPECT_EQ(NextCheckerDueNs(checkers_), 0u);
}

// What the interval report carries to the collector: the failed steps since
// it was last taken, how many in a row, and the last message.
TEST_F(CheckerSteps, FailedStepsAreCountedWithTheLastMessageForTheReport) {
  checker_->results = {{.error = absl::UnavailableError("target gone")},
                       {.error = ErrnoToStatus(EIO, "read /scratch")},
                       {}};
  Turn(10 * kSecond);
  Turn(NextCheckerDueNs(checkers_));
  EXPECT_EQ(checkers_[0].failed_steps, 2u);
  EXPECT_EQ(checkers_[0].failures, 2u);
  EXPECT_NE(checkers_[0].last_error.find("read /scratch"), std::string::npos)
      << checkers_[0].last_error;
  // A step that works ends the run, not the interval's count.
  Turn(NextCheckerDueNs(checkers_));
  EXPECT_EQ(checkers_[0].failures, 0u);
  EXPECT_EQ(checkers_[0].failed_steps, 2u);
}

TEST_F(CheckerSteps, AFailedStepsMessageIsCutToTheReportsLimit) {
  checker_->results = {{.error = absl::UnavailableError(std::string(10000, 'x'))}};
  Turn(10 * kSecond);
  EXPECT_EQ(checkers_[0].last_error.size(), kMaxErrorBytes);
}

TEST_F(CheckerSteps, AFailedStepsMessageIsCutBetweenCharactersAndCarriesNoNul) {
  // A two-byte character across the limit, and a NUL (the collector refuses
  // a report holding either: invalid UTF-8, or NUL, which PostgreSQL cannot keep).
  const std::string message =
      std::string("open d0/f\0: ", 12) + std::string(kMaxErrorBytes - 13, 'x') + "\xc3\xa9 more";
  checker_->results = {{.error = absl::UnavailableError(message)}};
  Turn(10 * kSecond);
  EXPECT_EQ(checkers_[0].last_error, "open d0/f?: " + std::string(kMaxErrorBytes - 13, 'x'));
  EXPECT_TRUE(IsValidUtf8(checkers_[0].last_error));
}

}  // namespace
}  // namespace fscanary::daemon
