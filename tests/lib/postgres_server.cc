#include "tests/lib/postgres_server.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace fscanary::testing {
namespace {

bool IsRoot() { return ::geteuid() == 0; }

// The newest installed server's bin directory (Debian:
// /usr/lib/postgresql/<major>/bin), or "" if none.
std::string FindBinDirectory() {
  std::string best;
  int best_major = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", error)) {
    const int major = std::atoi(entry.path().filename().c_str());
    if (major > best_major && std::filesystem::exists(entry.path() / "bin" / "initdb") &&
        std::filesystem::exists(entry.path() / "bin" / "pg_ctl")) {
      best_major = major;
      best = (entry.path() / "bin").string();
    }
  }
  return best;
}

// Where the servers' directories go: /dev/shm (tmpfs) where it has room for
// a whole test run's databases, else the temporary directory. On tmpfs
// nothing of the server is ever written back to disk, so a test run's
// gigabyte of databases costs no disk I/O while the tests run nor when the
// directory is removed: removing it from a busy disk took the fixture's
// stop over 20 s.
std::filesystem::path ServerParentDirectory() {
  constexpr uint64_t kRoomNeeded = uint64_t{4} << 30;
  struct statvfs shm {};
  if (::statvfs("/dev/shm", &shm) == 0 && ::access("/dev/shm", W_OK | X_OK) == 0 &&
      uint64_t{shm.f_bavail} * shm.f_frsize >= kRoomNeeded) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Runs argv (as `postgres` when root) with stdout and stderr to `log`;
// returns its exit status, or why it did not exit 0 with the log's tail.
absl::Status Run(std::vector<std::string> argv, const std::string& log) {
  if (IsRoot()) {
    const std::string runuser =
        std::filesystem::exists("/usr/sbin/runuser") ? "/usr/sbin/runuser" : "/sbin/runuser";
    argv.insert(argv.begin(), {runuser, "-u", "postgres", "--"});
  }
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  // A machine short of processes for a moment (EAGAIN) must not leave a
  // server running because its pg_ctl stop could not start: try for 10 s.
  pid_t child = ::fork();
  for (int attempt = 0; child < 0 && errno == EAGAIN && attempt < 100; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    child = ::fork();
  }
  if (child < 0) return ErrnoToStatus(errno, "fork");
  if (child == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
    }
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return absl::InternalError("waitpid failed");
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  std::string output = ReadFile(log);
  if (output.size() > 2000) output = output.substr(output.size() - 2000);
  return absl::InternalError(absl::StrCat(argv[IsRoot() ? 4 : 0], " failed (status ", status,
                                          "); its log ", log, " ends:\n", output));
}

struct ConnectionCloser {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};

using Rows = std::vector<std::vector<std::string>>;

// The rows of `sql` run in the database `dsn` names, as text.
absl::StatusOr<Rows> QueryIn(const std::string& dsn, const std::string& sql) {
  std::unique_ptr<PGconn, ConnectionCloser> conn(PQconnectdb(dsn.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(absl::StrCat("connect ", dsn, ": ", PQerrorMessage(conn.get())));
  }
  PGresult* result = PQexec(conn.get(), sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  Rows rows;
  if (status == PGRES_TUPLES_OK) {
    for (int row = 0; row < PQntuples(result); ++row) {
      std::vector<std::string>& values = rows.emplace_back();
      for (int column = 0; column < PQnfields(result); ++column) {
        values.emplace_back(PQgetvalue(result, row, column),
                            static_cast<size_t>(PQgetlength(result, row, column)));
      }
    }
  }
  std::string message = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return absl::InternalError(absl::StrCat(sql, ": ", message));
  }
  return rows;
}

absl::Status ExecIn(const std::string& dsn, const std::string& sql) {
  return QueryIn(dsn, sql).status();
}

// pg_ctl start -w in `dir` (initdb'd by Start): returns once the server
// accepts connections, or fails with the server's log.
absl::Status StartIn(const std::string& bin, const std::string& dir) {
  // Unix socket only; fsync off: this server's own durability is not what
  // the tests test, and it keeps them fast.
  if (absl::Status started = Run(
          {bin + "/pg_ctl", "-D", dir + "/data", "-l", dir + "/server.log", "-w", "-t", "60", "-o",
           absl::StrCat("-k ", dir, " -c listen_addresses='' -c fsync=off -c full_page_writes=off"),
           "start"},
          dir + "/pg_ctl.log");
      !started.ok()) {
    return absl::Status(started.code(), absl::StrCat(started.message(), "\nserver log:\n",
                                                     ReadFile(dir + "/server.log")));
  }
  return absl::OkStatus();
}

// The environment variable naming the file where the ctest fixture wrote the
// shared server's directory.
constexpr const char* kSharedServerVariable = "FSCANARY_TEST_POSTGRES";

std::mutex shared_mutex;
std::unique_ptr<PostgresServer> shared_server;

// Stops the shared server when the binary's tests end.
class PostgresEnvironment : public ::testing::Environment {
 public:
  void TearDown() override {
    std::lock_guard lock(shared_mutex);
    shared_server.reset();
  }
};

[[maybe_unused]] ::testing::Environment* const environment =
    ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  const std::string bin = FindBinDirectory();
  if (bin.empty()) {
    return absl::NotFoundError("no PostgreSQL server installed (/usr/lib/postgresql/*/bin)");
  }
  std::string pattern = (ServerParentDirectory() / "fscanary-pg-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  std::unique_ptr<PostgresServer> server(new PostgresServer(bin, pattern));
  server->owned_ = true;  // removed again however the start ends
  if (IsRoot()) {
    const passwd* user = ::getpwnam("postgres");
    if (user == nullptr) return absl::NotFoundError("no user postgres to run PostgreSQL as");
    if (::chown(pattern.c_str(), user->pw_uid, user->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("chown ", pattern));
    }
  }
  const std::string data = pattern + "/data";
  if (absl::Status made = Run({bin + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E",
                               "UTF8", "--locale=C", "--no-sync", "--no-instructions"},
                              pattern + "/initdb.log");
      !made.ok()) {
    return made;
  }
  RETURN_IF_ERROR(StartIn(bin, pattern));
  if (PQping(server->Dsn("postgres").c_str()) != PQPING_OK) {
    return absl::UnavailableError("PostgreSQL started but does not answer on " + pattern);
  }
  return server;
}

absl::StatusOr<std::unique_ptr<PostgresServer>> PostgresServer::Attach(const std::string& dir) {
  std::unique_ptr<PostgresServer> server(new PostgresServer(FindBinDirectory(), dir));
  if (PQping(server->Dsn("postgres").c_str()) != PQPING_OK) {
    return absl::UnavailableError(absl::StrCat("no PostgreSQL server answers in ", dir));
  }
  return server;
}

absl::Status PostgresServer::StopAt(const std::string& dir) {
  absl::Status stopped = absl::OkStatus();
  // Immediate: the directory goes next, so the shutdown checkpoint (writing
  // every dirty buffer out) would be work thrown away.
  if (std::filesystem::exists(dir + "/data/postmaster.pid")) {
    stopped =
        Run({FindBinDirectory() + "/pg_ctl", "-D", dir + "/data", "-m", "immediate", "-w", "stop"},
            dir + "/pg_ctl.log");
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return stopped;
}

std::string PostgresServer::Detach() {
  owned_ = false;
  return dir_;
}

PostgresServer::~PostgresServer() {
  if (!owned_) return;
  if (absl::Status stopped = StopAt(dir_); !stopped.ok()) ADD_FAILURE() << stopped;
}

std::string PostgresServer::Dsn(const std::string& name) const {
  return absl::StrCat("host=", dir_, " user=postgres dbname=", name);
}

absl::StatusOr<std::string> PostgresServer::CreateDatabase() {
  std::string name;
  {
    std::lock_guard lock(mutex_);
    // Unique across the processes of a ctest run sharing one server.
    name = absl::StrCat("test_", ::getpid(), "_", ++databases_);
  }
  if (absl::Status created = ExecIn(Dsn("postgres"), "CREATE DATABASE " + name); !created.ok()) {
    return created;
  }
  return Dsn(name);
}

absl::Status PostgresServer::Exec(const std::string& dsn, const std::string& sql) {
  return ExecIn(dsn, sql);
}

absl::StatusOr<Rows> PostgresServer::Query(const std::string& dsn, const std::string& sql) {
  return QueryIn(dsn, sql);
}

absl::Status PostgresServer::StopImmediately() {
  return Run({bin_ + "/pg_ctl", "-D", dir_ + "/data", "-m", "immediate", "-w", "stop"},
             dir_ + "/pg_ctl.log");
}

absl::Status PostgresServer::Restart() { return StartIn(bin_, dir_); }

absl::StatusOr<PostgresServer*> SharedPostgresServer() {
  std::lock_guard lock(shared_mutex);
  if (shared_server == nullptr) {
    if (const char* file = std::getenv(kSharedServerVariable); file != nullptr) {
      std::string dir = ReadFile(file);
      while (!dir.empty() && dir.back() == '\n') dir.pop_back();
      if (!dir.empty()) {
        absl::StatusOr<std::unique_ptr<PostgresServer>> attached = PostgresServer::Attach(dir);
        if (attached.ok()) shared_server = *std::move(attached);
      }
    }
  }
  if (shared_server == nullptr) {
    absl::StatusOr<std::unique_ptr<PostgresServer>> started = PostgresServer::Start();
    if (!started.ok()) return started.status();
    shared_server = *std::move(started);
  }
  return shared_server.get();
}

bool PostgresMaySkip(const absl::Status& status) {
  return status.code() == absl::StatusCode::kNotFound && !IsRoot();
}

}  // namespace fscanary::testing
