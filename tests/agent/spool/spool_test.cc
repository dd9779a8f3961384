#include "agent/spool/spool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/agent/spool/spool_test_util.h"
#include "tests/temp_dir.h"

namespace fscanary::spool {
namespace {

using ::fscanary::spool::testing::AllPending;
using ::fscanary::spool::testing::OpenOrDie;
using ::fscanary::spool::testing::SegmentFiles;
using ::fscanary::spool::testing::Sequences;
using ::fscanary::spool::testing::SmallOptions;
using ::fscanary::testing::TempDir;
constexpr RecordClass kFinding = RecordClass::kFinding;
constexpr RecordClass kRoutine = RecordClass::kRoutine;

TEST(Spool, SequencesStartAtOneAndIncrease) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(*spool->Append(kRoutine, "a"), 1u);
  EXPECT_EQ(*spool->Append(kFinding, "b"), 2u);
  EXPECT_EQ(*spool->Append(kRoutine, "c"), 3u);
  EXPECT_EQ(spool->Stats().next_sequence, 4u);
}

TEST(Spool, FindingsAreSentBeforeRoutineRecordsEachInSequenceOrder) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  for (const auto& [record_class, payload] : std::vector<std::pair<RecordClass, std::string>>{
           {kRoutine, "r1"}, {kFinding, "f2"}, {kRoutine, "r3"}, {kFinding, "f4"}}) {
    ASSERT_TRUE(spool->Append(record_class, payload).ok());
  }
  const std::vector<Record> pending = AllPending(*spool);
  EXPECT_EQ(Sequences(pending), (std::vector<uint64_t>{2, 4, 1, 3}));
  EXPECT_EQ(pending[0].payload, "f2");
  EXPECT_EQ(pending[0].record_class, kFinding);
  EXPECT_EQ(pending[2].payload, "r1");
  EXPECT_EQ(pending[2].record_class, kRoutine);
  EXPECT_EQ(Sequences(spool->Pending(3)), (std::vector<uint64_t>{2, 4, 1}));
}

TEST(Spool, AcknowledgedRecordsAreGoneAndStayGoneAfterReopen) {
  TempDir dir;
  {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(spool->Append(i % 2 ? kFinding : kRoutine, "x").ok());
    ASSERT_TRUE(spool->Acknowledge({{2, 3}, {5, 5}}).ok());
    EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{4, 6, 1}));
    EXPECT_EQ(spool->Stats().records, 3u);
    EXPECT_EQ(spool->Stats().findings, 2u);
  }
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{4, 6, 1}));
}

TEST(Spool, RepeatedOverlappingAndUnknownAcknowledgementsAreHarmless) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(spool->Append(kRoutine, "x").ok());
  ASSERT_TRUE(spool->Acknowledge({{1, 2}, {2, 3}, {1, 1}, {100, 200}, {9, 3}}).ok());
  ASSERT_TRUE(spool->Acknowledge({{1, 3}}).ok());
  EXPECT_EQ(Sequences(AllPending(*spool)), (std::vector<uint64_t>{4}));
  EXPECT_EQ(spool->Stats().records, 1u);
}

TEST(Spool, SequencesSurviveReopenEvenWhenEverythingWasAcknowledged) {
  TempDir dir;
  uint64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    auto spool = OpenOrDie(SmallOptions(dir.path()));
    for (int i = 0; i < 5; ++i) {
      const uint64_t sequence = *spool->Append(kFinding, "f");
      EXPECT_GT(sequence, last);
      last = sequence;
    }
    ASSERT_TRUE(spool->Acknowledge({{0, UINT64_MAX}}).ok());
    EXPECT_EQ(spool->Stats().records, 0u);
  }
}

TEST(Spool, PayloadTooLargeForASegmentIsRefused) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  const auto refused = spool->Append(kFinding, std::string(8 << 10, 'x'));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(spool->Append(kFinding, std::string((8 << 10) - 72, 'x')).ok());
}

TEST(Spool, SecondOpenOfTheSameDirectoryIsRefusedAndNamesIt) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  const auto second = Spool::Open(SmallOptions(dir.path()), testing::SumReports);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(dir.path()), absl::string_view::npos);
}

TEST(Spool, BadOptionsAreRefused) {
  TempDir dir;
  SpoolOptions options = SmallOptions(dir.path());
  options.max_bytes = options.segment_bytes;
  EXPECT_EQ(Spool::Open(options, testing::SumReports).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Spool::Open(SmallOptions(dir.path()), nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Spool, CursorSendsEachRecordOncePerStreamAndANewStreamResendsTheUnacknowledged) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(spool->Append(i < 3 ? kRoutine : kFinding, "x").ok());
  SendCursor stream;
  std::vector<uint64_t> sent;
  for (std::vector<Record> batch; !(batch = spool->Pending(2, stream)).empty();) {
    for (const Record& record : batch) {
      sent.push_back(record.sequence);
      stream.Advance(record);
    }
  }
  EXPECT_EQ(sent, (std::vector<uint64_t>{4, 5, 6, 1, 2, 3}));
  ASSERT_TRUE(spool->Acknowledge({{1, 1}, {5, 6}}).ok());
  EXPECT_TRUE(spool->Pending(10, stream).empty());
  EXPECT_EQ(Sequences(spool->Pending(10, SendCursor{})), (std::vector<uint64_t>{4, 2, 3}));
}

TEST(Spool, FindingAppendedMidStreamIsSentBeforeTheRemainingRoutineRecords) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(spool->Append(kRoutine, "r").ok());
  SendCursor stream;
  for (const Record& record : spool->Pending(2, stream)) stream.Advance(record);
  const uint64_t finding = *spool->Append(kFinding, "f");
  EXPECT_EQ(Sequences(spool->Pending(10, stream)), (std::vector<uint64_t>{finding, 3, 4}));
}

