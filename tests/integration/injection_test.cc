// Corrupts one block of a target from outside the agent (pread/pwrite on the
// file or the loop device, truncate) after two full write passes, and checks
// that `fscanary-agent verify` reports exactly that block, with the kind and
// evidence the corruption calls for, and nothing else.

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/scratch.h"

namespace fscanary::testing {
namespace {

using nlohmann::json;

constexpr uint64_t kBlocks = 32;
// The block every injection damages, and the block copied over it.
constexpr uint64_t kVictim = 5;
constexpr uint64_t kSource = 9;

struct Setup {
  std::string name;
  ScratchOptions scratch;
};

const std::vector<Setup>& Setups() {
  static const auto* const setups = new std::vector<Setup>{
      {"File", {}},
      {"LoopDevice", {.loop_device = true}},
      {"FilePsync", {.engine = "psync"}},
      {"File64KBlocks", {.block_size = 65536}},
      {"File512BBlocks", {.block_size = 512}},
  };
  return *setups;
}

enum class Injection {
  kBitFlips,
  kBlockOfAnotherOffset,
  kBlockOfAnotherTarget,
  kBlockOfOlderPass,
  kTailSectorsOfOlderPass,  // the 2018 blk-mq signature
  kZeroes,
  kForeignBytes,
  kTruncatedMidBlock,
};

std::string InjectionName(Injection injection) {
  switch (injection) {
    case Injection::kBitFlips:
      return "BitFlipsAreChecksumMismatch";
    case Injection::kBlockOfAnotherOffset:
      return "BlockOfAnotherOffsetIsMisdirectedWrite";
    case Injection::kBlockOfAnotherTarget:
      return "BlockOfAnotherTargetIsMisdirectedWrite";
    case Injection::kBlockOfOlderPass:
      return "BlockOfOlderPassIsLostWrite";
    case Injection::kTailSectorsOfOlderPass:
      return "TailSectorsOfOlderPassAreTornWrite";
    case Injection::kZeroes:
      return "ZeroesAreZeroed";
    case Injection::kForeignBytes:
      return "ForeignBytesAreForeignData";
    case Injection::kTruncatedMidBlock:
      return "TruncationMidBlockIsShortRead";
  }
  return "Unknown";
}

struct Case {
  Setup setup;
  Injection injection;
};

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const Setup& setup : Setups()) {
    for (const Injection injection :
         {Injection::kBitFlips, Injection::kBlockOfAnotherOffset, Injection::kBlockOfAnotherTarget,
          Injection::kBlockOfOlderPass, Injection::kTailSectorsOfOlderPass, Injection::kZeroes,
          Injection::kForeignBytes, Injection::kTruncatedMidBlock}) {
      // A device cannot be truncated; a one-sector block cannot be torn.
      if (setup.scratch.loop_device && injection == Injection::kTruncatedMidBlock) continue;
      if (setup.scratch.block_size == kSectorSize &&
          injection == Injection::kTailSectorsOfOlderPass) {
        continue;
      }
      cases.push_back({setup, injection});
    }
  }
  return cases;
}

// What verify must say of the damaged block: every field of its finding.
struct Expected {
  uint64_t offset = 0;
  std::string kind;
  json found_generation = nullptr;
  json found_offset = nullptr;
  json found_target_id = nullptr;
  json sectors = json::array();
  json differing_bytes = json::array();
  std::optional<uint64_t> bytes_read;
};

json Repeat(const std::string& value, size_t count) {
  json array = json::array();
  for (size_t i = 0; i < count; ++i) array.push_back(value);
  return array;
}

class ScratchTest {
 protected:
  // Sets scratch_ up, or skips the test where loop devices are unavailable.
  void MakeScratch(const ScratchOptions& options) {
    if (options.loop_device) {
      if (const std::string reason = LoopDevicesUnavailableReason(); !reason.empty()) {
        GTEST_SKIP() << reason;
      }
    }
    scratch_.emplace(options);
    const absl::Status prepared = scratch_->Prepare();
    ASSERT_TRUE(prepared.ok()) << prepared;
  }

  // One full write pass that must succeed with `generation`.
  void WritePass(uint64_t generation) {
    const AgentResult write = scratch_->Write();
    ASSERT_EQ(write.exit_code, 0) << write.Describe();
    ASSERT_FALSE(write.json.is_discarded()) << write.Describe();
    EXPECT_EQ(write.json["generation"], generation);
    EXPECT_EQ(write.json["blocks_written"], kBlocks);
    EXPECT_EQ(write.json["write_failures"], json::array());
  }

  std::optional<Scratch> scratch_;
};

