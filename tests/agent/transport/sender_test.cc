// The sender against a collector that is wrong or lies: acknowledgements of
// records not in flight remove nothing, rejected records are quarantined and
// counted, and records the spool cannot read for a while are delivered once
// it can.

#include "agent/transport/sender.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <mutex>
#include <vector>

#include "agent/spool/segment_reads.h"
#include "common/status.h"
#include "io/posix.h"
#include "tests/agent/spool/spool_test_util.h"
#include "tests/agent/transport/fake_collector.h"
#include "tests/temp_dir.h"

namespace fscanary::transport {
namespace {

using ::fscanary::spool::testing::ReadFile;
using ::fscanary::testing::TempDir;
using ::fscanary::transport::testing::Eventually;
using ::fscanary::transport::testing::FakeCollector;

std::string Payload(int64_t created_ns) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(created_ns);
  message.mutable_finding()->set_target("scratch");
  return message.SerializeAsString();
}

std::unique_ptr<spool::Spool> OpenSpool(const std::string& directory,
                                        std::shared_ptr<spool::SegmentReads> reads = nullptr) {
  auto opened = spool::Spool::Open({.directory = directory,
                                    .max_bytes = 1 << 20,
                                    .segment_bytes = 64 << 10,
                                    .read_retry_ms = 5,
                                    .reads = std::move(reads)},
                                   [](std::span<const spool::Record>) { return std::string(); });
  EXPECT_TRUE(opened.ok()) << opened.status();
  return opened.ok() ? std::move(opened).value() : nullptr;
}

std::unique_ptr<Sender> StartSender(const FakeCollector& collector, spool::Spool& spool,
                                    size_t window) {
  auto sender = std::make_unique<Sender>(SenderOptions{.address = collector.address(),
                                                       .backoff_initial_ms = 10,
                                                       .backoff_max_ms = 50,
                                                       .window = window},
                                         spool, [] { return v1::Hello(); });
  sender->Start();
  return sender;
}

std::vector<uint64_t> PendingSequences(spool::Spool& spool) {
  std::vector<uint64_t> sequences;
  for (const spool::Record& record : spool.Pending(SIZE_MAX)) sequences.push_back(record.sequence);
  return sequences;
}

TEST(Sender, AcknowledgementsOfRecordsNotInFlightRemoveNothing) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  for (int i = 1; i <= 5; ++i)
    ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(i)).ok());
  FakeCollector collector;
  auto sender = StartSender(collector, *spool, /*window=*/2);
  ASSERT_TRUE(collector.WaitForSequences({1, 2}));

  // Spooled but never sent, beyond anything spooled, malformed.
  ASSERT_TRUE(collector.Ack(3, 5));
  ASSERT_TRUE(collector.Ack(100, 200));
  ASSERT_TRUE(collector.Ack(0, 0));
  ASSERT_TRUE(Eventually([&] { return sender->answers_ignored() == 3; }));
  EXPECT_EQ(spool->Stats().records, 5u);
  EXPECT_EQ(sender->acknowledged(), 0u);

  // A true acknowledgement, then the same again: the second is ignored.
  ASSERT_TRUE(collector.Ack(1, 1));
  ASSERT_TRUE(Eventually([&] { return sender->acknowledged() == 1; }));
  ASSERT_TRUE(collector.Ack(1, 1));
  ASSERT_TRUE(Eventually([&] { return sender->answers_ignored() == 4; }));
  sender->Stop();
  EXPECT_EQ(PendingSequences(*spool), (std::vector<uint64_t>{2, 3, 4, 5}));
}

TEST(Sender, ARangeReachingPastTheRecordsInFlightRemovesOnlyThoseInFlight) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  for (int i = 1; i <= 4; ++i)
    ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(i)).ok());
  FakeCollector collector;
  auto sender = StartSender(collector, *spool, /*window=*/2);
  ASSERT_TRUE(collector.WaitForSequences({1, 2}));
  ASSERT_TRUE(collector.Ack(1, UINT64_MAX));
  ASSERT_TRUE(Eventually([&] { return sender->answers_ignored() == 1; }));
  sender->Stop();
  EXPECT_EQ(sender->acknowledged(), 2u);
  EXPECT_EQ(PendingSequences(*spool), (std::vector<uint64_t>{3, 4}));
}

