// As root, against the machine's real /dev/kmsg: lines written there (the
// kernel gives them facility user) are read back through the watcher. Skips,
// with the reason, where /dev/kmsg cannot be read and written.

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkers/kmsg/kmsg_watcher.h"
#include "common/status.h"
#include "gtest/gtest.h"
#include "io/posix.h"
#include "tests/checkers/kmsg/signature_examples.h"
#include "tests/temp_dir.h"

namespace fscanary::kmsg {
namespace {

using Clock = std::chrono::steady_clock;
constexpr char kDevKmsg[] = "/dev/kmsg";

// Empty when the test can run here; otherwise why not.
std::string WhyNotUsable() {
  if (::geteuid() != 0) return "needs root to write to /dev/kmsg";
  if (!io::Open(kDevKmsg, O_RDONLY | O_NONBLOCK).ok()) return "cannot read /dev/kmsg";
  if (!io::Open(kDevKmsg, O_WRONLY).ok()) return "cannot write /dev/kmsg";
  return "";
}

// One record. The kernel rate-limits writers per open file (10 lines per
// 5 s), so each line gets its own open.
absl::Status WriteKmsg(const std::string& line) {
  ASSIGN_OR_RETURN(io::UniqueFd fd, io::Open(kDevKmsg, O_WRONLY));
  const ssize_t n = ::write(fd.get(), line.data(), line.size());
  if (n < 0) return ErrnoToStatus(errno, "write /dev/kmsg");
  if (static_cast<size_t>(n) != line.size()) return absl::DataLossError("short write to /dev/kmsg");
  return absl::OkStatus();
}

std::unique_ptr<KernelLogWatcher> OpenDrained(const std::string& state_path) {
  // No rate limit: earlier runs of this test left lines of the same
  // signatures and devices in the kernel's buffer.
  auto watcher =
      KernelLogWatcher::Open({.state_path = state_path, .rate_limit = {.events_per_window = 0}});
  EXPECT_TRUE(watcher.ok()) << watcher.status();
  if (!watcher.ok()) return nullptr;
  do {
    if (!(*watcher)->Poll().ok()) return nullptr;
  } while (!(*watcher)->caught_up());
  return std::move(*watcher);
}

std::string Token() { return absl::StrFormat("%016x", io::RandomU64()); }

TEST(RealDevKmsg, EverySignatureLineIsReportedWithinOneSecondAndNoiseIsNot) {
  if (const std::string why = WhyNotUsable(); !why.empty()) GTEST_SKIP() << why;
  fscanary::testing::TempDir dir;
  auto watcher = OpenDrained(dir.Join("kmsg.cursor"));
  ASSERT_NE(watcher, nullptr);

  const std::string token = Token();
  // Noise first: once the signature lines are seen, the noise has been read.
  const std::vector<std::string> noise = {
      "usb 1-1: new high-speed USB device number 2 using ehci-pci",
      "EXT4-fs (vda1): mounted filesystem with ordered data mode. Opts: (null)",
      "XFS (vdb): Ending clean mount"};
  for (size_t i = 0; i < noise.size(); ++i) {
    ASSERT_TRUE(
        WriteKmsg(absl::StrCat("<3>fscanary-", token, "-noise-", i, " ", noise[i], "\n")).ok());
  }
  // The first example of each signature, with a unique prefix, one at a time:
  // each must come back as its event within 1 s of its write.
  std::vector<KernelEvent> mine;
  std::vector<Clock::duration> latencies;
  for (const Signature& signature : Signatures()) {
    const SignatureExample* example = nullptr;
    for (const SignatureExample& candidate : kSignatureExamples) {
      if (candidate.signature == signature.name) {
        example = &candidate;
        break;
      }
    }
    ASSERT_NE(example, nullptr) << signature.name;
    const std::string prefix =
        absl::StrCat("fscanary-", token, "-", std::string(signature.name), " ");
    // From before write(2): the kernel prints the line to its consoles inside
    // the call, which is part of what an operator waits for.
    const Clock::time_point written = Clock::now();
    ASSERT_TRUE(WriteKmsg(absl::StrCat("<3>", prefix, example->line, "\n")).ok());
    const Clock::time_point deadline = written + std::chrono::seconds(1);
    std::optional<KernelEvent> found;
    while (!found && Clock::now() < deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      ASSERT_TRUE(watcher->WaitForRecords(std::max(left, std::chrono::milliseconds(1))).ok());
      auto events = watcher->Poll();
      ASSERT_TRUE(events.ok()) << events.status();
      for (KernelEvent& event : *events) {
        if (event.message.find(token) == std::string::npos) continue;
        if (event.message.starts_with(prefix)) found = event;
        mine.push_back(std::move(event));
      }
    }
    const Clock::duration latency = Clock::now() - written;
    ASSERT_TRUE(found.has_value()) << signature.name << " not reported within 1 s";
    latencies.push_back(latency);
    EXPECT_LT(latency, std::chrono::seconds(1)) << signature.name;
    EXPECT_EQ(found->signature, example->signature);
    EXPECT_EQ(found->device, example->device);
    EXPECT_EQ(found->message, prefix + example->line);
    EXPECT_EQ(found->facility, kFacilityUser);
  }
  for (const KernelEvent& event : mine) {
    EXPECT_EQ(event.message.find("-noise-"), std::string::npos)
        << "a non-matching line was reported: " << event.message;
  }
  EXPECT_EQ(mine.size(), Signatures().size());

  std::sort(latencies.begin(), latencies.end());
  const auto micros = [](Clock::duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  };
  const int64_t median_us = micros(latencies[latencies.size() / 2]);
  const int64_t worst_us = micros(latencies.back());
  std::cout << "kmsg: " << latencies.size() << " signature lines, write(2) to event: "
            << "median " << median_us << " us, worst " << worst_us << " us\n";
  RecordProperty("median_latency_us", static_cast<int>(median_us));
  RecordProperty("worst_latency_us", static_cast<int>(worst_us));
}

TEST(RealDevKmsg, RestartWithTheCursorDoesNotReportAgain) {
  if (const std::string why = WhyNotUsable(); !why.empty()) GTEST_SKIP() << why;
  fscanary::testing::TempDir dir;
  const std::string state = dir.Join("kmsg.cursor");
  const std::string token = Token();
  // A device of its own: the rate limit is per signature and device, and
  // other tests' loop devices log real errors.
  const std::string device = absl::StrCat("loop", 1000 + io::RandomU64() % 1'000'000);
  const auto line = [&](int n) {
    return absl::StrCat("<3>fscanary-", token, "-", n, " Buffer I/O error on dev ", device,
                        ", logical block 0, async page read\n");
  };
  const auto reported = [&](KernelLogWatcher& watcher) {
    std::vector<std::string> found;
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(1);
    do {
      (void)watcher.WaitForRecords(std::chrono::milliseconds(50));
      auto events = watcher.Poll();
      EXPECT_TRUE(events.ok()) << events.status();
      if (!events.ok()) break;
      for (const KernelEvent& event : *events) {
        if (event.message.find(token) != std::string::npos) found.push_back(event.message);
      }
    } while (Clock::now() < deadline);
    return found;
  };

  {
    auto watcher = OpenDrained(state);
    ASSERT_NE(watcher, nullptr);
    ASSERT_TRUE(WriteKmsg(line(1)).ok());
    EXPECT_EQ(reported(*watcher).size(), 1u);
    ASSERT_TRUE(watcher->Commit().ok());
  }
  auto watcher = KernelLogWatcher::Open({.state_path = state});
  ASSERT_TRUE(watcher.ok()) << watcher.status();
  EXPECT_EQ((*watcher)->start_point(), StartPoint::kResumed);
  ASSERT_TRUE(WriteKmsg(line(2)).ok());
  const std::vector<std::string> again = reported(**watcher);
  ASSERT_EQ(again.size(), 1u) << "line 1 reported a second time?";
  EXPECT_NE(again[0].find(absl::StrCat(token, "-2 ")), std::string::npos);
}

}  // namespace
}  // namespace fscanary::kmsg
