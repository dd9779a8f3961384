// Which hosts are connected, as the fleet sees it (docs/STORE.md,
// "Connected"): each store's stream rows under its instance id, and the
// lease that makes them count.

#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "collector/store/sql_store.h"
#include "common/status.h"
#include "io/posix.h"

namespace fscanary::store {
namespace {

// <host name>/<pid>/<random>: unique per process, and says where it runs.
std::string MakeInstanceId() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return absl::StrFormat("%s/%d/%08x", host[0] != '\0' ? host : "collector", ::getpid(),
                         static_cast<uint32_t>(io::RandomU64()));
}

// Stores whose lease lapsed over a lease ago (?1: that time) are forgotten:
// their rows count for nothing already. One that comes back writes its rows
// again (RenewLease).
absl::Status ForgetLapsedStores(sql::Connection& db, int64_t cutoff_ns) {
  ASSIGN_OR_RETURN(sql::Statement collectors,
                   db.Prepare("DELETE FROM collectors WHERE lease_until_ns < ?1"));
  RETURN_IF_ERROR(collectors.Bind(1, cutoff_ns).Run());
  return db.Exec(
      "DELETE FROM streams WHERE instance_id NOT IN (SELECT instance_id FROM collectors)");
}

}  // namespace

SqlStore::SqlStore(SqlDialect dialect, std::unique_ptr<sql::Connection> writer, int max_readers,
                   LivenessOptions liveness)
    : dialect_(std::move(dialect)),
      max_readers_(max_readers),
      liveness_(std::move(liveness)),
      writer_(std::move(writer)) {
  if (liveness_.instance_id.empty()) liveness_.instance_id = MakeInstanceId();
  if (!liveness_.now_unix_nanos) {
    liveness_.now_unix_nanos = [] { return static_cast<int64_t>(io::WallClockNanos()); };
  }
  if (liveness_.lease_nanos < 3) liveness_.lease_nanos = 3;
}

absl::Status SqlStore::StartLiveness(bool only_store) {
  const absl::Status written = WriteTransaction(
      [&]() -> absl::Status {
        if (only_store) {
          // No other store can be writing: every stream row is a dead process's.
          RETURN_IF_ERROR(writer_->Exec("DELETE FROM streams; DELETE FROM collectors"));
        } else {
          ASSIGN_OR_RETURN(sql::Statement own,
                           writer_->Prepare("DELETE FROM streams WHERE instance_id = ?1"));
          RETURN_IF_ERROR(own.BindText(1, liveness_.instance_id).Run());
        }
        return absl::OkStatus();
      },
      kWriteAttempts);
  if (!written.ok()) return written;
  RETURN_IF_ERROR(RenewLease());
  renewal_ = std::thread([this] { RenewalLoop(); });
  return absl::OkStatus();
}

void SqlStore::StopLiveness() {
  {
    std::lock_guard lock(renewal_mutex_);
    if (renewal_stop_) return;
    renewal_stop_ = true;
  }
  renewal_wake_.notify_all();
  if (renewal_.joinable()) renewal_.join();
  // Best effort: a store that cannot say so is forgotten when its lease lapses.
  (void)WriteTransaction([&]() -> absl::Status {
    ASSIGN_OR_RETURN(sql::Statement streams,
                     writer_->Prepare("DELETE FROM streams WHERE instance_id = ?1"));
    RETURN_IF_ERROR(streams.BindText(1, liveness_.instance_id).Run());
    ASSIGN_OR_RETURN(sql::Statement lease,
                     writer_->Prepare("DELETE FROM collectors WHERE instance_id = ?1"));
    return lease.BindText(1, liveness_.instance_id).Run();
  });
}

void SqlStore::RenewalLoop() {
  const auto interval = std::chrono::nanoseconds(liveness_.lease_nanos / 3);
  std::unique_lock lock(renewal_mutex_);
  while (!renewal_wake_.wait_for(lock, interval, [this] { return renewal_stop_; })) {
    lock.unlock();
    // A failure (the database away) is retried at the next interval; the
    // lease lapses if it lasts, and the rows are written back after.
    (void)RenewLease();
    RetryPendingCloses();
    lock.lock();
  }
}

