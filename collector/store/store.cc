#include "collector/store/store.h"

#include "common/status.h"

namespace fscanary::store {

bool IsCorruption(v1::FindingKind kind) {
  switch (kind) {
    case v1::CHECKSUM_MISMATCH:
    case v1::MISDIRECTED_WRITE:
    case v1::LOST_WRITE:
    case v1::TORN_WRITE:
    case v1::ZEROED:
    case v1::FOREIGN_DATA:
    case v1::SHORT_READ:
    case v1::PAGE_CACHE_MISMATCH:
    case v1::METADATA_MISMATCH:
      return true;
    // The agent's own trouble, not data it was given back wrong: warned
    // about, never paged as a corruption of the disk.
    case v1::IO_ERROR:
    case v1::KERNEL_REPORTED:
    case v1::STATE_CORRUPTION:
      return false;
    default:
      return false;
  }
}

absl::StatusOr<std::vector<absl::Status>> Store::RecordSessions(
    std::span<const SessionChange> changes, int64_t now_unix_nanos) {
  std::vector<absl::Status> applied;
  applied.reserve(changes.size());
  for (const SessionChange& change : changes) {
    applied.push_back(change.hello != nullptr
                          ? RecordHello(change.agent_id, *change.hello, now_unix_nanos)
                          : SetConnected(change.agent_id, false, now_unix_nanos));
  }
  return applied;
}

absl::StatusOr<std::vector<RecordResult>> Store::IngestBatch(
    const std::string& agent_id, std::span<const v1::AgentMessage> messages,
    int64_t received_unix_nanos) {
  const AgentBatch batch{.agent_id = agent_id, .messages = messages};
  absl::StatusOr<std::vector<std::vector<RecordResult>>> stored =
      IngestBatches(std::span<const AgentBatch>(&batch, 1), received_unix_nanos);
  if (!stored.ok()) return stored.status();
  std::vector<RecordResult>& results = stored->front();
  if (!results.empty() && results.front().outcome == RecordResult::Outcome::kFailed) {
    return results.front().error;
  }
  return std::move(results);
}

const std::string& Store::instance_id() const {
  static const std::string* const kNone = new std::string();
  return *kNone;
}

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const StoreOptions& options) {
  switch (options.backend) {
    case StoreOptions::Backend::kPostgres:
      return OpenPostgresStore(options.postgres);
    case StoreOptions::Backend::kSqlite:
      break;
  }
  return OpenSqliteStore(options.sqlite);
}

absl::StatusOr<EpochChanges> Store::ListEpochsChangedSince(int64_t /*since_unix_nanos*/) {
  EpochChanges changes;
  ASSIGN_OR_RETURN(changes.epochs, ListEpochs());
  for (const EpochRecord& epoch : changes.epochs) {
    if (changes.agents.empty() || changes.agents.back() != epoch.agent_id) {
      changes.agents.push_back(epoch.agent_id);
    }
  }
  return changes;
}

}  // namespace fscanary::store
