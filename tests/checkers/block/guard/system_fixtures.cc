#include "tests/checkers/block/guard/system_fixtures.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/status.h"
#include "gtest/gtest.h"

namespace fscanary::guard::testing {
namespace {

namespace fs = std::filesystem;

// Teardown must not be silent when it fails: a leaked loop device or mount
// would confuse the next test run.
void RunOrComplain(const std::vector<std::string>& argv) {
  if (absl::StatusOr<std::string> out = RunTool(argv); !out.ok()) {
    ADD_FAILURE() << "cleanup failed: " << out.status();
  }
}

}  // namespace

std::optional<std::string> FindTool(const std::string& name) {
  const char* env_path = ::getenv("PATH");
  std::vector<std::string> dirs =
      absl::StrSplit(env_path == nullptr ? "" : env_path, ':', absl::SkipEmpty());
  for (const char* dir : {"/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    dirs.emplace_back(dir);
  }
  for (const std::string& dir : dirs) {
    const std::string candidate = absl::StrCat(dir, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv,
                                    const std::string& input) {
  const std::optional<std::string> tool = FindTool(argv.at(0));
  if (!tool) return absl::NotFoundError(absl::StrCat(argv[0], " is not installed"));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
  int input_fds[2];
  if (::pipe2(input_fds, O_CLOEXEC) != 0) return ErrnoToStatus(errno, "pipe2");
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) return ErrnoToStatus(errno, "fork");
  if (pid == 0) {
    ::dup2(input_fds[0], STDIN_FILENO);
    ::dup2(pipe_fds[1], STDOUT_FILENO);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    ::execv(tool->c_str(), args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  ::close(input_fds[0]);
  // Fits in the pipe buffer (the scripts we feed are a few lines), so this
  // cannot block on a child that is itself blocked writing output.
  // A child that exits without reading must fail the command, not kill the test.
  if (!input.empty()) ::signal(SIGPIPE, SIG_IGN);
  size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(input_fds[1], input.data() + written, input.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // the child exited early; its status tells why
    written += static_cast<size_t>(n);
  }
  ::close(input_fds[1]);
  std::string output;
  char buffer[4096];
  while (true) {
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<size_t>(n));
  }
  ::close(pipe_fds[0]);
  int wait_status = 0;
  while (::waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(absl::StrCat("'", absl::StrJoin(argv, " "), "' failed (status ",
                                            wait_status, "): ", output));
  }
  return output;
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "fscanary-guard-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed: " << errno;
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  fs::remove_all(path_, ignored);
}

absl::StatusOr<LoopDevice> LoopDevice::Attach(const fs::path& image, const Options& options) {
  std::vector<std::string> argv = {"losetup", "--find", "--show"};
  if (options.partition_scan) argv.push_back("--partscan");
  if (options.read_only) argv.push_back("--read-only");
  argv.push_back(image.string());
  // losetup returns once the device is configured and its node exists.
  absl::StatusOr<std::string> out = RunTool(argv);
  if (!out.ok()) return out.status();
  return LoopDevice(std::string(absl::StripAsciiWhitespace(*out)));
}

LoopDevice::LoopDevice(LoopDevice&& other) noexcept : path_(std::exchange(other.path_, "")) {}

LoopDevice::~LoopDevice() {
  if (!path_.empty()) RunOrComplain({"losetup", "--detach", path_});
}

std::string LoopDevice::partition(int number) const { return absl::StrCat(path_, "p", number); }

absl::StatusOr<ScopedMount> ScopedMount::Mount(const std::string& device, const fs::path& dir) {
  if (absl::StatusOr<std::string> out = RunTool({"mount", device, dir.string()}); !out.ok()) {
    return out.status();
  }
  return ScopedMount(dir);
}

ScopedMount::ScopedMount(ScopedMount&& other) noexcept : dir_(std::exchange(other.dir_, "")) {}

ScopedMount::~ScopedMount() {
  if (!dir_.empty()) RunOrComplain({"umount", dir_.string()});
}

BindMountsUnder::~BindMountsUnder() {
  std::vector<std::string> points;
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    // "id parent major:minor root mount-point ...".
    const std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() > 4 && fields[4].starts_with(prefix_ + "/")) points.push_back(fields[4]);
  }
  std::sort(points.begin(), points.end(), std::greater<>());
  for (const std::string& point : points) ::umount2(point.c_str(), MNT_DETACH);
}

bool BindMountsUnder::Bind(const std::string& from, const std::string& onto) {
  return ::mount(from.c_str(), onto.c_str(), nullptr, MS_BIND, nullptr) == 0;
}

absl::StatusOr<ScopedSwap> ScopedSwap::On(const std::string& device) {
  if (absl::StatusOr<std::string> out = RunTool({"swapon", device}); !out.ok()) return out.status();
  return ScopedSwap(device);
}

ScopedSwap::ScopedSwap(ScopedSwap&& other) noexcept : device_(std::exchange(other.device_, "")) {}

ScopedSwap::~ScopedSwap() {
  if (!device_.empty()) RunOrComplain({"swapoff", device_});
}

}  // namespace fscanary::guard::testing
