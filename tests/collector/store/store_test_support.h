#pragma once
// Builders for the messages the store tests ingest, and a store of the
// backend under test: SQLite on a temporary directory, or a fresh database on
// the test binary's private PostgreSQL server.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "collector/store/store.h"
#include "tests/temp_dir.h"

namespace fscanary::store::testing {

// Facts of a small VM: one virtio disk under target "t0", ext4 on it, and a
// kernel config of three options whose SHA-256 stands for them.
v1::HostFacts VmFacts(const std::string& kernel_release = "6.1.0-18-amd64",
                      const std::string& scheduler = "mq-deadline");

v1::AgentMessage HelloMessage(const v1::HostFacts& facts, int64_t created_ns,
                              const std::string& agent_version = "0.1.0");
v1::AgentMessage FactsRecord(uint64_t sequence, int64_t created_ns, const v1::HostFacts& facts);
// A report over [created - 10 s, created] that verified `bytes_verified`.
v1::AgentMessage ReportRecord(uint64_t sequence, int64_t created_ns, uint64_t bytes_verified);
v1::AgentMessage FindingRecord(uint64_t sequence, int64_t created_ns,
                               v1::FindingKind kind = v1::CHECKSUM_MISMATCH);
v1::AgentMessage SpoolLossRecord(uint64_t sequence, int64_t created_ns, uint64_t findings_dropped);

enum class Backend { kSqlite, kPostgres };
std::string BackendName(const ::testing::TestParamInfo<Backend>& info);
// For gtest's test names and messages ("GetParam() = Postgres").
void PrintTo(Backend backend, std::ostream* out);

// The fixture of the tests every backend must pass: while a test runs,
// OpenStore opens a store of its parameter's backend (outside such a test,
// SQLite). Where PostgreSQL is not installed and the test is not root, the
// PostgreSQL instances skip saying so.
class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override;
  void TearDown() override;
};

// Runs the suite (a BackendTest) on every backend.
#define FSCANARY_ON_EVERY_BACKEND(suite)                                                      \
  INSTANTIATE_TEST_SUITE_P(, suite,                                                           \
                           ::testing::Values(::fscanary::store::testing::Backend::kSqlite,    \
                                             ::fscanary::store::testing::Backend::kPostgres), \
                           ::fscanary::store::testing::BackendName)

// PostgreSQL tests: the connection string of the current test's database
// `name` (created at first use).
std::string PostgresDsn(const std::string& name = "collector.db");

// Makes the database in `dir` refuse any finding with `sequence` (a trigger
// raising an error), standing for whatever the store may refuse in one
// agent's record; the test fails if it cannot.
void RefuseFindingSequence(const fscanary::testing::TempDir& dir, uint64_t sequence,
                           const std::string& name = "collector.db");

// A store on a fresh database in `dir`; the test fails if it cannot open.
std::unique_ptr<Store> OpenStore(const fscanary::testing::TempDir& dir,
                                 const std::string& name = "collector.db");
// The same, with this store's instance id, lease and clock.
std::unique_ptr<Store> OpenStore(const fscanary::testing::TempDir& dir,
                                 const LivenessOptions& liveness,
                                 const std::string& name = "collector.db");

inline constexpr RecordResult::Outcome kStored = RecordResult::Outcome::kStored;
inline constexpr RecordResult::Outcome kDuplicate = RecordResult::Outcome::kDuplicate;
inline constexpr RecordResult::Outcome kConflict = RecordResult::Outcome::kConflict;

// Ingests one batch and returns what became of each message; fails the test
// on error.
std::vector<RecordResult::Outcome> Ingest(Store& store, const std::string& agent_id,
                                          const std::vector<v1::AgentMessage>& messages,
                                          int64_t received_ns = 1);

// The epochs of one agent, in order.
std::vector<EpochRecord> EpochsOf(Store& store, const std::string& agent_id);

}  // namespace fscanary::store::testing
