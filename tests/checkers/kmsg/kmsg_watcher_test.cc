#include "checkers/kmsg/kmsg_watcher.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "checkers/kmsg/kmsg_cursor.h"
#include "gtest/gtest.h"
#include "tests/checkers/kmsg/fake_kmsg_source.h"
#include "tests/temp_dir.h"

namespace fscanary::kmsg {
namespace {

using std::string_literals::operator""s;

constexpr char kBootA[] = "aaaaaaaa-1840-4a18-9c8f-cca5a5c86384";
constexpr char kBootB[] = "bbbbbbbb-1840-4a18-9c8f-cca5a5c86384";
constexpr char kExt4Error[] =
    "EXT4-fs error (device vda1): ext4_lookup:1706: inode #2: comm ls: bad extra_isize 4 (inode "
    "size 256)";
constexpr char kIoError[] =
    "I/O error, dev vda, sector 2048 op 0x1:(WRITE) flags 0x800 phys_seg 1 prio class 2";
constexpr char kNoise[] = "usb 1-1: new high-speed USB device number 2 using ehci-pci";

// A state directory, a boot id file and a fake /dev/kmsg.
class Machine {
 public:
  explicit Machine(const char* boot_id = kBootA) { Reboot(boot_id); }

  void Reboot(const char* boot_id) {
    std::ofstream(dir_.Join("boot_id"), std::ios::trunc) << boot_id << "\n";
    queue_ = std::make_shared<FakeKmsgQueue>();
  }
  FakeKmsgQueue& kmsg() { return *queue_; }
  std::string state_path() const { return dir_.path() + "/state/kmsg.cursor"; }

  WatcherOptions Options() const {
    return {.state_path = state_path(), .boot_id_path = dir_.Join("boot_id")};
  }
  // A watcher reading the kernel buffer as it is now (each Open reads it from
  // its oldest record, as a new open of /dev/kmsg does).
  std::unique_ptr<KernelLogWatcher> Watcher(std::optional<WatcherOptions> options = {}) {
    auto watcher = KernelLogWatcher::Open(options.value_or(Options()),
                                          std::make_unique<FakeKmsgSource>(queue_));
    EXPECT_TRUE(watcher.ok()) << watcher.status();
    return watcher.ok() ? std::move(*watcher) : nullptr;
  }
  // Refills the fake buffer with `count` records starting at `first`, every
  // other one a matching line.
  void FillBuffer(uint64_t first, uint64_t count) {
    for (uint64_t seq = first; seq < first + count; ++seq) {
      queue_->Push(RawRecord(seq, seq % 2 == 0 ? kExt4Error : kNoise));
    }
  }

 private:
  fscanary::testing::TempDir dir_;
  std::shared_ptr<FakeKmsgQueue> queue_;
};

std::vector<uint64_t> Sequences(const std::vector<KernelEvent>& events) {
  std::vector<uint64_t> sequences;
  for (const KernelEvent& event : events) sequences.push_back(event.sequence);
  return sequences;
}

TEST(KernelLogWatcher, ReportsMatchingLinesAndCountsTheRest) {
  Machine machine;
  machine.kmsg().Push(RawRecord(0, kNoise));
  machine.kmsg().Push(RawRecord(1, kExt4Error, /*level=*/2, /*timestamp_usec=*/5140900));
  machine.kmsg().Push(RawRecord(2, kNoise));
  auto watcher = machine.Watcher();
  ASSERT_NE(watcher, nullptr);
  EXPECT_EQ(watcher->start_point(), StartPoint::kFresh);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  const KernelEvent& event = events->front();
  EXPECT_EQ(event.signature, "ext4_error");
  EXPECT_EQ(event.subsystem, "ext4");
  EXPECT_EQ(event.device, "vda1");
  EXPECT_EQ(event.message, kExt4Error);
  EXPECT_EQ(event.sequence, 1u);
  EXPECT_EQ(event.timestamp_usec, 5140900u);
  EXPECT_EQ(event.kernel_level, 2);
  EXPECT_TRUE(watcher->caught_up());
  EXPECT_EQ(watcher->lines_read(), 3u);
  EXPECT_EQ(watcher->lines_matched(), 1u);
  EXPECT_EQ(watcher->lines_lost(), 0u);
  EXPECT_EQ(watcher->next_sequence(), 3u);
}

TEST(KernelLogWatcher, RestartAfterCommitDoesNotReportAgain) {
  Machine machine;
  machine.FillBuffer(0, 10);
  {
    auto watcher = machine.Watcher();
    auto events = watcher->Poll();
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{0, 2, 4, 6, 8}));
    ASSERT_TRUE(watcher->Commit().ok());
  }
  // The agent restarts: the kernel buffer still holds 0..9, and 10..13 came.
  machine.FillBuffer(0, 14);
  auto watcher = machine.Watcher();
  EXPECT_EQ(watcher->start_point(), StartPoint::kResumed);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{10, 12}));
  EXPECT_EQ(watcher->lines_read(), 4u);
  EXPECT_EQ(watcher->lines_lost(), 0u);
}