class InjectionTest : public ScratchTest, public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { MakeScratch(GetParam().setup.scratch); }

  std::vector<std::byte> ReadBlockAt(uint64_t offset) {
    const uint32_t block_size = scratch_->layout().block_size;
    absl::StatusOr<std::vector<std::byte>> bytes =
        ReadBytes(scratch_->target(), offset, block_size);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    // Failed already; a block of the right size keeps the rest well-defined.
    return bytes.ok() ? *std::move(bytes) : std::vector<std::byte>(block_size);
  }

  void WriteBlockAt(uint64_t offset, const std::vector<std::byte>& block) {
    ASSERT_EQ(block.size(), scratch_->layout().block_size);
    const absl::Status written = WriteBytes(scratch_->target(), offset, block);
    ASSERT_TRUE(written.ok()) << written;
  }

  // Damages block kVictim (generation 2; `older` is its generation-1 content)
  // and sets expected_.
  void Inject(const std::vector<std::byte>& older) {
    const Layout& layout = scratch_->layout();
    const uint32_t block_size = layout.block_size;
    const uint64_t victim = layout.BlockOffset(kVictim);
    expected_.offset = victim;
    switch (GetParam().injection) {
      case Injection::kBitFlips: {
        std::vector<std::byte> block = ReadBlockAt(victim);
        // One bit in sector 0's payload, four bytes in the last sector's.
        block[200] ^= std::byte{0x10};
        for (uint32_t i = block_size - 100; i < block_size - 96; ++i) block[i] ^= std::byte{0xFF};
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, block));
        expected_.kind = "checksum_mismatch";
        expected_.sectors = Repeat("new", layout.sectors());
        expected_.sectors[0] = "damaged";
        expected_.sectors[(block_size - 100) / kSectorSize] = "damaged";
        expected_.differing_bytes = {{200, 201}, {block_size - 100, block_size - 96}};
        break;
      }
      case Injection::kBlockOfAnotherOffset:
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, ReadBlockAt(layout.BlockOffset(kSource))));
        expected_.kind = "misdirected_write";
        expected_.found_generation = 2;
        expected_.found_offset = layout.BlockOffset(kSource);
        break;
      case Injection::kBlockOfAnotherTarget: {
        Scratch other({.block_size = block_size, .blocks = kBlocks});
        ASSERT_TRUE(other.Prepare().ok());
        const AgentResult write = other.Write();
        ASSERT_EQ(write.exit_code, 0) << write.Describe();
        absl::StatusOr<std::vector<std::byte>> block =
            ReadBytes(other.target(), victim, block_size);
        ASSERT_TRUE(block.ok()) << block.status();
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, *block));
        expected_.kind = "misdirected_write";
        expected_.found_generation = 1;
        expected_.found_offset = victim;
        expected_.found_target_id = TargetIdOf(write.json);
        break;
      }
      case Injection::kBlockOfOlderPass:
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, older));
        expected_.kind = "lost_write";
        expected_.found_generation = 1;
        break;
      case Injection::kTailSectorsOfOlderPass: {
        std::vector<std::byte> block = ReadBlockAt(victim);
        const uint32_t new_sectors = layout.sectors() * 5 / 8;
        std::copy(older.begin() + new_sectors * kSectorSize, older.end(),
                  block.begin() + new_sectors * kSectorSize);
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, block));
        expected_.kind = "torn_write";
        expected_.found_generation = 1;
        expected_.sectors = Repeat("new", layout.sectors());
        for (uint32_t i = new_sectors; i < layout.sectors(); ++i) expected_.sectors[i] = "old";
        break;
      }
      case Injection::kZeroes:
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, std::vector<std::byte>(block_size)));
        expected_.kind = "zeroed";
        break;
      case Injection::kForeignBytes:
        ASSERT_NO_FATAL_FAILURE(WriteBlockAt(victim, ForeignBytes(block_size, /*seed=*/2018)));
        expected_.kind = "foreign_data";
        expected_.sectors = Repeat("foreign", layout.sectors());
        break;
      case Injection::kTruncatedMidBlock: {
        // The last block, so no block lies wholly past the new end.
        const uint64_t last = layout.BlockOffset(kBlocks - 1);
        ASSERT_EQ(::truncate(scratch_->target().c_str(), static_cast<off_t>(last + block_size / 2)),
                  0);
        expected_.offset = last;
        expected_.kind = "short_read";
        expected_.bytes_read = block_size / 2;
        break;
      }
    }
  }

  Expected expected_;
};