TEST(Sender, ARejectedRecordIsQuarantinedCountedAndNeverSentAgain) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(1)).ok());
  ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(2)).ok());
  FakeCollector collector;
  auto sender = StartSender(collector, *spool, /*window=*/8);
  ASSERT_TRUE(collector.WaitForSequences({1, 2}));

  // A rejection of a record not in flight is ignored like a forged ack.
  ASSERT_TRUE(collector.Reject(3, 5, "conflict", "never sent"));
  ASSERT_TRUE(Eventually([&] { return sender->answers_ignored() == 1; }));
  EXPECT_TRUE(sender->rejected().empty());
  EXPECT_EQ(spool->Stats().records, 2u);

  ASSERT_TRUE(collector.Reject(1, 1, "conflict", "sequence 1 held with sha256 ab..."));
  ASSERT_TRUE(Eventually([&] { return sender->rejected()["conflict"] == 1; }));
  EXPECT_EQ(spool->Stats().quarantined_records, 1u);
  EXPECT_EQ(ReadFile(dir.Join("quarantine/0000000000000001.record")), Payload(1));
  EXPECT_NE(ReadFile(dir.Join("quarantine/0000000000000001.why")).find("conflict"),
            std::string::npos);

  // The stream goes on: the other record is acknowledged; the rejected one
  // was sent once and is no longer spooled.
  ASSERT_TRUE(collector.Ack(2, 2));
  ASSERT_TRUE(Eventually([&] { return sender->acknowledged() == 1; }));
  sender->Stop();
  EXPECT_EQ(spool->Stats().records, 0u);
  EXPECT_EQ(collector.received().count(1), 1u);
}

TEST(Sender, AnUnknownRejectionReasonIsCountedAsOther) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(1)).ok());
  FakeCollector collector;
  auto sender = StartSender(collector, *spool, /*window=*/8);
  ASSERT_TRUE(collector.WaitForSequences({1}));
  ASSERT_TRUE(collector.Reject(1, 1, "no\x1b[31m", ""));
  ASSERT_TRUE(Eventually([&] { return sender->rejected()["other"] == 1; }));
  sender->Stop();
  EXPECT_EQ(sender->rejected().size(), 1u);
  EXPECT_EQ(ReadFile(dir.Join("quarantine/0000000000000001.why")).find('\x1b'), std::string::npos);
}

// Fails every read with EIO while `failing` is set.
class FailingReads final : public spool::SegmentReads {
 public:
  absl::StatusOr<size_t> ReadAt(int fd, std::span<std::byte> data, uint64_t offset,
                                const std::string& path) override {
    ++attempts;
    if (failing) return ErrnoToStatus(EIO, "pread " + path);
    return io::ReadAll(fd, data, offset, path);
  }
  std::atomic<bool> failing{false};
  std::atomic<uint64_t> attempts{0};
};

TEST(Sender, RecordsTheSpoolCannotReadForAWhileAreDeliveredOnceItCan) {
  TempDir dir;
  auto reads = std::make_shared<FailingReads>();
  auto spool = OpenSpool(dir.path(), reads);
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(i)).ok());
  reads->failing = true;
  FakeCollector collector;
  auto sender = StartSender(collector, *spool, /*window=*/8);
  // Tried, failed, tried again: nothing sent, nothing lost.
  ASSERT_TRUE(Eventually([&] { return spool->Stats().read_errors >= 3; }));
  EXPECT_TRUE(collector.received().empty());
  EXPECT_EQ(spool->Stats().records, 3u);
  EXPECT_EQ(spool->Stats().damaged_records_skipped, 0u);

  reads->failing = false;
  ASSERT_TRUE(collector.WaitForSequences({1, 2, 3}));
  ASSERT_TRUE(collector.Ack(1, 3));
  ASSERT_TRUE(Eventually([&] { return sender->acknowledged() == 3; }));
  sender->Stop();
  EXPECT_EQ(spool->Stats().records, 0u);
  EXPECT_EQ(spool->Stats().damaged_records_skipped, 0u);
}