TEST(KernelLogWatcher, EventsNotCommittedAreReportedAgainAfterACrash) {
  Machine machine;
  machine.FillBuffer(0, 6);
  {
    auto watcher = machine.Watcher();
    ASSERT_TRUE(watcher->Commit().ok());  // nothing read yet: cursor at 0
    auto events = watcher->Poll();
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 3u);
    // Crash before the events were spooled: no Commit().
  }
  machine.FillBuffer(0, 6);
  auto watcher = machine.Watcher();
  EXPECT_EQ(watcher->start_point(), StartPoint::kResumed);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{0, 2, 4}));
}

TEST(KernelLogWatcher, NewBootStartsFromTheOldestRecord) {
  Machine machine(kBootA);
  machine.FillBuffer(0, 100);
  {
    auto watcher = machine.Watcher();
    ASSERT_TRUE(watcher->Poll().ok());
    ASSERT_TRUE(watcher->Commit().ok());
  }
  machine.Reboot(kBootB);
  machine.FillBuffer(0, 4);  // sequence numbers restart with the boot
  auto watcher = machine.Watcher();
  EXPECT_EQ(watcher->start_point(), StartPoint::kNewBoot);
  EXPECT_EQ(watcher->boot_id(), kBootB);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{0, 2}));
  ASSERT_TRUE(watcher->Commit().ok());
  auto stored = LoadCursor(machine.state_path());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, (KmsgCursor{.boot_id = kBootB, .next_sequence = 4}));
}

TEST(KernelLogWatcher, DamagedStateFallsBackToTheOldestRecordAndSaysSo) {
  Machine machine;
  machine.FillBuffer(0, 10);
  {
    auto watcher = machine.Watcher();
    ASSERT_TRUE(watcher->Poll().ok());
    ASSERT_TRUE(watcher->Commit().ok());
  }
  // Torn: only the first 40 bytes of the cursor survived.
  const std::string intact = EncodeCursor(*LoadCursor(machine.state_path()));
  std::ofstream(machine.state_path(), std::ios::trunc) << intact.substr(0, 40);
  machine.FillBuffer(0, 10);
  auto watcher = machine.Watcher();
  EXPECT_EQ(watcher->start_point(), StartPoint::kDamagedState);
  EXPECT_NE(watcher->start_note().find("may be reported a second time"), std::string::npos)
      << watcher->start_note();
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  // Reported again rather than lost.
  EXPECT_EQ(events->size(), 5u);
  ASSERT_TRUE(watcher->Commit().ok());
  EXPECT_TRUE(LoadCursor(machine.state_path()).ok());
}

