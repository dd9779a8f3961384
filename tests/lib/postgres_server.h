#pragma once
// A private PostgreSQL server for tests: initdb into a temporary directory
// (on /dev/shm where it has room) as the unprivileged `postgres` user when
// the test runs as root (PostgreSQL refuses root), listening only on a Unix
// socket in that directory, stopped (pg_ctl stop -m immediate: nothing of it
// is kept) and removed when done. A fresh database per test.
//
// Under ctest, where every test is a process of its own, one server serves
// the whole run: the ctest fixture `postgres` (tests/lib/CMakeLists.txt)
// starts it with postgres_test_server and names its directory in the file
// $FSCANARY_TEST_POSTGRES. A test binary run by hand starts its own at first
// use, stopped when its tests end (a gtest Environment).
//
// Thread-safe.

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace fscanary::testing {

class PostgresServer {
 public:
  // initdb and start (pg_ctl start -w: returns once the server accepts
  // connections, or fails with the server's log). NotFound when no
  // PostgreSQL binaries are installed.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Start();
  // The server another process started in `dir`; left running at the end.
  static absl::StatusOr<std::unique_ptr<PostgresServer>> Attach(const std::string& dir);
  // Stops the server in `dir` (if one runs there) and removes the directory.
  static absl::Status StopAt(const std::string& dir);
  // Leaves the server running when this object goes; returns its directory.
  std::string Detach();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  // A new, empty database; returns its connection string.
  absl::StatusOr<std::string> CreateDatabase();
  // Runs `sql` in the database `dsn` names, as the superuser.
  absl::Status Exec(const std::string& dsn, const std::string& sql);
  // The rows of `sql` in the database `dsn` names, each value as text ("" for
  // NULL), as the superuser.
  absl::StatusOr<std::vector<std::vector<std::string>>> Query(const std::string& dsn,
                                                              const std::string& sql);
  // Stops the server as a crash would (pg_ctl stop -m immediate: no
  // checkpoint, every session cut) and keeps its directory; Restart starts
  // it again there (crash recovery first). For tests of what survives that.
  absl::Status StopImmediately();
  absl::Status Restart();
  // The connection string of database `name`.
  std::string Dsn(const std::string& name) const;

 private:
  PostgresServer(std::string bin, std::string dir) : bin_(std::move(bin)), dir_(std::move(dir)) {}

  const std::string bin_;
  const std::string dir_;
  // Whether this object stops the server and removes its directory.
  bool owned_ = false;
  std::mutex mutex_;
  int databases_ = 0;
};

// The test binary's one server, started at the first call (a gtest
// Environment stops it when the tests end).
absl::StatusOr<PostgresServer*> SharedPostgresServer();

// Whether a test may skip for `status` from SharedPostgresServer: only where
// PostgreSQL is not installed and the test does not run as root (CI runs as
// root with PostgreSQL installed: there the tests must run).
bool PostgresMaySkip(const absl::Status& status);

}  // namespace fscanary::testing