// A collector that cannot be reached is skipped: the records go to the next
// one listed, which acknowledges them, and the spool empties.
TEST(Sender, FailsOverToTheNextCollectorWhenOneCannotBeReached) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(i)).ok());
  std::string unreachable;
  {
    FakeCollector gone;  // its port is closed when it goes
    unreachable = gone.address();
  }
  FakeCollector live;
  Sender sender(SenderOptions{.addresses = {unreachable, live.address()},
                              .backoff_initial_ms = 10,
                              .backoff_max_ms = 50},
                *spool, [] { return v1::Hello(); });
  sender.Start();
  ASSERT_TRUE(live.WaitForSequences({1, 2, 3}));
  ASSERT_TRUE(live.Ack(1, 3));
  ASSERT_TRUE(Eventually([&] { return sender.acknowledged() == 3; }));
  EXPECT_EQ(spool->Stats().records, 0u);
}

// The stream to the first collector breaks (the collector is gone): what it
// did not acknowledge goes to the second.
TEST(Sender, ResendsWhatAFailedCollectorDidNotAcknowledgeToTheNext) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  for (int i = 1; i <= 4; ++i)
    ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(i)).ok());
  auto first = std::make_unique<FakeCollector>();
  FakeCollector second;
  Sender sender(SenderOptions{.addresses = {first->address(), second.address()},
                              .backoff_initial_ms = 10,
                              .backoff_max_ms = 50},
                *spool, [] { return v1::Hello(); });
  sender.Start();
  ASSERT_TRUE(first->WaitForSequences({1, 2, 3, 4}));
  ASSERT_TRUE(first->Ack(1, 2));
  ASSERT_TRUE(Eventually([&] { return sender.acknowledged() == 2; }));
  first.reset();
  ASSERT_TRUE(second.WaitForSequences({3, 4}));
  EXPECT_EQ(second.received().count(1), 0u);
  ASSERT_TRUE(second.Ack(3, 4));
  ASSERT_TRUE(Eventually([&] { return sender.acknowledged() == 4; }));
  EXPECT_EQ(spool->Stats().records, 0u);
}

// A collector that takes the records and never answers (wedged on its
// store, its stream kept alive by keepalives): the agent moves on.
TEST(Sender, ACollectorThatStopsAcknowledgingIsLeftForTheNext) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  for (int i = 1; i <= 3; ++i)
    ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(i)).ok());
  FakeCollector wedged;
  FakeCollector second;
  Sender sender(SenderOptions{.addresses = {wedged.address(), second.address()},
                              .backoff_initial_ms = 10,
                              .backoff_max_ms = 50,
                              .ack_timeout_ms = 300},
                *spool, [] { return v1::Hello(); });
  sender.Start();
  ASSERT_TRUE(wedged.WaitForSequences({1, 2, 3}));
  ASSERT_TRUE(second.WaitForSequences({1, 2, 3}));
  ASSERT_TRUE(second.Ack(1, 3));
  ASSERT_TRUE(Eventually([&] { return sender.acknowledged() == 3; }));
  EXPECT_EQ(spool->Stats().records, 0u);
}

}  // namespace
}  // namespace fscanary::transport

namespace fscanary::transport {
namespace {

TEST(Sender, AHintFromTheCollectorIsHandedOnAndRemovesNothing) {
  TempDir dir;
  auto spool = OpenSpool(dir.path());
  ASSERT_TRUE(spool->Append(spool::RecordClass::kFinding, Payload(1)).ok());
  FakeCollector collector;
  std::mutex mutex;
  std::vector<double> hints;
  Sender sender(SenderOptions{.address = collector.address(),
                              .backoff_initial_ms = 10,
                              .backoff_max_ms = 50,
                              .on_hint =
                                  [&](const v1::Hint& hint) {
                                    std::lock_guard lock(mutex);
                                    hints.push_back(hint.boost_factor());
                                  }},
                *spool, [] { return v1::Hello(); });
  sender.Start();
  ASSERT_TRUE(collector.WaitForSequences({1}));
  v1::CollectorMessage message;
  message.mutable_hint()->set_boost_factor(3);
  ASSERT_TRUE(collector.Send(message));
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard lock(mutex);
    return hints == std::vector<double>{3};
  }));
  sender.Stop();
  EXPECT_EQ(sender.answers_ignored(), 0u);
  EXPECT_EQ(PendingSequences(*spool), (std::vector<uint64_t>{1}));
}

}  // namespace
}  // namespace fscanary::transport
