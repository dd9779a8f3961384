#include "tests/collector/store/store_test_support.h"

#include <gtest/gtest.h>

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "collector/store/sqlite_connection.h"
#include "tests/lib/postgres_server.h"

namespace fscanary::store::testing {
namespace {

// The backend of the running BackendTest, and its PostgreSQL databases by name.
std::mutex current_mutex;
Backend current_backend = Backend::kSqlite;
std::map<std::string, std::string> current_databases;

Backend CurrentBackend() {
  std::lock_guard lock(current_mutex);
  return current_backend;
}

}  // namespace

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kPostgres ? "Postgres" : "Sqlite";
}

void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::kPostgres ? "Postgres" : "Sqlite");
}

void BackendTest::SetUp() {
  {
    std::lock_guard lock(current_mutex);
    current_backend = GetParam();
    current_databases.clear();
  }
  if (GetParam() != Backend::kPostgres) return;
  absl::StatusOr<fscanary::testing::PostgresServer*> server =
      fscanary::testing::SharedPostgresServer();
  if (!server.ok() && fscanary::testing::PostgresMaySkip(server.status())) {
    GTEST_SKIP() << server.status().message();
  }
  ASSERT_TRUE(server.ok()) << server.status();
}

void BackendTest::TearDown() {
  std::lock_guard lock(current_mutex);
  current_backend = Backend::kSqlite;
  current_databases.clear();
}

std::string PostgresDsn(const std::string& name) {
  std::lock_guard lock(current_mutex);
  if (auto it = current_databases.find(name); it != current_databases.end()) return it->second;
  absl::StatusOr<fscanary::testing::PostgresServer*> server =
      fscanary::testing::SharedPostgresServer();
  EXPECT_TRUE(server.ok()) << server.status();
  if (!server.ok()) return "";
  absl::StatusOr<std::string> dsn = (*server)->CreateDatabase();
  EXPECT_TRUE(dsn.ok()) << dsn.status();
  if (!dsn.ok()) return "";
  return current_databases[name] = *dsn;
}

v1::HostFacts VmFacts(const std::string& kernel_release, const std::string& scheduler) {
  v1::HostFacts facts;
  facts.set_hostname("vm-1");
  facts.set_boot_id("boot-1");
  facts.set_kernel_release(kernel_release);
  facts.set_kernel_version("#1 SMP PREEMPT_DYNAMIC Debian " + kernel_release);
  facts.set_kernel_config_sha256("sha-of-" + kernel_release);
  (*facts.mutable_kernel_config())["CONFIG_BLK_DEV"] = "y";
  (*facts.mutable_kernel_config())["CONFIG_VIRTIO_BLK"] = "m";
  (*facts.mutable_kernel_config())["CONFIG_LOCALVERSION"] = "\"-" + kernel_release + "\"";
  facts.set_distro_id("debian");
  facts.set_distro_version("12");
  facts.set_virtualization("kvm");
  facts.set_cpu_count(2);
  facts.set_memory_bytes(uint64_t{4} << 30);
  v1::BlockDeviceFacts& disk = *facts.add_devices();
  disk.set_name("vda");
  disk.set_dev("254:0");
  disk.set_type("disk");
  disk.set_driver("virtio_blk");
  disk.set_blk_mq("on");
  disk.set_scheduler(scheduler);
  disk.set_write_cache("write back");
  disk.set_logical_block_size(512);
  disk.set_size_bytes(uint64_t{20} << 30);
  disk.set_target("t0");
  v1::FilesystemFacts& filesystem = *facts.add_filesystems();
  filesystem.set_mount_point("/");
  filesystem.set_fs_type("ext4");
  filesystem.set_source("/dev/vda1");
  filesystem.set_mount_options("rw,relatime");
  filesystem.set_target("t0");
  return facts;
}

v1::AgentMessage HelloMessage(const v1::HostFacts& facts, int64_t created_ns,
                              const std::string& agent_version) {
  v1::AgentMessage message;
  message.set_created_unix_nanos(created_ns);
  v1::Hello& hello = *message.mutable_hello();
  hello.set_agent_id("ignored: the store takes the caller's agent id");
  hello.set_agent_version(agent_version);
  *hello.mutable_facts() = facts;
  hello.mutable_config()->set_config_sha256("agent-config-sha");
  return message;
}

v1::AgentMessage FactsRecord(uint64_t sequence, int64_t created_ns, const v1::HostFacts& facts) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(created_ns);
  *message.mutable_facts() = facts;
  return message;
}

