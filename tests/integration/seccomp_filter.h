#pragma once
// A seccomp filter that makes io_uring_setup fail, as a kernel without
// io_uring (ENOSYS) or a container policy (EPERM) would, for the fallback
// tests. Classic BPF through prctl: no libseccomp.

#include <linux/filter.h>

#include <array>
#include <cstdint>

namespace fscanary::testing {

class IoUringDenial {
 public:
  // The architecture this build runs on has a known seccomp audit arch.
  static bool Supported();

  // io_uring_setup will fail with `error_number`.
  explicit IoUringDenial(int error_number);

  // Installs the filter in the calling process for good (with no_new_privs);
  // returns 0 or an errno. Async-signal-safe: meant for a child before exec.
  int Install() const;

 private:
  std::array<sock_filter, 7> filter_;
};

}  // namespace fscanary::testing