TEST(KernelLogWatcher, CommitWritesOnlyWhenThePositionMoved) {
  Machine machine;
  machine.FillBuffer(0, 2);
  auto watcher = machine.Watcher();
  ASSERT_TRUE(watcher->Poll().ok());
  ASSERT_TRUE(watcher->Commit().ok());
  EXPECT_EQ(watcher->committed_sequence(), 2u);
  std::filesystem::remove(machine.state_path());
  ASSERT_TRUE(watcher->Poll().ok());  // nothing new
  ASSERT_TRUE(watcher->Commit().ok());
  EXPECT_FALSE(std::filesystem::exists(machine.state_path()));
}

TEST(KernelLogWatcher, OverrunCountsTheLostLinesAndGoesOn) {
  Machine machine;
  machine.FillBuffer(0, 5);
  machine.kmsg().PushOverrun();  // the ring wrapped: 5..9 were overwritten
  machine.FillBuffer(10, 3);
  auto watcher = machine.Watcher();
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{0, 2, 4, 10, 12}));
  EXPECT_EQ(watcher->lines_lost(), 5u);
  EXPECT_EQ(watcher->lines_read(), 8u);
}

TEST(KernelLogWatcher, LinesOverwrittenWhileTheAgentWasDownAreCountedLost) {
  Machine machine;
  machine.FillBuffer(0, 5);
  {
    auto watcher = machine.Watcher();
    ASSERT_TRUE(watcher->Poll().ok());
    ASSERT_TRUE(watcher->Commit().ok());
  }
  machine.FillBuffer(8, 2);  // 5..7 came and went
  auto watcher = machine.Watcher();
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{8}));
  EXPECT_EQ(watcher->lines_lost(), 3u);
}

TEST(KernelLogWatcher, StormIsRateLimitedButEveryLineCounted) {
  Machine machine;
  for (uint64_t seq = 0; seq < 10000; ++seq) {
    // 10,000 errors within 1 s of kernel time.
    machine.kmsg().Push(RawRecord(seq, kIoError, 3, 1'000'000 + seq * 100));
  }
  WatcherOptions options = machine.Options();
  options.rate_limit = {.events_per_window = 10, .window_usec = 60'000'000};
  auto watcher = machine.Watcher(options);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 10u);
  EXPECT_EQ(watcher->lines_read(), 10000u);
  EXPECT_EQ(watcher->lines_matched(), 10000u);
  EXPECT_EQ(watcher->lines_suppressed(), 9990u);
  const auto suppressed = watcher->suppressed();
  ASSERT_EQ(suppressed.size(), 1u);
  EXPECT_EQ(suppressed[0].signature, "block_io_error");
  EXPECT_EQ(suppressed[0].device, "vda");
  EXPECT_EQ(suppressed[0].pending, 9990u);

  // A minute later the next line is reported with the count it carries.
  machine.kmsg().Push(RawRecord(10000, kIoError, 3, 62'000'000));
  events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().suppressed_before, 9990u);
}

TEST(KernelLogWatcher, PollReturnsAfterItsRecordBudget) {
  Machine machine;
  machine.FillBuffer(0, 250);
  WatcherOptions options = machine.Options();
  options.max_records_per_poll = 100;
  auto watcher = machine.Watcher(options);
  ASSERT_TRUE(watcher->Poll().ok());
  EXPECT_FALSE(watcher->caught_up());
  EXPECT_EQ(watcher->lines_read(), 100u);
  ASSERT_TRUE(watcher->Poll().ok());
  ASSERT_TRUE(watcher->Poll().ok());
  EXPECT_TRUE(watcher->caught_up());
  EXPECT_EQ(watcher->lines_read(), 250u);
}

TEST(KernelLogWatcher, SourceFailureAfterEventsHandsTheEventsOverFirst) {
  Machine machine;
  machine.FillBuffer(0, 3);
  machine.kmsg().PushFailure(absl::UnavailableError("read /dev/kmsg: gone"));
  auto watcher = machine.Watcher();
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{0, 2}));
  EXPECT_EQ(watcher->Poll().status().code(), absl::StatusCode::kUnavailable);
}