TEST(Spool, FullyAcknowledgedSegmentsAreReclaimed) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(spool->Append(kRoutine, std::string(300, 'r')).ok());
  const size_t segments = SegmentFiles(dir.path()).size();
  EXPECT_GE(segments, 4u);
  // The oldest half: every segment holding only those records goes.
  ASSERT_TRUE(spool->Acknowledge({{1, 50}}).ok());
  EXPECT_LT(SegmentFiles(dir.path()).size(), segments - 1);
  ASSERT_TRUE(spool->Acknowledge({{51, 100}}).ok());
  EXPECT_LE(SegmentFiles(dir.path()).size(), 1u);  // the active one may stay
  EXPECT_LT(spool->Stats().disk_bytes, 8u << 10);
  EXPECT_EQ(spool->Stats().bytes, 0u);
}

TEST(Spool, WaitForRecordsReturnsWhenARecordIsAppended) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  std::atomic<bool> waiting{false};
  std::thread sender([&] {
    waiting = true;
    EXPECT_TRUE(
        spool->WaitForRecords({}, std::chrono::steady_clock::now() + std::chrono::hours(1)));
  });
  while (!waiting) std::this_thread::yield();
  ASSERT_TRUE(spool->Append(kRoutine, "r").ok());
  sender.join();
  // Nothing after the cursor: the deadline ends the wait.
  const SendCursor past_everything{.last_finding = 100, .last_routine = 100};
  EXPECT_FALSE(spool->WaitForRecords(past_everything, std::chrono::steady_clock::now()));
}

TEST(Spool, WakeReleasesAWaitingSender) {
  TempDir dir;
  auto spool = OpenOrDie(SmallOptions(dir.path()));
  std::atomic<bool> returned{false};
  std::thread sender([&] {
    EXPECT_FALSE(
        spool->WaitForRecords({}, std::chrono::steady_clock::now() + std::chrono::hours(1)));
    returned = true;
  });
  // Wake() until the sender has seen one; a Wake before it waits is not lost
  // for good because we repeat it.
  while (!returned) {
    spool->Wake();
    std::this_thread::yield();
  }
  sender.join();
}

// A checker thread appends while a sender thread streams and acknowledges,
// reconnecting now and then: every record arrives, each once per stream.
TEST(Spool, ConcurrentProducerAndConsumerDeliverEveryRecord) {
  TempDir dir;
  SpoolOptions options = SmallOptions(dir.path());
  options.max_bytes = 4 << 20;
  auto spool = OpenOrDie(options);
  constexpr int kRecords = 3000;
  std::atomic<bool> producer_done{false};
  std::thread producer([&] {
    for (int i = 0; i < kRecords; ++i) {
      const RecordClass record_class = i % 60 == 0 ? kFinding : kRoutine;
      ASSERT_TRUE(spool->Append(record_class, "payload " + std::to_string(i)).ok());
    }
    producer_done = true;
    spool->Wake();
  });

  std::set<uint64_t> delivered;
  SendCursor stream;
  std::set<uint64_t> sent_on_stream;
  int batches = 0;
  while (true) {
    std::vector<Record> batch = spool->Pending(64, stream);
    if (batch.empty()) {
      if (!producer_done) {
        spool->WaitForRecords(stream, std::chrono::steady_clock::now() + std::chrono::seconds(1));
        continue;
      }
      if (spool->Stats().records == 0) break;
      stream = {};  // reconnect: what is left is sent again
      sent_on_stream.clear();
      continue;
    }
    std::vector<SequenceRange> acks;
    uint64_t last_finding = stream.last_finding, last_routine = stream.last_routine;
    for (const Record& record : batch) {
      ASSERT_TRUE(sent_on_stream.insert(record.sequence).second) << "sent twice on one stream";
      // Within a class, a stream sends in sequence order.
      uint64_t& last = record.record_class == kFinding ? last_finding : last_routine;
      ASSERT_GT(record.sequence, last);
      last = record.sequence;
      stream.Advance(record);
      delivered.insert(record.sequence);
      acks.emplace_back(record.sequence, record.sequence);
    }
    // While records come in, the last of each batch goes unacknowledged; every
    // fifth batch the stream breaks and a new one resends what was not acknowledged.
    if (!producer_done) acks.pop_back();
    ASSERT_TRUE(spool->Acknowledge(acks).ok());
    if (++batches % 5 == 0) {
      stream = {};
      sent_on_stream.clear();
    }
  }
  producer.join();
  EXPECT_EQ(delivered.size(), static_cast<size_t>(kRecords));
  EXPECT_EQ(*delivered.begin(), 1u);
  EXPECT_EQ(*delivered.rbegin(), static_cast<uint64_t>(kRecords));
  const SpoolStats stats = spool->Stats();
  EXPECT_EQ(stats.reports_dropped + stats.reports_summarised + stats.findings_dropped, 0u);
}

}  // namespace
}  // namespace fscanary::spool
