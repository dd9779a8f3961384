#pragma once
// Runs a program as the integration tests need it: argv as given (no shell),
// stdout and stderr captured, the exit code or the killing signal returned.
// A Child can also be killed at a chosen instant (the crash tests), and a hook
// may restrict the child before exec (the seccomp test). Not thread-safe.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::testing {

struct ProcessResult {
  // The exit status when the process exited; -1 when a signal ended it.
  int exit_code = -1;
  // The signal that ended it (0 when it exited).
  int term_signal = 0;
  // The process outlived its timeout and was killed (term_signal is SIGKILL).
  bool timed_out = false;
  std::string out;
  std::string err;
};

struct SpawnOptions {
  // Runs in the child between fork and exec, so only async-signal-safe calls
  // are allowed (prctl, syscalls; no allocation, no locks). Returns 0, or an
  // errno that makes Spawn fail with it.
  std::function<int()> before_exec;
};

// A running child whose stdout and stderr go to pipes. Waited for (and killed
// first if still running) on destruction, so no test leaves a process behind;
// the child also dies if the test process does (PR_SET_PDEATHSIG).
class Child {
 public:
  Child(Child&& other) noexcept;
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();

  pid_t pid() const { return pid_; }

  // True once the child has ended (reaps it without blocking).
  bool HasExited();
  // Sends `signal` unless the child has already been reaped.
  void Kill(int signal);
  // Reads stdout and stderr to their end and reaps the child; past `timeout`
  // it is killed with SIGKILL and reported timed out.
  ProcessResult Wait(std::chrono::milliseconds timeout = std::chrono::minutes(2));

 private:
  friend absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv,
                                     const SpawnOptions& options);
  Child(pid_t pid, int out_fd, int err_fd) : pid_(pid), out_fd_(out_fd), err_fd_(err_fd) {}
  void RecordStatus(int status);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  // Set once reaped.
  std::optional<int> wait_status_;
};

// Starts argv[0] (a path; PATH is not searched) with stdin from /dev/null.
// Fails if the program cannot be executed or `before_exec` fails.
absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// Spawn and Wait.
absl::StatusOr<ProcessResult> RunProcess(
    const std::vector<std::string>& argv, const SpawnOptions& options = {},
    std::chrono::milliseconds timeout = std::chrono::minutes(2));

// The first executable `name` in PATH, /usr/sbin or /sbin; empty if none.
std::string FindExecutable(const std::string& name);

}  // namespace fscanary::testing