TEST(KernelLogWatcher, MalformedRecordsAreCountedAndSkipped) {
  Machine machine;
  machine.kmsg().Push("garbage without a header\n");
  machine.kmsg().Push(RawRecord(0, kExt4Error));
  auto watcher = machine.Watcher();
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  EXPECT_EQ(watcher->records_malformed(), 1u);
}

TEST(KernelLogWatcher, KernelFacilityOnlyIgnoresLinesWrittenByProcesses) {
  Machine machine;
  machine.kmsg().Push(absl::StrCat("11,0,100,-;", kExt4Error, "\n"));  // user.err
  machine.kmsg().Push(RawRecord(1, kExt4Error));                       // kern.err
  WatcherOptions options = machine.Options();
  options.kernel_facility_only = true;
  auto watcher = machine.Watcher(options);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{1}));
}

TEST(KernelLogWatcher, OpenFailsWithoutABootIdOrStatePath) {
  Machine machine;
  WatcherOptions options = machine.Options();
  options.boot_id_path = "/nonexistent/boot_id";
  EXPECT_FALSE(KernelLogWatcher::Open(
                   options, std::make_unique<FakeKmsgSource>(std::make_shared<FakeKmsgQueue>()))
                   .ok());
  options = machine.Options();
  options.state_path.clear();
  EXPECT_EQ(KernelLogWatcher::Open(
                options, std::make_unique<FakeKmsgSource>(std::make_shared<FakeKmsgQueue>()))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// Lines about devices that hold the host's data, and lines about the others.
// The real floppy lines of a Debian 12 guest under QEMU.
constexpr char kFloppyIoError[] =
    "I/O error, dev fd0, sector 0 op 0x0:(READ) flags 0x0 phys_seg 1 prio class 2";
constexpr char kFloppyBlkUpdate[] =
    "blk_update_request: I/O error, dev fd0, sector 0 op 0x0:(READ) flags 0x80700 phys_seg 1 "
    "prio class 0";
constexpr char kJournalAborted[] = "JBD2: Invalid checksum recovering block 1090 in log";

// Says a fixed set of devices holds none of the host's data; remembers what
// it was asked.
class FakeRelevance final : public DeviceRelevance {
 public:
  explicit FakeRelevance(std::set<std::string> unrelated) : unrelated_(std::move(unrelated)) {}
  Relevance Judge(std::string_view device) override {
    asked.emplace_back(device);
    const bool relevant = !unrelated_.contains(std::string(device));
    return {.relevant = relevant, .reason = relevant ? "in use" : "backs nothing"};
  }
  std::vector<std::string> asked;

 private:
  std::set<std::string> unrelated_;
};

// A watcher whose relevance answers come from `relevance`.
std::unique_ptr<KernelLogWatcher> WatcherJudgedBy(Machine& machine,
                                                  std::shared_ptr<FakeRelevance> relevance) {
  WatcherOptions options = machine.Options();
  options.relevance = std::move(relevance);
  return machine.Watcher(options);
}

TEST(KernelLogWatcherRelevance, ErrorOfADeviceHoldingNothingIsCountedNotReported) {
  Machine machine;
  machine.kmsg().Push(RawRecord(0, kFloppyBlkUpdate));
  machine.kmsg().Push(RawRecord(1, kFloppyIoError));
  auto watcher = WatcherJudgedBy(machine, std::make_shared<FakeRelevance>(std::set{"fd0"s}));
  ASSERT_NE(watcher, nullptr);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_TRUE(events->empty());
  EXPECT_EQ(watcher->lines_matched(), 2u);
  EXPECT_EQ(watcher->lines_ignored(), 2u);
  EXPECT_EQ(watcher->lines_suppressed(), 0u) << "ignored lines are not rate limited";
}

TEST(KernelLogWatcherRelevance, ErrorOfADeviceHoldingDataIsReported) {
  Machine machine;
  machine.kmsg().Push(RawRecord(0, kIoError));  // dev vda
  auto watcher = WatcherJudgedBy(machine, std::make_shared<FakeRelevance>(std::set{"fd0"s}));
  ASSERT_NE(watcher, nullptr);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().device, "vda");
  EXPECT_EQ(watcher->lines_ignored(), 0u);
}

TEST(KernelLogWatcherRelevance, LineNamingNoDeviceIsReportedWithoutAsking) {
  Machine machine;
  machine.kmsg().Push(RawRecord(0, kJournalAborted));
  // Even a judge that finds every device unrelated cannot hide it.
  auto relevance = std::make_shared<FakeRelevance>(std::set{""s});
  auto watcher = WatcherJudgedBy(machine, relevance);
  ASSERT_NE(watcher, nullptr);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().signature, "jbd2_journal_checksum");
  EXPECT_EQ(events->front().device, "");
  EXPECT_TRUE(relevance->asked.empty());
}