TEST_P(InjectionTest, IsTheOnlyFindingWithItsKindOffsetAndEvidence) {
  ASSERT_NO_FATAL_FAILURE(WritePass(1));
  const std::vector<std::byte> older = ReadBlockAt(scratch_->layout().BlockOffset(kVictim));
  ASSERT_NO_FATAL_FAILURE(WritePass(2));
  ASSERT_NO_FATAL_FAILURE(Inject(older));

  const AgentResult verify = scratch_->Verify();
  ASSERT_EQ(verify.exit_code, 1) << verify.Describe();
  ASSERT_FALSE(verify.json.is_discarded()) << verify.Describe();
  EXPECT_EQ(verify.json["blocks_verified"], kBlocks);
  if (GetParam().setup.scratch.engine == "psync") {
    EXPECT_EQ(verify.json["engine"], "psync");
  }
  const json& findings = verify.json["findings"];
  ASSERT_EQ(findings.size(), 1u) << findings.dump(1);
  const json& finding = findings[0];
  SCOPED_TRACE(finding.dump(1));
  EXPECT_EQ(finding["offset"], expected_.offset);
  EXPECT_EQ(finding["kind"], expected_.kind);
  EXPECT_EQ(finding["persistent"], true);
  EXPECT_EQ(finding["rereads"], Repeat(expected_.kind, 3));
  EXPECT_EQ(finding["expected_generation"], 2);
  EXPECT_EQ(finding["found_generation"], expected_.found_generation);
  EXPECT_EQ(finding["found_offset"], expected_.found_offset);
  EXPECT_EQ(finding["found_target_id"], expected_.found_target_id);
  EXPECT_EQ(finding["sectors"], expected_.sectors);
  EXPECT_EQ(finding["differing_bytes"], expected_.differing_bytes);
  if (expected_.bytes_read) {
    EXPECT_EQ(finding["bytes_read"], *expected_.bytes_read);
  }
  ASSERT_TRUE(finding["evidence"].is_string());
  const std::string evidence = finding["evidence"].get<std::string>();
  EXPECT_EQ(evidence.rfind(scratch_->evidence_dir() + "/", 0), 0u) << evidence;
  EXPECT_TRUE(std::filesystem::is_directory(evidence)) << evidence;
}

// Failure messages name the parameters instead of dumping their bytes.
void PrintTo(const Setup& setup, std::ostream* os) { *os << setup.name; }
void PrintTo(const Case& test_case, std::ostream* os) {
  *os << test_case.setup.name << "_" << InjectionName(test_case.injection);
}

std::string CaseName(const ::testing::TestParamInfo<Case>& case_info) {
  return case_info.param.setup.name + "_" + InjectionName(case_info.param.injection);
}

INSTANTIATE_TEST_SUITE_P(Matrix, InjectionTest, ::testing::ValuesIn(AllCases()), CaseName);

class CleanTargetTest : public ScratchTest, public ::testing::TestWithParam<Setup> {
 protected:
  void SetUp() override { MakeScratch(GetParam().scratch); }
};

TEST_P(CleanTargetTest, VerifiesEveryBlockWithoutFindings) {
  ASSERT_NO_FATAL_FAILURE(WritePass(1));
  ASSERT_NO_FATAL_FAILURE(WritePass(2));
  const AgentResult verify = scratch_->Verify();
  ASSERT_EQ(verify.exit_code, 0) << verify.Describe();
  ASSERT_FALSE(verify.json.is_discarded()) << verify.Describe();
  EXPECT_EQ(verify.json["findings"], json::array());
  EXPECT_EQ(verify.json["blocks_verified"], kBlocks);
  EXPECT_EQ(verify.json["bytes_verified"], kBlocks * scratch_->layout().block_size);
  EXPECT_EQ(verify.json["block_size"], scratch_->layout().block_size);
  EXPECT_EQ(verify.json["blocks_unwritten"], 0);
  if (GetParam().scratch.engine == "psync") {
    EXPECT_EQ(verify.json["engine"], "psync");
  }
  if (GetParam().scratch.loop_device) {
    // The spare MiB past --size must be untouched.
    absl::StatusOr<std::vector<std::byte>> spare =
        ReadBytes(scratch_->target(), scratch_->layout().TargetSize(kBlocks), 1 << 20);
    ASSERT_TRUE(spare.ok()) << spare.status();
    EXPECT_EQ(*spare, std::vector<std::byte>(1 << 20));
  }
}

std::string SetupName(const ::testing::TestParamInfo<Setup>& setup_info) {
  return setup_info.param.name;
}

INSTANTIATE_TEST_SUITE_P(Matrix, CleanTargetTest, ::testing::ValuesIn(Setups()), SetupName);

}  // namespace
}  // namespace fscanary::testing