v1::AgentMessage ReportRecord(uint64_t sequence, int64_t created_ns, uint64_t bytes_verified) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(created_ns);
  v1::IntervalReport& report = *message.mutable_report();
  report.set_start_unix_nanos(created_ns - 10'000'000'000);
  report.set_end_unix_nanos(created_ns);
  v1::CheckerInterval& checker = *report.add_checkers();
  checker.set_checker("block");
  checker.set_target("t0");
  checker.set_bytes_verified(bytes_verified);
  checker.set_blocks_verified(bytes_verified / 4096);
  return message;
}

v1::AgentMessage FindingRecord(uint64_t sequence, int64_t created_ns, v1::FindingKind kind) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(created_ns);
  v1::Finding& finding = *message.mutable_finding();
  finding.set_checker("block");
  finding.set_target("t0");
  finding.set_kind(kind);
  finding.set_offset(sequence * 4096);
  finding.set_block_size(4096);
  finding.set_detected_unix_nanos(created_ns);
  finding.set_evidence_summary("expected generation 7, found 6");
  return message;
}

v1::AgentMessage SpoolLossRecord(uint64_t sequence, int64_t created_ns, uint64_t findings_dropped) {
  v1::AgentMessage message;
  message.set_sequence(sequence);
  message.set_created_unix_nanos(created_ns);
  message.mutable_spool_loss()->set_findings_dropped(findings_dropped);
  message.mutable_spool_loss()->set_reports_summarised(3);
  return message;
}

void RefuseFindingSequence(const fscanary::testing::TempDir& dir, uint64_t sequence,
                           const std::string& name) {
  if (CurrentBackend() == Backend::kPostgres) {
    absl::StatusOr<fscanary::testing::PostgresServer*> server =
        fscanary::testing::SharedPostgresServer();
    ASSERT_TRUE(server.ok()) << server.status();
    const absl::Status created = (*server)->Exec(
        PostgresDsn(name),
        absl::StrCat("CREATE FUNCTION refuse_", sequence,
                     "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                     "RAISE EXCEPTION 'poison record refused'; END $$; "
                     "CREATE TRIGGER refuse_",
                     sequence, " BEFORE INSERT ON findings FOR EACH ROW WHEN (NEW.sequence = ",
                     sequence, ") EXECUTE FUNCTION refuse_", sequence, "()"));
    ASSERT_TRUE(created.ok()) << created;
    return;
  }
  absl::StatusOr<std::unique_ptr<sqlite::Connection>> db =
      sqlite::Connection::Open(dir.Join(name), sqlite::Access::kReadWrite, 5000);
  ASSERT_TRUE(db.ok()) << db.status();
  const absl::Status created =
      (*db)->Exec(absl::StrCat("CREATE TRIGGER refuse_", sequence,
                               " BEFORE INSERT ON findings WHEN NEW.sequence = ", sequence,
                               " BEGIN SELECT RAISE(ABORT, 'poison record refused'); END"));
  ASSERT_TRUE(created.ok()) << created;
}

std::unique_ptr<Store> OpenStore(const fscanary::testing::TempDir& dir, const std::string& name) {
  return OpenStore(dir, LivenessOptions{}, name);
}

std::unique_ptr<Store> OpenStore(const fscanary::testing::TempDir& dir,
                                 const LivenessOptions& liveness, const std::string& name) {
  absl::StatusOr<std::unique_ptr<Store>> store =
      CurrentBackend() == Backend::kPostgres
          ? OpenPostgresStore({.dsn = PostgresDsn(name), .liveness = liveness})
          : OpenSqliteStore({.path = dir.Join(name), .liveness = liveness});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

std::vector<RecordResult::Outcome> Ingest(Store& store, const std::string& agent_id,
                                          const std::vector<v1::AgentMessage>& messages,
                                          int64_t received_ns) {
  absl::StatusOr<std::vector<RecordResult>> stored =
      store.IngestBatch(agent_id, messages, received_ns);
  EXPECT_TRUE(stored.ok()) << stored.status();
  std::vector<RecordResult::Outcome> outcomes;
  if (stored.ok()) {
    for (const RecordResult& result : *stored) outcomes.push_back(result.outcome);
  }
  return outcomes;
}

std::vector<EpochRecord> EpochsOf(Store& store, const std::string& agent_id) {
  absl::StatusOr<std::vector<EpochRecord>> epochs = store.ListEpochs();
  EXPECT_TRUE(epochs.ok()) << epochs.status();
  std::vector<EpochRecord> of_agent;
  if (!epochs.ok()) return of_agent;
  for (EpochRecord& epoch : *epochs) {
    if (epoch.agent_id == agent_id) of_agent.push_back(std::move(epoch));
  }
  return of_agent;
}

}  // namespace fscanary::store::testing