TEST(KernelLogWatcherRelevance, IgnoredLinesAreCountedPerDevice) {
  Machine machine;
  machine.kmsg().Push(RawRecord(0, kFloppyBlkUpdate));
  machine.kmsg().Push(RawRecord(1, "I/O error, dev sr0, sector 64 op 0x0:(READ) flags 0x0"));
  machine.kmsg().Push(RawRecord(2, kFloppyIoError));
  machine.kmsg().Push(RawRecord(3, kIoError));
  auto watcher =
      WatcherJudgedBy(machine, std::make_shared<FakeRelevance>(std::set{"fd0"s, "sr0"s}));
  ASSERT_NE(watcher, nullptr);
  auto events = watcher->Poll();
  ASSERT_TRUE(events.ok()) << events.status();
  EXPECT_EQ(Sequences(*events), (std::vector<uint64_t>{3}));
  EXPECT_EQ(watcher->ignored(),
            (std::map<std::string, uint64_t, std::less<>>{{"fd0", 2}, {"sr0", 1}}));
  EXPECT_EQ(watcher->lines_ignored(), 3u);
}

TEST(KernelLogWatcherRelevance, EachDeviceIsJudgedOncePerPollAndAgainInTheNext) {
  Machine machine;
  for (uint64_t seq = 0; seq < 5; ++seq) machine.kmsg().Push(RawRecord(seq, kFloppyIoError));
  auto relevance = std::make_shared<FakeRelevance>(std::set{"fd0"s});
  auto watcher = WatcherJudgedBy(machine, relevance);
  ASSERT_NE(watcher, nullptr);
  ASSERT_TRUE(watcher->Poll().ok());
  EXPECT_EQ(relevance->asked, (std::vector<std::string>{"fd0"}));
  // A filesystem may be mounted on it by the time it fails again.
  machine.kmsg().Push(RawRecord(5, kFloppyIoError));
  ASSERT_TRUE(watcher->Poll().ok());
  EXPECT_EQ(relevance->asked, (std::vector<std::string>{"fd0", "fd0"}));
  EXPECT_EQ(watcher->lines_ignored(), 6u);
}

TEST(KernelLogWatcherRelevance, IgnoredLinesStillMoveTheCursor) {
  Machine machine;
  machine.kmsg().Push(RawRecord(0, kFloppyIoError));
  {
    auto watcher = WatcherJudgedBy(machine, std::make_shared<FakeRelevance>(std::set{"fd0"s}));
    ASSERT_TRUE(watcher->Poll().ok());
    ASSERT_TRUE(watcher->Commit().ok());
  }
  auto watcher = WatcherJudgedBy(machine, std::make_shared<FakeRelevance>(std::set{"fd0"s}));
  ASSERT_TRUE(watcher->Poll().ok());
  EXPECT_EQ(watcher->start_point(), StartPoint::kResumed);
  EXPECT_EQ(watcher->lines_read(), 0u);
  EXPECT_EQ(watcher->lines_ignored(), 0u);
}

}  // namespace
}  // namespace fscanary::kmsg
