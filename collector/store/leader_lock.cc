#include "collector/store/leader_lock.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "collector/store/postgres_connection.h"
#include "collector/store/postgres_store.h"
#include "common/status.h"

namespace fscanary::store {
namespace {

// One collector of one database alone: always the leader.
class SoleLeader final : public LeaderLock {
 public:
  absl::StatusOr<bool> Poll() override { return true; }
};

// pg_try_advisory_lock(int, int): "fsca" (as the migrations' lock, which
// uses the one-bigint form, another key space) and the schema, so that two
// fscanary schemas in one database each have a leader.
constexpr const char* kTryLock =
    "SELECT CASE WHEN pg_try_advisory_lock(1718838113, hashtext(current_schema())) "
    "THEN 1 ELSE 0 END";

class PostgresLeader final : public LeaderLock {
 public:
  explicit PostgresLeader(PostgresOptions options) : options_(std::move(options)) {}

  absl::StatusOr<bool> Poll() override {
    if (connection_ != nullptr && connection_->Broken()) {
      // The session ended, and with it the lock (another collector may hold it now).
      connection_.reset();
      held_ = false;
    }
    if (connection_ == nullptr) {
      std::string password;
      if (!options_.password_file.empty()) {
        ASSIGN_OR_RETURN(password, ReadPostgresPasswordFile(options_.password_file));
      }
      ASSIGN_OR_RETURN(connection_, postgres::Connection::Open(options_.dsn, password));
      // The lock lives as long as this session on the server. A collector
      // that vanished (power, network) without closing it would otherwise
      // hold it until the server's TCP keepalive, hours by the kernel's
      // defaults, with no collector exporting the fleet's series meanwhile.
      // These settings ask the server to give up on it in about 30 s (they
      // do nothing over a Unix socket, where the kernel knows at once).
      absl::Status keepalive = connection_->Exec(
          "SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; "
          "SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000");
      if (!keepalive.ok()) {
        connection_.reset();
        return keepalive;
      }
    }
    // Held: a session lock lasts as long as the session, so the session being
    // there is the lock being held. Else: try to take it.
    absl::StatusOr<int64_t> answer =
        held_ ? connection_->QueryInt("SELECT 1") : connection_->QueryInt(kTryLock);
    if (!answer.ok()) {
      connection_.reset();  // ends the session if it is still there: lets the lock go
      held_ = false;
      return answer.status();
    }
    held_ = held_ || *answer == 1;
    return held_;
  }

 private:
  const PostgresOptions options_;
  std::unique_ptr<postgres::Connection> connection_;
  bool held_ = false;
};

}  // namespace

std::unique_ptr<LeaderLock> MakeLeaderLock(const StoreOptions& options) {
  if (options.backend == StoreOptions::Backend::kPostgres) {
    return std::make_unique<PostgresLeader>(options.postgres);
  }
  return std::make_unique<SoleLeader>();
}

}  // namespace fscanary::store
