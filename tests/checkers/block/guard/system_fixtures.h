#pragma once
// RAII helpers for the real-device tests (root only): run a system tool, a
// sparse image in a temp dir, a loop device over it, a mount, an active swap
// area. Each undoes itself in its destructor, so a failing test leaves no loop
// device, mount or swap behind. Declare them in set-up order: they are torn
// down in reverse.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace fscanary::guard::testing {

// Absolute path of `name` in $PATH or the sbin dirs (root's tools live there
// even when $PATH omits them); nullopt if it is not installed.
std::optional<std::string> FindTool(const std::string& name);

// Runs argv[0] (a tool name) with its arguments, without a shell, feeding it
// `input` (small: it is written before the output is read) on stdin. Returns
// its stdout and stderr; Internal with that output if it exits non-zero.
absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv,
                                    const std::string& input = "");

// A private temp dir, removed with its contents.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A loop device over a file; detached on destruction.
class LoopDevice {
 public:
  struct Options {
    bool partition_scan = false;  // losetup -P: the kernel creates loopNpM
    bool read_only = false;
  };
  static absl::StatusOr<LoopDevice> Attach(const std::filesystem::path& image,
                                           const Options& options);
  LoopDevice(LoopDevice&& other) noexcept;
  LoopDevice& operator=(LoopDevice&&) = delete;
  ~LoopDevice();

  const std::string& path() const { return path_; }                        // "/dev/loop3"
  std::string name() const { return path_.substr(path_.rfind('/') + 1); }  // "loop3"
  std::string partition(int number) const;                                 // "/dev/loop3p1"

 private:
  explicit LoopDevice(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// A filesystem mounted on a directory; unmounted on destruction.
class ScopedMount {
 public:
  static absl::StatusOr<ScopedMount> Mount(const std::string& device,
                                           const std::filesystem::path& dir);
  ScopedMount(ScopedMount&& other) noexcept;
  ScopedMount& operator=(ScopedMount&&) = delete;
  ~ScopedMount();

 private:
  explicit ScopedMount(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

// Bind mounts made under a directory (a test's temp dir); on destruction every
// mount found under it in /proc/self/mountinfo is detached, deepest first,
// wherever the code under test moved it.
class BindMountsUnder {
 public:
  explicit BindMountsUnder(std::string prefix) : prefix_(std::move(prefix)) {}
  BindMountsUnder(const BindMountsUnder&) = delete;
  BindMountsUnder& operator=(const BindMountsUnder&) = delete;
  ~BindMountsUnder();
  // mount --bind `from` `onto`; false with errno set when refused.
  bool Bind(const std::string& from, const std::string& onto);

 private:
  std::string prefix_;
};

// An active swap area; swapped off on destruction.
class ScopedSwap {
 public:
  static absl::StatusOr<ScopedSwap> On(const std::string& device);
  ScopedSwap(ScopedSwap&& other) noexcept;
  ScopedSwap& operator=(ScopedSwap&&) = delete;
  ~ScopedSwap();

 private:
  explicit ScopedSwap(std::string device) : device_(std::move(device)) {}
  std::string device_;
};

}  // namespace fscanary::guard::testing