absl::Status SqlStore::RenewLease() {
  return WriteTransaction(
      [&]() -> absl::Status {
        const int64_t now = Now();
        ASSIGN_OR_RETURN(
            sql::Statement held,
            writer_->Prepare("SELECT count(*) FROM collectors WHERE instance_id = ?1"));
        ASSIGN_OR_RETURN(const bool row, held.BindText(1, liveness_.instance_id).Step());
        const bool known = row && held.Int(0) > 0;
        ASSIGN_OR_RETURN(
            sql::Statement lease,
            writer_->Prepare("INSERT INTO collectors (instance_id, lease_until_ns) VALUES (?1, ?2) "
                             "ON CONFLICT (instance_id) DO UPDATE SET lease_until_ns = "
                             "excluded.lease_until_ns"));
        RETURN_IF_ERROR(
            lease.BindText(1, liveness_.instance_id).Bind(2, now + liveness_.lease_nanos).Run());
        if (!known) {
          // Forgotten while this store's lease had lapsed: its streams are
          // still open, so their rows go back.
          ASSIGN_OR_RETURN(sql::Statement clear,
                           writer_->Prepare("DELETE FROM streams WHERE instance_id = ?1"));
          RETURN_IF_ERROR(clear.BindText(1, liveness_.instance_id).Run());
          std::lock_guard lock(streams_mutex_);
          for (const auto& [host_id, count] : streams_) {
            ASSIGN_OR_RETURN(sql::Statement insert,
                             writer_->Prepare("INSERT INTO streams (instance_id, host_id, streams) "
                                              "SELECT ?1, host_id, ?3 FROM hosts "
                                              "WHERE host_id = ?2"));
            RETURN_IF_ERROR(
                insert.BindText(1, liveness_.instance_id).Bind(2, host_id).Bind(3, count).Send());
          }
        }
        return ForgetLapsedStores(*writer_, now - liveness_.lease_nanos);
      },
      kWriteAttempts);
}

absl::Status SqlStore::CountStream(int64_t host_id, int delta) {
  if (delta > 0) {
    ASSIGN_OR_RETURN(
        sql::Statement open,
        writer_->Prepare("INSERT INTO streams (instance_id, host_id, streams) VALUES (?1, ?2, 1) "
                         "ON CONFLICT (instance_id, host_id) DO UPDATE SET streams = "
                         "streams.streams + 1"));
    return open.BindText(1, liveness_.instance_id).Bind(2, host_id).Send();
  }
  ASSIGN_OR_RETURN(sql::Statement close,
                   writer_->Prepare("UPDATE streams SET streams = streams - 1 "
                                    "WHERE instance_id = ?1 AND host_id = ?2"));
  RETURN_IF_ERROR(close.BindText(1, liveness_.instance_id).Bind(2, host_id).Send());
  ASSIGN_OR_RETURN(sql::Statement closed,
                   writer_->Prepare("DELETE FROM streams WHERE instance_id = ?1 AND host_id = ?2 "
                                    "AND streams <= 0"));
  return closed.BindText(1, liveness_.instance_id).Bind(2, host_id).Send();
}

absl::StatusOr<absl::flat_hash_set<int64_t>> SqlStore::ConnectedHostIds(sql::Connection& db) {
  ASSIGN_OR_RETURN(sql::Statement query,
                   db.Prepare("SELECT DISTINCT s.host_id FROM streams s "
                              "JOIN collectors c ON c.instance_id = s.instance_id "
                              "WHERE s.streams > 0 AND c.lease_until_ns > ?1"));
  query.Bind(1, Now());
  absl::flat_hash_set<int64_t> connected;
  while (true) {
    ASSIGN_OR_RETURN(const bool row, query.Step());
    if (!row) break;
    connected.insert(query.Int(0));
  }
  return connected;
}

}  // namespace fscanary::store
