#pragma once
// Linux kernel release strings ("4.19-rc1", "4.19.2", "3.10.0-957.10.1.el7.x86_64",
// "6.1.0-18-amd64") parsed into something that can be ordered and grouped by
// series. Pure functions; thread-safe.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace fscanary::analysis {

// Ordering: upstream version first (major, minor, patch), a release candidate
// before its release (4.19-rc1 < 4.19 == 4.19.0 < 4.19.2), then the distro or
// local suffix compared piecewise, numbers as numbers ("-957.10.1.el7" after
// "-957.el7"). A distro kernel sorts after the upstream release it is based on.
// Distros that ship "x.y.0-N" (Debian, RHEL) hide their stable patch level, so
// such kernels sit between x.y.0 and x.y.1 in this order: ranges that mix
// upstream and such distro kernels are approximate.
struct KernelVersion {
  int major = 0;
  int minor = 0;
  int patch = 0;
  int rc = 0;          // 0 for a release; N for release candidate N of major.minor.
  std::string suffix;  // Everything after the upstream version (and -rcN), as written.

  // "4.19": what a kernel.org stable branch is named after.
  std::string Series() const;
};

std::optional<KernelVersion> ParseKernelVersion(std::string_view release);

std::strong_ordering CompareKernelVersions(const KernelVersion& a, const KernelVersion& b);

// Orders release strings: parsable ones by CompareKernelVersions, then
// unparsable ones by plain text; ties by text so that the order is total.
bool KernelReleaseLess(std::string_view a, std::string_view b);

}  // namespace fscanary::analysis
