#include "tests/integration/run_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_split.h"
#include "common/status.h"

namespace fscanary::testing {
namespace {

void CloseIfOpen(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Reports `error` to the parent through the exec-status pipe and exits; only
// async-signal-safe calls.
[[noreturn]] void ChildFail(int status_fd, int error) {
  ssize_t ignored = ::write(status_fd, &error, sizeof(error));
  (void)ignored;
  ::_exit(127);
}

// Appends what `fd` has to `sink`; false at end of file.
bool Drain(int fd, std::string& sink) {
  char buffer[65536];
  while (true) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got > 0) {
      sink.append(buffer, static_cast<size_t>(got));
      return true;
    }
    if (got == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN;
  }
}

}  // namespace

Child::Child(Child&& other) noexcept
    : pid_(other.pid_),
      out_fd_(other.out_fd_),
      err_fd_(other.err_fd_),
      wait_status_(other.wait_status_) {
  other.pid_ = -1;
  other.out_fd_ = -1;
  other.err_fd_ = -1;
}

Child::~Child() {
  if (pid_ > 0 && !wait_status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  CloseIfOpen(out_fd_);
  CloseIfOpen(err_fd_);
}

void Child::RecordStatus(int status) { wait_status_ = status; }

bool Child::HasExited() {
  if (wait_status_) return true;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == pid_) RecordStatus(status);
  return wait_status_.has_value();
}

void Child::Kill(int signal) {
  if (!wait_status_) ::kill(pid_, signal);
}

ProcessResult Child::Wait(std::chrono::milliseconds timeout) {
  ProcessResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    pollfd fds[2] = {{.fd = out_fd_, .events = POLLIN, .revents = 0},
                     {.fd = err_fd_, .events = POLLIN, .revents = 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    // Once killed, the pipes close as soon as the child is gone.
    const int wait_ms =
        result.timed_out ? -1 : static_cast<int>(std::max<int64_t>(left.count(), 0));
    const int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0 && !result.timed_out) {
      Kill(SIGKILL);
      result.timed_out = true;
      continue;
    }
    // POLLHUP without data also ends in read() returning 0.
    if (fds[0].revents != 0 && !Drain(out_fd_, result.out)) CloseIfOpen(out_fd_);
    if (fds[1].revents != 0 && !Drain(err_fd_, result.err)) CloseIfOpen(err_fd_);
  }
  if (!wait_status_) {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    RecordStatus(status);
  }
  if (WIFEXITED(*wait_status_)) result.exit_code = WEXITSTATUS(*wait_status_);
  if (WIFSIGNALED(*wait_status_)) result.term_signal = WTERMSIG(*wait_status_);
  return result;
}

absl::StatusOr<Child> Spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("Spawn: empty argv");
  // Everything the child needs is prepared here: after fork it may not allocate.
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  int out[2], err[2], exec_status[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(out[0]), ::close(out[1]);
    return ErrnoToStatus(error, "pipe2");
  }
  if (::pipe2(exec_status, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(out[0]), ::close(out[1]), ::close(err[0]), ::close(err[1]);
    return ErrnoToStatus(error, "pipe2");
  }
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid == 0) {
    // A crash test must never leave a writer running if the test dies.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent) {
      ChildFail(exec_status[1], errno);
    }
    if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(out[1], STDOUT_FILENO) < 0 ||
        ::dup2(err[1], STDERR_FILENO) < 0) {
      ChildFail(exec_status[1], errno);
    }
    if (options.before_exec) {
      if (const int error = options.before_exec(); error != 0) ChildFail(exec_status[1], error);
    }
    ::execv(args[0], args.data());
    ChildFail(exec_status[1], errno);
  }
  const int fork_errno = errno;
  ::close(out[1]);
  ::close(err[1]);
  ::close(exec_status[1]);
  if (null_fd >= 0) ::close(null_fd);
  if (pid < 0) {
    ::close(out[0]), ::close(err[0]), ::close(exec_status[0]);
    return ErrnoToStatus(fork_errno, "fork");
  }
  Child child(pid, out[0], err[0]);

  // The pipe closes at exec (CLOEXEC): zero bytes means the program runs.
  int child_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_status[0], &child_errno, sizeof(child_errno));
  } while (got < 0 && errno == EINTR);
  ::close(exec_status[0]);
  if (got == static_cast<ssize_t>(sizeof(child_errno))) {
    child.Wait();
    return ErrnoToStatus(child_errno, "starting " + argv[0]);
  }
  return child;
}

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const SpawnOptions& options,
                                         std::chrono::milliseconds timeout) {
  absl::StatusOr<Child> child = Spawn(argv, options);
  if (!child.ok()) return child.status();
  return child->Wait(timeout);
}

std::string FindExecutable(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::vector<std::string> directories =
      absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty());
  directories.push_back("/usr/sbin");
  directories.push_back("/sbin");
  for (const std::string& directory : directories) {
    const std::string candidate = directory + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace fscanary::testing
